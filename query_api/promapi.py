"""The Prometheus HTTP API's JSON: result shapes, sample values as strings, error shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planner.errors import FletchError
from planner.printer import format_float
from query_api.engine.values import Matrix, Scalar, String, Value, Vector

if TYPE_CHECKING:
    from query_api.evaluate import QueryStats

STATUS_BY_ERROR_TYPE = {"bad_data": 400, "execution": 422, "canceled": 499, "timeout": 503,
                        "internal": 500, "unavailable": 503, "not_found": 404}


def format_values(values: np.ndarray) -> pa.Array:
    """`format_value` for a whole array: Arrow's shortest-digit cast, with the few values it
    writes with an exponent (or inf/nan) redone one by one."""
    texts = pc.cast(pa.array(values, pa.float64()), pa.string())
    odd = pc.match_substring_regex(texts, "[en]").to_numpy(zero_copy_only=False)
    if odd.any():
        fixed = texts.to_pylist()
        for i in np.flatnonzero(odd).tolist():
            fixed[i] = format_float(float(values[i]))
        texts = pa.array(fixed, pa.string())
    return texts


def format_ts(ms: int) -> float | int:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def labels_dict(labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(labels)


def instant_data(value: Value, time_ms: int) -> dict[str, Any]:
    ts = format_ts(time_ms)
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [ts, format_float(float(value.values[0]))]}
    if isinstance(value, String):
        return {"resultType": "string", "result": [ts, value.value]}
    if isinstance(value, Matrix):
        result = [{"metric": labels_dict(labels), "values": _points(times, values)}
                  for labels, times, values in zip(value.labels, value.timestamps, value.values, strict=True)]
        result.sort(key=lambda series: sorted(series["metric"].items()))
        return {"resultType": "matrix", "result": result}
    assert isinstance(value, Vector)
    result = [{"metric": labels_dict(labels), "value": [ts, format_float(float(value.values[i, 0]))]}
              for i, labels in enumerate(value.labels) if value.present[i, 0]]
    return {"resultType": "vector", "result": result}


def _points(times: np.ndarray, values: np.ndarray) -> list[list[Any]]:
    return [[format_ts(int(t)), format_float(float(v))] for t, v in zip(times, values, strict=True)]


def matrix_json(value: Vector, times: np.ndarray, warnings: list[str], infos: list[str],
                stats: dict[str, Any] | None = None) -> bytes:
    """The whole `query_range` success body, built column-wise (Arrow string kernels) rather
    than point by point: a range result can hold millions of points."""
    order = sorted(range(len(value.labels)), key=lambda i: value.labels[i])
    present = value.present[order]
    series_rows, columns = np.nonzero(present)
    stamps = format_values(times / 1000.0)
    points = pc.binary_join_element_wise("[", stamps.take(pa.array(columns)), ',"',
                                         format_values(value.values[order][series_rows, columns]), '"]', "")
    counts = present.sum(axis=1)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), points), ",").to_pylist()
    parts = [f'{{"metric":{json.dumps(dict(value.labels[i]), separators=(",", ":"))},"values":[{text}]}}'
             for i, text, count in zip(order, joined, counts.tolist(), strict=True) if count]
    body = '{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(parts) + "]"
    if stats is not None:
        body += ',"stats":' + json.dumps(stats, separators=(",", ":"))
    body += "}"
    if warnings:
        body += ',"warnings":' + json.dumps(warnings)
    if infos:
        body += ',"infos":' + json.dumps(infos)
    return (body + "}").encode()


def range_data(value: Value, times: np.ndarray) -> dict[str, Any]:
    stamps = [format_ts(int(t)) for t in times]
    if isinstance(value, Scalar):
        points = [[stamps[i], format_float(float(v))] for i, v in enumerate(value.values)]
        return {"resultType": "matrix", "result": [{"metric": {}, "values": points}]}
    if isinstance(value, String):
        raise FletchError("range queries cannot return a string")
    result = []
    for i, labels in enumerate(value.labels):
        columns = np.flatnonzero(value.present[i]).tolist()
        if columns:
            row = value.values[i].tolist()
            result.append({"metric": labels_dict(labels),
                           "values": [[stamps[c], format_float(row[c])] for c in columns]})
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
    # Query text may carry bytes that are not UTF-8 (kept as surrogates): show them as \xNN.
    text = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return STATUS_BY_ERROR_TYPE.get(error_type, 500), {"status": "error", "errorType": error_type,
                                                        "error": text}


TRUNCATED = "results truncated due to limit"


def limit_series(value: Value, limit: int) -> tuple[Value, list[str]]:
    """The first `limit` series (in output order) of a vector or matrix result, and the warning
    Prometheus adds when it cut some; scalars and strings are never limited."""
    if not limit or isinstance(value, (Scalar, String)):
        return value, []
    if isinstance(value, Matrix):
        if len(value.labels) <= limit:
            return value, []
        keep = sorted(range(len(value.labels)), key=lambda i: sorted(value.labels[i]))[:limit]
        return Matrix([value.labels[i] for i in keep], [value.timestamps[i] for i in keep],
                      [value.values[i] for i in keep]), [TRUNCATED]
    assert isinstance(value, Vector)
    shown = np.flatnonzero(value.present.any(axis=1))
    if len(shown) <= limit:
        return value, []
    keep = sorted(shown.tolist(), key=lambda i: value.labels[i])[:limit]
    sample_ts = None if value.sample_ts is None else value.sample_ts[keep]
    return replace(value, labels=[value.labels[i] for i in keep], values=value.values[keep],
                   present=value.present[keep], sample_ts=sample_ts), [TRUNCATED]


def stats(query: QueryStats) -> dict[str, Any]:
    """`data.stats` as Prometheus shapes it (`stats=all`); fletch's fetch counters are extra."""
    seconds = round(query.seconds, 6)
    return {"timings": {"evalTotalTime": seconds, "resultSortTime": 0, "queryPreparationTime": 0,
                        "innerEvalTime": seconds, "execQueueTime": 0, "execTotalTime": seconds},
            "samples": {"totalQueryableSamples": query.rows, "peakSamples": query.rows}}
