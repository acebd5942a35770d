"""Grammar actions: turn `promql.lark` reductions into AST nodes, recording Prometheus's
parse-time errors (those its grammar actions raise) in order as they happen.

Intermediate values (`_Grouping`, `_Body`, ...) are small marker objects; `planner.parse`
also reads them off the parser stack to name the context of a syntax error.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Any

from lark import Token, Transformer

from planner import ast
from planner.ast import Card, Expr, Matcher, MatchOp, ValueType, VectorMatching
from planner.functions import AGGREGATIONS, FUNCTIONS
from planner.gostr import go_quote, unquote
from planner.literals import MAX_DURATION_SECONDS, parse_duration_ms, parse_number, seconds_to_ms
from planner.matching import compile_regex

PosRange = tuple[int, int]


class ParseState(threading.local):
    """The errors and options of the parse running on this thread."""

    def __init__(self) -> None:
        self.errors: list[tuple[PosRange, str]] = []
        self.experimental_functions = True

    def error(self, pos: PosRange, message: str) -> None:
        self.errors.append((pos, message))


STATE = ParseState()


@dataclass(slots=True)
class _AggOp:
    token: Token


@dataclass(slots=True)
class _Grouping:
    labels: tuple[str, ...]
    end: int


@dataclass(slots=True)
class _LabelList:
    labels: list[str]


@dataclass(slots=True)
class _Body:
    args: tuple[Expr, ...]
    start: int
    end: int


@dataclass(slots=True)
class _Args:
    args: list[Expr]


@dataclass(slots=True)
class _AggModifier:
    without: bool
    labels: tuple[str, ...]
    end: int


@dataclass(slots=True)
class _Braces:
    matchers: list[Matcher]
    start: int
    end: int


@dataclass(slots=True)
class _MatcherList:
    matchers: list[Matcher]


@dataclass(slots=True)
class _BinModifier:
    return_bool: bool
    matching: VectorMatching
    fill: bool


@dataclass(slots=True)
class _DExpr:
    """A (part of a) duration expression; `value` in seconds when it is a plain literal."""

    value: float | None
    pos: PosRange


@dataclass(slots=True)
class _Duration:
    value: float  # seconds
    pos: PosRange


@dataclass(slots=True)
class _Modifier:
    kind: str  # "offset" | "at"
    value: Any  # ms for offset; ms / "start" / "end" for at
    end: int
    ok: bool = True


def _tok_pos(tok: Token) -> PosRange:
    return (tok.start_pos or 0, tok.end_pos or 0)


def _number_value(tok: Token) -> tuple[float, bool]:
    """(seconds or plain value, is_duration) of a NUMBER or DURATION token."""
    if tok.type == "DURATION":
        try:
            return parse_duration_ms(str(tok)) / 1000, True
        except ValueError as err:
            STATE.error(_tok_pos(tok), str(err))
            return 0.0, True
    try:
        return parse_number(str(tok)), False
    except ValueError as err:
        STATE.error(_tok_pos(tok), f"error parsing number: {err}")
        return 0.0, False


def _is_valid_utf8_name(name: str) -> bool:
    return bool(name) and not any(0xD800 <= ord(c) <= 0xDFFF for c in name)


def _modifier_target(expr: Expr) -> Expr | None:
    return expr if isinstance(expr, ast.VectorSelector | ast.MatrixSelector | ast.SubqueryExpr) else None


class Builder(Transformer[Token, Expr]):
    """Callbacks for lark's LALR parser (`Lark(..., transformer=Builder())`)."""

    # ---- literals --------------------------------------------------------------------------
    def number_literal(self, children: list[Token]) -> Expr:
        tok = children[0]
        value, is_duration = _number_value(tok)
        return ast.NumberLiteral(value, is_duration, _tok_pos(tok))

    def string_literal(self, children: list[Token]) -> Expr:
        tok = children[0]
        return ast.StringLiteral(unquote(str(tok)), _tok_pos(tok))

    def paren_expr(self, children: list[Any]) -> Expr:
        lparen, expr, rparen = children
        return ast.ParenExpr(expr, (lparen.start_pos, rparen.end_pos))

    def unary_expr(self, children: list[Any]) -> Expr:
        op, expr = children
        start = op.start_pos
        if isinstance(expr, ast.NumberLiteral):
            value = -expr.value if op.type == "SUB" else expr.value
            return ast.NumberLiteral(value, expr.duration, (start, expr.pos[1]))
        return ast.UnaryExpr("-" if op.type == "SUB" else "+", expr, (start, expr.pos[1]))

    # ---- binary operators ------------------------------------------------------------------
    def cmp_op(self, children: list[Token]) -> Token:
        return children[0]

    def binary_expr(self, children: list[Any]) -> Expr:
        lhs, op, modifier, rhs = children
        pos = (lhs.pos[0], rhs.pos[1])
        if modifier.fill:
            STATE.error(pos, "binop fill modifiers are experimental and not enabled")
        matching = modifier.matching
        if not matching.labels and (lhs.type, rhs.type) != (ValueType.VECTOR, ValueType.VECTOR):
            matching = VectorMatching()  # Prometheus drops the matching of non-vector operations
        return ast.BinaryExpr(str(op).lower(), lhs, rhs, modifier.return_bool, matching, pos)

    def bin_modifier(self, children: list[Any]) -> _BinModifier:
        bool_tok, matching, fill = children
        return _BinModifier(bool_tok is not None, matching or VectorMatching(), fill is not None)

    def vector_matching(self, children: list[Any]) -> VectorMatching:
        kind, grouping, side = children
        card, include = side if side is not None else (Card.ONE_TO_ONE, ())
        return VectorMatching(card, grouping.labels, kind.type == "ON", include)

    def group_side(self, children: list[Any]) -> tuple[Card, tuple[str, ...]]:
        kind, grouping = children
        card = Card.MANY_TO_ONE if kind.type == "GROUP_LEFT" else Card.ONE_TO_MANY
        return card, grouping.labels if grouping is not None else ()

    def fill_modifiers(self, children: list[Any]) -> bool:
        return True

    def fill_modifier(self, children: list[Any]) -> bool:
        return True

    # ---- grouping labels -------------------------------------------------------------------
    def grouping_labels(self, children: list[Any]) -> _Grouping:
        labels = children[1].labels if isinstance(children[1], _LabelList) else []
        return _Grouping(tuple(labels), children[-1].end_pos)

    def grouping_label_list(self, children: list[Any]) -> _LabelList:
        if len(children) == 1:
            return _LabelList([children[0]])
        children[0].labels.append(children[2])
        return children[0]

    def grouping_label(self, children: list[Token]) -> str:
        tok = children[0]
        if tok.type != "STRING":
            name = str(tok)
            if not _is_valid_utf8_name(name):
                STATE.error(_tok_pos(tok), f"invalid label name for grouping: {go_quote(name)}")
            return name
        name = unquote(str(tok))
        if not _is_valid_utf8_name(name):
            STATE.error(_tok_pos(tok), f"invalid label name for grouping: {go_quote(name)}")
        return name

    # ---- functions and aggregations --------------------------------------------------------
    def function_call_body(self, children: list[Any]) -> _Body:
        args = tuple(children[1].args) if len(children) == 3 else ()
        return _Body(args, children[0].start_pos, children[-1].end_pos)

    def function_call_args(self, children: list[Any]) -> _Args:
        if len(children) == 1:
            return _Args([children[0]])
        children[0].args.append(children[2])
        return children[0]

    def trailing_comma(self, children: list[Any]) -> _Args:
        STATE.error(_tok_pos(children[1]), "trailing commas not allowed in function call args")
        return children[0]

    def function_call(self, children: list[Any]) -> Expr:
        name_tok, body = children
        name = str(name_tok)
        spec = FUNCTIONS.get(name)
        if spec is None:
            STATE.error(_tok_pos(name_tok), f"unknown function with name {go_quote(name)}")
        elif spec.experimental and not STATE.experimental_functions:
            STATE.error(_tok_pos(name_tok), f"function {go_quote(name)} is not enabled")
        return ast.Call(name, body.args, (name_tok.start_pos, body.end))

    def aggregate_op(self, children: list[Token]) -> _AggOp:
        return _AggOp(children[0])

    def aggregate_modifier(self, children: list[Any]) -> _AggModifier:
        kind, grouping = children
        return _AggModifier(kind.type == "WITHOUT", grouping.labels, grouping.end)

    def aggregate_expr(self, children: list[Any]) -> Expr:
        op_marker = children[0]
        if isinstance(children[1], _AggModifier):
            modifier, body = children[1], children[2]
        else:
            body, modifier = children[1], children[2]
        op = str(op_marker.token).lower()
        end = modifier.end if modifier is not None and modifier.end > body.end else body.end
        pos = (op_marker.token.start_pos, end)
        grouping = modifier.labels if modifier else ()
        without = modifier.without if modifier else False
        args = body.args
        placeholder = ast.AggregateExpr(op, ast.NumberLiteral(0.0), None, grouping, without, pos)
        if not args:
            STATE.error(pos, "no arguments for aggregate expression provided")
            return placeholder
        spec = AGGREGATIONS[op]
        wanted = 1
        if spec.param_type is not None:
            if spec.experimental and not STATE.experimental_functions:
                STATE.error(pos, f"{op}() is experimental and must be enabled with "
                                 "--enable-feature=promql-experimental-functions")
                return placeholder
            wanted = 2
        if len(args) != wanted:
            STATE.error(pos, "wrong number of arguments for aggregate expression provided, "
                             f"expected {wanted}, got {len(args)}")
            return placeholder
        param = args[0] if wanted == 2 else None
        return ast.AggregateExpr(op, args[-1], param, grouping, without, pos)

    # ---- vector selectors ------------------------------------------------------------------
    def metric_identifier(self, children: list[Token]) -> Token:
        return children[0]

    def match_op(self, children: list[Token]) -> Token:
        return children[0]

    def label_matcher(self, children: list[Token]) -> Matcher:
        name_tok, op_tok, value_tok = children
        name = str(name_tok) if name_tok.type == "IDENTIFIER" else unquote(str(name_tok))
        value = unquote(str(value_tok))
        op = MatchOp(str(op_tok))
        if op in (MatchOp.RE, MatchOp.NRE):
            try:
                compile_regex(value)
            except ValueError as err:
                STATE.error((name_tok.start_pos, value_tok.end_pos), str(err))
        return Matcher(name, op, value)

    def name_matcher(self, children: list[Token]) -> Matcher:
        return Matcher("__name__", MatchOp.EQ, unquote(str(children[0])))

    def label_match_list(self, children: list[Any]) -> _MatcherList:
        if len(children) == 1:
            return _MatcherList([children[0]])
        children[0].matchers.append(children[2])
        return children[0]

    def label_matchers(self, children: list[Any]) -> _Braces:
        matchers = children[1].matchers if isinstance(children[1], _MatcherList) else []
        return _Braces(matchers, children[0].start_pos, children[-1].end_pos)

    def vector_selector(self, children: list[Any]) -> Expr:
        if isinstance(children[0], _Braces):
            braces = children[0]
            return ast.VectorSelector("", tuple(braces.matchers), pos=(braces.start, braces.end))
        name_tok, braces = children
        end = braces.end if braces is not None else name_tok.end_pos
        matchers = tuple(braces.matchers) if braces is not None else ()
        return ast.VectorSelector(str(name_tok), matchers, pos=(name_tok.start_pos, end))

    # ---- durations -------------------------------------------------------------------------
    def dliteral(self, children: list[Token]) -> _DExpr:
        value, _ = _number_value(children[0])
        return _DExpr(value, _tok_pos(children[0]))

    def dunary(self, children: list[Any]) -> _DExpr:
        op, inner = children
        if inner.value is None:
            return _DExpr(None, (op.start_pos, inner.pos[1]))
        value = -inner.value if op.type == "SUB" else inner.value
        if abs(value) > MAX_DURATION_SECONDS:
            STATE.error(_tok_pos(op), "duration out of range")
            value = 0.0
        return _DExpr(value, (op.start_pos, inner.pos[1]))

    def dbinary(self, children: list[Any]) -> _DExpr:
        lhs, _, rhs = children
        return _DExpr(None, (lhs.pos[0], rhs.pos[1]), ) if lhs.value is not None else _DExpr(None, lhs.pos)

    def dparen(self, children: list[Any]) -> _DExpr:
        return _DExpr(None, (children[0].start_pos, children[2].end_pos))

    def duration_call(self, children: list[Any]) -> _DExpr:
        return _DExpr(None, (children[0].start_pos, children[-1].end_pos))

    def duration_value(self, children: list[Any]) -> _Duration:
        dexpr = children[0]
        if dexpr.value is None:
            STATE.error(dexpr.pos, "experimental duration expression is not enabled")
            return _Duration(1.0, dexpr.pos)
        value = dexpr.value
        if abs(value) > MAX_DURATION_SECONDS:
            STATE.error(dexpr.pos, "duration out of range")
            value = 0.0
        if value <= 0:
            STATE.error(dexpr.pos, "duration must be greater than 0")
        return _Duration(value, dexpr.pos)

    # ---- postfix modifiers -----------------------------------------------------------------
    def matrix_selector(self, children: list[Any]) -> Expr:
        expr, lbracket, duration, rbracket = children
        bracket_pos = (lbracket.start_pos, rbracket.end_pos)
        range_ms = seconds_to_ms(duration.value)
        if not isinstance(expr, ast.VectorSelector):
            STATE.error(bracket_pos, "ranges only allowed for vector selectors")
            return expr
        if expr.offset != 0:
            STATE.error(bracket_pos, "no offset modifiers allowed before range")
        elif expr.at is not None:
            STATE.error(bracket_pos, "no @ modifiers allowed before range")
        return ast.MatrixSelector(expr, range_ms, (expr.pos[0], rbracket.end_pos))

    def subquery_expr(self, children: list[Any]) -> Expr:
        expr, _lbracket, range_, _colon, step, rbracket = children
        step_ms = seconds_to_ms(step.value) if step is not None else 0
        pos = (expr.pos[0], rbracket.end_pos)
        return ast.SubqueryExpr(expr, seconds_to_ms(range_.value), step_ms, pos=pos)

    def offset_literal(self, children: list[Any]) -> _Modifier:
        sign, tok = children
        value, _ = _number_value(tok)
        if sign is not None and sign.type == "SUB":
            value = -value
        if abs(value) > MAX_DURATION_SECONDS:
            STATE.error(_tok_pos(sign) if sign is not None else _tok_pos(tok), "duration out of range")
            value = 0.0
        return _Modifier("offset", seconds_to_ms(value), tok.end_pos)

    def offset_duration_expr(self, children: list[Any]) -> _Modifier:
        tokens = [c for c in children if isinstance(c, Token)]
        start = tokens[0].start_pos if tokens else 0
        end = tokens[-1].end_pos if tokens else 0
        for child in children:
            if isinstance(child, _DExpr):
                start = min(start, child.pos[0]) if tokens else child.pos[0]
                end = max(end, child.pos[1])
        STATE.error((start, end), "experimental duration expression is not enabled")
        return _Modifier("offset", 0, end, ok=False)

    def at_timestamp(self, children: list[Any]) -> _Modifier:
        sign, tok = children
        value, _ = _number_value(tok)
        if sign is not None and sign.type == "SUB":
            value = -value
        return _Modifier("at", value, tok.end_pos)

    def at_start_end(self, children: list[Any]) -> _Modifier:
        return _Modifier("at", str(children[0]).lower(), children[-1].end_pos)

    def offset_expr(self, children: list[Any]) -> Expr:
        expr, _, modifier = children
        target = _modifier_target(expr)
        if target is None:
            STATE.error(expr.pos, "offset modifier must be preceded by an instant vector selector or range "
                                  "vector selector or a subquery")
            return expr
        current = target.selector.offset if isinstance(target, ast.MatrixSelector) else target.offset
        if current != 0:
            STATE.error(expr.pos, "offset may not be set multiple times")
            return expr
        return _with_modifier(target, "offset", modifier.value, modifier.end)

    def at_expr(self, children: list[Any]) -> Expr:
        expr, _, modifier = children
        value = modifier.value
        if isinstance(value, float):
            if math.isinf(value) or math.isnan(value) or not -(2.0**63) < value < 2.0**63:
                text = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf") if math.isinf(
                    value) else f"{value:f}"
                STATE.error(expr.pos, f"timestamp out of bounds for @ modifier: {text}")
                value = 0
            else:
                value = round(value * 1000)
        target = _modifier_target(expr)
        if target is None:
            STATE.error(expr.pos, "@ modifier must be preceded by an instant vector selector or range vector "
                                  "selector or a subquery")
            return expr
        current = target.selector.at if isinstance(target, ast.MatrixSelector) else target.at
        if current is not None:
            STATE.error(expr.pos, "@ <timestamp> may not be set multiple times")
            return expr
        return _with_modifier(target, "at", value, modifier.end)

    def range_attribute(self, children: list[Any]) -> Expr:
        expr, tok = children
        STATE.error(expr.pos, f"{str(tok).lower()} modifier is experimental and not enabled")
        return expr


def _with_modifier(target: Expr, kind: str, value: Any, end: int) -> Expr:
    if isinstance(target, ast.MatrixSelector):
        selector = replace(target.selector, **{kind: value})
        return replace(target, selector=selector, pos=(target.pos[0], end))
    return replace(target, **{kind: value}, pos=(target.pos[0], end))  # type: ignore[arg-type]
