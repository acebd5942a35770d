"""A small lake for worker tests: several files with different label columns, counter resets,
NaN values, stale markers and jittered timestamps; plus the rows as plain Python for reference
computations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lake.profiles import StorageProfile
from lake.schema import HOUR_MS, NAME, SERIES_ID, STALE_NAN, TS, VALUE, series_id
from lake.segments import SegmentRecord
from lake.writer import write_raw_segments

T0 = 1_700_000_000_000 // HOUR_MS * HOUR_MS  # an hour boundary
STEP = 15_000
ORG = "acme"

# Two write batches with different label columns: each becomes one file per hour.
GROUP_A = [
    {NAME: "http_requests_total", "job": "api", "instance": "a", "code": "200"},
    {NAME: "http_requests_total", "job": "api", "instance": "b", "code": "500"},
    {NAME: "up", "job": "api", "instance": "a"},
    {NAME: "temp", "job": "api", "instance": "c", "env": ""},  # an explicit empty value
]
GROUP_B = [
    {NAME: "http_requests_total", "job": "db", "zone": "eu\nwest"},
    {NAME: "up", "job": "db", "zone": "us"},
    {NAME: "gauge_nan", "job": "db"},
]


@dataclass
class Row:
    labels: dict[str, str]
    ts: int
    value: float

    @property
    def stale(self) -> bool:
        return np.float64(self.value).view(np.uint64) == np.float64(STALE_NAN).view(np.uint64)


@dataclass
class Lake:
    profile: StorageProfile
    segments: list[SegmentRecord]
    rows: list[Row] = field(default_factory=list)


def _values(labels: dict[str, str], times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(times)
    if labels[NAME] == "http_requests_total":
        v = np.cumsum(rng.integers(0, 10, n)).astype(np.float64)
        for cut in rng.choice(np.arange(5, n), 4, replace=False):  # counter resets
            v[cut:] -= v[cut] - rng.integers(0, 3)
        return v
    if labels[NAME] == "gauge_nan":
        v = rng.normal(0, 1, n)
        v[::17] = np.nan  # ordinary NaNs are samples
        return v
    if labels[NAME] == "up":
        v = np.ones(n)
        v[n // 3: n // 3 + 20] = 0
        return v
    return rng.normal(20, 3, n).round(2)


def build_rows(hours: int = 2, seed: int = 3) -> tuple[list[Row], list[Row]]:
    rng = np.random.default_rng(seed)
    groups = []
    for series in (GROUP_A, GROUP_B):
        rows = []
        for labels in series:
            times = T0 + np.arange(0, hours * HOUR_MS, STEP) + rng.integers(0, 3000, hours * HOUR_MS // STEP)
            values = _values(labels, times, rng)
            stale_at = set()
            if labels.get("instance") == "b":  # goes stale mid-way, comes back later
                stale_at = {len(times) // 2}
            if labels[NAME] == "up" and labels["job"] == "db":  # stale at the very end
                stale_at = {len(times) - 1}
            for i, (t, v) in enumerate(zip(times, values, strict=True)):
                rows.append(Row(labels, int(t), STALE_NAN if i in stale_at else float(v)))
        groups.append(rows)
    return groups[0], groups[1]


def to_table(rows: list[Row]) -> pa.Table:
    rows = sorted(rows, key=lambda r: (r.ts // HOUR_MS, r.labels[NAME], series_id(r.labels), r.ts))
    names = sorted({k for r in rows for k in r.labels} - {NAME})
    cols = {NAME: pa.array([r.labels[NAME] for r in rows]),
            SERIES_ID: pa.array([series_id(r.labels) for r in rows], pa.int64()),
            TS: pa.array([r.ts for r in rows], pa.int64()),
            VALUE: pa.array(np.array([r.value for r in rows], dtype=np.float64))}
    for name in names:
        cols[name] = pa.array([r.labels.get(name) for r in rows], pa.string())
    return pa.table(cols)


def write_lake(profile: StorageProfile, hours: int = 2, filesystem=None) -> Lake:
    a, b = build_rows(hours)
    segments = []
    for rows in (a, b):
        segments += write_raw_segments(to_table(rows), org=ORG, profile=profile, filesystem=filesystem)
    return Lake(profile, segments, a + b)


def big_table(n_series: int, n_points: int, start: int = T0, step: int = STEP, seed: int = 1) -> pa.Table:
    """A vectorized table of `n_series` gauge-like series (two label layouts), sorted for the
    writer: for the scan-heavy tests (cancellation, concurrency)."""
    rng = np.random.default_rng(seed)
    labels = [{NAME: f"m{i % 7}", "job": f"j{i % 3}", "instance": f"i{i}"} for i in range(n_series)]
    ids = np.array([series_id(lab) for lab in labels])
    order = sorted(range(n_series), key=lambda i: (labels[i][NAME], ids[i]))
    ts = start + np.arange(n_points, dtype=np.int64) * step
    hours = (ts - start) // HOUR_MS
    s_idx = np.tile(np.array(order), n_points)
    t_idx = np.repeat(np.arange(n_points), n_series)
    perm = np.lexsort((t_idx, np.tile(np.arange(n_series), n_points), hours[t_idx]))
    s_idx, t_idx = s_idx[perm], t_idx[perm]

    def dict_col(key: str) -> pa.DictionaryArray:
        values = sorted({lab[key] for lab in labels})
        pos = {v: i for i, v in enumerate(values)}
        codes = pa.array([pos[lab[key]] for lab in labels], pa.int32())
        return pa.DictionaryArray.from_arrays(codes.take(pa.array(s_idx)), pa.array(values))

    return pa.table({NAME: dict_col(NAME), SERIES_ID: pa.array(ids[s_idx]), TS: pa.array(ts[t_idx]),
                     VALUE: pa.array(rng.random(len(s_idx)) * 100), "instance": dict_col("instance"),
                     "job": dict_col("job")})
