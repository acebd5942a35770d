"""The commands of a `.test` file: loads, clears and evals (one `EvalCase` per eval)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from fletch.promqltest.values import SeqValue

Labels = tuple[tuple[str, str], ...]  # sorted by name: hashable identity of a label set

# An instant eval without `expect range vector` has no end: Go's zero time, before any sample.
NO_END = -(1 << 62)


def labels_key(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


@dataclass(frozen=True)
class LoadedSeries:
    """One series of a `load` block as fletch ingests it: float samples only, stale markers kept.

    `values` hold `lake.schema.STALE_NAN` (exact bits) for `stale`; native histogram samples are
    not included (`histogram_samples` counts them).
    """

    labels: dict[str, str]
    timestamps: np.ndarray  # int64 ms, ascending
    values: np.ndarray  # float64
    histogram_samples: int = 0


def to_arrays(series: Sequence[LoadedSeries]) -> tuple[list[dict[str, str]], np.ndarray, np.ndarray,
                                                      np.ndarray]:
    """`(series_labels, series_index, timestamps, values)` as `lake.ingest.ingest_samples` takes them."""
    counts = [len(s.timestamps) for s in series]
    index = np.repeat(np.arange(len(series), dtype=np.int64), counts)
    ts = np.concatenate([s.timestamps for s in series]) if series else np.zeros(0, np.int64)
    values = np.concatenate([s.values for s in series]) if series else np.zeros(0, np.float64)
    return [dict(s.labels) for s in series], index, ts.astype(np.int64), values.astype(np.float64)


@dataclass(frozen=True)
class LoadCmd:
    line: int
    interval_ms: int
    series: tuple[LoadedSeries, ...]
    with_nhcb: bool = False


@dataclass(frozen=True)
class ClearCmd:
    line: int


@dataclass(frozen=True)
class Expect:
    """One `expect <type> [msg:|regex:] ...` line; `regex` None with `message` None matches anything."""

    type: Literal["fail", "warn", "info", "no_warn", "no_info", "ordered"]
    message: str | None = None
    regex: str | None = None

    def matches(self, text: str) -> bool:
        if self.regex is not None:
            return re.search(self.regex, text) is not None
        if self.message is not None:
            return self.message == text
        return re.fullmatch(r".*", text) is not None  # Go's `^.*$`: one line

    def describe(self) -> str:
        if self.regex is not None:
            return f"pattern {self.regex!r}"
        return f"message {self.message!r}" if self.message is not None else "anything"


@dataclass(frozen=True)
class ExpectedSeries:
    labels: dict[str, str]
    values: tuple[SeqValue, ...]
    pos: int  # 1-based position among the expected lines (what `expect ordered` checks)


@dataclass
class EvalCase:
    """One `eval`: what to run and what Prometheus's test framework would accept."""

    file: str
    line: int
    kind: Literal["instant", "range"]
    expr: str
    start_ms: int  # instant: the evaluation time (or `expect range vector` start)
    end_ms: int = NO_END  # range: end; instant: `expect range vector` end, else NO_END
    step_ms: int = 0
    eval_ms: int = 0  # instant: evaluation time
    expected: dict[Labels, ExpectedSeries] = field(default_factory=dict)
    expect_scalar: bool = False
    scalar: float | None = None
    expected_string: str = ""
    expect_string: bool = False
    expects: list[Expect] = field(default_factory=list)
    legacy_fail: bool = False
    legacy_warn: bool = False
    legacy_info: bool = False
    legacy_ordered: bool = False
    fail_message: str | None = None  # legacy `expected_fail_message`
    fail_regexp: str | None = None  # legacy `expected_fail_regexp`
    exclude_from_range_query: bool = False  # `expect range vector` / `expect string`
    skip_reason: str | None = None

    def of_type(self, kind: str) -> list[Expect]:
        return [e for e in self.expects if e.type == kind]

    @property
    def fails(self) -> bool:
        return self.legacy_fail or bool(self.of_type("fail"))

    @property
    def ordered(self) -> bool:
        return self.legacy_ordered or bool(self.of_type("ordered"))

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


Command = LoadCmd | ClearCmd | EvalCase


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class
    path: str
    name: str  # file stem, e.g. "functions"
    commands: list[Command]

    @property
    def evals(self) -> list[EvalCase]:
        return [c for c in self.commands if isinstance(c, EvalCase)]
