"""`fletch demo`: generate demo data (last 24 h) and ingest it into the configured lake."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fletch.cli import CommandError
from fletch.config import load_config
from fletch.runtime import open_lake
from lake.demo import demo_series_count, write_demo
from lake.ingest import ingest_files
from planner.durations import parse_duration


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="generate and ingest demo data")
    parser.add_argument("--org", help="organization (default: the config's default_org)")
    parser.add_argument("--data-dir", help="override the config's data_dir")
    parser.add_argument("--span", default="24h", help="how far back the data goes (default 24h)")
    parser.add_argument("--interval", default="30s", help="scrape interval (default 30s)")
    parser.add_argument("--output", help="also keep the generated OpenMetrics file here")
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing when the org already has data in the lake")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    config = load_config(args.config, overrides=overrides)
    org = args.org or config.default_org
    try:
        span, interval = parse_duration(args.span), parse_duration(args.interval)
    except ValueError as err:
        raise CommandError(str(err)) from None
    catalog, profiles = open_lake(config)
    now = time.time_ns() // 1_000_000
    if args.if_empty and catalog.find_segments(org, now - span, now):
        print(f"demo: org {org!r} already has data for the last {args.span}; nothing to do")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(args.output) if args.output else Path(scratch) / "demo.om.txt"
        samples = write_demo(path, now - span, now, interval)
        result = ingest_files([path], org=org, catalog=catalog, profiles=profiles, fmt="openmetrics")
    print(f"demo: {demo_series_count()} series, {samples:,} samples over the last {args.span} "
          f"ingested into {len(result.segments)} segments in {config.data_dir}")
    return 0
