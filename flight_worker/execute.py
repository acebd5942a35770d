"""Runs one verified ticket: pinned files -> DuckDB -> Arrow batches, with cancellation.

`run_fragment(ticket, engine, is_cancelled)` returns a `Fragment`: the output schema and a
generator of record batches (each at most `MAX_BATCH_BYTES`). Everything that can fail because
of the request or the data (segment downloads, regex compilation, column discovery) happens
before it returns, so the server can answer with a precise status before streaming starts. The
generator owns the file pins and the DuckDB cursor and releases both when it finishes, fails or
is closed. A watchdog thread polls `is_cancelled()` and interrupts the cursor, so even a
blocking sort inside DuckDB stops within one poll interval; between batches the loop checks too.

Output schemas (system columns carry the lake's `__` prefix so they can never clash with a
label; label columns are dictionary<int32, string>, `__name__` first, then the others sorted,
null where a series does not have the label):

* partials: `__leaf` int32, `__series_id` int64, `__bucket_end` int64 (ms), labels, then the
  fields of `flight_worker.partials` prefixed with `__` (see `PARTIAL_COLUMNS`), sorted by
  (`__bucket_end`, `__series_id`).
* raw: `__leaf`, `__series_id`, `__bucket_end`, labels, `__ts` int64, `__value` float64; stale
  markers dropped (ordinary NaNs kept); sorted by (bucket end, series, ts).
* sketch: `__leaf`, `__series_id`, `__bucket_end`, labels, `__count` int64, `__sketch` binary
  (a serialized DataSketches REQ sketch, floats, k=12, high-rank accuracy; NaN and stale samples
  excluded); sorted by (bucket end, series).
* series: `__series_id`, labels; sorted by series id.
* label_names: `name` string, sorted. label_values: `value` string, sorted.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass

import datasketches
import duckdb
import numpy as np
import pyarrow as pa

from flight_worker import templates as T
from flight_worker.errors import BadRequest, Cancelled, DataUnavailable
from flight_worker.scan import ordered_map, time_clusters
from flight_worker.storage import SegmentStore, column_names
from lake import partials as P
from lake.schema import NAME, SERIES_ID, TS, VALUE
from planner.tickets import Ticket

MAX_BATCH_BYTES = 8 << 20
SCAN_BATCH_ROWS = 1 << 18
CANCEL_POLL_SECONDS = 0.05
log = logging.getLogger(__name__)
CLOSE_ATTEMPTS = 100  # x CANCEL_POLL_SECONDS
SCAN_THREADS = 2
REQ_K = 12
DICT = pa.dictionary(pa.int32(), pa.string())
PARTIAL_COLUMNS = [(f"__{name}", pa.int64() if name in P.INT_FIELDS else pa.float64())
                   for name in P.ALL_FIELDS]
SCHEMA_VERSION = b"1"


@dataclass
class Engine:
    """What a worker needs to run tickets: segment storage and one DuckDB database."""

    store: SegmentStore
    duckdb_threads: int = 0

    def __post_init__(self) -> None:
        self.db = duckdb.connect(":memory:")
        if self.duckdb_threads:
            self.db.execute(f"SET threads = {int(self.duckdb_threads)}")
        self._lock = threading.Lock()
        self.open_cursors = 0

    def cursor(self, stack: ExitStack) -> duckdb.DuckDBPyConnection:
        """A cursor (one per request: a connection is not safe for concurrent use), closed with
        `stack` and counted in `open_cursors`."""
        cursor = self.db.cursor()
        with self._lock:
            self.open_cursors += 1
        stack.callback(self._closed, cursor)
        return cursor

    def _closed(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Close a cursor; one still busy in a scan thread (being interrupted) is retried for a
        while. It is counted as released either way: DuckDB frees it with the thread's call."""
        try:
            for _ in range(CLOSE_ATTEMPTS):
                try:
                    cursor.close()
                    return
                except duckdb.ResourceInUseException:
                    with suppress(duckdb.Error):
                        cursor.interrupt()
                    time.sleep(CANCEL_POLL_SECONDS)
            log.warning("a DuckDB cursor stayed busy after its stream ended")
        finally:
            with self._lock:
                self.open_cursors -= 1

    def close(self) -> None:
        self.db.close()


@dataclass
class Fragment:
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]


def run_fragment(ticket: Ticket, engine: Engine,
                 is_cancelled: Callable[[], bool] = lambda: False) -> Fragment:
    stack = ExitStack()
    try:
        paths = stack.enter_context(engine.store.open(ticket.org, ticket.segments))
        cursor = engine.cursor(stack)
        cursors = [cursor]
        _check_regexes(cursor, ticket)
        labels = _label_columns(column_names(paths)) if paths else [NAME]
        run = _RUNNERS[ticket.template]

        def spawn() -> duckdb.DuckDBPyConnection:
            child = engine.cursor(stack)
            cursors.append(child)
            return child

        schema, batches = run(_Ctx(ticket, cursor, paths, labels, is_cancelled, spawn))
        schema = schema.with_metadata({b"fletch.template": ticket.template.encode(),
                                       b"fletch.schema_version": SCHEMA_VERSION})
    except BaseException:
        stack.close()
        raise
    guarded = _guarded(batches, stack, cursors, is_cancelled)
    # A stream dropped before its first batch never runs the generator's `finally`.
    weakref.finalize(guarded, stack.close)
    return Fragment(schema, guarded)


class _Resources:
    """A stream's file pins, cursors and scan threads, released exactly once: by the stream when
    it ends or is closed, or by the cancel watchdog while the stream waits at a `yield` (a
    cancelled Flight call stops pulling batches, and the suspended generator would otherwise
    hold them until garbage collection)."""

    def __init__(self, batches: Iterator[pa.RecordBatch], stack: ExitStack) -> None:
        self.lock = threading.Lock()  # held while the stream computes a batch
        self.released = False
        self._batches, self._stack = batches, stack

    def release(self) -> None:  # with `lock` held
        if not self.released:
            self.released = True
            close = getattr(self._batches, "close", None)
            if close is not None:  # stops the scan threads before their cursors close
                close()
            self._stack.close()


def _guarded(batches: Iterator[pa.RecordBatch], stack: ExitStack,
             cursors: list[duckdb.DuckDBPyConnection],
             is_cancelled: Callable[[], bool]) -> Iterator[pa.RecordBatch]:
    resources = _Resources(batches, stack)
    stop = threading.Event()
    watchdog = threading.Thread(target=_watch, args=(stop, cursors, is_cancelled, resources), daemon=True,
                                name="cancel-watch")
    watchdog.start()
    try:
        while True:
            with resources.lock:
                if resources.released or is_cancelled():
                    raise Cancelled("call cancelled")
                batch = next(batches, None)
            if batch is None:
                break
            yield from _slices(batch)
    except duckdb.InterruptException:
        raise Cancelled("call cancelled") from None
    except duckdb.Error as err:
        if is_cancelled():
            raise Cancelled("call cancelled") from None
        raise DataUnavailable(f"query failed: {str(err).splitlines()[0][:200]}") from None
    finally:
        stop.set()
        with resources.lock:
            resources.release()
        watchdog.join()


def _watch(stop: threading.Event, cursors: list[duckdb.DuckDBPyConnection],
           is_cancelled: Callable[[], bool], resources: _Resources) -> None:
    while not stop.wait(CANCEL_POLL_SECONDS):
        if is_cancelled():
            for cursor in list(cursors):
                with suppress(duckdb.Error):  # closed already
                    cursor.interrupt()
            with resources.lock:  # the stream is between batches (or done): free what it holds
                resources.release()
            return


def _slices(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    if batch.num_rows == 0:
        return
    if batch.nbytes <= MAX_BATCH_BYTES:
        yield batch
        return
    rows = max(1, int(batch.num_rows * MAX_BATCH_BYTES / batch.nbytes))
    for offset in range(0, batch.num_rows, rows):
        yield batch.slice(offset, rows)


def _label_columns(columns: Sequence[str]) -> list[str]:
    return [NAME, *sorted(c for c in columns if c not in T.SYSTEM)]


def _check_regexes(cursor: duckdb.DuckDBPyConnection, ticket: Ticket) -> None:
    for m in ticket.matchers:
        if m.op in ("=~", "!~"):
            q = T.regex_check_query(m.value)
            try:
                cursor.execute(q.sql, q.params).fetchall()
            except duckdb.Error:
                raise BadRequest(f"invalid regular expression in matcher for {m.name!r}") from None


@dataclass
class _Ctx:
    ticket: Ticket
    cursor: duckdb.DuckDBPyConnection
    paths: list[str]
    labels: list[str]
    is_cancelled: Callable[[], bool]
    spawn: Callable[[], duckdb.DuckDBPyConnection]

    def scan_cursors(self) -> list[duckdb.DuckDBPyConnection]:
        """One cursor per scan thread (a DuckDB connection is not safe for concurrent use)."""
        return [self.spawn() for _ in range(SCAN_THREADS)]

    def clusters(self) -> list[list[str]]:
        return time_clusters(self.ticket.segments, self.paths)

    @property
    def bounds(self) -> tuple[int, int]:
        t = self.ticket
        if t.edges:
            return max(t.window[0], t.edges[0]), min(t.window[1], t.edges[-1])
        return t.window

    def reader(self, q: T.Query) -> Iterator[pa.RecordBatch]:
        yield from self.cursor.sql(q.sql, params=q.params).to_arrow_reader(SCAN_BATCH_ROWS)


class _Series:
    """The matching series (sorted by id) and their labels as dictionary columns."""

    def __init__(self, ctx: _Ctx) -> None:
        lo, hi = ctx.bounds
        q = T.labels_query(ctx.paths, ctx.ticket.matchers, ctx.labels, lo, hi)
        table = ctx.cursor.sql(q.sql, params=q.params).to_arrow_table() if ctx.paths else None
        self.ids = (table.column(SERIES_ID).to_numpy() if table is not None
                    else np.empty(0, np.int64))
        self.columns: dict[str, tuple[np.ndarray, np.ndarray | None, pa.Array]] = {}
        for name in ctx.labels:
            col = (table.column(name).combine_chunks() if table is not None
                   else pa.array([], pa.string()))
            encoded = col.cast(pa.string()).dictionary_encode()
            valid = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
            codes = encoded.indices.fill_null(0).to_numpy().astype(np.int32)
            self.columns[name] = (codes, None if valid.all() else ~valid, encoded.dictionary)

    def rank(self, sid: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, sid)

    def label_arrays(self, rank: np.ndarray) -> list[pa.Array]:
        return [pa.DictionaryArray.from_arrays(
                    pa.array(codes[rank], mask=None if missing is None else missing[rank]), values)
                for codes, missing, values in self.columns.values()]


def _head_fields(labels: Sequence[str], series: bool = False) -> list[pa.Field]:
    head = [] if series else [pa.field("__leaf", pa.int32(), False)]
    head += [pa.field(SERIES_ID, pa.int64(), False)]
    if not series:
        head.append(pa.field("__bucket_end", pa.int64(), False))
    return head + [pa.field(name, DICT) for name in labels]


def sent_fields(ticket: Ticket) -> tuple[str, ...]:
    """The partial fields a ticket asks for (all when it names none), always with `count` and
    `last_stale_ts`, in `ALL_FIELDS` order."""
    if not ticket.fields:
        return P.ALL_FIELDS
    wanted = {*ticket.fields, "count", "last_stale_ts"}
    return tuple(name for name in P.ALL_FIELDS if name in wanted)


def _partials(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    sent = set(sent_fields(ctx.ticket))
    columns = [pa.field(n, t) for n, t in PARTIAL_COLUMNS if n[2:] in sent]
    schema = pa.schema([*_head_fields(ctx.labels), *columns])
    return schema, _partial_batches(ctx, schema)


def _partial_batches(ctx: _Ctx, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Reduces one time cluster of files at a time (on `SCAN_THREADS` threads) and emits the
    buckets no later cluster can reach, so the output streams while the scan goes on."""
    series = _Series(ctx)
    if len(series.ids) == 0 or not ctx.ticket.edges:
        return
    buckets = P.Buckets(ctx.ticket.edges)

    def reduce(cursor: duckdb.DuckDBPyConnection, files: list[str]) -> tuple[P.Runs, P.Runs]:
        try:
            return _reduce(ctx, cursor, files, series, buckets, ordered=False)
        except P.OverlappingRuns:  # one series in several files of the cluster, out of order
            return _reduce(ctx, cursor, files, series, buckets, ordered=True)

    chunks: list[P.Runs] = []  # merged partials sorted by key, one chunk after the other
    stale = _no_stale()
    floor = None
    with closing(ordered_map(reduce, ctx.clusters(), ctx.scan_cursors())) as results:
        for new, new_stale in results:
            if ctx.is_cancelled():
                raise Cancelled("call cancelled")
            firsts = [int(r["bucket"][0]) for r in (new, new_stale) if len(r["bucket"])]
            if not firsts:
                continue
            first = min(firsts)
            if floor is not None and first < floor:
                raise DataUnavailable("segment time ranges disagree with their data")
            floor = first
            done_stale, stale = P.split_below(stale, first)
            splits = [P.split_below(chunk, first) for chunk in chunks]
            for batch in _with_stale([d for d, _ in splits if len(d["key"])], done_stale):
                yield _partials_batch(ctx, schema, series, batch)
            rest = [r for _, r in splits if len(r["key"])]
            chunks = P.append_later(P.concat_sorted(rest), new) if rest else [new]
            stale = P.append_stale(stale, new_stale)
    for batch in _with_stale([c for c in chunks if len(c["key"])], stale):
        yield _partials_batch(ctx, schema, series, batch)


def _with_stale(chunks: list[P.Runs], stale: P.Runs) -> Iterator[P.Runs]:
    """Each chunk with the stale-marker rows of its key range (all remaining ones for the last)."""
    if not chunks:
        if len(stale["key"]):
            yield P.attach_stale(P.empty_merged(), stale)
        return
    for i, chunk in enumerate(chunks):
        j = (len(stale["key"]) if i == len(chunks) - 1
             else int(np.searchsorted(stale["key"], chunk["key"][-1], side="right")))
        yield P.attach_stale(chunk, {k: c[:j] for k, c in stale.items()})
        stale = {k: c[j:] for k, c in stale.items()}


def _no_stale() -> P.Runs:
    empty = np.empty(0, np.int64)
    return {"key": empty, "sid": empty, "bucket": empty, "last_stale_ts": empty}


def _reduce(ctx: _Ctx, cursor: duckdb.DuckDBPyConnection, files: list[str], series: _Series,
            buckets: P.Buckets, *, ordered: bool) -> tuple[P.Runs, P.Runs]:
    """Merged partials and latest stale markers of one cluster of files, both sorted by key."""
    lo, hi = ctx.bounds
    columns = _label_columns(column_names(files))
    q = T.samples_query(files, ctx.ticket.matchers, columns, lo, hi, ordered=ordered)
    table = cursor.sql(q.sql, params=q.params).to_arrow_table()
    sid, ts, v = (table.column(i).to_numpy() for i in range(3))
    bucket = buckets.index(ts)
    n_series = len(series.ids)
    stale = P.stale_mask(v)
    latest = _no_stale()
    if stale.any():
        s_sid, s_bucket, s_ts = sid[stale], bucket[stale], ts[stale]
        latest = P.latest_stale(s_bucket * n_series + series.rank(s_sid), s_sid, s_bucket, s_ts)
        keep = ~stale
        sid, bucket, ts, v = sid[keep], bucket[keep], ts[keep], v[keep]
    starts, count = P.run_bounds(sid, bucket, ts)
    if not len(starts):
        return P.empty_merged(), latest
    # Runs in output order (bucket, series, time) before reducing: the reduction gathers its
    # inputs in that order, so no output column is reordered afterwards.
    key = bucket[starts] * n_series + series.rank(sid[starts])
    order = P.order_by(key, ts[starts])
    if order is not None:
        starts, count, key = starts[order], count[order], key[order]
    runs = P.reduce_runs(sid, bucket, ts, v, ctx.ticket.ref_ts, (starts, count))
    return P.merge_runs(runs, key), latest


def _partials_batch(ctx: _Ctx, schema: pa.Schema, series: _Series, m: P.Runs) -> pa.RecordBatch:
    n = len(m["key"])
    rank = m["key"] % len(series.ids)
    empty = m["count"] == 0
    arrays: list[pa.Array] = [pa.array(np.full(n, ctx.ticket.leaf, np.int32)), pa.array(m["sid"]),
                              pa.array(P.Buckets(ctx.ticket.edges).end(m["bucket"]))]
    arrays += series.label_arrays(rank)
    for name in sent_fields(ctx.ticket):
        col = m[name]
        if name in ("count", "resets", "changes"):
            mask = None
        elif name == "last_stale_ts":
            mask = col == P.NO_TS
        elif name in ("prev_ts", "prev_value"):
            mask = m["count"] < 2
        else:
            mask = empty
        arrays.append(pa.array(col, mask=mask if mask is not None and mask.any() else None))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _raw(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    schema = pa.schema([*_head_fields(ctx.labels), pa.field(TS, pa.int64(), False),
                        pa.field(VALUE, pa.float64(), False)])
    return schema, _raw_batches(ctx, schema)


def _raw_batches(ctx: _Ctx, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Sorts one time cluster of files at a time (on `SCAN_THREADS` threads); only the buckets
    a cluster boundary cuts through are carried to the next cluster and sorted again."""
    series = _Series(ctx)
    if len(series.ids) == 0 or not ctx.ticket.edges:
        return
    buckets = P.Buckets(ctx.ticket.edges)
    pending: list[_Samples] = []  # sorted chunks, in order
    with closing(ordered_map(lambda c, files: _sorted_samples(ctx, c, files, series, buckets),
                             ctx.clusters(), ctx.scan_cursors())) as results:
        for new in results:
            if ctx.is_cancelled():
                raise Cancelled("call cancelled")
            if not len(new.key):
                continue
            first = int(new.bucket[0])
            keep: list[_Samples] = []
            for chunk in pending:  # emit the buckets this cluster cannot reach
                at = int(np.searchsorted(chunk.bucket, first, side="left"))
                if at:
                    yield _raw_batch(ctx, schema, series, buckets, chunk.slice(0, at))
                if at < len(chunk.key):
                    keep.append(chunk.slice(at, len(chunk.key)))
            pending = _Samples.join(keep).then(new) if keep else [new]
    for chunk in pending:
        yield _raw_batch(ctx, schema, series, buckets, chunk)


@dataclass
class _Samples:
    """Samples sorted by (key = bucket * n_series + series rank, ts)."""

    key: np.ndarray
    bucket: np.ndarray
    sid: np.ndarray
    ts: np.ndarray
    value: np.ndarray

    def slice(self, a: int, b: int) -> _Samples:
        return _Samples(*(c[a:b] for c in self.columns()))

    def columns(self) -> tuple[np.ndarray, ...]:
        return self.key, self.bucket, self.sid, self.ts, self.value

    def take(self, order: np.ndarray | None) -> _Samples:
        return self if order is None else _Samples(*(c[order] for c in self.columns()))

    @staticmethod
    def join(chunks: list[_Samples]) -> _Samples:
        if len(chunks) == 1:
            return chunks[0]
        return _Samples(*(np.concatenate(p) for p in zip(*(c.columns() for c in chunks), strict=True)))

    def then(self, later: _Samples) -> list[_Samples]:
        """These samples and strictly later ones as sorted chunks, sorted again where their keys
        meet (the buckets a cluster boundary cuts through)."""
        h = int(np.searchsorted(later.key, self.key[-1], side="right"))
        both = _Samples.join([self, later.slice(0, h)])
        return [both.take(P.stable_order(both.key)), later.slice(h, len(later.key))]


def _sorted_samples(ctx: _Ctx, cursor: duckdb.DuckDBPyConnection, files: list[str], series: _Series,
                    buckets: P.Buckets) -> _Samples:
    lo, hi = ctx.bounds
    q = T.fresh_samples_query(files, ctx.ticket.matchers, _label_columns(column_names(files)), lo, hi)
    table = cursor.sql(q.sql, params=q.params).to_arrow_table()
    sid, ts, value = (table.column(i).to_numpy() for i in range(3))
    n = len(ts)
    if n == 0:
        return _Samples(*(np.empty(0, np.int64) for _ in range(4)), value)
    bucket = buckets.index(ts)
    # Rows of one series and bucket are contiguous in a file (sorted by series, then time):
    # sort those runs by (bucket, series rank, first ts) and move them as blocks.
    starts, lengths = P.run_bounds(sid, bucket, ts)
    key = bucket[starts] * len(series.ids) + series.rank(sid[starts])
    order = P.order_by(key, ts[starts])
    if order is None:
        return _Samples(np.repeat(key, lengths), bucket, sid, ts, value)
    starts, lengths, key = starts[order], lengths[order], key[order]
    rows = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(n)
    return _Samples(np.repeat(key, lengths), bucket[rows], sid[rows], ts[rows], value[rows])


def _raw_batch(ctx: _Ctx, schema: pa.Schema, series: _Series, buckets: P.Buckets,
               s: _Samples) -> pa.RecordBatch:
    rank = s.key % len(series.ids)
    arrays = [pa.array(np.full(len(s.key), ctx.ticket.leaf, np.int32)), pa.array(s.sid),
              pa.array(buckets.end(s.bucket)), *series.label_arrays(rank), pa.array(s.ts),
              pa.array(s.value)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _sketch(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    schema = pa.schema([*_head_fields(ctx.labels), pa.field("__count", pa.int64(), False),
                        pa.field("__sketch", pa.binary(), False)])
    return schema, _sketch_batches(ctx, schema)


def _sketch_batches(ctx: _Ctx, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    series = _Series(ctx)
    if len(series.ids) == 0:
        return
    lo, hi = ctx.bounds
    q = T.bucketed_query(ctx.paths, ctx.ticket.matchers, ctx.labels, ctx.ticket.edges, lo, hi)
    carry: tuple[np.ndarray, ...] | None = None
    for batch in ctx.reader(q):
        cols = tuple(batch.column(i).to_numpy() for i in (0, 1, 3))
        if carry is not None:
            cols = tuple(np.concatenate(pair) for pair in zip(carry, cols, strict=True))
        end, sid = cols[0], cols[1]
        tail = len(end) - 1  # the last group may continue in the next batch
        while tail > 0 and end[tail - 1] == end[-1] and sid[tail - 1] == sid[-1]:
            tail -= 1
        carry = tuple(c[tail:] for c in cols)
        if tail:
            yield _sketch_batch(ctx, schema, series, *(c[:tail] for c in cols))
    if carry is not None and len(carry[0]):
        yield _sketch_batch(ctx, schema, series, *carry)


def _sketch_batch(ctx: _Ctx, schema: pa.Schema, series: _Series, end: np.ndarray, sid: np.ndarray,
                  v: np.ndarray) -> pa.RecordBatch:
    keep = ~np.isnan(v)  # NaN cannot be ranked (stale markers are NaN too)
    end, sid, v = end[keep], sid[keep], v[keep]
    if len(end) == 0:
        return pa.RecordBatch.from_pylist([], schema=schema)
    starts = np.flatnonzero(np.r_[True, (end[1:] != end[:-1]) | (sid[1:] != sid[:-1])])
    bounds = np.append(starts, len(end))
    blobs = []
    with np.errstate(over="ignore"):  # beyond float32's range: +-inf, still correctly ranked
        values = v.astype(np.float32)
    for a, b in itertools.pairwise(bounds):
        sk = datasketches.req_floats_sketch(REQ_K, True)
        sk.update(values[a:b])
        blobs.append(sk.serialize())
    arrays = [pa.array(np.full(len(starts), ctx.ticket.leaf, np.int32)), pa.array(sid[starts]),
              pa.array(end[starts]), *series.label_arrays(series.rank(sid[starts])),
              pa.array(np.diff(bounds)), pa.array(blobs, pa.binary())]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _series(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    schema = pa.schema(_head_fields(ctx.labels, series=True))

    def batches() -> Iterator[pa.RecordBatch]:
        series = _Series(ctx)
        if len(series.ids):
            rank = np.arange(len(series.ids))
            yield pa.RecordBatch.from_arrays([pa.array(series.ids), *series.label_arrays(rank)],
                                             schema=schema)
    return schema, batches()


def _label_names(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    schema = pa.schema([pa.field("name", pa.string(), False)])

    def batches() -> Iterator[pa.RecordBatch]:
        if not ctx.paths:
            return
        lo, hi = ctx.bounds
        q = T.label_names_query(ctx.paths, ctx.ticket.matchers, ctx.labels, lo, hi)
        row = ctx.cursor.execute(q.sql, q.params).fetchone()
        names = sorted(name for name, present in zip(ctx.labels, row or (), strict=False) if present)
        if names:
            yield pa.RecordBatch.from_arrays([pa.array(names, pa.string())], schema=schema)
    return schema, batches()


def _label_values(ctx: _Ctx) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    schema = pa.schema([pa.field("value", pa.string(), False)])

    def batches() -> Iterator[pa.RecordBatch]:
        if not ctx.paths or ctx.ticket.label not in ctx.labels:
            return
        lo, hi = ctx.bounds
        q = T.label_values_query(ctx.paths, ctx.ticket.matchers, ctx.labels, ctx.ticket.label, lo, hi)
        for batch in ctx.reader(q):
            yield pa.RecordBatch.from_arrays([batch.column(0).cast(pa.string())], schema=schema)
    return schema, batches()


_RUNNERS: dict[str, Callable[[_Ctx], tuple[pa.Schema, Iterator[pa.RecordBatch]]]] = {
    "partials": _partials, "raw": _raw, "sketch": _sketch, "series": _series,
    "label_names": _label_names, "label_values": _label_values,
}
