"""Every eval expression of the in-scope promqltest files parses, prints and parses back."""

from __future__ import annotations

import pytest

from planner import ParseError, format, parse, to_string
from tests.planner.corpus import CORPUS_DIR, eval_cases

pytestmark = pytest.mark.skipif(not CORPUS_DIR.is_dir(),
                                reason=f"promqltest corpus not found at {CORPUS_DIR}")

# Cases whose expected failure is a parse or type error (Prometheus fails them before evaluating).
# In the in-scope files every `expect fail` is an evaluation-time failure; this stays empty
# unless upstream adds such a case, and `test_expected_parse_failures_are_rejected` then
# makes sure fletch rejects it too.
PARSE_FAILURES: frozenset[tuple[str, int]] = frozenset()


def test_every_in_scope_expression_parses_and_round_trips() -> None:
    cases = list(eval_cases())
    assert len(cases) > 1000
    failures = []
    for case in cases:
        if (case.file, case.line) in PARSE_FAILURES:
            continue
        try:
            expr = parse(case.expr)
        except ParseError as err:
            failures.append(f"{case.file}:{case.line}: {case.expr}: {err}")
            continue
        assert parse(to_string(expr)) == expr, case
        assert parse(format(expr)) == expr, case
    assert not failures, "\n".join(failures)


def test_expected_parse_failures_are_rejected() -> None:
    by_key = {(c.file, c.line): c for c in eval_cases()}
    for key in PARSE_FAILURES:
        with pytest.raises(ParseError):
            parse(by_key[key].expr)
