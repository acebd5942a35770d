"""`ecs` discovery: the RUNNING tasks of an ECS service, polled.

Every `poll_interval_s`: page through `list_tasks(cluster, serviceName, desiredStatus=RUNNING)`,
then `describe_tasks` at most 100 ARNs per call (the API's limit), keep tasks whose
`lastStatus` is RUNNING, and take each one's ENI address (awsvpc / Fargate:
`attachments[type=ElasticNetworkInterface].details[name=privateIPv4Address]`, else the first
container's `networkInterfaces[].privateIpv4Address`). A poll that fails keeps the last snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from query_api.discovery._membership import Member, Snapshots

log = logging.getLogger(__name__)
DESCRIBE_LIMIT = 100


def task_address(task: dict[str, Any]) -> str | None:
    for attachment in task.get("attachments", []):
        if attachment.get("type") == "ElasticNetworkInterface":
            for detail in attachment.get("details", []):
                if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                    return str(detail["value"])
    for container in task.get("containers", []):
        for interface in container.get("networkInterfaces", []):
            if interface.get("privateIpv4Address"):
                return str(interface["privateIpv4Address"])
    return None


class EcsDiscovery:
    name = "ecs"

    def __init__(self, ecs: Any, cluster: str, service: str, port: int, scheme: str = "grpc",
                 poll_interval_s: float = 15.0) -> None:
        self.ecs, self.cluster, self.service = ecs, cluster, service
        self.port, self.scheme, self.poll_interval_s = port, scheme, poll_interval_s
        self.snapshots = Snapshots()
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fletch-ecs-discovery", daemon=True)

    def start(self) -> None:
        self.poll()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def poll(self) -> None:
        """One full listing; publishes the RUNNING tasks' locations."""
        members = []
        for task in self._running_tasks():
            address = task_address(task)
            if address is None:
                log.warning("ecs discovery: task %s has no ENI address; skipped", task.get("taskArn"))
                continue
            members.append(Member(f"{self.scheme}://{address}:{self.port}", source=task.get("taskArn", "")))
        self.polls += 1
        self.snapshots.publish(members)

    def _running_tasks(self) -> Iterator[dict[str, Any]]:
        arns: list[str] = []
        pages = self.ecs.get_paginator("list_tasks").paginate(
            cluster=self.cluster, serviceName=self.service, desiredStatus="RUNNING")
        for page in pages:
            arns.extend(page.get("taskArns", []))
        for first in range(0, len(arns), DESCRIBE_LIMIT):
            chunk = arns[first:first + DESCRIBE_LIMIT]
            described = self.ecs.describe_tasks(cluster=self.cluster, tasks=chunk)
            for failure in described.get("failures", []):
                log.info("ecs discovery: %s: %s", failure.get("arn"), failure.get("reason"))
            for task in described.get("tasks", []):
                if task.get("lastStatus") == "RUNNING":
                    yield task

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.poll()
            except (BotoCoreError, ClientError) as err:
                log.warning("ecs discovery: poll failed (%s); keeping the last view", err)


def ecs_client(region: str = "") -> Any:
    import boto3
    return boto3.client("ecs", region_name=region or None)
