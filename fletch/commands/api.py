"""`fletch api`: the query API (Prometheus HTTP API and SSE) on the configured port."""

from __future__ import annotations

import argparse

import uvicorn

from fletch.config import load_config
from fletch.fleet import build_fleet
from query_api.app import create_app


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api", help="run the query API")
    parser.add_argument("--host", help="listen address (default: api.host)")
    parser.add_argument("--port", type=int, help="HTTP port (default: api.port)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("api.host", args.host), ("api.port", args.port)) if v is not None}
    config = load_config(args.config, overrides=overrides)
    app = create_app(build_fleet(config), config.default_org)
    print(f"fletch api: http://{config.api.host}:{config.api.port}", flush=True)
    uvicorn.run(app, host=config.api.host, port=config.api.port, log_level="warning")
    return 0
