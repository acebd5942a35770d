"""Prometheus's PromQL test files through the real path: lake ingest, Flight workers, HTTP API."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from fletch.localstack import LocalStack
from fletch.promqltest.model import LoadedSeries, to_arrays
from fletch.promqltest.result import Result


class StackEngine:
    """The conformance runner's engine: each `clear` starts a fresh org, so old data is invisible."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._orgs = itertools.count()
        self.org = "conformance-0"

    def clear(self) -> None:
        self.org = f"conformance-{next(self._orgs)}"

    def load(self, series: Sequence[LoadedSeries]) -> None:
        if series:
            self.stack.load(self.org, *to_arrays(series))

    def instant(self, expr: str, t_ms: int) -> Result:
        return _result(*self.stack.query(self.org, expr, t_ms))

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        return _result(*self.stack.query_range(self.org, expr, start_ms, end_ms, step_ms))


def _result(status: int, body: dict) -> Result:
    if status >= 500 and body.get("errorType") == "internal":
        raise RuntimeError(f"internal error from the API: {body.get('error')}")
    return Result.from_prometheus_json(body)


def open_engine(root: Path, workers: int = 2) -> tuple[LocalStack, StackEngine]:
    stack = LocalStack(root, workers)
    return stack, StackEngine(stack)
