"""`kubernetes` discovery: the ready endpoints of the workers' Service, from its EndpointSlices.

List-then-watch (`discovery.k8s.io/v1`): list the slices matching the label selector (by default
`kubernetes.io/service-name=<service>`), publish, then watch from the list's resourceVersion;
every ADDED/MODIFIED/DELETED event updates the slice map and publishes a new snapshot. A watch
that ends (its `timeoutSeconds`) resumes from the last resourceVersion seen; a 410 Gone (the
version was compacted away) or any other error leads to a full re-list. An endpoint counts when
it is ready, serving and not terminating (nil `ready`/`serving` read as true, nil `terminating` as
false, as the API documents). Its location is `<scheme>://<first address>:<port>`, with the port
named `port_name` (or the slice's only port). Config: in-cluster, else a kubeconfig.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from query_api.discovery._membership import Member, Snapshots

log = logging.getLogger(__name__)
GONE = 410


def load_api(kubeconfig: str = "") -> client.DiscoveryV1Api:
    """A DiscoveryV1 client: the given kubeconfig, else in-cluster config, else the default kubeconfig."""
    configuration = client.Configuration()
    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            config.load_kube_config(client_configuration=configuration)
    return client.DiscoveryV1Api(client.ApiClient(configuration))


def slice_members(endpoint_slice: Any, port_name: str, scheme: str) -> list[Member]:
    """The serving members of one EndpointSlice (a `V1EndpointSlice`)."""
    ports = endpoint_slice.ports or []
    named = [p.port for p in ports if p.port and p.name == port_name]
    port = named[0] if named else (ports[0].port if len(ports) == 1 else None)
    if port is None:
        log.warning("endpointslice %s has no port named %r; skipped",
                    endpoint_slice.metadata.name, port_name)
        return []
    members = []
    for endpoint in endpoint_slice.endpoints or []:
        conditions = endpoint.conditions
        ready = conditions is None or conditions.ready is not False
        serving = ready if conditions is None or conditions.serving is None else conditions.serving
        terminating = bool(conditions is not None and conditions.terminating)
        if not (ready and serving and not terminating) or not endpoint.addresses:
            continue
        address = endpoint.addresses[0]
        host = f"[{address}]" if ":" in address else address
        source = endpoint.target_ref.name if endpoint.target_ref is not None else address
        members.append(Member(f"{scheme}://{host}:{port}", source=source or address))
    return members


class KubernetesDiscovery:
    name = "kubernetes"

    def __init__(self, api: client.DiscoveryV1Api, namespace: str, label_selector: str,
                 port_name: str = "flight", scheme: str = "grpc", watch_timeout_s: int = 300,
                 retry_s: float = 1.0) -> None:
        self.api, self.namespace, self.label_selector = api, namespace, label_selector
        self.port_name, self.scheme = port_name, scheme
        self.watch_timeout_s, self.retry_s = watch_timeout_s, retry_s
        self.snapshots = Snapshots()
        self.lists = 0                       # full lists done (for tests and logs)
        self._slices: dict[str, Any] = {}
        self._version = ""
        self._stop = threading.Event()
        self._watch: watch.Watch | None = None
        self._thread = threading.Thread(target=self._run, name="fletch-k8s-discovery", daemon=True)

    def start(self) -> None:
        self._list()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()
        self._thread.join(2)   # a watch blocked on a quiet stream ends at its timeout (daemon)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except ApiException as err:
                if err.status == GONE:
                    log.info("kubernetes discovery: resourceVersion %s is gone; listing again", self._version)
                else:
                    log.warning("kubernetes discovery: watch failed (%s %s); listing again",
                                err.status, err.reason)
                    self._stop.wait(self.retry_s)
                self._relist()
            except Exception as err:  # network errors of any kind: keep the last view, retry
                log.warning("kubernetes discovery: %s: %s; listing again", type(err).__name__, err)
                self._stop.wait(self.retry_s)
                self._relist()

    def _relist(self) -> None:
        while not self._stop.is_set():
            try:
                self._list()
                return
            except Exception as err:
                log.warning("kubernetes discovery: list failed (%s); keeping the last view", err)
                self._stop.wait(self.retry_s)

    def _list(self) -> None:
        listed = self.api.list_namespaced_endpoint_slice(self.namespace, label_selector=self.label_selector)
        self._slices = {s.metadata.name: s for s in listed.items}
        self._version = listed.metadata.resource_version or ""
        self.lists += 1
        self._publish()

    def _follow(self) -> None:
        """One watch from the current resourceVersion, until it ends or the discovery closes."""
        self._watch = watch.Watch()
        stream = self._watch.stream(self.api.list_namespaced_endpoint_slice, self.namespace,
                                    label_selector=self.label_selector, resource_version=self._version,
                                    timeout_seconds=self.watch_timeout_s, allow_watch_bookmarks=True)
        for event in stream:
            if self._stop.is_set():
                return
            kind, obj = event["type"], event["object"]
            if kind in ("ADDED", "MODIFIED"):
                self._slices[obj.metadata.name] = obj
            elif kind == "DELETED":
                self._slices.pop(obj.metadata.name, None)
            self._version = obj.metadata.resource_version or self._version
            if kind != "BOOKMARK":
                self._publish()

    def _publish(self) -> None:
        members = [m for s in self._slices.values() for m in slice_members(s, self.port_name, self.scheme)]
        self.snapshots.publish(members)
