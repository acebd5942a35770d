"""Worker membership for the query API: discovery sources, snapshots, health and the worker view.

Sources (`local`, `zookeeper`, `kubernetes`, `ecs`) each publish immutable `Membership`
snapshots; `WorkerView` is the `Fleet.workers` callable that gives each query one snapshot's
active, healthy workers. The `kubernetes` and `ecs` modules import their client libraries, so
they are imported only when used (extras `k8s` and `ecs`).
"""

from query_api.discovery._membership import Discovery, Member, Membership, Snapshots
from query_api.discovery.health import HealthTracker, HealthTrackingClients, WorkerHealth, WorkerView
from query_api.discovery.local import LocalDiscovery
from query_api.discovery.zookeeper import ZooKeeperDiscovery

__all__ = ["Discovery", "HealthTracker", "HealthTrackingClients", "LocalDiscovery", "Member", "Membership",
           "Snapshots", "WorkerHealth", "WorkerView", "ZooKeeperDiscovery"]
