"""The HTTP API: Prometheus's query endpoints, its resource endpoints (`resources.py`) and the
SSE streams (`sse.py`). Routes stay thin; see `promapi.py` for the JSON shapes.

Parameters come from the query string and, for POST, a urlencoded form, wherever Prometheus
accepts both. `stats` (any value, e.g. `stats=all`) adds `data.stats`; `limit` caps the number
of series in a vector or matrix result (with the warning "results truncated due to limit").
Unknown paths are a plain-text 404, as Prometheus answers them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.errors import FletchError, ParseError
from planner.plan import Evaluation
from query_api import promapi, resources, sse
from query_api.engine.values import Vector
from query_api.evaluate import Fleet, QueryResult, evaluate_query
from query_api.form import Params, read_params
from query_api.params import NO_EXPRESSION, ParamError, check_range, parse_step, parse_time
from query_api.status_routes import status_router

log = logging.getLogger(__name__)
ORG_HEADER = "x-scope-orgid"
VERSION = "0.1.0"


def create_app(fleet: Fleet, default_org: str = "default") -> FastAPI:
    app = FastAPI(title="fletch", version=VERSION, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("request %s failed", request.url.path)
        status, body = promapi.error("internal", "internal error; see the API log")
        return JSONResponse(body, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Response:
        if err.status_code == 404:
            return PlainTextResponse("404 page not found\n", status_code=404)
        return PlainTextResponse(f"{err.detail}\n", status_code=err.status_code, headers=err.headers)

    def org_of(request: Request) -> str:
        return request.headers.get(ORG_HEADER) or default_org

    @app.api_route("/api/v1/query", methods=["GET", "POST"])
    async def query(request: Request) -> Response:
        params = await read_params(request)
        try:
            text = params.get("query") or ""
            at = params.time_or("time", _now_ms())
            limit = params.limit()
            evaluation = Evaluation.instant(at, fleet.lookback_ms)
            result = await run_in_threadpool(_evaluate, fleet, org_of(request), text, evaluation)
        except FletchError as err:
            return resources.error_response(err)
        value, warnings = promapi.limit_series(result.value, limit)
        data = promapi.instant_data(value, at)
        _add_stats(data, params, result)
        return JSONResponse(promapi.success(data, result.annotations.warnings + warnings,
                                            result.annotations.infos))

    @app.api_route("/api/v1/query_range", methods=["GET", "POST"])
    async def query_range(request: Request) -> Response:
        params = await read_params(request)
        try:
            text = params.get("query") or ""
            start = parse_time(params.required("start"), "start")
            end = parse_time(params.required("end"), "end")
            step = parse_step(params.required("step"), "step")
            limit = params.limit()
            check_range(start, end, step)
            evaluation = Evaluation.range(start, end, step, fleet.lookback_ms)
            result = await run_in_threadpool(_evaluate, fleet, org_of(request), text, evaluation)
            value, truncated = promapi.limit_series(result.value, limit)
            notes = (result.annotations.warnings + truncated, result.annotations.infos)
            stats = _stats(params, result)
            if isinstance(value, Vector):
                body = await run_in_threadpool(promapi.matrix_json, value, result.times, *notes, stats)
                return Response(body, media_type="application/json")
            data = promapi.range_data(value, result.times)
        except FletchError as err:
            return resources.error_response(err)
        if stats is not None:
            data["stats"] = stats
        return JSONResponse(promapi.success(data, *notes))

    @app.post("/api/v1/metrics/query")
    async def metrics_query(request: Request) -> StreamingResponse:
        events = sse.query_events(fleet, org_of(request), await _json(request), request)
        return StreamingResponse(events, media_type="text/event-stream", headers=sse.HEADERS)

    @app.post("/api/v1/metrics/tags")
    async def metrics_tags(request: Request) -> StreamingResponse:
        events = sse.tags_events(fleet, org_of(request), await _json(request), request)
        return StreamingResponse(events, media_type="text/event-stream", headers=sse.HEADERS)

    @app.post("/api/v1/metrics/tagvalues")
    async def metrics_tag_values(request: Request) -> StreamingResponse:
        events = sse.tag_values_events(fleet, org_of(request), await _json(request), request)
        return StreamingResponse(events, media_type="text/event-stream", headers=sse.HEADERS)

    @app.get("/api/v1/status/buildinfo")
    async def buildinfo() -> JSONResponse:
        # No `features` field: Grafana then treats fletch as Prometheus, not Mimir.
        return JSONResponse(promapi.success({"version": VERSION, "revision": "", "branch": "",
                                             "buildUser": "", "buildDate": "", "goVersion": ""}))

    @app.get("/-/ready")
    @app.get("/-/healthy")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ok", "workers": len(fleet.workers())})

    app.include_router(resources.router(fleet, org_of))
    app.include_router(status_router(fleet))
    return app


def _evaluate(fleet: Fleet, org: str, text: str, evaluation: Evaluation) -> QueryResult:
    if not text.strip():
        raise ParamError(NO_EXPRESSION)
    try:
        return evaluate_query(fleet, org, text, evaluation)
    except ParseError as err:  # Prometheus names the parameter of a query it cannot parse
        raise ParamError(f'invalid parameter "query": {err}') from None


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _stats(params: Params, result: QueryResult) -> dict[str, Any] | None:
    return promapi.stats(result.stats) if params.get("stats") else None


def _add_stats(data: dict[str, Any], params: Params, result: QueryResult) -> None:
    stats = _stats(params, result)
    if stats is not None:
        data["stats"] = stats


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
