"""ZooKeeper membership against a real ZooKeeper (the session's `zookeeper` fixture)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from flight_worker.registration import ZooKeeperRegistration
from query_api.discovery import HealthTracker, Membership, WorkerView, ZooKeeperDiscovery
from query_api.discovery.zookeeper import parse_node

BOUND_S = 10.0 # how soon the API's view must follow a change ZooKeeper already knows about
SESSION_S = 2.0


@pytest.fixture
def path() -> str:
    return f"/fletch-test/{uuid.uuid4().hex[:8]}/workers"


@pytest.fixture
def discovery(zookeeper, path) -> Iterator[ZooKeeperDiscovery]:
    view = ZooKeeperDiscovery(zookeeper.hosts, path, session_timeout_s=SESSION_S)
    view.start()
    yield view
    view.close()


def register(zookeeper, path: str, location: str) -> ZooKeeperRegistration:
    registration = ZooKeeperRegistration(zookeeper.hosts, path, location, session_timeout_s=SESSION_S,
                                         check_s=0.5)
    registration.start()
    return registration


def has(*locations: str):
    return lambda m: set(m.locations) == set(locations)


def test_registration_and_deregistration_are_seen(zookeeper, path, discovery):
    assert discovery.snapshots.current().members == ()
    a = register(zookeeper, path, "grpc://10.0.0.1:8081")
    b = register(zookeeper, path, "grpc://10.0.0.2:8081")
    try:
        seen = discovery.snapshots.wait_for(has("grpc://10.0.0.1:8081", "grpc://10.0.0.2:8081"), BOUND_S)
        assert a.node and a.node.rsplit("/", 1)[1].startswith("worker-")
        assert {m.source for m in seen.members} == {a.node.rsplit("/", 1)[1], b.node.rsplit("/", 1)[1]}
        started = time.monotonic()
        a.close()
        discovery.snapshots.wait_for(has("grpc://10.0.0.2:8081"), BOUND_S)
        assert time.monotonic() - started < 1.0  # a clean stop deletes the node at once
    finally:
        a.close()
        b.close()
    discovery.snapshots.wait_for(has(), BOUND_S)


def test_draining_flag_removes_the_worker_from_new_work(zookeeper, path, discovery):
    a = register(zookeeper, path, "grpc://a:1")
    b = register(zookeeper, path, "grpc://b:1")
    view = WorkerView(discovery, HealthTracker())
    try:
        discovery.snapshots.wait_for(has("grpc://a:1", "grpc://b:1"), BOUND_S)
        a.set_draining()
        seen = discovery.snapshots.wait_for(lambda m: m.active == ("grpc://b:1",), BOUND_S)
        assert seen.locations == ("grpc://a:1", "grpc://b:1")  # still a member, finishing its work
        assert view() == ("grpc://b:1",)
        assert [w["state"] for w in view.status()["workers"]] == ["draining", "active"]
    finally:
        a.close()
        b.close()


CRASHING_WORKER = textwrap.dedent("""
    import sys, time
    from flight_worker.registration import ZooKeeperRegistration
    registration = ZooKeeperRegistration(sys.argv[1], sys.argv[2], "grpc://crash:1", session_timeout_s=2.0)
    registration.start()
    print("registered", flush=True)
    time.sleep(60)
""")


def test_a_crashed_worker_leaves_after_its_session_timeout(zookeeper, path, discovery):
    child = subprocess.Popen([sys.executable, "-c", CRASHING_WORKER, zookeeper.hosts, path],
                             stdout=subprocess.PIPE, cwd=os.getcwd())
    try:
        assert child.stdout is not None and child.stdout.readline() == b"registered\n"
        discovery.snapshots.wait_for(has("grpc://crash:1"), BOUND_S)
        killed = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        discovery.snapshots.wait_for(has(), SESSION_S + BOUND_S)
        gone_after = time.monotonic() - killed
        assert 1.0 < gone_after < SESSION_S + BOUND_S  # not at once: only when the session expires
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        if child.stdout is not None:
            child.stdout.close()


def expire(zookeeper, client: KazooClient) -> None:
    """A real server-side session expiry: a second client takes over the session and closes it."""
    hijack = KazooClient(hosts=zookeeper.hosts, client_id=client.client_id)
    hijack.start(10)
    hijack.stop()
    hijack.close()


def test_worker_session_expiry_re_registers(zookeeper, path, discovery):
    worker = register(zookeeper, path, "grpc://w:1")
    try:
        seen = discovery.snapshots.wait_for(has("grpc://w:1"), BOUND_S)
        first_node = worker.node
        assert seen.members[0].source == first_node.rsplit("/", 1)[1]
        expire(zookeeper, worker.client)
        # The old node is deleted by the server; the worker registers again under a new name.
        after = discovery.snapshots.wait_for(
            lambda m: has("grpc://w:1")(m) and m.members[0].source != first_node.rsplit("/", 1)[1],
            BOUND_S + SESSION_S)
        assert worker.node != first_node
        assert after.members[0].source == worker.node.rsplit("/", 1)[1]
        assert worker.client.exists(worker.node) is not None
    finally:
        worker.close()


def test_api_session_expiry_keeps_following(zookeeper, path, discovery):
    a = register(zookeeper, path, "grpc://a:1")
    b = register(zookeeper, path, "grpc://b:1")
    try:
        discovery.snapshots.wait_for(has("grpc://a:1", "grpc://b:1"), BOUND_S)
        expire(zookeeper, discovery.client)
        time.sleep(0.5)
        assert set(discovery.snapshots.current().locations) == {"grpc://a:1", "grpc://b:1"}
        a.close()
        discovery.snapshots.wait_for(has("grpc://b:1"), BOUND_S)
        c = register(zookeeper, path, "grpc://c:1")
        discovery.snapshots.wait_for(has("grpc://b:1", "grpc://c:1"), BOUND_S)
        c.close()
    finally:
        a.close()
        b.close()


def test_snapshots_are_immutable_and_versioned(zookeeper, path, discovery):
    before: Membership = discovery.snapshots.current()
    worker = register(zookeeper, path, "grpc://v:1")
    try:
        after = discovery.snapshots.wait_for(has("grpc://v:1"), BOUND_S)
        assert before.members == () and after.version > before.version
        with pytest.raises(AttributeError):
            after.members = ()  # type: ignore[misc]
    finally:
        worker.close()


@pytest.mark.parametrize("data", [b"not json", b"{}", b'{"location": 5}', b'{"location": "x", "draining": 1}',
                                  b"[1]"])
def test_foreign_nodes_are_ignored(data):
    assert parse_node("worker-1", data) is None


def test_registration_data_is_what_discovery_reads():
    registration = ZooKeeperRegistration("127.0.0.1:1", "/p", "grpc://h:9")
    registration.draining = True
    member = parse_node("worker-0000000007", registration._data())
    assert member is not None and (member.location, member.draining) == ("grpc://h:9", True)
