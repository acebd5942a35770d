"""Prometheus's resource endpoints besides the queries: labels, label values, series, metadata,
format_query, parse_query, query_exemplars, rules. Methods follow Prometheus (label values and
metadata GET only; the rest GET and form POST). Routes are thin: parameters -> `metadata` ->
`promapi` shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from planner.errors import FletchError
from planner.parse import parse
from planner.printer import format as format_expr
from query_api import metadata, promapi
from query_api.astjson import ast_json
from query_api.evaluate import Fleet
from query_api.form import Params, read_params
from query_api.params import NO_EXPRESSION, ParamError

TRUNCATED = "results truncated due to limit"


def router(fleet: Fleet, org_of: Callable[[Request], str]) -> APIRouter:
    api = APIRouter()

    async def selection(request: Request, params: Params) -> metadata.Selection:
        start, end = params.range_or_all()
        return metadata.Selection(org_of(request), start, end,
                                  metadata.parse_selectors(params.getlist("match[]")))

    @api.api_route("/api/v1/labels", methods=["GET", "POST"])
    async def labels(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            sel, limit = await selection(request, params), params.limit()
            names = await run_in_threadpool(metadata.label_names, fleet, sel)
        except FletchError as err:
            return error_response(err)
        return _limited(names, limit)

    @api.get("/api/v1/label/{name}/values")
    async def label_values(request: Request, name: str) -> JSONResponse:
        params = await read_params(request)
        try:
            sel, limit = await selection(request, params), params.limit()
            values = await run_in_threadpool(metadata.label_values, fleet, sel, name)
        except FletchError as err:
            return error_response(err)
        return _limited(values, limit)

    @api.api_route("/api/v1/series", methods=["GET", "POST"])
    async def series(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            sel, limit = await selection(request, params), params.limit()
            found = await run_in_threadpool(metadata.series, fleet, sel)
        except FletchError as err:
            return error_response(err)
        return _limited(found, limit)

    @api.get("/api/v1/metadata")
    async def metric_metadata(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            limit = params.limit()
        except FletchError as err:
            return error_response(err)
        records = await run_in_threadpool(fleet.catalog.metric_metadata, org_of(request),
                                          params.get("metric") or None)
        data: dict[str, list[dict[str, str]]] = {}
        for record in records:
            if limit and len(data) >= limit and record.metric_name not in data:
                break
            data.setdefault(record.metric_name, []).append(
                {"type": record.type, "help": record.help, "unit": record.unit})
        return JSONResponse(promapi.success(data))

    @api.api_route("/api/v1/format_query", methods=["GET", "POST"])
    async def format_query(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            return JSONResponse(promapi.success(format_expr(_parse_query(params))))
        except FletchError as err:
            return error_response(err)

    @api.api_route("/api/v1/parse_query", methods=["GET", "POST"])
    async def parse_query(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            return JSONResponse(promapi.success(ast_json(_parse_query(params))))
        except FletchError as err:
            return error_response(err)

    @api.api_route("/api/v1/query_exemplars", methods=["GET", "POST"])
    async def query_exemplars(request: Request) -> JSONResponse:
        params = await read_params(request)
        try:
            _parse_query(params)
            params.range_or_all()
        except FletchError as err:
            return error_response(err)
        return JSONResponse(promapi.success([]))  # fletch stores no exemplars

    @api.get("/api/v1/rules")
    async def rules() -> JSONResponse:
        return JSONResponse(promapi.success({"groups": []}))

    @api.get("/api/v1/alerts")
    async def alerts() -> JSONResponse:
        return JSONResponse(promapi.success({"alerts": []}))

    return api


def _parse_query(params: Params) -> Any:
    text = params.get("query") or ""
    if not text.strip():
        raise ParamError(NO_EXPRESSION)
    try:
        return parse(text)
    except FletchError as err:
        raise ParamError(f'invalid parameter "query": {err}') from None


def _limited(items: list[Any], limit: int) -> JSONResponse:
    if limit and len(items) > limit:
        return JSONResponse(promapi.success(items[:limit], [TRUNCATED]))
    return JSONResponse(promapi.success(items))


def error_response(err: FletchError) -> JSONResponse:
    status, body = promapi.error(err.error_type, str(err))
    return JSONResponse(body, status_code=status)
