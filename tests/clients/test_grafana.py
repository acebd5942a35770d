"""Grafana's Prometheus data-source calls, replayed against fletch and a real Prometheus 2.42
serving the same data: responses must agree field by field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fletch.localstack import LocalStack
from tests.clients.conftest import ORG
from tests.reference.dataset import DataSet
from tests.reference.prometheus import PrometheusServer, seconds


@pytest.fixture
def pair(stack: LocalStack, prometheus: PrometheusServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=60) as ours,
        httpx.Client(base_url=prometheus.url, timeout=60) as theirs,
    ):
        yield ours, theirs


def both(
    pair: tuple[httpx.Client, httpx.Client], method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, httpx.Response]:
    ours, theirs = pair
    return ours.request(method, path, **kwargs), theirs.request(method, path, **kwargs)


def assert_same(pair: tuple[httpx.Client, httpx.Client], method: str, path: str, **kwargs: Any) -> Any:
    ours, theirs = both(pair, method, path, **kwargs)
    assert ours.status_code == theirs.status_code, (path, ours.text, theirs.text)
    assert ours.headers["content-type"].split(";")[0] == theirs.headers["content-type"].split(";")[0]
    assert ours.json() == theirs.json(), path
    return ours.json()


def window(ds: DataSet) -> dict[str, str]:
    return {"start": seconds(ds.start_ms), "end": seconds(ds.start_ms + 2 * 3_600_000)}


def test_health_check_post_and_get(pair: tuple[httpx.Client, httpx.Client]) -> None:
    body = assert_same(pair, "POST", "/api/v1/query", data={"query": "1+1", "time": "4"})
    assert body == {"status": "success", "data": {"resultType": "scalar", "result": [4, "2"]}}
    assert_same(pair, "GET", "/api/v1/query", params={"query": "1+1", "time": "4"})


def test_buildinfo_has_no_features(stack: LocalStack, prometheus: PrometheusServer) -> None:
    ours = httpx.get(stack.url + "/api/v1/status/buildinfo").json()
    theirs = httpx.get(prometheus.url + "/api/v1/status/buildinfo").json()
    assert ours["status"] == theirs["status"] == "success"
    assert set(ours["data"]) == set(theirs["data"]) and "features" not in ours["data"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_label_names(
    pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet, method: str
) -> None:
    key = "params" if method == "GET" else "data"
    body = assert_same(pair, method, "/api/v1/labels", **{key: window(reference_dataset)})
    assert "__name__" in body["data"] and "job" in body["data"]
    assert_same(
        pair,
        method,
        "/api/v1/labels",
        **{
            key: {
                **window(reference_dataset),
                "match[]": ["queue_depth", 'node_temperature_celsius{job="db"}'],
            }
        },
    )


def test_label_values(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    names = assert_same(pair, "GET", "/api/v1/label/__name__/values", params=window(reference_dataset))
    assert "http_requests_total" in names["data"]
    assert_same(
        pair,
        "GET",
        "/api/v1/label/__name__/values",
        params={**window(reference_dataset), "match[]": "http_requests_total"},
    )
    assert_same(pair, "GET", "/api/v1/label/job/values", params=window(reference_dataset))
    assert_same(
        pair,
        "GET",
        "/api/v1/label/instance/values",
        params={**window(reference_dataset), "match[]": ['http_requests_total{job="api"}', "queue_depth"]},
    )
    assert_same(pair, "GET", "/api/v1/label/le/values", params={"match[]": "request_duration_seconds_bucket"})
    assert_same(pair, "GET", "/api/v1/label/nonexistent/values", params=window(reference_dataset))


def test_series(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    for method, key in (("GET", "params"), ("POST", "data")):
        body = assert_same(
            pair,
            method,
            "/api/v1/series",
            **{
                key: {
                    **window(reference_dataset),
                    "match[]": ['{__name__=~"queue.*"}', 'http_requests_total{method="GET",job!="web"}'],
                }
            },
        )
        assert len(body["data"]) == 2 + 6
    assert_same(
        pair, "GET", "/api/v1/series", params={"match[]": 'node_temperature_celsius{instance=~"a.*"}'}
    )
    # The stopping queue has no samples in the last hour: range restricts series.
    late = {
        "start": seconds(reference_dataset.start_ms + 2 * 3_600_000),
        "end": seconds(reference_dataset.end_ms),
    }
    body = assert_same(pair, "GET", "/api/v1/series", params={**late, "match[]": "queue_depth"})
    assert [s["queue"] for s in body["data"]] == ["gappy"]


def test_range_panel_query(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    form = {
        "query": "sum by (job) (rate(http_requests_total[5m]))",
        "start": seconds(reference_dataset.start_ms + 600_000),
        "end": seconds(reference_dataset.start_ms + 7_200_000),
        "step": "60",
    }
    ours, theirs = both(pair, "POST", "/api/v1/query_range", data=form)
    assert ours.status_code == theirs.status_code == 200
    a, b = ours.json()["data"], theirs.json()["data"]
    assert a["resultType"] == b["resultType"] == "matrix"
    assert [s["metric"] for s in a["result"]] == [s["metric"] for s in b["result"]]
    for x, y in zip(a["result"], b["result"], strict=True):
        assert [p[0] for p in x["values"]] == [p[0] for p in y["values"]]
        assert [float(p[1]) for p in x["values"]] == pytest.approx(
            [float(p[1]) for p in y["values"]], rel=1e-9
        )


def test_post_falls_back_to_get(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    """Grafana POSTs resource calls first and retries with GET on 405; GET-only paths must say 405."""
    for path in ("/api/v1/label/job/values", "/api/v1/metadata", "/api/v1/rules"):
        ours, theirs = both(pair, "POST", path, data=window(reference_dataset))
        assert ours.status_code == theirs.status_code == 405, path
        assert_same(pair, "GET", path, params=window(reference_dataset))


def test_exemplars_metadata_and_empty_things(
    pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet
) -> None:
    assert_same(pair, "GET", "/api/v1/query_exemplars", params={"query": "test", **window(reference_dataset)})
    assert_same(pair, "GET", "/api/v1/metadata")
    assert_same(pair, "GET", "/api/v1/metadata", params={"metric": "http_requests_total", "limit": "1"})
    assert_same(pair, "GET", "/api/v1/rules")
    assert_same(pair, "GET", "/api/v1/format_query", params={"query": "sum(rate(up[5m]))by(job)"})
    assert_same(pair, "POST", "/api/v1/format_query", data={"query": "foo + on(a) group_left bar"})


def test_error_shapes(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    assert_same(pair, "GET", "/api/v1/query", params={"query": "up{", "time": "100"})
    assert_same(pair, "GET", "/api/v1/query", params={"time": "100"})
    assert_same(pair, "GET", "/api/v1/query", params={"query": "up", "time": "yesterday"})
    assert_same(
        pair, "GET", "/api/v1/query_range", params={"query": "up", "start": "100", "end": "50", "step": "10"}
    )
    assert_same(
        pair, "GET", "/api/v1/query_range", params={"query": "up", "start": "0", "end": "100000", "step": "1"}
    )
    assert_same(pair, "GET", "/api/v1/series", params=window(reference_dataset))
    assert_same(pair, "GET", "/api/v1/series", params={"match[]": "up{"})
    assert_same(pair, "GET", "/api/v1/format_query", params={"query": "sum("})
    ours, theirs = both(pair, "GET", "/api/v1/nonexistent")
    assert ours.status_code == theirs.status_code == 404
    assert ours.text == theirs.text


def test_stats_all(pair: tuple[httpx.Client, httpx.Client], reference_dataset: DataSet) -> None:
    at = seconds(reference_dataset.start_ms + 3_600_000)
    ours, theirs = both(
        pair, "GET", "/api/v1/query", params={"query": "queue_depth", "time": at, "stats": "all"}
    )
    a, b = ours.json()["data"], theirs.json()["data"]
    assert set(a) == set(b)
    assert set(a["stats"]) == set(b["stats"]) and set(a["stats"]["timings"]) == set(b["stats"]["timings"])
    assert set(a["stats"]["samples"]) <= set(b["stats"]["samples"])
