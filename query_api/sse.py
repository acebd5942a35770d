"""Server-Sent Event streams: query results, label names (tags) and label values (tag values).

Wire format (every stream; `data:` is one line of JSON; sample values are strings such as
`"NaN"` and `"+Inf"`, as in the Prometheus JSON API)::

    POST /api/v1/metrics/query      {"q": "<PromQL>", "s": "<start>", "e": "<end>", "step": "<step>"}
        event: result   data: {"labels": {...}, "timestamps": [ms, ...], "values": ["1", ...]}
        event: warning  data: {"warning": "..."}
    POST /api/v1/metrics/tags       {"match": ["<selector>", ...], "s": ..., "e": ..., "limit": n}
        event: result   data: {"tag": "job"}                      (one per label name, sorted)
    POST /api/v1/metrics/tagvalues  {"tag": "job", "match": [...], "s": ..., "e": ..., "limit": n}
        event: result   data: {"tag": "job", "value": "api"}      (a TagValue, sorted by value)
    every stream:
        event: error    data: {"errorType": "bad_data", "error": "..."}
        event: done     data: {"status": "ok" | "error", "stats": {...}}   (always last)
        : keep-alive    a comment every KEEPALIVE_SECONDS while the answer is being computed

`s`/`e` accept epoch seconds or milliseconds, RFC 3339, `now`, `now-1h`, `e-1h`; `match` is a
string or a list (absent: every series; metric names then come from the catalog alone). A
stream that ends without `done` has failed. When the client goes away, the work is cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import numpy as np
from fastapi import Request

from planner.errors import FletchError, QueryCanceled
from planner.plan import Evaluation
from planner.printer import format_float
from query_api import metadata, promapi
from query_api.engine.values import Scalar, String, Vector
from query_api.evaluate import Fleet, QueryResult, evaluate_blocks
from query_api.params import ParamError, check_range, parse_step, parse_time

log = logging.getLogger(__name__)
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DISCONNECT_POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0


def event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _times(body: dict[str, Any], default_span: str = "e-1h") -> tuple[int, int]:
    now = _now_ms()
    end = parse_time(str(body.get("e", "now")), "e", now_ms=now, epoch_ms_too=True)
    start = parse_time(str(body.get("s", default_span)), "s", now_ms=now, anchors={"e": end},
                       epoch_ms_too=True)
    return start, end


def _object(body: Any, keys: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ParamError(f"the body must be a JSON object {{{keys}}}")
    return body


def query_request(body: Any, lookback_ms: int) -> tuple[str, Evaluation]:
    body = _object(body, '"q", "s", "e", "step"')
    text = body.get("q")
    if not isinstance(text, str) or not text.strip():
        raise ParamError('invalid parameter "q": missing')
    start, end = _times(body)
    if "step" in body and body["step"] not in (None, ""):
        step = parse_step(str(body["step"]), "step")
    else:
        step = max(1000, (end - start) // 250 // 1000 * 1000)
    check_range(start, end, step)
    return text, Evaluation.range(start, end, step, lookback_ms)


def _selection(org: str, body: dict[str, Any]) -> tuple[metadata.Selection, int]:
    match = body.get("match", [])
    texts = [match] if isinstance(match, str) else match
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ParamError('invalid parameter "match": a selector or a list of selectors')
    limit = body.get("limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ParamError('invalid parameter "limit": a non-negative integer')
    start, end = _times(body, "e-6h")
    return metadata.Selection(org, start, end, metadata.parse_selectors(texts, "match")), limit


async def _stream(produce: Callable[[threading.Event], Iterable[Any]], request: Request,
                  render: Callable[[Any], Iterable[bytes]], finish: Callable[[Any], Iterable[bytes]],
                  what: str) -> AsyncIterator[bytes]:
    """Run `produce(cancel)` in a thread and stream: `render(item)` for each item it yields,
    `finish(last item)` at the end, keep-alive comments while waiting, and `error` + `done` if it
    fails. A client that goes away sets `cancel`, which stops the pushdowns at their next batch."""
    cancel = threading.Event()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def run() -> None:
        try:
            for item in produce(cancel):
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
        except BaseException as err:  # handed to the event loop, which reports it
            loop.call_soon_threadsafe(queue.put_nowait, ("error", err))

    producer = threading.Thread(target=run, name=f"fletch-{what}", daemon=True)
    producer.start()
    last: Any = None
    last_sent = time.monotonic()
    try:
        while True:
            try:
                poll = min(DISCONNECT_POLL_SECONDS, KEEPALIVE_SECONDS)
                kind, item = await asyncio.wait_for(queue.get(), poll)
            except TimeoutError:
                if await request.is_disconnected():
                    cancel.set()
                    return
                if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                    last_sent = time.monotonic()
                    yield b": keep-alive\n\n"
                continue
            if kind == "error":
                raise item
            if kind == "end":
                break
            last = item
            for chunk in render(item):
                yield chunk
        for chunk in finish(last):
            yield chunk
    except QueryCanceled:
        return
    except FletchError as err:
        yield event("error", {"errorType": err.error_type, "error": str(err)})
        yield event("done", {"status": "error", "stats": {}})
    except Exception:
        log.exception("%s stream failed", what)
        yield event("error", {"errorType": "internal", "error": "internal error; see the API log"})
        yield event("done", {"status": "error", "stats": {}})
    finally:
        if producer.is_alive():  # the client left, or the stream failed: stop the pushdowns
            cancel.set()


async def _failed(err: FletchError) -> AsyncIterator[bytes]:
    yield event("error", {"errorType": err.error_type, "error": str(err)})
    yield event("done", {"status": "error", "stats": {}})


def query_events(fleet: Fleet, org: str, body: Any, request: Request) -> AsyncIterator[bytes]:
    """The query stream: `result` events block by block as EvalFlow completes them (a series may
    appear in several `result` events, each with later points), then warnings, then `done`."""
    started = time.perf_counter()
    try:
        text, evaluation = query_request(body, fleet.lookback_ms)
    except FletchError as err:
        return _failed(err)
    first: list[float] = []

    def produce(cancel: threading.Event) -> Iterable[QueryResult]:
        return evaluate_blocks(fleet, org, text, evaluation, cancel.is_set)

    def render(block: QueryResult) -> Iterable[bytes]:
        for payload in result_payloads(block):
            if not first:
                first.append(time.perf_counter() - started)
            yield event("result", payload)

    def finish(last: QueryResult) -> Iterable[bytes]:
        for warning in last.annotations.warnings:
            yield event("warning", {"warning": warning})
        stats = last.stats.as_dict()
        stats["time_to_first_result"] = round(first[0] if first else time.perf_counter() - started, 6)
        yield event("done", {"status": "ok", "stats": stats})

    return _stream(produce, request, render, finish, "query")


def tags_events(fleet: Fleet, org: str, body: Any, request: Request) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    try:
        sel, limit = _selection(org, _object(body, '"match", "s", "e", "limit"'))
    except FletchError as err:
        return _failed(err)

    def produce(cancel: threading.Event) -> Iterable[list[str]]:
        yield metadata.label_names(fleet, sel, cancel.is_set)

    def finish(names: list[str]) -> Iterable[bytes]:
        shown = names[:limit] if limit else names
        for name in shown:
            yield event("result", {"tag": name})
        yield _done(len(shown), len(names), started)

    return _stream(produce, request, _nothing, finish, "tags")


def tag_values_events(fleet: Fleet, org: str, body: Any, request: Request) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    try:
        body = _object(body, '"tag", "match", "s", "e", "limit"')
        tag = body.get("tag")
        if not isinstance(tag, str) or not tag:
            raise ParamError('invalid parameter "tag": missing')
        sel, limit = _selection(org, body)
    except FletchError as err:
        return _failed(err)

    def produce(cancel: threading.Event) -> Iterable[list[str]]:
        yield metadata.label_values(fleet, sel, tag, cancel.is_set)

    def finish(values: list[str]) -> Iterable[bytes]:
        shown = values[:limit] if limit else values
        for value in shown:
            yield event("result", {"tag": tag, "value": value})
        yield _done(len(shown), len(values), started)

    return _stream(produce, request, _nothing, finish, "tagvalues")


def _nothing(item: Any) -> Iterable[bytes]:
    return ()


def _done(sent: int, total: int, started: float) -> bytes:
    stats: dict[str, Any] = {"results": sent, "seconds": round(time.perf_counter() - started, 6)}
    if sent < total:
        stats["truncated"] = True
    return event("done", {"status": "ok", "stats": stats})


def result_payloads(result: QueryResult) -> list[dict[str, Any]]:
    value = result.value
    times = result.times
    if isinstance(value, Scalar):
        return [{"labels": {}, "timestamps": times.tolist(),
                 "values": [format_float(float(v)) for v in value.values]}]
    if isinstance(value, String):
        return [{"labels": {}, "timestamps": [int(times[0])], "values": [value.value]}]
    assert isinstance(value, Vector)
    payloads = []
    for i in sorted(range(len(value.labels)), key=lambda i: value.labels[i]):
        columns = np.flatnonzero(value.present[i])
        if len(columns):
            payloads.append({"labels": dict(value.labels[i]), "timestamps": times[columns].tolist(),
                             "values": promapi.format_values(value.values[i, columns]).to_pylist()})
    return payloads
