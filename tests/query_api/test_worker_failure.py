"""A worker that dies in the middle of a stream: its segments are re-read from the next worker
in their ranking and the answer is unchanged; with nobody left, the query fails loudly."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import pytest

from flight_worker.execute import run_fragment
from flight_worker.server import WorkerServer, stream
from planner.errors import WorkerUnavailable
from planner.plan import Evaluation
from planner.tickets import decode
from query_api.evaluate import evaluate_query
from tests.query_api.fleet import ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000
QUERY = "sum by (i) (quantile_over_time(0.5, m[10m]))"  # raw samples: long streams
EVALUATION = Evaluation.range(T0 + HOUR, T0 + 4 * HOUR, 30_000)


class DiesMidStream(WorkerServer):
    """Sends the first batch of every stream, then the connection 'dies'."""

    def do_get(self, context: fl.ServerCallContext, ticket: fl.Ticket) -> fl.FlightDataStream:
        verified = decode(ticket.ticket, self.ticket_key)
        fragment = run_fragment(verified, self.engine, context.is_cancelled)

        def batches() -> Iterator[pa.RecordBatch]:
            source = iter(fragment.batches)
            for batch in source:
                yield batch
                break
            source.close()  # releases the file pins and the cursor
            raise fl.FlightUnavailableError("connection reset by peer")

        return stream(fragment.schema, batches(), verified.query_id)


@pytest.fixture
def fleet(tmp_path):
    local = LocalFleet(tmp_path).start(2)
    ts = T0 + np.arange(0, 4 * HOUR, 5_000) + 17
    series = [{"__name__": "m", "i": str(i)} for i in range(40)]
    local.load(series, [ts] * 40, [np.random.default_rng(i).normal(size=len(ts)) for i in range(40)])
    yield local
    local.stop()


def test_a_worker_dying_mid_stream_is_retried_elsewhere(fleet: LocalFleet, monkeypatch) -> None:
    expected = evaluate_query(fleet.fleet, ORG, QUERY, EVALUATION)
    good = fleet.workers[0]
    flaky_engine = fleet.workers[1].engine
    fleet.workers[1].shutdown()
    fleet.workers[1] = DiesMidStream("grpc://127.0.0.1:0", flaky_engine, "query-path-test-key")
    answer = evaluate_query(fleet.fleet, ORG, QUERY, EVALUATION)
    assert answer.stats.retries >= 1
    assert answer.value.labels == expected.value.labels
    np.testing.assert_array_equal(answer.value.values, expected.value.values)
    assert good in fleet.workers


def test_nobody_left_fails_loudly(fleet: LocalFleet) -> None:
    for index, server in enumerate(list(fleet.workers)):
        engine = server.engine
        server.shutdown()
        fleet.workers[index] = DiesMidStream("grpc://127.0.0.1:0", engine, "query-path-test-key")
    with pytest.raises(WorkerUnavailable):
        evaluate_query(fleet.fleet, ORG, QUERY, EVALUATION)
