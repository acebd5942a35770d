"""Every template through a real worker on loopback, against reference computations."""

from __future__ import annotations

import math

import datasketches
import numpy as np
import pytest

from lake.schema import HOUR_MS, series_id
from planner.tickets import Matcher
from tests.flight_worker import reference
from tests.flight_worker.lakedata import T0

M = Matcher
ALIGNED = list(range(T0 - 60_000, T0 + 2 * HOUR_MS + 60_001, 60_000))
# Irregular edges: two interleaved grids (t and t - range, range not a multiple of step) plus a
# bucket that spans the hour boundary between files.
UNALIGNED = sorted({*range(T0 - 77_777, T0 + 2 * HOUR_MS, 300_000),
                    *range(T0 - 77_777 + 110_000, T0 + 2 * HOUR_MS, 300_000)})
WIDE = [T0 - 1, T0 + HOUR_MS - 7_000, T0 + HOUR_MS + 7_000, T0 + 2 * HOUR_MS + 10_000]

FLOAT_FIELDS = ("sum", "min", "max", "first_value", "last_value", "prev_value", "reset_sum",
                "increase", "sum_t", "sum_t2", "sum_tv", "m2")
INT_FIELDS = ("count", "first_ts", "last_ts", "prev_ts", "resets", "changes", "last_stale_ts")


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@pytest.mark.parametrize("edges", [ALIGNED, UNALIGNED, WIDE], ids=["aligned", "unaligned", "wide"])
@pytest.mark.parametrize("window", [None, (T0 + 600_000, T0 + HOUR_MS + 1_234)], ids=["all", "cut"])
def test_partials_match_reference(worker, edges, window):
    matchers = (M("__name__", "!=", "nothing"),)
    win = window or (T0 - HOUR_MS, T0 + 3 * HOUR_MS)
    table = worker.get("partials", matchers=matchers, edges=edges, window=win, ref_ts=T0 + 1_800_000,
                       leaf=7)
    expected = reference.partials(worker.lake.rows, matchers, edges, win, T0 + 1_800_000)
    rows = table.to_pylist()
    assert len(rows) == len(expected)
    keys = [(r["__bucket_end"], r["__series_id"]) for r in rows]
    assert keys == sorted(keys), "sorted by bucket end, then series"
    assert {r["__leaf"] for r in rows} == {7}
    for r in rows:
        want = expected[(r["__series_id"], r["__bucket_end"])]
        for name in INT_FIELDS:
            assert r[f"__{name}"] == want.get(name, 0 if name in ("resets", "changes") else None), name
        for name in FLOAT_FIELDS:
            assert _close(r[f"__{name}"], want.get(name)), (name, r[f"__{name}"], want.get(name))


def test_partials_labels_and_stale_only_rows(worker):
    table = worker.get("partials", matchers=(M("__name__", "=", "up"), M("job", "=", "db")),
                       edges=ALIGNED, ref_ts=T0)
    assert table.schema.field("job").type.value_type.equals(table.schema.field("__name__").type.value_type)
    rows = table.to_pylist()
    assert {r["__name__"] for r in rows} == {"up"} and {r["zone"] for r in rows} == {"us"}
    assert all(r["instance"] is None for r in rows)
    stale = [r for r in rows if r["__last_stale_ts"] is not None]
    assert len(stale) == 1
    # the last sample of the series is a stale marker: a row for the bucket still says so
    assert stale[0]["__last_stale_ts"] > (stale[0]["__last_ts"] or 0)


def test_partials_schema(worker):
    table = worker.get("partials", matchers=(M("__name__", "=", "temp"),), edges=ALIGNED)
    names = table.schema.names
    assert names[:4] == ["__leaf", "__series_id", "__bucket_end", "__name__"]
    assert names[4:10] == ["code", "env", "instance", "job", "zone", "__count"]
    assert table.schema.metadata[b"fletch.template"] == b"partials"
    assert str(table.schema.field("code").type) == "dictionary<values=string, indices=int32, ordered=0>"


def test_raw_samples_in_window_without_stale_markers(worker):
    window = (T0 + 100_000, T0 + 900_000)
    m = (M("__name__", "=~", "http_.*"),)
    table = worker.get("raw", matchers=m, edges=ALIGNED, window=window)
    want = sorted((reference.bucket_end(r.ts, ALIGNED), series_id(r.labels), r.ts)
                  for r in worker.lake.rows if window[0] < r.ts <= window[1] and not r.stale
                  and reference.matches(r.labels, m))
    got = [(r["__bucket_end"], r["__series_id"], r["__ts"]) for r in table.to_pylist()]
    assert got == want


def test_sketch_quantiles(worker):
    m = (M("__name__", "=", "temp"),)
    table = worker.get("sketch", matchers=m, edges=WIDE)
    assert table.num_rows == 3
    for row in table.to_pylist():
        sk = datasketches.req_floats_sketch.deserialize(row["__sketch"])
        values = [r.value for r in worker.lake.rows if reference.matches(r.labels, m)
                  and reference.bucket_end(r.ts, WIDE) == row["__bucket_end"]]
        assert sk.n == row["__count"] == len(values)
        assert abs(sk.get_quantile(0.5) - float(np.quantile(values, 0.5))) < 1.0


def test_sketch_skips_nan_values(worker):
    table = worker.get("sketch", matchers=(M("__name__", "=", "gauge_nan"),), edges=WIDE)
    nan_rows = [r for r in worker.lake.rows if r.labels["__name__"] == "gauge_nan"]
    assert sum(table.column("__count").to_pylist()) == sum(not math.isnan(r.value) for r in nan_rows)


def test_series_label_names_label_values(worker):
    series = worker.get("series", matchers=(M("job", "=", "db"),)).to_pylist()
    assert sorted(r["__name__"] for r in series) == ["gauge_nan", "http_requests_total", "up"]
    assert [r["__series_id"] for r in series] == sorted(r["__series_id"] for r in series)
    names = worker.get("label_names").column("name").to_pylist()
    assert names == ["__name__", "code", "instance", "job", "zone"]  # `env` is only ever ""
    assert worker.get("label_names", matchers=(M("job", "=", "db"),)).column("name").to_pylist() == [
        "__name__", "job", "zone"]
    values = worker.get("label_values", label="zone").column("value").to_pylist()
    assert values == ["eu\nwest", "us"]
    assert worker.get("label_values", label="nope").num_rows == 0
    assert worker.get("label_values", label="__name__",
                      matchers=(M("job", "=", "api"),)).column("value").to_pylist() == [
        "http_requests_total", "temp", "up"]


ALL_SERIES = {"http_requests_total/api/a", "http_requests_total/api/b", "up/api/a", "temp/api/c",
              "http_requests_total/db/", "up/db/", "gauge_nan/db/"}
# (matcher, label kind) -> the label is present / absent / explicitly empty / missing from all files
MATCHER_CASES = [
    # present label
    (M("job", "=", "db"), None), (M("job", "!=", "db"), None), (M("job", "=~", "d.*"), None),
    (M("job", "!~", "d.*"), None), (M("job", "=~", "d"), None),  # anchored: "d" is not "db"
    # absent in some series (instance), explicitly empty (env = "" for temp), and missing
    (M("instance", "=", ""), None), (M("instance", "!=", ""), None), (M("instance", "=~", ".*"), None),
    (M("instance", "=~", ".+"), None), (M("instance", "!~", "a|b"), None),
    (M("env", "=", ""), None), (M("env", "!=", ""), None), (M("env", "=~", ""), None),
    (M("zone", "=~", "eu.west"), None),  # `.` matches a newline, as in Prometheus 3
    (M("zone", "=~", "eu"), None),
    (M("nolabel", "=", ""), ALL_SERIES), (M("nolabel", "!=", ""), set()),
    (M("nolabel", "=~", ".*"), ALL_SERIES), (M("nolabel", "=~", ".+"), set()),
    (M("nolabel", "!~", ".+"), ALL_SERIES), (M("nolabel", "=", "x"), set()),
    (M("nolabel", "!=", "x"), ALL_SERIES), (M("__name__", "=~", "up|temp"), None),
    (M("__name__", "!~", "http.*"), None),
]


def _short(r) -> str:
    return f"{r['__name__']}/{r['job']}/{r.get('instance') or ''}"


@pytest.mark.parametrize(("matcher", "expected"), MATCHER_CASES,
                         ids=[f"{m.name}{m.op}{m.value!r}" for m, _ in MATCHER_CASES])
def test_matcher_semantics(worker, matcher, expected):
    got = {_short(r) for r in worker.get("series", matchers=(matcher,)).to_pylist()}
    want = {f"{r.labels['__name__']}/{r.labels['job']}/{r.labels.get('instance', '')}"
            for r in worker.lake.rows if reference.matches(r.labels, (matcher,))}
    assert got == want
    if expected is not None:
        assert got == expected


def test_matchers_combine_and_partials_agree(worker):
    m = (M("__name__", "=~", "http_requests_total|up"), M("nolabel", "=", ""), M("code", "!=", "500"))
    table = worker.get("partials", matchers=m, edges=ALIGNED)
    assert set(table.column("__series_id").to_pylist()) == {
        series_id(r.labels) for r in worker.lake.rows if reference.matches(r.labels, m)}
