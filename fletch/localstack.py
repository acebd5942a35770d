"""A whole fletch in one process on loopback: a lake, N Flight workers, the HTTP API and the
Flight gateway (`flight_url`).

Used by `fletch conformance` and the side-by-side tests: every query crosses real sockets
(HTTP to the API, Flight to the workers) exactly as in a deployment.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.flight as pa_flight
import uvicorn

from flight_worker.cache import SegmentCache
from flight_worker.execute import Engine
from flight_worker.server import WorkerServer
from flight_worker.storage import SegmentStore
from lake.catalog import open_catalog
from lake.ingest import ingest_samples
from lake.profiles import ANY_ORG, StorageProfile, StorageProfiles
from query_api.app import ORG_HEADER, create_app
from query_api.auth import FlightAuth
from query_api.evaluate import Fleet
from query_api.gateway import FlightGateway


class LocalStack:
    def __init__(self, root: Path, workers: int = 2, lookback_ms: int = 300_000,
                 flight_auth: FlightAuth | None = None,
                 flight_tls: list[pa_flight.CertKeyPair] | None = None) -> None:
        self.root = root
        self.key = secrets.token_hex(16)
        self.profiles = StorageProfiles([StorageProfile(org=ANY_ORG, instance_num=1, provider="file",
                                                        bucket=str(root / "lake"), collector="local")])
        self.catalog = open_catalog(f"sqlite:///{root}/catalog.db")
        self.workers = [self._worker(i) for i in range(workers)]
        locations = [w.location for w in self.workers]
        self.fleet = Fleet(catalog=self.catalog, workers=lambda: locations, ticket_key=self.key,
                           lookback_ms=lookback_ms)
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.fleet), host="127.0.0.1", port=0,
                                                    log_level="error", lifespan="off"))
        self._thread = threading.Thread(target=self.server.run, name="fletch-api", daemon=True)
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        scheme = "grpc+tls" if flight_tls else "grpc"
        self.gateway = FlightGateway(f"{scheme}://127.0.0.1:0", self.fleet, auth=flight_auth,
                                     tls_certificates=flight_tls)
        self.flight_url = self.gateway.location

    def _worker(self, index: int) -> WorkerServer:
        cache = SegmentCache(self.root / f"cache-{index}", 1 << 30)
        engine = Engine(SegmentStore(self.profiles, cache), duckdb_threads=1)
        return WorkerServer("grpc://127.0.0.1:0", engine, self.key)

    def load(self, org: str, labels: list[dict[str, str]], series_index: np.ndarray, timestamps: np.ndarray,
             values: np.ndarray) -> None:
        ingest_samples(labels, series_index, timestamps, values, org=org, catalog=self.catalog,
                       profiles=self.profiles)

    def query(self, org: str, expr: str, time_ms: int) -> tuple[int, dict[str, Any]]:
        """POST /api/v1/query; returns (HTTP status, decoded JSON body)."""
        return self._post("/api/v1/query", org, {"query": expr, "time": _seconds(time_ms)})

    def query_range(self, org: str, expr: str, start_ms: int, end_ms: int,
                    step_ms: int) -> tuple[int, dict[str, Any]]:
        return self._post("/api/v1/query_range", org, {"query": expr, "start": _seconds(start_ms),
                                                       "end": _seconds(end_ms), "step": _seconds(step_ms)})

    def _post(self, path: str, org: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(self.url + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={ORG_HEADER: org})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            with err:
                return err.code, json.load(err)

    def close(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        self.gateway.shutdown()
        for worker in self.workers:
            worker.shutdown()
            worker.engine.store.close()
        self.fleet.clients.close()
        self.fleet.pool.shutdown(wait=False)
        self.catalog.close()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"
