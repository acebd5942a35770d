"""Workers on loopback over a small lake written by `lake/`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from flight_worker.cache import SegmentCache
from flight_worker.execute import Engine
from flight_worker.server import WorkerServer
from flight_worker.storage import SegmentStore
from lake.profiles import ANY_ORG, StorageProfile, StorageProfiles
from planner.tickets import Matcher, SegmentRef, Ticket, encode
from tests.flight_worker.lakedata import ORG, T0, Lake, write_lake

KEY = "test-ticket-key"


@dataclass
class Worker:
    server: WorkerServer
    client: fl.FlightClient
    engine: Engine
    lake: Lake

    def ticket(self, template: str, *, matchers: tuple[Matcher, ...] = (), edges=(), window=None,
               segments=None, key: str = KEY, expires_in_ms: int = 60_000, **extra) -> fl.Ticket:
        segs = tuple(SegmentRef.from_record(s) for s in (self.lake.segments if segments is None
                                                          else segments))
        t = Ticket(template=template, org=ORG, segments=segs, matchers=matchers, edges=tuple(edges),
                   window=window or (T0 - 3_600_000, T0 + 3 * 3_600_000),
                   expires_at=int(time.time() * 1000) + expires_in_ms, **extra)
        return fl.Ticket(encode(t, key))

    def get(self, template: str, **kwargs) -> pa.Table:
        return self.client.do_get(self.ticket(template, **kwargs)).read_all()


def start_worker(lake: Lake, cache_dir: Path, *, profiles: StorageProfiles | None = None,
                 cache_bytes: int = 1 << 30, **server_kwargs) -> Worker:
    profiles = profiles or StorageProfiles([lake.profile])
    engine = Engine(SegmentStore(profiles, SegmentCache(cache_dir, cache_bytes)), duckdb_threads=1)
    location = server_kwargs.pop("location", "grpc://127.0.0.1:0")
    server = WorkerServer(location, engine, KEY, **server_kwargs)
    client = fl.connect(f"grpc://127.0.0.1:{server.port}")
    return Worker(server, client, engine, lake)


def stop_worker(worker: Worker) -> None:
    worker.client.close()
    worker.server.shutdown()
    worker.engine.store.close()
    worker.engine.close()


@pytest.fixture(scope="module")
def file_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    root = tmp_path_factory.mktemp("lake")
    profile = StorageProfile(org=ANY_ORG, instance_num=1, provider="file", bucket=str(root),
                             collector="local")
    return write_lake(profile)


@pytest.fixture(scope="module")
def worker(file_lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = start_worker(file_lake, tmp_path_factory.mktemp("cache"))
    yield w
    stop_worker(w)
