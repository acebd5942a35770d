"""Classic (`le`-bucket) histograms: `histogram_quantile`, `histogram_quantiles` and
`histogram_fraction` as Prometheus computes them (`promql/quantile.go`: BucketQuantile,
BucketFraction, coalesceBuckets, ensureMonotonicAndIgnoreSmallDeltas).

Buckets are gathered into [groups, steps, buckets] arrays, each (group, step) holding its present
buckets in ascending upper-bound order; the sequential fix-ups and the fraction walk then run
along the bucket axis in lockstep over every group and step.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import numpy as np

from planner.ast import PosRange
from query_api.engine import annotations as notes
from query_api.engine.labelfns import merge_same_labels
from query_api.engine.values import NAME, Annotations, Labels, Vector, label_value

SMALL_DELTA_TOLERANCE = 1e-12
_MIN_NORMAL = np.float64(2.2250738585072014e-308)
_GO_FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE)


def parse_go_float(text: str) -> float | None:
    """strconv.ParseFloat for the `le` label (decimal, Inf/Infinity/NaN, hex floats)."""
    if _GO_FLOAT.fullmatch(text):
        return float(text)
    try:
        return float.fromhex(text) if text.lower().lstrip("+-").startswith("0x") and "p" in text.lower() \
            else None
    except ValueError:
        return None


@dataclass
class Buckets:
    keys: list[Labels]          # group labels: the series' labels without `le`
    counts: np.ndarray          # [G, T, B] present buckets first, ascending upper bound
    bounds: np.ndarray          # [G, T, B]
    n: np.ndarray               # [G, T] how many buckets are present

    def output_labels(self) -> list[Labels]:
        return [tuple(item for item in key if item[0] != NAME) for key in self.keys]

    def last(self, array: np.ndarray) -> np.ndarray:
        index = np.maximum(self.n - 1, 0)[..., None]
        return np.take_along_axis(array, index, axis=-1)[..., 0]


def classic_buckets(vector: Vector, annotations: Annotations, pos: PosRange | None) -> Buckets:
    """Group series by their labels without `le`, summing buckets with equal bounds."""
    index: dict[Labels, int] = {}
    bounds_of: list[dict[float, int]] = []
    group_of, slot_of, rows = [], [], []
    for i, labels in enumerate(vector.labels):
        le = label_value(labels, "le")
        bound = parse_go_float(le)
        if bound is None:
            if vector.present[i].any():
                annotations.warn(notes.bad_bucket_label(label_value(labels, NAME), le, pos))
            continue
        key = tuple(item for item in labels if item[0] != "le")
        g = index.setdefault(key, len(index))
        if g == len(bounds_of):
            bounds_of.append({})
        slots = bounds_of[g]
        group_of.append(g)
        slot_of.append(slots.setdefault(bound, len(slots)))
        rows.append(i)
    groups, steps = len(index), vector.steps
    width = max((len(slots) for slots in bounds_of), default=0)
    bound_table = np.full((groups, width), np.nan)
    for g, slots in enumerate(bounds_of):
        bound_table[g, list(slots.values())] = list(slots.keys())
    flat = np.zeros((groups * width, steps))
    has = np.zeros((groups * width, steps), dtype=bool)
    if rows:
        target = np.array(group_of) * width + np.array(slot_of)
        present = vector.present[rows]
        np.add.at(flat, target, np.where(present, vector.values[rows], 0.0))
        np.logical_or.at(has, target, present)
    counts = flat.reshape(groups, width, steps).transpose(0, 2, 1)
    valid = has.reshape(groups, width, steps).transpose(0, 2, 1)
    bounds = np.broadcast_to(bound_table[:, None, :], counts.shape)
    # Present buckets first, in ascending bound order (absent ones pushed behind).
    key = np.where(valid, bounds, np.inf)
    order = np.lexsort((~valid, key), axis=-1) if width else np.zeros(counts.shape, dtype=np.int64)
    return Buckets(list(index), np.take_along_axis(counts, order, axis=-1),
                   np.take_along_axis(bounds, order, axis=-1), valid.sum(axis=-1))


def _almost_equal(a: np.ndarray, b: np.ndarray, epsilon: float) -> np.ndarray:
    """Prometheus's util/almost.Equal."""
    with np.errstate(invalid="ignore", over="ignore"):
        abs_sum = np.abs(a) + np.abs(b)
        diff = np.abs(a - b)
        tiny = (a == 0) | (b == 0) | (abs_sum < _MIN_NORMAL)
        relative = diff / np.minimum(abs_sum, np.finfo(np.float64).max) < epsilon
        close = np.where(tiny, diff < epsilon * _MIN_NORMAL, relative)
        return (np.isnan(a) & np.isnan(b)) | (a == b) | close


@dataclass
class Monotonicity:
    forced: np.ndarray          # [G, T]
    min_bucket: np.ndarray
    max_bucket: np.ndarray
    max_diff: np.ndarray


def ensure_monotonic(buckets: Buckets, counts: np.ndarray) -> Monotonicity:
    """Ignore relative deltas below 1e-12 and remove decreases, bucket by bucket (in place)."""
    shape = buckets.n.shape
    forced = np.zeros(shape, dtype=bool)
    min_bucket, max_bucket, max_diff = np.full(shape, np.inf), np.full(shape, -np.inf), np.zeros(shape)
    if not counts.shape[-1]:
        return Monotonicity(forced, min_bucket, max_bucket, max_diff)
    prev = counts[..., 0].copy()
    with np.errstate(invalid="ignore"):
        for i in range(1, counts.shape[-1]):
            active = i < buckets.n
            curr = counts[..., i].copy()
            same = curr == prev
            small = ~same & _almost_equal(prev, curr, SMALL_DELTA_TOLERANCE)
            decrease = ~same & ~small & (curr < prev)
            fix = active & (small | decrease)
            counts[..., i] = np.where(fix, prev, curr)
            forcing = active & decrease
            forced |= forcing
            bound = buckets.bounds[..., i]
            min_bucket = np.where(forcing & (bound < min_bucket), bound, min_bucket)
            max_bucket = np.where(forcing & (bound > max_bucket), bound, max_bucket)
            max_diff = np.where(forcing & (prev - curr > max_diff), prev - curr, max_diff)
            prev = np.where(active & ~same & ~small & ~decrease, curr, prev)
    return Monotonicity(forced, min_bucket, max_bucket, max_diff)


def _take(array: np.ndarray, index: np.ndarray | int) -> np.ndarray:
    """array[..., index] with a per-element index (clipped into range)."""
    clipped = np.broadcast_to(np.clip(index, 0, max(array.shape[-1] - 1, 0)), array.shape[:-1])
    return np.take_along_axis(array, clipped[..., None], axis=-1)[..., 0]


def bucket_quantile(buckets: Buckets, q: np.ndarray) -> tuple[np.ndarray, Monotonicity]:
    """BucketQuantile for every group and step; q is per step."""
    counts = buckets.counts.copy()
    fixes = ensure_monotonic(buckets, counts)
    q = np.broadcast_to(q[None, :], buckets.n.shape)
    width = counts.shape[-1]
    if not width:
        return np.full(buckets.n.shape, np.nan), fixes
    n = buckets.n
    last_inf = np.isposinf(buckets.last(buckets.bounds))
    observations = buckets.last(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        rank = q * observations
        searchable = np.arange(width) < (n - 1)[..., None]
        hit = (counts >= rank[..., None]) & searchable
        b = np.where(hit.any(axis=-1), hit.argmax(axis=-1), n - 1)
        below = b > 0
        start = np.where(below, _take(buckets.bounds, b - 1), 0.0)
        prior = np.where(below, _take(counts, b - 1), 0.0)
        end = _take(buckets.bounds, b)
        inside = start + (end - start) * ((rank - prior) / (_take(counts, b) - prior))
        first = _take(buckets.bounds, 0)
        result = np.where(b == n - 1, _take(buckets.bounds, n - 2),
                          np.where((b == 0) & (first <= 0), first, inside))
    result = np.where(last_inf & (n >= 2) & (observations != 0), result, np.nan)
    valid_q = ~np.isnan(q) & (q >= 0) & (q <= 1)
    fixes.forced &= valid_q & last_inf
    result = np.where(np.isnan(q), np.nan, np.where(q < 0, -np.inf, np.where(q > 1, np.inf, result)))
    return result, fixes


def bucket_fraction(buckets: Buckets, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """BucketFraction for every group and step; lower and upper are per step."""
    shape = buckets.n.shape
    width = buckets.counts.shape[-1]
    if not width:
        return np.full(shape, np.nan)
    lower = np.broadcast_to(lower[None, :], shape)
    upper = np.broadcast_to(upper[None, :], shape)
    counts, bounds, n = buckets.counts, buckets.bounds, buckets.n
    total = buckets.last(counts)
    rank, lower_rank, upper_rank = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    lower_set, upper_set, done = (np.zeros(shape, dtype=bool) for _ in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(width):
            active = (i < n) & ~done
            low = np.where(bounds[..., 0] <= 0, -np.inf, 0.0) if i == 0 else bounds[..., i - 1]
            high, count = bounds[..., i], counts[..., i]

            def interpolate(v: np.ndarray, low: np.ndarray = low, high: np.ndarray = high,
                            count: np.ndarray = count, rank: np.ndarray = rank) -> np.ndarray:
                return np.where(np.isneginf(low), count, rank + (count - rank) * (v - low) / (high - low))

            hit = active & ~lower_set & (low >= lower)
            lower_rank, lower_set = np.where(hit, rank, lower_rank), lower_set | hit
            hit = active & ~upper_set & (low >= upper)
            upper_rank, upper_set = np.where(hit, rank, upper_rank), upper_set | hit
            finished = active & lower_set & upper_set
            done, active = done | finished, active & ~finished
            hit = active & ~lower_set & (low < lower) & (high > lower)
            lower_rank, lower_set = np.where(hit, interpolate(lower), lower_rank), lower_set | hit
            hit = active & ~upper_set & (low < upper) & (high > upper)
            upper_rank, upper_set = np.where(hit, interpolate(upper), upper_rank), upper_set | hit
            finished = active & lower_set & upper_set
            done, active = done | finished, active & ~finished
            rank = np.where(active, count, rank)
        lower_rank = np.where(~lower_set | (lower_rank > total), total, lower_rank)
        upper_rank = np.where(~upper_set | (upper_rank > total), total, upper_rank)
        result = (upper_rank - lower_rank) / total
    result = np.where(lower >= upper, 0.0, result)
    invalid = ~np.isposinf(buckets.last(bounds)) | (total == 0) | np.isnan(lower) | np.isnan(upper)
    return np.where(invalid, np.nan, result)


def report_monotonicity(buckets: Buckets, fixes: Monotonicity, times: np.ndarray,
                        annotations: Annotations, pos: PosRange | None) -> None:
    """One info per metric name, merged over groups and steps as Prometheus merges them."""
    by_name: dict[str, list[int]] = {}
    for g, key in enumerate(buckets.keys):
        by_name.setdefault(label_value(key, NAME), []).append(g)
    for name, groups in by_name.items():
        forced = fixes.forced[groups]
        if not forced.any():
            continue
        steps = np.flatnonzero(forced.any(axis=0))
        annotations.info(
            f"{notes.forced_monotonicity(name, pos)}, from buckets "
            f"{notes.go_g(float(fixes.min_bucket[groups][forced].min()))} to "
            f"{notes.go_g(float(fixes.max_bucket[groups][forced].max()))}, with a max diff of "
            f"{notes.go_precision_g(float(fixes.max_diff[groups][forced].max()), 2)}, over "
            f"{int(forced.sum())} samples from {_rfc3339(int(times[steps[0]]))} to "
            f"{_rfc3339(int(times[steps[-1]]))}{notes.position(pos)}")


def _rfc3339(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(ms / 1000)))


def result_vector(buckets: Buckets, values: np.ndarray, labels: list[Labels] | None = None) -> Vector:
    present = buckets.n > 0
    out = Vector(labels if labels is not None else buckets.output_labels(), np.where(present, values, 0.0),
                 present)
    keep = np.flatnonzero(present.any(axis=1))
    return merge_same_labels(out.select(keep))


def openmetrics_float(value: float) -> str:
    """labels.FormatOpenMetricsFloat: `1.0`, `0.5`, `1e-05`, `+Inf`, `NaN`."""
    if value == 1:
        return "1.0"
    if value == 0:
        return "0.0"
    if value == -1:
        return "-1.0"
    text = notes.go_g(value)
    if math.isnan(value) or math.isinf(value) or "e" in text or "." in text:
        return text
    return text + ".0"


def quantile_warnings(q: np.ndarray, annotations: Annotations, pos: PosRange | None) -> None:
    """validateQuantile at every step (one warning per distinct text)."""
    for value in np.unique(q[np.isnan(q) | (q < 0) | (q > 1)]):
        annotations.warn(notes.invalid_quantile(float(value), pos))
