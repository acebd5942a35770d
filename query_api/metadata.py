"""Label and series lookups (`/api/v1/labels`, `/label/<name>/values`, `/series`) on the workers.

Each `match[]` selector is one conjunction of matchers; several selectors are a union. For each
selector the catalog prunes segments by time and, when the selector pins `__name__` with `=`,
by metric name; then one signed ticket per worker runs the worker's `series`, `label_names` or
`label_values` template over the segments that worker owns (rendezvous placement, as for
queries). When a worker fails, its segments go to the next worker in their ranking; when none is
left the request fails (`unavailable`), never answering from part of the data.

Metric names (`__name__` values) without `match[]`, or with selectors that only pin names, are
answered from the catalog alone.

Time range: Prometheus selects samples with `start <= ts <= end`; worker tickets read
`lo < ts <= hi`, so the window sent is `(start - 1, end]`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from planner import ast, tickets
from planner.parse import parse
from query_api.evaluate import Fleet
from query_api.fanout import FetchStats, Pushdown, fetch_group
from query_api.params import ParamError

Labels = dict[str, str]


@dataclass(frozen=True)
class Selection:
    """Who asks and over which data: an org, a time range [start, end] (ms) and selectors."""

    org: str
    start: int
    end: int
    selectors: tuple[tuple[ast.Matcher, ...], ...] = ()


def parse_selectors(texts: Sequence[str], param: str = "match[]") -> tuple[tuple[ast.Matcher, ...], ...]:
    """`match[]` values as matcher sets; anything but a plain series selector is bad_data."""
    out = []
    for text in texts:
        try:
            expr = parse(text)
        except ParamError:
            raise
        except Exception as err:  # ParseError and friends carry Prometheus's message
            raise ParamError(f'invalid parameter "{param}": {err}') from None
        if not isinstance(expr, ast.VectorSelector):
            raise ParamError(f'invalid parameter "{param}": 1:1: parse error: '
                             f"expected a series selector, got {type(expr).__name__}")
        out.append(tuple(expr.all_matchers))
    return tuple(out)


def series(fleet: Fleet, sel: Selection, cancelled: Callable[[], bool] = lambda: False) -> list[Labels]:
    """Distinct label sets of the series with samples in range, sorted as Prometheus sorts them."""
    if not sel.selectors:
        raise ParamError("no match[] parameter provided")
    found: dict[tuple[tuple[str, str], ...], Labels] = {}
    for matchers in sel.selectors:
        for table in _run(fleet, sel, matchers, "series", "", cancelled):
            names = [n for n in table.column_names if not n.startswith("__") or n == "__name__"]
            columns = [table.column(n).cast(pa.string()).to_pylist() for n in names]
            for row in zip(*columns, strict=True):
                labels = {n: v for n, v in zip(names, row, strict=True) if v}
                found.setdefault(tuple(sorted(labels.items())), labels)
    return [dict(key) for key in sorted(found)]


def label_names(fleet: Fleet, sel: Selection, cancelled: Callable[[], bool] = lambda: False) -> list[str]:
    names: set[str] = set()
    for matchers in sel.selectors or ((),):
        for table in _run(fleet, sel, matchers, "label_names", "", cancelled):
            names.update(table.column("name").to_pylist())
    return sorted(names)


def label_values(fleet: Fleet, sel: Selection, label: str,
                 cancelled: Callable[[], bool] = lambda: False) -> list[str]:
    if label == "__name__":
        from_catalog = _names_from_catalog(fleet, sel)
        if from_catalog is not None:
            return from_catalog
    values: set[str] = set()
    for matchers in sel.selectors or ((),):
        for table in _run(fleet, sel, matchers, "label_values", label, cancelled):
            values.update(table.column("value").to_pylist())
    return sorted(values)


def _names_from_catalog(fleet: Fleet, sel: Selection) -> list[str] | None:
    """Metric names when the selectors say nothing but names (or there are none)."""
    names = fleet.catalog.metric_names(sel.org, sel.start, sel.end)
    if not sel.selectors:
        return names
    wanted: set[str] = set()
    for matchers in sel.selectors:
        if len(matchers) != 1 or matchers[0].name != "__name__" or matchers[0].op is not ast.MatchOp.EQ:
            return None
        wanted.add(matchers[0].value)
    return [n for n in names if n in wanted]


def _metric_name(matchers: Sequence[ast.Matcher]) -> list[str] | None:
    for m in matchers:
        if m.name == "__name__" and m.op is ast.MatchOp.EQ:
            return [m.value]
    return None


def _run(fleet: Fleet, sel: Selection, matchers: Sequence[ast.Matcher], template: str, label: str,
         cancelled: Callable[[], bool]) -> list[pa.Table]:
    """One template over every segment the catalog keeps for these matchers, placed on workers
    (with the query path's placement and retries)."""
    segments = fleet.catalog.find_segments(sel.org, sel.start, sel.end, _metric_name(matchers))
    if not segments:
        return []
    wire = tuple(tickets.Matcher(m.name, m.op.value, m.value) for m in matchers)
    push = Pushdown(sel.org, template, 0, wire, (sel.start - 1, sel.end), (), uuid.uuid4().hex[:12], label)
    return fetch_group(push, segments, tuple(fleet.workers()), fleet.ticket_key, fleet.clients,
                       fleet.pool, FetchStats(), cancelled)
