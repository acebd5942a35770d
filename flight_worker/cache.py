"""A local disk cache of segment files: byte budget, LRU, single-flight downloads, pins.

* Files live at `<root>/<cache key>`; a download goes to a `.tmp-*` file beside it and appears
  by atomic rename once its size matches what the catalog recorded, so a reader never sees a
  partial file and a short or failed download leaves nothing behind (the cache is not poisoned).
* One download per key at a time: concurrent requests for a key wait for the first and share its
  result (an error is not cached: the next request tries again).
* `acquire` pins a file until `release`; eviction (least recently used first) never removes a
  pinned file. If everything is pinned the cache runs over budget rather than failing a query,
  and evicts as soon as pins are released.
* On start the cache re-indexes what is on disk (oldest modification time first in LRU order)
  and deletes leftover temporary files.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flight_worker.errors import DataUnavailable

TMP_PREFIX = ".tmp-"


@dataclass
class _Entry:
    size: int
    pins: int = 0


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass
class CacheStats:
    files: int
    bytes: int
    budget: int
    pinned: int
    hits: int
    misses: int
    evictions: int
    downloads_failed: int


class SegmentCache:
    def __init__(self, root: str | os.PathLike[str], budget_bytes: int) -> None:
        self.root = Path(root)
        self.budget = budget_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, _Flight] = {}
        self._bytes = 0
        self.hits = self.misses = self.evictions = self.downloads_failed = 0
        self.root.mkdir(parents=True, exist_ok=True)
        self._reindex()

    def path(self, key: str) -> Path:
        return self.root / key

    def acquire(self, key: str, size: int, fetch: Callable[[Path], None]) -> Path:
        """The pinned local path of `key`, downloading it with `fetch(tmp_path)` if needed."""
        _check_key(key)
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.size == size:
                    entry.pins += 1
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return self.path(key)
                if entry is not None:  # the recorded size changed: drop and fetch again
                    if entry.pins:
                        raise DataUnavailable(f"segment {key}: size changed while in use")
                    self._remove(key)
                flight = self._inflight.get(key)
                if flight is None:
                    flight = self._inflight[key] = _Flight()
                    leader = True
                    self.misses += 1
                else:
                    leader = False
            if not leader:
                flight.done.wait()
                if flight.error is not None:
                    raise flight.error
                continue  # the file is in the index now (or was evicted again: retry)
            try:
                self._download(key, size, fetch)
            except BaseException as err:
                with self._lock:
                    self.downloads_failed += 1
                    flight.error = err
                    del self._inflight[key]
                flight.done.set()
                raise
            with self._lock:
                entry = self._entries.get(key)
                if entry is None:
                    entry = self._entries[key] = _Entry(size)
                    self._bytes += size
                entry.pins += 1
                del self._inflight[key]
                self._evict()
            flight.done.set()
            return self.path(key)

    def release(self, key: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.pins > 0:
                entry.pins -= 1
            self._evict()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(files=len(self._entries), bytes=self._bytes, budget=self.budget,
                              pinned=sum(1 for e in self._entries.values() if e.pins),
                              hits=self.hits, misses=self.misses, evictions=self.evictions,
                              downloads_failed=self.downloads_failed)

    def pins(self, key: str) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return entry.pins if entry else 0

    def _download(self, key: str, size: int, fetch: Callable[[Path], None]) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        try:
            with self._lock:  # make room before the bytes land
                self._evict(incoming=size)
            fetch(tmp)
            got = tmp.stat().st_size
            if got != size:
                raise DataUnavailable(f"segment {key}: object has {got} bytes, the catalog says {size}")
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _evict(self, incoming: int = 0) -> None:
        """Drop unpinned files, least recently used first, until within budget (lock held)."""
        if self._bytes + incoming <= self.budget:
            return
        for key in [k for k, e in self._entries.items() if e.pins == 0]:
            if self._bytes + incoming <= self.budget:
                break
            self._remove(key)
            self.evictions += 1

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def _reindex(self) -> None:
        found = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(dirpath) / name
                if name.startswith(TMP_PREFIX):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    continue
                st = path.stat()
                found.append((st.st_mtime_ns, path.relative_to(self.root).as_posix(), st.st_size))
        for _mtime, key, size in sorted(found):
            self._entries[key] = _Entry(size)
            self._bytes += size
        self._evict()


def _check_key(key: str) -> None:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) \
            or parts[-1].startswith(TMP_PREFIX):
        raise ValueError(f"bad cache key {key!r}")
