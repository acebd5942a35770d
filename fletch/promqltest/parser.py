"""Reader of Prometheus's `.test` language (a port of `promql/promqltest/test.go`'s parser).

Lines are trimmed and `#` comment lines become blank, so a comment ends a block, as in
Prometheus. Commands: `load[_with_nhcb] <interval>`, `clear`, and `eval[_fail|_warn|_info|_ordered]
instant at <t> <expr>` / `eval[...] range from <t0> to <t1> step <s> <expr>` with their `expect`
lines and expected series. Times are durations from Unix time 0. Scope decisions (which evals are
skipped and why) are made here, because loads and clears are static.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from fletch.promqltest import scope
from fletch.promqltest.model import (
    ClearCmd,
    Command,
    EvalCase,
    Expect,
    ExpectedSeries,
    LoadCmd,
    LoadedSeries,
    TestFile,
    labels_key,
)
from fletch.promqltest.values import SeqValue, SeriesDescError, parse_go_number, parse_series_desc
from planner.literals import parse_duration_ms

_SPACE = re.compile(r"[\t ]+")
_LOAD = re.compile(r"^load(?:_(with_nhcb))?\s+(.+?)$")
_EVAL_INSTANT = re.compile(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
_EVAL_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$")
_EXPECT = re.compile(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
_RANGE_VECTOR_PREFIX = "expect range vector"
_EXPECT_RANGE = re.compile(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
_STRING_PREFIX = "expect string"


class TestFileError(ValueError):
    """A `.test` file that Prometheus's parser would reject; `line` is 1-based."""

    __test__ = False  # not a pytest test class

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def parse_file(path: str | Path) -> TestFile:
    path = Path(path)
    return parse_text(path.read_text(encoding="utf-8", errors="surrogateescape"), str(path), path.stem)


def parse_text(text: str, path: str = "<text>", name: str | None = None) -> TestFile:
    name = name if name is not None else Path(path).stem
    return _Parser(text, path, name).parse()


def parse_time(text: str) -> int:
    """A `.test` time or duration in ms (Prometheus's model.ParseDuration: `0`, `1m30s`, `20s500ms`)."""
    return parse_duration_ms(text.strip())


class _Parser:
    def __init__(self, text: str, path: str, name: str) -> None:
        self.lines = ["" if line.strip().startswith("#") else line.strip() for line in text.split("\n")]
        self.path, self.name = path, name
        self.histogram_series: list[dict[str, str]] = []
        self.file_skip = scope.file_skip_reason(name)

    def error(self, index: int, message: str) -> TestFileError:
        return TestFileError(self.path, index + 1, message)

    def parse(self) -> TestFile:
        commands: list[Command] = []
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if not line:
                i += 1
                continue
            word = _SPACE.split(line, maxsplit=1)[0].lower()
            command: Command
            if word == "clear":
                command = ClearCmd(i + 1)
                self.histogram_series.clear()
            elif word.startswith("load"):
                i, command = self.parse_load(i)
            elif word.startswith("eval"):
                i, command = self.parse_eval(i)
            else:
                raise self.error(i, f"invalid command {line!r}")
            commands.append(command)
            i += 1
        return TestFile(self.path, self.name, commands)

    def parse_load(self, i: int) -> tuple[int, LoadCmd]:
        match = _LOAD.match(self.lines[i])
        if not match:
            raise self.error(i, "invalid load command. (load[_with_nhcb] <step:duration>)")
        start = i
        try:
            interval = parse_time(match.group(2))
        except ValueError as err:
            raise self.error(i, f"invalid step definition {match.group(2)!r}: {err}") from None
        with_nhcb = match.group(1) == "with_nhcb"
        defs: dict[tuple[tuple[str, str], ...], LoadedSeries] = {}
        while i + 1 < len(self.lines) and self.lines[i + 1]:
            i += 1
            line = self.lines[i]
            head = line.split(None, 1)[0] if line.split() else ""
            if head.endswith("@st"):
                continue  # a start-timestamp line (start_timestamps.test): fletch has no such notion
            try:
                labels, values = parse_series_desc(line)
            except (SeriesDescError, ValueError) as err:
                raise self.error(i, str(err)) from None
            series = _loaded(labels, values, interval)
            defs[labels_key(labels)] = series  # a later definition of the same series replaces it
            if series.histogram_samples:
                self.histogram_series.append(labels)
            base = scope.nhcb_base_name(labels.get("__name__", ""))
            if with_nhcb and base:
                nhcb = {k: v for k, v in labels.items() if k != "le"}
                self.histogram_series.append({**nhcb, "__name__": base})
        return i, LoadCmd(start + 1, interval, tuple(defs.values()), with_nhcb)

    def parse_eval(self, i: int) -> tuple[int, EvalCase]:
        line = self.lines[i]
        instant, ranged = _EVAL_INSTANT.match(line), _EVAL_RANGE.match(line)
        if not instant and not ranged:
            raise self.error(i, "invalid evaluation command")
        case = self._new_case(i, instant, ranged)
        expect_range_vector = False
        j = 1
        while i + 1 < len(self.lines) and self.lines[i + 1]:
            i += 1
            j += 1
            line = self.lines[i]
            if case.fails and line.startswith("expected_fail_message"):
                case.fail_message = line.removeprefix("expected_fail_message").strip()
                break
            if case.fails and line.startswith("expected_fail_regexp"):
                case.fail_regexp = line.removeprefix("expected_fail_regexp").strip()
                break
            if line.startswith(_RANGE_VECTOR_PREFIX):
                self._expect_range_vector(i, case, line)
                expect_range_vector = True
                continue
            if line.startswith(_STRING_PREFIX):
                case.expected_string = self._string_literal(i, line)
                case.expect_string = case.exclude_from_range_query = True
                continue
            if line.split(" ")[0] == "expect":
                case.expects.append(self._expect(i, line))
                j -= 1
                self._validate_expects(i, case)
                continue
            try:
                number = parse_go_number(line)
            except ValueError:
                pass
            else:
                case.expect_scalar, case.scalar = True, number
                case.expected = {(): ExpectedSeries({}, (SeqValue(number),), 0)}
                break
            try:
                labels, values = parse_series_desc(line)
            except (SeriesDescError, ValueError) as err:
                raise self.error(i, str(err)) from None
            if len(values) > 1 and case.kind == "instant" and not expect_range_vector:
                raise self.error(i, "expecting multiple values in instant evaluation not allowed")
            case.expect_scalar = False
            case.expected[labels_key(labels)] = ExpectedSeries(labels, tuple(values), j - 1)
        case.skip_reason = self._skip_reason(case)
        return i, case

    def _new_case(self, i: int, instant: re.Match[str] | None, ranged: re.Match[str] | None) -> EvalCase:
        try:
            if instant:
                mod, at, expr = instant.groups()
                t = parse_time(at or "")
                case = EvalCase(self.name, i + 1, "instant", expr, start_ms=t, eval_ms=t)
            else:
                assert ranged is not None
                mod, start, end, step, expr = ranged.groups()
                t0, t1 = parse_time(start), parse_time(end)
                if t1 < t0:
                    raise ValueError(f"end timestamp ({end}) is before start timestamp ({start})")
                case = EvalCase(self.name, i + 1, "range", expr, start_ms=t0, end_ms=t1,
                                step_ms=parse_time(step))
        except ValueError as err:
            raise self.error(i, f"invalid time in eval: {err}") from None
        case.legacy_fail, case.legacy_warn = mod == "fail", mod == "warn"
        case.legacy_info, case.legacy_ordered = mod == "info", mod == "ordered"
        return case

    def _expect_range_vector(self, i: int, case: EvalCase, line: str) -> None:
        match = _EXPECT_RANGE.match(line)
        if not match:
            raise self.error(i, f"invalid range vector definition {line!r}")
        try:
            start, end, step = (parse_time(g) for g in match.groups())
        except ValueError as err:
            raise self.error(i, str(err)) from None
        if end < start:
            raise self.error(i, "end timestamp is before start timestamp")
        case.start_ms, case.end_ms, case.step_ms, case.eval_ms = start, end, step, end
        case.exclude_from_range_query = True

    def _string_literal(self, i: int, line: str) -> str:
        text = line.removeprefix(_STRING_PREFIX + " ")
        if line == _STRING_PREFIX or not text:
            raise self.error(i, "expected string literal not valid - a quoted string literal is required")
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"`":
            from planner.gostr import unquote
            return unquote(text)
        raise self.error(i, "expected string literal not valid - check that the string is correctly quoted")

    def _expect(self, i: int, line: str) -> Expect:
        match = _EXPECT.match(line.strip())
        if not match:
            raise self.error(i, "invalid expect statement, must match "
                                "`expect <type> <match_type>: <string>` format")
        kind, how, text = match.groups()
        if how == "msg":
            return Expect(kind, message=text.strip())  # type: ignore[arg-type]
        if how == "regex":
            try:
                re.compile(text.strip())
            except re.error as err:
                raise self.error(i, f"invalid regex {text.strip()} for {kind}: {err}") from None
            return Expect(kind, regex=text.strip())  # type: ignore[arg-type]
        return Expect(kind)  # type: ignore[arg-type]

    def _validate_expects(self, i: int, case: EvalCase) -> None:
        for a, b in (("info", "no_info"), ("warn", "no_warn")):
            if case.of_type(a) and case.of_type(b):
                raise self.error(i, f"invalid expect lines, {a} and {b} cannot be used together")
        if len(case.of_type("fail")) > 1:
            raise self.error(i, "invalid expect lines, multiple expect fail lines are not allowed")

    def _skip_reason(self, case: EvalCase) -> str | None:
        if self.file_skip:
            return self.file_skip
        if any(v.histogram is not None for s in case.expected.values() for v in s.values):
            return scope.SKIP_HISTOGRAM_EXPECTED
        return scope.histogram_skip_reason(case.expr, self.histogram_series)


def _loaded(labels: dict[str, str], values: list[SeqValue], interval_ms: int) -> LoadedSeries:
    floats = [(i * interval_ms, v.value) for i, v in enumerate(values)
              if not v.omitted and v.histogram is None]
    histograms = sum(1 for v in values if v.histogram is not None)
    ts = np.fromiter((t for t, _ in floats), dtype=np.int64, count=len(floats))
    vals = np.fromiter((x for _, x in floats), dtype=np.float64, count=len(floats))
    return LoadedSeries(labels, ts, vals, histograms)
