"""Prometheus duration strings (`1h30m`, `5m`, `250ms`) to and from milliseconds."""

import re

_UNITS_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000,
             "m": 60_000, "s": 1_000, "ms": 1}
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_ORDER = ("y", "w", "d", "h", "m", "s", "ms")


def parse_duration(text: str) -> int:
    """Milliseconds in a Prometheus duration; units must appear largest first, each at most once."""
    match = _DURATION.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"not a valid duration string: {text!r}")
    return sum(int(n) * _UNITS_MS[unit] for n, unit in zip(match.groups(), _ORDER, strict=True) if n)


def format_duration(ms: int) -> str:
    """Prometheus's canonical spelling of a duration (`90000` -> `1m30s`, `0` -> `0s`)."""
    if ms == 0:
        return "0s"
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    parts = []
    for unit in _ORDER:
        count, ms = divmod(ms, _UNITS_MS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
