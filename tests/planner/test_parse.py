# ruff: noqa: E501  (a table of queries reads best one case per line)
"""Parser table: query -> expected AST (positions are not compared), plus precedence,
associativity, literals, keywords used as names and positions of selected nodes."""

from __future__ import annotations

import math

import pytest

from planner import parse
from planner.ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    Card,
    Matcher,
    MatchOp,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    VectorMatching,
    VectorSelector,
)


def vs(name: str = "", *matchers: tuple[str, str, str], offset: int = 0, at: object = None) -> VectorSelector:
    return VectorSelector(name, tuple(Matcher(n, MatchOp(o), v) for n, o, v in matchers), offset, at)  # type: ignore[arg-type]


def num(value: float, duration: bool = False) -> NumberLiteral:
    return NumberLiteral(value, duration)


def b(op: str, lhs: object, rhs: object, **kw: object) -> BinaryExpr:
    return BinaryExpr(op, lhs, rhs, **kw)  # type: ignore[arg-type]


A, B, C, D = vs("a"), vs("b"), vs("c"), vs("d")

CASES = [
    # number literals
    ("1", num(1)),
    ("+Inf", num(math.inf)),
    ("-Inf", num(-math.inf)),
    ("NaN", num(math.nan)),
    ("nan", num(math.nan)),
    (".5", num(0.5)),
    ("5.", num(5)),
    ("123.4567", num(123.4567)),
    ("5e-3", num(0.005)),
    ("5e3", num(5000)),
    ("0x3d", num(61)),
    ("0X1F", num(31)),
    ("017", num(15)),
    ("09", num(9)),
    ("1_000_000", num(1_000_000)),
    ("0x_1F", num(31)),
    ("1.5_5", num(1.55)),
    ("-1", num(-1)),
    ("- 1", num(-1)),
    ("--1", num(1)),
    ("5m", num(300, True)),
    ("1h30m", num(5400, True)),
    ("-5m", num(-300, True)),
    ("250ms", num(0.25, True)),
    # strings
    ('"double"', StringLiteral("double")),
    ("'single'", StringLiteral("single")),
    ("`raw\\n`", StringLiteral("raw\\n")),
    (r'"a\nb\t\"c\\"', StringLiteral('a\nb\t"c\\')),
    (r"'it\'s'", StringLiteral("it's")),
    (r'"\u00e9\U0001F600\x41\101"', StringLiteral("é😀AA")),
    # precedence and associativity
    ("1 + 2 * 3", b("+", num(1), b("*", num(2), num(3)))),
    ("1 * 2 + 3", b("+", b("*", num(1), num(2)), num(3))),
    ("1 - 2 - 3", b("-", b("-", num(1), num(2)), num(3))),
    ("2 ^ 3 ^ 2", b("^", num(2), b("^", num(3), num(2)))),
    ("a / b / c", b("/", b("/", A, B), C)),
    ("a % b atan2 c", b("atan2", b("%", A, B), C)),
    ("a + b > c", b(">", b("+", A, B), C)),
    ("a > b and c", b("and", b(">", A, B), C)),
    ("a and b or c unless d", b("or", b("and", A, B), b("unless", C, D))),
    ("a or b and c", b("or", A, b("and", B, C))),
    ("a unless b and c", b("and", b("unless", A, B), C)),
    ("-a ^ b", UnaryExpr("-", b("^", A, B))),
    ("-a * b", b("*", UnaryExpr("-", A), B)),
    ("a ^ -b", b("^", A, UnaryExpr("-", B))),
    ("a ^ -b * c", b("*", b("^", A, UnaryExpr("-", B)), C)),
    ("-2 ^ 2", UnaryExpr("-", b("^", num(2), num(2)))),
    ("(a + b) * c", b("*", ParenExpr(b("+", A, B)), C)),
    ("+a", UnaryExpr("+", A)),
    ("a + -b offset 5m", b("+", A, UnaryExpr("-", vs("b", offset=300_000)))),
    ("1 == bool 2", b("==", num(1), num(2), return_bool=True)),
    ("a > bool b", b(">", A, B, return_bool=True)),
    # vector matching
    ("a + on(x, y) b", b("+", A, B, matching=VectorMatching(labels=("x", "y"), on=True))),
    ("a + ignoring(x) b", b("+", A, B, matching=VectorMatching(labels=("x",)))),
    ("a * on(x) group_left(y) b",
     b("*", A, B, matching=VectorMatching(Card.MANY_TO_ONE, ("x",), True, ("y",)))),
    ("a * ignoring(x) group_right b",
     b("*", A, B, matching=VectorMatching(Card.ONE_TO_MANY, ("x",), False, ()))),
    ("a > bool on() b", b(">", A, B, return_bool=True, matching=VectorMatching(on=True))),
    ('a and on("a.b") b', b("and", A, B, matching=VectorMatching(labels=("a.b",), on=True))),
    # selectors
    ("foo", vs("foo")),
    ("foo:bar:rate5m", vs("foo:bar:rate5m")),
    (':foo', vs(":foo")),
    ('foo{a="b", c!="d", e=~"f.*", g!~"h"}',
     vs("foo", ("a", "=", "b"), ("c", "!=", "d"), ("e", "=~", "f.*"), ("g", "!~", "h"))),
    ('{__name__="foo"}', vs("", ("__name__", "=", "foo"))),
    ('{__name__=~"foo|bar", a="b",}', vs("", ("__name__", "=~", "foo|bar"), ("a", "=", "b"))),
    ('{"my.metric"}', vs("", ("__name__", "=", "my.metric"))),
    ('{"my.metric", "a.b"="x"}', vs("", ("__name__", "=", "my.metric"), ("a.b", "=", "x"))),
    ("foo{a='b'}", vs("foo", ("a", "=", "b"))),
    ("foo{a=`b\\c`}", vs("foo", ("a", "=", "b\\c"))),
    ("foo{on='x', by='y', sum='z'}", vs("foo", ("on", "=", "x"), ("by", "=", "y"), ("sum", "=", "z"))),
    ("foo # a comment\n", vs("foo")),
    ("foo offset 5m", vs("foo", offset=300_000)),
    ("foo offset -5m", vs("foo", offset=-300_000)),
    ("foo OFFSET 1h30m", vs("foo", offset=5_400_000)),
    ("foo offset 90", vs("foo", offset=90_000)),
    ("foo @ 1603774568", vs("foo", at=1_603_774_568_000)),
    ("foo @ -100.5", vs("foo", at=-100_500)),
    ("foo @ start()", vs("foo", at="start")),
    ("foo @ end() offset 1m", vs("foo", offset=60_000, at="end")),
    ("foo offset 1m @ end()", vs("foo", offset=60_000, at="end")),
    ("foo[5m]", MatrixSelector(vs("foo"), 300_000)),
    ("foo[5m] offset 1m @ 10", MatrixSelector(vs("foo", offset=60_000, at=10_000), 300_000)),
    ("foo[90]", MatrixSelector(vs("foo"), 90_000)),
    ("foo[1.5]", MatrixSelector(vs("foo"), 1_500)),
    ("foo[5m:1m]", SubqueryExpr(vs("foo"), 300_000, 60_000)),
    ("foo[5m:]", SubqueryExpr(vs("foo"), 300_000, 0)),
    ("foo[5m:] offset 1m @ start()", SubqueryExpr(vs("foo"), 300_000, 0, 60_000, "start")),
    ("rate(foo[5m])[30m:1m]", SubqueryExpr(Call("rate", (MatrixSelector(vs("foo"), 300_000),)), 1_800_000, 60_000)),
    ("min_over_time(foo[5m:1m])[10m:]",
     SubqueryExpr(Call("min_over_time", (SubqueryExpr(vs("foo"), 300_000, 60_000),)), 600_000)),
    # keywords used as names
    ('offset{step="1s"}[5m]', MatrixSelector(vs("offset", ("step", "=", "1s")), 300_000)),
    ("sum", vs("sum")),
    ("by", vs("by")),
    ("and", vs("and")),
    ("start", vs("start")),
    ("fill + fill", b("+", vs("fill"), vs("fill"))),
    ("sum + on", None),
    ("avg_over_time(rate[5m])", Call("avg_over_time", (MatrixSelector(vs("rate"), 300_000),))),
    ("sum by (bool, on, offset, sum) (x)", AggregateExpr("sum", vs("x"), None, ("bool", "on", "offset", "sum"))),
    # aggregations
    ("sum(foo)", AggregateExpr("sum", vs("foo"))),
    ("SUM(foo)", AggregateExpr("sum", vs("foo"))),
    ("sum by (a, b) (foo)", AggregateExpr("sum", vs("foo"), None, ("a", "b"))),
    ("sum(foo) by (a, b,)", AggregateExpr("sum", vs("foo"), None, ("a", "b"))),
    ("sum without (a) (foo)", AggregateExpr("sum", vs("foo"), None, ("a",), True)),
    ("sum(foo) without ()", AggregateExpr("sum", vs("foo"), None, (), True)),
    ("sum by () (foo)", AggregateExpr("sum", vs("foo"))),
    ('sum by ("a.b", c) (foo)', AggregateExpr("sum", vs("foo"), None, ("a.b", "c"))),
    ("topk(5, foo)", AggregateExpr("topk", vs("foo"), num(5))),
    ("bottomk by (a) (5, foo)", AggregateExpr("bottomk", vs("foo"), num(5), ("a",))),
    ("quantile(0.9, foo)", AggregateExpr("quantile", vs("foo"), num(0.9))),
    ('count_values("v", foo)', AggregateExpr("count_values", vs("foo"), StringLiteral("v"))),
    ("limitk(2, foo)", AggregateExpr("limitk", vs("foo"), num(2))),
    ("limit_ratio(0.5, foo)", AggregateExpr("limit_ratio", vs("foo"), num(0.5))),
    ("group(foo)", AggregateExpr("group", vs("foo"))),
    ("stddev(foo) + stdvar(foo)", b("+", AggregateExpr("stddev", vs("foo")), AggregateExpr("stdvar", vs("foo")))),
    # functions
    ("time()", Call("time")),
    ("rate(foo[5m])", Call("rate", (MatrixSelector(vs("foo"), 300_000),))),
    ("round(foo, 0.5)", Call("round", (vs("foo"), num(0.5)))),
    ("day_of_week()", Call("day_of_week")),
    ('label_join(foo, "d", ",", "a", "b", "c")',
     Call("label_join", (vs("foo"), *(StringLiteral(s) for s in ("d", ",", "a", "b", "c"))))),
    ("histogram_quantile(0.9, rate(b[5m]))",
     Call("histogram_quantile", (num(0.9), Call("rate", (MatrixSelector(vs("b"), 300_000),))))),
]


@pytest.mark.parametrize(("query", "expected"), [c for c in CASES if c[1] is not None], ids=lambda x: str(x))
def test_parse(query: str, expected: object) -> None:
    assert parse(query) == expected


def test_keyword_after_operator_is_an_error() -> None:
    from planner import ParseError

    with pytest.raises(ParseError):
        parse("sum + on")


@pytest.mark.parametrize(("query", "pos"), [
    ("foo", (0, 3)),
    ('  foo{a="b"} offset 5m', (2, 22)),
    ("foo[5m] @ 10", (0, 12)),
    ("sum by (a) (x)", (0, 14)),
    ("sum(x) by (a)", (0, 13)),
    ("rate(x[5m])", (0, 11)),
    ("-x", (0, 2)),
    ("-1", (0, 2)),
    ("(x)", (0, 3)),
    ("x[5m:1m]", (0, 8)),
])
def test_positions(query: str, pos: tuple[int, int]) -> None:
    assert parse(query).pos == pos


def test_positions_are_not_part_of_equality() -> None:
    assert parse("foo + bar") == parse("  foo+bar  ")
    assert hash(parse("foo + bar")) == hash(parse("  foo+bar  "))


def test_matcher_order_is_not_part_of_equality() -> None:
    assert parse('foo{a="1",b="2"}') == parse('foo{b="2",a="1"}')


def test_invalid_utf8_bytes_survive_as_escapes() -> None:
    expr = parse(r'label_replace(m, "\xff", "", "src", "(.*)")')
    assert str(expr) == r'label_replace(m, "\xff", "", "src", "(.*)")'
