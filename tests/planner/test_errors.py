# ruff: noqa: E501  (a table of queries reads best one case per line)
"""Every class of parse and type error, with Prometheus's message and position."""

from __future__ import annotations

import pytest

from planner import ParseError, parse
from planner.errors import ErrorItem, FletchError, QueryError

ERRORS = [
    # lexer
    ("{", "1:2: parse error: unexpected end of input inside braces"),
    ("some{", "1:6: parse error: unexpected end of input inside braces"),
    ("}", "1:1: parse error: unexpected character: '}'"),
    ("(", "1:2: parse error: unclosed left parenthesis"),
    ("((1)", "1:5: parse error: unclosed left parenthesis"),
    ("(1))", "1:5: parse error: unexpected right parenthesis ')'"),
    ("foo[5m", "1:7: parse error: unclosed left bracket"),
    ("foo[", "1:5: parse error: unexpected end of input in duration expression"),
    ("foo]", "1:4: parse error: unexpected right bracket ']'"),
    ("foo[5m][1m]", "1:8: parse error: ranges only allowed for vector selectors"),
    (".", "1:1: parse error: unexpected character: '.'"),
    ("2.5.", '1:1: parse error: bad number or duration syntax: "2.5."'),
    ("0deadbeef", '1:1: parse error: bad number or duration syntax: "0de"'),
    ("1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"),
    ("1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"),
    ("some_metric{a:b=\"b\"}", "1:14: parse error: unexpected character inside braces: ':'"),
    ('foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"),
    ('foo{a!b="c"}', "1:6: parse error: unexpected character after '!' inside braces: 'b'"),
    ("foo{{", "1:5: parse error: unexpected left brace '{'"),
    ('"\\', "1:1: parse error: escape sequence not terminated"),
    ('"\\c"', "1:1: parse error: unknown escape sequence U+0063 'c'"),
    ('"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"),
    ('"\\ud800"', "1:1: parse error: escape sequence is an invalid Unicode code point"),
    ('"abc', "1:1: parse error: unterminated quoted string"),
    ("`abc", "1:1: parse error: unterminated raw string"),
    ('"\ufffd"', "1:1: parse error: invalid UTF-8 rune"),
    ("foo[5s x 5s]", "1:8: parse error: unexpected character: 'x', expected ':'"),
    ('foo["5m"]', "1:5: parse error: unexpected character in duration expression: '\"'"),
    ("foo[5m:1m:1m]", "1:10: parse error: unexpected colon ':'"),
    ("foo[:5m]", "1:6: parse error: unexpected colon before duration in duration expression"),
    # syntax (yacc error rules)
    ("", "unknown position: parse error: no expression found in input"),
    ("# just a comment\n\n", "1:1: parse error: no expression found in input"),
    ("1+", "1:3: parse error: unexpected end of input"),
    ("*1", "1:1: parse error: unexpected <op:*>"),
    ("@@", "1:1: parse error: unexpected <op:@>"),
    ("-=", '1:2: parse error: unexpected "="'),
    ("foo bar", '1:5: parse error: unexpected identifier "bar"'),
    ("foo 1", '1:5: parse error: unexpected number "1"'),
    ('foo "a string that is long"', '1:5: parse error: unexpected string "\\"a string "...'),
    ("a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"),
    ("foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"),
    ("sum(foo) sum", "1:10: parse error: unexpected <aggr:sum>"),
    ("sum(1 +)", '1:8: parse error: unexpected ")" in aggregation'),
    ("some_metric{a=b}", '1:15: parse error: unexpected identifier "b" in label matching, expected string'),
    ("foo{gibberish}", '1:14: parse error: unexpected "}" in label matching, expected label matching operator'),
    ("foo{,}", '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'),
    ('foo{__name__= =}', '1:15: parse error: unexpected "=" in label matching, expected string'),
    ('foo{__name__="bar" lol}',
     '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"'),
    ("sum without(==)(some_metric)", "1:13: parse error: unexpected <op:==> in grouping opts, expected label"),
    ("sum without(foo,,)(some_metric)", '1:17: parse error: unexpected "," in grouping opts, expected label'),
    ("sum (some_metric) by test",
     '1:22: parse error: unexpected identifier "test" in grouping opts, expected "("'),
    ("sum by (a b) (x)", '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'),
    ("sum some_metric by (test)", '1:5: parse error: unexpected identifier "some_metric"'),
    ("sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"),
    ("some_metric[5m] OFFSET",
     "1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"),
    ("some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"),
    ("foo[]",
     '1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), '
     "or range()"),
    ("foo[step]",
     '1:9: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), '
     "or range()"),
    ("foo[5m 1m]", '1:8: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]"'),
    ("foo[5m:1m 1m]", '1:11: parse error: unexpected duration "1m" in subquery selector, expected "]"'),
    ("topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"),
    # grammar-action errors
    ("non_existent_function_far_bar()",
     '1:1: parse error: unknown function with name "non_existent_function_far_bar"'),
    ("a>b()", '1:3: parse error: unknown function with name "b"'),
    ("sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"),
    ("topk(some_metric)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
    ("sum(a, b)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"),
    ("1 offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector "
     "selector or a subquery"),
    ("foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"),
    ("foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    ("rate(x[5m]) @ 1234",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector "
     "or a subquery"),
    ("foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"),
    ("foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"),
    ("some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"),
    ("some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"),
    ("(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"),
    ("foo[0m]", "1:5: parse error: duration must be greater than 0"),
    ("foo[-1]", "1:5: parse error: duration must be greater than 0"),
    ("foo[5m:0s]", "1:8: parse error: duration must be greater than 0"),
    ("foo[5y1hs]", '1:5: parse error: unknown unit "hs" in duration "5y1hs"'),
    ("foo[5m1h]", '1:5: parse error: not a valid duration string: "5m1h"'),
    ("foo offset 9.5e10", "1:12: parse error: duration out of range"),
    ("1e400", '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range'),
    ('foo{a=~"(b"}', "1:5: parse error: error parsing regexp: missing ), unterminated subpattern at "
                     'position 0: `(b`'),
    ('sum by ("") (x)', '1:9: parse error: invalid label name for grouping: ""'),
    ("foo[5m+1m]", "1:5: parse error: experimental duration expression is not enabled"),
    ("foo offset step()", "1:12: parse error: experimental duration expression is not enabled"),
    ("foo anchored", "1:1: parse error: anchored modifier is experimental and not enabled"),
    ("a + fill(0) b", "1:1: parse error: binop fill modifiers are experimental and not enabled"),
    # type checking
    ("1 and 1", '1:1: parse error: set operator "and" not allowed in binary scalar expression'),
    ("foo or 1", '1:1: parse error: set operator "or" not allowed in binary scalar expression'),
    ("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
    ("foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"),
    ("foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"),
    ("foo and on(bar) group_left(baz) bar", '1:1: parse error: no grouping allowed for "and" operation'),
    ('a + on(instance) group_left(job, instance) b',
     '1:3: parse error: label "instance" must not occur in ON and GROUP clause at once'),
    ("foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
    ('"a" + 1', "1:1: parse error: binary expression must contain only scalar and instant vector types"),
    ('-"string"',
     '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'),
    ("-test[5m]",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, "
     'got "range vector"'),
    ("test[5d] OFFSET 10s [10m:5s]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"),
    ("sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"),
    ("topk(some_metric, other_metric)",
     "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"),
    ("count_values(5, other_metric)", "1:14: parse error: expected type string in aggregation parameter, got scalar"),
    ("floor()", '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'),
    ("floor(1)", '1:7: parse error: expected type instant vector in call to function "floor", got scalar'),
    ("hour(a, a, a)", '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'),
    ("label_join(a)", '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1'),
    ("rate(some_metric)",
     '1:6: parse error: expected type range vector in call to function "rate", got instant vector'),
    ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x=~".*"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('{x!="a"}', "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ('foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'),
    ('info(rate(m[5m]), target_info{foo="bar"})',
     "1:19: parse error: expected label selectors only, got vector selector instead"),
    # positions on later lines count lines and UTF-8 bytes
    ("foo +\n  bar{", "2:7: parse error: unexpected end of input inside braces"),
    ('"ä" + {', "1:9: parse error: unexpected end of input inside braces"),
]


@pytest.mark.parametrize(("query", "message"), ERRORS, ids=[q for q, _ in ERRORS])
def test_error_message(query: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(query)
    assert str(caught.value) == message


def test_parse_error_is_a_bad_data_query_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse("foo{")
    err = caught.value
    assert isinstance(err, QueryError) and isinstance(err, FletchError)
    assert err.error_type == "bad_data"
    assert err.pos == (4, 4)
    assert err.message == "unexpected end of input inside braces"
    assert isinstance(err.errors[0], ErrorItem)


def test_all_errors_are_kept_in_order() -> None:
    with pytest.raises(ParseError) as caught:
        parse("foo and on(bar) group_left(baz) bar")
    assert [e.message for e in caught.value.errors] == [
        'no grouping allowed for "and" operation', "set operations must always be many-to-many"]


def test_experimental_functions_can_be_disabled() -> None:
    with pytest.raises(ParseError, match='function "mad_over_time" is not enabled'):
        parse("mad_over_time(x[5m])", experimental_functions=False)
    with pytest.raises(ParseError, match=r"limitk\(\) is experimental"):
        parse("limitk(1, x)", experimental_functions=False)
