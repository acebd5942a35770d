"""A small fake Kubernetes API server for EndpointSlices: list, chunked watch streams and 410 Gone.

State is a dict of slices; every change gets the next resourceVersion and is appended to an event
log that open watches stream from. `compact()` forgets the log up to now, so a watch from an
older version gets an ERROR event with code 410, as the real API server answers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

PREFIX = "/apis/discovery.k8s.io/v1/namespaces/"


def endpoint_slice(name: str, service: str, endpoints: list[dict[str, Any]],
                   port: int = 8081, port_name: str = "flight") -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name, "namespace": "fletch",
                         "labels": {"kubernetes.io/service-name": service}},
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}], "endpoints": endpoints}


def endpoint(address: str, ready: bool | None = True, serving: bool | None = None,
             terminating: bool | None = None, pod: str = "") -> dict[str, Any]:
    conditions = {k: v for k, v in (("ready", ready), ("serving", serving), ("terminating", terminating))
                  if v is not None}
    found: dict[str, Any] = {"addresses": [address], "conditions": conditions}
    if pod:
        found["targetRef"] = {"kind": "Pod", "name": pod, "namespace": "fletch"}
    return found


class FakeKubernetes:
    def __init__(self) -> None:
        self.version = 100
        self.slices: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.oldest = 0            # watches from versions below this get 410
        self.requests: list[str] = []
        self.cond = threading.Condition()
        self.epoch = 0             # bumped to end every open watch
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, directory: Path) -> str:
        path = directory / "kubeconfig"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "not-checked"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}))
        return str(path)

    def start(self) -> FakeKubernetes:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def put(self, obj: dict[str, Any], *, silent: bool = False) -> None:
        with self.cond:
            kind = "MODIFIED" if obj["metadata"]["name"] in self.slices else "ADDED"
            self._change(kind, obj, silent)

    def delete(self, name: str, *, silent: bool = False) -> None:
        with self.cond:
            self._change("DELETED", self.slices[name], silent)

    def compact(self) -> None:
        """Forget the event log and end open watches: resuming from an old version gets 410."""
        with self.cond:
            self.oldest = self.version + 1
            self.events.clear()
            self.epoch += 1
            self.cond.notify_all()

    def _change(self, kind: str, obj: dict[str, Any], silent: bool) -> None:
        self.version += 1
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(self.version)
        if kind == "DELETED":
            self.slices.pop(obj["metadata"]["name"], None)
        else:
            self.slices[obj["metadata"]["name"]] = obj
        if not silent:
            self.events.append((self.version, kind, obj))
        self.cond.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if not url.path.startswith(PREFIX) or not url.path.endswith("/endpointslices"):
                    self._json(404, {"kind": "Status", "code": 404, "message": "not found"})
                    return
                wanted = dict(p.split("=", 1) for p in query.get("labelSelector", "").split(",") if p)
                fake.requests.append("watch" if query.get("watch") == "true" else "list")
                if query.get("watch") == "true":
                    self._watch(int(query.get("resourceVersion") or 0), wanted,
                                float(query.get("timeoutSeconds") or 30))
                    return
                with fake.cond:
                    items = [s for s in fake.slices.values() if _matches(s, wanted)]
                    self._json(200, {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList",
                                     "metadata": {"resourceVersion": str(fake.version)}, "items": items})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, document: dict[str, Any]) -> None:
                line = json.dumps(document).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()

            def _watch(self, since: int, wanted: dict[str, str], timeout: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                deadline = time.monotonic() + timeout
                with fake.cond:
                    epoch = fake.epoch
                    if since < fake.oldest - 1:
                        self._chunk({"type": "ERROR", "object": {
                            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired",
                            "message": f"too old resource version: {since}", "code": 410}})
                    else:
                        while fake.epoch == epoch and time.monotonic() < deadline:
                            for version, kind, obj in list(fake.events):
                                if version > since and _matches(obj, wanted):
                                    self._chunk({"type": kind, "object": obj})
                                since = max(since, version)
                            fake.cond.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler


def _matches(obj: dict[str, Any], wanted: dict[str, str]) -> bool:
    labels = obj["metadata"].get("labels", {})
    return all(labels.get(k) == v for k, v in wanted.items())
