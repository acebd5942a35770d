"""Grouping series for aggregations: group keys in first-appearance order, and members laid out
as [groups, steps, members] so per-group recurrences run in lockstep."""

from __future__ import annotations

import numpy as np

from query_api.engine.values import Labels, Vector


def group_labels(labels: Labels, grouping: tuple[str, ...], without: bool) -> Labels:
    if without:
        drop = {*grouping, "__name__"}
        return tuple(item for item in labels if item[0] not in drop)
    keep = set(grouping)
    return tuple(item for item in labels if item[0] in keep)


def groups(vector: Vector, grouping: tuple[str, ...], without: bool) -> tuple[list[Labels], np.ndarray]:
    index: dict[Labels, int] = {}
    ids = np.empty(len(vector.labels), dtype=np.int64)
    for i, labels in enumerate(vector.labels):
        ids[i] = index.setdefault(group_labels(labels, grouping, without), len(index))
    return list(index), ids


def members(vector: Vector, ids: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values and presence as [groups, steps, members] (members in series order), and each
    series' member position."""
    order = np.argsort(ids, kind="stable")
    sizes = np.bincount(ids, minlength=count)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = np.empty(len(ids), dtype=np.int64)
    position[order] = np.arange(len(ids)) - starts[ids[order]]
    width = int(sizes.max()) if len(sizes) else 0
    values = np.zeros((count, vector.steps, width))
    valid = np.zeros((count, vector.steps, width), dtype=bool)
    values[ids, :, position] = vector.values
    valid[ids, :, position] = vector.present
    return values, valid, position
