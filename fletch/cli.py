"""The `fletch` command: one umbrella with subcommands, each a thin wrapper over library code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from fletch.config import ConfigError

# Each module in fletch/commands/ has `register(subparsers)` adding its subcommand(s); the handler
# is stored as `func` and returns the process exit code.
COMMAND_MODULES = ("check_config", "ingest", "demo", "promql", "api", "up", "conformance", "worker")


class CommandError(Exception):
    """A user-facing failure: printed as `fletch: <message>` with exit code 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fletch", description="Distributed PromQL over Parquet.")
    parser.add_argument("-c", "--config", help="config file (default conf/fletch.yaml or $FLETCH_CONFIG)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"fletch.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CommandError, ConfigError) as err:
        print(f"fletch: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
