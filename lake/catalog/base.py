"""One catalog implementation over DB-API connections; the dialects differ only in small hooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lake.catalog.migrations import LATEST_VERSION, MIGRATIONS
from lake.schema import HOUR_MS
from lake.segments import SegmentRecord

_SEGMENT_COLUMNS = ("org", "segment_id", "instance_num", "collector", "dateint", "hour", "kind",
                    "frequency_ms", "start_ts", "end_ts", "record_count", "file_size", "metric_names",
                    "label_names", "published", "created_at")


class CatalogError(Exception):
    """The catalog refused an operation (duplicate segment, unreachable database, bad DSN)."""


@dataclass(frozen=True, slots=True)
class MetricMetadata:
    metric_name: str
    type: str
    help: str
    unit: str


class Catalog:
    """Segment lookups and registrations. Subclasses supply connections and dialect details.

    Writes run in one transaction each: `register_segments` makes all given segments visible
    together or none of them.
    """

    placeholder = "?"

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # -- dialect hooks -------------------------------------------------------------------------
    def _connection(self) -> Any:
        raise NotImplementedError

    @contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        raise NotImplementedError

    def _lock_migrations(self, cursor: Any) -> None:
        """Serialize concurrent migrators (the write transaction already does for SQLite)."""

    def _is_unique_violation(self, err: Exception) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- schema ----------------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply pending migrations; safe to call from several processes at once."""
        with self._write_transaction() as cur:
            self._lock_migrations(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = cur.fetchone()[0]
            if current > LATEST_VERSION:
                raise CatalogError(f"catalog schema version {current} is newer than this fletch "
                                   f"({LATEST_VERSION}); upgrade fletch")
            for version, statements in MIGRATIONS:
                if version > current:
                    for statement in statements:
                        cur.execute(statement)
                    cur.execute(self._sql("INSERT INTO schema_migrations VALUES (?, ?)"),
                                (version, _now_ms()))
            return LATEST_VERSION

    def schema_version(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            return int(cur.fetchone()[0])

    # -- segments --------------------------------------------------------------------------------
    def register_segments(self, segments: Sequence[SegmentRecord],
                          metadata: dict[str, dict[str, MetricMetadata]] | None = None) -> None:
        """Insert segments (and optional per-org metric metadata) in one transaction."""
        insert = self._sql(f"INSERT INTO segments ({', '.join(_SEGMENT_COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(_SEGMENT_COLUMNS))})")
        insert_metric = self._sql("INSERT INTO segment_metrics (org, metric_name, segment_id) "
                                  "VALUES (?, ?, ?)")
        now = _now_ms()
        try:
            with self._write_transaction() as cur:
                for seg in segments:
                    cur.execute(insert, _segment_row(seg, now))
                    for name in seg.metric_names:
                        cur.execute(insert_metric, (seg.org, name, seg.segment_id))
                for org, by_metric in (metadata or {}).items():
                    for meta in by_metric.values():
                        self._upsert_metadata(cur, org, meta)
        except Exception as err:
            if self._is_unique_violation(err):
                raise CatalogError("a segment with the same (org, segment_id) is already "
                                   "registered; nothing was registered") from err
            raise

    def set_published(self, org: str, segment_ids: Collection[int], published: bool) -> int:
        if not segment_ids:
            return 0
        with self._write_transaction() as cur:
            cur.execute(self._sql(f"UPDATE segments SET published = ? WHERE org = ? AND segment_id "
                                  f"IN ({', '.join('?' * len(segment_ids))})"),
                        (published, org, *segment_ids))
            return int(cur.rowcount)

    def delete_segments(self, org: str, segment_ids: Collection[int]) -> int:
        if not segment_ids:
            return 0
        marks = ", ".join("?" * len(segment_ids))
        with self._write_transaction() as cur:
            cur.execute(self._sql(f"DELETE FROM segment_metrics WHERE org = ? AND segment_id IN ({marks})"),
                        (org, *segment_ids))
            cur.execute(self._sql(f"DELETE FROM segments WHERE org = ? AND segment_id IN ({marks})"),
                        (org, *segment_ids))
            return int(cur.rowcount)

    def find_segments(self, org: str, start_ts: int, end_ts: int,
                      metric_names: Collection[str] | None = None, kind: str = "tbl",
                      published_only: bool = True) -> list[SegmentRecord]:
        """Segments of `org` whose [start_ts, end_ts] overlaps the inclusive range given.

        With `metric_names`, only segments holding at least one of them. Results are ordered by
        start time, then segment id. A segment lies within one UTC hour, which bounds the index
        range scanned.
        """
        sql = (f"SELECT {', '.join(_SEGMENT_COLUMNS)} FROM segments "
               "WHERE org = ? AND kind = ? AND start_ts <= ? AND start_ts > ? AND end_ts >= ?")
        params: list[Any] = [org, kind, end_ts, start_ts - HOUR_MS, start_ts]
        if published_only:
            sql += " AND published = ?"
            params.append(True)
        if metric_names is not None:
            if not metric_names:
                return []
            names = sorted(set(metric_names))
            sql += (" AND segment_id IN (SELECT segment_id FROM segment_metrics WHERE org = ? AND "
                    f"metric_name IN ({', '.join('?' * len(names))}))")
            params += [org, *names]
        sql += " ORDER BY start_ts, segment_id"
        with self._read() as cur:
            cur.execute(self._sql(sql), params)
            return [_segment_from_row(row) for row in cur.fetchall()]

    def get_segments(self, org: str, segment_ids: Collection[int]) -> list[SegmentRecord]:
        if not segment_ids:
            return []
        with self._read() as cur:
            cur.execute(self._sql(f"SELECT {', '.join(_SEGMENT_COLUMNS)} FROM segments WHERE org = ? "
                                  f"AND segment_id IN ({', '.join('?' * len(segment_ids))}) "
                                  "ORDER BY start_ts, segment_id"), (org, *segment_ids))
            return [_segment_from_row(row) for row in cur.fetchall()]

    def metric_names(self, org: str, start_ts: int, end_ts: int) -> list[str]:
        """Names of metrics with a published raw segment overlapping the range, sorted."""
        with self._read() as cur:
            cur.execute(self._sql(
                "SELECT DISTINCT m.metric_name FROM segment_metrics m JOIN segments s "
                "ON s.org = m.org AND s.segment_id = m.segment_id WHERE s.org = ? AND s.kind = 'tbl' "
                "AND s.published = ? AND s.start_ts <= ? AND s.start_ts > ? AND s.end_ts >= ? "
                "ORDER BY m.metric_name"), (org, True, end_ts, start_ts - HOUR_MS, start_ts))
            return [row[0] for row in cur.fetchall()]

    def orgs(self) -> list[str]:
        with self._read() as cur:
            cur.execute("SELECT DISTINCT org FROM segments ORDER BY org")
            return [row[0] for row in cur.fetchall()]

    # -- metadata --------------------------------------------------------------------------------
    def metric_metadata(self, org: str, metric_name: str | None = None) -> list[MetricMetadata]:
        sql = "SELECT metric_name, type, help, unit FROM metric_metadata WHERE org = ?"
        params: list[Any] = [org]
        if metric_name is not None:
            sql += " AND metric_name = ?"
            params.append(metric_name)
        with self._read() as cur:
            cur.execute(self._sql(sql + " ORDER BY metric_name"), params)
            return [MetricMetadata(*row) for row in cur.fetchall()]

    def _upsert_metadata(self, cur: Any, org: str, meta: MetricMetadata) -> None:
        cur.execute(self._sql(
            "INSERT INTO metric_metadata (org, metric_name, type, help, unit) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (org, metric_name) DO UPDATE SET type = excluded.type, "
            "help = excluded.help, unit = excluded.unit"),
            (org, meta.metric_name, meta.type, meta.help, meta.unit))

    # -- helpers ---------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            conn = self._connection()
            cur = conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
                conn.rollback()


def _segment_row(seg: SegmentRecord, now: int) -> tuple[Any, ...]:
    return (seg.org, seg.segment_id, seg.instance_num, seg.collector, seg.dateint, seg.hour, seg.kind,
            seg.frequency_ms, seg.start_ts, seg.end_ts, seg.record_count, seg.file_size,
            json.dumps(sorted(seg.metric_names)), json.dumps(sorted(seg.label_names)),
            bool(seg.published), seg.created_at or now)


def _segment_from_row(row: Sequence[Any]) -> SegmentRecord:
    values = dict(zip(_SEGMENT_COLUMNS, row, strict=True))
    values["metric_names"] = tuple(json.loads(values["metric_names"]))
    values["label_names"] = tuple(json.loads(values["label_names"]))
    values["published"] = bool(values["published"])
    return SegmentRecord(**values)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def open_catalog(dsn: str, migrate: bool = True) -> Catalog:
    """`sqlite:///path/to/catalog.db` (or a bare file path) or `postgresql://...`."""
    if dsn.startswith(("postgresql://", "postgres://")):
        from lake.catalog.postgres import PostgresCatalog
        catalog: Catalog = PostgresCatalog(dsn)
    elif dsn.startswith("sqlite:///"):
        from lake.catalog.sqlite import SqliteCatalog
        # sqlite:///relative/path.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
        catalog = SqliteCatalog(dsn.removeprefix("sqlite:///"))
    elif "://" in dsn:
        raise CatalogError(f"unsupported catalog DSN {dsn!r}: use sqlite:///path or postgresql://...")
    else:
        from lake.catalog.sqlite import SqliteCatalog
        catalog = SqliteCatalog(dsn)
    if migrate:
        catalog.migrate()
    return catalog
