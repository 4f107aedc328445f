"""apply, end to end, for every operation the embedded local AWS models (preflight/local_sagemaker.py):
each is checked live, sent, and followed with --wait, through the installed CLI. The cluster is
one these tests create, so the seeded ml-cluster the other live tests read stays as it is."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES

CREATE = json.loads((FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json").read_text())
NAME = "applied-e2e"
WAIT = ("--wait", "--wait-interval", "0.2", "--wait-timeout", "30")


@pytest.fixture
def settle(local_aws):
    """Cluster changes stay in progress for ``seconds`` while a test runs."""
    from preflight import local_sagemaker

    saved = local_sagemaker.SETTINGS["settle_seconds"]

    def set_to(seconds: float):
        local_sagemaker.SETTINGS["settle_seconds"] = seconds
    yield set_to
    local_sagemaker.SETTINGS["settle_seconds"] = saved


def _apply(run_cli, local_aws, tmp_path, operation: str, request: dict, *options: str):
    path = tmp_path / f"request.{operation}.json"
    path.write_text(json.dumps(request))
    return run_cli("apply", *options, str(path), env=local_aws.env)


def _nodes(local_aws, name=NAME) -> list[dict]:
    return local_aws.client("sagemaker").list_cluster_nodes(ClusterName=name)["ClusterNodeSummaries"]


def _group(**changes) -> dict:
    group = {k: v for k, v in CREATE["InstanceGroups"][0].items() if k not in ("ImageId", "InstanceStorageConfigs")}
    return {**group, **changes}


def test_every_modelled_operation_applies_end_to_end(run_cli, local_aws, tmp_path, settle):
    settle(0.5)
    created = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": NAME}, *WAIT)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "create-cluster sent" in created.stdout and f"cluster {NAME} is InService" in created.stdout
    assert "Creating" in created.stdout  # progress: one line per change in a log

    scaled = _apply(run_cli, local_aws, tmp_path, "update-cluster",
                    {"ClusterName": NAME, "InstanceGroups": [_group(InstanceCount=3)]}, *WAIT)
    assert scaled.returncode == 0, scaled.stdout + scaled.stderr
    assert "scales workers up by 1: 2 -> 3 nodes" in scaled.stdout and "workers 3/3 running" in scaled.stdout

    software = _apply(run_cli, local_aws, tmp_path, "update-cluster-software",
                      {"ClusterName": NAME, "ImageId": "ami-0123456789abcdef0"}, *WAIT)
    assert software.returncode == 0, software.stdout + software.stderr
    assert "SystemUpdating" in software.stdout

    added = _apply(run_cli, local_aws, tmp_path, "batch-add-cluster-nodes",
                   {"ClusterName": NAME, "NodesToAdd": [{"InstanceGroupName": "workers", "IncrementTargetCountBy": 1}]},
                   *WAIT)
    assert added.returncode == 0, added.stdout + added.stderr
    assert len(_nodes(local_aws)) == 4

    first, second, third, _ = sorted(n["InstanceId"] for n in _nodes(local_aws))
    for operation, request, said in (
            ("batch-reboot-cluster-nodes", {"NodeIds": [first]}, f"1 node of workers rebooted: {first}"),
            ("batch-replace-cluster-nodes", {"NodeIds": [second]}, f"1 node of workers replaced: {second}"),
            ("batch-delete-cluster-nodes", {"NodeIds": [third]}, f"1 node of workers deleted: {third} (3 left)"),
            ("start-cluster-health-check", {"DeepHealthCheckConfigurations": [
                {"InstanceGroupName": "workers", "DeepHealthChecks": ["InstanceStress"]}]}, "runs deep health checks"),
            ("attach-cluster-node-network-interface", {"NodeId": first, "NetworkInterfaceId": "eni-0123456789abcdef0"},
             f"network interface eni-0123456789abcdef0 attached to node {first}")):
        key = "ClusterName"
        result = _apply(run_cli, local_aws, tmp_path, operation, {key: NAME, **request}, *WAIT)
        assert result.returncode == 0, operation + result.stdout + result.stderr
        assert said in result.stdout and f"{operation} sent" in result.stdout, result.stdout
    assert third not in {n["InstanceId"] for n in _nodes(local_aws)}

    arn = local_aws.client("sagemaker").describe_cluster(ClusterName=NAME)["ClusterArn"]
    for operation in ("attach-cluster-node-volume", "detach-cluster-node-volume"):
        result = _apply(run_cli, local_aws, tmp_path, operation,
                        {"ClusterArn": arn, "NodeId": first, "VolumeId": "vol-0123456789abcdef0"})
        assert result.returncode == 0, operation + result.stdout + result.stderr

    deleted = _apply(run_cli, local_aws, tmp_path, "delete-cluster", {"ClusterName": NAME}, *WAIT)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"cluster {NAME} is deleted" in deleted.stdout


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
    state.update(region="eu-west-1", base_dir=str(FIXTURES / "account"), hyperpod_clusters=[])
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
