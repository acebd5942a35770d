"""Scanning a ticket's files piece by piece: time clusters, read in parallel, consumed in order.

Segment files are each sorted by (`__name__`, `__series_id`, `__ts`) and cover one time range
inside one UTC hour. Files whose time ranges overlap (for example two label layouts of the same
hour) form a *cluster*; clusters are disjoint in time, so every sample of one cluster is later than
every sample of the clusters before it. Templates that must emit rows in (bucket end, series)
order therefore reduce and sort one cluster at a time and only carry the buckets a cluster boundary
cuts through, instead of sorting the whole scan.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import TypeVar

import duckdb

from planner.tickets import SegmentRef

A = TypeVar("A")
R = TypeVar("R")


def time_clusters(segments: Sequence[SegmentRef], paths: Sequence[str]) -> list[list[str]]:
    """The local paths grouped into time-disjoint clusters, in time order. `paths` are in the
    order `SegmentStore.open` returns them: segments sorted by (start_ts, segment_id)."""
    ordered = sorted(segments, key=lambda s: (s.start_ts, s.segment_id))
    clusters: list[list[str]] = []
    end = None
    for seg, path in zip(ordered, paths, strict=True):
        if end is None or seg.start_ts > end:
            clusters.append([])
            end = seg.end_ts
        clusters[-1].append(path)
        end = max(end, seg.end_ts)
    return clusters


def ordered_map(fn: Callable[[duckdb.DuckDBPyConnection, A], R], items: Iterable[A],
                cursors: Sequence[duckdb.DuckDBPyConnection], ahead: int = 2) -> Iterator[R]:
    """`fn(cursor, item)` for every item on one thread per cursor, yielded in item order, with at
    most `len(cursors) + ahead` items in flight. Closing the generator interrupts the cursors and
    waits for the threads, so the caller may close the cursors afterwards."""
    free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    for c in cursors:
        free.put(c)

    def task(item: A) -> R:
        cursor = free.get()
        try:
            return fn(cursor, item)
        finally:
            free.put(cursor)

    pool = ThreadPoolExecutor(max_workers=len(cursors), thread_name_prefix="scan")
    pending: list[Future[R]] = []
    done = False
    try:
        it = iter(items)
        while True:
            while not done and len(pending) < len(cursors) + ahead:
                try:
                    pending.append(pool.submit(task, next(it)))
                except StopIteration:
                    done = True
            if not pending:
                break
            yield pending.pop(0).result()
        done = True
    finally:
        if not done or pending:
            for f in pending:
                f.cancel()
            for c in cursors:
                with suppress(duckdb.Error):  # closed already
                    c.interrupt()
        pool.shutdown(wait=True, cancel_futures=True)
