"""A cancelled query stops its pushdowns: DoGet streams are cancelled and worker cursors freed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from planner.errors import QueryCanceled
from planner.plan import Evaluation
from query_api.evaluate import evaluate_query
from tests.query_api.fleet import ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    local = LocalFleet(tmp_path_factory.mktemp("cancel")).start(1)
    ts = T0 + np.arange(0, 6 * HOUR, 5_000)
    series = [{"__name__": "m", "i": str(i)} for i in range(300)]
    values = [np.random.default_rng(i).normal(size=len(ts)) for i in range(300)]
    local.load(series, [ts] * len(series), values)
    yield local
    local.stop()


def cursors_released(fleet: LocalFleet, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(w.engine.open_cursors == 0 for w in fleet.workers):
            return True
        time.sleep(0.05)
    return False


def test_cancel_mid_stream_stops_the_worker(fleet: LocalFleet) -> None:
    calls = 0

    def cancelled() -> bool:  # true once the first batch of the stream has been read
        nonlocal calls
        calls += 1
        return calls > 3

    evaluation = Evaluation.range(T0 + HOUR, T0 + 6 * HOUR, 15_000)  # raw samples: a long stream
    started = time.monotonic()
    with pytest.raises(QueryCanceled):
        evaluate_query(fleet.fleet, ORG, "quantile_over_time(0.5, m[1h])", evaluation, cancelled)
    assert cursors_released(fleet)
    assert time.monotonic() - started < 20


def test_cancelled_before_start_sends_nothing(fleet: LocalFleet) -> None:
    evaluation = Evaluation.range(T0 + HOUR, T0 + 2 * HOUR, 60_000)
    with pytest.raises(QueryCanceled):
        evaluate_query(fleet.fleet, ORG, "m", evaluation, lambda: True)
    assert cursors_released(fleet)


def test_the_same_query_completes_when_not_cancelled(fleet: LocalFleet) -> None:
    evaluation = Evaluation.range(T0 + HOUR, T0 + 2 * HOUR, 60_000)
    result = evaluate_query(fleet.fleet, ORG, "quantile_over_time(0.5, m[10m])", evaluation)
    assert len(result.value.labels) == 300
