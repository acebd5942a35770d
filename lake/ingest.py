"""Ingest of exposition files: parse, sort, de-duplicate, write segments, then register them.

Segments become visible only after every file is written, in one catalog transaction; any
failure before that deletes what was written, so the catalog never points at a missing or
half-written file.

Duplicates follow Prometheus's TSDB: a sample repeating an earlier one of the same series with
the same timestamp and value is dropped; the same series and timestamp with a different value is
an error ("duplicate sample for timestamp"), or with `skip_invalid` the later line is skipped and
counted. Samples of a series may appear in any order in the input: they are sorted by time
(promtool's backfill instead rejects a series' samples that go back in time).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from lake.catalog import Catalog, MetricMetadata
from lake.exposition import ExpositionError, Format, detect_format, iter_chunks, parse_chunk, parse_series_key
from lake.profiles import StorageProfiles
from lake.schema import HOUR_MS, NAME, SERIES_ID, TS, VALUE, series_id
from lake.segments import SegmentRecord
from lake.writer import delete_segment_files, write_raw_segments

READ_BLOCK_BYTES = 64 << 20
ProgressCallback = Callable[[int, int], None]


@dataclass
class IngestResult:
    samples: int = 0
    series: int = 0
    segments: list[SegmentRecord] = field(default_factory=list)
    skipped_lines: int = 0
    duplicates_dropped: int = 0
    seconds: float = 0.0


class _SeriesTable:
    """Distinct series across all input: canonical labels, ids and their first-seen index."""

    def __init__(self) -> None:
        self.index_by_key: dict[tuple[tuple[str, str], ...], int] = {}
        self.labels: list[dict[str, str]] = []

    def intern(self, labels: dict[str, str]) -> int:
        key = tuple(sorted(labels.items()))
        index = self.index_by_key.get(key)
        if index is None:
            index = self.index_by_key[key] = len(self.labels)
            self.labels.append(labels)
        return index


@dataclass
class _Samples:
    series: list[np.ndarray] = field(default_factory=list)
    raw_ts: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    lines: list[np.ndarray] = field(default_factory=list)
    files: list[np.ndarray] = field(default_factory=list)


def ingest_files(paths: Sequence[str | Path], *, org: str, catalog: Catalog, profiles: StorageProfiles,
                 fmt: Format | None = None, skip_invalid: bool = False,
                 progress: ProgressCallback | None = None) -> IngestResult:
    started = time.perf_counter()
    result = IngestResult()
    series = _SeriesTable()
    samples = _Samples()
    metadata: dict[str, MetricMetadata] = {}
    problems: list[tuple[str, int, str]] = []
    total_bytes = sum(Path(p).stat().st_size for p in paths)
    done_bytes = 0
    for file_number, path in enumerate(paths):
        for chunk_bytes, file_problems in _read_file(Path(path), file_number, fmt, series, samples, metadata):
            done_bytes += chunk_bytes
            problems += [(str(path), line, reason) for line, reason in file_problems]
            if progress:
                progress(done_bytes, total_bytes)
    if problems and not skip_invalid:
        raise ExpositionError(", ".join(map(str, paths)) if len(paths) > 1 else str(paths[0]),
                              [(line, f"{src}: {reason}" if len(paths) > 1 else reason)
                               for src, line, reason in problems])
    result.skipped_lines = len(problems)
    if not samples.series:
        result.seconds = time.perf_counter() - started
        return result
    table, dropped, conflicts = _build_table(samples, series, [str(p) for p in paths])
    if conflicts and not skip_invalid:
        raise ExpositionError(str(paths[0]) if len(paths) == 1 else "input", conflicts)
    result.skipped_lines += len(conflicts)
    _write_and_register(result, table, series, org, catalog, profiles, metadata)
    result.duplicates_dropped = dropped
    result.seconds = time.perf_counter() - started
    return result


def ingest_samples(series_labels: Sequence[dict[str, str]], series_index: np.ndarray,
                   timestamps: np.ndarray, values: np.ndarray, *, org: str, catalog: Catalog,
                   profiles: StorageProfiles,
                   metadata: dict[str, MetricMetadata] | None = None) -> IngestResult:
    """Ingest samples given as arrays (values keep their exact bits, stale markers included).

    `series_index[i]` points into `series_labels` (each including `__name__`). Duplicates follow
    the same rules as files; a conflicting duplicate raises ExpositionError naming row numbers.
    """
    started = time.perf_counter()
    result = IngestResult()
    series = _SeriesTable()
    mapping = np.array([series.intern({k: v for k, v in labels.items() if v}) for labels in series_labels],
                       dtype=np.int32)
    rows = np.arange(1, len(timestamps) + 1, dtype=np.int64)
    samples = _Samples([mapping[np.asarray(series_index)]], [np.asarray(timestamps, dtype=np.int64)],
                       [np.asarray(values, dtype=np.float64)], [rows], [np.zeros(len(rows), np.int16)])
    if len(rows):
        table, dropped, conflicts = _build_table(samples, series, ["samples"])
        if conflicts:
            raise ExpositionError("samples", conflicts)
        _write_and_register(result, table, series, org, catalog, profiles, metadata or {})
        result.duplicates_dropped = dropped
    result.seconds = time.perf_counter() - started
    return result


def _write_and_register(result: IngestResult, table: pa.Table, series: _SeriesTable, org: str,
                        catalog: Catalog, profiles: StorageProfiles,
                        metadata: dict[str, MetricMetadata]) -> None:
    result.samples = table.num_rows
    result.series = len(series.labels)
    profile = profiles.resolve(org, profiles.default_instance(org))
    fs = profile.filesystem()
    written: list[SegmentRecord] = []
    try:
        written = write_raw_segments(table, org=org, profile=profile, filesystem=fs)
        catalog.register_segments(written, {org: metadata} if metadata else None)
    except BaseException:
        delete_segment_files(written, fs)
        raise
    result.segments = written


def _read_file(path: Path, file_number: int, fmt: Format | None, series: _SeriesTable, samples: _Samples,
               metadata: dict[str, MetricMetadata]) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """Parse one file chunk by chunk into `samples`; yields (bytes read, problems) per chunk."""
    file_fmt = fmt or _detect(path)
    with pa.input_stream(str(path), compression="detect") as stream:
        blocks = iter(lambda: stream.read(READ_BLOCK_BYTES), b"")
        compressed_total = path.stat().st_size
        reported = 0
        eof_line: int | None = None
        for chunk, first_line in iter_chunks(blocks):
            parsed = parse_chunk(chunk, first_line, file_fmt)
            problems = list(parsed.invalid)
            eof_line = eof_line or parsed.eof_line
            keep = np.ones(len(parsed.series_index), dtype=bool)
            if eof_line is not None:
                keep = parsed.line_numbers < eof_line
                problems += [(int(n), "sample after `# EOF`") for n in parsed.line_numbers[~keep]]
            mapping = np.empty(len(parsed.series_keys), dtype=np.int32)
            for i, key in enumerate(parsed.series_keys):
                try:
                    mapping[i] = series.intern(parse_series_key(key))
                except ValueError as err:
                    mapping[i] = -1
                    bad_rows = parsed.series_index == i
                    keep &= ~bad_rows
                    problems += [(int(n), str(err)) for n in parsed.line_numbers[bad_rows]]
            if len(parsed.series_index):
                rows = np.flatnonzero(keep) if not keep.all() else slice(None)
                samples.series.append(mapping[parsed.series_index[rows]])
                samples.raw_ts.append(parsed.timestamps[rows])
                samples.values.append(parsed.values[rows])
                samples.lines.append(parsed.line_numbers[rows])
                samples.files.append(np.full(len(samples.lines[-1]), file_number, dtype=np.int16))
            for name, entry in parsed.metadata.items():
                metadata[name] = MetricMetadata(name, entry["type"], entry["help"], entry["unit"])
            position = stream.tell() if path.suffix != ".gz" else compressed_total
            yield max(0, min(position, compressed_total) - reported), problems
            reported = max(reported, min(position, compressed_total))


def _detect(path: Path) -> Format:
    with pa.input_stream(str(path), compression="detect") as stream:
        head = stream.read(1 << 16)
    tail = b""
    if path.suffix != ".gz":
        with path.open("rb") as raw:
            raw.seek(max(0, path.stat().st_size - 256))
            tail = raw.read()
    elif len(head) < (1 << 16):
        tail = head
    else:
        with pa.input_stream(str(path), compression="detect") as stream:
            for block in iter(lambda: stream.read(READ_BLOCK_BYTES), b""):
                tail = (tail + block)[-256:]
    return detect_format(head, tail)


def _build_table(samples: _Samples, series: _SeriesTable,
                 sources: list[str]) -> tuple[pa.Table, int, list[tuple[int, str]]]:
    """Sort rows by (hour, name, series id, time), drop exact duplicates, and find conflicts."""
    series_idx = np.concatenate(samples.series)
    ts = np.concatenate(samples.raw_ts)
    values = np.concatenate(samples.values)
    lines = np.concatenate(samples.lines)
    files = np.concatenate(samples.files)

    names = [labels[NAME] for labels in series.labels]
    ids = np.array([series_id(labels) for labels in series.labels], dtype=np.int64)
    order = sorted(range(len(names)), key=lambda i: (names[i], int(ids[i])))
    rank = np.empty(len(order), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(order))

    hours = np.floor_divide(ts, HOUR_MS)
    hour_base = hours.min() if len(hours) else 0
    primary = (hours - hour_base) * len(order) + rank[series_idx]
    perm = np.lexsort((ts, primary))
    series_idx, ts, values, lines, files = (a[perm] for a in (series_idx, ts, values, lines, files))

    same = (series_idx[1:] == series_idx[:-1]) & (ts[1:] == ts[:-1])
    dropped = 0
    conflicts: list[tuple[int, str]] = []
    if same.any():
        value_bits = values.view(np.uint64)
        identical = same & (value_bits[1:] == value_bits[:-1])
        conflicting = same & ~identical
        for i in np.flatnonzero(conflicting):
            src = f"{sources[files[i + 1]]}: " if len(sources) > 1 else ""
            conflicts.append((int(lines[i + 1]),
                              f"{src}duplicate sample for timestamp {int(ts[i + 1])} with a different "
                              f"value than line {int(lines[i])}"))
        drop = np.concatenate(([False], same))
        dropped = int(identical.sum())
        keep = ~drop
        series_idx, ts, values = series_idx[keep], ts[keep], values[keep]

    columns: dict[str, pa.Array] = {
        NAME: _dictionary_column(series_idx, names),
        SERIES_ID: pa.array(ids[series_idx]),
        TS: pa.array(ts),
        VALUE: pa.array(values),
    }
    label_names = sorted({name for labels in series.labels for name in labels} - {NAME})
    for label in label_names:
        columns[label] = _dictionary_column(series_idx, [labels.get(label) for labels in series.labels])
    return pa.table(columns), dropped, conflicts


def _dictionary_column(series_idx: np.ndarray, per_series: list[str | None]) -> pa.DictionaryArray:
    """A label column as dictionary indices, without materializing one string per row."""
    distinct = sorted({v for v in per_series if v is not None})
    position = {v: i for i, v in enumerate(distinct)}
    codes = pa.array([position.get(v) if v is not None else None for v in per_series], pa.int32())
    return pa.DictionaryArray.from_arrays(codes.take(pa.array(series_idx)), pa.array(distinct, pa.string()))


def terminal_progress(stream=sys.stderr) -> ProgressCallback | None:
    """A one-line progress bar on interactive terminals; None elsewhere."""
    if not stream.isatty():
        return None

    def report(done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        bar = "#" * int(fraction * 30)
        stream.write(f"\ringest [{bar:<30}] {fraction:6.1%} {done / 1e6:,.1f}/{total / 1e6:,.1f} MB")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return report
