"""`fletch api`: the query API (Prometheus HTTP API and SSE) on `api.port`, and beside it the
Flight gateway (plain Flight and Flight SQL, see query_api/gateway.py) on `api.flight_port`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.flight as fl
import uvicorn

from fletch.cli import CommandError
from fletch.config import load_config
from fletch.fleet import build_fleet, close_fleet
from query_api.app import create_app
from query_api.auth import FlightAuth
from query_api.evaluate import Fleet
from query_api.gateway import FlightGateway


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api", help="run the query API and the Flight gateway")
    parser.add_argument("--host", help="listen address (default: api.host)")
    parser.add_argument("--port", type=int, help="HTTP port (default: api.port)")
    parser.add_argument("--flight-port", type=int, help="Flight gateway port (default: api.flight_port); "
                        "-1 disables the gateway")
    parser.add_argument("--flight-token-env", default="",
                        help="name of an environment variable holding the bearer token Flight clients "
                             "must send (default: no authentication)")
    parser.add_argument("--flight-tls-cert", default="", help="PEM certificate: serve grpc+tls")
    parser.add_argument("--flight-tls-key", default="", help="PEM private key for --flight-tls-cert")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("api.host", args.host), ("api.port", args.port)) if v is not None}
    config = load_config(args.config, overrides=overrides)
    fleet = build_fleet(config)
    app = create_app(fleet, config.default_org)
    gateway = None
    flight_port = config.api.flight_port if args.flight_port is None else args.flight_port
    if flight_port >= 0:
        gateway = _gateway(args, fleet, config.api.host, flight_port, config.default_org)
        threading.Thread(target=gateway.serve, name="fletch-flight-gateway", daemon=True).start()
        print(f"fletch api: flight {gateway.location}", flush=True)
    print(f"fletch api: http://{config.api.host}:{config.api.port}", flush=True)
    server = _Server(uvicorn.Config(app, host=config.api.host, port=config.api.port, log_level="warning",
                                    timeout_graceful_shutdown=int(config.lifecycle.drain_timeout_s) or None))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        if gateway is not None:
            gateway.shutdown()
        close_fleet(fleet)
    print("fletch api: stopped", flush=True)
    return 0


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling (which re-raises the signal after shutdown and so
    skips fletch's cleanup): SIGTERM/SIGINT stop accepting connections, let running requests
    finish for at most the drain timeout, then fletch closes the gateway and the fleet."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _gateway(args: argparse.Namespace, fleet: Fleet, host: str, port: int, org: str) -> FlightGateway:
    auth = None
    if args.flight_token_env:
        token = os.environ.get(args.flight_token_env, "")
        if not token:
            raise CommandError(f"${args.flight_token_env} is empty")
        auth = FlightAuth(tokens=frozenset({token}))
    tls = None
    if args.flight_tls_cert:
        pair = Path(args.flight_tls_cert).read_bytes(), Path(args.flight_tls_key).read_bytes()
        tls = [fl.CertKeyPair(*pair)]
    scheme = "grpc+tls" if tls else "grpc"
    return FlightGateway(f"{scheme}://{host}:{port}", fleet, org, auth=auth,
                         tls_certificates=tls)
