"""A leaf's data as rows sorted by (series, time), and the rows each evaluation window covers.

A row is one bucket's partial from the workers, or one raw sample (a partial of one sample), so
every window function reads the same shape. A window `(a, b]` covers the rows whose bucket end
(or sample time) lies in it; with bucket edges planned at every window edge that is exactly the
samples in the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from query_api.engine.values import Labels

NO_TS = np.iinfo(np.int64).min


@dataclass
class LeafRows:
    labels: list[Labels]            # per series
    series: np.ndarray              # int64 series index per row, ascending
    end: np.ndarray                 # int64 bucket end (or sample time) per row, ascending per series
    fields: dict[str, np.ndarray]   # partial fields per row (see lake/partials.py)
    stale_series: np.ndarray        # staleness markers: series index ...
    stale_ts: np.ndarray            # ... and time, sorted by (series, time)

    @classmethod
    def from_samples(cls, labels: list[Labels], series: np.ndarray, ts: np.ndarray,
                     values: np.ndarray) -> LeafRows:
        """Raw samples (no stale markers) as one-sample partials; input sorted by (series, ts)."""
        n = len(ts)
        zeros = np.zeros(n)
        fields = {
            "count": np.ones(n, dtype=np.int64), "sum": values, "sum_c": zeros, "min": values,
            "max": values,
            "first_ts": ts, "first_value": values, "last_ts": ts, "last_value": values,
            "prev_ts": np.full(n, NO_TS), "prev_value": np.full(n, np.nan),
            "increase": zeros, "reset_sum": zeros, "resets": np.zeros(n, dtype=np.int64),
            "changes": np.zeros(n, dtype=np.int64),
        }
        empty = np.zeros(0, dtype=np.int64)
        return cls(labels, series, ts, fields, empty, empty)

    @property
    def series_count(self) -> int:
        return len(self.labels)

    def windows(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row ranges `[lo, hi)` of every series for windows `(starts[t], ends[t]]`: [S, T]."""
        return _windows(self.series, self.end, self.series_count, starts, ends)

    def stale_windows(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _windows(self.stale_series, self.stale_ts, self.series_count, starts, ends)


def _windows(series: np.ndarray, times: np.ndarray, series_count: int, starts: np.ndarray,
             ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.searchsorted(series, np.arange(series_count + 1), side="left")
    if len(times) == 0 or len(starts) == 0:
        lo = np.broadcast_to(offsets[:-1, None], (series_count, len(starts)))
        return lo.copy(), lo.copy()
    base = min(int(times.min()), int(starts.min())) - 1
    span = max(int(times.max()), int(ends.max())) - base + 2
    if series_count * span < 2**62:
        key = series * span + (times - base)
        column = np.arange(series_count, dtype=np.int64)[:, None] * span
        lo = np.searchsorted(key, column + (starts[None, :] - base), side="right")
        hi = np.searchsorted(key, column + (ends[None, :] - base), side="right")
        return lo, hi
    lo = np.empty((series_count, len(starts)), dtype=np.int64)
    hi = np.empty_like(lo)
    for s in range(series_count):  # only for extreme time spans: one search per series
        first, last = offsets[s], offsets[s + 1]
        lo[s] = first + np.searchsorted(times[first:last], starts, side="right")
        hi[s] = first + np.searchsorted(times[first:last], ends, side="right")
    return lo, hi


def window_reduce(ufunc: np.ufunc, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """`ufunc.reduce(values[lo:hi])` for every window at once; empty windows give NaN."""
    if len(values) == 0:
        return np.full(lo.shape, np.nan)
    padded = np.append(values.astype(np.float64, copy=False), np.nan)
    pairs = np.stack([lo.ravel(), hi.ravel()], axis=1).ravel()
    reduced = ufunc.reduceat(padded, pairs)[0::2].reshape(lo.shape)
    return np.where(hi > lo, reduced, np.nan)


def prefix_sum(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values) + 1, dtype=values.dtype)
    np.cumsum(values, out=out[1:])
    return out
