"""A small fleet on loopback for query-path tests: a lake, N real Flight workers, a `Fleet`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flight_worker.cache import SegmentCache
from flight_worker.execute import Engine
from flight_worker.server import WorkerServer
from flight_worker.storage import SegmentStore
from lake.catalog import open_catalog
from lake.ingest import ingest_samples
from lake.profiles import ANY_ORG, StorageProfile, StorageProfiles
from query_api.evaluate import Fleet

KEY = "query-path-test-key"
ORG = "acme"


@dataclass
class LocalFleet:
    root: Path
    workers: list[WorkerServer] = field(default_factory=list)
    fleet: Fleet | None = None

    def __post_init__(self) -> None:
        self.profiles = StorageProfiles([StorageProfile(org=ANY_ORG, instance_num=1, provider="file",
                                                        bucket=str(self.root / "lake"), collector="c")])
        self.catalog = open_catalog(f"sqlite:///{self.root}/catalog.db")

    def start(self, count: int) -> LocalFleet:
        for i in range(count):
            self.add_worker(i)
        self.fleet = Fleet(catalog=self.catalog, workers=self.locations, ticket_key=KEY)
        return self

    def add_worker(self, index: int) -> WorkerServer:
        engine = Engine(SegmentStore(self.profiles, SegmentCache(self.root / f"cache{index}", 1 << 30)),
                        duckdb_threads=1)
        server = WorkerServer("grpc://127.0.0.1:0", engine, KEY)
        self.workers.append(server)
        return server

    def locations(self) -> list[str]:
        return [w.location for w in self.workers]

    def kill(self, server: WorkerServer) -> None:
        server.shutdown()
        server.engine.store.close()
        self.workers.remove(server)
        self._dead = [*getattr(self, "_dead", []), server.location]

    def load(self, series: list[dict[str, str]], timestamps: list[np.ndarray], values: list[np.ndarray],
             org: str = ORG) -> None:
        index = np.concatenate([np.full(len(t), i) for i, t in enumerate(timestamps)])
        ingest_samples(series, index, np.concatenate(timestamps), np.concatenate(values), org=org,
                       catalog=self.catalog, profiles=self.profiles)

    def stop(self) -> None:
        for server in list(self.workers):
            server.shutdown()
            server.engine.store.close()
        if self.fleet is not None:
            self.fleet.clients.close()
            self.fleet.pool.shutdown(wait=False)
        self.catalog.close()
