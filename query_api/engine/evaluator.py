"""Recursive PromQL evaluation over a block of steps: every node yields a whole [series, steps] array.

Leaf data comes from a `LeafSource` (partials from workers, or raw samples); windows are cut here
from the step times, ranges, offsets and `@`. Subqueries evaluate their inner expression on the
subquery's own step grid and feed the points to the range function as raw samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from planner import ast
from planner.errors import ExecutionError, NotSupported, QueryError
from planner.functions import FUNCTIONS
from query_api.engine import annotations, binop, instant_functions, rangefn
from query_api.engine.aggregate import aggregate
from query_api.engine.rows import LeafRows
from query_api.engine.values import Annotations, Labels, Matrix, Scalar, String, Value, Vector, without_name

Path = tuple[int, ...]  # child indices from the root, as planner.plan numbers leaves


class LeafSource(Protocol):
    def rows(self, path: Path, selector: ast.VectorSelector, range_ms: int) -> LeafRows:
        """The leaf's rows: bucket partials, or raw samples where the plan says `raw`."""


@dataclass
class Context:
    times: np.ndarray           # evaluation steps (ms)
    start: int                  # query start and end, for @ start() / end()
    end: int
    lookback_ms: int
    source: LeafSource
    step_ms: int = 60_000       # default subquery step
    annotations: Annotations = field(default_factory=Annotations)
    query_step_ms: int = 0      # the query's step (0 for an instant query)

    def at(self, times: np.ndarray) -> Context:
        return Context(times, self.start, self.end, self.lookback_ms, self.source, self.step_ms,
                       self.annotations, self.query_step_ms)


def evaluate(node: ast.Expr, ctx: Context, path: Path = ()) -> Value:
    match node:
        case ast.NumberLiteral(value=value):
            return Scalar(np.full(len(ctx.times), value))
        case ast.StringLiteral(value=value):
            return String(value)
        case ast.ParenExpr(expr=inner):
            return evaluate(inner, ctx, (*path, 0))
        case ast.UnaryExpr(op=op, expr=inner):
            value = evaluate(inner, ctx, (*path, 0))
            if op == "+":
                return value
            if isinstance(value, Scalar):
                return Scalar(-value.values)
            assert isinstance(value, Vector)
            return _dedupe(Vector([without_name(lb) for lb in value.labels], -value.values,
                                  value.present.copy()))
        case ast.VectorSelector():
            return _instant_selector(node, ctx, path)
        case ast.BinaryExpr():
            return _binary(node, ctx, path)
        case ast.AggregateExpr():
            return _aggregate(node, ctx, path)
        case ast.Call():
            return _call(node, ctx, path)
        case ast.MatrixSelector() | ast.SubqueryExpr():
            return _matrix(node, ctx, path)
    raise AssertionError(f"unhandled node {type(node)}")


def _eval_times(ctx: Context, at: ast.At, offset: int) -> np.ndarray:
    if at is None:
        base = ctx.times
    else:
        fixed = ctx.start if at == "start" else ctx.end if at == "end" else int(at)
        base = np.full(len(ctx.times), fixed, dtype=np.int64)
    return base - offset


def _instant_selector(node: ast.VectorSelector, ctx: Context, path: Path) -> Vector:
    rows = ctx.source.rows(path, node, 0)
    ends = _eval_times(ctx, node.at, node.offset)
    starts = ends - ctx.lookback_ms
    lo, hi = rows.windows(starts, ends)
    present = hi > lo
    last = np.maximum(hi - 1, 0)
    if len(rows.end):
        values = rows.fields["last_value"][last]
        sample_ts = rows.fields["last_ts"][last]
    else:
        values = np.zeros(lo.shape)
        sample_ts = np.zeros(lo.shape, dtype=np.int64)
    if len(rows.stale_ts):
        stale_lo, stale_hi = rows.stale_windows(starts, ends)
        latest_stale = rows.stale_ts[np.maximum(stale_hi - 1, 0)]
        present &= ~((stale_hi > stale_lo) & (latest_stale > sample_ts))
    keep = np.flatnonzero(present.any(axis=1))
    return Vector([rows.labels[i] for i in keep], values[keep], present[keep], sample_ts[keep])


def _range_input(node: ast.Expr, function: str, ctx: Context,
                 path: Path) -> tuple[rangefn.WindowData, list[Labels]]:
    """The windows a range function reads: a matrix selector's, or a subquery's inner points."""
    if isinstance(node, ast.ParenExpr):
        return _range_input(node.expr, function, ctx, (*path, 0))
    if isinstance(node, ast.MatrixSelector):
        selector = node.selector
        rows = ctx.source.rows(path, selector, node.range)
        ends = _eval_times(ctx, selector.at, selector.offset)
        starts = ends - node.range
        lo, hi = rows.windows(starts, ends)
        return rangefn.WindowData(rows, lo, hi, node.range, starts, ends), rows.labels
    if isinstance(node, ast.SubqueryExpr):
        ends = _eval_times(ctx, node.at, node.offset)
        starts = ends - node.range
        step = node.step or ctx.step_ms
        first = _go_div(int(starts.min()), step) * step
        if first <= starts.min():
            first += step
        inner_times = np.arange(first, int(ends.max()) + 1, step, dtype=np.int64)
        inner = evaluate(node.expr, ctx.at(inner_times), (*path, 0))
        if not isinstance(inner, Vector):
            raise QueryError("subquery expression must return an instant vector")
        series, columns = np.nonzero(inner.present)
        rows = LeafRows.from_samples(inner.labels, series.astype(np.int64), inner_times[columns],
                                     inner.values[series, columns])
        lo, hi = rows.windows(starts, ends)
        return rangefn.WindowData(rows, lo, hi, node.range, starts, ends), inner.labels
    raise QueryError(f"expected a range vector for {function}()")


def _matrix(node: ast.Expr, ctx: Context, path: Path) -> Matrix:
    """A range vector itself: only an instant query may return one."""
    if len(ctx.times) != 1:
        raise QueryError('invalid expression type "range vector" for range query, must be Scalar or '
                         "instant Vector")
    window, labels = _range_input(node, "", ctx, path)
    rows = window.rows
    out_labels, stamps, values = [], [], []
    for s in range(len(labels)):
        lo, hi = int(window.lo[s, 0]), int(window.hi[s, 0])
        if hi > lo:
            out_labels.append(labels[s])
            stamps.append(rows.end[lo:hi])
            values.append(rows.fields["last_value"][lo:hi])
    return Matrix(out_labels, stamps, values)


def _go_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero), as Prometheus aligns subquery steps."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def _range_call(node: ast.Call, ctx: Context, path: Path) -> Vector:
    name = node.func
    matrix_index = next(i for i, arg in enumerate(node.args) if arg.type is ast.ValueType.MATRIX)
    window, labels = _range_input(node.args[matrix_index], name, ctx, (*path, matrix_index))
    scalars = [_scalar_arg(arg, ctx, (*path, i)) for i, arg in enumerate(node.args) if i != matrix_index]
    if name in rangefn.MERGEABLE:
        values, present = rangefn.MERGEABLE[name](window)
    elif name == "first_over_time":
        values, present = window.field_at("first_value", window.first_row), window.count > 0
    elif name in ("ts_of_first_over_time", "ts_of_last_over_time"):
        row = window.first_row if name == "ts_of_first_over_time" else window.last_row
        field = "first_ts" if name == "ts_of_first_over_time" else "last_ts"
        values, present = window.field_at(field, row) / 1000.0, window.count > 0
    elif name in ("ts_of_min_over_time", "ts_of_max_over_time"):
        values, present = rangefn.ts_of_extreme(window, maximum=name == "ts_of_max_over_time")
    elif name in ("stddev_over_time", "stdvar_over_time", "mad_over_time", "deriv"):
        values, present = getattr(rangefn, name)(window)
    elif name == "quantile_over_time":
        for q in np.unique(scalars[0]):
            if not 0 <= q <= 1:
                ctx.annotations.warn(annotations.invalid_quantile(float(q), node.args[0].pos))
        values, present = rangefn.quantile_over_time(window, scalars[0])
    elif name == "predict_linear":
        values, present = rangefn.predict_linear(window, scalars[0], _eval_times(ctx, None, 0))
    elif name in ("double_exponential_smoothing", "holt_winters"):
        smoothing, trend = float(scalars[0][0]), float(scalars[1][0])
        if not (0 < smoothing < 1) or not (0 < trend < 1):
            raise QueryError(f"invalid smoothing or trend factor for {name}: must be between 0 and 1")
        values, present = rangefn.double_exponential_smoothing(window, smoothing, trend)
    elif name == "absent_over_time":
        return instant_functions.absent_vector(node, ctx.times, (window.count > 0).any(axis=0))
    else:
        raise NotSupported(f"function {name}() is not supported yet")
    spec = FUNCTIONS[name]
    keep = np.flatnonzero(present.any(axis=1))
    out_labels = [labels[i] if spec.keeps_metric_name else without_name(labels[i]) for i in keep]
    return _dedupe(Vector(out_labels, values[keep], present[keep]))


def _dedupe(vector: Vector) -> Vector:
    """Two series that became equal after dropping `__name__` at one step is an error."""
    seen: dict[Labels, int] = {}
    for i, labels in enumerate(vector.labels):
        if labels in seen:
            if (vector.present[seen[labels]] & vector.present[i]).any():
                raise ExecutionError("vector cannot contain metrics with the same labelset")
            return _merge_equal(vector)
        seen[labels] = i
    return vector


def _merge_equal(vector: Vector) -> Vector:
    rows: dict[Labels, int] = {}
    labels: list[Labels] = []
    values: list[np.ndarray] = []
    present: list[np.ndarray] = []
    for i, lb in enumerate(vector.labels):
        j = rows.get(lb)
        if j is None:
            rows[lb] = len(labels)
            labels.append(lb)
            values.append(vector.values[i].copy())
            present.append(vector.present[i].copy())
        else:
            values[j] = np.where(vector.present[i], vector.values[i], values[j])
            present[j] |= vector.present[i]
    return Vector(labels, np.vstack(values), np.vstack(present))


def _scalar_arg(node: ast.Expr, ctx: Context, path: Path) -> np.ndarray:
    value = evaluate(node, ctx, path)
    if isinstance(value, Scalar):
        return value.values
    raise QueryError("expected a scalar argument")


def _vector_arg(node: ast.Expr, ctx: Context, path: Path) -> Vector:
    value = evaluate(node, ctx, path)
    if isinstance(value, Vector):
        return value
    raise QueryError("expected an instant vector argument")


# Functions of the query itself (in seconds), whatever subquery they appear in.
_QUERY_CONTEXT = {
    "start": lambda ctx: ctx.start, "end": lambda ctx: ctx.end,
    "range": lambda ctx: ctx.end - ctx.start, "step": lambda ctx: ctx.query_step_ms,
}


def _call(node: ast.Call, ctx: Context, path: Path) -> Value:
    name = node.func
    if name not in FUNCTIONS:
        raise QueryError(f"unknown function with name {name!r}")
    if any(arg.type is ast.ValueType.MATRIX for arg in node.args):
        return _range_call(node, ctx, path)
    if name in _QUERY_CONTEXT:
        return Scalar(np.full(len(ctx.times), _QUERY_CONTEXT[name](ctx) / 1000.0))
    implementation = instant_functions.INSTANT_FUNCTIONS.get(name)
    if implementation is None:
        raise NotSupported(f"function {name}() is not supported yet")
    args = [evaluate(arg, ctx, (*path, i)) for i, arg in enumerate(node.args)]
    result = implementation(instant_functions.FunctionCall(node, args, ctx.times, ctx.annotations))
    return _dedupe(result) if isinstance(result, Vector) else result


def _aggregate(node: ast.AggregateExpr, ctx: Context, path: Path) -> Vector:
    body_index = 0 if node.param is None else 1
    vector = _vector_arg(node.expr, ctx, (*path, body_index))
    param = None if node.param is None else evaluate(node.param, ctx, (*path, 0))
    result = aggregate(node.op, vector, node.grouping, node.without, param, ctx.annotations,
                       node.param.pos if node.param is not None else None)
    keep = np.flatnonzero(result.present.any(axis=1))
    return result.select(keep)


def _binary(node: ast.BinaryExpr, ctx: Context, path: Path) -> Value:
    lhs, rhs = evaluate(node.lhs, ctx, (*path, 0)), evaluate(node.rhs, ctx, (*path, 1))
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        return binop.scalar_scalar(node.op, lhs, rhs)
    if isinstance(lhs, Vector) and isinstance(rhs, Scalar):
        return _compact(binop.vector_scalar(node.op, lhs, rhs.values, True, node.return_bool))
    if isinstance(lhs, Scalar) and isinstance(rhs, Vector):
        return _compact(binop.vector_scalar(node.op, rhs, lhs.values, False, node.return_bool))
    assert isinstance(lhs, Vector) and isinstance(rhs, Vector)
    return _compact(binop.vector_vector(node.op, lhs, rhs, node.matching, node.return_bool))


def _compact(vector: Vector) -> Vector:
    keep = np.flatnonzero(vector.present.any(axis=1))
    if len(keep) == len(vector.labels):
        return _dedupe(vector)
    return _dedupe(vector.select(keep))
