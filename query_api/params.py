"""Request parameters as Prometheus reads them: times, durations, steps."""

from __future__ import annotations

import math
import re
from datetime import datetime

from planner.durations import parse_duration
from planner.errors import QueryError

# Prometheus's bounds for "no time given": minTime/maxTime in its API.
MIN_TIME_MS = -9223372036854775808 // 1_000_000 * 1000
MAX_TIME_MS = 9223372036854775807 // 1_000_000 * 1000
_RELATIVE = re.compile(r"^(now|e|s)\s*([+-])\s*(\S+)$")


class ParamError(QueryError):
    """A bad request parameter (`bad_data`)."""


# With `epoch_ms_too`, numbers this large are epoch milliseconds (as seconds they would lie
# beyond the year 5000).
_EPOCH_MS_THRESHOLD = 1e11


def parse_time(text: str, name: str = "time", *, now_ms: int | None = None,
               anchors: dict[str, int] | None = None, epoch_ms_too: bool = False) -> int:
    """Epoch seconds (fractions allowed) or RFC 3339, as Prometheus; also `now`, `now-1h`,
    `e-1h` / `s+5m` relative to other anchors given by the caller, and with `epoch_ms_too`
    epoch milliseconds. Returns ms."""
    value = text.strip()
    anchors = dict(anchors or {})
    if now_ms is not None:
        anchors["now"] = now_ms
    if value in anchors:
        return anchors[value]
    relative = _RELATIVE.match(value)
    if relative and relative.group(1) in anchors:
        base, sign, amount = relative.groups()
        delta = _duration_ms(amount, name)
        return anchors[base] + (delta if sign == "+" else -delta)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            raise _unparsable(name, text, "timestamp")
        if epoch_ms_too and abs(seconds) >= _EPOCH_MS_THRESHOLD:
            return round(seconds)
        return round(seconds * 1000)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _unparsable(name, text, "timestamp") from None
    if parsed.tzinfo is None:
        raise _unparsable(name, text, "timestamp")
    return round(parsed.timestamp() * 1000)


def parse_step(text: str, name: str = "step") -> int:
    """A duration as float seconds or a Prometheus duration string, in ms (must be > 0)."""
    step = _duration_ms(text, name)
    if step <= 0:
        raise ParamError("zero or negative query resolution step widths are not accepted. "
                         "Try a positive integer")
    return step


def _duration_ms(text: str, name: str) -> int:
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            return parse_duration(value)
        except ValueError:
            raise _unparsable(name, text, "duration") from None
    if math.isnan(seconds) or math.isinf(seconds):
        raise _unparsable(name, text, "duration")
    return round(seconds * 1000)


def _unparsable(name: str, text: str, kind: str) -> ParamError:
    return ParamError(f'invalid parameter "{name}": cannot parse "{text}" to a valid {kind}')


MAX_POINTS_PER_SERIES = 11_000


def check_range(start: int, end: int, step: int) -> None:
    """Prometheus's checks on a range query's bounds and resolution."""
    if end < start:
        raise ParamError('invalid parameter "end": end timestamp must not be before start time')
    if (end - start) // step + 1 > MAX_POINTS_PER_SERIES:
        raise ParamError("exceeded maximum resolution of 11,000 points per timeseries. "
                         "Try decreasing the query resolution (?step=XX)")


NO_EXPRESSION = 'invalid parameter "query": 1:1: parse error: no expression found in input'
