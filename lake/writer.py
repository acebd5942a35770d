"""Writes sorted sample tables as `tbl_` segment files, one per UTC hour."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lake.profiles import StorageProfile
from lake.schema import HOUR_MS, NAME, SERIES_ID, SYSTEM_COLUMNS, TS, VALUE, raw_schema
from lake.segment_ids import new_segment_id
from lake.segments import SegmentRecord

ROW_GROUP_SIZE = 256 * 1024
_SORTING = [pq.SortingColumn(0), pq.SortingColumn(1), pq.SortingColumn(2)]


def hour_boundaries(timestamps: np.ndarray) -> list[tuple[int, int, int]]:
    """(hour start ms, first row, end row) runs of a timestamp array already grouped by hour."""
    hours = np.floor_divide(timestamps, HOUR_MS)
    cuts = np.flatnonzero(np.diff(hours)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(hours)]))
    return [(int(hours[s]) * HOUR_MS, int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def write_raw_segments(table: pa.Table, *, org: str, profile: StorageProfile,
                       filesystem: pafs.FileSystem | None = None,
                       next_id: Callable[[], int] = new_segment_id) -> list[SegmentRecord]:
    """Write one `tbl_` file per UTC hour of `table` and return their (unregistered) records.

    `table` must be sorted by (hour of `__ts`, `__name__`, `__series_id`, `__ts`). Label columns
    that are entirely null within an hour are left out of that hour's file.
    """
    fs = filesystem or profile.filesystem()
    timestamps = table.column(TS).to_numpy()
    records = []
    for hour_start, begin, end in hour_boundaries(timestamps):
        records.append(_write_hour(table.slice(begin, end - begin), org=org, profile=profile, fs=fs,
                                   segment_id=next_id(), hour_start=hour_start))
    return records


def _write_hour(part: pa.Table, *, org: str, profile: StorageProfile, fs: pafs.FileSystem,
                segment_id: int, hour_start: int) -> SegmentRecord:
    labels = [name for name in part.column_names
              if name not in SYSTEM_COLUMNS and part.column(name).null_count < part.num_rows]
    # Dictionary-typed label columns are written as they are: with store_schema=False every
    # reader sees plain strings, and Parquet dictionary-encodes them on disk anyway.
    data = part.select(raw_schema(labels).names)
    day = np.datetime64(hour_start, "ms").astype("datetime64[D]").item()
    dateint, hour = day.year * 10000 + day.month * 100 + day.day, (hour_start // HOUR_MS) % 24
    record = SegmentRecord(
        org=org, segment_id=segment_id, instance_num=profile.instance_num, collector=profile.collector,
        dateint=dateint, hour=hour, kind="tbl", frequency_ms=0,
        start_ts=int(pc.min(data.column(TS)).as_py()), end_ts=int(pc.max(data.column(TS)).as_py()),
        record_count=data.num_rows, file_size=0,
        metric_names=tuple(sorted(pc.unique(data.column(NAME)).to_pylist())),
        label_names=tuple(labels))
    size = write_parquet(data, fs, record.key, atomic_rename=profile.provider == "file")
    return replace(record, file_size=size)


def write_parquet(data: pa.Table, fs: pafs.FileSystem, key: str, *, atomic_rename: bool) -> int:
    """Write a segment file and return its size. Local files appear atomically via rename;
    object stores make an upload visible only when it completes."""
    parent = key.rsplit("/", 1)[0]
    if atomic_rename:  # object stores need no directories (pyarrow would write marker objects)
        fs.create_dir(parent, recursive=True)
    target = f"{parent}/.tmp-{uuid.uuid4().hex}" if atomic_rename else key
    try:
        with fs.open_output_stream(target) as sink:
            pq.write_table(data, sink, compression="zstd", row_group_size=ROW_GROUP_SIZE,
                           use_dictionary=[c for c in data.column_names if c not in (TS, VALUE, SERIES_ID)],
                           column_encoding={TS: "DELTA_BINARY_PACKED", SERIES_ID: "DELTA_BINARY_PACKED",
                                            VALUE: "BYTE_STREAM_SPLIT"},
                           sorting_columns=_SORTING, store_schema=False, write_statistics=True)
        if atomic_rename:
            fs.move(target, key)
    except BaseException:
        if atomic_rename:
            _delete_quietly(fs, target)
        raise
    return fs.get_file_info(key).size


def delete_segment_files(records: list[SegmentRecord], fs: pafs.FileSystem) -> None:
    for record in records:
        _delete_quietly(fs, record.key)


def _delete_quietly(fs: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        fs.delete_file(path)
