import math

import pytest

from fletch.promqltest import Result, Series, almost_equal, compare_result, parse_text
from fletch.promqltest.compare import check_matrix_sorted
from fletch.promqltest.result import compare_labels, format_labels
from lake.schema import STALE_NAN


@pytest.mark.parametrize(("a", "b", "equal"), [
    (1.0, 1.0, True),
    (1.0, 1.0 + 1.9e-6, True),      # |a-b|/(|a|+|b|) < 1e-6: relative to the sum
    (1.0, 1.0 + 2.1e-6, False),
    (1e12, 1e12 + 1e6, True),
    (1e12, 1e12 + 3e6, False),
    (0.0, 1e-300, False),            # near 0 the tolerance is absolute (1e-6 * smallest normal)
    (0.0, 1e-315, True),
    (-0.0, 0.0, True),
    (math.nan, math.nan, True),
    (math.nan, 1.0, False),
    (STALE_NAN, STALE_NAN, True),
    (STALE_NAN, math.nan, False),    # a stale marker only equals a stale marker
    (math.inf, math.inf, True),
    (math.inf, -math.inf, False),
    (math.inf, 1e308, False),
])
def test_almost_equal(a: float, b: float, equal: bool) -> None:
    assert almost_equal(a, b) is equal
    assert almost_equal(b, a) is equal


def case(expected: str, kind: str = "instant at 1m", ordered: bool = False):
    text = f"eval {kind} x\n" + ("  expect ordered\n" if ordered else "") + expected
    return parse_text(text).evals[0]


def vec(*samples: tuple[dict[str, str], float]) -> Result:
    return Result.vector((labels, 60_000, v) for labels, v in samples)


def test_vector_matching_is_by_label_set_and_unordered() -> None:
    c = case('  x{a="1"} 1\n  x{a="2"} 2\n')
    assert compare_result(c, vec(({"__name__": "x", "a": "2"}, 2), ({"__name__": "x", "a": "1"}, 1))) is None
    x1, x2 = {"__name__": "x", "a": "1"}, {"__name__": "x", "a": "2"}
    assert compare_result(c, vec((x1, 1))) == 'expected metric {__name__="x", a="2"} not found'
    assert compare_result(c, vec((x1, 1), (x2, 2), ({"a": "3"}, 3))) == (
        'unexpected metric {a="3"} in result, has value 3')
    assert compare_result(c, vec((x1, 1.0000001), (x2, 2))) is None


def test_ordered_vector() -> None:
    c = case('  x{a="2"} 2\n  x{a="1"} 1\n', ordered=True)
    assert compare_result(c, vec(({"__name__": "x", "a": "2"}, 2), ({"__name__": "x", "a": "1"}, 1))) is None
    assert compare_result(c, vec(({"__name__": "x", "a": "1"}, 1), ({"__name__": "x", "a": "2"}, 2)))
    assert compare_result(c, Result.matrix([])) == "expected ordered result, but query returned a matrix"


def test_empty_expectation() -> None:
    c = case("")
    assert compare_result(c, vec()) is None
    assert compare_result(c, Result.matrix([])) is None
    assert compare_result(c, vec(({}, 1))) == "unexpected metric {} in result, has value 1"


def test_scalars_and_strings() -> None:
    c = case("  1.5\n")
    assert compare_result(c, Result.of_scalar(1.5)) is None
    assert compare_result(c, Result.of_scalar(1.6)) == "expected scalar 1.5 but got 1.6"
    assert compare_result(c, vec(({}, 1.5))) == "expected scalar result, but got vector"
    assert compare_result(case("  {} 1.5\n"), Result.of_scalar(1.5)).startswith("expected vector or matrix")
    s = case('  expect string "a b"\n')
    assert compare_result(s, Result.of_string("a b")) is None
    assert compare_result(s, Result.of_string("a")) == 'expected string "a b" but got "a"'


def test_range_missing_points_and_timestamps() -> None:
    c = case("  x 1 _ 3 stale\n", kind="range from 0 to 3m step 1m")
    ok = Series({"__name__": "x"}, [(0, 1.0), (120_000, 3.0), (180_000, STALE_NAN)])
    assert compare_result(c, Result.matrix([ok])) is None
    shifted = Series({"__name__": "x"}, [(0, 1.0), (60_000, 3.0), (180_000, STALE_NAN)])
    problem = compare_result(c, Result.matrix([shifted]))
    assert "to have timestamp 120000, but it had timestamp 60000" in problem
    nan = Series({"__name__": "x"}, [(0, 1.0), (120_000, 3.0), (180_000, math.nan)])
    assert "(t=180000)" in compare_result(c, Result.matrix([nan]))
    too_many = case("  x 1 2 3 4 5\n", kind="range from 0 to 3m step 1m")
    assert "cannot return this many points" in compare_result(too_many, Result.matrix([ok]))


def test_instant_matrix_needs_expect_range_vector() -> None:
    m = Result.matrix([Series({"__name__": "x"}, [(0, 1.0)])])
    assert "cannot return this many points" in compare_result(case("  x 1\n"), m)
    c = case("  expect range vector from 0 to 1m step 1m\n  x 1 2\n")
    two = Series({"__name__": "x"}, [(0, 1.0), (60_000, 2.0)])
    assert compare_result(c, Result.matrix([two])) is None


def test_label_order_and_formatting() -> None:
    assert compare_labels({"a": "1"}, {"a": "1", "b": "2"}) == -1
    assert compare_labels({"a": "2"}, {"a": "1", "b": "2"}) == 1
    assert compare_labels({"b": "1"}, {"a": "9", "c": "1"}) == 1
    assert compare_labels({"a": "1"}, {"a": "1"}) == 0
    unsorted = [Series({"a": "2"}), Series({"a": "1"})]
    assert check_matrix_sorted(unsorted).startswith("matrix results should always be sorted")
    assert check_matrix_sorted(unsorted[::-1]) is None
    assert format_labels({"b": 'q"', "__name__": "m"}) == '{__name__="m", b="q\\""}'


def test_result_from_prometheus_json() -> None:
    vector = Result.from_prometheus_json({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "up"}, "value": [1.5, "NaN"]}]}, "warnings": ["w"]})
    assert vector.type == "vector" and vector.warnings == ["w"]
    assert vector.series[0].labels == {"__name__": "up"} and vector.series[0].points[0][0] == 1500
    assert math.isnan(vector.series[0].points[0][1])
    matrix = Result.from_prometheus_json({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[1, "+Inf"], [2.001, "-1"]]}]}})
    assert matrix.series[0].points == [(1000, math.inf), (2001, -1.0)]
    assert Result.from_prometheus_json({"status": "success", "data": {"resultType": "scalar",
                                                                      "result": [4, "2"]}}).scalar == 2.0
    error = Result.from_prometheus_json({"status": "error", "errorType": "bad_data", "error": "parse error"})
    assert (error.type, error.error) == (None, "parse error")
