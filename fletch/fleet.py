"""Builds the query API's view of the fleet from the configuration.

`build_discovery` starts the membership source that `discovery` names (local, zookeeper,
kubernetes, ecs); `build_fleet` wraps it in a `WorkerView` (active members minus those cooling
down after a failure) that every query reads once, with health tracked from DoGet outcomes.
`close_fleet` stops the discovery's threads and sessions.
"""

from __future__ import annotations

from fletch.cli import CommandError
from fletch.config import FletchConfig
from fletch.runtime import open_lake
from query_api.discovery import (
    Discovery,
    HealthTracker,
    HealthTrackingClients,
    LocalDiscovery,
    WorkerView,
    ZooKeeperDiscovery,
)
from query_api.evaluate import Fleet

START_TIMEOUT_S = 15.0


def build_discovery(config: FletchConfig, workers: list[str] | None = None) -> Discovery:
    """The started discovery; `workers` forces a static list (what `fletch up` started)."""
    if workers is not None or config.discovery == "local":
        members = list(workers if workers is not None else config.workers)
        if not members:
            raise CommandError("no workers configured (workers: [grpc://host:port, ...] or FLETCH_WORKERS)")
        return LocalDiscovery(members)
    found: Discovery
    if config.discovery == "zookeeper":
        zk = config.zookeeper
        found = ZooKeeperDiscovery(zk.hosts, zk.path, zk.session_timeout_s, connect_timeout_s=START_TIMEOUT_S)
    elif config.discovery == "kubernetes":
        found = _kubernetes(config)
    else:
        found = _ecs(config)
    try:
        found.start()
    except Exception as err:  # each client has its own errors; all mean "cannot start"
        found.close()
        raise CommandError(f"{config.discovery} discovery could not start: "
                           f"{type(err).__name__}: {err}") from None
    return found


def build_fleet(config: FletchConfig, workers: list[str] | None = None) -> Fleet:
    if not config.ticket_key:
        raise CommandError("ticket_key is not set (FLETCH_TICKET_KEY): the API signs tickets with it")
    discovery = build_discovery(config, workers)
    health = HealthTracker(config.health.cooldown_s)
    catalog, _ = open_lake(config)
    return Fleet(catalog=catalog, workers=WorkerView(discovery, health), ticket_key=config.ticket_key,
                 lookback_ms=config.lookback_delta_ms, clients=HealthTrackingClients(health))


def close_fleet(fleet: Fleet) -> None:
    if isinstance(fleet.workers, WorkerView):
        fleet.workers.discovery.close()
    fleet.clients.close()


def _kubernetes(config: FletchConfig) -> Discovery:
    try:
        from query_api.discovery.kubernetes import KubernetesDiscovery, load_api
    except ImportError:
        raise CommandError("discovery: kubernetes needs the k8s extra (pip install 'fletch[k8s]')") from None
    k8s = config.kubernetes
    selector = k8s.label_selector or f"kubernetes.io/service-name={k8s.service}"
    try:
        api = load_api(k8s.kubeconfig)
    except Exception as err:  # kubernetes.config raises several kinds
        raise CommandError(f"kubernetes discovery: no cluster configuration: {err}") from None
    return KubernetesDiscovery(api, k8s.namespace, selector, k8s.port_name, k8s.scheme, k8s.watch_timeout_s)


def _ecs(config: FletchConfig) -> Discovery:
    try:
        from query_api.discovery.ecs import EcsDiscovery, ecs_client
    except ImportError:
        raise CommandError("discovery: ecs needs the ecs extra (pip install 'fletch[ecs]')") from None
    ecs = config.ecs
    return EcsDiscovery(ecs_client(ecs.region), ecs.cluster, ecs.service, ecs.port, ecs.scheme,
                        ecs.poll_interval_s)
