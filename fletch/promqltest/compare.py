"""The checks Prometheus's test framework applies to one answer (a port of test.go).

Each check returns None when the answer is acceptable, else a short description of the first
difference, worded like Prometheus's own messages.
"""

from __future__ import annotations

import math
import struct

from fletch.promqltest.model import NO_END, EvalCase, Expect, labels_key
from fletch.promqltest.result import Result, Series, compare_labels, format_labels, format_value

EPSILON = 1e-6  # test.go defaultEpsilon: relative error allowed for sample values
MIN_NORMAL = struct.unpack("<d", struct.pack("<Q", 0x0010000000000000))[0]
_STALE_BITS = 0x7FF0000000000002


def is_stale_nan(value: float) -> bool:
    return struct.unpack("<Q", struct.pack("<d", value))[0] == _STALE_BITS


def almost_equal(a: float, b: float, epsilon: float = EPSILON) -> bool:
    """`util/almost.Equal`: |a-b| / (|a|+|b|) < epsilon; absolute near 0; NaN == NaN; StaleNaN only
    equals StaleNaN."""
    if is_stale_nan(a) or is_stale_nan(b):
        return is_stale_nan(a) and is_stale_nan(b)
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < MIN_NORMAL:
        return diff < epsilon * MIN_NORMAL
    return diff / min(abs_sum, 1.7976931348623157e308) < epsilon


def check_expected_failure(case: EvalCase, error: str) -> str | None:
    if case.fail_message is not None and case.fail_message != error:
        return f"expected error {case.fail_message!r}, but got: {error}"
    if case.fail_regexp is not None:
        import re
        if re.search(case.fail_regexp, error) is None:
            return f"expected error matching pattern {case.fail_regexp!r}, but got: {error}"
    fails = case.of_type("fail")
    if fails and not fails[0].matches(error):
        return f"expected error matching {fails[0].describe()}, but got: {error}"
    return None


def _check_of_type(expected: list[Expect], actual: list[str], kind: str) -> str | None:
    if not expected:
        return None
    if not actual:
        return f"expected {kind} annotations but none were found"
    for e in expected:
        if not any(e.matches(a) for a in actual):
            return f"expected {kind} annotation matching {e.describe()} but none was found, found: {actual}"
    for a in actual:
        if not any(e.matches(a) for e in expected):
            return f"unexpected {kind} annotation {a!r}"
    return None


def check_annotations(case: EvalCase, result: Result) -> str | None:
    if case.legacy_warn and not result.warnings:
        return "expected warnings but got none"
    if case.legacy_info and not result.infos:
        return "expected info annotations but got none"
    problem = (_check_of_type(case.of_type("warn"), result.warnings, "warn")
               or _check_of_type(case.of_type("info"), result.infos, "info"))
    if problem:
        return problem
    if case.of_type("no_warn") and result.warnings:
        return f"unexpected warning annotations: {result.warnings}"
    if case.of_type("no_info") and result.infos:
        return f"unexpected info annotations: {result.infos}"
    return None


def check_matrix_sorted(series: list[Series]) -> str | None:
    for i in range(len(series) - 1):
        if compare_labels(series[i].labels, series[i + 1].labels) > 0:
            return (f"matrix results should always be sorted by labels, but series at index {i + 1} "
                    f"with labels {format_labels(series[i + 1].labels)} sorts before series at index {i} "
                    f"with labels {format_labels(series[i].labels)}")
    return None


def compare_result(case: EvalCase, result: Result) -> str | None:
    """`evalCmd.compareResult`: the value against the expected series, scalar or string."""
    match result.type:
        case "matrix":
            return _compare_matrix(case, result.series)
        case "vector":
            return _compare_vector(case, result.series)
        case "scalar":
            got = result.scalar if result.scalar is not None else math.nan
            if not case.expect_scalar:
                return f"expected vector or matrix result, but got scalar {format_value(got)}"
            expected = case.expected[()].values[0].value
            if not almost_equal(expected, got):
                return f"expected scalar {format_value(expected)} but got {format_value(got)}"
            return None
        case "string":
            if case.expected_string != result.string:
                return f'expected string "{case.expected_string}" but got "{result.string}"'
            return None
    return f"unexpected result type {result.type!r}"


def _compare_matrix(case: EvalCase, series: list[Series]) -> str | None:
    if case.ordered:
        return "expected ordered result, but query returned a matrix"
    if case.expect_scalar:
        return "expected scalar result, but got matrix"
    problem = check_matrix_sorted(series)
    if problem:
        return problem
    seen = set()
    for s in series:
        key = labels_key(s.labels)
        exp = case.expected.get(key)
        if exp is None:
            return f"unexpected metric {format_labels(s.labels)} in result, has {_points(s)}"
        seen.add(key)
        expected: list[tuple[int, float]] = []
        for i, v in enumerate(exp.values):
            t = case.start_ms + i * case.step_ms
            if case.end_ms == NO_END or t > case.end_ms:
                return (f"expected {len(exp.values)} points for {format_labels(exp.labels)}, but query time "
                        "range cannot return this many points")
            if v.histogram is None and not v.omitted:
                expected.append((t, v.value))
        if len(expected) != len(s.points):
            return (f"expected {len(expected)} float points for {format_labels(exp.labels)}, "
                    f"but got {_points(s)}")
        for i, ((et, ev), (at, av)) in enumerate(zip(expected, s.points, strict=True)):
            if et != at:
                return (f"expected float value at index {i} for {format_labels(exp.labels)} to have "
                        f"timestamp {et}, but it had timestamp {at} (result has {_points(s)})")
            if not almost_equal(av, ev):
                return (f"expected float value at index {i} (t={at}) for {format_labels(exp.labels)} to be "
                        f"{format_value(ev)}, but got {format_value(av)} (result has {_points(s)})")
    for key, exp in case.expected.items():
        if key not in seen:
            return f"expected metric {format_labels(exp.labels)} not found"
    return None


def _compare_vector(case: EvalCase, samples: list[Series]) -> str | None:
    if case.expect_scalar:
        return "expected scalar result, but got vector"
    seen = set()
    for pos, s in enumerate(samples):
        key = labels_key(s.labels)
        value = s.points[0][1] if s.points else math.nan
        exp = case.expected.get(key)
        if exp is None:
            return f"unexpected metric {format_labels(s.labels)} in result, has value {format_value(value)}"
        if case.ordered and exp.pos != pos + 1:
            return f"expected metric {format_labels(s.labels)} at position {exp.pos} but was at {pos + 1}"
        if not exp.values:
            return f"expected line for {format_labels(s.labels)} has no value"
        first, name = exp.values[0], format_labels(s.labels)
        if first.histogram is not None:
            return f"expected histogram for {name} but got float value {format_value(value)}"
        if not almost_equal(first.value, value):
            return f"expected {format_value(first.value)} for {name} but got {format_value(value)}"
        seen.add(key)
    for key, exp in case.expected.items():
        if key not in seen:
            return f"expected metric {format_labels(exp.labels)} not found"
    return None


def _points(s: Series) -> str:
    shown = ", ".join(f"{format_value(v)} @[{t}]" for t, v in s.points[:10])
    more = f", ... ({len(s.points)} in all)" if len(s.points) > 10 else ""
    return f"{len(s.points)} float point{'s' if len(s.points) != 1 else ''} [{shown}{more}]"
