"""Answers do not depend on how work was spread: same query, same data -> same answer, whatever
the number of workers, time groups or the order in which their streams finish."""

from __future__ import annotations

import time

import numpy as np
import pytest

import query_api.evaluate as evaluate_module
from planner.plan import Evaluation
from query_api.evaluate import evaluate_query
from tests.query_api.fleet import ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000
QUERIES = ["sum by (job) (rate(c_total[5m]))", "max_over_time(g[7m])", "avg_over_time(g[13m])",
           "increase(c_total[1h])", "g", "stddev_over_time(g[10m])", "changes(g[30m])"]
EVALUATION = Evaluation.range(T0 + HOUR, T0 + 5 * HOUR, 45_000)


def load(fleet: LocalFleet) -> None:
    rng = np.random.default_rng(7)
    series, stamps, values = [], [], []
    for i in range(12):
        ts = T0 + np.arange(0, 6 * HOUR, 10_000) + rng.integers(0, 500, size=2160)
        series += [{"__name__": "c_total", "job": f"j{i % 3}", "i": str(i)},
                   {"__name__": "g", "job": f"j{i % 3}", "i": str(i)}]
        stamps += [ts, ts]
        values += [np.cumsum(rng.integers(0, 5, size=2160)).astype(float), rng.normal(0, 1e3, size=2160)]
    fleet.load(series, stamps, values)


@pytest.fixture(scope="module")
def fleets(tmp_path_factory):
    made = []
    for workers in (1, 3):
        fleet = LocalFleet(tmp_path_factory.mktemp(f"w{workers}")).start(workers)
        load(fleet)
        made.append(fleet)
    yield made
    for fleet in made:
        fleet.stop()


def answer(fleet: LocalFleet, query: str) -> dict:
    value = evaluate_query(fleet.fleet, ORG, query, EVALUATION).value
    return {labels: np.where(value.present[i], value.values[i], np.nan)
            for i, labels in enumerate(value.labels)}


@pytest.mark.parametrize("query", QUERIES)
def test_repeated_runs_are_identical(fleets, query) -> None:
    first, second = answer(fleets[1], query), answer(fleets[1], query)
    assert first.keys() == second.keys()
    for labels in first:
        np.testing.assert_array_equal(first[labels], second[labels])


@pytest.mark.parametrize("query", QUERIES)
def test_one_worker_and_three_agree(fleets, query) -> None:
    one, three = answer(fleets[0], query), answer(fleets[1], query)
    assert one.keys() == three.keys() and one
    for labels in one:
        np.testing.assert_allclose(one[labels], three[labels], rtol=1e-12, equal_nan=True)


def test_groups_are_consumed_in_index_order(fleets, monkeypatch) -> None:
    """Streams finishing in reverse order still reach evaluation in chronological order."""
    real_fetch = evaluate_module.fetch_group
    seen: list[list[int]] = []

    def slow_first(push, *args, **kwargs):
        time.sleep(0.3 if push.window[0] < T0 + 2 * HOUR else 0.0)  # early groups finish last
        tables = real_fetch(push, *args, **kwargs)
        return [t.replace_schema_metadata({"window_start": str(push.window[0])}) for t in tables]

    def record(tables, *args):
        seen.append([int(t.schema.metadata[b"window_start"]) for t in tables if t.schema.metadata])
        return real_rows(tables, *args)

    real_rows = evaluate_module.partial_rows
    monkeypatch.setattr(evaluate_module, "fetch_group", slow_first)
    monkeypatch.setattr(evaluate_module, "partial_rows", record)
    evaluate_query(fleets[1].fleet, ORG, "max_over_time(g[7m])", EVALUATION)
    assert seen and len({w for call in seen for w in call}) > 1
    assert all(call == sorted(call) for call in seen)  # each block sees its groups in order




def test_leaves_reading_the_same_buckets_share_one_read(fleets, monkeypatch) -> None:
    real_fetch = evaluate_module.fetch_group
    calls: list[tuple[str, ...]] = []

    def counting(push, *args, **kwargs):
        calls.append(push.fields)
        return real_fetch(push, *args, **kwargs)

    monkeypatch.setattr(evaluate_module, "fetch_group", counting)
    evaluate_query(fleets[1].fleet, ORG, "max_over_time(g[5m])", EVALUATION)
    alone = len(calls)
    calls.clear()
    shared = evaluate_query(fleets[1].fleet, ORG, "max_over_time(g[5m]) - g", EVALUATION)
    assert len(calls) == alone  # one read serves both leaves (5m range = 5m lookback)
    assert {"max", "last_value"} <= set(calls[0])
    monkeypatch.setattr(evaluate_module, "fetch_group", real_fetch)
    separate = evaluate_query(fleets[0].fleet, ORG, "max_over_time(g[5m]) - g", EVALUATION)
    assert shared.value.labels == separate.value.labels
    np.testing.assert_allclose(shared.value.values[shared.value.present],
                               separate.value.values[separate.value.present], rtol=1e-12)
