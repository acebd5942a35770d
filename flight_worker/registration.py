"""A worker's membership lifecycle: its registration in ZooKeeper, and draining on shutdown.

The worker creates one ephemeral sequential znode `<path>/worker-NNNNNNNNNN` whose data is JSON
`{"location": "grpc://host:port", "draining": false, "pid": 123, "registered_at": 1.7e9}` (the API
reads it with `query_api.discovery.zookeeper.parse_node`). The node lives as long as the ZooKeeper
session: `close()` deletes it at once, a crash leaves it until the session times out.

After a session loss (LOST: the server expired the session and deleted the node) the kazoo
listener only sets a flag; a thread re-creates the node once the client is CONNECTED again, with
a new sequence number. The thread also checks every `check_s` that the node still exists.
`set_draining()` rewrites the node's data so the API gives the worker no new work.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow.flight as fl
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

log = logging.getLogger("fletch.worker.registration")


class ZooKeeperRegistration:
    def __init__(self, hosts: str, path: str, location: str, session_timeout_s: float = 10.0,
                 check_s: float = 2.0, connect_timeout_s: float = 15.0) -> None:
        self.path = path.rstrip("/") or "/"
        self.location = location
        self.node: str | None = None
        self.draining = False
        self.check_s = check_s
        self._connect_timeout_s = connect_timeout_s
        self._zk = KazooClient(hosts=hosts, timeout=session_timeout_s)
        self._lock = threading.Lock()
        self._lost = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fletch-zk-registration", daemon=True)

    @property
    def client(self) -> KazooClient:
        return self._zk

    def start(self) -> str:
        """Connects and registers; returns the node's path."""
        self._zk.add_listener(self._on_state)
        self._zk.start(timeout=self._connect_timeout_s)
        with self._lock:
            node = self._register()
        self._thread.start()
        return node

    def set_draining(self, draining: bool = True) -> None:
        with self._lock:
            self.draining = draining
            if self.node is not None:
                try:
                    self._zk.set(self.node, self._data())
                except NoNodeError:
                    self._lost.set()
                    self._wake.set()

    def deregister(self) -> None:
        """Deletes the node and never re-registers."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)
        with self._lock:
            node, self.node = self.node, None
            if node is not None:
                try:
                    self._zk.delete(node)
                except NoNodeError:
                    pass
                except (KazooException, KazooTimeoutError) as err:
                    log.warning("could not delete %s (%s); it goes with the session", node, err)
        if node is not None:
            log.info("deregistered %s (%s)", self.location, node)

    def close(self) -> None:
        self.deregister()
        self._zk.stop()
        self._zk.close()

    def _data(self) -> bytes:
        return json.dumps({"location": self.location, "draining": self.draining, "pid": os.getpid(),
                           "registered_at": time.time()}).encode()

    def _register(self) -> str:
        self.node = self._zk.create(f"{self.path}/worker-", self._data(), ephemeral=True, sequence=True,
                                    makepath=True)
        log.info("registered %s as %s", self.location, self.node)
        return self.node

    def _on_state(self, state: str) -> None:
        # Never call ZooKeeper from a listener: only wake the thread.
        if state == KazooState.LOST:
            self._lost.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.check_s)
            self._wake.clear()
            if self._stop.is_set() or not self._zk.connected:
                continue
            try:
                with self._lock:
                    if self._stop.is_set():
                        return
                    if not self._lost.is_set() and self.node is not None and self._zk.exists(self.node):
                        continue
                    self._lost.clear()
                    log.warning("registration %s is gone (session lost); registering again", self.node)
                    self._register()
            except (KazooException, KazooTimeoutError) as err:
                log.warning("re-registration failed (%s); retrying", type(err).__name__)
                self._lost.set()
                self._stop.wait(0.5)
                self._wake.set()


class DrainGate:
    """Stops a worker taking tickets on shutdown and says when its running DoGets are done.

    `wrap(server)` puts the gate in front of the server's `do_get` (an instance attribute, which
    pyarrow looks up per call): while open, calls pass and are counted until `do_get` returns;
    their streams are counted by the engine's `open_cursors` until consumed or dropped. Once
    closed, a new DoGet gets UNAVAILABLE, and the API retries it on the next worker."""

    def __init__(self) -> None:
        self.accepting = True
        self._starting = 0
        self._lock = threading.Lock()
        self._open_cursors: Callable[[], int] = lambda: 0

    def wrap(self, server: Any) -> None:
        inner = server.do_get
        self._open_cursors = lambda: int(server.engine.open_cursors)

        def do_get(context: Any, ticket: Any) -> Any:
            if not self.accepting:
                raise fl.FlightUnavailableError("worker is shutting down")
            with self._lock:
                self._starting += 1
            try:
                return inner(context, ticket)
            finally:
                with self._lock:
                    self._starting -= 1

        server.do_get = do_get

    def busy(self) -> int:
        return self._starting + self._open_cursors()

    def close(self, timeout_s: float) -> int:
        """Refuses new tickets, waits up to `timeout_s` for running ones; returns those still running."""
        self.accepting = False
        deadline = time.monotonic() + timeout_s
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.busy()
