"""Aggregation operators over series groups, every step at once.

Members of each group are laid out as a [groups, steps, members] array, so Prometheus's
order-dependent recurrences (compensated sums, incremental means, Welford variance) run in
lockstep across groups and steps.
"""

from __future__ import annotations

import numpy as np

from planner.errors import NotSupported, QueryError
from query_api.engine import numeric
from query_api.engine.values import Annotations, Labels, Scalar, Value, Vector


def group_labels(labels: Labels, grouping: tuple[str, ...], without: bool) -> Labels:
    if without:
        drop = {*grouping, "__name__"}
        return tuple(item for item in labels if item[0] not in drop)
    keep = set(grouping)
    return tuple(item for item in labels if item[0] in keep)


def _groups(vector: Vector, grouping: tuple[str, ...], without: bool) -> tuple[list[Labels], np.ndarray]:
    index: dict[Labels, int] = {}
    ids = np.empty(len(vector.labels), dtype=np.int64)
    for i, labels in enumerate(vector.labels):
        ids[i] = index.setdefault(group_labels(labels, grouping, without), len(index))
    return list(index), ids


def _members(vector: Vector, ids: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and presence as [groups, steps, members] (members in series order)."""
    order = np.argsort(ids, kind="stable")
    sizes = np.bincount(ids, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = np.empty(len(ids), dtype=np.int64)
    position[order] = np.arange(len(ids)) - starts[ids[order]]
    width = int(sizes.max()) if len(sizes) else 0
    values = np.zeros((groups, vector.steps, width))
    valid = np.zeros((groups, vector.steps, width), dtype=bool)
    values[ids, :, position] = vector.values
    valid[ids, :, position] = vector.present
    return values, valid


def aggregate(op: str, vector: Vector, grouping: tuple[str, ...], without: bool,
              param: Value | None = None, annotations: Annotations | None = None) -> Vector:
    keys, ids = _groups(vector, grouping, without)
    groups = len(keys)
    values, valid = _members(vector, ids, groups)
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
            result = numeric.variance(values, valid, compensate_aux=False)
            if op == "stddev":
                result = np.sqrt(result)
        elif op == "quantile":
            q = _scalar_param(param, op)
            result = numeric.quantile(values, valid, np.broadcast_to(q[None, :], count.shape))
        else:
            raise NotSupported(f"aggregation {op!r} is not supported yet")
    return Vector(keys, np.where(any_present, result, 0.0), any_present)


def _scalar_param(param: Value | None, op: str) -> np.ndarray:
    if not isinstance(param, Scalar):
        raise QueryError(f"expected a scalar parameter for {op}")
    return param.values
