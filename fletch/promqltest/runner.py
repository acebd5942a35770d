"""Run `.test` files against any engine that implements `Engine` (test.go `runTest`, `execEval`).

Per file: the engine is cleared, then loads, clears and evals run in order. An instant eval runs
as Prometheus runs it: the query at its time; then, unless the expression calls a function
unsafe under `@`, the same expression with `@ <t>` on every selector, at -10t, 0, t/5, t and 10t
(-1s, 0, 1s when t is 0); and after each of those, unless the eval expects a string or a range
vector or the expression uses start()/end()/range()/step(), the same query as a range query from
t-1m to t+1m step 1m whose point at t must give the same answer (skipped for `expect ordered`;
annotations are not checked there). A range eval runs once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from fletch.promqltest.atmod import AtRewriter, at_eval_times, planner_at_rewriter
from fletch.promqltest.compare import (
    check_annotations,
    check_expected_failure,
    check_matrix_sorted,
    compare_result,
)
from fletch.promqltest.model import ClearCmd, EvalCase, LoadCmd, LoadedSeries, TestFile
from fletch.promqltest.parser import TestFileError, parse_file
from fletch.promqltest.report import CaseOutcome, FileReport, Report
from fletch.promqltest.result import Result

RANGE_MODE_STEP_MS = 60_000
_QUERY_CONTEXT_FUNCS = re.compile(r"(start|end|range|step)\(\)")


class Engine(Protocol):
    """What the runner needs from a PromQL engine under test.

    The engine should behave like Prometheus's test engine (`promqltest.NewTestEngine`): lookback
    delta 5m, experimental functions enabled, delayed `__name__` removal, a default subquery step
    of 1m, at most 10000 samples per query (`DefaultMaxSamplesPerQuery`).
    Query errors are returned as `Result.failed(message)` with Prometheus's message; an exception
    raised by the engine counts as a failed case, never as an expected error.
    """

    def clear(self) -> None:
        """Drop all data (called before each file and for every `clear`)."""

    def load(self, series: Sequence[LoadedSeries]) -> None:
        """Add one `load` block's float samples (additive; stale markers are STALE_NAN)."""

    def instant(self, expr: str, t_ms: int) -> Result:
        """`/api/v1/query` at t_ms: vector, scalar, string, or matrix (for `x[5m]`)."""

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        """`/api/v1/query_range`: always a matrix, series sorted by labels."""


CaseCallback = Callable[[CaseOutcome], None]


def run_files(paths: Iterable[str | Path], engine: Engine, *,
              at_rewriter: AtRewriter | None = planner_at_rewriter,
              on_case: CaseCallback | None = None) -> Report:
    """Run each file in order; `at_rewriter=None` leaves out the `@` re-runs of instant evals."""
    return Report([run_file(p, engine, at_rewriter=at_rewriter, on_case=on_case) for p in paths])


def run_file(path: str | Path | TestFile, engine: Engine, *,
             at_rewriter: AtRewriter | None = planner_at_rewriter,
             on_case: CaseCallback | None = None) -> FileReport:
    if isinstance(path, TestFile):
        test = path
    else:
        try:
            test = parse_file(path)
        except (OSError, TestFileError) as err:
            return FileReport(Path(path).stem, str(path), error=str(err))
    report = FileReport(test.name, test.path)

    def record(outcome: CaseOutcome) -> None:
        report.outcomes.append(outcome)
        if on_case:
            on_case(outcome)

    if all(e.skip_reason for e in test.evals):  # nothing to run: do not touch the engine
        for case in test.evals:
            record(_outcome(case, "skipped", case.skip_reason or ""))
        return report
    load_error: str | None = None
    try:
        engine.clear()
    except Exception as err:  # the engine is a boundary: any failure becomes the case's outcome
        load_error = f"engine clear failed: {_describe(err)}"
    for command in test.commands:
        if isinstance(command, ClearCmd):
            if load_error is None:
                try:
                    engine.clear()
                except Exception as err:
                    load_error = f"clear (line {command.line}) failed: {_describe(err)}"
        elif isinstance(command, LoadCmd):
            if load_error is None:
                try:
                    engine.load(list(command.series))
                except Exception as err:
                    load_error = f"load (line {command.line}) failed: {_describe(err)}"
        elif command.skip_reason:
            record(_outcome(command, "skipped", command.skip_reason))
        elif load_error is not None:
            record(_outcome(command, "failed", f"not run: {load_error}"))
        else:
            problem = run_case(command, engine, at_rewriter)
            record(_outcome(command, "failed" if problem else "passed", problem or ""))
    return report


def run_case(case: EvalCase, engine: Engine,
             at_rewriter: AtRewriter | None = planner_at_rewriter) -> str | None:
    """None if the engine answers the eval as Prometheus's framework requires, else why not."""
    try:
        if case.kind == "range":
            return _run_range(case, engine)
        return _run_instant(case, engine, at_rewriter)
    except Exception as err:
        return f"engine raised {_describe(err)}"


def _run_range(case: EvalCase, engine: Engine) -> str | None:
    result = engine.range(case.expr, case.start_ms, case.end_ms, case.step_ms)
    return _check(case, result, "")


def _check(case: EvalCase, result: Result, where: str) -> str | None:
    """Error expectations, annotations and value, in test.go's order."""
    if result.error is not None:
        if case.fails:
            problem = check_expected_failure(case, result.error)
            return f"{where}{problem}" if problem else None
        return f"{where}error evaluating query: {result.error}"
    if case.fails:
        return f"{where}expected error evaluating query but got none"
    problem = check_annotations(case, result) or compare_result(case, result)
    return f"{where}{problem}" if problem else None


def _run_instant(case: EvalCase, engine: Engine, at_rewriter: AtRewriter | None) -> str | None:
    queries = [(case.expr, case.eval_ms)]
    if at_rewriter is not None:
        try:
            rewritten = at_rewriter(case.expr, case.eval_ms)
        except Exception as err:
            return f"cannot build the @ re-runs: {_describe(err)}"
        if rewritten is not None:
            queries += [(rewritten, t) for t in at_eval_times(case.eval_ms)]
    for expr, t in queries:
        where = "" if (expr, t) == queries[0] else f"[`{expr}` at t={t}ms] "
        result = engine.instant(expr, t)
        problem = _check(case, result, where)
        if problem:
            return problem
        if result.error is not None:  # an expected failure
            continue
        problem = _range_mode(case, engine, expr, t, result)
        if problem:
            return problem
    return None


def _range_mode(case: EvalCase, engine: Engine, expr: str, t: int, instant: Result) -> str | None:
    """The instant query as a range query around t; its point at t must pass the same checks."""
    if case.exclude_from_range_query or _QUERY_CONTEXT_FUNCS.search(expr):
        return None
    where = f"[range mode `{expr}` {t - RANGE_MODE_STEP_MS}..{t + RANGE_MODE_STEP_MS}ms] "
    result = engine.range(expr, t - RANGE_MODE_STEP_MS, t + RANGE_MODE_STEP_MS, RANGE_MODE_STEP_MS)
    if result.error is not None:
        return f"{where}error evaluating query in range mode: {result.error}"
    if case.ordered:
        return None
    if result.type != "matrix":
        return f"{where}range query returned {result.type}, not a matrix"
    problem = check_matrix_sorted(result.series)
    if problem:
        return where + problem
    at_t = _first_per_series(result, t)
    if instant.type == "scalar":
        if not at_t:
            return f"{where}no point at t={t}ms for the scalar result"
        value = Result.of_scalar(at_t[0][2])
    else:
        value = Result.vector(at_t)
    problem = compare_result(case, value)
    return f"{where}{problem}" if problem else None


def _first_per_series(result: Result, t: int) -> list[tuple[dict[str, str], int, float]]:
    out = []
    for s in result.series:
        for ts, v in s.points:
            if ts == t:
                out.append((s.labels, ts, v))
                break
    return out


def _outcome(case: EvalCase, status: str, reason: str) -> CaseOutcome:
    return CaseOutcome(case.file, case.line, case.kind, case.expr, status, reason)  # type: ignore[arg-type]


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"
