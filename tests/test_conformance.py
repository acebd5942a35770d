"""Prometheus's own PromQL test suite through the real path (lake, Flight workers, HTTP API).

The pass count may only go up: raise PASSED_FLOOR when fletch passes more, never lower it.
"""

from __future__ import annotations

import pytest

from fletch.conformance import open_engine
from fletch.promqltest.runner import run_files
from fletch.promqltest.scope import corpus_dir, in_scope_paths

PASSED_FLOOR = 924


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    if not corpus_dir().is_dir():
        pytest.fail(f"the promqltest corpus is missing at {corpus_dir()} (shared/ beside the repo)")
    stack, engine = open_engine(tmp_path_factory.mktemp("conformance"))
    try:
        yield run_files(in_scope_paths(), engine)
    finally:
        stack.close()


def test_pass_count_never_drops(report) -> None:
    print(report.format_text(show_failures=False))
    assert report.passed >= PASSED_FLOOR, report.format_text()


def test_only_out_of_scope_cases_are_skipped(report) -> None:
    reasons = report.skip_reasons()
    assert set(reasons) and all("native histogram" in reason for reason in reasons), reasons
