"""`fletch promql format|explain`: Prometheus-compatible formatting and query plans."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime

from fletch.cli import CommandError
from planner import ParseError, format, parse
from planner.durations import parse_duration
from planner.explain import describe, plan_to_dict
from planner.plan import DEFAULT_LOOKBACK_MS, Evaluation, plan


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("promql", help="format PromQL or explain its query plan")
    commands = parser.add_subparsers(dest="promql_command", required=True, metavar="SUBCOMMAND")
    fmt = commands.add_parser("format", help="format expressions read one per line on stdin (JSON lines out)")
    fmt.set_defaults(func=run_format)
    explain = commands.add_parser("explain", help="print the query plan: leaves, templates, bucket edges")
    explain.add_argument("expr", help="the PromQL expression")
    explain.add_argument("--time", help="instant query time: unix seconds or RFC 3339 (default: now)")
    explain.add_argument("--start", help="range query start: unix seconds or RFC 3339")
    explain.add_argument("--end", help="range query end: unix seconds or RFC 3339")
    explain.add_argument("--step", help="range query step: a duration (30s) or seconds")
    explain.add_argument("--lookback", default="5m", help="lookback delta for instant selectors (default 5m)")
    explain.add_argument("--approximate", action="store_true",
                         help="use sketches where results are not exact")
    explain.add_argument("--json", action="store_true", help="print the plan as JSON")
    explain.set_defaults(func=run_explain)


def format_line(line: str) -> dict[str, object]:
    """One `fletch promql format` result."""
    try:
        return {"ok": True, "formatted": format(parse(line))}
    except ParseError as err:
        return {"ok": False, "error": str(err)}
    except RecursionError:
        return {"ok": False, "error": "1:1: parse error: expression nested too deeply"}


def run_format(args: argparse.Namespace) -> int:
    # bytes that are not UTF-8 become lone surrogates, which the lexer reports like Prometheus
    lines = (raw.decode("utf-8", "surrogateescape") for raw in sys.stdin.buffer) \
        if hasattr(sys.stdin, "buffer") else iter(sys.stdin)
    for raw in lines:
        line = raw.rstrip("\r\n")
        print(json.dumps(format_line(line), ensure_ascii=False), flush=True)
    return 0


def _time_ms(text: str) -> int:
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    try:
        return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise CommandError(f"invalid time {text!r}: use unix seconds or RFC 3339") from None


def _duration_ms(text: str, what: str) -> int:
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError:
        raise CommandError(f"invalid {what} {text!r}: use a duration such as 30s or seconds") from None


def run_explain(args: argparse.Namespace) -> int:
    lookback = _duration_ms(args.lookback, "lookback") if args.lookback else DEFAULT_LOOKBACK_MS
    try:
        if args.start or args.end or args.step:
            if not (args.start and args.end and args.step):
                raise CommandError("a range query needs --start, --end and --step")
            evaluation = Evaluation.range(_time_ms(args.start), _time_ms(args.end),
                                          _duration_ms(args.step, "step"), lookback)
        else:
            at = _time_ms(args.time) if args.time else int(time.time() * 1000)
            evaluation = Evaluation.instant(at, lookback)
    except ValueError as err:
        raise CommandError(str(err)) from None
    try:
        expr = parse(args.expr)
    except ParseError as err:
        raise CommandError(str(err)) from None
    query_plan = plan(expr, evaluation, approximate=args.approximate)
    print(json.dumps(plan_to_dict(query_plan)) if args.json else describe(query_plan))
    return 0
