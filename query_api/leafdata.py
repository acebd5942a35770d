"""Worker output for one leaf (Arrow batches) -> `LeafRows` sorted by (series, time).

Partials of one (series, bucket) can come from several workers, when a bucket spans two segment
files placed on different workers, or from two time groups that split it: they are merged with
the partials' associative merge. Staleness markers are kept apart for instant selectors.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lake import partials as P
from lake.schema import is_label_column
from query_api.engine.rows import LeafRows
from query_api.engine.values import Labels


def _labels_by_series(table: pa.Table) -> tuple[np.ndarray, list[Labels]]:
    """Distinct series ids (sorted by their labels) and their label sets."""
    label_columns = [name for name in table.column_names if is_label_column(name)]
    ids = table.column("__series_id").to_numpy()
    unique_ids, first = np.unique(ids, return_index=True)
    columns = {name: table.column(name).take(pa.array(first)).to_pylist() for name in label_columns}
    labels = [tuple(sorted((name, columns[name][i]) for name in label_columns if columns[name][i]))
              for i in range(len(unique_ids))]
    order = sorted(range(len(unique_ids)), key=lambda i: labels[i])
    return unique_ids[order], [labels[i] for i in order]


def _series_index(table: pa.Table, ids_sorted_by_labels: np.ndarray) -> np.ndarray:
    by_id = np.argsort(ids_sorted_by_labels)
    position = np.searchsorted(ids_sorted_by_labels[by_id], table.column("__series_id").to_numpy())
    return by_id[position]


def partial_rows(tables: Sequence[pa.Table], fields: Collection[str] = P.SAMPLE_FIELDS) -> LeafRows:
    """Bucket partials as rows sorted by (series, bucket end), with the `fields` asked for.

    Most (series, bucket) keys come from a single worker and are taken as they are; only keys
    that several workers or groups share are merged (with every field, as the merge needs)."""
    read = _read(tables)
    if read is None:
        return _empty()
    table, labels, series = read
    bucket = table.column("__bucket_end").to_numpy()
    stale_column = table.column("__last_stale_ts")
    has_stale = pc.is_valid(stale_column).to_numpy(zero_copy_only=False)
    stale_ts = pc.fill_null(stale_column, 0).to_numpy()
    stale_order = np.lexsort((stale_ts[has_stale], series[has_stale]))
    stale = series[has_stale][stale_order], stale_ts[has_stale][stale_order]

    rows = np.flatnonzero(table.column("__count").to_numpy() > 0)
    rows = rows[_series_major(series[rows], bucket[rows], len(labels))]
    sid, end = series[rows], bucket[rows]
    shared = np.zeros(len(rows), dtype=bool)
    if len(rows) > 1:
        same = (sid[1:] == sid[:-1]) & (end[1:] == end[:-1])
        shared[1:] |= same
        shared[:-1] |= same
    wanted = [name for name in P.SAMPLE_FIELDS if name in fields]
    if not shared.any():
        columns = {name: _column(table, name)[rows] for name in wanted}
        return LeafRows(labels, sid, end, columns, *stale)

    alone = rows[~shared]
    merged = _merge_shared(table, rows[shared], sid[shared], end[shared])
    sid = np.concatenate([sid[~shared], merged["sid"]])
    end = np.concatenate([end[~shared], merged["bucket"]])
    columns = {name: np.concatenate([_column(table, name)[alone], merged[name]]) for name in wanted}
    order = np.lexsort((end, sid))
    return LeafRows(labels, sid[order], end[order], {k: v[order] for k, v in columns.items()}, *stale)


def _series_major(series: np.ndarray, bucket: np.ndarray, series_count: int) -> np.ndarray:
    """The order that sorts rows by (series, bucket). Workers send rows by (bucket, series) and
    groups arrive in time order, so a stable sort by series alone (a radix sort on int16) is
    usually enough; otherwise a full lexicographic sort."""
    if series_count < 1 << 15:
        order = np.argsort(series.astype(np.int16), kind="stable")
        sid, end = series[order], bucket[order]
        if ((end[1:] >= end[:-1]) | (sid[1:] != sid[:-1])).all():
            return order
    return np.lexsort((bucket, series))


def _merge_shared(table: pa.Table, rows: np.ndarray, sid: np.ndarray, end: np.ndarray) -> P.Runs:
    """Merge the rows of keys several workers or groups share. Fields the workers did not send
    (the leaf's function does not read them) are merged as zeros and never read."""
    runs: P.Runs = {"sid": sid, "bucket": end}
    for name in P.SAMPLE_FIELDS:
        if name != "increase":
            present = f"__{name}" in table.column_names
            runs[name] = _column(table, name)[rows] if present else np.zeros(len(rows), _dtype(name))
    order = np.lexsort((runs["first_ts"], end, sid))
    runs = {name: column[order] for name, column in runs.items()}
    base = int(runs["bucket"].min())
    key = runs["sid"] * int(runs["bucket"].max() - base + 1) + (runs["bucket"] - base)
    return P.merge_runs(runs, key)


def _dtype(name: str) -> type:
    return np.int64 if name in P.INT_FIELDS else np.float64


def _column(table: pa.Table, name: str) -> np.ndarray:
    return pc.fill_null(table.column(f"__{name}"), _null_fill(name)).to_numpy()


def raw_rows(tables: Sequence[pa.Table]) -> LeafRows:
    read = _read(tables)
    if read is None:
        return _empty()
    table, labels, series = read
    ts = table.column("__ts").to_numpy()
    values = table.column("__value").to_numpy()
    order = np.lexsort((ts, series))
    series, ts, values = series[order], ts[order], values[order]
    if len(ts) > 1:  # the same sample read twice (a segment in two time groups' overlap)
        unique = np.ones(len(ts), dtype=bool)
        unique[1:] = (series[1:] != series[:-1]) | (ts[1:] != ts[:-1])
        series, ts, values = series[unique], ts[unique], values[unique]
    return LeafRows.from_samples(labels, series, ts, values)


def _read(tables: Sequence[pa.Table]) -> tuple[pa.Table, list[Labels], np.ndarray] | None:
    """The tables as one, the label sets of their series, and each row's series index."""
    table = _concat(tables)
    if table is None:
        return None
    ids, labels = _labels_by_series(table)
    return table, labels, _series_index(table, ids).astype(np.int64)


def _null_fill(name: str) -> int | float:
    return P.NO_TS if name.endswith("_ts") else (0 if name in P.INT_FIELDS else float("nan"))


def _concat(tables: Sequence[pa.Table]) -> pa.Table | None:
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def _empty() -> LeafRows:
    empty = np.zeros(0, dtype=np.int64)
    return LeafRows.from_samples([], empty, empty, np.zeros(0))
