"""PF443 (the EKS cluster's VPC CNI add-on) at the endpoint: the local AWS's DescribeAddon, the read
made once in the prefetch, a refused read reported as not verified through the installed CLI, and
an add-on version that is no version number. The cases of fixtures/live/PF443-*.yaml run in
test_live.py."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from faults import FaultProxy
from preflight import documents, engine

REQUEST = FIXTURES / "live" / "PF443-vpc-cni-too-old.yaml"


def _request(eks: str) -> dict:
    import yaml

    request = json.loads(yaml.safe_load(REQUEST.read_text())["request"])
    request["Orchestrator"]["Eks"]["ClusterArn"] = f"arn:aws:eks:us-east-1:444455556666:cluster/{eks}"
    return request


def _check(local_aws, eks: str):
    from preflight.aws import BotoAccount

    account = BotoAccount(region=local_aws.region, timeout=5)
    document = documents.parse("request.create-cluster.json", json.dumps(_request(eks)))
    return account, [f for f in engine.run([(document, "create-cluster")], account=account).findings if f.rule == "PF443"]


def test_the_local_aws_answers_describe_addon_as_eks_does(local_aws):
    eks = local_aws.client("eks")
    addon = eks.describe_addon(clusterName="old-cni-eks", addonName="vpc-cni")["addon"]
    assert (addon["addonName"], addon["clusterName"], addon["addonVersion"], addon["status"]) == (
        "vpc-cni", "old-cni-eks", "v1.18.2-eksbuild.1", "ACTIVE")
    assert addon["addonArn"].startswith("arn:aws:eks:us-east-1:444455556666:addon/old-cni-eks/vpc-cni/")
    for cluster, name in (("self-managed-cni-eks", "vpc-cni"), ("no-such-eks", "vpc-cni"), ("hyperpod-eks", "coredns")):
        with pytest.raises(eks.exceptions.ResourceNotFoundException):
            eks.describe_addon(clusterName=cluster, addonName=name)


def test_the_add_on_is_read_once_in_a_run(local_aws):
    account, findings = _check(local_aws, "old-cni-eks")
    assert [(f.severity.name, f.pointer) for f in findings] == [("WARNING", "/Orchestrator/Eks/ClusterArn")]
    assert "v1.18.2-eksbuild.1" in findings[0].message and "1.18.3" in findings[0].message
    assert account.calls[("eks", "describe_addon")] == 1 and account.calls[("eks", "describe_cluster")] == 1


def test_a_missing_eks_cluster_is_left_to_pf440(local_aws):
    _, findings = _check(local_aws, "no-such-eks")
    assert findings == []


def test_a_version_that_is_no_version_number_is_not_verified(local_aws):
    """EKS names its add-on versions vMAJOR.MINOR.PATCH-eksbuild.N; anything else is not compared
    (seeded in moto's store, as the state file seeds a version)."""
    from moto.eks.models import eks_backends

    record = eks_backends[local_aws.account][local_aws.region].clusters["recent-cni-eks"]
    seeded, record.vpc_cni = record.vpc_cni, "latest"
    try:
        _, findings = _check(local_aws, "recent-cni-eks")
    finally:
        record.vpc_cni = seeded
    assert [f.severity.name for f in findings] == ["INFO"]
    assert "'latest' is not a version number; not verified" in findings[0].message


def test_access_denied_on_describe_addon_is_reported_as_not_verified(local_aws, run_cli, tmp_path):
    """An advisory check: a refused DescribeAddon is PF401 naming the call and the reason, not a
    verdict on the add-on (the request names the EKS cluster whose add-on is too old)."""
    path = tmp_path / "new.create-cluster.json"
    path.write_text(json.dumps(_request("old-cni-eks")))
    with FaultProxy(local_aws.endpoint, {"eks:DescribeAddon": "denied"}) as proxy:
        result = run_cli("check", "--live", "--format", "json", str(path),
                         env={**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "PF443"]
    unverified = [f["message"] for f in findings if f["rule"] == "PF401"]
    assert any(message.startswith("could not verify PF443 eks-vpc-cni-too-old: eks:DescribeAddon failed: access denied")
               for message in unverified), unverified
    assert proxy.calls.count("eks:DescribeAddon") == 1


def test_a_plan_shows_the_add_on_version_it_was_checked_against(local_aws, run_cli, tmp_path):
    """A version is an AWS name, shown in the plan file as it is (a reviewer reads it), not as a digest."""
    path = tmp_path / "new.create-cluster.json"
    path.write_text(json.dumps(_request("recent-cni-eks")))
    result = run_cli("plan", "--live", str(path), "--out", str(tmp_path / "plan.json"), env=local_aws.env)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    facts = json.loads((tmp_path / "plan.json").read_text())["facts"]
    shown = [fact for fact in facts if fact["read"] == "vpc_cni_version"]
    assert [(fact["of"], fact["showed"]) for fact in shown] == [(["recent-cni-eks"], {"": "v1.18.10-eksbuild.1"})], shown
