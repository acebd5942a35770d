"""Reads the eval expressions of Prometheus's promqltest files in place (never copied here).

The folder is `../shared/conformance/promqltest/` next to the repository, or
`$FLETCH_PROMQLTEST_DIR`; see its README for which files are in scope.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(os.environ.get(
    "FLETCH_PROMQLTEST_DIR", Path(__file__).resolve().parents[3] / "shared" / "conformance" / "promqltest"))
IN_SCOPE = ("aggregators", "at_modifier", "collision", "functions", "histograms", "limit", "literals",
            "name_label_dropping", "operators", "range_queries", "selectors", "staleness", "subquery",
            "trig_functions")

_EVAL_INSTANT = re.compile(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
_EVAL_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$")
_EXPECT = re.compile(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")


@dataclass(frozen=True)
class EvalCase:
    file: str
    line: int
    expr: str
    expect_fail: bool
    fail_message: str | None


def eval_cases(files: tuple[str, ...] = IN_SCOPE, folder: Path = CORPUS_DIR) -> Iterator[EvalCase]:
    for name in files:
        lines = (folder / f"{name}.test").read_text().split("\n")
        for index, raw in enumerate(lines):
            line = raw.strip()
            match = _EVAL_INSTANT.match(line) or _EVAL_RANGE.match(line)
            if not match:
                continue
            fail, message = match.group(1) == "fail", None
            follow = index + 1
            while follow < len(lines) and lines[follow].strip().startswith("expect"):
                expect = _EXPECT.match(lines[follow].strip())
                if expect and expect.group(1) == "fail":
                    fail, message = True, expect.group(3)
                follow += 1
            yield EvalCase(name, index + 1, match.groups()[-1], fail, message)
