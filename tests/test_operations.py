"""Every listed operation is inferred from file names, checked against its own schema, and sendable."""

from __future__ import annotations

import json

import pytest

from preflight import operations, validation
from preflight.operations import OPERATIONS


@pytest.mark.parametrize("operation", OPERATIONS)
def test_file_name_names_the_operation(operation):
    assert operations.infer(f"prod.{operation}.json") == operation
    assert operations.infer(f"/a/b/{operation.replace('-', '_')}.yaml") == operation


@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_operation_has_its_own_schema(operation):
    assert validation.load(operation)["title"] == f"{OPERATIONS[operation]} request"
    assert validation.source()["operations"][operation] == OPERATIONS[operation]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_boto3_has_a_method_for_each_operation(operation):
    boto3 = pytest.importorskip("boto3")
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    api = client.meta.service_model.operation_model(OPERATIONS[operation])
    assert getattr(client, operation.replace("-", "_")).__name__ == operation.replace("-", "_")
    assert api.name == OPERATIONS[operation]


def test_current_instance_group_members_are_known(run_cli, tmp_path):
    """AutoPatchConfig and ImageReleaseVersion are in the model: no finding above info."""
    create = tmp_path / "prod.create-cluster.json"
    create.write_text(json.dumps({
        "ClusterName": "ml-cluster", "NodeProvisioningMode": "Continuous",
        "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/eks"}},
        "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
        "InstanceGroups": [{
            "InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge",
            "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution",
            "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lc/", "OnCreate": "on_create.sh"},
            "ImageReleaseVersion": "1.2.3", "AutoPatchConfig": {"PatchingStrategy": "WhenIdle"}}]}))
    software = tmp_path / "prod.update-cluster-software.json"
    software.write_text(json.dumps({"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [
        {"InstanceGroupName": "workers", "ImageReleaseVersion": "1.2.3"}]}))
    result = run_cli("check", "--fail-on", "warning", str(create), str(software))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("operation, request_", [
    ("batch-reboot-cluster-nodes", {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}),
    ("batch-add-cluster-nodes", {"ClusterName": "ml-cluster",
                                 "NodesToAdd": [{"InstanceGroupName": "workers", "IncrementTargetCountBy": 1}]}),
    ("delete-cluster-scheduler-config", {"ClusterSchedulerConfigId": "abcdef123456"}),
])
def test_new_operations_are_checked_from_file_name_and_flag(run_cli, tmp_path, operation, request_):
    named = tmp_path / f"x.{operation}.json"
    named.write_text(json.dumps(request_))
    plain = tmp_path / "request.json"
    plain.write_text(json.dumps({**request_, "NotAMember": 1}))
    assert run_cli("check", str(named)).returncode == 0
    result = run_cli("check", "--operation", operation, str(plain))
    assert result.returncode == 1 and "PF102" in result.stdout, result.stdout + result.stderr


def test_apply_dry_run_of_a_node_operation(run_cli, local_aws, tmp_path):
    path = tmp_path / "prod.batch-reboot-cluster-nodes.json"
    path.write_text(json.dumps({"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}))
    result = run_cli("apply", "--dry-run", str(path), env=local_aws.env)
    # The seeded caller may not reboot nodes (PF330): a dry run of a blocked request says so.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dry run: not sent: batch-reboot-cluster-nodes did not pass its checks" in result.stdout


def test_only_a_whole_name_in_the_file_name_can_contradict_the_option():
    assert operations.infer("x.delete-cluster-nodes.json") == "delete-cluster"  # the best guess without --operation
    assert operations.infer("x.delete-cluster-nodes.json", exact=True) is None
    assert operations.infer("x.create_cluster.json", exact=True) == "create-cluster"
    assert operations.infer("x.batch-delete-cluster-nodes.json", exact=True) == "batch-delete-cluster-nodes"
