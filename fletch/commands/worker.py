"""`fletch worker`: run one Flight worker from the configuration until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

import pyarrow.flight as fl

from fletch.cli import CommandError
from fletch.config import FletchConfig, load_config
from fletch.runtime import open_lake
from lake.profiles import ProfileError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run a Flight worker")
    parser.add_argument("--host", help="interface to listen on (default: worker.host)")
    parser.add_argument("--port", type=int, help="port (default: the first of worker.ports; 0 = any)")
    parser.add_argument("--cache-dir", help="segment cache directory (default: worker.cache_dir, "
                                            "else <data_dir>/worker-cache/<port>)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flight_worker.cache import SegmentCache
    from flight_worker.execute import Engine
    from flight_worker.server import WorkerServer
    from flight_worker.storage import SegmentStore

    config = load_config(args.config)
    if not config.ticket_key:
        raise CommandError("ticket_key is not set (conf ticket_key or FLETCH_TICKET_KEY): workers only "
                           "run tickets signed with it")
    host = args.host or config.worker.host
    port = args.port if args.port is not None else (config.worker.ports or [0])[0]
    tls = _tls(config)
    try:
        catalog, profiles = open_lake(config)
        catalog.close()
    except ProfileError as err:
        raise CommandError(str(err)) from None
    cache_dir = args.cache_dir or config.worker.cache_dir or str(Path(config.data_dir, "worker-cache",
                                                                      str(port)))
    engine = Engine(SegmentStore(profiles, SegmentCache(cache_dir, config.worker.cache_bytes)),
                    duckdb_threads=config.worker.duckdb_threads)
    scheme = "grpc+tls" if tls else "grpc"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        server = WorkerServer(f"{scheme}://{host}:{port}", engine, config.ticket_key,
                              auth_token=config.worker.auth_token, tls_certificates=tls)
    except OSError as err:
        raise CommandError(f"cannot listen on {host}:{port}: {err}") from None
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"fletch worker listening on {server.location} (cache {cache_dir})", flush=True)
    server.serve()
    server.wait()
    engine.store.close()
    engine.close()
    print("fletch worker stopped", flush=True)
    return 0


def _tls(config: FletchConfig) -> list[fl.CertKeyPair] | None:
    cert, key = config.worker.tls_cert, config.worker.tls_key
    if not cert and not key:
        return None
    if not (cert and key):
        raise CommandError("worker.tls_cert and worker.tls_key must be set together")
    try:
        return [fl.CertKeyPair(Path(cert).read_bytes(), Path(key).read_bytes())]
    except OSError as err:
        raise CommandError(f"cannot read TLS files: {err}") from None
