"""Per-worker health from call outcomes, and the view that queries take their workers from.

`HealthTracker` records each DoGet's outcome (through `HealthTrackingClients`, fanout's client
pool). A worker whose last call failed less than `cooldown_s` ago is *cooling down*: it gets
no new work. `WorkerView` is the `Fleet.workers` callable: one call gives one query its workers,
the discovery snapshot's members that are neither draining nor cooling down. When every active
worker is cooling down, it returns all of them rather than none: a query then tries (and fails
loudly) instead of failing without trying.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from query_api.discovery._membership import Discovery
from query_api.fanout import WorkerClients


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_success: float | None = None   # wall-clock seconds
    last_failure: float | None = None
    last_error: str = ""


class HealthTracker:
    def __init__(self, cooldown_s: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._health: dict[str, WorkerHealth] = {}

    def record(self, location: str, error: str | None) -> None:
        now = self._clock()
        with self._lock:
            old = self._health.get(location, WorkerHealth())
            if error is None:
                new = replace(old, successes=old.successes + 1, consecutive_failures=0, last_success=now)
            else:
                new = replace(old, failures=old.failures + 1, last_failure=now, last_error=error[:300],
                              consecutive_failures=old.consecutive_failures + 1)
            self._health[location] = new

    def cooling_down(self, location: str) -> bool:
        health = self._health.get(location)
        if health is None or health.last_failure is None or health.consecutive_failures == 0:
            return False
        return self._clock() - health.last_failure < self.cooldown_s

    def get(self, location: str) -> WorkerHealth:
        return self._health.get(location, WorkerHealth())

    def forget_except(self, locations: set[str]) -> None:
        """Drops the records of workers that left the membership."""
        with self._lock:
            for location in set(self._health) - locations:
                del self._health[location]


class HealthTrackingClients(WorkerClients):
    """fanout's client pool, reporting every call outcome to a `HealthTracker`."""

    def __init__(self, health: HealthTracker, timeout_s: float = 300.0) -> None:
        super().__init__(timeout_s)
        self.health = health

    def outcome(self, location: str, error: str | None) -> None:
        self.health.record(location, error)


class WorkerView:
    """`Fleet.workers`: the locations one query may use, from one membership snapshot."""

    def __init__(self, discovery: Discovery, health: HealthTracker) -> None:
        self.discovery = discovery
        self.health = health

    def __call__(self) -> tuple[str, ...]:
        active = self.discovery.snapshots.current().active
        healthy = tuple(w for w in active if not self.health.cooling_down(w))
        return healthy or active

    def status(self) -> dict[str, Any]:
        """The membership as `GET /api/v1/status/workers` shows it."""
        membership = self.discovery.snapshots.current()
        self.health.forget_except(set(membership.locations))
        workers = []
        for member in membership.members:
            state = "draining" if member.draining else (
                "cooling_down" if self.health.cooling_down(member.location) else "active")
            workers.append({"location": member.location, "state": state, "source": member.source,
                            "health": asdict(self.health.get(member.location))})
        return {"discovery": self.discovery.name, "version": membership.version,
                "updated_at": membership.updated_at, "workers": workers}
