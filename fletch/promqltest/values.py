"""Series descriptions as Prometheus's test language writes them: `metric{labels} 1 2+3x4 _ stale`.

A port of the `series_description` rule of Prometheus's grammar (`ParseSeriesDesc`):
* `v` one sample; `vxN` N+1 copies of v; `v+dxN` / `v-dxN` N+1 samples, v, v+d, (v+d)+d, ...
  (accumulated in float64 exactly as Prometheus does);
* `_` one omitted sample; `_xN` N omitted samples;
* `stale` the staleness marker (`lake.schema.STALE_NAN`); `Inf`, `NaN` any case;
* `{{...}}`, `{{...}}xN`, `{{...}}+{{...}}xN`: native histograms, kept opaque (fletch skips them).
Numbers follow Prometheus's lexer: no hex in series values, `010` is octal, `1_000` is allowed.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

from lake.schema import STALE_NAN
from planner.gostr import unquote
from planner.literals import parse_number

# Go's math.NaN() bit pattern (what ParseFloat("NaN") returns); STALE_NAN is a different NaN.
GO_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]


class SeriesDescError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SeqValue:
    """One position of a series description: a float, an omitted sample, or a native histogram."""

    value: float = 0.0
    omitted: bool = False
    histogram: str | None = None  # the `{{...}}` text


_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NUMBER = re.compile(r"\.?[0-9](?:[0-9]|\.(?![._])|[eE][+-]?(?=[0-9])|_(?=[0-9]))*")
_WORD = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_UINT = re.compile(r"[0-9]+")


def parse_series_desc(line: str) -> tuple[dict[str, str], list[SeqValue]]:
    """Labels (with `__name__` when named) and the value positions of one series line."""
    labels, rest = _parse_metric(line.strip())
    return labels, parse_values(rest)


def _parse_metric(text: str) -> tuple[dict[str, str], str]:
    labels: dict[str, str] = {}
    pos = 0
    name = _IDENT.match(text)
    if name and not text.startswith("{"):
        labels["__name__"] = name.group()
        pos = name.end()
    if text.startswith("{", pos) and not text.startswith("{{", pos):
        pos = _parse_label_set(text, pos + 1, labels)
    elif pos == 0:
        raise SeriesDescError(f"expected a metric name or label set in {text!r}")
    if pos < len(text) and not text[pos].isspace():
        raise SeriesDescError(f"unexpected {text[pos]!r} after the metric in {text!r}")
    return labels, text[pos:]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _parse_label_set(text: str, pos: int, labels: dict[str, str]) -> int:
    """Items `name="v"`, `"quoted name"="v"` or a lone `"metric name"`, up to the closing brace."""
    while True:
        pos = _skip_space(text, pos)
        if text.startswith("}", pos):
            return pos + 1
        string = _STRING.match(text, pos)
        ident = _LABEL_NAME.match(text, pos)
        if string:
            name, pos = unquote(string.group()), string.end()
        elif ident:
            name, pos = ident.group(), ident.end()
        else:
            raise SeriesDescError(f"unexpected {text[pos:pos + 1]!r} in label set of {text!r}")
        pos = _skip_space(text, pos)
        if text.startswith("=", pos):
            value = _STRING.match(text, _skip_space(text, pos + 1))
            if value is None:
                raise SeriesDescError(f"expected a quoted label value in {text!r}")
            labels[name] = unquote(value.group())
            pos = _skip_space(text, value.end())
        elif string:
            labels["__name__"] = name
        else:
            raise SeriesDescError(f'expected "=" after label {name!r} in {text!r}')
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("}", pos):
            raise SeriesDescError(f"expected ',' or '}}' in label set of {text!r}")


def parse_values(text: str) -> list[SeqValue]:
    """The value positions of a series description (the part after the metric)."""
    values: list[SeqValue] = []
    for item in _split_items(text):
        values += _parse_item(item)
    return values


def _split_items(text: str) -> list[str]:
    """Split on whitespace, keeping `{{ ... }}` (which contains spaces) inside one item."""
    items: list[str] = []
    pos = _skip_space(text, 0)
    while pos < len(text):
        start = pos
        while pos < len(text) and not text[pos].isspace():
            if text.startswith("{{", pos):
                close = text.find("}}", pos)
                if close < 0:
                    raise SeriesDescError(f"unterminated histogram in {text!r}")
                pos = close + 2
            else:
                pos += 1
        items.append(text[start:pos])
        pos = _skip_space(text, pos)
    return items


def _parse_item(item: str) -> list[SeqValue]:
    if item == "_":
        return [SeqValue(omitted=True)]
    if item.startswith("_x"):
        return [SeqValue(omitted=True)] * _uint(item[2:], item)
    if item.startswith("{{"):
        return _parse_histogram_item(item)
    value, rest = _parse_value(item, 0, item)
    if rest == len(item):
        return [SeqValue(value)]
    if item[rest] == "x":
        return [SeqValue(value)] * (_uint(item[rest + 1:], item) + 1)
    if item[rest] not in "+-":
        raise SeriesDescError(f"unexpected {item[rest:]!r} in series value {item!r}")
    delta, after = _parse_value(item, rest, item)
    if after == len(item) or item[after] != "x":
        raise SeriesDescError(f"expected 'x<count>' in series value {item!r}")
    out = []
    for _ in range(_uint(item[after + 1:], item) + 1):
        out.append(SeqValue(value))
        value += delta
    return out


def _parse_value(text: str, pos: int, item: str) -> tuple[float, int]:
    """One `series_value` or `signed_number` at pos; returns the value and where parsing stopped."""
    signed = text.startswith(("+", "-"), pos)
    sign = -1.0 if text.startswith("-", pos) else 1.0
    pos += signed
    number = _NUMBER.match(text, pos)
    if number:
        try:
            value = parse_number(number.group())
        except ValueError as err:
            raise SeriesDescError(f"invalid number in series value {item!r}: {err}") from None
        end = number.end()
    else:
        word = _WORD.match(text, pos)
        if word is None:
            raise SeriesDescError(f"unexpected character in series value {item!r}")
        lowered = word.group().lower()
        end = word.end()
        if lowered == "inf":
            value = math.inf
        elif lowered == "nan":
            value = GO_NAN
        elif lowered == "stale" and not signed:
            return STALE_NAN, end
        else:
            raise SeriesDescError(f'unexpected {word.group()!r} in series values, expected number or "stale"')
    return (-value if sign < 0 else value), end


def _parse_histogram_item(item: str) -> list[SeqValue]:
    close = item.index("}}") + 2
    first, rest = item[:close], item[close:]
    if not rest:
        return [SeqValue(histogram=first)]
    if rest.startswith("x"):
        return [SeqValue(histogram=first)] * (_uint(rest[1:], item) + 1)
    if rest[0] in "+-" and rest[1:].startswith("{{"):
        end = rest.index("}}") + 2
        if rest[end:end + 1] == "x":
            return [SeqValue(histogram=item)] * (_uint(rest[end + 1:], item) + 1)
    raise SeriesDescError(f"invalid histogram series value {item!r}")


def _uint(text: str, item: str) -> int:
    if not _UINT.fullmatch(text):
        raise SeriesDescError(f"invalid repetition in series values: {item!r}")
    return int(text)


def expand(values: list[SeqValue], interval_ms: int, start_ms: int = 0) -> list[tuple[int, SeqValue]]:
    """(timestamp, value) for each position that holds a sample: position i is at start + i*interval."""
    return [(start_ms + i * interval_ms, v) for i, v in enumerate(values) if not v.omitted]


def parse_go_number(text: str) -> float:
    """The scalar-expectation number of an eval (`strconv.ParseInt(s, 0, 64)`, else ParseFloat)."""
    if re.fullmatch(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)", text):
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-").replace("_", "")
        base = 8 if len(digits) > 1 and digits[0] == "0" and digits[1] in "01234567" else 0
        try:
            n = sign * int(digits, base)
        except ValueError:
            n = None
        if n is not None and -(1 << 63) <= n < (1 << 63):
            return float(n)
    lowered = text.lower().lstrip("+-")
    if lowered in ("inf", "infinity"):
        return -math.inf if text.startswith("-") else math.inf
    if lowered == "nan":
        return GO_NAN
    if "_" in text or not re.fullmatch(r"[+-]?[0-9a-fA-FxXpP.eE]+", text):
        raise ValueError(f"not a number: {text!r}")
    try:
        value = float.fromhex(text) if "x" in text.lower() else float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if math.isinf(value):
        raise ValueError(f"number out of range: {text!r}")
    return value
