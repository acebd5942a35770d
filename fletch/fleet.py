"""Builds the query API's view of the fleet from the configuration."""

from __future__ import annotations

from fletch.cli import CommandError
from fletch.config import FletchConfig
from fletch.runtime import open_lake
from query_api.evaluate import Fleet


def build_fleet(config: FletchConfig, workers: list[str] | None = None) -> Fleet:
    if not config.ticket_key:
        raise CommandError("ticket_key is not set (FLETCH_TICKET_KEY): the API signs tickets with it")
    if config.discovery != "local":
        raise CommandError(f"discovery {config.discovery!r} is not available in this build; use local")
    members = tuple(workers if workers is not None else config.workers)
    if not members:
        raise CommandError("no workers configured (workers: [grpc://host:port, ...] or FLETCH_WORKERS)")
    catalog, _ = open_lake(config)
    return Fleet(catalog=catalog, workers=lambda: members, ticket_key=config.ticket_key,
                 lookback_ms=config.lookback_delta_ms)
