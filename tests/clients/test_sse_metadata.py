"""The SSE tag streams over sockets, against the Prometheus label API of the same fletch (which
tests/clients/test_grafana.py holds to Prometheus), plus keep-alive comments on the wire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from fletch.localstack import LocalStack
from query_api import sse
from tests.clients.conftest import ORG
from tests.reference.dataset import DataSet


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=60) as client:
        yield client


def stream(http: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    with connect_sse(http, "POST", path, json=body) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(e.event, json.loads(e.data)) for e in source.iter_sse()]


def test_tags_match_the_labels_api(http: httpx.Client, reference_dataset: DataSet) -> None:
    s, e = reference_dataset.start_ms, reference_dataset.end_ms
    events = stream(http, "/api/v1/metrics/tags", {"s": s, "e": e})
    assert events[-1][0] == "done" and events[-1][1]["status"] == "ok"
    labels = http.get("/api/v1/labels", params={"start": s / 1000, "end": e / 1000}).json()["data"]
    assert [p["tag"] for kind, p in events if kind == "result"] == labels
    events = stream(http, "/api/v1/metrics/tags", {"s": s, "e": e, "match": "queue_depth", "limit": 2})
    assert [p for kind, p in events if kind == "result"] == [{"tag": "__name__"}, {"tag": "job"}]
    assert events[-1][1]["stats"]["truncated"] is True


def test_tag_values_match_the_label_values_api(http: httpx.Client, reference_dataset: DataSet) -> None:
    s, e = reference_dataset.start_ms, reference_dataset.end_ms
    for tag, match in (("__name__", []), ("instance", ['http_requests_total{job="db"}']), ("queue", [])):
        events = stream(http, "/api/v1/metrics/tagvalues", {"tag": tag, "match": match, "s": s, "e": e})
        params: dict[str, Any] = {"start": s / 1000, "end": e / 1000, "match[]": match}
        values = http.get(f"/api/v1/label/{tag}/values", params=params).json()["data"]
        assert [p for kind, p in events if kind == "result"] == [{"tag": tag, "value": v} for v in values]
        assert (
            values
            and events[-1] == ("done", events[-1][1])
            and events[-1][1]["stats"]["results"] == len(values)
        )


def test_tag_stream_errors(http: httpx.Client) -> None:
    events = stream(http, "/api/v1/metrics/tagvalues", {"match": "up"})
    assert events == [
        ("error", {"errorType": "bad_data", "error": 'invalid parameter "tag": missing'}),
        ("done", {"status": "error", "stats": {}}),
    ]
    events = stream(http, "/api/v1/metrics/tags", {"match": "up{"})
    assert events[0][0] == "error" and "parse error" in events[0][1]["error"]


def test_keep_alive_comments_while_waiting(
    http: httpx.Client, reference_dataset: DataSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "KEEPALIVE_SECONDS", 0.0005)
    body = {
        "q": "sum by (job) (rate(http_requests_total[5m]))",
        "s": reference_dataset.start_ms,
        "e": reference_dataset.end_ms,
        "step": "15s",
    }
    with http.stream("POST", "/api/v1/metrics/query", json=body) as response:
        text = response.read().decode()
    assert ": keep-alive\n\n" in text
    assert text.rstrip().splitlines()[-2] == "event: done"
