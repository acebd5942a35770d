"""The segment cache: budget, LRU, pins, single flight, atomic downloads, restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from flight_worker.cache import SegmentCache
from flight_worker.errors import DataUnavailable


def _writer(data: bytes, calls: list[str] | None = None, delay: float = 0.0):
    def fetch(tmp: Path) -> None:
        if calls is not None:
            calls.append(tmp.name)
        time.sleep(delay)
        tmp.write_bytes(data)
    return fetch


def test_hit_miss_and_lru_eviction_never_removes_pinned(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=250)
    a = cache.acquire("p/a", 100, _writer(b"a" * 100))
    cache.acquire("p/b", 100, _writer(b"b" * 100))
    cache.release("p/b")
    # a is pinned, b is not: c pushes the cache over budget, so b goes
    cache.acquire("p/c", 100, _writer(b"c" * 100))
    assert a.exists() and not cache.path("p/b").exists()
    # everything pinned: the cache runs over budget instead of failing, and catches up later
    cache.acquire("p/d", 100, _writer(b"d" * 100))
    assert cache.stats().bytes == 300 and a.exists()
    for key in ("p/a", "p/c", "p/d"):
        cache.release(key)
    assert cache.stats().bytes <= 250 and cache.stats().pinned == 0
    assert cache.stats().evictions == 2


def test_tiny_budget_with_pins(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=1)
    paths = [cache.acquire(f"k/{i}", 10, _writer(bytes(10))) for i in range(3)]
    assert all(p.exists() for p in paths)
    cache.release("k/0")
    assert not paths[0].exists() and paths[1].exists() and paths[2].exists()


def test_single_flight(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=1 << 20)
    calls: list[str] = []
    fetch = _writer(b"x" * 50, calls, delay=0.2)
    threads = [threading.Thread(target=cache.acquire, args=("s/x", 50, fetch)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.pins("s/x") == 5
    assert cache.stats().hits == 4 and cache.stats().misses == 1


def test_truncated_or_failed_download_does_not_poison(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=1 << 20)
    with pytest.raises(DataUnavailable, match="3 bytes, the catalog says 10"):
        cache.acquire("t/x", 10, _writer(b"abc"))

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"par")
        raise OSError("connection reset")

    with pytest.raises(OSError):
        cache.acquire("t/x", 10, broken)
    assert list(tmp_path.rglob("*")) == [tmp_path / "t"]  # no partial or temp files
    assert cache.acquire("t/x", 10, _writer(b"0123456789")).read_bytes() == b"0123456789"
    assert cache.stats().downloads_failed == 2


def test_restart_reindexes_and_cleans_temp_files(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=1 << 20)
    cache.acquire("r/a", 4, _writer(b"aaaa"))
    (tmp_path / "r" / ".tmp-leftover").write_bytes(b"junk")
    again = SegmentCache(tmp_path, budget_bytes=1 << 20)
    assert again.stats().files == 1 and again.stats().bytes == 4
    assert not (tmp_path / "r" / ".tmp-leftover").exists()
    calls: list[str] = []
    again.acquire("r/a", 4, _writer(b"zzzz", calls))
    assert calls == []  # served from disk


def test_bad_keys(tmp_path):
    cache = SegmentCache(tmp_path, budget_bytes=10)
    for key in ("../x", "/abs", "a//b", "a/.tmp-x", ""):
        with pytest.raises(ValueError):
            cache.acquire(key, 1, _writer(b"x"))
