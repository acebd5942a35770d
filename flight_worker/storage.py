"""From a ticket's segment list to pinned local Parquet paths.

Segments are grouped by (org, instance_num) and each group's storage profile is resolved.
`file` profiles are read in place (after a size check against the catalog); object stores
(`s3`, `gcs`, `azure`) are downloaded through the `SegmentCache`, several at a time. Cache keys
are `<profile id>/<object key>`, where the profile id hashes provider, endpoint, bucket and
prefix, so two profiles never share cache entries. Filesystems are opened once per profile.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from flight_worker.cache import SegmentCache
from flight_worker.errors import DataUnavailable
from lake.profiles import ProfileError, StorageProfile, StorageProfiles
from planner.tickets import SegmentRef

COPY_CHUNK = 4 << 20


class SegmentStore:
    def __init__(self, profiles: StorageProfiles, cache: SegmentCache, download_threads: int = 4) -> None:
        self.profiles = profiles
        self.cache = cache
        self._pool = ThreadPoolExecutor(max_workers=download_threads, thread_name_prefix="fetch")
        self._filesystems: dict[StorageProfile, pafs.FileSystem] = {}
        self._fs_lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @contextmanager
    def open(self, org: str, segments: Sequence[SegmentRef]) -> Iterator[list[str]]:
        """Local paths of the segments, in time order, pinned until the block exits."""
        ordered = sorted(segments, key=lambda s: (s.start_ts, s.segment_id))
        pinned: list[str] = []
        futures: list[Future[str]] = []
        try:
            futures += [self._pool.submit(self._local, org, s, pinned) for s in ordered]
            yield [f.result() for f in futures]
        finally:
            for f in futures:
                f.cancel()
            for f in futures:
                if not f.cancelled():
                    f.exception()  # wait, so that every pin taken is in `pinned`
            for key in pinned:
                self.cache.release(key)

    def _profile(self, org: str, instance_num: int) -> StorageProfile:
        try:
            return self.profiles.resolve(org, instance_num)
        except ProfileError as err:
            raise DataUnavailable(str(err)) from None

    def _filesystem(self, profile: StorageProfile) -> pafs.FileSystem:
        with self._fs_lock:
            fs = self._filesystems.get(profile)
            if fs is None:
                fs = self._filesystems[profile] = profile.filesystem()
            return fs

    def _local(self, org: str, seg: SegmentRef, pinned: list[str]) -> str:
        profile = self._profile(org, seg.instance_num)
        key = seg.key(org)
        if profile.provider == "file":
            path = Path(profile.root_path()) / key
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise DataUnavailable(f"segment {key}: file not found") from None
            if size != seg.file_size:
                raise DataUnavailable(f"segment {key}: file has {size} bytes, the catalog says "
                                      f"{seg.file_size}")
            return str(path)
        cache_key = f"{profile_id(profile)}/{key}"
        fs = self._filesystem(profile)
        path = self.cache.acquire(cache_key, seg.file_size, lambda tmp: _download(fs, key, tmp))
        pinned.append(cache_key)
        return str(path)


def profile_id(profile: StorageProfile) -> str:
    text = f"{profile.provider}\x00{profile.endpoint}\x00{profile.bucket}\x00{profile.prefix}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _download(fs: pafs.FileSystem, key: str, tmp: Path) -> None:
    try:
        with fs.open_input_stream(key) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, COPY_CHUNK)
    except FileNotFoundError:
        raise DataUnavailable(f"segment {key}: object not found") from None
    except OSError as err:
        raise DataUnavailable(f"segment {key}: cannot download ({_short(err)})") from None


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:200]


@lru_cache(maxsize=65536)
def _schema_names(path: str, size: int, mtime_ns: int) -> tuple[str, ...]:
    return tuple(pq.read_schema(path).names)


def column_names(paths: Sequence[str]) -> list[str]:
    """Every column of any of the files (footers only, memoized per file version)."""
    names: dict[str, None] = {}
    for path in paths:
        st = os.stat(path)
        try:
            found = _schema_names(path, st.st_size, st.st_mtime_ns)
        except (OSError, ValueError):
            raise DataUnavailable(f"segment {Path(path).name}: not a readable Parquet file") from None
        names.update(dict.fromkeys(found))
    return list(names)
