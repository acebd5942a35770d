"""The `@` re-runs of an instant eval (test.go `atModifierTestCases`).

Prometheus sets `@ <eval time>` on every selector and subquery that has no numeric `@` yet,
leaving everything inside a subquery that gets (or has) one untouched, and skips the re-runs when
the expression calls a function that is unsafe under `@` outside such subqueries. The rewritten
expression (printed canonically) is then evaluated at several other times and must give the
same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

# promql/functions.go AtModifierUnsafeFunctions
AT_MODIFIER_UNSAFE_FUNCTIONS = frozenset({
    "days_in_month", "day_of_month", "day_of_week", "day_of_year", "end", "hour", "minute", "month", "year",
    "predict_linear", "range", "start", "step", "time", "timestamp",
})

AtRewriter = Callable[[str, int], "str | None"]


def at_eval_times(t_ms: int) -> list[int]:
    """The extra evaluation times: -10t, 0, t/5 (Go integer division), t, 10t; or -1s, 0, 1s at 0."""
    if t_ms == 0:
        return [-1000, 0, 1000]
    fifth = abs(t_ms) // 5 * (1 if t_ms > 0 else -1)
    return [-10 * t_ms, 0, fifth, t_ms, 10 * t_ms]


def planner_at_rewriter(expr: str, t_ms: int) -> str | None:
    """`expr` with `@ t` set as Prometheus does, via fletch's parser and printer; None to skip.

    Raises `planner.errors.ParseError` when fletch cannot parse the expression.
    """
    from planner import ast
    from planner.parse import parse
    from planner.printer import to_string

    unsafe = False

    def visit(node: ast.Expr) -> ast.Expr:
        nonlocal unsafe
        match node:
            case ast.VectorSelector(at=at) if not isinstance(at, int):
                return replace(node, at=t_ms)
            case ast.VectorSelector():
                return node
            case ast.MatrixSelector(selector=sel):
                return replace(node, selector=visit(sel))
            case ast.SubqueryExpr(at=at):
                # Inside a subquery with `@`, nothing changes; one without gets `@ t`.
                return node if isinstance(at, int) else replace(node, at=t_ms)
            case ast.Call(func=func, args=args):
                unsafe = unsafe or func in AT_MODIFIER_UNSAFE_FUNCTIONS
                return replace(node, args=tuple(visit(a) for a in args))
            case ast.AggregateExpr(expr=inner, param=param):
                return replace(node, expr=visit(inner), param=visit(param) if param is not None else None)
            case ast.BinaryExpr(lhs=lhs, rhs=rhs):
                return replace(node, lhs=visit(lhs), rhs=visit(rhs))
            case ast.ParenExpr(expr=inner) | ast.UnaryExpr(expr=inner):
                return replace(node, expr=visit(inner))
            case ast.NumberLiteral() | ast.StringLiteral():
                return node
        raise AssertionError(f"unhandled node {type(node)}")

    rewritten = visit(parse(expr))
    return None if unsafe else to_string(rewritten)
