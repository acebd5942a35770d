"""A tiny in-memory engine for runner tests: plain selectors (with @ and offset), literals, and
canned answers for anything else. Selector semantics follow Prometheus 3 (lookback (t-5m, t],
stale markers end a series)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from fletch.promqltest import LoadedSeries, Result, Series
from planner import ast
from planner.parse import parse

LOOKBACK_MS = 300_000
STALE_BITS = 0x7FF0000000000002


def _is_stale(v: float) -> bool:
    return struct.unpack("<Q", struct.pack("<d", v))[0] == STALE_BITS


@dataclass
class FakeEngine:
    canned: dict[tuple[str, int], Result] = field(default_factory=dict)  # (expr, t) -> instant answer
    ignore_at: bool = False  # a deliberate bug: `@` is ignored
    range_reverse: bool = False  # a deliberate bug: range results not sorted by labels
    fail_load: bool = False
    data: list[LoadedSeries] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def clear(self) -> None:
        self.calls.append(("clear",))
        self.data = []

    def load(self, series: Sequence[LoadedSeries]) -> None:
        self.calls.append(("load", str(len(series))))
        if self.fail_load:
            raise RuntimeError("disk full")
        self.data += series

    def instant(self, expr: str, t_ms: int) -> Result:
        self.calls.append(("instant", expr, str(t_ms)))
        if (expr, t_ms) in self.canned:
            return self.canned[(expr, t_ms)]
        node = parse(expr)
        match node:
            case ast.NumberLiteral(value=v):
                return Result.of_scalar(v)
            case ast.StringLiteral(value=s):
                return Result.of_string(s)
            case ast.VectorSelector():
                return Result.vector((labels, t_ms, v) for labels, v in self._select(node, t_ms))
        return Result.failed(f"unsupported by the fake engine: {expr}")

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        self.calls.append(("range", expr, str(start_ms), str(end_ms), str(step_ms)))
        points: dict[tuple[tuple[str, str], ...], Series] = {}
        for t in range(start_ms, end_ms + 1, step_ms):
            answer = self.instant(expr, t)
            if answer.error is not None:
                return answer
            if answer.type == "scalar":
                points.setdefault((), Series({})).points.append((t, answer.scalar or 0.0))
            for s in answer.series:
                key = tuple(sorted(s.labels.items()))
                points.setdefault(key, Series(s.labels)).points.append((t, s.points[0][1]))
        series = sorted(points.values(), key=lambda s: tuple(sorted(s.labels.items())))
        if self.range_reverse:
            series.reverse()
        return Result.matrix(series)

    def _select(self, node: ast.VectorSelector, t_ms: int) -> list[tuple[dict[str, str], float]]:
        at = node.at if isinstance(node.at, int) and not self.ignore_at else t_ms
        t = at - node.offset
        out = []
        for s in self.data:
            if not all(m.matches(s.labels.get(m.name, "")) for m in node.all_matchers):
                continue
            inside = [(ts, v) for ts, v in zip(s.timestamps.tolist(), s.values.tolist(), strict=True)
                      if t - LOOKBACK_MS < ts <= t]
            if inside and not _is_stale(inside[-1][1]):
                out.append((s.labels, inside[-1][1]))
        out.sort(key=lambda lv: tuple(sorted(lv[0].items())))
        return out
