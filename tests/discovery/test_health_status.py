"""Health from call outcomes, the worker view, and `GET /api/v1/status/workers`, on real workers."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from planner.placement import rank_workers
from planner.plan import Evaluation
from query_api.app import create_app
from query_api.discovery import (
    HealthTracker,
    HealthTrackingClients,
    LocalDiscovery,
    Member,
    Snapshots,
    WorkerView,
)
from query_api.evaluate import Fleet, evaluate_query
from tests.query_api.fleet import KEY, ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failed_worker_cools_down_then_comes_back():
    clock = Clock()
    health = HealthTracker(cooldown_s=5, clock=clock)
    view = WorkerView(LocalDiscovery(["grpc://a:1", "grpc://b:1"]), health)
    health.record("grpc://a:1", "connection refused")
    assert view() == ("grpc://b:1",)
    clock.now += 4.9
    assert view() == ("grpc://b:1",)
    clock.now += 0.2
    assert view() == ("grpc://a:1", "grpc://b:1")
    health.record("grpc://a:1", None)
    assert health.get("grpc://a:1").consecutive_failures == 0 and health.get("grpc://a:1").failures == 1


def test_when_every_worker_cools_down_all_are_tried():
    health = HealthTracker(cooldown_s=60)
    view = WorkerView(LocalDiscovery(["grpc://a:1", "grpc://b:1"]), health)
    health.record("grpc://a:1", "x")
    health.record("grpc://b:1", "y")
    assert view() == ("grpc://a:1", "grpc://b:1")


def test_draining_members_get_no_new_work_and_duplicates_collapse():
    snapshots = Snapshots()
    snapshots.publish([Member("grpc://a:1"), Member("grpc://b:1", draining=True),
                       Member("grpc://a:1", source="again")])
    current = snapshots.current()
    assert current.locations == ("grpc://a:1", "grpc://b:1") and current.active == ("grpc://a:1",)
    assert snapshots.publish(list(current.members)) is current  # no change, no new version


@pytest.fixture
def fleet(tmp_path):
    local = LocalFleet(tmp_path).start(2)
    ts = T0 + np.arange(0, 2 * HOUR, 15_000)
    local.load([{"__name__": "up", "job": "a"}], [ts], [np.ones(len(ts))])
    health = HealthTracker(cooldown_s=30)
    # A closed port that is the first choice of at least one segment (the live ports vary).
    segments = [s.segment_id for s in local.catalog.find_segments(ORG, 0, 2**62, None)]
    local.dead = next(dead for dead in (f"grpc://127.0.0.1:{p}" for p in range(1, 100))
                      if any(rank_workers(ORG, s, [*local.locations(), dead])[0] == dead for s in segments))
    view = WorkerView(LocalDiscovery([*local.locations(), local.dead]), health)
    local.fleet = Fleet(catalog=local.catalog, workers=view, ticket_key=KEY,
                        clients=HealthTrackingClients(health, timeout_s=10))
    yield local
    local.stop()


def test_failures_steer_later_queries_and_show_in_status(fleet):
    evaluation = Evaluation.range(T0 + HOUR, T0 + 2 * HOUR, 60_000, 300_000)
    dead = fleet.dead
    # The first query (one snapshot, groups in parallel) meets the dead worker and retries
    # elsewhere; later queries skip it while it cools down.
    results = [evaluate_query(fleet.fleet, ORG, "sum(up)", evaluation)]
    failures = fleet.fleet.workers.health.get(dead).failures
    assert failures >= 1 and results[0].stats.retries == failures
    results += [evaluate_query(fleet.fleet, ORG, "sum(up)", evaluation) for _ in range(2)]
    assert fleet.fleet.workers.health.get(dead).failures == failures
    assert results[1].stats.retries == results[2].stats.retries == 0
    assert all(np.all(r.value.values == 1) for r in results)
    assert dead not in fleet.fleet.workers()
    app = create_app(fleet.fleet, ORG)

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            return await client.get("/api/v1/status/workers")

    import asyncio
    body = asyncio.run(fetch()).json()
    assert body["status"] == "success" and body["data"]["discovery"] == "local"
    states = {w["location"]: w for w in body["data"]["workers"]}
    assert set(states) == {*fleet.locations(), dead}
    assert states[dead]["state"] == "cooling_down" and states[dead]["health"]["failures"] == failures
    assert "Connection refused" in states[dead]["health"]["last_error"]
    assert sum(s["health"]["successes"] for s in states.values()) >= 3
    assert all(states[w]["state"] == "active" for w in fleet.locations())
