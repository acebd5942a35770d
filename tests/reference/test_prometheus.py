"""The reference Prometheus answers what the generator says it holds."""

import numpy as np

from tests.reference.dataset import COUNTER, GAUGE, HISTOGRAM, JOBS, DataSet
from tests.reference.prometheus import PrometheusServer
from tests.reference.queries import INSTANT_MS, QUERIES, RANGE


def test_version_and_series_count(prometheus: PrometheusServer, reference_dataset: DataSet) -> None:
    assert prometheus.version().startswith("2.")
    result = prometheus.instant(f"count({COUNTER})", INSTANT_MS)
    assert result.type == "vector" and result.series[0].points == [(INSTANT_MS, 18.0)]
    count = prometheus.instant('count({__name__=~".+"})', INSTANT_MS)
    live = [s for s in reference_dataset.series_labels
            if (reference_dataset.samples(s)[0] > INSTANT_MS - 300_000).any()]
    assert count.series[0].points[0][1] == len(live) == len(reference_dataset.series_labels) - 1


def test_sample_values_and_timestamps(prometheus: PrometheusServer, reference_dataset: DataSet) -> None:
    labels = {"__name__": GAUGE, "job": JOBS[2], "instance": "b:9100"}
    ts, values = reference_dataset.samples(labels)
    selector = f'{GAUGE}{{job="{JOBS[2]}",instance="b:9100"}}'
    for k in (0, 100, len(ts) - 1):
        at_sample = prometheus.instant(selector, int(ts[k]))
        assert at_sample.series[0].points == [(int(ts[k]), values[k])]
        stamp = prometheus.instant(f"timestamp({selector})", int(ts[k]) + 999)
        assert stamp.series[0].points[0][1] == ts[k] / 1000
    start, end, step = RANGE
    got = prometheus.range(selector, start, end, step)
    (series,) = got.series
    expected = [(t, values[np.searchsorted(ts, t, side="right") - 1]) for t in range(start, end + 1, step)]
    assert series.labels == labels and series.points == expected


def test_raw_range_selection(prometheus: PrometheusServer, reference_dataset: DataSet) -> None:
    labels = {"__name__": f"{HISTOGRAM}_count", "job": JOBS[0], "instance": "c:9100"}
    ts, values = reference_dataset.samples(labels)
    got = prometheus.instant(f'{HISTOGRAM}_count{{job="{JOBS[0]}",instance="c:9100"}}[5m]', INSTANT_MS)
    inside = (ts > INSTANT_MS - 300_000) & (ts <= INSTANT_MS)
    assert got.type == "matrix"
    assert got.series[0].points == list(zip(ts[inside].tolist(), values[inside].tolist(), strict=True))


def test_every_listed_query_succeeds_with_data(prometheus: PrometheusServer) -> None:
    assert len(QUERIES) >= 60
    empty = []
    for query in QUERIES:
        if query.kind == "instant":
            result = prometheus.instant(query.expr, query.start_ms)
        else:
            result = prometheus.range(query.expr, query.start_ms, query.end_ms, query.step_ms)
        assert result.error is None, f"{query}: {result.error}"
        if not (result.series or result.type == "scalar"):
            empty.append(str(query))
    assert empty == []


def test_errors_come_back_as_results(prometheus: PrometheusServer) -> None:
    bad = prometheus.instant("sum(", INSTANT_MS)
    assert bad.type is None and "parse error" in (bad.error or "")
