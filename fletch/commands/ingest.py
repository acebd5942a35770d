"""`fletch ingest`: load Prometheus text / OpenMetrics files (gzip too) into the lake."""

from __future__ import annotations

import argparse
from pathlib import Path

from fletch.cli import CommandError
from fletch.config import load_config
from fletch.runtime import open_lake
from lake.catalog import CatalogError
from lake.exposition import ExpositionError
from lake.ingest import ingest_files, terminal_progress
from lake.profiles import ProfileError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="ingest exposition files with timestamps")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--org", help="organization (default: the config's default_org)")
    parser.add_argument("--data-dir", help="override the config's data_dir")
    parser.add_argument("--format", choices=("auto", "prometheus", "openmetrics"), default="auto",
                        help="timestamps in ms (prometheus) or seconds (openmetrics); "
                             "auto: openmetrics when the file ends with `# EOF`")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="skip and count invalid lines instead of failing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    config = load_config(args.config, overrides=overrides)
    for name in args.files:
        if not Path(name).is_file():
            raise CommandError(f"{name}: no such file")
    try:
        catalog, profiles = open_lake(config)
        result = ingest_files(args.files, org=args.org or config.default_org, catalog=catalog,
                              profiles=profiles, fmt=None if args.format == "auto" else args.format,
                              skip_invalid=args.skip_invalid, progress=terminal_progress())
    except (ExpositionError, CatalogError, ProfileError) as err:
        raise CommandError(f"nothing was ingested: {err}") from None
    rate = result.samples / result.seconds if result.seconds else 0.0
    print(f"ingested {result.samples:,} samples of {result.series:,} series into "
          f"{len(result.segments)} segment(s) in {result.seconds:.2f}s ({rate:,.0f} samples/s)")
    if result.skipped_lines:
        print(f"skipped {result.skipped_lines:,} invalid line(s)")
    if result.duplicates_dropped:
        print(f"dropped {result.duplicates_dropped:,} duplicate sample(s)")
    return 0
