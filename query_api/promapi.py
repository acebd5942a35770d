"""The Prometheus HTTP API's JSON: result shapes, sample values as strings, error shapes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from planner.errors import FletchError
from query_api.engine.values import Matrix, Scalar, String, Value, Vector

MAX_POINTS_PER_SERIES = 11_000
STATUS_BY_ERROR_TYPE = {"bad_data": 400, "execution": 422, "canceled": 499, "timeout": 503,
                        "internal": 500, "unavailable": 503, "not_found": 404}


def format_value(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64), with Prometheus's spelling of specials."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, unique=True, trim="-")


def format_ts(ms: int) -> float | int:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def labels_dict(labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(labels)


def instant_data(value: Value, time_ms: int) -> dict[str, Any]:
    ts = format_ts(time_ms)
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [ts, format_value(float(value.values[0]))]}
    if isinstance(value, String):
        return {"resultType": "string", "result": [ts, value.value]}
    if isinstance(value, Matrix):
        result = [{"metric": labels_dict(labels), "values": _points(times, values)}
                  for labels, times, values in zip(value.labels, value.timestamps, value.values, strict=True)]
        result.sort(key=lambda series: sorted(series["metric"].items()))
        return {"resultType": "matrix", "result": result}
    assert isinstance(value, Vector)
    result = [{"metric": labels_dict(labels), "value": [ts, format_value(float(value.values[i, 0]))]}
              for i, labels in enumerate(value.labels) if value.present[i, 0]]
    return {"resultType": "vector", "result": result}


def _points(times: np.ndarray, values: np.ndarray) -> list[list[Any]]:
    return [[format_ts(int(t)), format_value(float(v))] for t, v in zip(times, values, strict=True)]


def range_data(value: Value, times: np.ndarray) -> dict[str, Any]:
    stamps = [format_ts(int(t)) for t in times]
    if isinstance(value, Scalar):
        points = [[stamps[i], format_value(float(v))] for i, v in enumerate(value.values)]
        return {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}
    if isinstance(value, String):
        raise FletchError("range queries cannot return a string")
    result = []
    for i, labels in enumerate(value.labels):
        columns = np.flatnonzero(value.present[i])
        if len(columns):
            result.append({"metric": labels_dict(labels),
                           "values": [[stamps[c], format_value(float(value.values[i, c]))] for c in columns]})
    result.sort(key=lambda series: sorted(series["metric"].items()))
    return {"resultType": "matrix", "result": result}


def success(data: Any, warnings: list[str] | None = None, infos: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    if infos:
        body["infos"] = infos
    return body


def error(error_type: str, message: str) -> tuple[int, dict[str, Any]]:
    return STATUS_BY_ERROR_TYPE.get(error_type, 500), {"status": "error", "errorType": error_type,
                                                        "error": message}
