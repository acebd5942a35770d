"""Pushdown of one leaf's time group to the workers: placement, signed tickets, DoGet, retries.

Segments go to workers by rendezvous hashing on (org, segment_id); one ticket per worker. When a
worker fails (dead connection, error status), the segments it held are re-sent to the next
worker in each segment's ranking, skipping workers that already failed for this query. When no
worker is left the query fails: a partial answer is never returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.flight as fl

from lake.segments import SegmentRecord
from planner import tickets
from planner.errors import QueryCanceled, QueryError, WorkerFailed, WorkerUnavailable
from planner.placement import rank_workers

log = logging.getLogger(__name__)
TICKET_TTL_MS = 10 * 60_000


@dataclass
class Pushdown:
    """Everything a ticket for one (leaf, group) needs, except the segments."""

    org: str
    template: str
    leaf: int
    matchers: tuple[tickets.Matcher, ...]
    window: tuple[int, int]
    edges: tuple[int, ...]
    query_id: str = ""
    label: str = ""  # for `label_values`
    fields: tuple[str, ...] = ()  # partials: the fields the leaf's function reads (empty: all)


@dataclass
class FetchStats:
    segments: int = 0
    bytes: int = 0
    rows: int = 0
    retries: int = 0
    failed_workers: set[str] = field(default_factory=set)


class WorkerClients:
    """One Flight client per worker location, reused across queries."""

    def __init__(self, timeout_s: float = 300.0) -> None:
        self._clients: dict[str, fl.FlightClient] = {}
        self.timeout_s = timeout_s

    def get(self, location: str) -> fl.FlightClient:
        client = self._clients.get(location)
        if client is None:
            client = self._clients[location] = fl.FlightClient(location)
        return client

    def outcome(self, location: str, error: str | None) -> None:
        """Called after every DoGet with its error (None: success); a hook for health tracking."""

    def drop(self, location: str) -> None:
        client = self._clients.pop(location, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        for location in list(self._clients):
            self.drop(location)


def fetch_group(push: Pushdown, segments: Sequence[SegmentRecord], workers: Sequence[str], key: str,
                clients: WorkerClients, pool: ThreadPoolExecutor, stats: FetchStats,
                cancelled: Callable[[], bool] = lambda: False) -> list[pa.Table]:
    """All rows of one (leaf, group), from as many tickets as workers hold its segments."""
    if not workers:
        raise WorkerUnavailable("no workers are available")
    pending = {s.segment_id: s for s in segments}
    results: list[pa.Table] = []
    failed: set[str] = set(stats.failed_workers)
    while pending:
        if cancelled():
            raise QueryCanceled("query was cancelled")
        placement: dict[str, list[SegmentRecord]] = {}
        for segment in pending.values():
            ranking = [w for w in rank_workers(push.org, segment.segment_id, workers) if w not in failed]
            if not ranking:
                raise WorkerUnavailable(f"no worker could read segment {segment.segment_id}; "
                                        f"failed workers: {', '.join(sorted(failed))}")
            placement.setdefault(ranking[0], []).append(segment)
        futures = {worker: pool.submit(_do_get, push, held, worker, key, clients, cancelled)
                   for worker, held in placement.items()}
        for worker, future in futures.items():
            try:
                table = future.result()
            except _WorkerError as err:
                log.warning("worker %s failed for leaf %s: %s", worker, push.leaf, err)
                clients.outcome(worker, str(err))
                failed.add(worker)
                stats.failed_workers.add(worker)
                stats.retries += 1
                clients.drop(worker)
                continue
            clients.outcome(worker, None)
            results.append(table)
            stats.rows += table.num_rows
            for segment in placement[worker]:
                stats.segments += 1
                stats.bytes += segment.file_size
                pending.pop(segment.segment_id, None)
    return results


class _WorkerError(Exception):
    pass


def _do_get(push: Pushdown, segments: list[SegmentRecord], worker: str, key: str,
            clients: WorkerClients, cancelled: Callable[[], bool] = lambda: False) -> pa.Table:
    """One DoGet, read batch by batch; a cancelled query cancels the stream at the next batch."""
    ticket = tickets.Ticket(
        template=push.template, org=push.org, leaf=push.leaf, matchers=push.matchers,
        segments=tuple(tickets.SegmentRef.from_record(s) for s in segments), window=push.window,
        edges=push.edges, label=push.label, fields=push.fields,
        expires_at=int(time.time() * 1000) + TICKET_TTL_MS,
        query_id=push.query_id)
    payload = tickets.encode(ticket, key)
    options = fl.FlightCallOptions(timeout=clients.timeout_s)
    try:
        reader = clients.get(worker).do_get(fl.Ticket(payload), options)
        batches = []
        while True:
            if cancelled():
                reader.cancel()
                raise QueryCanceled("query was cancelled")
            try:
                chunk = reader.read_chunk()
            except StopIteration:
                break
            batches.append(chunk.data)
        return pa.Table.from_batches(batches, schema=reader.schema)
    except fl.FlightUnauthenticatedError as err:
        raise WorkerFailed(f"worker {worker} refused the ticket: {_short(err)}") from None
    except fl.FlightServerError as err:
        if b"INVALID_ARGUMENT" in (err.extra_info or b""):  # the request is bad, not the worker
            raise QueryError(_short(err).split(". Detail")[0]) from None
        raise _WorkerError(_short(err)) from None
    except (fl.FlightError, OSError, pa.ArrowException) as err:
        raise _WorkerError(_short(err)) from None
    except KeyboardInterrupt as err:  # pyarrow surfaces CANCELLED inside reads this way
        if cancelled():
            raise QueryCanceled("query was cancelled") from None
        raise _WorkerError("stream cancelled") from err


def _short(err: BaseException) -> str:
    return str(err).splitlines()[0][:300] if str(err) else type(err).__name__
