"""The HTTP API: Prometheus's query endpoints and the SSE query stream. Routes stay thin."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from planner.errors import FletchError, QueryCanceled
from planner.plan import Evaluation
from query_api import promapi
from query_api.engine.values import Scalar, String, Vector
from query_api.evaluate import Fleet, QueryResult, evaluate_query
from query_api.params import ParamError, parse_step, parse_time

log = logging.getLogger(__name__)
ORG_HEADER = "x-scope-orgid"
KEEPALIVE_SECONDS = 15.0
VERSION = "0.1.0"


def create_app(fleet: Fleet, default_org: str = "default") -> FastAPI:
    app = FastAPI(title="fletch", version=VERSION, docs_url=None, redoc_url=None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("request %s failed", request.url.path)
        status, body = promapi.error("internal", "internal error; see the API log")
        return JSONResponse(body, status_code=status)

    def org_of(request: Request) -> str:
        return request.headers.get(ORG_HEADER) or default_org

    @app.api_route("/api/v1/query", methods=["GET", "POST"])
    async def query(request: Request) -> JSONResponse:
        params = await _params(request)
        try:
            text = _required(params, "query")
            at = parse_time(params["time"], "time") if params.get("time") else _now_ms()
            evaluation = Evaluation.instant(at, fleet.lookback_ms)
            result = await run_in_threadpool(evaluate_query, fleet, org_of(request), text, evaluation)
        except FletchError as err:
            return _error(err)
        data = promapi.instant_data(result.value, at)
        return JSONResponse(promapi.success(data, result.annotations.warnings, result.annotations.infos))

    @app.api_route("/api/v1/query_range", methods=["GET", "POST"])
    async def query_range(request: Request) -> Response:
        params = await _params(request)
        try:
            text = _required(params, "query")
            start = parse_time(_required(params, "start"), "start")
            end = parse_time(_required(params, "end"), "end")
            step = parse_step(_required(params, "step"), "step")
            _check_range(start, end, step)
            evaluation = Evaluation.range(start, end, step, fleet.lookback_ms)
            result = await run_in_threadpool(evaluate_query, fleet, org_of(request), text, evaluation)
            notes = (result.annotations.warnings, result.annotations.infos)
            if isinstance(result.value, Vector):
                body = await run_in_threadpool(promapi.matrix_json, result.value, result.times, *notes)
                return Response(body, media_type="application/json")
            data = promapi.range_data(result.value, result.times)
        except FletchError as err:
            return _error(err)
        return JSONResponse(promapi.success(data, *notes))

    @app.post("/api/v1/metrics/query")
    async def metrics_query(request: Request) -> StreamingResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        cancel = threading.Event()
        events = _sse_events(fleet, org_of(request), body, request, cancel)
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/v1/status/buildinfo")
    async def buildinfo() -> JSONResponse:
        return JSONResponse(promapi.success({"version": VERSION, "revision": "", "branch": "",
                                             "buildUser": "", "buildDate": "", "goVersion": ""}))

    @app.get("/-/ready")
    @app.get("/-/healthy")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ok", "workers": len(fleet.workers())})

    return app


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: str(v) for k, v in form.items()})
    return params


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ParamError(f'invalid parameter "{name}": missing')
    return value


def _check_range(start: int, end: int, step: int) -> None:
    if end < start:
        raise ParamError("end timestamp must not be before start time")
    if (end - start) // step + 1 > promapi.MAX_POINTS_PER_SERIES:
        raise ParamError("exceeded maximum resolution of 11,000 points per timeseries. "
                         "Try decreasing the query resolution (?step=XX)")


def _error(err: FletchError) -> JSONResponse:
    status, body = promapi.error(err.error_type, str(err))
    return JSONResponse(body, status_code=status)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- SSE ---------------------------------------------------------------------------------------

def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _sse_request(body: Any) -> tuple[str, Evaluation]:
    if not isinstance(body, dict):
        raise ParamError('the body must be a JSON object {"q", "s", "e", "step"}')
    text = body.get("q")
    if not isinstance(text, str) or not text.strip():
        raise ParamError('invalid parameter "q": missing')
    now = _now_ms()
    end = parse_time(str(body.get("e", "now")), "e", now_ms=now, epoch_ms_too=True)
    start = parse_time(str(body.get("s", "e-1h")), "s", now_ms=now, anchors={"e": end}, epoch_ms_too=True)
    if "step" in body and body["step"] not in (None, ""):
        step = parse_step(str(body["step"]), "step")
    else:
        step = max(1000, (end - start) // 250 // 1000 * 1000)
    _check_range(start, end, step)
    return text, Evaluation.range(start, end, step)


async def _sse_events(fleet: Fleet, org: str, body: Any, request: Request,
                      cancel: threading.Event) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    try:
        text, evaluation = _sse_request(body)
        evaluation = Evaluation.range(evaluation.start, evaluation.end, evaluation.step, fleet.lookback_ms)
    except FletchError as err:
        yield _event("error", {"errorType": err.error_type, "error": str(err)})
        yield _event("done", {"status": "error", "stats": {}})
        return
    task = asyncio.ensure_future(run_in_threadpool(evaluate_query, fleet, org, text, evaluation,
                                                   cancel.is_set))
    try:
        while not task.done():
            done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
            if not done:
                if await request.is_disconnected():
                    cancel.set()
                    return
                yield b": keep-alive\n\n"
        result: QueryResult = task.result()
    except asyncio.CancelledError:
        cancel.set()
        raise
    except QueryCanceled:
        return
    except FletchError as err:
        yield _event("error", {"errorType": err.error_type, "error": str(err)})
        yield _event("done", {"status": "error", "stats": {}})
        return
    except Exception:
        log.exception("query failed: %s", text)
        yield _event("error", {"errorType": "internal", "error": "internal error; see the API log"})
        yield _event("done", {"status": "error", "stats": {}})
        return
    first_result = None
    for payload in _result_payloads(result):
        if first_result is None:
            first_result = time.perf_counter() - started
        yield _event("result", payload)
    for warning in result.annotations.warnings:
        yield _event("warning", {"warning": warning})
    stats = result.stats.as_dict()
    stats["time_to_first_result"] = round(first_result if first_result is not None else
                                          time.perf_counter() - started, 6)
    yield _event("done", {"status": "ok", "stats": stats})


def _result_payloads(result: QueryResult) -> list[dict[str, Any]]:
    value = result.value
    times = result.times
    if isinstance(value, Scalar):
        return [{"labels": {}, "timestamps": times.tolist(),
                 "values": [promapi.format_value(float(v)) for v in value.values]}]
    if isinstance(value, String):
        return [{"labels": {}, "timestamps": [int(times[0])], "values": [value.value]}]
    assert isinstance(value, Vector)
    payloads = []
    for i in sorted(range(len(value.labels)), key=lambda i: value.labels[i]):
        columns = np.flatnonzero(value.present[i])
        if len(columns):
            payloads.append({"labels": dict(value.labels[i]), "timestamps": times[columns].tolist(),
                             "values": [promapi.format_value(float(v)) for v in value.values[i, columns]]})
    return payloads
