"""QueryPlan: the root expression plus its leaves (one per distinct selector use) and, for one
evaluation, the bucket edges each leaf's windows need (ARCHITECTURE.md §3–4).

Every window PromQL evaluates is `(t - w, t]`, with `w` the range of a range selector or the
lookback of an instant selector, and `t` an evaluation time shifted by offset (and fixed by @).
A leaf's evaluation times always form an arithmetic grid: the query's steps at top level, the
subquery's own step grid inside a subquery (aligned to absolute multiples of its step, as
Prometheus does). The edges are the sorted unique `t` and `t - w`; bucket k is
`(edges[k], edges[k+1]]`, so every window is a union of whole buckets. Times are int ms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from planner import ast
from planner.ast import At, Expr, Matcher
from planner.functions import FUNCTIONS, INSTANT_SELECTOR_FIELDS, Template
from planner.printer import format_matcher

DEFAULT_LOOKBACK_MS = 300_000
DEFAULT_SUBQUERY_STEP_MS = 60_000  # Prometheus's global evaluation interval default
SKETCH_FUNCTIONS = frozenset({"quantile_over_time", "mad_over_time"})

Path = tuple[int, ...]  # child indices from the root (see planner.ast.children)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """An instant query (`step == 0`, `start == end`) or a range query."""

    start: int
    end: int
    step: int = 0
    lookback: int = DEFAULT_LOOKBACK_MS
    subquery_step: int = DEFAULT_SUBQUERY_STEP_MS  # for `[range:]` subqueries

    def __post_init__(self) -> None:
        if self.step < 0 or self.end < self.start or (self.step == 0 and self.end != self.start):
            raise ValueError(f"invalid evaluation start={self.start} end={self.end} step={self.step}")
        if self.lookback <= 0 or self.subquery_step <= 0:
            raise ValueError("lookback and subquery step must be positive")

    @classmethod
    def instant(cls, time: int, lookback: int = DEFAULT_LOOKBACK_MS) -> Evaluation:
        return cls(time, time, 0, lookback)

    @classmethod
    def range(cls, start: int, end: int, step: int, lookback: int = DEFAULT_LOOKBACK_MS) -> Evaluation:
        if step <= 0:
            raise ValueError("a range query needs a positive step")
        return cls(start, end, step, lookback)


@dataclass(frozen=True, slots=True)
class Grid:
    """Evaluation times start, start+step, ..., <= end (a single time when step == 0)."""

    start: int
    end: int
    step: int

    def times(self) -> Iterator[int]:
        if self.step == 0:
            yield self.start
            return
        yield from range(self.start, self.end + 1, self.step)

    def __len__(self) -> int:
        return 1 if self.step == 0 else (self.end - self.start) // self.step + 1

    def aligned_end(self) -> int:
        return self.start if self.step == 0 else self.start + (self.end - self.start) // self.step * self.step


@dataclass(frozen=True, slots=True)
class SubqueryFrame:
    """One enclosing subquery: how it maps its parent's grid to its own."""

    range: int
    step: int  # 0: the default subquery step
    offset: int
    at: At


@dataclass(frozen=True, slots=True)
class Leaf:
    """One selector use that workers push down.

    `range` is 0 for an instant selector (its window is `window`, the lookback); `function`
    is the range function consuming a range selector (None for instant selectors and bare
    range selectors). `grid` holds the window end times (offset and @ applied); `edges` are
    the bucket edges for this evaluation.
    """

    id: str
    matchers: tuple[Matcher, ...]
    range: int
    offset: int
    at: At
    function: str | None
    template: Template
    fields: frozenset[str]
    window: int
    grid: Grid
    edges: tuple[int, ...]
    subqueries: tuple[SubqueryFrame, ...] = ()
    paths: tuple[Path, ...] = field(default=(), compare=False)

    @property
    def selector_text(self) -> str:
        return "{" + ",".join(sorted(format_matcher(m) for m in self.matchers)) + "}"

    def windows(self) -> Iterator[tuple[int, int]]:
        """Every window (start exclusive, end inclusive) this leaf is evaluated over."""
        for t in self.grid.times():
            yield (t - self.window, t)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    expr: Expr
    evaluation: Evaluation
    leaves: tuple[Leaf, ...]
    leaf_by_path: Mapping[Path, str]

    def leaf(self, leaf_id: str) -> Leaf:
        for leaf in self.leaves:
            if leaf.id == leaf_id:
                return leaf
        raise KeyError(leaf_id)


def _content_id(parts: tuple[object, ...]) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _edges(grid: Grid, window: int) -> tuple[int, ...]:
    end = grid.aligned_end()
    if grid.step and window % grid.step == 0 and end - grid.start >= window - grid.step:
        # windows of whole steps that overlap: the edges are the grid extended back by one window
        return tuple(range(grid.start - window, end + 1, grid.step))
    points: set[int] = set()
    for t in grid.times():
        points.add(t)
        points.add(t - window)
    return tuple(sorted(points))


class _Planner:
    def __init__(self, evaluation: Evaluation, approximate: bool) -> None:
        self.evaluation = evaluation
        self.approximate = approximate
        self.leaves: dict[str, Leaf] = {}
        self.order: list[str] = []
        self.by_path: dict[Path, str] = {}

    def resolve_at(self, at: At) -> int | None:
        if at == "start":
            return self.evaluation.start
        if at == "end":
            return self.evaluation.end
        return at

    def shifted(self, grid: Grid, offset: int, at: At) -> Grid:
        fixed = self.resolve_at(at)
        if fixed is not None:
            return Grid(fixed - offset, fixed - offset, 0)
        return Grid(grid.start - offset, grid.aligned_end() - offset, grid.step)

    def subquery_grid(self, grid: Grid, node: ast.SubqueryExpr) -> Grid:
        """The inner evaluation grid Prometheus uses for a subquery (`subqueryTimeRange`)."""
        parent = self.shifted(grid, node.offset, node.at)
        step = node.step or self.evaluation.subquery_step
        first = parent.start - node.range
        start = (first // step + 1) * step  # the first multiple of step after `first`
        return Grid(start, parent.end, step)

    def visit(self, node: Expr, grid: Grid, frames: tuple[SubqueryFrame, ...], path: Path) -> None:
        match node:
            case ast.VectorSelector():
                self.add(node, 0, None, grid, frames, path)
            case ast.MatrixSelector():
                self.add(node.selector, node.range, None, grid, frames, path)
            case ast.Call(func=func, args=args):
                for index, arg in enumerate(args):
                    if isinstance(arg, ast.MatrixSelector):
                        self.add(arg.selector, arg.range, func, grid, frames, (*path, index))
                    else:
                        self.visit(arg, grid, frames, (*path, index))
            case ast.SubqueryExpr():
                frame = SubqueryFrame(node.range, node.step, node.offset, node.at)
                self.visit(node.expr, self.subquery_grid(grid, node), (*frames, frame), (*path, 0))
            case _:
                for index, child in enumerate(ast.children(node)):
                    self.visit(child, grid, frames, (*path, index))

    def add(self, selector: ast.VectorSelector, range_ms: int, function: str | None, grid: Grid,
            frames: tuple[SubqueryFrame, ...], path: Path) -> None:
        template: Template
        if range_ms == 0:
            template, fields = "partials", INSTANT_SELECTOR_FIELDS
        elif function is not None and FUNCTIONS[function].template is not None:
            spec = FUNCTIONS[function]
            template, fields = spec.template or "raw", spec.fields
        else:
            template, fields = "raw", frozenset()
        if template == "raw" and self.approximate and function in SKETCH_FUNCTIONS:
            template = "sketch"
        matchers = tuple(sorted(selector.all_matchers, key=lambda m: (m.name, m.op.value, m.value)))
        window = range_ms or self.evaluation.lookback
        leaf_grid = self.shifted(grid, selector.offset, selector.at)
        leaf_id = _content_id((tuple((m.name, m.op.value, m.value) for m in matchers), range_ms,
                               selector.offset, selector.at, function, template, frames))
        self.by_path[path] = leaf_id
        if leaf_id in self.leaves:
            leaf = self.leaves[leaf_id]
            self.leaves[leaf_id] = Leaf(**{**_fields(leaf), "paths": (*leaf.paths, path)})
            return
        self.order.append(leaf_id)
        self.leaves[leaf_id] = Leaf(leaf_id, matchers, range_ms, selector.offset, selector.at, function,
                                    template, fields, window, leaf_grid, _edges(leaf_grid, window), frames,
                                    (path,))


def _fields(leaf: Leaf) -> dict[str, object]:
    return {name: getattr(leaf, name) for name in Leaf.__dataclass_fields__}


def plan(expr: Expr, evaluation: Evaluation, *, approximate: bool = False) -> QueryPlan:
    """Plan `expr` (already parsed and checked) for one evaluation."""
    planner = _Planner(evaluation, approximate)
    top = Grid(evaluation.start, evaluation.end, evaluation.step)
    planner.visit(expr, top, (), ())
    leaves = tuple(planner.leaves[i] for i in planner.order)
    return QueryPlan(expr, evaluation, leaves, MappingProxyType(dict(planner.by_path)))
