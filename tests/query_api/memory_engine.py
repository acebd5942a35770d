"""The promqltest Engine over fletch's evaluator with in-memory data (no workers, no HTTP).

It isolates the evaluator: the conformance figure through the real path (`fletch conformance`)
should only ever be lower because of the transport, never because of evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fletch.promqltest.model import LoadedSeries
from fletch.promqltest.result import Result, Series
from planner.errors import FletchError
from planner.parse import parse
from query_api.engine.evaluator import Context, evaluate
from query_api.engine.memory import MemorySource
from query_api.engine.values import Matrix, Scalar, String, Value

LOOKBACK_MS = 300_000


class MemoryEngine:
    def __init__(self) -> None:
        self.source = MemorySource()

    def clear(self) -> None:
        self.source = MemorySource()

    def load(self, series: Sequence[LoadedSeries]) -> None:
        for s in series:
            self.source.add(dict(s.labels), s.timestamps, s.values)

    def _run(self, expr: str, times: list[int], start: int, end: int, step: int = 0) -> tuple[Value, Context]:
        ctx = Context(np.array(times, dtype=np.int64), start, end, LOOKBACK_MS, self.source,
                      query_step_ms=step)
        return evaluate(parse(expr), ctx), ctx

    def instant(self, expr: str, t_ms: int) -> Result:
        try:
            value, ctx = self._run(expr, [t_ms], t_ms, t_ms)
        except FletchError as err:
            return Result.failed(str(err))
        notes = {"warnings": ctx.annotations.warnings, "infos": ctx.annotations.infos}
        if isinstance(value, Scalar):
            return Result.of_scalar(float(value.values[0]), **notes)
        if isinstance(value, String):
            return Result.of_string(value.value, **notes)
        if isinstance(value, Matrix):
            return Result.matrix([Series(dict(labels), list(zip(ts.tolist(), vs.tolist(), strict=True)))
                                  for labels, ts, vs in zip(value.labels, value.timestamps, value.values,
                                                            strict=True)], **notes)
        return Result.vector([(dict(labels), t_ms, float(value.values[i, 0]))
                              for i, labels in enumerate(value.labels) if value.present[i, 0]], **notes)

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        times = list(range(start_ms, end_ms + 1, step_ms))
        try:
            value, ctx = self._run(expr, times, start_ms, end_ms, step_ms)
        except FletchError as err:
            return Result.failed(str(err))
        notes = {"warnings": ctx.annotations.warnings, "infos": ctx.annotations.infos}
        if isinstance(value, Scalar):
            points = [(t, float(v)) for t, v in zip(times, value.values, strict=True)]
            return Result.matrix([Series({}, points)], **notes)
        if isinstance(value, String):
            return Result.failed("range queries cannot return a string")
        out = []
        for i, labels in enumerate(value.labels):
            points = [(times[c], float(value.values[i, c])) for c in np.flatnonzero(value.present[i])]
            if points:
                out.append(Series(dict(labels), points))
        out.sort(key=lambda s: sorted(s.labels.items()))
        return Result.matrix(out, **notes)
