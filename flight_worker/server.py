"""The Arrow Flight server of a worker: thin handlers over `execute.run_fragment`.

* DoGet takes a signed ticket (`planner.tickets`); the signature is the API's credential.
* Every other call needs `authorization: Bearer <token>` when the worker has an `auth_token`
  (for operators and tools that are not the API); DoGet accepts the header too but does not
  need it.
* Actions: `health` and `cache-stats`, each answering one JSON document.
* Other RPCs (ListFlights, GetFlightInfo, GetSchema, DoPut, DoExchange) are the base class's,
  which answer UNIMPLEMENTED.

One error boundary (`to_flight_error`) maps exceptions to Flight statuses with short messages:
bad signature or expiry -> UNAUTHENTICATED; a well-signed ticket this worker cannot run (version,
template, fields, bad regex) -> INVALID_ARGUMENT (through `status.failing_stream`, the only way
pyarrow sends that code without a traceback); unreadable data -> UNAVAILABLE; cancellation ->
CANCELLED; anything else -> INTERNAL "internal error (ref …)" with the traceback in the log only.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pyarrow as pa
import pyarrow.flight as fl

from flight_worker import status
from flight_worker.errors import BadRequest, Cancelled, DataUnavailable
from flight_worker.execute import Engine, run_fragment
from planner.tickets import TicketInvalid, TicketUnauthenticated, decode

log = logging.getLogger("fletch.worker")

ACTIONS = {
    "health": "Liveness: {\"status\": \"ok\", ...}",
    "cache-stats": "Segment cache counters as JSON",
}


class BearerAuthFactory(fl.ServerMiddlewareFactory):
    """Requires `authorization: Bearer <token>` on every call except DoGet."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def start_call(self, info: fl.CallInfo, headers: dict[str, list[str]]) -> None:
        if info.method == fl.FlightMethod.DO_GET:
            return None
        values = headers.get("authorization") or []
        scheme, _, value = (values[0] if values else "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), self._token):
            raise fl.FlightUnauthenticatedError("a valid bearer token is required")
        return None


class WorkerServer(fl.FlightServerBase):
    def __init__(self, location: str, engine: Engine, ticket_key: str, *, auth_token: str = "",
                 tls_certificates: list[fl.CertKeyPair] | None = None) -> None:
        if not ticket_key:
            raise ValueError("a worker needs a ticket_key")
        middleware = {"auth": BearerAuthFactory(auth_token)} if auth_token else None
        super().__init__(location, tls_certificates=tls_certificates or [], middleware=middleware)
        self.engine = engine
        self.ticket_key = ticket_key
        self.started = time.time()
        self.location = location.rsplit(":", 1)[0] + f":{self.port}"

    def do_get(self, context: fl.ServerCallContext, ticket: fl.Ticket) -> fl.FlightDataStream:
        try:
            verified = decode(ticket.ticket, self.ticket_key)
            fragment = run_fragment(verified, self.engine, context.is_cancelled)
        except (TicketInvalid, BadRequest) as err:
            return status.failing_stream(status.INVALID_ARGUMENT, str(err))
        except BaseException as err:
            raise to_flight_error(err) from None
        return stream(fragment.schema, fragment.batches, verified.query_id)

    def list_actions(self, context: fl.ServerCallContext) -> list[tuple[str, str]]:
        return list(ACTIONS.items())

    def do_action(self, context: fl.ServerCallContext, action: fl.Action) -> Iterator[bytes]:
        if action.type == "health":
            return iter([_json({"status": "ok", "location": self.location,
                                "uptime_s": round(time.time() - self.started, 3),
                                "open_cursors": self.engine.open_cursors})])
        if action.type == "cache-stats":
            return iter([_json(asdict(self.engine.store.cache.stats()))])
        raise fl.FlightServerError(f"unknown action {action.type[:100]!r}",
                                   b'{"code": "UNIMPLEMENTED"}')


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def stream(schema: pa.Schema, batches: Iterator[pa.RecordBatch], query_id: str = "") -> fl.GeneratorStream:
    """The worker's DoGet stream of `batches`, each sent as a one-batch reader (GeneratorStream
    sends dictionaries only for readers). Python is called once per batch, so a cancelled call
    stops pulling at once and the generator -- with its file pins and cursor -- is closed
    promptly. (One reader over all batches sends dictionaries once, but a cancelled call then
    leaves the generator suspended until garbage collection: measured, and not worth it.)"""
    return fl.GeneratorStream(schema, _mapped(batches, query_id))


def _mapped(batches: Iterator[pa.RecordBatch], query_id: str) -> Iterator[pa.RecordBatchReader]:
    started, rows = time.monotonic(), 0
    try:
        for batch in batches:
            rows += batch.num_rows
            yield pa.RecordBatchReader.from_batches(batch.schema, [batch])
    except GeneratorExit:
        log.info("doget query=%s closed by the client after %d rows", query_id, rows)
        raise
    except BaseException as err:
        raise to_flight_error(err) from None
    log.debug("doget query=%s rows=%d in %.3fs", query_id, rows, time.monotonic() - started)


def to_flight_error(err: BaseException) -> BaseException:
    """The Flight error a client sees for `err` (never a traceback)."""
    if isinstance(err, fl.FlightError):
        return err
    if isinstance(err, TicketUnauthenticated):
        return fl.FlightUnauthenticatedError(str(err))
    if isinstance(err, (TicketInvalid, BadRequest)):
        return fl.FlightServerError(str(err), b'{"code": "INVALID_ARGUMENT"}')
    if isinstance(err, DataUnavailable):
        return fl.FlightUnavailableError(str(err))
    if isinstance(err, (Cancelled, KeyboardInterrupt)):
        return fl.FlightCancelledError("call cancelled")
    ref = uuid.uuid4().hex[:12]
    log.error("internal error ref=%s", ref, exc_info=err)
    return fl.FlightInternalError(f"internal error (ref {ref})")
