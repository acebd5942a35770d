"""The Flight gateway: PromQL results as Arrow over plain Flight and over Flight SQL (ADBC).

Plain `pyarrow.flight`: a JSON command, as a descriptor command (`get_flight_info`, then
`do_get` of the endpoint's ticket) or directly as the `do_get` ticket::

    {"query": "<PromQL>", "start": ..., "end": ..., "step": ...}   range
    {"query": "<PromQL>", "time": ...}                              instant (absent: now)
    optional "labels": "columns" (default) | "map"

Times are epoch seconds (numbers or strings) or RFC 3339; steps are seconds or a Prometheus
duration. Flight SQL: `CommandStatementQuery` with the statements of `flightsql.py`. The result
table is described in `flight_results.py`. The tenant is the `x-scope-orgid` header (default:
the configured org), as on the HTTP API.

A query is evaluated when its FlightInfo is asked for (the schema depends on the result's labels
and must equal the stream's, which ADBC checks); the table waits under a one-use handle for
`RESULT_TTL_S` and is streamed by `do_get`. Everything else (GetSqlInfo, prepared statements,
sessions, DoPut, DoExchange, actions) is UNIMPLEMENTED.

Errors: bad requests and PromQL errors are `FlightServerError` whose `extra_info` is the JSON
`{"errorType": ..., "error": ...}` of the HTTP API; `unavailable`/`timeout`/`canceled`/`internal`
map to the Flight status of the same meaning. Tracebacks never reach clients.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pyarrow as pa
import pyarrow.flight as fl

from planner.errors import FletchError, ParseError
from planner.plan import Evaluation
from query_api import flight_results, flightsql
from query_api.auth import FlightAuth, GatewayMiddleware, GatewayMiddlewareFactory, NoopAuthHandler
from query_api.evaluate import Fleet, evaluate_query
from query_api.params import ParamError, check_range, parse_step, parse_time

log = logging.getLogger(__name__)
RESULT_TTL_S = 300.0
MAX_PENDING_RESULTS = 64
HANDLE_PREFIX = b"fletch-result:"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ResultRequest:
    query: str
    start: int | None = None
    end: int | None = None
    step: int | None = None
    time: int | None = None
    labels: flight_results.LabelLayout = "columns"

    def evaluation(self, lookback_ms: int) -> Evaluation:
        if self.start is not None and self.end is not None and self.step is not None:
            check_range(self.start, self.end, self.step)
            return Evaluation.range(self.start, self.end, self.step, lookback_ms)
        at = self.time if self.time is not None else time.time_ns() // 1_000_000
        return Evaluation.instant(at, lookback_ms)


def parse_command(data: bytes) -> ResultRequest:
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ParamError('the command must be JSON: {"query", "start", "end", "step"} '
                         'or {"query", "time"}') from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ParamError('the command must be a JSON object with a "query" string')
    unknown = set(body) - {"query", "start", "end", "step", "time", "labels"}
    if unknown:
        raise ParamError(f"unknown command field(s): {', '.join(sorted(unknown))}")
    labels = body.get("labels", "columns")
    if labels not in ("columns", "map"):
        raise ParamError('"labels" is "columns" or "map"')
    return _request(body["query"], body.get("start"), body.get("end"), body.get("step"), body.get("time"),
                    labels)


def _request(query: str, start: Any, end: Any, step: Any, at: Any,
             labels: flight_results.LabelLayout = "columns") -> ResultRequest:
    ranged = [v is not None for v in (start, end, step)]
    if any(ranged) and not all(ranged):
        raise ParamError("a range query needs start, end and step")
    if all(ranged):
        return ResultRequest(query, parse_time(str(start), "start"), parse_time(str(end), "end"),
                             parse_step(str(step), "step"), labels=labels)
    return ResultRequest(query, time=None if at is None else parse_time(str(at), "time"), labels=labels)


def _guard(method: F) -> F:
    """One error boundary: domain errors become Flight statuses; nothing leaks a traceback."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (fl.FlightError, NotImplementedError):
            raise
        except flightsql.StatementError as err:
            raise _flight_error("bad_data", str(err)) from None
        except FletchError as err:
            raise _flight_error(err.error_type, str(err)) from None
        except Exception:
            log.exception("gateway call failed")
            raise fl.FlightInternalError("internal error; see the API log") from None
    return cast(F, wrapper)


_FLIGHT_ERRORS: dict[str, type[fl.FlightError]] = {
    "unavailable": fl.FlightUnavailableError, "timeout": fl.FlightTimedOutError,
    "canceled": fl.FlightCancelledError, "internal": fl.FlightInternalError}


def _flight_error(error_type: str, message: str) -> fl.FlightError:
    detail = json.dumps({"errorType": error_type, "error": message}).encode()
    return _FLIGHT_ERRORS.get(error_type, fl.FlightServerError)(message, detail)


@dataclass
class _Pending:
    """Evaluated tables waiting for their DoGet, each fetched at most once."""

    tables: OrderedDict[bytes, tuple[float, pa.Table]] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, table: pa.Table) -> bytes:
        handle = secrets.token_hex(16).encode()
        now = time.monotonic()
        with self.lock:
            for key, (born, _) in list(self.tables.items()):
                if now - born > RESULT_TTL_S or len(self.tables) >= MAX_PENDING_RESULTS:
                    del self.tables[key]
            self.tables[handle] = (now, table)
        return handle

    def take(self, handle: bytes) -> pa.Table:
        with self.lock:
            entry = self.tables.pop(handle, None)
        if entry is None or time.monotonic() - entry[0] > RESULT_TTL_S:
            raise fl.FlightServerError("unknown or expired result ticket; ask for the FlightInfo again",
                                       json.dumps({"errorType": "not_found"}).encode())
        return entry[1]


class FlightGateway(fl.FlightServerBase):
    def __init__(self, location: str, fleet: Fleet, default_org: str = "default",
                 auth: FlightAuth | None = None,
                 tls_certificates: list[fl.CertKeyPair] | None = None) -> None:
        super().__init__(location, auth_handler=NoopAuthHandler(), tls_certificates=tls_certificates or [],
                         middleware={"fletch": GatewayMiddlewareFactory(auth, default_org)})
        self.fleet = fleet
        self.pending = _Pending()
        scheme = "grpc+tls" if tls_certificates else "grpc"
        host = location.split("://", 1)[-1].rsplit(":", 1)[0]
        self.location = f"{scheme}://{host}:{self.port}"

    @_guard
    def get_flight_info(self, context: fl.ServerCallContext,
                        descriptor: fl.FlightDescriptor) -> fl.FlightInfo:
        request, sql = self._describe(descriptor)
        table = self._evaluate(context, request)
        handle = self.pending.put(table)
        ticket = (flightsql.pack_any("TicketStatementQuery", flightsql.field_bytes(1, handle)) if sql
                  else HANDLE_PREFIX + handle)
        endpoint = fl.FlightEndpoint(ticket, [])
        return fl.FlightInfo(table.schema, descriptor, [endpoint], table.num_rows, table.nbytes)

    @_guard
    def get_schema(self, context: fl.ServerCallContext, descriptor: fl.FlightDescriptor) -> fl.SchemaResult:
        raise NotImplementedError("GetSchema: ask for the FlightInfo (it carries the schema)")

    @_guard
    def do_get(self, context: fl.ServerCallContext, ticket: fl.Ticket) -> fl.FlightDataStream:
        data = ticket.ticket
        if data.startswith(HANDLE_PREFIX):
            table = self.pending.take(data.removeprefix(HANDLE_PREFIX))
        elif (wrapped := flightsql.unpack_any(data)) is not None:
            if wrapped[0] != "TicketStatementQuery":
                raise NotImplementedError(f"Flight SQL ticket {wrapped[0]}")
            table = self.pending.take(flightsql.first_bytes(wrapped[1]))
        else:
            table = self._evaluate(context, parse_command(data))
        return fl.GeneratorStream(table.schema, _stream(table, context))

    def do_action(self, context: fl.ServerCallContext, action: fl.Action) -> Iterator[bytes]:
        raise NotImplementedError(f"action {action.type[:100]!r}")

    def list_actions(self, context: fl.ServerCallContext) -> list[tuple[str, str]]:
        return []

    def list_flights(self, context: fl.ServerCallContext, criteria: bytes) -> Iterator[fl.FlightInfo]:
        return iter(())

    def _describe(self, descriptor: fl.FlightDescriptor) -> tuple[ResultRequest, bool]:
        if descriptor.descriptor_type != fl.DescriptorType.CMD:
            raise NotImplementedError("path descriptors: send a command")
        wrapped = flightsql.unpack_any(descriptor.command)
        if wrapped is None:
            return parse_command(descriptor.command), False
        name, payload = wrapped
        if name != "CommandStatementQuery":
            raise NotImplementedError(f"Flight SQL {name}")
        statement = flightsql.parse_statement(flightsql.first_bytes(payload).decode())
        return _request(statement.expr, statement.start, statement.end, statement.step, statement.time), True

    def _evaluate(self, context: fl.ServerCallContext, request: ResultRequest) -> pa.Table:
        middleware = cast(GatewayMiddleware | None, context.get_middleware("fletch"))
        org = middleware.org if middleware is not None else "default"
        evaluation = request.evaluation(self.fleet.lookback_ms)
        if not request.query.strip():
            raise ParamError('invalid parameter "query": 1:1: parse error: no expression found in input')
        try:
            result = evaluate_query(self.fleet, org, request.query, evaluation, context.is_cancelled)
        except ParseError as err:
            raise ParamError(f'invalid parameter "query": {err}') from None
        return flight_results.result_table(result.value, result.times, request.step is None, request.labels)


def _stream(table: pa.Table, context: fl.ServerCallContext) -> Iterator[pa.RecordBatch]:
    for batch in flight_results.batches(table):
        if context.is_cancelled():
            return
        yield batch
