"""Time groups (`compute_replay_batches`): split a query's buckets into disjoint, ordered windows.

Input: the leaf's bucket edges (sorted ms; bucket k is `(edges[k], edges[k+1]]`) and the
segments' time ranges (already shifted into query time). Output: about `worker_count` groups in
chronological index order. Each group is a window `(start, end]` whose ends are bucket edges,
with every segment that overlaps it. A segment crossing a seam is listed in both groups; each
pushdown reads only its group's window, so nothing is counted twice. Runs of buckets no segment
reaches are left out, which splits groups on gaps in the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class TimeRanged(Protocol):
    @property
    def start_ts(self) -> int: ...
    @property
    def end_ts(self) -> int: ...


@dataclass(frozen=True)
class TimeGroup:
    index: int
    start: int          # exclusive: a bucket edge
    end: int            # inclusive: a bucket edge
    segments: tuple[int, ...]   # indices into the segment list given


def compute_replay_batches(edges: Sequence[int], segments: Sequence[TimeRanged],
                           worker_count: int) -> list[TimeGroup]:
    if len(edges) < 2 or not segments:
        return []
    edge_array = np.asarray(edges, dtype=np.int64)
    buckets = len(edge_array) - 1
    starts = np.array([s.start_ts for s in segments], dtype=np.int64)
    ends = np.array([s.end_ts for s in segments], dtype=np.int64)
    # Bucket k holds ts when edges[k] < ts <= edges[k+1]; clip segments to the edge range.
    first = np.clip(np.searchsorted(edge_array, starts, side="left") - 1, 0, buckets - 1)
    last = np.clip(np.searchsorted(edge_array, ends, side="left") - 1, 0, buckets - 1)
    inside = (ends > edge_array[0]) & (starts <= edge_array[-1])
    if not inside.any():
        return []
    coverage = np.zeros(buckets + 1, dtype=np.int64)
    np.add.at(coverage, first[inside], 1)
    np.add.at(coverage, last[inside] + 1, -1)
    covered = np.cumsum(coverage[:-1]) > 0
    load = np.bincount(first[inside], minlength=buckets)  # segments starting in each bucket

    target = max(1, int(np.ceil(inside.sum() / max(1, worker_count))))
    spans: list[tuple[int, int]] = []  # [first bucket, last bucket]
    open_at: int | None = None
    accumulated = 0
    for bucket in range(buckets):
        if not covered[bucket]:
            if open_at is not None:
                spans.append((open_at, bucket - 1))
                open_at, accumulated = None, 0
            continue
        if open_at is None:
            open_at = bucket
        accumulated += int(load[bucket])
        if accumulated >= target and bucket + 1 < buckets and covered[bucket + 1] and load[bucket + 1]:
            spans.append((open_at, bucket))
            open_at, accumulated = None, 0
    if open_at is not None:
        spans.append((open_at, buckets - 1))

    groups = []
    for index, (lo, hi) in enumerate(spans):
        members = np.flatnonzero(inside & (first <= hi) & (last >= lo))
        groups.append(TimeGroup(index=index, start=int(edge_array[lo]), end=int(edge_array[hi + 1]),
                                segments=tuple(int(i) for i in members)))
    return groups
