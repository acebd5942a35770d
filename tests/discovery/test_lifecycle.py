"""Graceful worker shutdown: SIGTERM deregisters at once, refuses new tickets, lets running
DoGets finish, then exits; and the drain gate on an in-process worker."""

from __future__ import annotations

import signal
import time

import pyarrow.flight as fl
import pytest

from fletch.fleet import build_fleet, close_fleet
from flight_worker.registration import DrainGate
from tests.discovery.stack import Stack


@pytest.fixture
def stack(zookeeper, tmp_path):
    found = Stack(tmp_path, zookeeper.hosts)
    yield found
    found.stop()


def test_sigterm_deregisters_then_exits(stack):
    fleet = build_fleet(stack.config())
    try:
        worker = stack.start_worker()
        view = fleet.workers.discovery.snapshots
        view.wait_for(lambda m: m.locations == (worker.location,), 5)
        signalled = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        view.wait_for(lambda m: m.locations == (), 2)
        deregistered = time.monotonic() - signalled
        assert worker.process.wait(10) == 0
        assert deregistered < 1.0  # at once, not at the session timeout
        assert fleet.workers() == ()
        assert worker.process.stdout.read().decode().strip().endswith("fletch worker stopped")
    finally:
        close_fleet(fleet)


def test_drain_gate_refuses_new_tickets_and_waits_for_running_streams(tmp_path):
    import numpy as np

    from planner import tickets
    from tests.query_api.fleet import KEY, ORG, LocalFleet
    local = LocalFleet(tmp_path).start(1)
    try:
        # Enough rows that the stream outgrows gRPC's buffers while nobody reads it.
        ts = 1_764_720_000_000 + np.arange(0, 4 * 3_600_000, 15_000)
        labels = [{"__name__": "up", "instance": f"host-{i:04d}-{'x' * 40}"} for i in range(150)]
        local.load(labels, [ts] * len(labels), [np.ones(len(ts))] * len(labels))
        (server,) = local.workers
        gate = DrainGate()
        gate.wrap(server)
        segments = local.catalog.find_segments(ORG, 0, 2**62, None)
        ticket = tickets.Ticket(template="raw", org=ORG, leaf=0, matchers=(),
                                segments=tuple(tickets.SegmentRef.from_record(s) for s in segments),
                                window=(int(ts[0]) - 1, int(ts[-1])), edges=(int(ts[0]) - 1, int(ts[-1])),
                                expires_at=int(time.time() * 1000) + 60_000, query_id="drain")
        client = fl.FlightClient(server.location)
        reader = client.do_get(fl.Ticket(tickets.encode(ticket, KEY)))
        assert reader.schema is not None  # the call has started: the stream is open on the worker
        time.sleep(0.3)
        assert gate.busy() >= 1
        assert gate.close(timeout_s=0.3) >= 1         # still running when the bound passes
        with pytest.raises(fl.FlightUnavailableError, match="shutting down"):
            client.do_get(fl.Ticket(tickets.encode(ticket, KEY))).read_all()
        assert reader.read_all().num_rows > 0          # the running stream finishes normally
        deadline = time.monotonic() + 5
        while gate.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gate.busy() == 0
        client.close()
    finally:
        local.stop()
