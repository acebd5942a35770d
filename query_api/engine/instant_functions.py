"""Functions over instant vectors and scalars, on whole [series, steps] arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner import ast
from planner.errors import QueryError
from query_api.engine import histograms, labelfns
from query_api.engine.values import Annotations, Scalar, String, Value, Vector, without_name


@dataclass
class FunctionCall:
    """A call of an instant function: the node, its evaluated arguments, the block's steps."""

    node: ast.Call
    args: list[Value]
    times: np.ndarray
    annotations: Annotations

    def vector(self, index: int) -> Vector:
        value = self.args[index]
        if not isinstance(value, Vector):
            raise QueryError(f"expected an instant vector as argument {index + 1} of {self.node.func}()")
        return value

    def scalar(self, index: int, default: float | None = None) -> np.ndarray:
        if index >= len(self.args) and default is not None:
            return np.full(len(self.times), default)
        value = self.args[index]
        if not isinstance(value, Scalar):
            raise QueryError(f"expected a scalar as argument {index + 1} of {self.node.func}()")
        return value.values

    def string(self, index: int) -> str:
        value = self.args[index]
        if not isinstance(value, String):
            raise QueryError(f"expected a string as argument {index + 1} of {self.node.func}()")
        return value.value


def _round(values: np.ndarray, to_nearest: np.ndarray) -> np.ndarray:
    # Prometheus: math.Floor(v * (1/toNearest) + 0.5) / (1/toNearest)
    with np.errstate(all="ignore"):
        inverse = 1.0 / to_nearest
        return np.floor(values * inverse + 0.5) / inverse


def _sgn(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), values, np.sign(values))


MATH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs, "ceil": np.ceil, "floor": np.floor, "exp": np.exp, "ln": np.log, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "sgn": _sgn,
    "acos": np.arccos, "acosh": np.arccosh, "asin": np.arcsin, "asinh": np.arcsinh, "atan": np.arctan,
    "atanh": np.arctanh, "cos": np.cos, "cosh": np.cosh, "sin": np.sin, "sinh": np.sinh, "tan": np.tan,
    "tanh": np.tanh, "deg": np.degrees, "rad": np.radians,
}


def math_function(name: str, vector: Vector) -> Vector:
    with np.errstate(all="ignore"):
        values = MATH[name](vector.values)
    return Vector([without_name(labels) for labels in vector.labels], values, vector.present.copy())


def round_function(vector: Vector, to_nearest: np.ndarray) -> Vector:
    values = _round(vector.values, to_nearest[None, :])
    return Vector([without_name(labels) for labels in vector.labels], values, vector.present.copy())


def clamp(vector: Vector, low: np.ndarray | None, high: np.ndarray | None) -> Vector:
    values = vector.values
    present = vector.present.copy()
    with np.errstate(invalid="ignore"):
        if low is not None:
            values = np.where(np.isnan(values), values, np.maximum(values, low[None, :]))
        if high is not None:
            values = np.where(np.isnan(values), values, np.minimum(values, high[None, :]))
        if low is not None and high is not None:
            present &= ~(low > high)[None, :]
    return Vector([without_name(labels) for labels in vector.labels], values, present)


def _calendar(seconds: np.ndarray) -> dict[str, np.ndarray]:
    ms = np.where(np.isfinite(seconds), seconds * 1000, 0).astype("int64").astype("datetime64[ms]")
    days = ms.astype("datetime64[D]")
    months = ms.astype("datetime64[M]")
    years = ms.astype("datetime64[Y]")
    next_month = (months + 1).astype("datetime64[D]")
    return {
        "year": years.astype(np.int64) + 1970,
        "month": months.astype(np.int64) % 12 + 1,
        "day_of_month": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
        "day_of_year": (days - years.astype("datetime64[D]")).astype(np.int64) + 1,
        "day_of_week": (days.astype(np.int64) + 4) % 7,
        "hour": (ms - days).astype("timedelta64[h]").astype(np.int64),
        "minute": (ms - ms.astype("datetime64[h]")).astype("timedelta64[m]").astype(np.int64),
        "days_in_month": (next_month - months.astype("datetime64[D]")).astype(np.int64),
    }


DATE_FUNCTIONS = ("days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute",
                  "month", "year")


def date_function(name: str, vector: Vector) -> Vector:
    values = _calendar(vector.values)[name].astype(np.float64)
    values = np.where(np.isfinite(vector.values), values, np.nan)
    return Vector([without_name(labels) for labels in vector.labels], values, vector.present.copy())


def date_of_times(name: str, times_ms: np.ndarray) -> np.ndarray:
    return _calendar(times_ms / 1000.0)[name].astype(np.float64)


def _timestamp(call: FunctionCall) -> Vector:
    vector = call.vector(0)
    ts = vector.sample_ts
    if ts is None:
        ts = np.broadcast_to(call.times, vector.values.shape)
    return Vector([without_name(lb) for lb in vector.labels], ts / 1000.0, vector.present.copy())


def _scalar(call: FunctionCall) -> Scalar:
    vector = call.vector(0)
    count = vector.present.sum(axis=0)
    total = np.where(vector.present, vector.values, 0.0).sum(axis=0)
    return Scalar(np.where(count == 1, total, np.nan))


def _one_series(values: np.ndarray) -> Vector:
    return Vector([()], values[None, :], np.ones((1, len(values)), dtype=bool))


def _date(name: str) -> Callable[[FunctionCall], Vector]:
    def run(call: FunctionCall) -> Vector:
        if call.args:
            return date_function(name, call.vector(0))
        return _one_series(date_of_times(name, call.times))
    return run


def absent_vector(node: ast.Call, times: np.ndarray, any_present: np.ndarray) -> Vector:
    """`absent`/`absent_over_time`: 1 where nothing matched, labelled by the selector's single
    equality matchers (a label matched more than once is left out)."""
    labels: dict[str, str] = {}
    arg = node.args[0]
    while isinstance(arg, ast.ParenExpr):
        arg = arg.expr
    selector = arg.selector if isinstance(arg, ast.MatrixSelector) else arg
    if isinstance(selector, ast.VectorSelector):
        seen: set[str] = set()
        for matcher in selector.all_matchers:
            if matcher.op is ast.MatchOp.EQ and matcher.name != "__name__" and matcher.name not in seen:
                labels[matcher.name] = matcher.value
            elif matcher.name in labels:
                del labels[matcher.name]
            seen.add(matcher.name)
    return Vector([tuple(sorted(labels.items()))], np.ones((1, len(times))), ~any_present[None, :])


def _go_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Go's math.Max: +Inf wins over NaN, NaN over the rest, +0 over -0."""
    with np.errstate(invalid="ignore"):
        result = np.where(np.isnan(a) | np.isnan(b), np.nan, np.maximum(a, b))
        zeros = (a == 0) & (b == 0)
        result = np.where(zeros, np.where(np.signbit(a), b, a), result)
        return np.where(np.isposinf(a) | np.isposinf(b), np.inf, result)


def _go_min(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Go's math.Min: -Inf wins over NaN, NaN over the rest, -0 over +0."""
    return -_go_max(-a, -b)


def _sorted(call: FunctionCall, descending: bool, by_label: bool) -> Vector:
    warning = labelfns.sort_warning(call.times, call.node.pos)
    if warning:
        call.annotations.warn(warning)
    vector = call.vector(0)
    if by_label:
        names = [call.string(i) for i in range(1, len(call.args))]
        return labelfns.sort_by_label(vector, names, descending)
    return labelfns.sort_by_value(vector, descending)


def _arg_pos(call: FunctionCall, index: int) -> ast.PosRange:
    return call.node.args[index].pos


def _histogram_quantile(call: FunctionCall) -> Vector:
    q = call.scalar(0)
    histograms.quantile_warnings(q, call.annotations, _arg_pos(call, 0))
    buckets = histograms.classic_buckets(call.vector(1), call.annotations, _arg_pos(call, 1))
    values, fixes = histograms.bucket_quantile(buckets, q)
    histograms.report_monotonicity(buckets, fixes, call.times, call.annotations, _arg_pos(call, 1))
    return histograms.result_vector(buckets, values)


def _histogram_quantiles(call: FunctionCall) -> Vector:
    label = call.string(1)
    qs = [call.scalar(i) for i in range(2, len(call.args))]
    for i, q in enumerate(qs, start=2):
        histograms.quantile_warnings(q, call.annotations, _arg_pos(call, i))
    buckets = histograms.classic_buckets(call.vector(0), call.annotations, _arg_pos(call, 0))
    parts: list[Vector] = []
    for q in qs:
        values, fixes = histograms.bucket_quantile(buckets, q)
        histograms.report_monotonicity(buckets, fixes, call.times, call.annotations, _arg_pos(call, 0))
        for value in np.unique(q):
            at = np.isnan(q) if np.isnan(value) else q == value
            text = histograms.openmetrics_float(float(value))
            labels = [tuple(sorted({**dict(lb), label: text}.items())) for lb in buckets.output_labels()]
            parts.append(_only_steps(histograms.result_vector(buckets, values, labels), at))
    return _concat(parts, len(call.times))


def _only_steps(vector: Vector, steps: np.ndarray) -> Vector:
    present = vector.present & steps[None, :]
    keep = np.flatnonzero(present.any(axis=1))
    return Vector([vector.labels[i] for i in keep], vector.values[keep], present[keep])


def _concat(parts: list[Vector], steps: int) -> Vector:
    parts = [part for part in parts if part.labels]
    if not parts:
        return Vector.empty(steps)
    merged = Vector([lb for part in parts for lb in part.labels], np.vstack([p.values for p in parts]),
                    np.vstack([p.present for p in parts]))
    return labelfns.merge_same_labels(merged)


def _histogram_fraction(call: FunctionCall) -> Vector:
    buckets = histograms.classic_buckets(call.vector(2), call.annotations, _arg_pos(call, 2))
    fraction = histograms.bucket_fraction(buckets, call.scalar(0), call.scalar(1))
    return histograms.result_vector(buckets, fraction)


def _native_only(call: FunctionCall) -> Vector:
    """histogram_count/sum/avg/stddev/stdvar read native histograms only: floats give nothing."""
    return Vector.empty(len(call.times))


INSTANT_FUNCTIONS: dict[str, Callable[[FunctionCall], Value]] = {
    **{name: (lambda call, name=name: math_function(name, call.vector(0))) for name in MATH},
    **{name: _date(name) for name in DATE_FUNCTIONS},
    "round": lambda call: round_function(call.vector(0), call.scalar(1, default=1.0)),
    "clamp": lambda call: clamp(call.vector(0), call.scalar(1), call.scalar(2)),
    "clamp_min": lambda call: clamp(call.vector(0), call.scalar(1), None),
    "clamp_max": lambda call: clamp(call.vector(0), None, call.scalar(1)),
    "time": lambda call: Scalar(call.times / 1000.0),
    "pi": lambda call: Scalar(np.full(len(call.times), np.pi)),
    "timestamp": _timestamp,
    "vector": lambda call: _one_series(call.scalar(0)),
    "scalar": _scalar,
    "absent": lambda call: absent_vector(call.node, call.times, call.vector(0).present.any(axis=0)),
    "sort": lambda call: _sorted(call, descending=False, by_label=False),
    "sort_desc": lambda call: _sorted(call, descending=True, by_label=False),
    "sort_by_label": lambda call: _sorted(call, descending=False, by_label=True),
    "sort_by_label_desc": lambda call: _sorted(call, descending=True, by_label=True),
    "label_replace": lambda call: labelfns.label_replace(call.vector(0), call.string(1), call.string(2),
                                                         call.string(3), call.string(4)),
    "label_join": lambda call: labelfns.label_join(call.vector(0), call.string(1), call.string(2),
                                                   [call.string(i) for i in range(3, len(call.args))]),
    "histogram_quantile": _histogram_quantile,
    "histogram_quantiles": _histogram_quantiles,
    "histogram_fraction": _histogram_fraction,
    **{name: _native_only for name in ("histogram_count", "histogram_sum", "histogram_avg",
                                       "histogram_stddev", "histogram_stdvar")},
    "max_of": lambda call: Scalar(_go_max(call.scalar(0), call.scalar(1))),
    "min_of": lambda call: Scalar(_go_min(call.scalar(0), call.scalar(1))),
}
