"""Chaos: three `fletch worker` processes under ZooKeeper, a stream of queries, one worker killed
(SIGKILL: it stays registered until its session times out) and one added while queries run.

Every answer must equal the stable fleet's answer exactly, or the query must fail with a
FletchError; a wrong or partial answer fails the test. The counts go to stdout and to
`chaos-result.json` in the test's scratch directory.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from fletch.fleet import build_fleet, close_fleet
from planner.errors import FletchError
from planner.plan import Evaluation
from query_api.evaluate import evaluate_query
from tests.discovery.stack import HOUR, ORG, T0, Stack

QUERIES = ["sum by (job) (rate(reqs_total[5m]))", "max_over_time(temp[10m])", "count(temp)",
           "avg by (instance) (temp)"]
EVALUATION = Evaluation.range(T0 + HOUR, T0 + 6 * HOUR, 60_000, 300_000)


def answer(fleet, query: str) -> tuple[list[tuple], np.ndarray]:
    value = evaluate_query(fleet, ORG, query, EVALUATION).value
    order = sorted(range(len(value.labels)), key=lambda i: sorted(dict(value.labels[i]).items()))
    return [tuple(sorted(dict(value.labels[i]).items())) for i in order], value.values[order]


def same(a: tuple[list[tuple], np.ndarray], b: tuple[list[tuple], np.ndarray]) -> bool:
    return a[0] == b[0] and a[1].shape == b[1].shape and np.array_equal(a[1], b[1], equal_nan=True)


@pytest.fixture
def stack(zookeeper, tmp_path):
    found = Stack(tmp_path, zookeeper.hosts)
    found.load()
    yield found
    found.stop()


def test_kill_and_add_workers_under_a_query_stream(stack, tmp_path):
    workers = [stack.start_worker() for _ in range(3)]
    fleet = build_fleet(stack.config())
    view = fleet.workers
    try:
        view.discovery.snapshots.wait_for(lambda m: len(m.locations) == 3, 10)
        baseline = {q: answer(fleet, q) for q in QUERIES}
        counts = {"ok": 0, "failed": 0, "wrong": 0}
        errors: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            i = 0
            while not stop.is_set():
                query = QUERIES[i % len(QUERIES)]
                i += 1
                try:
                    got = answer(fleet, query)
                except FletchError as err:
                    counts["failed"] += 1
                    errors.append(f"{type(err).__name__}: {err}")
                    continue
                counts["ok" if same(got, baseline[query]) else "wrong"] += 1

        threads = [threading.Thread(target=stream) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        victim = workers[1]
        stack.kill(victim)
        killed_at = sum(counts.values())
        added = stack.start_worker()
        view.discovery.snapshots.wait_for(
            lambda m: added.location in m.locations and victim.location not in m.locations, 10)
        time.sleep(2.0)
        stop.set()
        for thread in threads:
            thread.join(60)
        result = {**counts, "total": sum(counts.values()), "queries_before_kill": killed_at,
                  "victim_failures": view.health.get(victim.location).failures,
                  "added_successes": view.health.get(added.location).successes, "errors": errors[:5]}
        (tmp_path / "chaos-result.json").write_text(json.dumps(result, indent=2))
        print(f"chaos: {json.dumps(result)}")
        assert counts["wrong"] == 0, result
        assert counts["ok"] > killed_at and counts["ok"] >= 10, result
        assert result["added_successes"] > 0, result   # the new worker took work
    finally:
        close_fleet(fleet)
        fleet.catalog.close()
