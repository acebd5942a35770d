"""PostgreSQL catalog for fleets (psycopg 3; install the `postgres` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lake.catalog.base import Catalog, CatalogError

try:
    import psycopg
except ImportError:  # pragma: no cover - depends on the installed extras
    psycopg = None  # type: ignore[assignment]

# Any constant shared by all fletch processes: it serializes schema migrations.
_MIGRATION_LOCK_ID = 0x66_6C_65_74_63_68


class PostgresCatalog(Catalog):
    placeholder = "%s"

    def __init__(self, dsn: str) -> None:
        super().__init__()
        if psycopg is None:
            raise CatalogError("the PostgreSQL catalog needs psycopg: pip install 'fletch[postgres]'")
        try:
            self._conn = psycopg.connect(dsn, connect_timeout=10)
        except psycopg.Error as err:
            raise CatalogError(f"cannot connect to the PostgreSQL catalog: {err}".strip()) from None

    def _connection(self) -> Any:
        self._reconnect_if_broken()
        return self._conn

    @contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        with self._lock:
            self._reconnect_if_broken()
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield cur

    def _lock_migrations(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))

    def _is_unique_violation(self, err: Exception) -> bool:
        return isinstance(err, psycopg.errors.UniqueViolation)

    def _reconnect_if_broken(self) -> None:
        if self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._conn.info.dsn, connect_timeout=10)

    def close(self) -> None:
        self._conn.close()
