"""A query answer in normalized form, shared by the conformance runner and the reference harness.

`Result.type` is Prometheus's `resultType`: "vector" (each series has exactly one point, at the
evaluation time), "matrix" (points ascending by time), "scalar" or "string"; or None with
`error` set when the query failed. Labels are plain dicts including `__name__`; timestamps are
int milliseconds; values are float64 (NaN and ±Inf included).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from planner.gostr import go_quote

ResultType = Literal["vector", "matrix", "scalar", "string"]


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    type: ResultType | None
    series: list[Series] = field(default_factory=list)
    scalar: float | None = None
    string: str | None = None
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def vector(cls, samples: Iterable[tuple[Mapping[str, str], int, float]], **notes: list[str]) -> Result:
        return cls("vector", [Series(dict(labels), [(t, v)]) for labels, t, v in samples], **notes)

    @classmethod
    def matrix(cls, series: Iterable[Series], **notes: list[str]) -> Result:
        return cls("matrix", list(series), **notes)

    @classmethod
    def of_scalar(cls, value: float, **notes: list[str]) -> Result:
        return cls("scalar", scalar=value, **notes)

    @classmethod
    def of_string(cls, value: str, **notes: list[str]) -> Result:
        return cls("string", string=value, **notes)

    @classmethod
    def failed(cls, message: str) -> Result:
        return cls(None, error=message)

    @classmethod
    def from_prometheus_json(cls, payload: Mapping[str, Any]) -> Result:
        """A `/api/v1/query` or `/api/v1/query_range` response body (already JSON-decoded)."""
        notes = {"warnings": list(payload.get("warnings") or []), "infos": list(payload.get("infos") or [])}
        if payload.get("status") != "success":
            return cls(None, error=str(payload.get("error", "")), **notes)
        data = payload["data"]
        kind, result = data["resultType"], data["result"]
        if kind == "scalar":
            return cls.of_scalar(parse_value(result[1]), **notes)
        if kind == "string":
            return cls.of_string(str(result[1]), **notes)
        if kind == "vector":
            return cls.vector(((s["metric"], seconds_to_ms(s["value"][0]), parse_value(s["value"][1]))
                               for s in result), **notes)
        if kind == "matrix":
            return cls.matrix((Series(dict(s["metric"]),
                                      [(seconds_to_ms(t), parse_value(v)) for t, v in s.get("values", [])])
                               for s in result), **notes)
        raise ValueError(f"unknown resultType {kind!r}")


def seconds_to_ms(seconds: float | str) -> int:
    return round(float(seconds) * 1000)


def parse_value(text: str | float) -> float:
    """A sample value as the API encodes it: a string, `"NaN"`, `"+Inf"`, `"-Inf"` included."""
    return float(text)


def format_labels(labels: Mapping[str, str]) -> str:
    """Prometheus's `labels.String()`: `{__name__="up", job="x"}`."""
    return "{" + ", ".join(f"{name}={go_quote(labels[name])}" for name in sorted(labels)) + "}"


def compare_labels(a: Mapping[str, str], b: Mapping[str, str]) -> int:
    """Prometheus's `labels.Compare`: pairwise by (name, value) in name order, then by length."""
    left, right = sorted(a.items()), sorted(b.items())
    for (an, av), (bn, bv) in zip(left, right, strict=False):
        if an != bn:
            return -1 if an < bn else 1
        if av != bv:
            return -1 if av < bv else 1
    return (len(left) > len(right)) - (len(left) < len(right))


def format_value(value: float) -> str:
    """A float the way Go's `%v` prints it in test messages (NaN, +Inf, shortest digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value).removesuffix(".0") if value == int(value) and abs(value) < 1e21 else repr(value)
