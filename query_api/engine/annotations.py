"""Prometheus's annotation texts (`util/annotations/annotations.go`) and Go's float formatting.

A message ends with the position of its subexpression, `(line:column)`, as Prometheus prints it
once the query text is known. The evaluator does not hand the query text down, so positions are
rendered for a single-line query (line 1, column = start offset + 1); `pos=None` leaves it out.
"""

from __future__ import annotations

import math

import numpy as np

from planner.ast import PosRange

WARNING = "PromQL warning"
INFO = "PromQL info"


def position(pos: PosRange | None) -> str:
    return "" if pos is None else f" (1:{pos[0] + 1})"


def go_g(value: float) -> str:
    """Go's `%g` / `%v` of a float64: shortest digits, exponent form when exp < -4 or >= 6."""

    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    mantissa, exponent = np.format_float_scientific(value, unique=True, trim="-").split("e")
    exp = int(exponent)
    if exp < -4 or exp >= 6:
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return np.format_float_positional(value, unique=True, trim="-")


def go_precision_g(value: float, digits: int) -> str:
    """Go's `%.<digits>g`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        exp = int(exponent)
        text = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return text


def invalid_quantile(q: float, pos: PosRange | None) -> str:
    return f"{WARNING}: quantile value should be between 0 and 1, got {go_g(q)}{position(pos)}"


def invalid_ratio(r: float, to: float, pos: PosRange | None) -> str:
    return (f"{WARNING}: ratio value should be between -1 and 1, got {go_g(r)}, "
            f"capping to {go_g(to)}{position(pos)}")


def _metric(message: str, metric_name: str) -> str:
    return f'{message} for metric name "{metric_name}"' if metric_name else message


def bad_bucket_label(metric_name: str, le: str, pos: PosRange | None) -> str:
    message = f'{WARNING}: bucket label "le" is missing or has a malformed value of "{le}"'
    return _metric(message, metric_name) + position(pos)


def mixed_classic_native(metric_name: str, pos: PosRange | None) -> str:
    message = f"{WARNING}: vector contains a mix of classic and native histograms"
    return _metric(message, metric_name) + position(pos)


def forced_monotonicity(metric_name: str, pos: PosRange | None) -> str:
    """The info's leading text; Prometheus appends bucket, diff and time details after it."""
    message = (f"{INFO}: input to histogram_quantile needed to be fixed for monotonicity "
               "(see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)")
    return _metric(message, metric_name)


def sort_in_range_query(pos: PosRange | None) -> str:
    return (f"{WARNING}: sort is ineffective for range queries since results are always ordered "
            f"by labels{position(pos)}")


def possible_non_counter(metric_name: str, pos: PosRange | None) -> str:
    return (f"{INFO}: metric might not be a counter, name does not end in "
            f'_total/_sum/_count/_bucket: "{metric_name}"{position(pos)}')


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def labels_string(labels: tuple[tuple[str, str], ...]) -> str:
    """Prometheus's `labels.Labels.String()`: `{__name__="up", job="x"}`."""
    parts = []
    for name, value in labels:
        shown = name if name.isascii() and (name[:1].isalpha() or name[:1] == "_") and \
            name.replace("_", "a").isalnum() else _go_quote(name)
        parts.append(f"{shown}={_go_quote(value)}")
    return "{" + ", ".join(parts) + "}"
