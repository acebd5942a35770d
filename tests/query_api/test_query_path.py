"""The real query path (catalog -> time groups -> Flight workers -> merge -> evaluation) against
the evaluator fed straight from the same samples: answers must agree to 1e-9 relative."""

from __future__ import annotations

import numpy as np
import pytest

from planner.errors import WorkerUnavailable
from planner.parse import parse
from planner.plan import Evaluation
from query_api.engine.evaluator import Context, evaluate
from query_api.engine.memory import MemorySource
from query_api.evaluate import evaluate_query
from tests.query_api.fleet import ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000

QUERIES = [
    "reqs_total", 'reqs_total{job="a", instance=~"1|2"}', "rate(reqs_total[5m])",
    "sum by (job) (rate(reqs_total[5m]))", "increase(reqs_total[1h])", "max_over_time(temp[5m])",
    "min_over_time(temp[7m])", "avg_over_time(temp[10m])", "sum_over_time(temp[3m])",
    "count_over_time(temp[5m])", "irate(reqs_total[1m])", "idelta(temp[2m])", "delta(temp[5m])",
    "changes(temp[10m])", "resets(reqs_total[30m])", "last_over_time(temp[1m])",
    "stddev_over_time(temp[10m])", "quantile_over_time(0.9, temp[10m])", "deriv(temp[10m])",
    "predict_linear(temp[10m], 600)", "temp offset 10m", "rate(reqs_total[5m] offset 7m)",
    f"temp @ {(T0 + HOUR) // 1000}", "max_over_time(rate(reqs_total[2m])[10m:1m])",
    "sum(temp) / count(temp)", "temp > 105", "timestamp(temp)", "sum without (instance) (temp)",
]
EVALUATIONS = {
    "aligned": Evaluation.range(T0 + HOUR, T0 + 5 * HOUR, 60_000),
    "unaligned": Evaluation.range(T0 + HOUR // 2, T0 + 5 * HOUR + 7000, 37_000),
    "instant": Evaluation.instant(T0 + 2 * HOUR + 12_345),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    rng = np.random.default_rng(1)
    fleet = LocalFleet(tmp_path_factory.mktemp("fleet")).start(2)
    memory = MemorySource()
    series, stamps, values = [], [], []
    for job in ("a", "b"):
        for instance in range(3):
            ts = T0 + np.arange(0, 6 * HOUR, 15_000) + rng.integers(0, 1000, size=1440)
            counter = np.cumsum(rng.integers(0, 10, size=1440)).astype(float)
            counter[700:] -= counter[699]  # a counter reset
            gauge = rng.normal(100, 10, size=1440)
            for name, v in (("reqs_total", counter), ("temp", gauge)):
                labels = {"__name__": name, "job": job, "instance": str(instance)}
                series.append(labels)
                stamps.append(ts)
                values.append(v)
                memory.add(labels, ts, v)
    fleet.load(series, stamps, values)
    yield fleet, memory
    fleet.stop()


def by_labels(vector):
    return {labels: (vector.values[i], vector.present[i]) for i, labels in enumerate(vector.labels)}


@pytest.mark.parametrize("evaluation", EVALUATIONS.values(), ids=EVALUATIONS.keys())
@pytest.mark.parametrize("query", QUERIES)
def test_workers_agree_with_direct_evaluation(world, query, evaluation):
    fleet, memory = world
    result = evaluate_query(fleet.fleet, ORG, query, evaluation)
    times = np.arange(evaluation.start, evaluation.end + 1, evaluation.step or 1)
    expected = evaluate(parse(query), Context(times, evaluation.start, evaluation.end, 300_000, memory))
    ours, theirs = by_labels(result.value), by_labels(expected)
    assert set(ours) == set(theirs)
    assert ours, "every query here has data"
    for labels, (values, present) in theirs.items():
        np.testing.assert_array_equal(ours[labels][1], present)
        np.testing.assert_allclose(ours[labels][0][present], values[present], rtol=1e-9)
    assert result.stats.segments > 0


def test_other_orgs_see_nothing(world):
    fleet, _ = world
    result = evaluate_query(fleet.fleet, "someone-else", "temp", EVALUATIONS["instant"])
    assert result.value.labels == []


def test_a_dead_worker_is_retried_on_the_next_in_ranking(tmp_path):
    fleet = LocalFleet(tmp_path).start(3)
    try:
        ts = T0 + np.arange(0, 4 * HOUR, 30_000)
        fleet.load([{"__name__": "m", "job": "x"}], [ts], [np.arange(len(ts), dtype=float)])
        evaluation = Evaluation.range(T0 + HOUR, T0 + 4 * HOUR, 60_000)
        before = evaluate_query(fleet.fleet, ORG, "sum_over_time(m[10m])", evaluation)
        dead = fleet.workers[0]
        dead.shutdown()  # still listed in membership: the fan-out must notice and retry
        after = evaluate_query(fleet.fleet, ORG, "sum_over_time(m[10m])", evaluation)
        np.testing.assert_array_equal(after.value.values, before.value.values)
        assert after.stats.retries >= 1 or before.stats.segments == after.stats.segments
        for server in fleet.workers[1:]:
            server.shutdown()
        with pytest.raises(WorkerUnavailable, match="no worker could read segment"):
            evaluate_query(fleet.fleet, ORG, "sum_over_time(m[10m])", evaluation)
    finally:
        fleet.workers = []
        fleet.stop()
