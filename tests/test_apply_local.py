"""apply, end to end, for every operation in preflight.operations (the embedded local AWS models
each, preflight/local_sagemaker/): each is checked live, sent, and followed with --wait, through
the installed CLI, and its effect read back from the local AWS. The clusters are ones these tests
create, so the seeded ml-cluster the other live tests read stays as it is. Each end-to-end test
names the operations it covers (``covers``) and must apply each of them; together they cover
every operation."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from preflight.operations import OPERATIONS

CREATE = json.loads((FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json").read_text())
NAME = "applied-e2e"
WAIT = ("--wait", "--wait-interval", "0.2", "--wait-timeout", "30")


def _apply(run_cli, local_aws, tmp_path, operation: str, request: dict, *options: str):
    path = tmp_path / f"request.{operation}.json"
    path.write_text(json.dumps(request))
    return run_cli("apply", *options, str(path), env=local_aws.env)


def covers(*operations: str):
    """The operations an end-to-end test applies (each must exit 0 at least once in it)."""
    def mark(test):
        test.covers = operations
        return test
    return mark


@pytest.fixture
def apply_op(run_cli, local_aws, tmp_path, request):
    """``_apply`` that records each operation applied with exit 0; at the end, those must be the
    operations the test says it covers."""
    applied = set()

    def run(operation: str, body: dict, *options: str):
        result = _apply(run_cli, local_aws, tmp_path, operation, body, *options)
        if result.returncode == 0:
            applied.add(operation)
        return result
    yield run
    assert applied == set(request.function.covers)


def test_every_operation_has_an_end_to_end_case():
    covered = {op for test in globals().values() for op in getattr(test, "covers", ())}
    assert covered == set(OPERATIONS), f"no end-to-end apply of {sorted(set(OPERATIONS) - covered)}"


def _nodes(local_aws, name=NAME) -> list[dict]:
    return local_aws.client("sagemaker").list_cluster_nodes(ClusterName=name)["ClusterNodeSummaries"]


def _group(**changes) -> dict:
    group = {k: v for k, v in CREATE["InstanceGroups"][0].items() if k not in ("ImageId", "InstanceStorageConfigs")}
    return {**group, **changes}


def _events(local_aws, name: str, node: str | None = None) -> list[str]:
    found = local_aws.client("sagemaker").list_cluster_events(ClusterName=name, **({"NodeId": node} if node else {}))
    return [e["Description"] for e in found["Events"]]


@covers("create-cluster", "update-cluster", "update-cluster-software", "batch-add-cluster-nodes",
        "batch-reboot-cluster-nodes", "batch-replace-cluster-nodes", "batch-delete-cluster-nodes",
        "start-cluster-health-check", "attach-cluster-node-network-interface", "attach-cluster-node-volume",
        "detach-cluster-node-volume", "delete-cluster")
def test_cluster_and_node_operations_apply_end_to_end(apply_op, local_aws, settle):
    sagemaker = local_aws.client("sagemaker")
    settle(0.5)
    created = apply_op("create-cluster", {**CREATE, "ClusterName": NAME}, *WAIT)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "create-cluster sent" in created.stdout and f"cluster {NAME} is InService" in created.stdout
    assert "Creating" in created.stdout  # progress: one line per change in a log
    assert sagemaker.describe_cluster(ClusterName=NAME)["ClusterStatus"] == "InService"

    scaled = apply_op("update-cluster", {"ClusterName": NAME, "InstanceGroups": [_group(InstanceCount=3)]}, *WAIT)
    assert scaled.returncode == 0, scaled.stdout + scaled.stderr
    assert "scales workers up by 1: 2 -> 3 nodes" in scaled.stdout and "workers 3/3 running" in scaled.stdout
    assert len(_nodes(local_aws)) == 3

    software = apply_op("update-cluster-software", {"ClusterName": NAME, "ImageId": "ami-0123456789abcdef0"}, *WAIT)
    assert software.returncode == 0, software.stdout + software.stderr
    assert "SystemUpdating" in software.stdout
    (group,) = sagemaker.describe_cluster(ClusterName=NAME)["InstanceGroups"]
    assert group["CurrentImageId"] == "ami-0123456789abcdef0"

    added = apply_op("batch-add-cluster-nodes",
                     {"ClusterName": NAME, "NodesToAdd": [{"InstanceGroupName": "workers", "IncrementTargetCountBy": 1}]},
                     *WAIT)
    assert added.returncode == 0, added.stdout + added.stderr
    assert len(_nodes(local_aws)) == 4

    first, second, third, _ = sorted(n["InstanceId"] for n in _nodes(local_aws))
    for operation, request, said, node, event in (
            ("batch-reboot-cluster-nodes", {"NodeIds": [first]}, f"1 node of workers rebooted: {first}", first,
             "node rebooting"),
            ("batch-replace-cluster-nodes", {"NodeIds": [second]}, f"1 node of workers replaced: {second}", second,
             "node being replaced"),
            ("batch-delete-cluster-nodes", {"NodeIds": [third]}, f"1 node of workers deleted: {third} (3 left)", third,
             "node deleted"),
            ("start-cluster-health-check", {"DeepHealthCheckConfigurations": [
                {"InstanceGroupName": "workers", "DeepHealthChecks": ["InstanceStress"]}]}, "runs deep health checks",
             first, "deep health checks InstanceStress started"),
            ("attach-cluster-node-network-interface", {"NodeId": first, "NetworkInterfaceId": "eni-0123456789abcdef0"},
             f"network interface eni-0123456789abcdef0 attached to node {first}", first,
             "network interface eni-0123456789abcdef0 attached to the node")):
        result = apply_op(operation, {"ClusterName": NAME, **request}, *WAIT)
        assert result.returncode == 0, operation + result.stdout + result.stderr
        assert said in result.stdout and f"{operation} sent" in result.stdout, result.stdout
        assert event in _events(local_aws, NAME, node), operation
    assert third not in {n["InstanceId"] for n in _nodes(local_aws)}
    assert {n["InstanceStatus"]["Status"] for n in _nodes(local_aws)} == {"Running"}  # rebooted, replaced, checked

    arn = sagemaker.describe_cluster(ClusterName=NAME)["ClusterArn"]
    for operation, verb in (("attach-cluster-node-volume", "attached to"), ("detach-cluster-node-volume", "detached from")):
        result = apply_op(operation, {"ClusterArn": arn, "NodeId": first, "VolumeId": "vol-0123456789abcdef0"})
        assert result.returncode == 0, operation + result.stdout + result.stderr
        assert f"volume vol-0123456789abcdef0 {verb} the node" in _events(local_aws, NAME, first)

    deleted = apply_op("delete-cluster", {"ClusterName": NAME}, *WAIT)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"cluster {NAME} is deleted" in deleted.stdout
    assert NAME not in {c["ClusterName"] for c in sagemaker.list_clusters()["ClusterSummaries"]}


def _create(local_aws, name: str, groups: list[dict], orchestrated: bool = True) -> str:
    """A cluster made directly in the local AWS (create-cluster's own apply is tested above):
    EKS-orchestrated, or Slurm (no Orchestrator), in Continuous provisioning mode; settled."""
    request = {**CREATE, "ClusterName": name, "InstanceGroups": groups}
    if not orchestrated:
        del request["Orchestrator"]
    sagemaker = local_aws.client("sagemaker")
    arn = sagemaker.create_cluster(**request)["ClusterArn"]
    assert sagemaker.describe_cluster(ClusterName=name)["ClusterStatus"] == "InService"
    return arn


def _raw_group(name: str, count: int, instance_type: str = "ml.c5.2xlarge") -> dict:
    return {**CREATE["InstanceGroups"][0], "InstanceGroupName": name, "InstanceCount": count,
            "InstanceType": instance_type}


@covers("move-cluster-nodes")
def test_moving_nodes_applies_end_to_end_and_a_mismatched_type_is_refused(apply_op, local_aws, settle):
    arn = _create(local_aws, "moving-e2e", [_raw_group("workers", 2), _raw_group("spares", 1),
                                            _raw_group("cpu", 1, "ml.c5.4xlarge")])
    settle(0.5)
    first, second = sorted(n["InstanceId"] for n in _nodes(local_aws, "moving-e2e") if n["InstanceGroupName"] == "workers")
    move = {"SourceClusterArn": arn, "SourceInstanceGroupName": "workers", "TargetClusterArn": arn}
    moved = apply_op("move-cluster-nodes", {**move, "TargetInstanceGroupName": "spares", "NodeIds": [first]}, *WAIT)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert f"moves 1 node of workers ({first}) to group spares of the same cluster" in moved.stdout, moved.stdout
    assert "move-cluster-nodes sent" in moved.stdout and "spares 2/2 running" in moved.stdout
    placed = {n["InstanceId"]: (n["InstanceGroupName"], n["InstanceStatus"]["Status"]) for n in _nodes(local_aws, "moving-e2e")}
    assert placed[first] == ("spares", "Running") and placed[second] == ("workers", "Running")

    refused = apply_op("move-cluster-nodes", {**move, "TargetInstanceGroupName": "cpu", "NodeIds": [second]})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "HyperPod refused move-cluster-nodes" in refused.stdout and "NodeInstanceTypeMismatch" in refused.stdout
    assert {n["InstanceId"]: n["InstanceGroupName"] for n in _nodes(local_aws, "moving-e2e")}[second] == "workers"


@covers("create-cluster-scheduler-config", "update-cluster-scheduler-config", "delete-cluster-scheduler-config")
def test_scheduler_configs_apply_end_to_end_and_a_stale_version_is_refused(apply_op, local_aws, settle):
    arn = _create(local_aws, "governed-e2e", [_raw_group("workers", 1)])
    sagemaker = local_aws.client("sagemaker")
    settle(0.5)
    created = apply_op("create-cluster-scheduler-config", {"Name": "fair-share", "ClusterArn": arn,
                                                           "SchedulerConfig": {"FairShare": "Enabled"}}, *WAIT)
    assert created.returncode == 0, created.stdout + created.stderr
    (summary,) = sagemaker.list_cluster_scheduler_configs(ClusterArn=arn)["ClusterSchedulerConfigSummaries"]
    config = summary["ClusterSchedulerConfigId"]
    assert f"scheduler config {config} Creating" in created.stdout and f"scheduler config {config} is Created" in created.stdout
    assert "creates scheduler config fair-share (version 1) on the cluster: FairShare Enabled" in created.stdout
    assert (summary["Name"], summary["Status"], summary["ClusterSchedulerConfigVersion"]) == ("fair-share", "Created", 1)

    updated = apply_op("update-cluster-scheduler-config", {"ClusterSchedulerConfigId": config, "TargetVersion": 1,
                                                           "SchedulerConfig": {"FairShare": "Disabled"}}, *WAIT)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert f"scheduler config {config} is Updated" in updated.stdout
    assert "updates scheduler config fair-share (now version 1, Created; TargetVersion 1) to: FairShare Disabled" \
        in updated.stdout
    described = sagemaker.describe_cluster_scheduler_config(ClusterSchedulerConfigId=config)
    assert (described["ClusterSchedulerConfigVersion"], described["SchedulerConfig"]) == (2, {"FairShare": "Disabled"})
    assert described["ClusterArn"] == arn

    stale = apply_op("update-cluster-scheduler-config", {"ClusterSchedulerConfigId": config, "TargetVersion": 1,
                                                         "SchedulerConfig": {"FairShare": "Enabled"}})
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "ConflictException: TargetVersion 1 is not the current version 2" in stale.stdout
    assert sagemaker.describe_cluster_scheduler_config(ClusterSchedulerConfigId=config)["ClusterSchedulerConfigVersion"] == 2

    deleted = apply_op("delete-cluster-scheduler-config", {"ClusterSchedulerConfigId": config}, *WAIT)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"scheduler config {config} is Deleted" in deleted.stdout
    assert "deletes scheduler config fair-share (version 2, Updated)" in deleted.stdout
    assert sagemaker.describe_cluster_scheduler_config(ClusterSchedulerConfigId=config)["Status"] == "Deleted"


@covers("create-cluster-extension", "update-cluster-extension", "delete-cluster-extension")
def test_extensions_apply_end_to_end_and_a_downgrade_is_refused(apply_op, local_aws, settle):
    arn = _create(local_aws, "extended-e2e", [_raw_group("workers", 2)], orchestrated=False)
    sagemaker = local_aws.client("sagemaker")
    settle(0.5)
    created = apply_op("create-cluster-extension", {"ClusterArn": arn, "ExtensionName": "sagemaker-observability",
                                                    "ExtensionVersion": "1.0.0",
                                                    "ConfigurationValues": '{"level": "BASIC"}'}, *WAIT)
    assert created.returncode == 0, created.stdout + created.stderr
    (extension,) = sagemaker.list_cluster_extensions(ClusterArn=arn)["Extensions"]
    assert f"extension {extension['ExtensionArn']} is Active" in created.stdout
    assert "installs extension sagemaker-observability 1.0.0 on the cluster's 2 nodes" in created.stdout
    details = sagemaker.describe_cluster_extension(ClusterArn=arn, ExtensionArn=extension["ExtensionArn"])
    assert details["ExtensionDetails"]["ExtensionVersion"] == "1.0.0"
    assert details["NodeSummary"] == {"TotalCount": 2, "ActiveCount": 2}

    target = {"ClusterArn": arn, "ExtensionArn": extension["ExtensionArn"]}
    updated = apply_op("update-cluster-extension", {**target, "ExtensionVersion": "1.1.0",
                                                    "ConfigurationValues": '{"level": null, "port": 9100}'}, *WAIT)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Updating" in updated.stdout and f"extension {extension['ExtensionArn']} is Active" in updated.stdout
    assert ("updates extension sagemaker-observability on the cluster's 2 nodes: version 1.0.0 -> 1.1.0 and "
            "settings level reset, port set") in updated.stdout
    details = sagemaker.describe_cluster_extension(**target)["ExtensionDetails"]
    assert (details["ExtensionVersion"], json.loads(details["ConfigurationValues"])) == ("1.1.0", {"port": 9100})

    downgrade = apply_op("update-cluster-extension", {**target, "ExtensionVersion": "1.0.0"})
    assert downgrade.returncode == 1, downgrade.stdout + downgrade.stderr
    assert "HyperPod refused update-cluster-extension" in downgrade.stdout and "cannot go back to 1.0.0" in downgrade.stdout

    deleted = apply_op("delete-cluster-extension", target, *WAIT)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"extension {extension['ExtensionArn']} is deleted" in deleted.stdout
    assert "removes extension sagemaker-observability 1.1.0 from the cluster's 2 nodes" in deleted.stdout
    assert sagemaker.list_cluster_extensions(ClusterArn=arn)["Extensions"] == []


def test_an_instance_type_change_is_a_warning_naming_both_sources(run_cli, local_aws, tmp_path):
    """The Developer Guide keeps an existing group's type; CloudFormation's schema (generated) updates
    it in place. PF455 warns, naming both: --fail-on warning holds the request, the default sends it,
    and the local AWS, refusing only what the schema lists as create-only, applies it."""
    name = "instance-type-change"
    created = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": name}, *WAIT)
    assert created.returncode == 0, created.stdout + created.stderr
    request = {"ClusterName": name, "InstanceGroups": [_group(InstanceType="ml.c5.4xlarge")]}

    held = _apply(run_cli, local_aws, tmp_path, "update-cluster", request, "--fail-on", "warning")
    assert held.returncode == 1, held.stdout + held.stderr
    assert "warning PF455 InstanceType of existing group workers changes from ml.c5.2xlarge" in held.stdout
    assert "Developer Guide" in held.stdout and "CloudFormation's resource schema" in held.stdout
    assert "not sent" in held.stdout

    sent = _apply(run_cli, local_aws, tmp_path, "update-cluster", request, *WAIT)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    groups = local_aws.client("sagemaker").describe_cluster(ClusterName=name)["InstanceGroups"]
    assert [g["InstanceType"] for g in groups] == ["ml.c5.4xlarge"]
    deleted = _apply(run_cli, local_aws, tmp_path, "delete-cluster", {"ClusterName": name}, *WAIT)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr


def test_wait_reports_a_failed_cluster_with_the_service_message(run_cli, local_aws, tmp_path, settle):
    settle(0.3)
    result = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": "doomed-cluster"},
                    "--format", "json", *WAIT)
    assert result.returncode == 1, result.stdout + result.stderr
    waited = json.loads(result.stdout)["tool"]["apply"]["wait"]
    assert waited["status"] == "Failed" and "Lifecycle scripts did not run successfully" in waited["message"]
    assert [e["status"] for e in waited["events"] if "status" in e][0] == "Creating"
    assert any("event" in e for e in waited["events"])
    assert "doomed-cluster Creating" in result.stderr  # progress beside JSON goes to stderr


def test_wait_follows_a_scheduler_config_to_its_failure(run_cli, local_aws, tmp_path, settle):
    """--wait on a scheduler config reads the config's own status: CreateFailed is exit 1 with its reason."""
    from preflight import local_sagemaker

    arn = local_aws.client("sagemaker").describe_cluster(ClusterName="ml-cluster")["ClusterArn"]
    settle(0.3)
    local_sagemaker.SETTINGS["failures"]["doomed-policy"] = "PriorityClasses name a class the cluster lacks."
    try:
        result = _apply(run_cli, local_aws, tmp_path, "create-cluster-scheduler-config",
                        {"Name": "doomed-policy", "ClusterArn": arn, "SchedulerConfig": {"FairShare": "Enabled"}}, *WAIT)
    finally:
        del local_sagemaker.SETTINGS["failures"]["doomed-policy"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Creating" in result.stdout
    assert "is CreateFailed: PriorityClasses name a class the cluster lacks." in result.stdout


def test_wait_times_out_as_not_known(run_cli, local_aws, tmp_path, settle):
    settle(60)
    result = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": "slow-cluster"},
                    "--wait", "--wait-interval", "0.2", "--wait-timeout", "1")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "still Creating after 1s: the outcome is not known" in result.stdout


def test_plan_command_prints_only_the_plan(run_cli, local_aws, tmp_path):
    path = tmp_path / "scale.update-cluster.json"
    path.write_text(json.dumps({"ClusterName": "ml-cluster", "InstanceGroups": [_group(InstanceCount=3)]}))
    result = run_cli("plan", str(path), env=local_aws.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[1:] == ["  - scales workers up by 1: 2 -> 3 nodes"]
    as_json = run_cli("plan", "--format", "json", str(path), env=local_aws.env)
    (found,) = json.loads(as_json.stdout)["plan"]
    assert found["cluster"] == "ml-cluster" and found["changes"][0]["by"] == 1


def test_ctrl_c_stops_the_waiting_not_the_operation(local_aws, tmp_path, settle):
    import signal
    import subprocess

    from conftest import preflight_command

    settle(60)
    path = tmp_path / "interrupted.create-cluster.json"
    path.write_text(json.dumps({**CREATE, "ClusterName": "interrupted"}))
    process = subprocess.Popen(preflight_command() + ["apply", *WAIT, str(path)], env=local_aws.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if "interrupted Creating" in line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 130, rest
    assert "stopped waiting" in rest and "goes on in AWS" in rest
    assert local_aws.client("sagemaker").describe_cluster(ClusterName="interrupted")["ClusterStatus"] == "Creating"


def test_local_aws_in_another_region(tmp_path):
    """A state file for eu-west-1 (its bucket needs a location constraint), in its own process."""
    import subprocess
    import sys

    from conftest import preflight_command

    state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
    state.update(region="eu-west-1", base_dir=str(FIXTURES / "account"), hyperpod_clusters=[], scheduler_configs=[],
                 cluster_extensions=[])
    for subnet in state["subnets"]:
        subnet["zone"] = subnet["zone"].replace("us-east-1", "eu-west-1")
    for bucket in state["buckets"]:
        bucket.pop("region", None)
    (tmp_path / "eu.json").write_text(json.dumps(state))
    request = tmp_path / "eu.create-cluster.json"
    request.write_text((FIXTURES / "live/requests/new-cluster.create-cluster.json").read_text())
    result = subprocess.run([sys.executable, "-m", "preflight.local", "--state", str(tmp_path / "eu.json"), "--",
                             *preflight_command(), "check", "--live", str(request)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={k: v for k, v in __import__("os").environ.items()
                                 if not k.startswith("AWS_") and k != "MOTO_ACCOUNT_ID"})
    assert "eu-west-1" in result.stderr, result.stderr
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert "PF420" not in result.stdout and "PF410" not in result.stdout, result.stdout
