"""Functions over instant vectors and scalars, on whole [series, steps] arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from query_api.engine.values import Vector, without_name


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
