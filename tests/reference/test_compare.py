import math

import pytest

from fletch.promqltest import Result, Series
from tests.reference.compare import assert_same_result, result_diff

A = {"__name__": "m", "job": "a"}
B = {"__name__": "m", "job": "b"}


def matrix(*series: tuple[dict[str, str], list[tuple[int, float]]]) -> Result:
    return Result.matrix(Series(labels, points) for labels, points in series)


def test_equal_within_relative_tolerance_and_order_free() -> None:
    ours = matrix((B, [(1, 2.0)]), (A, [(1, 1.0 + 5e-10), (2, math.nan)]))
    ref = matrix((A, [(1, 1.0), (2, math.nan)]), (B, [(1, 2.0)]))
    assert_same_result(ours, ref)
    assert result_diff(ours, ref, ordered=True) == ["series order differs"]


def test_differences_are_listed() -> None:
    ours = matrix((A, [(1, 1.0 + 2e-9), (3, 1.0)]), ({"x": "y"}, [(1, 0.0)]))
    ref = matrix((A, [(1, 1.0), (2, 1.0)]), (B, [(1, 2.0)]))
    problems = result_diff(ours, ref)
    assert problems == [
        'missing series {__name__="m", job="b"} (1 points)',
        'extra series {x="y"} (1 points)',
        '{__name__="m", job="a"}: missing point t=2 (reference 1.0)',
        '{__name__="m", job="a"}: extra point t=3 (ours 1.0)',
        '{__name__="m", job="a"}: t=1 ours=1.000000002 reference=1.0 (relative error 2e-09)',
    ]
    with pytest.raises(AssertionError, match=r"rate\(x\): 5 difference\(s\) from the reference"):
        assert_same_result(ours, ref, context="rate(x)")


def test_types_scalars_errors() -> None:
    assert result_diff(Result.of_scalar(1.0), Result.vector([])) == [
        "result type: ours=scalar reference=vector"]
    assert result_diff(Result.of_scalar(0.0), Result.of_scalar(1e-13)) == []  # absolute near 0
    assert result_diff(Result.of_scalar(1.0), Result.of_scalar(1.1)) == ["scalar: ours=1.0 reference=1.1"]
    assert result_diff(Result.failed("x"), Result.failed("y")) == []
    assert result_diff(Result.failed("x"), Result.of_scalar(1)) == ["error: ours='x' reference=None"]
    assert result_diff(Result.vector([(A, 5, math.inf)]), Result.vector([(A, 5, math.inf)])) == []
