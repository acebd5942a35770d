"""Kubernetes discovery: the official client against a fake API server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("kubernetes")

from query_api.discovery.kubernetes import KubernetesDiscovery, load_api
from tests.discovery.fake_k8s import FakeKubernetes, endpoint, endpoint_slice

SELECTOR = "kubernetes.io/service-name=workers"
BOUND_S = 5.0


@pytest.fixture
def fake() -> Iterator[FakeKubernetes]:
    server = FakeKubernetes().start()
    yield server
    server.stop()


@pytest.fixture
def discovery(fake, tmp_path) -> Iterator[KubernetesDiscovery]:
    fake.put(endpoint_slice("workers-abc", "workers", [
        endpoint("10.1.0.1", pod="worker-0"),
        endpoint("10.1.0.2", ready=None, pod="worker-1"),                  # nil ready: ready
        endpoint("10.1.0.3", ready=False, pod="worker-2"),                 # not ready
        endpoint("10.1.0.4", ready=False, serving=True, terminating=True),  # shutting down
        endpoint("10.1.0.5", ready=True, serving=False),                    # not serving
    ]))
    fake.put(endpoint_slice("other-xyz", "other", [endpoint("10.9.9.9")]))
    found = KubernetesDiscovery(load_api(fake.kubeconfig(tmp_path)), "fletch", SELECTOR,
                                watch_timeout_s=2, retry_s=0.2)
    found.start()
    yield found
    found.close()


def has(*locations: str):
    return lambda m: set(m.locations) == set(locations)


def test_initial_list_keeps_ready_serving_endpoints_of_the_service(discovery):
    seen = discovery.snapshots.current()
    assert seen.locations == ("grpc://10.1.0.1:8081", "grpc://10.1.0.2:8081")
    assert [m.source for m in seen.members] == ["worker-0", "worker-1"]


def test_watch_events_update_the_view(fake, discovery):
    fake.put(endpoint_slice("workers-abc", "workers", [endpoint("10.1.0.1"), endpoint("10.1.0.3")]))
    discovery.snapshots.wait_for(has("grpc://10.1.0.1:8081", "grpc://10.1.0.3:8081"), BOUND_S)
    fake.put(endpoint_slice("workers-def", "workers", [endpoint("10.1.1.1")]))
    discovery.snapshots.wait_for(
        has("grpc://10.1.0.1:8081", "grpc://10.1.0.3:8081", "grpc://10.1.1.1:8081"), BOUND_S)
    fake.delete("workers-abc")
    discovery.snapshots.wait_for(has("grpc://10.1.1.1:8081"), BOUND_S)
    fake.put(endpoint_slice("other-xyz", "other", [endpoint("10.9.9.8")]))  # another service
    fake.put(endpoint_slice("workers-def", "workers", [endpoint("10.1.1.1", terminating=True, ready=False)]))
    discovery.snapshots.wait_for(has(), BOUND_S)
    assert discovery.lists == 1 and "list" in fake.requests and "watch" in fake.requests


def test_a_gone_resource_version_leads_to_a_full_relist(fake, discovery):
    # Changes the watch never sees (compacted away), then a forced end of the open watch.
    fake.put(endpoint_slice("workers-abc", "workers", [endpoint("10.1.0.7")]), silent=True)
    fake.put(endpoint_slice("workers-new", "workers", [endpoint("10.1.2.1")]), silent=True)
    fake.compact()
    discovery.snapshots.wait_for(has("grpc://10.1.0.7:8081", "grpc://10.1.2.1:8081"), BOUND_S)
    assert discovery.lists == 2
    # ... and it watches again from the new list's version.
    fake.delete("workers-new")
    discovery.snapshots.wait_for(has("grpc://10.1.0.7:8081"), BOUND_S)


def test_a_watch_that_times_out_resumes_without_relisting(fake, discovery):
    watches = fake.requests.count("watch")
    import time
    time.sleep(2.5)  # the watch's timeoutSeconds (2) passes
    fake.put(endpoint_slice("workers-abc", "workers", [endpoint("10.1.0.8")]))
    discovery.snapshots.wait_for(has("grpc://10.1.0.8:8081"), BOUND_S)
    assert fake.requests.count("watch") > watches and discovery.lists == 1


def test_port_by_name_and_ipv6(fake, tmp_path):
    from query_api.discovery.kubernetes import slice_members
    api = load_api(fake.kubeconfig(tmp_path))
    fake.put(endpoint_slice("w6", "workers", [endpoint("fd00::1")], port=9000, port_name="other"))
    listed = api.list_namespaced_endpoint_slice("fletch", label_selector=SELECTOR)
    (only,) = listed.items
    assert [m.location for m in slice_members(only, "flight", "grpc")] == ["grpc://[fd00::1]:9000"]
    only.ports.append(type(only.ports[0])(name="metrics", port=9100))
    assert slice_members(only, "flight", "grpc") == []   # two ports, none named flight
