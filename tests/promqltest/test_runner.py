import json
from pathlib import Path

import pytest

from fletch.promqltest import Result, Series, parse_text, run_file, run_files
from fletch.promqltest.report import CaseOutcome

from .fake_engine import FakeEngine

SCRIPT = """
load 1m
    metric{job="a"} 1 2 3 stale
    metric{job="b"} 10 20 30 40

eval instant at 1m metric
    metric{job="a"} 2
    metric{job="b"} 20

eval instant at 3m metric
    metric{job="b"} 40

eval range from 0 to 4m step 1m metric{job="a"}
    metric{job="a"} 1 2 3 _ _

eval instant at 1m 42
    42

eval instant at 1m "hello"
    expect string "hello"

eval instant at 1m metric @ 0
    metric{job="a"} 1
    metric{job="b"} 10
"""


def run(script: str, engine: FakeEngine | None = None, name: str = "script", **kw):
    engine = engine or FakeEngine()
    return run_file(parse_text(script, f"{name}.test"), engine, **kw), engine


def test_correct_engine_passes_everything() -> None:
    report, engine = run(SCRIPT)
    assert [(o.line, o.status, o.reason) for o in report.outcomes] == [
        (6, "passed", ""), (10, "passed", ""), (13, "passed", ""), (16, "passed", ""), (19, "passed", ""),
        (22, "passed", "")]
    assert (report.passed, report.failed, report.skipped) == (6, 0, 0)
    assert engine.calls[0] == ("clear",) and engine.calls[1] == ("load", "2")


def test_instant_eval_runs_at_variants_and_range_mode() -> None:
    _, engine = run("load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 3\n")
    queries = [c for c in engine.calls if c[0] in ("instant", "range") and c[1] in ("m", "m @ 120.000")]
    # the query, then at -10t, 0, t/5, t, 10t with `@ t`, each followed by its range re-run
    instants = [(c[1], int(c[2])) for c in queries if c[0] == "instant"]
    assert instants[0] == ("m", 120_000)
    assert ("m @ 120.000", -1_200_000) in instants and ("m @ 120.000", 24_000) in instants
    assert ("m @ 120.000", 1_200_000) in instants
    ranges = [c for c in engine.calls if c[0] == "range"]
    assert ranges[0] == ("range", "m", "60000", "180000", "60000")
    assert len(ranges) == 6


def test_no_at_rewriter_means_one_query_and_its_range_mode() -> None:
    _, engine = run("load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 3\n", at_rewriter=None)
    assert [c[0] for c in engine.calls if c[0] in ("instant", "range")][:2] == ["instant", "range"]
    assert not any("@" in c[1] for c in engine.calls if c[0] == "instant")


def test_wrong_value_fails_with_description() -> None:
    report, _ = run("load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 4\n")
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert outcome.reason == 'expected 4 for {__name__="m"} but got 3'


def test_engine_ignoring_at_fails_on_the_at_variant() -> None:
    report, _ = run("load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 3\n", FakeEngine(ignore_at=True))
    assert report.outcomes[0].status == "failed"
    assert report.outcomes[0].reason.startswith("[`m @ 120.000` at t=-1200000ms] expected metric")


def test_range_mode_must_be_sorted() -> None:
    script = 'load 1m\n  m{a="1"} 1\n  m{a="2"} 2\n\neval instant at 1m m\n  m{a="1"} 1\n  m{a="2"} 2\n'
    report, _ = run(script, FakeEngine(range_reverse=True))
    assert report.outcomes[0].status == "failed"
    assert "[range mode `m` 0..120000ms] matrix results should always be sorted" in report.outcomes[0].reason


def test_range_mode_is_skipped_for_ordered_and_query_context_functions() -> None:
    script = ('load 1m\n  m{a="1"} 1\n  m{a="2"} 2\n\n'
              'eval instant at 1m m\n  expect ordered\n  m{a="1"} 1\n  m{a="2"} 2\n')
    report, _ = run(script, FakeEngine(range_reverse=True))
    assert report.outcomes[0].status == "passed"
    engine = FakeEngine(canned={("step()", 60_000): Result.of_scalar(0)})
    report, _ = run("eval instant at 1m step()\n  0\n", engine, at_rewriter=None)
    assert report.outcomes[0].status == "passed"
    assert not [c for c in engine.calls if c[0] == "range"]


def test_ordered_checks_positions() -> None:
    script = ('load 1m\n  m{a="1"} 1\n  m{a="2"} 2\n\n'
              'eval instant at 1m m\n  expect ordered\n  m{a="2"} 2\n  m{a="1"} 1\n')
    report, _ = run(script)
    assert report.outcomes[0].reason == 'expected metric {__name__="m", a="1"} at position 2 but was at 1'


def test_missing_points_in_range_results() -> None:
    script = "load 1m\n  m 1 _ 3\n\neval range from 0 to 2m step 1m m\n  m 1 1 3\n"
    report, _ = run(script)  # the lookback fills t=1m with 1, as written
    assert report.outcomes[0].status == "passed"
    report, _ = run(script.replace("m 1 1 3\n", "m 1 _ 3\n"))
    assert report.outcomes[0].status == "failed"
    assert report.outcomes[0].reason.startswith(
        'expected 2 float points for {__name__="m"}, but got 3 float points')


@pytest.mark.parametrize(("expect", "status"), [
    ("expect fail", "passed"),
    ("expect fail msg: bad thing happened", "passed"),
    ("expect fail msg: bad thing", "failed"),
    ("expect fail regex: bad .* happened", "passed"),
    ("expect fail regex: ^good", "failed"),
])
def test_expected_failures(expect: str, status: str) -> None:
    engine = FakeEngine(canned={("boom(x)", 0): Result.failed("bad thing happened")})
    report, _ = run(f"eval instant at 0 boom(x)\n  {expect}\n", engine, at_rewriter=None)
    assert report.outcomes[0].status == status


def test_unexpected_success_and_unexpected_error() -> None:
    report, _ = run("load 1m\n  m 1\n\neval instant at 0 m\n  expect fail\n")
    assert report.outcomes[0].reason == "expected error evaluating query but got none"
    engine = FakeEngine(canned={("boom(x)", 0): Result.failed("oops")})
    report, _ = run("eval instant at 0 boom(x)\n", engine, at_rewriter=None)
    assert report.outcomes[0].reason == "error evaluating query: oops"


@pytest.mark.parametrize(("expects", "warnings", "infos", "status"), [
    ("", ["PromQL warning: w (1:1)"], [], "passed"),  # no expect lines: annotations are not checked
    ("expect warn", ["PromQL warning: w (1:1)"], [], "passed"),
    ("expect warn", [], [], "failed"),
    ("expect warn msg: PromQL warning: w (1:1)", ["PromQL warning: w (1:1)"], [], "passed"),
    ("expect warn msg: PromQL warning: w (1:1)", ["PromQL warning: w (1:1)", "PromQL warning: v (1:1)"], [],
     "failed"),  # every actual warning needs a matching expect line
    ("expect no_warn", ["PromQL warning: w (1:1)"], [], "failed"),
    ("expect no_warn", [], ["PromQL info: i (1:1)"], "passed"),
    ("expect info regex: info: \\w \\(", [], ["PromQL info: i (1:1)"], "passed"),
    ("expect no_info", [], ["PromQL info: i (1:1)"], "failed"),
])
def test_annotations(expects: str, warnings: list[str], infos: list[str], status: str) -> None:
    answer = Result.vector([({}, 0, 1.0)], warnings=warnings, infos=infos)
    engine = FakeEngine(canned={("f(x)", 0): answer})
    engine.range = lambda *a: Result.matrix([Series({}, [(0, 1.0)])])  # type: ignore[method-assign]
    body = f"  {expects}\n" if expects else ""
    report, _ = run(f"eval instant at 0 f(x)\n{body}  {{}} 1\n", engine, at_rewriter=None)
    assert report.outcomes[0].status == status, report.outcomes[0].reason


def test_legacy_eval_warn() -> None:
    engine = FakeEngine(canned={("f(x)", 0): Result.vector([({}, 0, 1.0)])})
    report, _ = run("eval_warn instant at 0 f(x)\n  {} 1\n", engine, at_rewriter=None)
    assert report.outcomes[0].reason == "expected warnings but got none"


def test_skips_failures_and_accounting_in_report() -> None:
    script = SCRIPT + "\neval instant at 1m metric\n  metric{job=\"a\"} 999\n  metric{job=\"b\"} 20\n" + (
        "\nload 1m\n  h {{count:1}}\n\neval instant at 0 h\n  h {{count:1}}\n")
    seen: list[CaseOutcome] = []
    report, _ = run(script, on_case=seen.append)
    assert (report.passed, report.failed, report.skipped) == (6, 1, 1)
    assert seen == report.outcomes
    skipped = [o for o in report.outcomes if o.status == "skipped"]
    assert skipped[0].reason == "native histogram in expected result"


def test_load_failure_fails_the_remaining_evals() -> None:
    report, _ = run(SCRIPT, FakeEngine(fail_load=True))
    assert report.failed == 6
    assert report.outcomes[0].reason == "not run: load (line 2) failed: RuntimeError: disk full"


def test_engine_exception_is_a_failure() -> None:
    engine = FakeEngine()
    engine.instant = lambda expr, t: 1 / 0  # type: ignore[method-assign,assignment,misc]
    report, _ = run("eval instant at 0 x\n", engine, at_rewriter=None)
    assert report.outcomes[0].reason == "engine raised ZeroDivisionError: division by zero"


def test_run_files_report_json_and_summary(tmp_path: Path) -> None:
    good = tmp_path / "mine.test"
    good.write_text(SCRIPT)
    broken = tmp_path / "broken.test"
    broken.write_text("bogus\n")
    skipped = tmp_path / "info.test"  # out of scope by name: the engine is not even cleared
    skipped.write_text("load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n")
    engine = FakeEngine()
    report = run_files([good, broken, skipped], engine)
    assert report.summary_line() == "conformance: passed=6 failed=1 skipped=1"
    data = json.loads(report.to_json())
    assert [(f["file"], f["passed"], f["failed"], f["skipped"]) for f in data["files"]] == [
        ("mine", 6, 0, 0), ("broken", 0, 1, 0), ("info", 0, 0, 1)]
    assert data["files"][1]["error"].endswith("invalid command 'bogus'")
    assert data["skip_reasons"] == {"file out of scope (experimental: info() function)": 1}
    assert data["files"][0]["cases"][0] == {"file": "mine", "line": 6, "kind": "instant", "expr": "metric",
                                            "status": "passed", "reason": ""}
    assert engine.calls.count(("clear",)) == 1
    assert report.format_text().splitlines()[-1] == report.summary_line()


class RefusingEngine:
    """Answers every query with an error: only `expect fail` evals can pass."""

    def clear(self) -> None:
        pass

    def load(self, series) -> None:
        pass

    def instant(self, expr: str, t_ms: int) -> Result:
        return Result.failed("no engine")

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        return Result.failed("no engine")


def test_corpus_accounting(corpus: Path) -> None:
    from fletch.promqltest import IN_SCOPE_FILES, parse_file

    paths = [corpus / f"{name}.test" for name in IN_SCOPE_FILES]
    report = run_files(paths, RefusingEngine(), at_rewriter=None)
    for path, file_report in zip(paths, report.files, strict=True):
        evals = parse_file(path).evals
        assert len(file_report.outcomes) == len(evals)
        assert file_report.skipped == sum(1 for e in evals if e.skip_reason)
        bare_fail = [e for e in evals if not e.skip_reason and e.fails
                     and all(x.message is None and x.regex is None for x in e.of_type("fail"))]
        assert file_report.passed >= len(bare_fail)
    assert report.passed + report.failed + report.skipped == len(report.outcomes)
    assert report.failed > 900
