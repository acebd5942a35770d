"""Aggregation operators over series groups, every step at once."""

from __future__ import annotations

import numpy as np

from planner.errors import NotSupported
from query_api.engine.values import Labels, Vector, make_labels


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


def aggregate(op: str, vector: Vector, grouping: tuple[str, ...], without: bool,
              param: np.ndarray | None = None) -> Vector:
    keys, ids = _groups(vector, grouping, without)
    groups, steps = len(keys), vector.steps
    present = vector.present
    values = np.where(present, vector.values, 0.0)
    count = np.zeros((groups, steps))
    np.add.at(count, ids, present.astype(np.float64))
    any_present = count > 0
    if op == "count":
        result = count
    elif op == "group":
        result = np.ones((groups, steps))
    elif op == "sum":
        result = _sum(values, ids, groups, steps)
    elif op == "avg":
        with np.errstate(invalid="ignore", divide="ignore"):
            result = _sum(values, ids, groups, steps) / np.maximum(count, 1)
    elif op in ("min", "max"):
        result = np.full((groups, steps), np.nan)
        masked = np.where(present, vector.values, np.nan)
        (np.fmin if op == "min" else np.fmax).at(result, ids, masked)
    elif op in ("stddev", "stdvar"):
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = _sum(values, ids, groups, steps) / np.maximum(count, 1)
            deviation = np.where(present, vector.values - mean[ids], 0.0)
            squares = np.zeros((groups, steps))
            np.add.at(squares, ids, deviation * deviation)
            result = squares / np.maximum(count, 1)
        if op == "stddev":
            result = np.sqrt(result)
    elif op == "quantile":
        assert param is not None
        result = _quantile(vector, ids, groups, param)
    else:
        raise NotSupported(f"aggregation {op!r} is not supported yet")
    return Vector(keys, np.where(any_present, result, 0.0), any_present)


def _sum(values: np.ndarray, ids: np.ndarray, groups: int, steps: int) -> np.ndarray:
    total = np.zeros((groups, steps))
    np.add.at(total, ids, values)
    return total


def _quantile(vector: Vector, ids: np.ndarray, groups: int, q: np.ndarray) -> np.ndarray:
    result = np.full((groups, vector.steps), np.nan)
    for g in range(groups):
        members = np.flatnonzero(ids == g)
        block = np.where(vector.present[members], vector.values[members], np.nan)
        for t in range(vector.steps):
            column = np.sort(block[:, t][vector.present[members, t]])
            result[g, t] = _quantile_of(column, float(q[t]))
    return result


def _quantile_of(ordered: np.ndarray, q: float) -> float:
    if len(ordered) == 0 or np.isnan(q):
        return float("nan")
    if q < 0:
        return float("-inf")
    if q > 1:
        return float("inf")
    rank = q * (len(ordered) - 1)
    low = int(np.floor(rank))
    high = min(low + 1, len(ordered) - 1)
    weight = rank - low
    return float(ordered[low] * (1 - weight) + ordered[high] * weight)


__all__ = ["aggregate", "group_labels", "make_labels"]
