"""Number and duration literals, converted exactly as Prometheus converts them."""

from __future__ import annotations

import math
import re

from planner.gostr import go_quote

_INT64_MAX = (1 << 63) - 1
_HEX_INT = re.compile(r"0[xX]_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*")
_OCT_INT = re.compile(r"0_?[0-7]+(?:_[0-7]+)*")
_DEC_INT = re.compile(r"[1-9][0-9]*(?:_[0-9]+)*|0")
_UNITS = (("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
          ("m", 60_000), ("s", 1_000), ("ms", 1))
_UNIT_INDEX = {unit: (i, mult) for i, (unit, mult) in enumerate(_UNITS)}
# A duration literal in seconds must fit a Go time.Duration (int64 nanoseconds).
MAX_DURATION_SECONDS = (1 << 63) / 1e9


def parse_number(text: str) -> float:
    """A NUMBER token's value: Go's ParseInt(text, 0, 64), else ParseFloat (raises ValueError)."""
    base = 16 if _HEX_INT.fullmatch(text) else 8 if _OCT_INT.fullmatch(text) else (
        10 if _DEC_INT.fullmatch(text) else 0)
    if base:
        digits = text.replace("_", "")
        value = int(digits[2:] if base == 16 else digits, base)
        if value <= _INT64_MAX:
            return float(value)
    lowered = text.lower()
    if lowered in ("inf", "nan"):
        return math.inf if lowered == "inf" else math.nan
    try:
        if lowered.startswith("0x"):
            raise ValueError
        value_f = float(text)
    except ValueError:
        raise ValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax") from None
    if math.isinf(value_f):
        raise ValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: value out of range")
    return value_f


def parse_duration_ms(text: str) -> int:
    """A DURATION token in milliseconds, with Prometheus's error messages (raises ValueError)."""
    if text == "0":
        return 0
    if not text:
        raise ValueError("empty duration string")
    total, last, rest = 0, -1, text
    while rest:
        match = re.match(r"([0-9]*)([^0-9]*)", rest)
        assert match is not None
        digits, unit = match.groups()
        if not digits or not unit:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        rest = rest[match.end() :]
        if unit not in _UNIT_INDEX:
            raise ValueError(f"unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        index, mult = _UNIT_INDEX[unit]
        if index <= last:
            raise ValueError(f"not a valid duration string: {go_quote(text)}")
        last = index
        total += int(digits) * mult
        if total * 1_000_000 > _INT64_MAX:
            raise ValueError("duration out of range")
    return total


def seconds_to_ms(seconds: float) -> int:
    """A duration given in (float) seconds, rounded to whole milliseconds."""
    return round(seconds * 1000)
