"""Canonical PromQL text, as Prometheus prints it.

`to_string(expr)` is Prometheus's `String()`: one line, normalised spacing, sorted matchers,
`by (...)`, durations in canonical units. `format(expr)` is what `/api/v1/format_query`
returns (`Pretty(0)`): the same, split over indented lines wherever a node's one-line form
is longer than 100 bytes. Both parse back to an equal AST.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from planner import ast
from planner.ast import Card, Expr, Matcher, ValueType
from planner.durations import format_duration
from planner.functions import AGGREGATIONS
from planner.gostr import go_quote

MAX_LINE = 100
_LEGACY_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def format_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, no exponent; NaN and
    ±Inf spelled as Prometheus does. (Also the sample values of the HTTP API, so fast.)"""
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    if "e" not in text and "n" not in text:
        return text
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = f"{Decimal(text):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_label_name(name: str) -> str:
    return name if _LEGACY_LABEL.fullmatch(name) else go_quote(name)


def format_matcher(matcher: Matcher) -> str:
    return f"{format_label_name(matcher.name)}{matcher.op.value}{go_quote(matcher.value)}"


def _labels(names: tuple[str, ...]) -> str:
    return ", ".join(format_label_name(n) for n in names)


def _duration(ms: int) -> str:
    return format_duration(ms) if ms >= 0 else "-" + format_duration(-ms)


def _at_offset(at: ast.At, offset: int) -> str:
    out = ""
    if isinstance(at, int):
        out += f" @ {at / 1000:.3f}"
    elif at is not None:
        out += f" @ {at}()"
    if offset:
        out += f" offset {_duration(offset)}"
    return out


def _selector(node: ast.VectorSelector, modifiers: bool = True) -> str:
    parts = sorted(
        format_matcher(m) for m in node.all_matchers
        if not (m.name == "__name__" and m.op is ast.MatchOp.EQ and m.value == node.name and m.value)
    )
    out = node.name + ("{" + ",".join(parts) + "}" if parts else "")
    return out + _at_offset(node.at, node.offset) if modifiers else out


def _agg_prefix(node: ast.AggregateExpr) -> str:
    if node.without:
        return f"{node.op} without ({_labels(node.grouping)}) "
    if node.grouping:
        return f"{node.op} by ({_labels(node.grouping)}) "
    return node.op


def _matching(node: ast.BinaryExpr) -> str:
    out = " bool" if node.return_bool else ""
    if node.lhs.type is not ValueType.VECTOR or node.rhs.type is not ValueType.VECTOR:
        return out  # Prometheus drops the matching of scalar operations
    vm = node.matching
    grouped = vm.card in (Card.MANY_TO_ONE, Card.ONE_TO_MANY)
    if vm.labels or vm.on or grouped:
        out += f" {'on' if vm.on else 'ignoring'} ({_labels(vm.labels)})"
    if grouped:
        side = "left" if vm.card is Card.MANY_TO_ONE else "right"
        out += f" group_{side} ({_labels(vm.include)})"
    return out


def to_string(node: Expr) -> str:
    """Prometheus's one-line `String()` of an expression."""
    match node:
        case ast.NumberLiteral(value=value, duration=True):
            return _duration(round(value * 1000))
        case ast.NumberLiteral(value=value):
            return format_float(value)
        case ast.StringLiteral(value=value):
            return go_quote(value)
        case ast.VectorSelector():
            return _selector(node)
        case ast.MatrixSelector(selector=sel, range=range_ms):
            return f"{_selector(sel, False)}[{_duration(range_ms)}]{_at_offset(sel.at, sel.offset)}"
        case ast.SubqueryExpr():
            return to_string(node.expr) + _subquery_suffix(node)
        case ast.ParenExpr(expr=inner):
            return f"({to_string(inner)})"
        case ast.UnaryExpr(op=op, expr=inner):
            return op + to_string(inner)
        case ast.BinaryExpr(op=op, lhs=lhs, rhs=rhs):
            return f"{to_string(lhs)} {op}{_matching(node)} {to_string(rhs)}"
        case ast.Call(func=func, args=args):
            return f"{func}({', '.join(to_string(a) for a in args)})"
        case ast.AggregateExpr():
            param = f"{to_string(node.param)}, " if node.param is not None and _has_param(node) else ""
            return f"{_agg_prefix(node)}({param}{to_string(node.expr)})"
    raise AssertionError(f"unhandled node {type(node)}")


def _has_param(node: ast.AggregateExpr) -> bool:
    spec = AGGREGATIONS.get(node.op)
    return spec is not None and spec.param_type is not None


def _subquery_suffix(node: ast.SubqueryExpr) -> str:
    step = _duration(node.step) if node.step else ""
    return f"[{_duration(node.range)}:{step}]{_at_offset(node.at, node.offset)}"


def _indent(level: int) -> str:
    return "  " * level


def _needs_split(node: Expr) -> bool:
    return len(to_string(node).encode("utf-8", "surrogateescape")) > MAX_LINE


def pretty(node: Expr, level: int = 0) -> str:
    """Prometheus's `Pretty(level)`."""
    pad = _indent(level)
    match node:
        case ast.AggregateExpr() if _needs_split(node):
            out = f"{pad}{_agg_prefix(node)}(\n"
            if node.param is not None and _has_param(node):
                out += pretty(node.param, level + 1) + ",\n"
            return out + f"{pretty(node.expr, level + 1)}\n{pad})"
        case ast.BinaryExpr() if _needs_split(node):
            return (f"{pretty(node.lhs, level + 1)}\n{pad}{node.op}{_matching(node)}\n"
                    f"{pretty(node.rhs, level + 1)}")
        case ast.Call() if _needs_split(node):
            args = ",\n".join(pretty(a, level + 1) for a in node.args)
            return f"{pad}{node.func}(\n{args}\n{pad})"
        case ast.ParenExpr() if _needs_split(node):
            return f"{pad}(\n{pretty(node.expr, level + 1)}\n{pad})"
        case ast.SubqueryExpr():
            if not _needs_split(node):
                return to_string(node)
            return pretty(node.expr, level) + _subquery_suffix(node)
        case ast.UnaryExpr():
            return f"{pad}{node.op}{pretty(node.expr, level).strip()}"
    return pad + to_string(node)


def format(node: Expr) -> str:
    """What Prometheus's `/api/v1/format_query` returns for this expression."""
    return pretty(node, 0)
