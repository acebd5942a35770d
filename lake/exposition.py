"""Vectorized parser for Prometheus text exposition and OpenMetrics files with timestamps.

Lines are split and matched with Arrow compute (RE2, in C++), so the per-line cost stays out of
Python; only distinct label sets, comments and invalid lines are handled in Python. Timestamps
are milliseconds in the Prometheus text format and seconds in OpenMetrics (a file is OpenMetrics
when it ends with `# EOF`, or when the caller says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lake.schema import NAME, is_label_column

Format = Literal["prometheus", "openmetrics"]

_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_METRIC_NAME_RE = re.compile(_METRIC_NAME)
_FLOAT = r"^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity|nan))$"
_PROM_TS = r"^-?\d+$"
_OM_TS = r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"

_LABEL_PAIR = re.compile(rf'\s*(?:({_METRIC_NAME})|({_QUOTED}))\s*(?:=\s*({_QUOTED})\s*)?(,|$)')
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_METADATA = re.compile(rf"#\s+(HELP|TYPE|UNIT)\s+({_METRIC_NAME}|{_QUOTED})(?:\s+(.*?))?\s*$")
_METRIC_TYPES = {"counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset",
                 "untyped", "unknown"}


class ExpositionError(ValueError):
    """Invalid lines in an input file: each entry is (1-based line number, reason)."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = problems = sorted(problems)
        shown = "\n".join(f"  {source}:{line}: {reason}" for line, reason in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} invalid line(s) in {source}:\n{shown}{more}")


@dataclass
class ParsedChunk:
    """Samples of one chunk of lines: parallel arrays, with series as indices into `series_keys`."""

    series_keys: list[str]          # distinct raw `name{labels}` texts in this chunk
    series_index: np.ndarray        # int32 per sample, into series_keys
    timestamps: np.ndarray          # int64 ms
    values: np.ndarray              # float64
    line_numbers: np.ndarray        # int64, 1-based
    invalid: list[tuple[int, str]] = field(default_factory=list)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    eof_line: int | None = None     # line number of `# EOF`, if this chunk has it


def detect_format(head: bytes, tail: bytes) -> Format:
    """OpenMetrics if the file ends with `# EOF` (mandatory there) or declares a UNIT."""
    if tail.rstrip().endswith(b"# EOF") or re.search(rb"(?m)^# UNIT ", head):
        return "openmetrics"
    return "prometheus"


def split_lines(data: bytes, first_line: int) -> tuple[pa.LargeStringArray, np.ndarray]:
    """Zero-copy split of a buffer into lines (each keeps its trailing newline).

    Returns the lines and their 1-based line numbers.
    """
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    ends = newlines + 1
    if not data.endswith(b"\n") and data:
        ends = np.append(ends, len(data))
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    offsets[1:] = ends
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets.tobytes()),
                                             pa.py_buffer(data))
    return lines, np.arange(first_line, first_line + len(ends), dtype=np.int64)


def parse_chunk(data: bytes, first_line: int, fmt: Format) -> ParsedChunk:
    """Parse one chunk of whole lines. Series texts are validated later, once per distinct text."""
    lines, numbers = split_lines(data, first_line)
    invalid: list[tuple[int, str]] = []
    try:
        lines.validate(full=True)
    except pa.ArrowInvalid:
        lines, numbers, bad = _drop_invalid_utf8(data, first_line)
        invalid += bad
    stripped = pc.utf8_trim_whitespace(lines)
    is_blank = pc.equal(pc.utf8_length(stripped), 0)
    is_comment = pc.starts_with(stripped, "#")
    metadata: dict[str, dict[str, str]] = {}
    eof_line: int | None = None
    comment_mask = pc.and_(is_comment, pc.invert(is_blank)).to_numpy(zero_copy_only=False)
    for text, number in zip(pc.filter(stripped, comment_mask).to_pylist(), numbers[comment_mask],
                            strict=True):
        if text == "# EOF":
            eof_line = eof_line or int(number)
        else:
            _read_metadata(text, int(number), metadata, invalid)
    sample_mask = pc.invert(pc.or_(is_blank, is_comment)).to_numpy(zero_copy_only=False)
    samples = _normalize_blanks(pc.filter(stripped, sample_mask))
    sample_numbers = numbers[sample_mask]

    # `series value timestamp`, split from the right: label values may hold blanks.
    parts = pc.split_pattern(samples, " ", max_splits=2, reverse=True)
    counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    for number in sample_numbers[counts == 2]:
        invalid.append((int(number), "sample has no timestamp; backfill input needs an explicit timestamp"))
    for number in sample_numbers[counts < 2]:
        invalid.append((int(number), "not a sample line: expected `name{labels} value timestamp`"))
    complete = counts == 3
    if not complete.all():
        parts, sample_numbers = pc.filter(parts, complete), sample_numbers[complete]
    series_text = pc.list_element(parts, 0)
    values, bad_values = _cast_checked(pc.list_element(parts, 1), pa.float64(), _FLOAT)
    ts_type, ts_pattern = (pa.float64(), _OM_TS) if fmt == "openmetrics" else (pa.int64(), _PROM_TS)
    raw_ts, bad_ts = _cast_checked(pc.list_element(parts, 2), ts_type, ts_pattern)
    for i in np.flatnonzero(bad_values):
        invalid.append((int(sample_numbers[i]), f"invalid sample value {parts[int(i)][1].as_py()!r}"))
    for i in np.flatnonzero(bad_ts & ~bad_values):
        invalid.append((int(sample_numbers[i]), f"invalid timestamp {parts[int(i)][2].as_py()!r}"))
    ok = ~(bad_values | bad_ts)
    if not ok.all():
        series_text, sample_numbers = pc.filter(series_text, ok), sample_numbers[ok]
        values, raw_ts = values[ok], raw_ts[ok]
    if fmt == "openmetrics":
        timestamps = np.round(raw_ts * 1000.0).astype(np.int64)
    else:
        timestamps = raw_ts.astype(np.int64, copy=False)
    series = series_text.dictionary_encode()
    return ParsedChunk(series_keys=series.dictionary.to_pylist(),
                       series_index=series.indices.to_numpy(zero_copy_only=False).astype(np.int32),
                       timestamps=timestamps, values=values, line_numbers=sample_numbers,
                       invalid=invalid, metadata=metadata, eof_line=eof_line)


def _normalize_blanks(samples: pa.Array) -> pa.Array:
    """Drop OpenMetrics exemplars and collapse runs of blanks, only where a line has them."""
    if pc.any(pc.match_substring(samples, " # ")).as_py():
        samples = pc.replace_substring_regex(samples, r"[ \t]+#[ \t].*$", "")
    if pc.any(pc.match_substring_regex(samples, r"[ \t][ \t]|\t")).as_py():
        samples = pc.replace_substring_regex(samples, r"[ \t]+", " ")
    return samples


def _cast_checked(text: pa.Array, to: pa.DataType, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """Cast strings to numbers; on failure, find the offending rows with `pattern` (slow path).

    Returns the numbers (0 where invalid) and a mask of invalid rows.
    """
    try:
        return pc.cast(text, to).to_numpy(zero_copy_only=False), np.zeros(len(text), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        bad = pc.invert(pc.match_substring_regex(text, pattern)).to_numpy(zero_copy_only=False)
        cleaned = pc.if_else(pa.array(bad), pa.scalar("0"), text)
        return pc.cast(cleaned, to).to_numpy(zero_copy_only=False), bad


def _drop_invalid_utf8(data: bytes, first_line: int) -> tuple[pa.LargeStringArray, np.ndarray,
                                                               list[tuple[int, str]]]:
    good: list[str] = []
    numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    split = data.split(b"\n")
    if data.endswith(b"\n"):
        split.pop()
    for offset, line in enumerate(split):
        try:
            good.append(line.decode())
            numbers.append(first_line + offset)
        except UnicodeDecodeError:
            bad.append((first_line + offset, "line is not valid UTF-8"))
    return pa.array(good, pa.large_string()), np.array(numbers, dtype=np.int64), bad


def _read_metadata(text: str, number: int, metadata: dict[str, dict[str, str]],
                   invalid: list[tuple[int, str]]) -> None:
    match = _METADATA.match(text)
    if match is None:
        return  # other comments are allowed and ignored
    kind, name, rest = match.group(1), match.group(2), match.group(3) or ""
    if name.startswith('"'):
        name = unescape(name[1:-1])
    entry = metadata.setdefault(name, {"type": "unknown", "help": "", "unit": ""})
    if kind == "TYPE":
        if rest not in _METRIC_TYPES:
            invalid.append((number, f"invalid metric type {rest!r} in TYPE line"))
            return
        entry["type"] = rest
    elif kind == "HELP":
        entry["help"] = unescape(rest)
    else:
        entry["unit"] = rest


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def parse_series_key(key: str) -> dict[str, str]:
    """`name{a="b",...}` (or `{"name", a="b"}`) to a label dict including `__name__`.

    Raises ValueError with a reason; labels with empty values are dropped (absent == empty).
    """
    brace = key.find("{")
    name = key if brace < 0 else key[:brace]
    if name and not _METRIC_NAME_RE.fullmatch(name):
        raise ValueError(f"invalid metric name {name!r}")
    if brace >= 0 and not key.endswith("}"):
        raise ValueError(f"invalid label set {key[brace:]!r}")
    labels: dict[str, str] = {}
    if brace >= 0:
        body = key[brace + 1:-1]
        position = 0
        while position < len(body) and body[position:].strip():
            match = _LABEL_PAIR.match(body, position)
            if match is None or match.end() == position:
                raise ValueError(f"invalid label set {key[brace:]!r}")
            bare, quoted, value, _ = match.groups()
            label = bare if bare is not None else unescape(quoted[1:-1])
            if value is None:
                if quoted is None or name or NAME in labels:
                    raise ValueError(f"label {label!r} has no value")
                name = label
            else:
                if label in labels or (label == NAME and name):
                    raise ValueError(f"duplicate label {label!r}")
                labels[label] = unescape(value[1:-1])
            position = match.end()
    if NAME in labels:
        name = labels.pop(NAME)
    if not name:
        raise ValueError("sample has no metric name")
    for label in labels:
        if not label or not is_label_column(label):
            raise ValueError(f"invalid label name {label!r} (empty, or reserved for fletch's columns)")
    labels = {k: v for k, v in labels.items() if v}
    labels[NAME] = name
    return labels


def iter_chunks(data_iter: Iterator[bytes]) -> Iterator[tuple[bytes, int]]:
    """Re-chunk a byte stream on line boundaries; yields (chunk, first line number)."""
    carry = b""
    line = 1
    for block in data_iter:
        block = carry + block
        cut = block.rfind(b"\n")
        if cut < 0:
            carry = block
            continue
        chunk, carry = block[: cut + 1], block[cut + 1:]
        yield chunk, line
        line += chunk.count(b"\n")
    if carry:
        yield carry, line
