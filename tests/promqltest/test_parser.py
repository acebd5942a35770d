import re
from pathlib import Path

import pytest

from fletch.promqltest import IN_SCOPE_FILES, OUT_OF_SCOPE_FILES, parse_file, parse_text
from fletch.promqltest.model import NO_END, ClearCmd, LoadCmd
from fletch.promqltest.parser import TestFileError
from lake.schema import STALE_NAN_BITS

_EVAL_LINE = re.compile(r"^\s*eval")


@pytest.mark.parametrize("name", IN_SCOPE_FILES + tuple(OUT_OF_SCOPE_FILES))
def test_every_eval_of_every_file_is_found(corpus: Path, name: str) -> None:
    path = corpus / f"{name}.test"
    parsed = parse_file(path)
    eval_lines = [i + 1 for i, line in enumerate(path.read_text().split("\n")) if _EVAL_LINE.match(line)]
    assert [e.line for e in parsed.evals] == eval_lines
    skipped = sum(1 for e in parsed.evals if e.skip_reason)
    print(f"{name}: evals={len(parsed.evals)} skipped={skipped}")
    if name in OUT_OF_SCOPE_FILES:
        assert skipped == len(parsed.evals)
    else:
        assert all(not e.skip_reason or "histogram" in e.skip_reason for e in parsed.evals)


def test_in_scope_corpus_has_runnable_evals(corpus: Path) -> None:
    runnable = {n: sum(1 for e in parse_file(corpus / f"{n}.test").evals if not e.skip_reason)
                for n in IN_SCOPE_FILES}
    assert all(count > 0 for count in runnable.values()), runnable
    assert sum(runnable.values()) > 900


SAMPLE = """
# a comment
load 1m
    metric{job="a"} 1+1x3 _ stale
    other 5
    metric{job="a"} 7 8

eval instant at 1m30s metric
    metric{job="a"} 8

eval range from 0 to 3m step 1m metric{job="a"}
    expect warn msg: PromQL warning: boom (1:1)
    expect no_info
    metric{job="a"} 7 _ _ _

eval_fail instant at 0 foo
    expected_fail_message oops

eval instant at 5m 1 + 1
    2

eval_ordered instant at 1m sort(other)
    other 5

eval instant at 1m "Foo"
    expect string "Foo"

eval instant at 1m metric[1m]
    expect range vector from 0 to 1m step 30s
    metric{job="a"} 7 8

eval instant at 1m foo
    expect fail regex: bad.*thing

clear
"""


def test_sample_file_commands() -> None:
    parsed = parse_text(SAMPLE, "sample.test")
    kinds = [type(c).__name__ for c in parsed.commands]
    assert kinds == ["LoadCmd"] + ["EvalCase"] * 8 + ["ClearCmd"]
    load = parsed.commands[0]
    assert isinstance(load, LoadCmd) and load.interval_ms == 60_000 and load.line == 3
    # the later definition of the same series replaces the earlier one
    assert [s.labels for s in load.series] == [{"__name__": "metric", "job": "a"}, {"__name__": "other"}]
    assert load.series[0].timestamps.tolist() == [0, 60_000]
    assert isinstance(parsed.commands[-1], ClearCmd)

    instant, ranged, legacy, scalar, ordered, string, rangevec, failing = parsed.evals
    assert (instant.kind, instant.eval_ms, instant.end_ms, instant.line) == ("instant", 90_000, NO_END, 8)
    assert (ranged.kind, ranged.start_ms, ranged.end_ms, ranged.step_ms) == ("range", 0, 180_000, 60_000)
    assert [(e.type, e.message) for e in ranged.expects] == [
        ("warn", "PromQL warning: boom (1:1)"), ("no_info", None)]
    (series,) = ranged.expected.values()
    assert [v.omitted for v in series.values] == [False, True, True, True]
    assert legacy.fails and legacy.fail_message == "oops" and legacy.eval_ms == 0
    assert scalar.expect_scalar and scalar.scalar == 2
    assert ordered.ordered and not ordered.fails
    assert string.expect_string and string.expected_string == "Foo" and string.exclude_from_range_query
    r = rangevec
    assert (r.start_ms, r.end_ms, r.step_ms, r.eval_ms) == (0, 60_000, 30_000, 60_000)
    assert rangevec.exclude_from_range_query
    assert failing.fails and failing.of_type("fail")[0].regex == "bad.*thing"


def test_stale_markers_are_loaded_with_exact_bits() -> None:
    load = parse_text("load 1m\n  m 1 stale\n").commands[0]
    assert isinstance(load, LoadCmd)
    assert load.series[0].values.view("uint64")[1] == STALE_NAN_BITS


def test_comment_ends_a_block() -> None:
    # As in Prometheus: comment lines become blank lines, which end a load or eval block.
    parsed = parse_text("load 1m\n  a 1\n# note\n\neval instant at 0 a\n  a 1\n# note\n")
    assert [type(c).__name__ for c in parsed.commands] == ["LoadCmd", "EvalCase"]
    with pytest.raises(TestFileError, match=r":4: invalid command 'b 2'"):
        parse_text("load 1m\n  a 1\n# note\n  b 2\n")


def test_ordered_positions_skip_expect_lines() -> None:
    case = parse_text("load 1m\n  m{a=\"1\"} 1\n\neval instant at 0 m\n  expect ordered\n  m{a=\"2\"} 1\n"
                      "  expect no_warn\n  m{a=\"1\"} 1\n").evals[0]
    assert sorted(s.pos for s in case.expected.values()) == [1, 2]


@pytest.mark.parametrize("text", [
    "bogus 1m",
    "load\n",
    "eval instant at 1x foo\n",
    "eval instant at 1m foo\n  expect fail\n  expect fail\n",
    "eval instant at 1m foo\n  expect warn\n  expect no_warn\n",
    "eval instant at 1m foo\n  foo 1 2\n",  # several values in an instant eval need `expect range vector`
    "eval range from 5m to 1m step 1m foo\n",
    "eval instant at 1m foo\n  expect bogus\n",
])
def test_invalid_files(text: str) -> None:
    with pytest.raises(TestFileError):
        parse_text(text)


def test_native_histogram_evals_are_marked() -> None:
    parsed = parse_text(
        "load 1m\n"
        '  m{kind="float"} 1 2\n'
        '  m{kind="hist"} {{count:1}} {{count:2}}\n'
        "  n 1\n\n"
        'eval instant at 1m m{kind="float"}\n  m{kind="float"} 2\n\n'
        "eval instant at 1m sum(m)\n  {} 3\n\n"
        'eval instant at 1m count({kind=~".+"})\n  {} 2\n\n'
        "eval instant at 1m n\n  n {{count:1}}\n\n"
        "clear\n"
        "load_with_nhcb 1m\n"
        '  h_bucket{le="1"} 1\n'
        '  h_bucket{le="+Inf"} 2\n\n'
        'eval instant at 0 h_bucket{le="1"}\n  h_bucket{le="1"} 1\n\n'
        "eval instant at 0 histogram_count(h)\n  {} 2\n")
    reasons = [e.skip_reason for e in parsed.evals]
    assert reasons == [None, "native histogram data (m)", "native histogram data (m)",
                       "native histogram in expected result", None, "native histogram data (h)"]


def test_out_of_scope_files_are_skipped_by_name() -> None:
    parsed = parse_text("load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n", "x/info.test")
    assert parsed.evals[0].skip_reason == "file out of scope (experimental: info() function)"
