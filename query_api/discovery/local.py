"""`local` discovery: a static list of worker locations (conf `workers`, or what `fletch up` started)."""

from __future__ import annotations

from collections.abc import Iterable

from query_api.discovery._membership import Member, Snapshots


class LocalDiscovery:
    name = "local"

    def __init__(self, locations: Iterable[str]) -> None:
        self.snapshots = Snapshots()
        self.snapshots.publish(Member(location, source="static") for location in locations)

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None
