"""Reads by id (DescribeImages with ImageIds, DescribeSubnets with SubnetIds, ...) whose answer gives
the same entry twice fail closed, as listings with an entry twice do: the lookup is named as not
verified (PF400 for a required check, PF401 for an advisory one), and nothing is judged from a
record read over another. The answers are doubled at the recording fault proxy (tests/faults.py,
"duplicate") in front of the embedded AWS; in-process ``check --live`` runs."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import FIXTURES
from faults import FaultProxy

CREATE = FIXTURES / "live" / "requests" / "new-cluster-customer-key.create-cluster.json"
FSX = FIXTURES / "live" / "PF435-fsx-shares-the-nodes-group.yaml"
EFA = FIXTURES / "live" / "PF432-efa-type-without-rules.yaml"  # EC2's record of a type is read for EFA types
# Each read by id the live checks make, and a request that makes it. DescribeSnapshots follows
# DescribeImages (the image names its snapshots), so each is doubled in a run of its own.
BY_ID = [("ec2:DescribeImages", CREATE), ("ec2:DescribeSnapshots", CREATE), ("ec2:DescribeSubnets", CREATE),
         ("ec2:DescribeSecurityGroups", CREATE), ("ec2:DescribeInstanceTypes", EFA),
         ("fsx:DescribeFileSystems", FSX), ("ec2:DescribeNetworkInterfaces", FSX)]


def _request(source) -> str:
    return yaml.safe_load(source.read_text())["request"] if source.suffix == ".yaml" else source.read_text()


@pytest.mark.parametrize("lookup,source", BY_ID, ids=[lookup for lookup, _ in BY_ID])
def test_a_read_by_id_that_gives_an_entry_twice_fails_closed(local_aws, tmp_path, lookup, source):
    from typer.testing import CliRunner

    from preflight.cli import app

    path = tmp_path / "doubled.create-cluster.json"
    path.write_text(_request(source))
    with FaultProxy(local_aws.endpoint, {lookup: "duplicate"}) as proxy:
        env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
        result = CliRunner().invoke(app, ["check", "--live", "--timeout", "5", "--format", "json", str(path)], env=env)
    assert lookup in proxy.calls
    findings = json.loads(result.output)["findings"]
    unverified = [f for f in findings if f["rule"] in ("PF400", "PF401") and f"{lookup} failed" in f["message"]]
    assert unverified and all("twice" in f["message"] for f in unverified), result.output
    if any(f["rule"] == "PF400" for f in unverified):  # a required check not verified
        assert result.exit_code == 3, result.output
