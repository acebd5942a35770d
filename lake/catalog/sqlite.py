"""SQLite catalog: the embedded default. WAL mode, so several processes can share one file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lake.catalog.base import Catalog, CatalogError

_BUSY_TIMEOUT_MS = 30_000


class SqliteCatalog(Catalog):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        except sqlite3.Error as err:
            raise CatalogError(f"cannot open SQLite catalog {path}: {err}") from None

    def _connection(self) -> Any:
        return _AutocommitReader(self._conn)

    @contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            # IMMEDIATE takes the write lock up front, so concurrent writers queue on busy_timeout
            # instead of failing with SQLITE_BUSY on lock upgrade.
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                cur.close()

    def _is_unique_violation(self, err: Exception) -> bool:
        return isinstance(err, sqlite3.IntegrityError) and "UNIQUE" in str(err)

    def close(self) -> None:
        self._conn.close()


class _AutocommitReader:
    """Reads in autocommit mode: each SELECT sees the latest committed state."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def rollback(self) -> None:
        pass
