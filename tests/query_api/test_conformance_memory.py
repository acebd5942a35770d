"""Prometheus's own promqltest files (in-scope ones) through the evaluator with in-memory data.

The floor is the figure measured when it was last raised; a drop means a regression in the
evaluator. Skips visibly where the shared conformance folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fletch.promqltest.runner import run_files
from tests.query_api.memory_engine import MemoryEngine

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "promqltest"
IN_SCOPE = ("aggregators", "at_modifier", "collision", "functions", "histograms", "limit", "literals",
            "name_label_dropping", "operators", "range_queries", "selectors", "staleness", "subquery",
            "trig_functions")
FLOOR = 926
FILE_FLOORS = {"aggregators": 125, "histograms": 93, "operators": 142, "at_modifier": 78, "limit": 1,
               "functions": 323, "subquery": 32, "range_queries": 16}


@pytest.mark.skipif(not TESTDATA.is_dir(), reason=f"conformance files not found at {TESTDATA}")
def test_in_scope_files_pass_at_least_the_floor() -> None:
    report = run_files([TESTDATA / f"{name}.test" for name in IN_SCOPE], MemoryEngine())
    by_file = {f.file: f.passed for f in report.files}
    assert report.passed >= FLOOR, report.format_text(show_failures=True)
    for name, floor in FILE_FLOORS.items():
        assert by_file[name] >= floor, name
