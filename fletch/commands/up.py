"""`fletch up`: the local stack in one process tree (workers as child processes, the API here).

With `discovery: local` the API uses the started workers' locations; with `zookeeper` the
workers register themselves and the API follows ZooKeeper (which must already run)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import uvicorn

from fletch.cli import CommandError
from fletch.config import FletchConfig, load_config
from fletch.fleet import build_fleet, close_fleet
from query_api.app import create_app
from query_api.discovery import WorkerView
from query_api.evaluate import Fleet
from query_api.gateway import FlightGateway

SAMPLE_QUERY = "sum by (job) (rate(http_requests_total[5m]))"
START_TIMEOUT_S = 60.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("up", help="run a local stack: workers + API")
    parser.add_argument("--data-dir", help="override the config's data_dir")
    parser.add_argument("--workers", type=int, help="how many workers (default: worker.ports)")
    parser.add_argument("--sample-query", default=SAMPLE_QUERY, help="query to answer once started")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    config = load_config(args.config, overrides=overrides)
    key = config.ticket_key or secrets.token_hex(32)
    config = config.model_copy(update={"ticket_key": key})
    ports = list(config.worker.ports)
    if args.workers is not None:
        ports = [ports[0] + i for i in range(args.workers)] if ports else []
    children = _start_workers(config, args.config, ports)
    try:
        locations = [f"grpc://{config.worker.host}:{port}" for port in ports]
        for child, port in zip(children, ports, strict=True):
            _wait_for_port(config.worker.host, port, child)
        server, fleet = _start_api(config, locations)
        gateway = FlightGateway(f"grpc://{config.api.host}:{config.api.flight_port}", fleet,
                                config.default_org)
        threading.Thread(target=gateway.serve, name="fletch-flight-gateway", daemon=True).start()
        base = f"http://{config.api.host}:{config.api.port}"
        print(f"fletch up: API {base}  (Prometheus API at {base}/api/v1/query, SSE at "
              f"{base}/api/v1/metrics/query)")
        print(f"fletch up: Flight gateway {gateway.location} (pyarrow.flight, Flight SQL / ADBC)")
        print(f"fletch up: workers {', '.join(locations)}; data in {Path(config.data_dir).resolve()}")
        if args.sample_query:
            _print_sample(base, args.sample_query)
        print("fletch up: running; Ctrl-C stops everything", flush=True)
        _wait_for_signal(children)
        server.should_exit = True
        gateway.shutdown()
        close_fleet(fleet)
    finally:
        _stop(children)
    return 0


Children = list[subprocess.Popen[bytes]]


def _start_workers(config: FletchConfig, config_path: str | None, ports: list[int]) -> Children:
    env = {**os.environ, "FLETCH_TICKET_KEY": config.ticket_key, "FLETCH_DATA_DIR": config.data_dir}
    command = [sys.executable, "-m", "fletch"] + (["-c", config_path] if config_path else [])
    return [subprocess.Popen([*command, "worker", "--host", config.worker.host, "--port", str(port)], env=env)
            for port in ports]


def _wait_for_port(host: str, port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise CommandError(f"worker on port {port} exited with status {child.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"worker on port {port} did not start within {START_TIMEOUT_S:.0f}s")


def _start_api(config: FletchConfig, locations: list[str]) -> tuple[uvicorn.Server, Fleet]:
    """The API in a thread. Under `local` discovery it uses the started workers' locations; any
    other discovery finds them itself (under zookeeper they register), and is waited for."""
    fleet = build_fleet(config, locations if config.discovery == "local" else None)
    if isinstance(fleet.workers, WorkerView):
        try:
            fleet.workers.discovery.snapshots.wait_for(
                lambda m: set(locations) <= set(m.locations), START_TIMEOUT_S)
        except TimeoutError as err:
            close_fleet(fleet)
            raise CommandError(f"{config.discovery} discovery does not show the workers: {err}") from None
    app = create_app(fleet, config.default_org)
    server = uvicorn.Server(uvicorn.Config(app, host=config.api.host, port=config.api.port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="fletch-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise CommandError(f"the API could not listen on {config.api.host}:{config.api.port}")
        time.sleep(0.05)
    return server, fleet


def _print_sample(base: str, query: str) -> None:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = json.load(response)
    except OSError as err:
        print(f"fletch up: sample query failed: {err}")
        return
    print(f"fletch up: {query}")
    for series in body["data"]["result"]:
        labels = ", ".join(f'{k}="{v}"' for k, v in sorted(series["metric"].items()))
        print(f"  {{{labels}}} => {series['value'][1]}")
    if not body["data"]["result"]:
        print("  (no data: run `fletch demo` to load demo data)")


def _wait_for_signal(children: Children) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            for child in children:
                if child.poll() is not None:
                    raise CommandError(f"a worker exited unexpectedly (status {child.returncode})")
    except KeyboardInterrupt:
        pass


def _stop(children: Children) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
