"""EvaluateMetricsQuery: PromQL text -> plan -> segments -> time groups -> workers -> evaluation.

For every leaf of the plan: find its segments in the catalog over the leaf's bucket edges, split
them into time groups (`compute_replay_batches`), and push each (leaf, group) to the workers that
own its segments. At most `max(3, workers)` groups are fetched at once. Rows of one leaf from all
groups and workers are combined per (series, bucket), then the expression is evaluated over all
steps as numpy arrays.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lake.catalog import Catalog
from lake.segments import SegmentRecord
from planner import ast, tickets
from planner.groups import compute_replay_batches
from planner.parse import parse
from planner.plan import Evaluation, Leaf, QueryPlan, plan
from query_api.engine.evaluator import Context, Path, evaluate
from query_api.engine.rows import LeafRows
from query_api.engine.values import Annotations, Value
from query_api.fanout import FetchStats, Pushdown, WorkerClients, fetch_group
from query_api.leafdata import partial_rows, raw_rows


@dataclass
class QueryStats:
    segments: int = 0
    bytes: int = 0
    rows: int = 0
    retries: int = 0
    groups: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"segments": self.segments, "bytes": self.bytes, "rows": self.rows,
                "retries": self.retries, "groups": self.groups, "seconds": round(self.seconds, 6)}


@dataclass
class QueryResult:
    value: Value
    times: np.ndarray
    annotations: Annotations
    stats: QueryStats = field(default_factory=QueryStats)


@dataclass
class Fleet:
    """What evaluation needs from the running system."""

    catalog: Catalog
    workers: Callable[[], Sequence[str]]     # current membership snapshot
    ticket_key: str
    lookback_ms: int = 300_000
    clients: WorkerClients = field(default_factory=WorkerClients)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(16, "fletch-doget"))


class _PlanSource:
    def __init__(self, query_plan: QueryPlan, rows: dict[str, LeafRows]) -> None:
        self.plan, self.rows_by_leaf = query_plan, rows

    def rows(self, path: Path, selector: ast.VectorSelector, range_ms: int) -> LeafRows:
        return self.rows_by_leaf[self.plan.leaf_by_path[path]]


def evaluate_query(fleet: Fleet, org: str, query: str | ast.Expr, evaluation: Evaluation,
                   cancelled: Callable[[], bool] = lambda: False) -> QueryResult:
    started = time.perf_counter()
    expr = parse(query) if isinstance(query, str) else query
    query_plan = plan(expr, evaluation)
    workers = tuple(fleet.workers())
    stats = FetchStats()
    leaf_rows = _fetch_leaves(fleet, org, query_plan, workers, stats, cancelled)
    times = np.arange(evaluation.start, evaluation.end + 1, evaluation.step or 1, dtype=np.int64)
    ctx = Context(times, evaluation.start, evaluation.end, evaluation.lookback,
                  _PlanSource(query_plan, leaf_rows), evaluation.subquery_step,
                  query_step_ms=evaluation.step)
    value = evaluate(expr, ctx)
    query_stats = QueryStats(segments=stats.segments, bytes=stats.bytes, rows=stats.rows,
                             retries=stats.retries, seconds=time.perf_counter() - started)
    return QueryResult(value, times, ctx.annotations, query_stats)


def _fetch_leaves(fleet: Fleet, org: str, query_plan: QueryPlan, workers: Sequence[str],
                  stats: FetchStats, cancelled: Callable[[], bool]) -> dict[str, LeafRows]:
    query_id = uuid.uuid4().hex[:12]
    tasks: list[tuple[Leaf, int, Pushdown, list[SegmentRecord]]] = []
    for index, leaf in enumerate(query_plan.leaves):
        if len(leaf.edges) < 2:  # no window to read (a subquery whose grid is empty)
            continue
        segments = fleet.catalog.find_segments(org, leaf.edges[0] + 1, leaf.edges[-1],
                                               _metric_names(leaf))
        matchers = tuple(tickets.Matcher(m.name, m.op.value, m.value) for m in leaf.matchers)
        template = "raw" if leaf.template == "raw" else "partials"
        for group in compute_replay_batches(leaf.edges, segments, max(1, len(workers))):
            edges = tuple(e for e in leaf.edges if group.start <= e <= group.end)
            push = Pushdown(org, template, index, matchers, (group.start, group.end), edges, query_id)
            tasks.append((leaf, group.index, push, [segments[i] for i in group.segments]))
    # Chronological across leaves, so the earliest data is requested first.
    tasks.sort(key=lambda task: (task[2].window[0], task[2].leaf))
    tables: dict[str, list[pa.Table]] = {leaf.id: [] for leaf in query_plan.leaves}
    concurrency = max(3, len(workers))
    abort = threading.Event()  # set when any group fails: the other pushdowns stop too

    def stop() -> bool:
        return abort.is_set() or cancelled()

    with ThreadPoolExecutor(concurrency, "fletch-group") as groups:
        futures = [(leaf.id, groups.submit(fetch_group, push, segs, workers, fleet.ticket_key,
                                           fleet.clients, fleet.pool, stats, stop))
                   for leaf, _, push, segs in tasks]
        try:
            for leaf_id, future in futures:  # in index order: the ordered coordinator
                tables[leaf_id].extend(future.result())
        except BaseException:
            abort.set()
            for _, future in futures:
                future.cancel()
            raise
    rows = {}
    for leaf in query_plan.leaves:
        raw = leaf.template == "raw"
        rows[leaf.id] = raw_rows(tables[leaf.id]) if raw else partial_rows(tables[leaf.id])
    return rows


def _metric_names(leaf: Leaf) -> list[str] | None:
    for matcher in leaf.matchers:
        if matcher.name == "__name__" and matcher.op is ast.MatchOp.EQ:
            return [matcher.value]
    return None


__all__ = ["Fleet", "QueryResult", "evaluate_query"]
