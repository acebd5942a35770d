"""EvaluateMetricsQuery: PromQL text -> plan -> segments -> time groups -> workers -> EvalFlow.

For every leaf of the plan: find its segments in the catalog over the leaf's bucket edges, split
them into time groups (`compute_replay_batches`), and push each (leaf, group) to the workers that
own its segments. At most `max(3, workers)` groups stream at once, and groups are handed on in
chronological order. Rows of one leaf from all groups and workers are combined per (series,
bucket); as soon as every leaf has the data a run of steps needs, that block of steps is
evaluated as numpy arrays and its result emitted (see `query_api/blocks.py`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from lake.catalog import Catalog
from lake.partials import SAMPLE_FIELDS
from lake.segments import SegmentRecord
from planner import ast, tickets
from planner.errors import InternalError
from planner.groups import compute_replay_batches
from planner.parse import parse
from planner.plan import Evaluation, Leaf, QueryPlan, plan
from query_api.blocks import Progress
from query_api.engine.evaluator import Context, Path, evaluate
from query_api.engine.rangefn import FIELDS_BY_FUNCTION
from query_api.engine.rows import LeafRows
from query_api.engine.values import Annotations, Labels, Scalar, Value, Vector
from query_api.fanout import FetchStats, Pushdown, WorkerClients, fetch_group
from query_api.leafdata import partial_rows, raw_rows


@dataclass
class QueryStats(FetchStats):
    """What the pushdowns read, plus the query's own figures."""

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
    """The whole answer: every block's result joined along the steps."""
    blocks = list(evaluate_blocks(fleet, org, query, evaluation, cancelled))
    return QueryResult(join_blocks([b.value for b in blocks]), np.concatenate([b.times for b in blocks]),
                       blocks[-1].annotations, blocks[-1].stats)


def evaluate_blocks(fleet: Fleet, org: str, query: str | ast.Expr, evaluation: Evaluation,
                    cancelled: Callable[[], bool] = lambda: False) -> Iterator[QueryResult]:
    """EvalFlow: results block by block, each as soon as the time groups it needs have arrived.

    The stats and annotations of each block are the query's so far.
    """
    started = time.perf_counter()
    expr = parse(query) if isinstance(query, str) else query
    query_plan = plan(expr, evaluation)
    workers = tuple(fleet.workers())
    stats = FetchStats()
    times = np.arange(evaluation.start, evaluation.end + 1, evaluation.step or 1, dtype=np.int64)
    annotations = Annotations()
    tasks = _group_tasks(fleet, org, query_plan, workers)
    progress = Progress(query_plan.leaves, evaluation, times,
                        dict(Counter(leaf.id for leaves, _, _ in tasks for leaf in leaves)))
    kept: dict[str, list[tuple[int, pa.Table]]] = {leaf.id: [] for leaf in query_plan.leaves}

    def block(upto: int) -> QueryResult:
        rows = {leaf.id: _leaf_rows(leaf, [t for _, t in kept[leaf.id]]) for leaf in query_plan.leaves}
        ctx = Context(times[progress.done:upto], evaluation.start, evaluation.end, evaluation.lookback,
                      _PlanSource(query_plan, rows), evaluation.subquery_step, annotations,
                      query_step_ms=evaluation.step)
        value = evaluate(expr, ctx)
        result = QueryResult(value, ctx.times, annotations, QueryStats(
            stats.segments, stats.bytes, stats.rows, stats.retries, set(stats.failed_workers),
            groups=len(tasks), seconds=time.perf_counter() - started))
        progress.done = upto
        for leaf_id, tables in kept.items():  # let go of what no remaining step reaches
            horizon = progress.keep_after(leaf_id)
            kept[leaf_id] = [(end, t) for end, t in tables if end > horizon]
        return result

    for leaves, push, tables in _fetch_in_order(fleet, tasks, workers, stats, cancelled):
        for leaf in leaves:
            kept[leaf.id] += [(push.window[1], t) for t in tables]
            progress.group_arrived(leaf.id, push.window[1])
        ready = progress.ready()
        if ready > progress.done:
            yield block(ready)
    if progress.done < len(times) or not len(times):
        yield block(len(times))


def _leaf_rows(leaf: Leaf, tables: list[pa.Table]) -> LeafRows:
    return raw_rows(tables) if leaf.template == "raw" else partial_rows(tables, leaf_fields(leaf))


def leaf_fields(leaf: Leaf) -> tuple[str, ...]:
    """The partial fields workers send for a leaf: what its function reads, plus the times that
    order and merge partials of one bucket."""
    function = None if leaf.range == 0 else leaf.function
    reads = FIELDS_BY_FUNCTION.get(function, SAMPLE_FIELDS) if leaf.template == "partials" else ()
    return tuple(name for name in SAMPLE_FIELDS if name in {*reads, "count", "first_ts", "last_ts"})


Task = tuple[tuple[Leaf, ...], Pushdown, list[SegmentRecord]]


def _group_tasks(fleet: Fleet, org: str, query_plan: QueryPlan, workers: Sequence[str]) -> list[Task]:
    """One pushdown per time group of each distinct read, in chronological order. Leaves that
    read the same series with the same template and bucket edges (`rate(x[5m]) / x` at a 5m
    lookback) share one read, with the union of their fields."""
    query_id = uuid.uuid4().hex[:12]
    reads: dict[tuple[object, ...], list[Leaf]] = {}
    for leaf in query_plan.leaves:
        if len(leaf.edges) >= 2:  # else there is no window to read (a subquery with an empty grid)
            reads.setdefault((leaf.matchers, leaf.template, leaf.edges), []).append(leaf)
    tasks: list[Task] = []
    for index, leaves in enumerate(reads.values()):
        leaf = leaves[0]
        segments = fleet.catalog.find_segments(org, leaf.edges[0] + 1, leaf.edges[-1],
                                               _metric_names(leaf))
        matchers = tuple(tickets.Matcher(m.name, m.op.value, m.value) for m in leaf.matchers)
        fields = tuple(sorted({f for each in leaves for f in leaf_fields(each)}))
        for group in compute_replay_batches(leaf.edges, segments, max(1, len(workers))):
            edges = tuple(e for e in leaf.edges if group.start <= e <= group.end)
            push = Pushdown(org, leaf.template, index, matchers, (group.start, group.end), edges, query_id,
                            fields=fields if leaf.template == "partials" else ())
            tasks.append((tuple(leaves), push, [segments[i] for i in group.segments]))
    tasks.sort(key=lambda task: (task[1].window[0], task[1].leaf))
    return tasks


def _fetch_in_order(fleet: Fleet, tasks: list[Task], workers: Sequence[str], stats: FetchStats,
                    cancelled: Callable[[], bool]) -> Iterator[tuple[tuple[Leaf, ...], Pushdown,
                                                                     list[pa.Table]]]:
    """The ordered coordinator: at most max(3, workers) groups stream at once, and results are
    handed on strictly in task order."""
    abort = threading.Event()  # set when any group fails: the other pushdowns stop too

    def stop() -> bool:
        return abort.is_set() or cancelled()

    with ThreadPoolExecutor(max(3, len(workers)), "fletch-group") as groups:
        futures = [(leaves, push, groups.submit(fetch_group, push, segs, workers, fleet.ticket_key,
                                                fleet.clients, fleet.pool, stats, stop))
                   for leaves, push, segs in tasks]
        try:
            for leaves, push, future in futures:
                yield leaves, push, future.result()
        except BaseException:
            abort.set()
            for _, _, future in futures:
                future.cancel()
            raise


def join_blocks(values: list[Value]) -> Value:
    """Block results joined along the steps (series matched by labels)."""
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, Scalar) for v in values):
        return Scalar(np.concatenate([v.values for v in values]))  # type: ignore[union-attr]
    vectors = [v for v in values if isinstance(v, Vector)]
    if len(vectors) != len(values):
        raise InternalError("blocks of one query returned different value types")
    rows: dict[Labels, int] = {}
    for vector in vectors:
        for labels in vector.labels:
            rows.setdefault(labels, len(rows))
    steps = sum(v.steps for v in vectors)
    joined = Vector(list(rows), np.zeros((len(rows), steps)), np.zeros((len(rows), steps), dtype=bool))
    column = 0
    for vector in vectors:
        index = np.array([rows[labels] for labels in vector.labels], dtype=np.int64)
        if len(index):
            joined.values[index, column:column + vector.steps] = vector.values
            joined.present[index, column:column + vector.steps] = vector.present
        column += vector.steps
    return joined


def _metric_names(leaf: Leaf) -> list[str] | None:
    for matcher in leaf.matchers:
        if matcher.name == "__name__" and matcher.op is ast.MatchOp.EQ:
            return [matcher.value]
    return None


__all__ = ["Fleet", "QueryResult", "evaluate_query"]
