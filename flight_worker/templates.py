"""SQL for each ticket template: built from a verified ticket, never taken from the wire.

Every statement reads `read_parquet($files, union_by_name = true)` (files differ in which label
columns they have). Label names only ever appear through `quote_ident()`; label values, regexes,
times and the file list are bound parameters (`$name`).

Matchers follow Prometheus: an absent label equals `""`, also when no file in the set has the
column (it is then rendered as a typed NULL, so the same predicates apply), and regexes are fully
anchored RE2 with `.` matching newlines, as Prometheus 3 compiles them (`^(?s:re)$`), through
`regexp_full_match` -- never `~`, whose anchoring changed between DuckDB releases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lake.schema import NAME, SERIES_ID, TS, VALUE
from planner.tickets import Matcher

SOURCE = "read_parquet($files, union_by_name = true)"
STALE_BITS_LITERAL = "'0111111111110000000000000000000000000000000000000000000000000010'::BIT"
# A stale marker: a NaN with Prometheus's exact payload; DuckDB keeps NaN payloads from Parquet
# and `::BIT` exposes them. Never use `isnan()` on a Parquet column in a filter: DuckDB 2.0.1
# folds it to false from the column statistics (Parquet min/max leave NaN out), so the filter
# silently disappears. Both facts are pinned in tests/flight_worker/test_templates.py.
IS_STALE = f"({VALUE}::BIT = {STALE_BITS_LITERAL})"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def anchored(regex: str) -> str:
    return f"(?s:{regex})"


@dataclass
class Query:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)


class _Params:
    def __init__(self, files: Sequence[str]) -> None:
        self.values: dict[str, Any] = {"files": list(files)}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def matcher_sql(m: Matcher, columns: Iterable[str], params: _Params) -> str:
    """One matcher as a predicate; `columns` are those present in at least one file."""
    present = m.name in set(columns)
    col = quote_ident(m.name) if present else "CAST(NULL AS VARCHAR)"
    if m.op == "=":
        return f"({col} IS NULL OR {col} = '')" if m.value == "" else f"{col} = {params.add(m.value)}"
    if m.op == "!=":
        if m.value == "":
            return f"({col} IS NOT NULL AND {col} <> '')"
        return f"({col} IS NULL OR {col} <> {params.add(m.value)})"
    pattern = params.add(anchored(m.value))
    test = f"regexp_full_match(coalesce({col}, ''), {pattern})"
    if m.op == "=~":
        return test
    if m.op == "!~":
        return f"NOT {test}"
    raise ValueError(f"unknown matcher op {m.op!r}")


def where(matchers: Sequence[Matcher], columns: Iterable[str], params: _Params, lo: int, hi: int) -> str:
    """Time range `lo < ts <= hi` and every matcher."""
    columns = list(columns)
    parts = [f"{TS} > {params.add(lo)}", f"{TS} <= {params.add(hi)}"]
    parts += [matcher_sql(m, columns, params) for m in matchers]
    return " AND ".join(parts)


def samples_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Iterable[str],
                  lo: int, hi: int, *, ordered: bool) -> Query:
    """`partials`: the rows to reduce, in file order (sorted runs) or fully sorted."""
    p = _Params(files)
    sql = f"SELECT {SERIES_ID}, {TS}, {VALUE} FROM {SOURCE} WHERE {where(matchers, columns, p, lo, hi)}"
    if ordered:
        sql += f" ORDER BY {SERIES_ID}, {TS}"
    return Query(sql, p.values)


def fresh_samples_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Iterable[str],
                        lo: int, hi: int) -> Query:
    """`raw`: samples without stale markers, in file order (the worker assigns buckets and sorts
    one time cluster of files at a time, see `flight_worker.scan`)."""
    p = _Params(files)
    sql = (f"SELECT {SERIES_ID}, {TS}, {VALUE} FROM {SOURCE} "
           f"WHERE {where(matchers, columns, p, lo, hi)} AND NOT {IS_STALE}")
    return Query(sql, p.values)


def bucketed_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Iterable[str],
                   edges: Sequence[int], lo: int, hi: int) -> Query:
    """`raw` and `sketch`: samples without stale markers, each with the end of its bucket (an
    ASOF join on `ts <= edge`), sorted by (bucket end, series, time)."""
    p = _Params(files)
    cond = where(matchers, columns, p, lo, hi)
    value_filter = f"NOT {IS_STALE}"
    sql = (f"WITH s AS (SELECT {SERIES_ID}, {TS}, {VALUE} FROM {SOURCE} WHERE {cond} AND {value_filter}), "
           f"e AS (SELECT unnest({p.add(list(edges))}::BIGINT[]) AS edge) "
           f"SELECT e.edge AS __bucket_end, s.{SERIES_ID}, s.{TS}, s.{VALUE} "
           f"FROM s ASOF JOIN e ON s.{TS} <= e.edge "
           f"ORDER BY __bucket_end, s.{SERIES_ID}, s.{TS}")
    return Query(sql, p.values)


def labels_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Sequence[str],
                 lo: int, hi: int) -> Query:
    """`series` (and the label sets of every other template): one row per matching series,
    sorted by series id; `columns` are the label columns, `__name__` first."""
    p = _Params(files)
    picks = ", ".join(f"any_value({quote_ident(c)}) AS {quote_ident(c)}" for c in columns)
    sql = (f"SELECT {SERIES_ID}, {picks} FROM {SOURCE} WHERE {where(matchers, columns, p, lo, hi)} "
           f"GROUP BY {SERIES_ID} ORDER BY {SERIES_ID}")
    return Query(sql, p.values)


def label_names_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Sequence[str],
                      lo: int, hi: int) -> Query:
    """One row of booleans: does any matching series have a non-empty value for the column."""
    p = _Params(files)
    picks = ", ".join(f"bool_or({quote_ident(c)} IS NOT NULL AND {quote_ident(c)} <> '') AS c{i}"
                      for i, c in enumerate(columns))
    sql = f"SELECT {picks} FROM {SOURCE} WHERE {where(matchers, columns, p, lo, hi)}"
    return Query(sql, p.values)


def label_values_query(files: Sequence[str], matchers: Sequence[Matcher], columns: Sequence[str],
                       label: str, lo: int, hi: int) -> Query:
    p = _Params(files)
    col = quote_ident(label)
    sql = (f"SELECT DISTINCT {col} AS value FROM {SOURCE} WHERE {where(matchers, columns, p, lo, hi)} "
           f"AND {col} IS NOT NULL AND {col} <> '' ORDER BY value")
    return Query(sql, p.values)


def regex_check_query(regex: str) -> Query:
    """Compiles a matcher regex in DuckDB's RE2, so a bad one is a clear client error."""
    return Query("SELECT regexp_full_match('', $p)", {"p": anchored(regex)})


SYSTEM = (NAME, SERIES_ID, TS, VALUE)
