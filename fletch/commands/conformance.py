"""`fletch conformance [FILES...]`: Prometheus's PromQL test suite through the real query path."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fletch.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("conformance", help="run Prometheus's promqltest files through fletch")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="test files (default: the in-scope files of ../shared/conformance/promqltest)")
    parser.add_argument("--json", metavar="PATH", help="write every case's outcome as JSON here")
    parser.add_argument("--workers", type=int, default=2, help="Flight workers to start (default 2)")
    parser.add_argument("--quiet", action="store_true", help="leave out the list of failures")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fletch.conformance import open_engine
    from fletch.promqltest.runner import run_files
    from fletch.promqltest.scope import in_scope_paths

    try:
        files = [Path(f) for f in args.files] or in_scope_paths()
    except FileNotFoundError as err:
        raise CommandError(str(err)) from None
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise CommandError(f"no such test file: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="fletch-conformance-") as scratch:
        stack, engine = open_engine(Path(scratch), args.workers)
        try:
            report = run_files(files, engine)
        finally:
            stack.close()
    print(report.format_text(show_failures=not args.quiet))
    if args.json:
        Path(args.json).write_text(report.to_json())
    return 0
