"""`zookeeper` discovery: the API follows the workers' ephemeral znodes under one path.

Workers register with `flight_worker.registration` (one ephemeral sequential node each, named
`worker-NNNNNNNNNN`, whose data is JSON `{"location": "grpc://host:port", "draining": false, ...}`).
Here, one-shot watches on the children and on each child's data only wake a refresher thread
(never call ZooKeeper inside a kazoo callback); the thread lists the children, reads each one,
re-arms the watches and publishes a new snapshot. It also resyncs every `resync_s` and after a
reconnect, since watches set in a lost session are gone. While ZooKeeper is unreachable the last
snapshot stays: fanout's retries and the health cooldown cover members that died meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from query_api.discovery._membership import Member, Snapshots

log = logging.getLogger(__name__)


def parse_node(name: str, data: bytes) -> Member | None:
    """A member from one znode's data, or None (logged) when the data is not a registration."""
    try:
        document = json.loads(data)
        location = document["location"]
        draining = document.get("draining", False)
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("ignoring znode %s: not a worker registration", name)
        return None
    if not isinstance(location, str) or not location or not isinstance(draining, bool):
        log.warning("ignoring znode %s: bad location or draining flag", name)
        return None
    return Member(location, draining=draining, source=name)


class ZooKeeperDiscovery:
    name = "zookeeper"

    def __init__(self, hosts: str, path: str, session_timeout_s: float = 10.0, resync_s: float = 30.0,
                 connect_timeout_s: float = 15.0) -> None:
        self.path = path.rstrip("/") or "/"
        self.snapshots = Snapshots()
        self.resync_s = resync_s
        self._connect_timeout_s = connect_timeout_s
        self._zk = KazooClient(hosts=hosts, timeout=session_timeout_s)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fletch-zk-discovery", daemon=True)

    @property
    def client(self) -> KazooClient:
        return self._zk

    def start(self) -> None:
        self._zk.add_listener(self._on_state)
        self._zk.start(timeout=self._connect_timeout_s)
        self._zk.ensure_path(self.path)
        self._refresh()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._zk.stop()
        self._zk.close()

    def _on_state(self, state: str) -> None:
        if state == KazooState.CONNECTED:
            self._wake.set()

    def _on_watch(self, event: Any) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.resync_s)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self._refresh()
            except (KazooException, KazooTimeoutError) as err:
                log.warning("zookeeper discovery: cannot read %s (%s); keeping the last view",
                            self.path, type(err).__name__)
                self._stop.wait(0.5)
                if self._zk.connected:
                    self._wake.set()

    def _refresh(self) -> None:
        children = self._zk.get_children(self.path, watch=self._on_watch)
        members = []
        for child in sorted(children):
            try:
                data, _ = self._zk.get(f"{self.path}/{child}", watch=self._on_watch)
            except NoNodeError:
                continue
            member = parse_node(child, data)
            if member is not None:
                members.append(member)
        before = self.snapshots.current().version
        now = self.snapshots.publish(members)
        if now.version != before:
            log.info("zookeeper discovery: %d workers (%d draining)", len(now.members),
                     len(now.members) - len(now.active))
