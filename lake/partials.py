"""Mergeable per-(series, bucket) partials (ARCHITECTURE.md section 4), computed on sorted runs.

DuckDB scans, filters and projects `(__series_id, __ts, __value)`; this module reduces the rows.
Segment files are sorted by (`__name__`, `__series_id`, `__ts`), so the scan yields long *runs*:
maximal stretches of rows with the same series and bucket and strictly increasing time
(`run_bounds`). The worker first puts the runs in output order -- (bucket, series), then time --
and `reduce_runs` reduces them in that order: in *lockstep* (one numpy pass per position inside a
run, over all runs at once; a shorter run repeats its last row, which sums skip and which changes
no min, max, last or pair statistic) when runs are short (at 1-minute buckets they hold ~4
samples, where `reduceat` pays mostly its per-run overhead), else with `reduceat` in row order.
Either way each output column is gathered once, already in order. Runs of the same
(series, bucket) -- a bucket that straddles two hourly files -- are then merged with the
associative merge below.
That is exact as long as runs of one key do not overlap in time; `merge_runs` checks it and raises
`OverlappingRuns` otherwise (the worker then re-reads that time cluster of files with `ORDER BY`).
The worker reduces one time cluster of files at a time (`flight_worker.scan`) and merges only the
buckets a cluster boundary cuts through (`append_later`), so nothing is sorted or gathered
globally. Measured on the loaded 2-core box (bench/worker/run.py, 20 M samples, 5 M output rows):
59-70 % of a plain DuckDB `GROUP BY count/sum/min/max` in process, depending on the load (about
50 % with `reduceat` everywhere, 10 % before clusters); the partials take ~1.4x the CPU of that
GROUP BY (2.7-2.9 CPU-s against ~2.0), about a third of it in the reduction.

Fields (buckets are `(a, b]`; "samples" never include stale markers; `t` is seconds since
`ref_ts`, i.e. `(ts - ref_ts) / 1000`):

* `count`: samples. Rows with `count = 0` exist only to carry `last_stale_ts`.
* `sum`: compensated sum (a float64 pass, plus the sum of the deviations from its mean: the
  corrected two-pass algorithm, which also gives `m2`).
* `min`, `max`: NaN values are ignored unless every sample is NaN (Prometheus `min_over_time`).
* `first_ts/first_value`, `last_ts/last_value`, `prev_ts/prev_value` (the sample before last;
  null when `count < 2`).
* `resets`: pairs of consecutive samples with `cur < prev`; `reset_sum`: the sum of those `prev`
  values; `increase = last_value - first_value + reset_sum` (Prometheus's counter correction,
  in its own order of operations). `changes`: pairs with `cur != prev` (NaN to NaN is no change).
  All three only count pairs inside the bucket: the consumer adds the pair between the last
  sample of one bucket and the first of the next.
* `sum_t`, `sum_t2`, `sum_tv`: moments for Prometheus's `linearRegression`, shifted to any
  intercept time with the binomial identities.
* `m2`: sum of squared deviations from the bucket mean (count times `stdvar_over_time`); merge
  with Chan's rule: `m2 = m2a + m2b + (mean_b - mean_a)^2 * na * nb / n`.
* `last_stale_ts`: time of the latest staleness marker in the bucket (null if none), so an
  instant selector can tell that a series went stale after its last sample.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from lake.schema import STALE_NAN_BITS

Runs = dict[str, np.ndarray]

SAMPLE_FIELDS = ("count", "sum", "sum_c", "min", "max", "first_ts", "first_value", "last_ts", "last_value",
                 "prev_ts", "prev_value", "increase", "reset_sum", "resets", "changes",
                 "sum_t", "sum_t2", "sum_tv", "m2")
INT_FIELDS = frozenset({"count", "first_ts", "last_ts", "prev_ts", "resets", "changes",
                        "last_stale_ts"})
ALL_FIELDS = (*SAMPLE_FIELDS, "last_stale_ts")
NO_TS = np.iinfo(np.int64).min


class OverlappingRuns(Exception):
    """Two runs of one (series, bucket) overlap in time: the rows need a global sort."""


class Buckets:
    """Maps timestamps to bucket indexes: index k means bucket `(edges[k-1], edges[k]]`."""

    def __init__(self, edges: Sequence[int]) -> None:
        self.edges = np.asarray(edges, dtype=np.int64)
        steps = np.diff(self.edges)
        self.step = int(steps[0]) if len(steps) and (steps == steps[0]).all() else 0

    def index(self, ts: np.ndarray) -> np.ndarray:
        if self.step:  # a regular grid: integer arithmetic (ceil division), no search
            return (ts - self.edges[0] + (self.step - 1)) // self.step
        return np.searchsorted(self.edges, ts, side="left")

    def end(self, index: np.ndarray) -> np.ndarray:
        return self.edges[index]


F = TypeVar("F", bound=Callable[..., Any])


def _quiet_float(function: F) -> F:
    """Samples may be ±Inf or NaN: IEEE results (NaN from Inf - Inf) are what Prometheus computes
    too, so the arithmetic runs without numpy's warnings."""
    @functools.wraps(function)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return function(*args, **kwargs)
    return quiet  # type: ignore[return-value]


def stale_mask(values: np.ndarray) -> np.ndarray:
    """Prometheus staleness markers, by exact bit pattern (ordinary NaNs are real samples)."""
    return values.view(np.uint64) == np.uint64(STALE_NAN_BITS)


def run_bounds(sid: np.ndarray, bucket: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First row and length of every run (equal sid and bucket, rising ts), in row order."""
    n = len(ts)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sid[1:], sid[:-1], out=new[1:])
    new[1:] |= bucket[1:] != bucket[:-1]
    new[1:] |= ts[1:] <= ts[:-1]
    starts = np.flatnonzero(new)
    return starts, np.diff(starts, append=n)


# Runs are reduced in lockstep (one numpy pass per position in a run, over all runs at once) when
# the longest run is at most this long and padding every run to it at most doubles the rows;
# otherwise with `reduceat`, which pays a per-run overhead instead.
LOCKSTEP_POSITIONS = 64


@_quiet_float
def reduce_runs(sid: np.ndarray, bucket: np.ndarray, ts: np.ndarray, v: np.ndarray, ref_ts: int,
                runs: tuple[np.ndarray, np.ndarray] | None = None) -> Runs:
    """Partials per run of rows (no stale markers) with equal (sid, bucket) and rising ts.

    `runs` is `run_bounds(sid, bucket, ts)` in any order (the output follows it); by default all
    runs in row order."""
    starts, count = run_bounds(sid, bucket, ts) if runs is None else runs
    if len(starts) == 0:
        return empty_runs()
    longest = int(count.max())
    if longest > LOCKSTEP_POSITIONS or longest * len(starts) > 2 * len(ts):
        return _reduceat_runs(sid, bucket, ts, v, ref_ts, starts, count)
    return _lockstep_runs(sid, bucket, ts, v, ref_ts, starts, count, longest)


def _lockstep_runs(sid: np.ndarray, bucket: np.ndarray, ts: np.ndarray, v: np.ndarray, ref_ts: int,
                   starts: np.ndarray, count: np.ndarray, longest: int) -> Runs:
    """Partials of runs in the order given, one vectorized step per position in the runs, adding
    in the same (sequential) order as the `reduceat` path. A run shorter than `longest` repeats
    its last row: that changes no min, max, last or pair statistic, and sums skip it."""
    m = len(starts)
    shortest = int(count.min())
    last = count - 1

    def at(k: int) -> np.ndarray:
        return starts + k if k < shortest else starts + np.minimum(k, last)

    rows = [at(k) for k in range(longest)]
    alive = [None if k < shortest else count > k for k in range(longest)]
    vs = [v[r] for r in rows]
    special = not bool(np.isfinite(v).all())  # NaN or ±Inf: the slower, careful operations
    total = vs[0].copy()
    for x, where in zip(vs[1:], alive[1:], strict=True):
        np.add(total, x, out=total, where=True if where is None else where)
    mean = total / count
    correction, m2 = np.zeros(m), np.zeros(m)
    low, high = vs[0].copy(), vs[0].copy()
    # pair counts fit in a byte (a run holds at most LOCKSTEP_POSITIONS rows): adding bytes to
    # bytes is several times faster than adding booleans to int64
    reset_sum, resets, changes = np.zeros(m), np.zeros(m, np.uint8), np.zeros(m, np.uint8)
    sum_t, sum_t2, sum_tv = np.zeros(m), np.zeros(m), np.zeros(m)
    # scratch buffers, reused at every position (fresh temporaries cost page faults)
    dev, t, scratch = np.empty(m), np.empty(m), np.empty(m)
    stamp, flag = np.empty(m, np.int64), np.empty(m, dtype=bool)
    for k, (x, r, where) in enumerate(zip(vs, rows, alive, strict=True)):
        w = True if where is None else where
        np.subtract(x, mean, out=dev)
        np.add(correction, dev, out=correction, where=w)
        np.multiply(dev, dev, out=dev)
        np.add(m2, dev, out=m2, where=w)
        np.take(ts, r, out=stamp)
        np.copyto(t, stamp)  # == (ts - ref_ts) / 1000.0: integers below 2**53 are exact in
        t -= ref_ts           # float64, and so is their difference
        t /= 1000.0
        np.add(sum_t, t, out=sum_t, where=w)
        np.multiply(t, x, out=scratch)
        np.add(sum_tv, scratch, out=sum_tv, where=w)
        np.multiply(t, t, out=t)
        np.add(sum_t2, t, out=sum_t2, where=w)
        if k == 0:
            continue
        (np.fmin if special else np.minimum)(low, x, out=low)
        (np.fmax if special else np.maximum)(high, x, out=high)
        before = vs[k - 1]  # a repeated last row pairs with itself: no reset, no change
        np.less(x, before, out=flag)
        resets += flag.view(np.uint8)
        if special:
            reset_sum += np.where(flag, before, 0.0)
        else:  # the same without branches: before * 0 is ±0 for finite values
            np.multiply(before, flag, out=scratch)
            reset_sum += scratch
        np.not_equal(x, before, out=flag)
        if special:  # NaN to NaN is no change
            flag &= ~(np.isnan(x) & np.isnan(before))
        changes += flag.view(np.uint8)
    finite = np.isfinite(correction)  # an infinite first pass keeps its value (inf - inf = NaN)
    total = np.where(finite, total + correction, total)
    m2 -= np.where(finite, correction * correction / count, 0.0)
    # sum(|v|) <= count * max(|v|): only runs that bound lets through can be ill-conditioned
    bound = np.maximum(np.abs(low), np.abs(high))
    bound *= count
    maybe = np.flatnonzero(~(bound <= _ILL_CONDITIONED / 2 * np.abs(total)))
    magnitude = _abs_sums(v, starts[maybe], count[maybe])
    total, compensation = _compensate(v, starts, count, total, magnitude, maybe)
    has_prev = count >= 2
    prev = starts + np.maximum(count - 2, 0)
    first, final = rows[0], rows[-1]
    return {
        "sid": sid[first], "bucket": bucket[first], "count": count,
        "sum": total, "sum_c": compensation, "min": low, "max": high,
        "first_ts": ts[first], "first_value": vs[0], "last_ts": ts[final], "last_value": vs[-1],
        "prev_ts": np.where(has_prev, ts[prev], NO_TS), "prev_value": np.where(has_prev, v[prev], np.nan),
        "reset_sum": reset_sum, "resets": resets.astype(np.int64), "changes": changes.astype(np.int64),
        "sum_t": sum_t, "sum_t2": sum_t2, "sum_tv": sum_tv, "m2": m2,
    }


def _reduceat_runs(sid: np.ndarray, bucket: np.ndarray, ts: np.ndarray, v: np.ndarray, ref_ts: int,
                   starts: np.ndarray, count: np.ndarray) -> Runs:
    """Partials of runs of any lengths, with one `reduceat` pass per field (in row order)."""
    placed = stable_order(starts)
    if placed is not None:
        rows = _reduceat_runs(sid, bucket, ts, v, ref_ts, starts[placed], count[placed])
        out: Runs = {}
        for name, col in rows.items():
            out[name] = np.empty_like(col)
            out[name][placed] = col
        return out
    n = len(ts)
    new = np.zeros(n, dtype=bool)
    new[starts] = True
    last = starts + count - 1
    has_prev = count >= 2
    prev = last - has_prev

    # Pair statistics, indexed by the later sample of the pair (index 0 and run starts: none).
    cur, before = v[1:], v[:-1]
    in_run = ~new
    reset = np.zeros(n, dtype=bool)
    np.less(cur, before, out=reset[1:])
    reset &= in_run
    changed = np.zeros(n, dtype=bool)
    np.not_equal(cur, before, out=changed[1:])
    changed[1:] &= ~(np.isnan(cur) & np.isnan(before))  # NaN to NaN is no change
    changed &= in_run
    reset_prev = np.zeros(n)
    np.copyto(reset_prev[1:], before, where=reset[1:])

    t = (ts - ref_ts) / 1000.0
    total, m2 = _sum_and_m2(v, starts, count)
    total, compensation = _compensate(v, starts, count, total, np.add.reduceat(np.abs(v), starts))
    return {
        "sid": sid[starts], "bucket": bucket[starts], "count": count,
        "sum": total, "sum_c": compensation,
        "min": np.fmin.reduceat(v, starts), "max": np.fmax.reduceat(v, starts),
        "first_ts": ts[starts], "first_value": v[starts], "last_ts": ts[last], "last_value": v[last],
        "prev_ts": np.where(has_prev, ts[prev], NO_TS), "prev_value": np.where(has_prev, v[prev], np.nan),
        "reset_sum": np.add.reduceat(reset_prev, starts),
        "resets": np.add.reduceat(reset, starts, dtype=np.int64),
        "changes": np.add.reduceat(changed, starts, dtype=np.int64),
        "sum_t": np.add.reduceat(t, starts), "sum_t2": np.add.reduceat(t * t, starts),
        "sum_tv": np.add.reduceat(t * v, starts), "m2": m2,
    }


# Runs whose values cancel this much (sum of |v| over |sum|) are re-summed sequentially.
_ILL_CONDITIONED = 1e6


def _abs_sums(v: np.ndarray, starts: np.ndarray, count: np.ndarray) -> np.ndarray:
    """sum(|v|) of each run, adding in order."""
    out = np.zeros(len(starts))
    for k in range(int(count.max()) if len(count) else 0):
        alive = np.flatnonzero(count > k)
        out[alive] += np.abs(v[starts[alive] + k])
    return out


def _compensate(v: np.ndarray, starts: np.ndarray, count: np.ndarray, total: np.ndarray,
                magnitude: np.ndarray, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Prometheus sums a window sample by sample with Neumaier's compensation (kahanSumInc). Where
    a run's values cancel (e.g. 1, 1e100, 1, -1e100) the two-pass sum loses what that keeps, so
    such runs are summed the same way, and the compensation travels in `sum_c` so buckets can be
    combined without losing it. `magnitude` is sum(|v|) of the runs `among` (default: all)."""
    compensation = np.zeros(len(starts))
    of = total if among is None else total[among]
    ill = np.flatnonzero(np.isfinite(magnitude) & (magnitude > _ILL_CONDITIONED * np.abs(of)))
    if among is not None:
        ill = among[ill]
    if len(ill):
        sums, comps = neumaier_runs(v, starts[ill], count[ill])
        total = total.copy()
        total[ill], compensation[ill] = sums, comps
    return total, compensation


def neumaier_runs(v: np.ndarray, starts: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sequential compensated sums of the runs `v[starts[i]:starts[i]+count[i]]`, all runs in
    lockstep: (sum, compensation), as Prometheus's kahanSumInc leaves them."""
    total = np.zeros(len(starts))
    compensation = np.zeros(len(starts))
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(int(count.max()) if len(count) else 0):
            alive = np.flatnonzero(count > k)
            increment = v[starts[alive] + k]
            old = total[alive]
            new = old + increment
            bigger = np.abs(old) >= np.abs(increment)
            delta = np.where(bigger, (old - new) + increment, (increment - new) + old)
            compensation[alive] = np.where(np.isinf(new), 0.0, compensation[alive] + delta)
            total[alive] = new
    return total, compensation


@_quiet_float
def _sum_and_m2(v: np.ndarray, starts: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compensated sums and squared deviations per run (the corrected two-pass algorithm): the
    deviations from the first-pass mean sum to the rounding error of the first pass, which is
    added back; the same deviations give `m2` (minus the correction's own share)."""
    first = np.add.reduceat(v, starts)
    dev = v - np.repeat(first / count, count)
    correction = np.add.reduceat(dev, starts)
    m2 = np.add.reduceat(dev * dev, starts)
    finite = np.isfinite(correction)  # an infinite first pass keeps its value (inf - inf = NaN)
    total = np.where(finite, first + correction, first)
    m2 -= np.where(finite, correction * correction / count, 0.0)
    return total, m2


def _pad(pairs: np.ndarray) -> np.ndarray:
    """Pair values indexed by the later sample of the pair (0 at index 0)."""
    return np.concatenate((np.zeros(1, dtype=pairs.dtype), pairs))


def empty_runs() -> Runs:
    runs: Runs = {"sid": np.empty(0, np.int64), "bucket": np.empty(0, np.int64)}
    for name in SAMPLE_FIELDS:
        if name != "increase":
            runs[name] = np.empty(0, np.int64 if name in INT_FIELDS else np.float64)
    return runs


def concat_runs(parts: list[Runs]) -> Runs:
    if not parts:
        return empty_runs()
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


@_quiet_float
def merge_runs(runs: Runs, key: np.ndarray) -> Runs:
    """One row per key, sorted by key; adds `increase`.

    `key` orders the output: the caller passes `bucket * n_series + series rank`, so the result
    is in (bucket end, series id) order. Runs of one key keep their order in `runs`, which must
    be time order (`OverlappingRuns` otherwise). Only keys with several runs go through the
    merge; the others are copied.
    """
    order = stable_order(key)
    r = dict(runs) if order is None else {name: col[order] for name, col in runs.items()}
    r["key"] = key if order is None else key[order]
    n = len(r["key"])
    if n:
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(r["key"][1:], r["key"][:-1], out=new[1:])
        if not new.all():
            in_multi = ~(new & np.append(new[1:], True))  # rows of keys with several runs
            merged = _merge_sorted({name: col[in_multi] for name, col in r.items()})
            at = (np.cumsum(new) - 1)[new & in_multi]  # their rows in the output
            r = {name: col[new] for name, col in r.items()}
            for name, col in r.items():
                col[at] = merged[name]
    r["increase"] = r["last_value"] - r["first_value"] + r["reset_sum"]
    return r


def stable_order(key: np.ndarray) -> np.ndarray | None:
    """The stable sorting permutation of `key`, or None when it is sorted already. Ties are broken
    by position inside one unique int64 when that fits (an unstable sort is several times faster
    than numpy's stable one for int64)."""
    n = len(key)
    if n < 2 or bool((key[1:] >= key[:-1]).all()):
        return None
    lo = int(key.min())
    if (int(key.max()) - lo + 1) * n < 1 << 62:
        return np.argsort((key - lo) * n + np.arange(n))
    return np.argsort(key, kind="stable")


def order_by(key: np.ndarray, ts: np.ndarray) -> np.ndarray | None:
    """The permutation sorting by (key, ts), or None when that is the order already."""
    n = len(key)
    if n < 2:
        return None
    k0, t0 = int(key.min()), int(ts.min())
    t_span = int(ts.max()) - t0 + 1
    if (int(key.max()) - k0 + 1) * t_span < 1 << 62:
        packed = (key - k0) * t_span + (ts - t0)
        return None if bool((packed[1:] >= packed[:-1]).all()) else np.argsort(packed)
    return np.lexsort((ts, key))


@_quiet_float
def _merge_sorted(r: Runs) -> Runs:
    """Merge runs sorted by key (each key here has several runs) into one row per key."""
    n = len(r["key"])
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(r["key"][1:], r["key"][:-1], out=new[1:])
    joined = ~new[1:]  # run j+1 continues the key of run j
    if (joined & (r["first_ts"][1:] <= r["last_ts"][:-1])).any():
        raise OverlappingRuns("runs of one series and bucket overlap in time")
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    last = ends - 1
    a, b = r["last_value"][:-1], r["first_value"][1:]
    x_reset = joined & (b < a)
    x_changed = joined & ~((a == b) | (np.isnan(a) & np.isnan(b)))

    def total(name: str, extra: np.ndarray | None = None) -> np.ndarray:
        col = r[name] if extra is None else r[name] + _pad(extra)
        return np.add.reduceat(col, starts)

    count = total("count")
    sums, carried = neumaier_runs(r["sum"], starts, ends - starts)
    sum_c = total("sum_c") + carried
    group_mean = np.repeat(sums / count, ends - starts)
    run_mean = r["sum"] / r["count"]
    last_has_prev = r["count"][last] >= 2
    before_last = np.maximum(last - 1, 0)
    single = (ends - starts) == 1
    no_prev = single & ~last_has_prev
    out: Runs = {
        "key": r["key"][starts], "sid": r["sid"][starts], "bucket": r["bucket"][starts],
        "count": count, "sum": sums, "sum_c": sum_c,
        "min": np.fmin.reduceat(r["min"], starts), "max": np.fmax.reduceat(r["max"], starts),
        "first_ts": r["first_ts"][starts], "first_value": r["first_value"][starts],
        "last_ts": r["last_ts"][last], "last_value": r["last_value"][last],
        # The sample before last: inside the last run, else the previous run's last sample.
        "prev_ts": np.where(last_has_prev, r["prev_ts"][last],
                            np.where(no_prev, NO_TS, r["last_ts"][before_last])),
        "prev_value": np.where(last_has_prev, r["prev_value"][last],
                               np.where(no_prev, np.nan, r["last_value"][before_last])),
        "reset_sum": total("reset_sum", np.where(x_reset, a, 0.0)),
        "resets": total("resets", x_reset.astype(np.int64)),
        "changes": total("changes", x_changed.astype(np.int64)),
        "sum_t": total("sum_t"), "sum_t2": total("sum_t2"), "sum_tv": total("sum_tv"),
        "m2": np.add.reduceat(r["m2"] + r["count"] * (run_mean - group_mean) ** 2, starts),
    }
    out["increase"] = out["last_value"] - out["first_value"] + out["reset_sum"]
    return out


def empty_merged() -> Runs:
    """What `merge_runs` returns for no rows."""
    return merge_runs(empty_runs(), np.empty(0, np.int64))


def split_below(runs: Runs, bucket: int) -> tuple[Runs, Runs]:
    """Rows sorted by key (so by bucket) split into those with a bucket below `bucket` and the rest."""
    at = int(np.searchsorted(runs["bucket"], bucket, side="left"))
    return {k: c[:at] for k, c in runs.items()}, {k: c[at:] for k, c in runs.items()}


def append_later(pending: Runs, new: Runs) -> list[Runs]:
    """Merged partials (sorted by key) followed by merged partials of strictly later samples,
    as chunks sorted by key one after the other: the keys both have are merged."""
    if not len(pending["key"]):
        return [new]
    h = int(np.searchsorted(new["key"], pending["key"][-1], side="right"))
    both = {k: np.concatenate((pending[k], new[k][:h])) for k in pending if k != "key"}
    merged = merge_runs(both, np.concatenate((pending["key"], new["key"][:h])))
    return [merged, {k: c[h:] for k, c in new.items()}]


def concat_sorted(chunks: list[Runs]) -> Runs:
    """Chunks sorted by key one after the other, as one."""
    if len(chunks) == 1:
        return chunks[0]
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def append_stale(pending: Runs, new: Runs) -> Runs:
    """`latest_stale` over two results of it."""
    if not len(new["key"]):
        return pending
    if not len(pending["key"]):
        return new
    both = {k: np.concatenate((pending[k], new[k])) for k in pending}
    return latest_stale(both["key"], both["sid"], both["bucket"], both["last_stale_ts"])


def latest_stale(key: np.ndarray, sid: np.ndarray, bucket: np.ndarray, ts: np.ndarray) -> Runs:
    """The latest stale-marker time per key, sorted by key."""
    order = np.lexsort((ts, key))
    key, sid, bucket, ts = key[order], sid[order], bucket[order], ts[order]
    last = np.append(key[1:] != key[:-1], True) if len(key) else np.empty(0, dtype=bool)
    return {"key": key[last], "sid": sid[last], "bucket": bucket[last], "last_stale_ts": ts[last]}


def attach_stale(samples: Runs, stale: Runs) -> Runs:
    """Outer-join the stale-marker times onto the merged sample partials (both sorted by key)."""
    n = len(samples["key"])
    last_stale = np.full(n, NO_TS, dtype=np.int64)
    pos = np.searchsorted(samples["key"], stale["key"])
    found = pos < n
    found[found] = samples["key"][pos[found]] == stale["key"][found]
    last_stale[pos[found]] = stale["last_stale_ts"][found]
    samples["last_stale_ts"] = last_stale
    missing = ~found
    if not missing.any():
        return samples
    m = int(missing.sum())
    extra: Runs = {name: stale[name][missing] for name in ("key", "sid", "bucket", "last_stale_ts")}
    for name in SAMPLE_FIELDS:
        extra[name] = (np.zeros(m, np.int64) if name in ("count", "resets", "changes")
                       else np.full(m, NO_TS, np.int64) if name in INT_FIELDS else np.full(m, np.nan))
    merged = {name: np.concatenate((samples[name], extra[name])) for name in samples}
    order = np.argsort(merged["key"], kind="stable")
    return {name: col[order] for name, col in merged.items()}
