"""The type checker: Prometheus's `checkAST`, run only after a successful parse.

`check(expr, text)` returns every error as ((start, end), message) in the order Prometheus
finds them; `planner.parse.parse` turns them into a `ParseError`.
"""

from __future__ import annotations

from dataclasses import replace

from planner import ast
from planner.ast import Card, Expr, ValueType, VectorMatching
from planner.functions import AGGREGATIONS, BINOPS, FUNCTIONS
from planner.gostr import go_quote

PosRange = tuple[int, int]
_SPACE = " \t\n\r"


def effective_matching(expr: ast.BinaryExpr) -> VectorMatching | None:
    """The vector matching Prometheus evaluates with: None unless both sides are instant
    vectors, many-to-many for set operators."""
    if expr.lhs.type is not ValueType.VECTOR or expr.rhs.type is not ValueType.VECTOR:
        return None
    if BINOPS[expr.op].kind == "set" and expr.matching.card is Card.ONE_TO_ONE:
        return replace(expr.matching, card=Card.MANY_TO_MANY)
    return expr.matching


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.errors: list[tuple[PosRange, str]] = []

    def error(self, pos: PosRange, message: str) -> None:
        self.errors.append((pos, message))

    def expect(self, node: Expr, want: ValueType, context: str) -> None:
        got = self.check(node)
        if got is not want:
            self.error(node.pos, f"expected type {want.documented} in {context}, got {got.documented}")

    def op_range(self, node: ast.BinaryExpr) -> PosRange:
        start, end = node.lhs.pos[1], node.rhs.pos[0] - 1
        while start < len(self.text) and self.text[start] in _SPACE:
            start += 1
        while end > start and self.text[end] in _SPACE:
            end -= 1
        return (start, end)

    def check(self, node: Expr, bypass_empty_matcher: bool = False) -> ValueType:
        match node:
            case ast.AggregateExpr():
                self.expect(node.expr, ValueType.VECTOR, "aggregation expression")
                param_type = AGGREGATIONS[node.op].param_type
                if param_type is not None and node.param is not None:
                    self.expect(node.param, param_type, "aggregation parameter")
            case ast.BinaryExpr():
                self.check_binary(node)
            case ast.Call():
                self.check_call(node)
            case ast.ParenExpr():
                self.check(node.expr)
            case ast.UnaryExpr():
                got = self.check(node.expr)
                if got not in (ValueType.SCALAR, ValueType.VECTOR):
                    self.error(node.pos, "unary expression only allowed on expressions of type scalar or "
                                         f"instant vector, got {go_quote(got.documented)}")
            case ast.SubqueryExpr():
                got = self.check(node.expr)
                if got is not ValueType.VECTOR:
                    self.error(node.pos,
                               f"subquery is only allowed on instant vector, got {got.value} instead")
            case ast.MatrixSelector():
                self.check(node.selector)
            case ast.VectorSelector():
                self.check_selector(node, bypass_empty_matcher)
            case ast.NumberLiteral() | ast.StringLiteral():
                pass
            case _:
                raise AssertionError(f"unhandled node {type(node)}")
        return node.type

    def check_binary(self, node: ast.BinaryExpr) -> None:
        lt, rt = self.check(node.lhs), self.check(node.rhs)
        kind = BINOPS[node.op].kind
        matching = node.matching
        if node.return_bool and kind != "comparison":
            self.error(self.op_range(node), "bool modifier can only be used on comparison operators")
        if kind == "comparison" and not node.return_bool and lt is rt is ValueType.SCALAR:
            self.error(self.op_range(node), "comparisons between scalars must use BOOL modifier")
        card = Card.MANY_TO_MANY if kind == "set" and matching.card is Card.ONE_TO_ONE else matching.card
        if matching.on:
            for label in matching.labels:
                if label in matching.include:
                    self.error(self.op_range(node), f"label {go_quote(label)} must not occur in ON and GROUP "
                                                    "clause at once")
        for side, side_type in ((node.lhs, lt), (node.rhs, rt)):
            if side_type not in (ValueType.SCALAR, ValueType.VECTOR):
                self.error(side.pos, "binary expression must contain only scalar and instant vector types")
        if lt is not ValueType.VECTOR or rt is not ValueType.VECTOR:
            if matching.labels:
                self.error(node.pos, "vector matching only allowed between instant vectors")
        elif kind == "set":
            if card in (Card.ONE_TO_MANY, Card.MANY_TO_ONE):
                self.error(node.pos, f"no grouping allowed for {go_quote(node.op)} operation")
            if card is not Card.MANY_TO_MANY:
                self.error(node.pos, "set operations must always be many-to-many")
        if kind == "set" and ValueType.SCALAR in (lt, rt):
            self.error(node.pos, f"set operator {go_quote(node.op)} not allowed in binary scalar expression")

    def check_call(self, node: ast.Call) -> None:
        spec = FUNCTIONS.get(node.func)
        if spec is None:
            self.error(node.pos, f"unknown function with name {go_quote(node.func)}")
            return
        nargs, given = len(spec.arg_types), len(node.args)
        if spec.variadic == 0:
            if nargs != given:
                self.error(node.pos,
                           f"expected {nargs} argument(s) in call to {go_quote(spec.name)}, got {given}")
        elif spec.min_args > given:
            self.error(node.pos, f"expected at least {spec.min_args} argument(s) in call to "
                                 f"{go_quote(spec.name)}, got {given}")
        elif spec.max_args is not None and spec.max_args < given:
            self.error(node.pos, f"expected at most {spec.max_args} argument(s) in call to "
                                 f"{go_quote(spec.name)}, got {given}")
        bypass_second = False
        if spec.name == "info" and given > 1:
            bypass_second = self.check_info_selector(node)
        for index, arg in enumerate(node.args):
            if index >= nargs and spec.variadic == 0:
                break
            want = spec.arg_type(index)
            got = self.check(arg, bypass_empty_matcher=bypass_second and index == 1)
            if got is not want:
                self.error(arg.pos, f"expected type {want.documented} in call to function "
                                    f"{go_quote(spec.name)}, got {got.documented}")

    def check_info_selector(self, node: ast.Call) -> bool:
        second = node.args[1]
        if second.type is not ValueType.VECTOR:
            self.error(node.pos, f"expected type instant vector in call to function \"info\", got "
                                 f"{second.type.documented}")
        if isinstance(second, ast.VectorSelector) and second.name:
            self.error(second.pos, "expected label selectors only, got vector selector instead")
            return False
        if isinstance(second, ast.VectorSelector):
            return True
        self.error(second.pos, "expected label selectors only")
        return False

    def check_selector(self, node: ast.VectorSelector, bypass_empty_matcher: bool) -> None:
        if node.name:
            for matcher in node.matchers:
                if matcher.name == "__name__":
                    self.error(node.pos, f"metric name must not be set twice: {go_quote(node.name)} or "
                                         f"{go_quote(matcher.value)}")
            return
        if not bypass_empty_matcher and all(m.matches("") for m in node.matchers):
            self.error(node.pos, "vector selector must contain at least one non-empty matcher")


def check(expr: Expr, text: str = "") -> list[tuple[PosRange, str]]:
    """All type errors in `expr` (empty when it is valid)."""
    checker = _Checker(text)
    checker.check(expr)
    return checker.errors
