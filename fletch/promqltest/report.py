"""Outcomes of a conformance run: per case, per file, totals, JSON, and the summary line."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CaseOutcome:
    file: str
    line: int
    kind: str  # "instant" | "range"
    expr: str
    status: Status
    reason: str = ""  # why it failed (short) or was skipped


@dataclass
class FileReport:
    file: str  # stem, e.g. "functions"
    path: str
    outcomes: list[CaseOutcome] = field(default_factory=list)
    error: str | None = None  # the file could not be read or parsed (counts as one failure)

    def count(self, status: Status) -> int:
        file_error = 1 if status == "failed" and self.error else 0
        return sum(1 for o in self.outcomes if o.status == status) + file_error

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")


@dataclass
class Report:
    files: list[FileReport] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(f.passed for f in self.files)

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def outcomes(self) -> list[CaseOutcome]:
        return [o for f in self.files for o in f.outcomes]

    def skip_reasons(self) -> Counter[str]:
        return Counter(o.reason for o in self.outcomes if o.status == "skipped")

    def summary_line(self) -> str:
        return f"conformance: passed={self.passed} failed={self.failed} skipped={self.skipped}"

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed, "failed": self.failed, "skipped": self.skipped,
            "skip_reasons": dict(self.skip_reasons().most_common()),
            "files": [{"file": f.file, "path": f.path, "passed": f.passed, "failed": f.failed,
                       "skipped": f.skipped, "error": f.error, "cases": [asdict(o) for o in f.outcomes]}
                      for f in self.files],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def format_text(self, show_failures: bool = True) -> str:
        """Per-file counts, then one line per failure, then the summary line."""
        lines = [f"{f.file}: passed={f.passed} failed={f.failed} skipped={f.skipped}"
                 + (f" error={f.error}" if f.error else "") for f in self.files]
        if show_failures:
            lines += [f"FAIL {o.file}:{o.line} {o.expr}: {o.reason}"
                      for o in self.outcomes if o.status == "failed"]
        lines.append(self.summary_line())
        return "\n".join(lines)
