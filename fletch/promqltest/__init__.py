"""Prometheus's promqltest language: read `.test` files and run them against any PromQL engine.

    parse_file(path) -> TestFile                  loads, clears and EvalCases, with skip reasons
    run_files(paths, engine) -> Report            per case / per file / total outcomes
    Engine                                        the Protocol an engine adapter implements
    Result, Series                                normalized answers (also the reference harness's)
    Report.summary_line()                         "conformance: passed=P failed=F skipped=S"
"""

from fletch.promqltest.atmod import AtRewriter, at_eval_times, planner_at_rewriter
from fletch.promqltest.compare import almost_equal, compare_result
from fletch.promqltest.model import EvalCase, Expect, ExpectedSeries, LoadedSeries, TestFile, to_arrays
from fletch.promqltest.parser import TestFileError, parse_file, parse_text
from fletch.promqltest.report import CaseOutcome, FileReport, Report
from fletch.promqltest.result import Result, Series
from fletch.promqltest.runner import Engine, run_case, run_file, run_files
from fletch.promqltest.scope import IN_SCOPE_FILES, OUT_OF_SCOPE_FILES, corpus_dir, in_scope_paths

__all__ = [
    "IN_SCOPE_FILES",
    "OUT_OF_SCOPE_FILES",
    "AtRewriter",
    "CaseOutcome",
    "Engine",
    "EvalCase",
    "Expect",
    "ExpectedSeries",
    "FileReport",
    "LoadedSeries",
    "Report",
    "Result",
    "Series",
    "TestFile",
    "TestFileError",
    "almost_equal",
    "at_eval_times",
    "compare_result",
    "corpus_dir",
    "in_scope_paths",
    "parse_file",
    "parse_text",
    "planner_at_rewriter",
    "run_case",
    "run_file",
    "run_files",
    "to_arrays",
]
