"""`fletch worker`: run one Flight worker from the configuration until SIGINT/SIGTERM.

Under `discovery: zookeeper` the worker registers itself (`flight_worker.registration`). On
SIGTERM it deregisters, keeps taking tickets for `lifecycle.deregister_grace_s`, then refuses new
ones, lets running DoGets finish for at most `lifecycle.drain_timeout_s`, and exits."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pyarrow.flight as fl

from fletch.cli import CommandError
from fletch.config import FletchConfig, load_config
from fletch.runtime import open_lake
from flight_worker.registration import DrainGate, ZooKeeperRegistration
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
    print(f"fletch worker listening on {server.location} (cache {cache_dir})", flush=True)
    registration = _register(config, server.location)
    gate = DrainGate()
    gate.wrap(server)
    stopping = threading.Event()

    def drain_and_stop() -> None:
        """SIGTERM: deregister, keep serving for the grace period (the API's view catches up),
        refuse new tickets, let running DoGets finish (bounded), then stop."""
        log = logging.getLogger("fletch.worker")
        if registration is not None:
            registration.deregister()
        time.sleep(config.lifecycle.deregister_grace_s)
        left = gate.close(config.lifecycle.drain_timeout_s)
        if left:
            log.warning("stopping with %d DoGets still running after %.0fs", left,
                        config.lifecycle.drain_timeout_s)
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(5)
        if stopper.is_alive():
            log.error("the Flight server did not stop; exiting")
            os._exit(1)

    def stop(signum: int, _frame: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=drain_and_stop, name="fletch-drain", daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve()
        server.wait()
    finally:
        if registration is not None:
            registration.close()
    engine.store.close()
    engine.close()
    print("fletch worker stopped", flush=True)
    return 0


def _register(config: FletchConfig, location: str) -> ZooKeeperRegistration | None:
    """Under `discovery: zookeeper`, the worker's ephemeral node; other discoveries need none."""
    if config.discovery != "zookeeper":
        return None
    zk = config.zookeeper
    registration = ZooKeeperRegistration(zk.hosts, zk.path, zk.advertise or location, zk.session_timeout_s)
    try:
        node = registration.start()
    except Exception as err:  # kazoo raises timeouts and several connection errors
        registration.close()
        raise CommandError(f"cannot register in ZooKeeper at {zk.hosts}: "
                           f"{type(err).__name__}: {err}") from None
    print(f"fletch worker registered as {node}", flush=True)
    return registration


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
