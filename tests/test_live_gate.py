"""The gate, proven at the endpoint: faults end in exit 3 and nothing sent; a failing request
never reaches CreateCluster; a passing one creates the cluster. All through the installed CLI."""

from __future__ import annotations

import json
import os
import socket

import pytest

from conftest import FIXTURES
from faults import FaultServer

CORRECTED = FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json"


def fault_env(endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS="2")
    return env


@pytest.mark.parametrize("mode,reason", [("denied", "access denied"), ("throttle", "throttled"),
                                         ("http500", "injected http500")])
def test_faults_fail_closed_and_send_nothing(run_cli, tmp_path, mode, reason):
    with FaultServer(mode) as server:
        checked = run_cli("check", "--live", "--format", "json", str(CORRECTED), env=fault_env(server.endpoint))
        applied = run_cli("apply", str(CORRECTED), env=fault_env(server.endpoint))
    assert checked.returncode == 3, checked.stdout + checked.stderr
    findings = json.loads(checked.stdout)["findings"]
    unverified = [f for f in findings if f["rule"] == "PF400"]
    assert unverified and all(reason in f["message"] for f in unverified)
    assert any("ec2:DescribeImages" in f["message"] for f in unverified)  # names the lookup
    assert applied.returncode == 3 and "not sent" in applied.stdout
    assert "CreateCluster" not in server.calls and server.calls


def test_timeout_fails_closed(run_cli):
    with FaultServer("http500", delay=3) as server:
        result = run_cli("check", "--live", "--timeout", "1", str(CORRECTED), env=fault_env(server.endpoint))
    assert result.returncode == 3
    assert "timed out" in result.stdout


def test_unreachable_endpoint_fails_closed(run_cli):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("check", "--live", "--timeout", "1", str(CORRECTED), env=fault_env(f"http://127.0.0.1:{port}"))
    assert result.returncode == 3
    assert "endpoint unreachable" in result.stdout


def test_no_credentials_fails_closed(run_cli, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_REGION="us-east-1", AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true",
               AWS_ENDPOINT_URL="http://127.0.0.1:9")
    result = run_cli("check", "--live", str(CORRECTED), env=env)
    assert result.returncode == 3
    assert "no AWS credentials" in result.stdout


def test_no_region_is_usage_error(run_cli, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"))
    result = run_cli("check", "--live", str(CORRECTED), env=env)
    assert result.returncode == 2 and "region" in result.stderr


def _clusters(local_aws) -> set[str]:
    return {c["ClusterName"] for c in local_aws.client("sagemaker").list_clusters()["ClusterSummaries"]}


def _request(tmp_path, name: str, **group_changes) -> str:
    request = json.loads(CORRECTED.read_text())
    request["ClusterName"] = name
    request["InstanceGroups"][0].update(group_changes)
    path = tmp_path / f"{name}.create-cluster.json"
    path.write_text(json.dumps(request))
    return str(path)


def test_failing_request_is_never_sent(run_cli, local_aws, tmp_path):
    path = _request(tmp_path, "untagged-ami", ImageId="ami-0bbbbbbbbbbbbbbb2")
    result = run_cli("apply", path, env=local_aws.env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PF213" in result.stdout and "not sent" in result.stdout
    assert "untagged-ami" not in _clusters(local_aws)


def test_dry_run_sends_nothing(run_cli, local_aws, tmp_path):
    path = _request(tmp_path, "dry-run-cluster")
    result = run_cli("apply", "--dry-run", path, env=local_aws.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would send create-cluster" in result.stdout
    assert "dry-run-cluster" not in _clusters(local_aws)


def test_passing_request_creates_the_cluster(run_cli, local_aws, tmp_path):
    path = _request(tmp_path, "gate-passed")
    result = run_cli("apply", "--format", "json", path, env=local_aws.env)
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout)["tool"]["apply"]
    arn = local_aws.client("sagemaker").describe_cluster(ClusterName="gate-passed")["ClusterArn"]
    assert outcome["sent"] and outcome["response"]["ClusterArn"] == arn
    assert "gate-passed" in _clusters(local_aws)


def test_local_aws_runner_passes_the_exit_code_through():
    import subprocess
    import sys

    from conftest import preflight_command

    command = [sys.executable, "-m", "preflight.local", "--", *preflight_command(), "check", "--live"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_ACCOUNT_ID"}
    ok = subprocess.run(command + [str(FIXTURES / "live/requests/new-cluster.create-cluster.json")],
                        capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "local AWS at http://127.0.0.1:" in ok.stderr
    bad = subprocess.run(command + [str(FIXTURES / "live/requests/missing-role.create-cluster.json")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1 and "PF410" in bad.stdout


def test_timed_out_create_is_looked_up_not_retried(run_cli, local_aws, tmp_path):
    from faults import DelayProxy

    path = _request(tmp_path, "slow-answer")
    with DelayProxy(local_aws.endpoint, slow_answers=("CreateCluster",), answer_delay=4) as proxy:
        env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint}
        result = run_cli("apply", "--timeout", "2", path, env=env)
    assert proxy.calls.count("CreateCluster") == 1  # one attempt, never a blind retry
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the create-cluster went through" in result.stdout
    assert "slow-answer" in _clusters(local_aws)


def test_a_failed_read_is_not_repeated(run_cli):
    with FaultServer("denied") as server:
        result = run_cli("check", "--live", str(CORRECTED), env=fault_env(server.endpoint))
    assert result.returncode == 3
    assert server.calls.count("DescribeImages") == 1, server.calls


def test_an_unwritable_output_file_stops_the_send(run_cli, local_aws, tmp_path):
    """A report that could not be written after a send would lose its outcome: the --output files
    are proven writable first, and nothing is sent when one is not."""
    path = _request(tmp_path, "unreported-cluster")
    unwritable = tmp_path / "no-such-folder" / "preflight.sarif"
    result = run_cli("apply", "--output", f"sarif:{unwritable}", path, env=local_aws.env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nothing was sent" in result.stderr and str(unwritable) in result.stderr
    assert "unreported-cluster" not in _clusters(local_aws)
