"""ECS discovery: exact AWS-shaped answers through botocore's Stubber (no server)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from query_api.discovery.ecs import EcsDiscovery, task_address

CLUSTER, SERVICE = "fletch", "workers"


def arn(i: int) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/{i:032x}"


def task(i: int, status: str = "RUNNING", *, eni: bool = True) -> dict:
    found: dict = {"taskArn": arn(i), "lastStatus": status, "desiredStatus": "RUNNING",
                   "containers": [{"name": "worker", "networkInterfaces": [
                       {"attachmentId": "a", "privateIpv4Address": f"10.3.{i // 256}.{i % 256}"}]}]}
    if eni:
        found["attachments"] = [{"id": "a", "type": "ElasticNetworkInterface", "status": "ATTACHED",
                                 "details": [{"name": "subnetId", "value": "subnet-1"},
                                             {"name": "privateIPv4Address",
                                              "value": f"10.2.{i // 256}.{i % 256}"}]}]
    return found


@pytest.fixture
def ecs():
    client = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_listing(stubber: Stubber, count: int, statuses: dict[int, str] | None = None) -> None:
    arns = [arn(i) for i in range(count)]
    base = {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "RUNNING"}
    pages = [arns[i:i + 100] for i in range(0, count, 100)] or [[]]
    for n, page in enumerate(pages):
        response: dict = {"taskArns": page}
        params = dict(base)
        if n:
            params["nextToken"] = f"t{n}"
        if n + 1 < len(pages):
            response["nextToken"] = f"t{n + 1}"
        stubber.add_response("list_tasks", response, params)
    for first in range(0, count, 100):
        chunk = list(range(first, min(count, first + 100)))
        stubber.add_response("describe_tasks",
                             {"tasks": [task(i, (statuses or {}).get(i, "RUNNING")) for i in chunk],
                              "failures": []},
                             {"cluster": CLUSTER, "tasks": [arn(i) for i in chunk]})


def test_paginated_listing_described_by_hundreds(ecs):
    client, stubber = ecs
    expect_listing(stubber, 250, statuses={3: "PROVISIONING", 140: "STOPPED", 249: "DEACTIVATING"})
    found = EcsDiscovery(client, CLUSTER, SERVICE, port=8081)
    found.poll()
    locations = found.snapshots.current().locations
    assert len(locations) == 247
    assert "grpc://10.2.0.0:8081" in locations and "grpc://10.2.0.3:8081" not in locations
    assert found.snapshots.current().members[0].source.startswith("arn:aws:ecs:")


def test_membership_follows_polls_and_survives_a_failed_one(ecs):
    client, stubber = ecs
    expect_listing(stubber, 3)
    stubber.add_client_error("list_tasks", "ThrottlingException", "Rate exceeded")
    expect_listing(stubber, 2)
    found = EcsDiscovery(client, CLUSTER, SERVICE, port=9000, poll_interval_s=0.2)
    found.start()
    try:
        seen = found.snapshots.wait_for(lambda m: len(m.members) == 2, 5)
    finally:
        found.close()
    assert seen.locations == ("grpc://10.2.0.0:9000", "grpc://10.2.0.1:9000") and seen.version == 2


def test_empty_service(ecs):
    client, stubber = ecs
    expect_listing(stubber, 0)
    found = EcsDiscovery(client, CLUSTER, SERVICE, port=8081)
    found.poll()
    assert found.snapshots.current().members == ()


def test_address_from_container_interfaces_when_no_eni_attachment():
    assert task_address(task(5, eni=False)) == "10.3.0.5"
    assert task_address(task(5)) == "10.2.0.5"
    assert task_address({"taskArn": "x"}) is None
