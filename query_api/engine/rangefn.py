"""Range-vector functions over window row ranges, vectorized across series x steps.

Functions fed from bucket partials combine each window's rows with prefix sums and `reduceat`;
the pair of samples that straddles two rows (last of one bucket, first of the next) is accounted
for with per-row "cross" terms. Functions that are not mergeable (quantiles, deviations,
regression, smoothing) get raw samples, one per row, and walk every window in lockstep.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from query_api.engine import numeric
from query_api.engine.rows import LeafRows, prefix_sum, window_reduce

Result = tuple[np.ndarray, np.ndarray]  # values [S, T], present [S, T]
_LOCKSTEP_CELLS = 4_000_000


class WindowData:
    """One leaf's rows and the windows of every (series, step) over them."""

    def __init__(self, rows: LeafRows, lo: np.ndarray, hi: np.ndarray, range_ms: int,
                 starts: np.ndarray, ends: np.ndarray) -> None:
        self.rows, self.lo, self.hi, self.range_ms = rows, lo, hi, range_ms
        self.starts, self.ends = starts, ends  # window bounds per step (ms)
        self.nonempty = hi > lo
        f = rows.fields
        self.count = _diff(prefix_sum(f["count"].astype(np.int64)), lo, hi)
        last_row = np.maximum(hi - 1, 0)
        first_row = np.minimum(lo, max(len(rows.end) - 1, 0))
        self.first_row, self.last_row = first_row, last_row

    def field_at(self, name: str, row: np.ndarray) -> np.ndarray:
        values = self.rows.fields[name]
        if len(values) == 0:
            return np.zeros(row.shape, dtype=values.dtype)
        return values[row]

    def cross(self) -> dict[str, np.ndarray]:
        """Per-row terms for the pair (last sample of the row before, first sample of this row)."""
        f, series = self.rows.fields, self.rows.series
        n = len(series)
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[1:] = series[1:] == series[:-1]
        prev_last = np.empty(n)
        prev_last[0:1] = np.nan
        prev_last[1:] = f["last_value"][:-1]
        first = f["first_value"]
        drop = same & (first < prev_last)
        equal = (first == prev_last) | (np.isnan(first) & np.isnan(prev_last))
        return {"reset_value": np.where(drop, prev_last, 0.0), "resets": drop.astype(np.int64),
                "changes": (same & ~equal).astype(np.int64)}

    def inner_sum(self, per_row: np.ndarray) -> np.ndarray:
        """Sum of a per-row cross term over rows lo+1 .. hi-1 (pairs inside the window)."""
        prefix = prefix_sum(per_row)
        inner_lo = np.minimum(self.lo + 1, self.hi)
        return prefix[np.maximum(self.hi, inner_lo)] - prefix[inner_lo]


def _diff(prefix: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return prefix[hi] - prefix[lo]


# -- mergeable functions ---------------------------------------------------------------------------

def count_over_time(w: WindowData) -> Result:
    return w.count.astype(np.float64), w.count > 0


def sum_over_time(w: WindowData) -> Result:
    values, _, valid, _ = lockstep(w, "sum")
    carried, _, _, _ = lockstep(w, "sum_c")
    return numeric.kahan_sum(values, valid, carried), w.count > 0


def avg_over_time(w: WindowData) -> Result:
    """Mean of the window's samples: Prometheus's algorithm on raw samples; from bucket partials
    the compensated total over the count (`sum/count + kahanC/count`)."""
    sums, _, valid, _ = lockstep(w, "sum")
    if (w.rows.fields["count"] == 1).all():
        return numeric.mean(sums, valid), w.count > 0
    carried, _, _, _ = lockstep(w, "sum_c")
    count = np.maximum(w.count, 1).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return numeric.kahan_sum(sums, valid, carried) / count, w.count > 0


def min_over_time(w: WindowData) -> Result:
    return window_reduce(np.fmin, w.rows.fields["min"], w.lo, w.hi), w.count > 0


def max_over_time(w: WindowData) -> Result:
    return window_reduce(np.fmax, w.rows.fields["max"], w.lo, w.hi), w.count > 0


def last_over_time(w: WindowData) -> Result:
    return w.field_at("last_value", w.last_row), w.count > 0


def present_over_time(w: WindowData) -> Result:
    return np.ones(w.count.shape), w.count > 0


def _counter_change(w: WindowData, counter: bool) -> np.ndarray:
    first = w.field_at("first_value", w.first_row)
    last = w.field_at("last_value", w.last_row)
    result = last - first
    if counter:
        reset_sum = _diff(prefix_sum(w.rows.fields["reset_sum"]), w.lo, w.hi)
        result = result + reset_sum + w.inner_sum(w.cross()["reset_value"])
    return result


def _extrapolated(w: WindowData, counter: bool, rate: bool) -> Result:
    """Prometheus's extrapolatedRate, on each window's first/last samples and count."""
    present = w.count >= 2
    count = np.maximum(w.count, 2).astype(np.float64)
    first_ts = w.field_at("first_ts", w.first_row)
    last_ts = w.field_at("last_ts", w.last_row)
    first_value = w.field_at("first_value", w.first_row)
    result = _counter_change(w, counter)
    with np.errstate(invalid="ignore", divide="ignore"):
        to_start = (first_ts - w.starts[None, :]) / 1000.0
        to_end = (w.ends[None, :] - last_ts) / 1000.0
        sampled = (last_ts - first_ts) / 1000.0
        average = sampled / (count - 1)
        threshold = average * 1.1
        to_start = np.where(to_start >= threshold, average / 2, to_start)
        if counter:
            to_zero = sampled * (first_value / result)
            clamp = (result > 0) & (first_value >= 0) & (to_zero < to_start)
            to_start = np.where(clamp, to_zero, to_start)
        to_end = np.where(to_end >= threshold, average / 2, to_end)
        factor = (sampled + to_start + to_end) / sampled
        if rate:
            factor = factor / (w.range_ms / 1000.0)
        return result * factor, present


def rate(w: WindowData) -> Result:
    return _extrapolated(w, counter=True, rate=True)


def increase(w: WindowData) -> Result:
    return _extrapolated(w, counter=True, rate=False)


def delta(w: WindowData) -> Result:
    return _extrapolated(w, counter=False, rate=False)


def _last_two(w: WindowData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    last_ts = w.field_at("last_ts", w.last_row)
    last_value = w.field_at("last_value", w.last_row)
    in_row = w.field_at("count", w.last_row) >= 2
    before = np.maximum(w.last_row - 1, 0)
    has_before = (w.hi - 1) > w.lo
    prev_ts = np.where(in_row, w.field_at("prev_ts", w.last_row), w.field_at("last_ts", before))
    prev_value = np.where(in_row, w.field_at("prev_value", w.last_row), w.field_at("last_value", before))
    present = w.nonempty & (in_row | has_before)
    return last_ts, last_value, prev_ts, prev_value, present


def _instant(w: WindowData, rate: bool) -> Result:
    last_ts, last_value, prev_ts, prev_value, present = _last_two(w)
    interval = (last_ts - prev_ts) / 1000.0
    present = present & (interval != 0)
    result = last_value - prev_value
    if rate:
        result = np.where(last_value < prev_value, last_value, result)
        with np.errstate(invalid="ignore", divide="ignore"):
            result = result / interval
    return result, present


def irate(w: WindowData) -> Result:
    return _instant(w, rate=True)


def idelta(w: WindowData) -> Result:
    return _instant(w, rate=False)


def changes(w: WindowData) -> Result:
    inside = _diff(prefix_sum(w.rows.fields["changes"].astype(np.int64)), w.lo, w.hi)
    return (inside + w.inner_sum(w.cross()["changes"])).astype(np.float64), w.count > 0


def resets(w: WindowData) -> Result:
    inside = _diff(prefix_sum(w.rows.fields["resets"].astype(np.int64)), w.lo, w.hi)
    return (inside + w.inner_sum(w.cross()["resets"])).astype(np.float64), w.count > 0


MERGEABLE: dict[str, Callable[[WindowData], Result]] = {
    "count_over_time": count_over_time, "sum_over_time": sum_over_time,
    "avg_over_time": avg_over_time, "min_over_time": min_over_time, "max_over_time": max_over_time,
    "last_over_time": last_over_time, "present_over_time": present_over_time,
    "rate": rate, "increase": increase, "delta": delta, "irate": irate, "idelta": idelta,
    "changes": changes, "resets": resets,
}


# -- functions over raw samples --------------------------------------------------------------------

def lockstep(w: WindowData, field: str = "last_value") -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Every window's rows as padded [S, T, L] arrays: a field's values, row times, valid mask and
    row counts. With raw samples a row is a sample."""
    values = w.rows.fields[field]
    times = w.rows.end
    length = (w.hi - w.lo)
    width = int(length.max()) if length.size else 0
    if values.size == 0 or width == 0:
        shape = (*w.lo.shape, 0)
        return np.zeros(shape), np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=bool), length
    if length.size * width > 50 * _LOCKSTEP_CELLS:
        raise MemoryError("window too large for lockstep evaluation")
    index = w.lo[..., None] + np.arange(width)
    valid = index < w.hi[..., None]
    index = np.minimum(index, len(values) - 1)
    return values[index], times[index], valid, length


def stdvar_over_time(w: WindowData) -> Result:
    values, _, valid, length = lockstep(w)
    return numeric.variance(values, valid, compensate_aux=True), length > 0


def stddev_over_time(w: WindowData) -> Result:
    variance, present = stdvar_over_time(w)
    return np.sqrt(variance), present


def quantile_over_time(w: WindowData, q: np.ndarray) -> Result:
    values, _, valid, length = lockstep(w)
    return numeric.quantile(values, valid, q[None, :]), length > 0


def mad_over_time(w: WindowData) -> Result:
    """Median absolute deviation; a NaN sample makes it NaN (as in Prometheus)."""
    values, _, valid, length = lockstep(w)
    half = np.full(length.shape, 0.5)
    median = numeric.quantile(values, valid, half)
    deviation = np.abs(values - median[..., None])
    result = numeric.quantile(deviation, valid, half)
    return np.where((valid & np.isnan(values)).any(axis=-1), np.nan, result), length > 0


def ts_of_extreme(w: WindowData, maximum: bool) -> Result:
    """Time (s) of the window's first minimum or maximum sample; NaN samples never win."""
    values, times, valid, length = lockstep(w)
    if values.shape[-1] == 0:
        return np.zeros(length.shape), length > 0
    fill = -np.inf if maximum else np.inf
    candidates = np.where(valid & ~np.isnan(values), values, fill)
    index = np.argmax(candidates, axis=-1) if maximum else np.argmin(candidates, axis=-1)
    picked = np.take_along_axis(times, index[..., None], axis=-1)[..., 0]
    return picked / 1000.0, length > 0


def _regression(w: WindowData, intercept_ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values, times, valid, length = lockstep(w)
    n = np.maximum(length, 1)
    x = np.where(valid, (times - intercept_ts[..., None]) / 1000.0, 0.0)
    y = np.where(valid, values, 0.0)
    first = values[..., 0] if values.shape[-1] else np.zeros(length.shape)
    constant = np.all(~valid | (values == first[..., None]), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sum_x, sum_y = x.sum(axis=-1), y.sum(axis=-1)
        cov = (x * y).sum(axis=-1) - sum_x * sum_y / n
        var = (x * x).sum(axis=-1) - sum_x * sum_x / n
        slope = cov / var
        intercept = sum_y / n - slope * sum_x / n
    slope = np.where(constant, np.where(np.isinf(first), np.nan, 0.0), slope)
    intercept = np.where(constant, np.where(np.isinf(first), np.nan, first), intercept)
    return slope, intercept, length >= 2


def deriv(w: WindowData) -> Result:
    first_ts = w.field_at("first_ts", w.first_row)
    slope, _, present = _regression(w, first_ts)
    return slope, present


def predict_linear(w: WindowData, seconds: np.ndarray, eval_ts: np.ndarray) -> Result:
    intercept_ts = np.broadcast_to(eval_ts[None, :], w.lo.shape)
    slope, intercept, present = _regression(w, intercept_ts)
    return intercept + slope * seconds[None, :], present


def double_exponential_smoothing(w: WindowData, sf: float, tf: float) -> Result:
    values, _, valid, length = lockstep(w)
    present = length >= 2
    if values.shape[-1] < 2:
        return np.full(length.shape, np.nan), present
    smoothed = values[..., 1].copy()
    trend = values[..., 1] - values[..., 0]
    for k in range(2, values.shape[-1]):
        step = valid[..., k]
        next_smoothed = sf * values[..., k] + (1 - sf) * (smoothed + trend)
        next_trend = tf * (next_smoothed - smoothed) + (1 - tf) * trend
        smoothed = np.where(step, next_smoothed, smoothed)
        trend = np.where(step, next_trend, trend)
    return smoothed, present




_COUNTER = ("count", "first_ts", "first_value", "last_ts", "last_value")
# The partial fields each function reads (window functions always read `count`). A function not
# listed gets every field.
FIELDS_BY_FUNCTION: dict[str | None, tuple[str, ...]] = {
    None: ("count", "last_ts", "last_value"),  # an instant selector
    "rate": (*_COUNTER, "reset_sum"), "increase": (*_COUNTER, "reset_sum"), "delta": _COUNTER,
    "irate": ("count", "last_ts", "last_value", "prev_ts", "prev_value"),
    "idelta": ("count", "last_ts", "last_value", "prev_ts", "prev_value"),
    "changes": (*_COUNTER, "changes"), "resets": (*_COUNTER, "resets"),
    "sum_over_time": ("count", "sum", "sum_c"), "avg_over_time": ("count", "sum", "sum_c"),
    "count_over_time": ("count",), "present_over_time": ("count",), "absent_over_time": ("count",),
    "min_over_time": ("count", "min"), "max_over_time": ("count", "max"),
    "last_over_time": ("count", "last_ts", "last_value"),
    "first_over_time": ("count", "first_ts", "first_value"),
    "ts_of_first_over_time": ("count", "first_ts", "first_value"),
    "ts_of_last_over_time": ("count", "last_ts", "last_value"),
}
