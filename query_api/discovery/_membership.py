"""Membership snapshots: what every discovery publishes and every query reads once.

A `Membership` is immutable. A discovery builds a new one and swaps it into its `Snapshots`
holder with a single attribute assignment (atomic under the GIL), so a reader sees either the
old or the new membership, never a mix. `Snapshots.wait_for` lets tests and startup wait until
the view satisfies a condition.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Member:
    """One worker as discovery sees it. A draining worker gets no new work."""

    location: str
    draining: bool = False
    source: str = ""          # where it came from: znode name, pod/endpoint name, task ARN


@dataclass(frozen=True, slots=True)
class Membership:
    members: tuple[Member, ...] = ()
    version: int = 0
    updated_at: float = field(default_factory=time.time)

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(m.location for m in self.members)

    @property
    def active(self) -> tuple[str, ...]:
        """Locations that may get new work (not draining), sorted."""
        return tuple(m.location for m in self.members if not m.draining)


class Snapshots:
    """Holds the current `Membership`; `publish` swaps it atomically."""

    def __init__(self) -> None:
        self._current = Membership()
        self._changed = threading.Condition()

    def current(self) -> Membership:
        return self._current

    def publish(self, members: Iterable[Member]) -> Membership:
        """Publishes `members` (deduplicated by location, sorted) when they differ from now."""
        unique: dict[str, Member] = {}
        for member in members:
            # The same location twice (a re-registration racing its old node): draining wins.
            seen = unique.get(member.location)
            unique[member.location] = member if seen is None or member.draining else seen
        ordered = tuple(sorted(unique.values(), key=lambda m: m.location))
        with self._changed:
            if ordered == self._current.members:
                return self._current
            self._current = Membership(ordered, self._current.version + 1)
            self._changed.notify_all()
            return self._current

    def wait_for(self, condition: Callable[[Membership], bool], timeout: float) -> Membership:
        """The first membership meeting `condition`; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self._current):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"membership did not reach the expected state within {timeout}s; "
                                       f"now {self._current.locations}")
                self._changed.wait(left)
            return self._current


class Discovery(Protocol):
    """A source of membership. `start` begins following it; `close` stops every thread."""

    name: str
    snapshots: Snapshots

    def start(self) -> None: ...

    def close(self) -> None: ...
