"""The HTTP surfaces over real sockets: Prometheus's query endpoints and the SSE stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from httpx_sse import connect_sse

from fletch.localstack import LocalStack

T0 = 1_764_720_000_000
HOUR = 3_600_000
ORG = "acme"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("http"), workers=2) as local:
        ts = T0 + np.arange(0, 2 * HOUR, 15_000)
        labels = [{"__name__": "up", "job": "api"}, {"__name__": "up", "job": "db"},
                  {"__name__": "odd", "job": "x"}]
        values = np.concatenate([np.ones(len(ts)), np.zeros(len(ts)), np.full(len(ts), np.inf)])
        local.load(ORG, labels, np.repeat(np.arange(3), len(ts)), np.tile(ts, 3), values)
        yield local


@pytest.fixture
def client(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=60) as http:
        yield http


def test_instant_query_vector(client: httpx.Client) -> None:
    response = client.get("/api/v1/query", params={"query": "up", "time": (T0 + HOUR) / 1000})
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "up", "job": "api"}, "value": [(T0 + HOUR) // 1000, "1"]},
        {"metric": {"__name__": "up", "job": "db"}, "value": [(T0 + HOUR) // 1000, "0"]}]}}


def test_non_finite_values_are_strings(client: httpx.Client) -> None:
    body = client.post("/api/v1/query", data={"query": "odd", "time": str((T0 + HOUR) / 1000)}).json()
    assert body["data"]["result"][0]["value"][1] == "+Inf"
    body = client.post("/api/v1/query", data={"query": "-odd", "time": str((T0 + HOUR) / 1000)}).json()
    assert body["data"]["result"][0]["value"][1] == "-Inf"


def test_scalar_string_and_matrix_results(client: httpx.Client) -> None:
    at = (T0 + HOUR) / 1000
    scalar = client.get("/api/v1/query", params={"query": "1 + 2", "time": at}).json()["data"]
    assert scalar == {"resultType": "scalar", "result": [at, "3"]}
    string = client.get("/api/v1/query", params={"query": '"hello"', "time": at}).json()["data"]
    assert string == {"resultType": "string", "result": [at, "hello"]}
    matrix = client.get("/api/v1/query", params={"query": 'up{job="api"}[1m]', "time": at}).json()["data"]
    assert matrix["resultType"] == "matrix"
    assert [p[0] for p in matrix["result"][0]["values"]] == [at - 45, at - 30, at - 15, at]


def test_range_query_matrix(client: httpx.Client) -> None:
    params = {"query": "sum by (job) (up)", "start": T0 / 1000 + 600, "end": T0 / 1000 + 1200, "step": "5m"}
    data = client.get("/api/v1/query_range", params=params).json()["data"]
    assert data["resultType"] == "matrix"
    assert [s["metric"] for s in data["result"]] == [{"job": "api"}, {"job": "db"}]
    assert data["result"][0]["values"] == [[T0 / 1000 + 600, "1"], [T0 / 1000 + 900, "1"],
                                           [T0 / 1000 + 1200, "1"]]


def test_rfc3339_times(client: httpx.Client) -> None:
    response = client.get("/api/v1/query", params={"query": "up", "time": "2025-12-03T01:00:00Z"})
    assert response.json()["data"]["result"][0]["value"][0] == (T0 + HOUR) // 1000


def test_orgs_are_isolated(client: httpx.Client) -> None:
    response = client.get("/api/v1/query", params={"query": "up", "time": (T0 + HOUR) / 1000},
                          headers={"X-Scope-OrgID": "other"})
    assert response.json()["data"]["result"] == []


@pytest.mark.parametrize(("path", "params", "status", "error_type", "message"), [
    ("/api/v1/query", {"query": "sum(", "time": "1"}, 400, "bad_data", "1:5: parse error: "),
    ("/api/v1/query", {"time": "1"}, 400, "bad_data", 'invalid parameter "query"'),
    ("/api/v1/query", {"query": "up", "time": "yesterday"}, 400, "bad_data", 'cannot parse "yesterday"'),
    ("/api/v1/query_range", {"query": "up", "start": "10", "end": "5", "step": "1"}, 400, "bad_data",
     "end timestamp must not be before start time"),
    ("/api/v1/query_range", {"query": "up", "start": "0", "end": "100000", "step": "1"}, 400, "bad_data",
     "exceeded maximum resolution of 11,000 points per timeseries"),
    ("/api/v1/query_range", {"query": "up", "start": "0", "end": "10", "step": "0"}, 400, "bad_data",
     "zero or negative query resolution step widths are not accepted"),
    ("/api/v1/query_range", {"query": "up[5m]", "start": "0", "end": "10", "step": "1"}, 400, "bad_data",
     'invalid expression type "range vector" for range query'),
])
def test_errors_have_prometheus_shapes(client: httpx.Client, path, params, status, error_type,
                                       message) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error" and body["errorType"] == error_type
    assert message in body["error"]
    assert "Traceback" not in response.text


def events(client: httpx.Client, body: dict) -> list[tuple[str, dict]]:
    with connect_sse(client, "POST", "/api/v1/metrics/query", json=body) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(event.event, json.loads(event.data)) for event in source.iter_sse()]


def test_sse_stream_results_then_done(client: httpx.Client) -> None:
    received = events(client, {"q": "up", "s": str(T0 + 600_000), "e": str(T0 + 1_200_000), "step": "300"})
    names = [name for name, _ in received]
    assert set(names[:-1]) == {"result"} and names[-1] == "done"
    joined = by_series(received)
    assert list(joined) == [(("__name__", "up"), ("job", "api")), (("__name__", "up"), ("job", "db"))]
    assert joined[(("__name__", "up"), ("job", "api"))] == (
        [T0 + 600_000, T0 + 900_000, T0 + 1_200_000], ["1", "1", "1"])
    done = received[-1][1]
    assert done["status"] == "ok" and done["stats"]["segments"] >= 1
    assert done["stats"]["time_to_first_result"] >= 0


def by_series(received: list[tuple[str, dict]]) -> dict[tuple, tuple[list, list]]:
    """`result` events joined per series (a series may come in several blocks, in time order)."""
    joined: dict[tuple, tuple[list, list]] = {}
    for name, data in received:
        if name == "result":
            stamps, values = joined.setdefault(tuple(sorted(data["labels"].items())), ([], []))
            assert not stamps or stamps[-1] < data["timestamps"][0], "blocks arrive in time order"
            stamps += data["timestamps"]
            values += data["values"]
    return joined


def test_sse_relative_times(client: httpx.Client) -> None:
    received = events(client, {"q": "up", "e": str((T0 + HOUR) / 1000), "s": "e-10m", "step": "5m"})
    stamps, _ = by_series(received)[(("__name__", "up"), ("job", "api"))]
    assert stamps == [T0 + HOUR - 600_000, T0 + HOUR - 300_000, T0 + HOUR]


def test_sse_streams_block_by_block(client: httpx.Client) -> None:
    """Two hourly segments are two time groups: the first hour's steps come as a block of their
    own, before the second hour's."""
    received = events(client, {"q": "up", "s": str(T0 + 1_800_000), "e": str(T0 + 2 * HOUR - 60_000),
                               "step": "600"})
    api = [data for name, data in received if name == "result" and data["labels"]["job"] == "api"]
    assert len(api) == 2 and api[0]["timestamps"][-1] < T0 + HOUR <= api[1]["timestamps"][0]
    stamps, values = by_series(received)[(("__name__", "up"), ("job", "api"))]
    assert stamps == list(range(T0 + 1_800_000, T0 + 2 * HOUR - 59_999, 600_000))
    assert set(values) == {"1"} and received[-1][0] == "done"


def test_sse_error_then_done_error(client: httpx.Client) -> None:
    received = events(client, {"q": "rate(up)", "s": "0", "e": "60"})
    assert [name for name, _ in received] == ["error", "done"]
    assert received[0][1]["errorType"] == "bad_data"
    assert "expected type range vector" in received[0][1]["error"]
    assert received[1][1]["status"] == "error"


def test_sse_rejects_a_body_that_is_not_json(client: httpx.Client) -> None:
    with connect_sse(client, "POST", "/api/v1/metrics/query", content=b"nonsense") as source:
        received = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    assert [name for name, _ in received] == ["error", "done"]


def test_no_worker_left_is_an_error_event_not_a_partial_answer(tmp_path) -> None:
    with LocalStack(tmp_path, workers=2) as local:
        ts = T0 + np.arange(0, HOUR, 15_000)
        local.load(ORG, [{"__name__": "up", "job": "api"}], np.zeros(len(ts), dtype=np.int64), ts,
                   np.ones(len(ts)))
        for worker in local.workers:
            worker.shutdown()
        with httpx.Client(base_url=local.url, headers={"X-Scope-OrgID": ORG}, timeout=60) as http:
            received = events(http, {"q": "up", "s": str(T0), "e": str(T0 + HOUR), "step": "60"})
            response = http.get("/api/v1/query", params={"query": "up", "time": (T0 + HOUR) / 1000})
        local.workers = []
    assert [name for name, _ in received] == ["error", "done"]
    assert received[0][1]["errorType"] == "unavailable"
    assert received[1][1]["status"] == "error"
    assert response.status_code == 503 and response.json()["errorType"] == "unavailable"
