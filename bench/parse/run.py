"""Parser throughput on the promqltest corpus: expressions parsed (and type-checked) per second.

Reads the eval expressions of the in-scope files of ../shared/conformance/promqltest in place.
Run on demand:
    make bench-parse            # or: .venv/bin/python bench/parse/run.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from planner import format, parse, to_string
from planner.parse import parse_unchecked
from tests.planner.corpus import CORPUS_DIR, IN_SCOPE, eval_cases


def _rate(func: Callable[[str], object], items: list, rounds: int) -> tuple[float, float]:
    """(best, median) items per second over `rounds` passes."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            func(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus (default 5)")
    args = parser.parse_args()
    if not CORPUS_DIR.is_dir():
        print(f"promqltest corpus not found at {CORPUS_DIR}", file=sys.stderr)
        return 1
    exprs = [case.expr for case in eval_cases(IN_SCOPE)]
    parse(exprs[0])  # build the LALR tables once, outside the timing
    asts = [parse(e) for e in exprs]
    chars = sum(len(e) for e in exprs)
    print(f"corpus: {len(exprs)} expressions, {chars} characters, from {len(IN_SCOPE)} files in {CORPUS_DIR}")
    for label, func, items in (
        ("parse + type check", parse, exprs),
        ("parse only", parse_unchecked, exprs),
        ("to_string", to_string, asts),
        ("format (pretty)", format, asts),
    ):
        best, median = _rate(func, items, args.rounds)
        print(f"{label:20s} {best:10,.0f} exprs/s best  {median:10,.0f} median  ({args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
