"""`fletch check-config`: validate the configuration and print the effective values."""

from __future__ import annotations

import argparse

import yaml

from fletch.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check-config", help="validate and print the effective config")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(yaml.safe_dump(config.redacted(), sort_keys=False), end="")
    return 0
