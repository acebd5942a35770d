"""Aggregation operators over series groups, every step at once.

Members of each group are laid out as a [groups, steps, members] array, so Prometheus's
order-dependent recurrences (compensated sums, incremental means, Welford variance) run in
lockstep across groups and steps. The aggregations that select series (topk, bottomk, limitk,
limit_ratio) and count_values live in `aggregate_k`.
"""

from __future__ import annotations

import numpy as np

from planner.ast import PosRange
from planner.errors import NotSupported
from query_api.engine import aggregate_k, numeric
from query_api.engine import annotations as notes
from query_api.engine.grouping import group_labels, groups, members
from query_api.engine.values import Annotations, Value, Vector

__all__ = ["aggregate", "group_labels"]

SELECTING = ("topk", "bottomk", "limitk")


def aggregate(op: str, vector: Vector, grouping: tuple[str, ...], without: bool,
              param: Value | None = None, annotations: Annotations | None = None,
              param_pos: PosRange | None = None) -> Vector:
    """`param_pos` is the parameter's position, for the annotations that name it."""
    if op == "count_values":
        return aggregate_k.count_values(vector, param, grouping, without)
    if op == "limit_ratio":
        ratio = aggregate_k.ratio_values(param, annotations, param_pos)
        return Vector.empty(vector.steps) if ratio is None else aggregate_k.select_ratio(vector, ratio)
    if op in SELECTING:
        k = aggregate_k.k_values(param, op, len(vector.labels))
        if k is None:
            return Vector.empty(vector.steps)
    keys, ids = groups(vector, grouping, without)
    values, valid, position = members(vector, ids, len(keys))
    if op in SELECTING:
        return aggregate_k.select_k(op, vector, ids, values, valid, position, k)
    count = valid.sum(axis=-1).astype(np.float64)
    any_present = count > 0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if op == "count":
            result = count
        elif op == "group":
            result = np.ones(count.shape)
        elif op == "sum":
            result = numeric.kahan_sum(values, valid)
        elif op == "avg":
            result = numeric.mean(values, valid)
        elif op in ("min", "max"):
            masked = np.where(valid, values, np.nan)
            reduce = np.fmin.reduce if op == "min" else np.fmax.reduce
            result = reduce(masked, axis=-1) if masked.shape[-1] else np.full(count.shape, np.nan)
        elif op in ("stddev", "stdvar"):
            result = numeric.variance(values, valid, compensate_aux=False, compensate_mean=False)
            if op == "stddev":
                result = np.sqrt(result)
        elif op == "quantile":
            q = aggregate_k.scalar_param(param, op)
            _quantile_warnings(q, annotations, param_pos)
            result = numeric.quantile(values, valid, np.broadcast_to(q[None, :], count.shape))
        else:
            raise NotSupported(f"aggregation {op!r} is not supported yet")
    return Vector(keys, np.where(any_present, result, 0.0), any_present)


def _quantile_warnings(q: np.ndarray, annotations: Annotations | None, pos: PosRange | None) -> None:
    if annotations is None or not len(q):
        return
    if np.isnan(q).any():
        annotations.warn(notes.invalid_quantile(float("nan"), pos))
        return
    if q.max() > 1:
        annotations.warn(notes.invalid_quantile(float(q.max()), pos))
    if q.min() < 0:
        annotations.warn(notes.invalid_quantile(float(q.min()), pos))
