"""The reads of the FSx checks (PF426, PF435) under faults: the file system a Slurm lifecycle mounts
(fsx:DescribeFileSystems) and its network interfaces' security groups
(ec2:DescribeNetworkInterfaces), each faulted at the recording proxy (tests/faults.py) in front of
the local AWS. Advisory checks: PF401 names the lookup that failed, and nothing else is said of the
file system."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import FIXTURES
from faults import FaultProxy

CASE = FIXTURES / "live" / "PF435-fsx-shares-the-nodes-group.yaml"


@pytest.mark.parametrize("fault", ["http500", "malformed", "html-200", "empty-200"])
@pytest.mark.parametrize("lookup", ["fsx:DescribeFileSystems", "ec2:DescribeNetworkInterfaces"])
def test_a_failed_fsx_read_is_reported_not_judged(local_aws, tmp_path, lookup, fault):
    from typer.testing import CliRunner

    from preflight.cli import app

    path = tmp_path / "fsx.create-cluster.json"
    path.write_text(yaml.safe_load(CASE.read_text())["request"])
    with FaultProxy(local_aws.endpoint, {lookup: fault}) as proxy:
        env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
        result = CliRunner().invoke(app, ["check", "--live", "--timeout", "3", "--format", "json", str(path)], env=env)
    assert lookup in proxy.calls
    findings = json.loads(result.output)["findings"]
    assert any(f["rule"] == "PF401" and f"{lookup} failed" in f["message"] for f in findings), result.output
    assert not [f for f in findings if f["rule"] in ("PF426", "PF435")], result.output
    assert result.exit_code == 0, result.output
