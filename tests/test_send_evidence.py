"""After an answer that proves nothing (a 500 or a RequestTimeout once the request was applied, or
before it reached the service), a change to an existing cluster is decided from a fresh read,
and only a change that is this request's proves it: an update's groups at their requested counts,
a software update's image or its nodes' software updated since the send, a node addition's target
counts grown, a node deletion's nodes gone, a deletion's cluster gone. A change someone else
started before the send, or one already under way when the checks read the cluster, proves
nothing. In-process runs against the embedded AWS behind the recording fault proxy
(tests/faults.py); each test makes clusters of its own."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FIXTURES
from faults import FaultProxy

CREATE = json.loads((FIXTURES / "live" / "requests" / "new-cluster-customer-key.create-cluster.json").read_text())
GROUP = {k: v for k, v in CREATE["InstanceGroups"][0].items() if k not in ("ImageId", "InstanceStorageConfigs")}
IMAGE = CREATE["InstanceGroups"][0]["ImageId"]  # a custom AMI the checks pass (fixtures/account/hyperpod.json)
OTHER_IMAGE = "ami-0bbbbbbbbbbbbbbb2"  # someone else's choice (made directly, never checked)
SENDS = {"update-cluster": "sagemaker:UpdateCluster", "update-cluster-software": "sagemaker:UpdateClusterSoftware",
         "batch-add-cluster-nodes": "sagemaker:BatchAddClusterNodes",
         "batch-delete-cluster-nodes": "sagemaker:BatchDeleteClusterNodes", "delete-cluster": "sagemaker:DeleteCluster"}


def _cluster(local_aws, name: str) -> list[str]:
    """A settled cluster of two nodes on the default image, made directly in the embedded AWS (its
    create is tested elsewhere); its node ids."""
    sagemaker = local_aws.client("sagemaker")
    sagemaker.create_cluster(**{**CREATE, "ClusterName": name, "InstanceGroups": [GROUP]})
    assert sagemaker.describe_cluster(ClusterName=name)["ClusterStatus"] == "InService"
    return sorted(n["InstanceId"] for n in sagemaker.list_cluster_nodes(ClusterName=name)["ClusterNodeSummaries"])


def _scaled(name: str, count: int) -> dict:
    return {"ClusterName": name, "InstanceGroups": [{**GROUP, "InstanceCount": count}]}


def _apply(local_aws, proxy, tmp_path, operation: str, request: dict) -> tuple[int, dict]:
    """``preflight apply --format json`` in process, through the proxy: its exit code and outcome."""
    from typer.testing import CliRunner

    from preflight.cli import app

    path = tmp_path / f"request.{operation}.json"
    path.write_text(json.dumps(request))
    env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner().invoke(app, ["apply", "--timeout", "5", "--format", "json", str(path)], env=env)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, repr(escaped)
    assert proxy.calls.count(SENDS[operation]) == 1, result.output  # sent once, never retried
    return result.exit_code, json.loads(result.output)["tool"]["apply"]


def _request(operation: str, name: str, nodes: list[str]) -> dict:
    return {"update-cluster": _scaled(name, 3),
            "update-cluster-software": {"ClusterName": name, "ImageId": IMAGE},
            "batch-add-cluster-nodes": {"ClusterName": name, "NodesToAdd": [
                {"InstanceGroupName": GROUP["InstanceGroupName"], "IncrementTargetCountBy": 1}]},
            "batch-delete-cluster-nodes": {"ClusterName": name, "NodeIds": nodes[:1]},
            "delete-cluster": {"ClusterName": name}}[operation]


@pytest.mark.parametrize("fault", ["late-5xx", "late-request-timeout"])
@pytest.mark.parametrize("operation", list(SENDS))
def test_a_change_applied_before_its_answer_failed_is_told_by_the_read(local_aws, tmp_path, operation, fault):
    """The service applied the change, then its answer failed: the cluster read again shows this
    request's change (a new count, a new image, the node gone, the cluster gone)."""
    name = f"applied-{operation}-{fault}"
    nodes = _cluster(local_aws, name)
    with FaultProxy(local_aws.endpoint, {SENDS[operation]: fault}) as proxy:
        code, outcome = _apply(local_aws, proxy, tmp_path, operation, _request(operation, name, nodes))
    assert code == 0 and outcome["result"] == "sent", outcome
    assert outcome["note"].endswith(f"the {operation} went through"), outcome


@pytest.mark.parametrize("operation", list(SENDS))
def test_a_change_that_never_reached_the_service_stays_unknown(local_aws, tmp_path, operation):
    """A 500 from the proxy, the request never forwarded: the cluster is as it was, which shows
    nothing either way (exit 3), and the request is not sent again."""
    name = f"unreached-{operation}"
    nodes = _cluster(local_aws, name)
    with FaultProxy(local_aws.endpoint, {SENDS[operation]: "http500"}) as proxy:
        code, outcome = _apply(local_aws, proxy, tmp_path, operation, _request(operation, name, nodes))
    assert code == 3 and outcome["result"] == "unknown", outcome
    assert f"which does not show whether {operation} took effect" in outcome["note"], outcome


def test_a_software_update_without_an_image_is_told_by_its_nodes_update_time(local_aws, tmp_path):
    """No image to look for: a node of the cluster whose software was updated since the send
    (LastSoftwareUpdateTime) is the evidence; the update settles at once here, so the status is
    InService again when read."""
    name = "software-by-node-time"
    _cluster(local_aws, name)
    with FaultProxy(local_aws.endpoint, {SENDS["update-cluster-software"]: "late-5xx"}) as proxy:
        code, outcome = _apply(local_aws, proxy, tmp_path, "update-cluster-software", {"ClusterName": name})
    assert code == 0 and outcome["note"].endswith("the update-cluster-software went through"), outcome
    assert "InService" in outcome["note"]


def _started_by_someone_else(local_aws, operation: str, name: str):
    """Someone else's change to the cluster, started as this request arrives (before it reaches
    the embedded AWS, which then refuses it: the cluster is no longer InService)."""
    sagemaker = local_aws.client("sagemaker")
    return {"update-cluster": lambda: sagemaker.update_cluster(**_scaled(name, 4)),
            "update-cluster-software": lambda: sagemaker.update_cluster_software(ClusterName=name,
                                                                                 ImageId=OTHER_IMAGE)
            }[operation]


@pytest.mark.parametrize("operation,says", [
    ("update-cluster", "is Updating without this request's groups at their counts"),
    ("update-cluster-software", f"is SystemUpdating without the image {IMAGE} on the groups this request names"),
])
def test_a_change_someone_else_started_before_the_send_is_no_proof(local_aws, tmp_path, settle, operation, says):
    name = f"rival-{operation}"
    _cluster(local_aws, name)
    settle(60)  # someone else's change is under way when this request arrives
    with FaultProxy(local_aws.endpoint, {SENDS[operation]: "late-5xx"},
                    before={SENDS[operation]: _started_by_someone_else(local_aws, operation, name)}) as proxy:
        code, outcome = _apply(local_aws, proxy, tmp_path, operation, _request(operation, name, []))
    assert code == 3 and outcome["result"] == "unknown", outcome
    assert says in outcome["note"], outcome


def test_a_change_already_under_way_when_the_checks_read_the_cluster_is_no_proof(local_aws, settle):
    """The checks read the cluster SystemUpdating (someone else's update of the same image; the
    checks would block it, PF462, so the send is made directly): after the send the cluster
    shows that image and status, which are not this request's doing."""
    from preflight import apply
    from preflight.aws import BotoAccount

    name = "already-under-way"
    _cluster(local_aws, name)
    settle(60)
    local_aws.client("sagemaker").update_cluster_software(ClusterName=name, ImageId=IMAGE)
    request = {"ClusterName": name, "ImageId": IMAGE}
    with FaultProxy(local_aws.endpoint, {SENDS["update-cluster-software"]: "late-5xx"}) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        try:
            account = BotoAccount(timeout=5)
            assert account.cluster(name).status == "SystemUpdating"  # the checks' read
            outcome = apply.send(account, "update-cluster-software", request)
        finally:
            os.environ["AWS_ENDPOINT_URL"] = local_aws.endpoint
    assert outcome.result == "unknown" and outcome.exit_code == 3, outcome
    assert "was already SystemUpdating before the send" in outcome.note

