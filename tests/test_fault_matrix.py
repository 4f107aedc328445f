"""The fault matrix: every lookup the live checks make x every way an answer can go wrong, against
the local AWS behind a recording proxy (tests/faults.py FaultProxy), through `preflight apply`.

A required check that could not be verified is exit 3 with PF400 naming the lookup, and no call
that changes anything reaches the proxy; an advisory one is PF401 naming the lookup, and `apply`
lists it next to "sent". Lookups that do not depend on each other are faulted together (one
`apply` per batch and fault, in process for speed), so each lookup meets each fault once.
"""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from faults import FAULTS, FaultProxy

REQUEST = FIXTURES / "live" / "requests" / "new-cluster-customer-key.create-cluster.json"
TIMEOUT, SLOW = 3, 5  # seconds: --timeout, and how long a "slow" answer is held

# Lookups whose failure leaves a required check unverified (PF400); all others are advisory.
REQUIRED = {"sts:GetCallerIdentity", "iam:GetRole", "kms:DescribeKey", "ec2:DescribeImages",
            "ec2:DescribeSnapshots", "sagemaker:DescribeCluster"}
# Faulted together: no lookup of a batch waits for another, and no two are read by one rule or one
# job whose first failure would hide the other's (PF211 reads the image and the caller; PF430 the
# subnets, with their route tables, before the security groups; PF460 the network and the
# offerings; PF217 the key policy and the role's policies; PF441 the region's clusters, then each
# one's DescribeCluster; PF443 the EKS cluster, then its VPC CNI add-on; the caller's IAM reads are
# one job; the organisation's reads follow the caller's identity).
BATCHES = [
    ("iam:GetRole", "kms:DescribeKey", "s3:HeadBucket", "eks:DescribeCluster", "sagemaker:DescribeCluster",
     "ec2:DescribeImages", "ec2:DescribeSubnets"),
    ("sts:GetCallerIdentity", "kms:GetKeyPolicy", "s3:GetObject", "ec2:DescribeSnapshots", "ec2:DescribeRouteTables",
     "eks:DescribeAddon"),
    ("iam:GetUser", "iam:ListRolePolicies", "ec2:DescribeSecurityGroups", "sagemaker:ListClusters",
     "organizations:DescribeOrganization", "sagemaker:ListTrainingPlans"),
    ("iam:ListUserPolicies", "iam:ListAttachedRolePolicies", "ec2:DescribeInstanceTypeOfferings"),
    ("iam:ListAttachedUserPolicies", "iam:GetRolePolicy"),
    ("iam:ListGroupsForUser",),
    ("iam:ListPolicies", "iam:GetPolicy"),
    ("iam:GetPolicyVersion",),
]
# Lookups made only when another fails: a failed listing of attached policies is no failed check,
# GetPolicy reads the default version of each managed policy instead (so with both faulted, the
# failure reported is GetPolicy's).
FALLBACKS = {"iam:ListPolicies": "iam:GetPolicy"}
# moto has no ListServiceQuotas: it fails in every run, and is reported as PF401 in every run.
ALWAYS_FAILING = {"service-quotas:ListServiceQuotas"}
# What a fault cannot change: a HEAD answer has no body to malform or cut, and S3's answer to a
# HEAD of a missing bucket is a bare 404, so that one is S3 saying the bucket does not exist.
NOT_A_FAULT = {("s3:HeadBucket", "malformed"), ("s3:HeadBucket", "reset-during-body"), ("s3:HeadBucket", "trickle")}
VERIFIED_ABSENT = {("s3:HeadBucket", "html-404"): "PF420"}


def test_batches_cover_every_lookup(local_aws, tmp_path):
    """The matrix is complete: the lookups a fault-free apply makes are exactly the batched ones."""
    with FaultProxy(local_aws.endpoint) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, "baseline")
    assert code == 0, output
    made = set(proxy.calls) - {"sagemaker:CreateCluster"}
    assert made == {lookup for batch in BATCHES for lookup in batch} - set(FALLBACKS.values()) | ALWAYS_FAILING
    assert proxy.mutating() == ["sagemaker:CreateCluster"]


def _apply(local_aws, proxy, tmp_path, name: str, *options: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from preflight.cli import app

    request = json.loads(REQUEST.read_text())
    request["ClusterName"] = name  # each run's create is new, so a sent one never blocks the next
    path = tmp_path / f"{name}.create-cluster.json"
    path.write_text(json.dumps(request))
    env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner().invoke(app, ["apply", "--timeout", str(TIMEOUT), *options, str(path)], env=env)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None and result.exit_code in (0, 1, 3), f"{result.exit_code}: {result.output}\n{escaped!r}"
    sagemaker = local_aws.client("sagemaker")  # a sent create leaves its EKS cluster to the next one (PF441)
    if name in {c["ClusterName"] for c in sagemaker.list_clusters()["ClusterSummaries"]}:
        sagemaker.delete_cluster(ClusterName=name)
    return result.exit_code, result.output


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("batch", BATCHES, ids=lambda batch: "+".join(batch) if len(batch) < 3 else batch[0] + "...")
def test_fault_matrix(local_aws, tmp_path, batch, fault):
    injected = [lookup for lookup in batch if (lookup, fault) not in NOT_A_FAULT]
    faulted = [lookup for lookup in injected if lookup not in FALLBACKS]  # the failures to be reported
    name = f"fault-{BATCHES.index(batch)}-{fault}"
    with FaultProxy(local_aws.endpoint, {lookup: fault for lookup in injected}, slow_seconds=SLOW) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, name)
    lines = output.splitlines()
    assert "Traceback" not in output
    for lookup in faulted:
        if (lookup, fault) in VERIFIED_ABSENT:
            assert any(f" {VERIFIED_ABSENT[lookup, fault]} " in line for line in lines), output
            continue
        rule = "PF400" if lookup in REQUIRED else "PF401"
        assert any(f" {rule} " in line and f"{lookup} failed" in line for line in lines), (
            f"{lookup} under {fault}: no {rule} naming it\n{output}")
    if any(" PF400 " in line for line in lines) or any((lk, fault) in VERIFIED_ABSENT for lk in faulted):
        assert code in (1, 3) and proxy.mutating() == [], output
        assert code == 3 or not any(" PF400 " in line for line in lines)
        assert "not sent" in output
    else:  # only advisory checks failed: sent, with each unverified check listed next to it
        assert code == 0 and proxy.mutating() == ["sagemaker:CreateCluster"], output
        listed = output.partition("not verified")[2]
        assert all(f"{lookup} failed" in listed for lookup in faulted), output


@pytest.mark.parametrize("fault", ["http500", "malformed"])
def test_a_failed_listing_costs_a_call_not_a_check(local_aws, tmp_path, fault):
    """ListPolicies only spares GetPolicy's round trip: when it fails, each managed policy is read
    by GetPolicy and the request is checked and sent as without the fault."""
    with FaultProxy(local_aws.endpoint, {"iam:ListPolicies": fault}) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, f"listing-{fault}")
    assert code == 0 and proxy.mutating() == ["sagemaker:CreateCluster"], output
    assert "iam:ListPolicies" not in output and "iam:GetPolicy" not in output
    assert proxy.calls.count("iam:ListPolicies") == 1
    assert proxy.calls.count("iam:GetPolicy") == proxy.calls.count("iam:GetPolicyVersion") > 0


def test_require_verified_refuses_to_send(local_aws, tmp_path):
    with FaultProxy(local_aws.endpoint, {"ec2:DescribeSubnets": "http500"}) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, "require-verified", "--require-verified")
    assert code == 3 and proxy.mutating() == [], output
    assert "--require-verified" in output and "ec2:DescribeSubnets failed" in output


def _apply_request(local_aws, proxy, tmp_path, name: str, request: dict, *options: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from preflight.cli import app

    path = tmp_path / name
    path.write_text(json.dumps(request))
    env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner().invoke(app, ["apply", "--timeout", str(TIMEOUT), *options, str(path)], env=env)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, repr(escaped)
    return result.exit_code, result.output


@pytest.mark.parametrize("fault", ["empty-200", "html-200", "html-404", "malformed"])
def test_unreadable_cluster_never_lets_a_blocked_update_through(local_aws, tmp_path, fault):
    """Without a fault this software update is blocked (PF453: a custom-AMI group, no ImageId).
    An empty or HTML answer is not "a cluster with no groups", and a 404 page is not "no cluster"."""
    request = {"ClusterName": "ml-cluster"}
    with FaultProxy(local_aws.endpoint) as proxy:
        code, output = _apply_request(local_aws, proxy, tmp_path, "u.update-cluster-software.json", request)
    assert code == 1 and " PF453 " in output and proxy.mutating() == []
    with FaultProxy(local_aws.endpoint, {"sagemaker:DescribeCluster": fault}) as proxy:
        code, output = _apply_request(local_aws, proxy, tmp_path, "u.update-cluster-software.json", request)
    assert code == 3 and proxy.mutating() == [], output
    assert "sagemaker:DescribeCluster failed" in output and "error PF450" not in output


def _create(name: str) -> dict:
    request = json.loads(REQUEST.read_text())
    request["ClusterName"] = name
    return request


@pytest.mark.parametrize("fault,code,says", [
    ("http500", 3, "unknown whether create-cluster took effect"),  # never reached moto: still absent
    ("throttle", 3, "unknown whether create-cluster took effect"),
    ("malformed", 0, "the create-cluster went through"),  # created; its answer cut in half
    ("reset-during-body", 0, "the create-cluster went through"),
])
def test_send_outcome_is_decided_from_evidence(local_aws, tmp_path, fault, code, says):
    name = f"send-{fault}"
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": fault}) as proxy:
        found, output = _apply_request(local_aws, proxy, tmp_path, f"{name}.create-cluster.json", _create(name))
    assert found == code, output
    assert says in output
    assert proxy.calls.count("sagemaker:CreateCluster") == 1  # never retried blindly
    if code == 3:
        assert "check it (aws sagemaker describe-cluster) before sending again" in output


def test_the_loser_of_a_create_race_is_told_the_cluster_exists(local_aws, tmp_path):
    """Two applies of one create checked before either sent: the second gets ResourceInUse."""
    from preflight import engine
    from preflight.aws import BotoAccount
    from preflight import apply, documents

    name = "raced-cluster"
    document = documents.parse(f"{name}.create-cluster.json", json.dumps(_create(name)))
    with FaultProxy(local_aws.endpoint) as proxy:
        import os

        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        try:
            accounts = [BotoAccount(timeout=TIMEOUT) for _ in range(2)]
            reports = [engine.run([(document, "create-cluster")], account=a) for a in accounts]
            assert all(not r.blocking(engine.Severity.ERROR) for r in reports)  # both passed their checks
            first, second = (apply.send(a, "create-cluster", document.data) for a in accounts)
        finally:
            os.environ["AWS_ENDPOINT_URL"] = local_aws.endpoint
    assert first.result == "sent" and first.exit_code == 0
    assert second.result == "not sent" and second.exit_code == 1
    assert f"the cluster {name} already exists" in second.describe()
    assert "was not changed by this one" in second.describe()


# The SageMaker reads of a scheduler config's or an extension's change (the caller's IAM reads are
# the create's, faulted above; the cluster's reads are faulted once, under the scheduler config's
# change), each faulted alone: (request kind, lookup).
CHANGE_LOOKUPS = [("scheduler", "sagemaker:DescribeClusterSchedulerConfig"), ("scheduler", "sagemaker:DescribeCluster"),
                  ("scheduler", "sagemaker:ListClusterNodes"), ("extension", "sagemaker:DescribeClusterExtension")]


def _change(local_aws, kind: str, name: str) -> tuple[str, dict, str]:
    """(file name, request, the call that sends it): a new scheduler config's update (each run its
    own, as an update makes a new version), or the seeded extension updated to its own version."""
    sagemaker = local_aws.client("sagemaker")
    arn = sagemaker.describe_cluster(ClusterName="ml-cluster")["ClusterArn"]
    if kind == "scheduler":
        config = sagemaker.create_cluster_scheduler_config(Name=name, ClusterArn=arn,
                                                           SchedulerConfig={"FairShare": "Enabled"})
        return (f"{name}.update-cluster-scheduler-config.json", {
            "ClusterSchedulerConfigId": config["ClusterSchedulerConfigId"], "TargetVersion": 1,
            "SchedulerConfig": {"FairShare": "Disabled"}}, "sagemaker:UpdateClusterSchedulerConfig")
    (extension,) = sagemaker.list_cluster_extensions(ClusterArn=arn)["Extensions"]
    return (f"{name}.update-cluster-extension.json", {"ClusterArn": arn, "ExtensionArn": extension["ExtensionArn"],
                                                      "ExtensionVersion": extension["ExtensionVersion"]},
            "sagemaker:UpdateClusterExtension")


def test_change_lookups_cover_every_read_of_those_changes(local_aws, tmp_path):
    reads = set()
    for kind in ("scheduler", "extension"):
        file, request, send = _change(local_aws, kind, f"baseline-{kind}")
        with FaultProxy(local_aws.endpoint) as proxy:
            code, output = _apply_request(local_aws, proxy, tmp_path, file, request)
        assert code == 0 and proxy.mutating() == [send], output
        reads |= {call for call in proxy.calls if call.startswith("sagemaker:") and call != send}
        assert {lookup for k, lookup in CHANGE_LOOKUPS if k == kind} <= reads
    assert reads == {lookup for _, lookup in CHANGE_LOOKUPS}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind,lookup", CHANGE_LOOKUPS, ids=[lookup.partition(":")[2] for _, lookup in CHANGE_LOOKUPS])
def test_fault_matrix_of_changes(local_aws, tmp_path, kind, lookup, fault):
    """A scheduler config's or an extension's change whose read fails is never sent on a guess:
    a required check unverified is PF400 (exit 3, nothing sent), an advisory one PF401 listed."""
    file, request, send = _change(local_aws, kind, f"change-{kind}-{lookup.partition(':')[2]}-{fault}".lower())
    with FaultProxy(local_aws.endpoint, {lookup: fault}, slow_seconds=SLOW) as proxy:
        code, output = _apply_request(local_aws, proxy, tmp_path, file, request)
    lines = output.splitlines()
    assert "Traceback" not in output
    named = [line for line in lines if f"{lookup} failed" in line and (" PF400 " in line or " PF401 " in line)]
    assert named, f"{lookup} under {fault}: not named as unverified\n{output}"
    if any(" PF400 " in line for line in lines):
        assert code == 3 and proxy.mutating() == [] and "not sent" in output, output
    else:
        assert code == 0 and proxy.mutating() == [send], output
        assert f"{lookup} failed" in output.partition("not verified")[2], output


@pytest.mark.parametrize("operation", ["update-cluster-scheduler-config", "delete-cluster-scheduler-config"])
@pytest.mark.parametrize("fault,code,says", [
    ("http500", 3, "which does not show whether"),  # never reached the service: the config is as it was
    ("reset-during-body", 0, "went through"),  # applied; the line cut in the middle of its answer
])
def test_a_scheduler_configs_change_is_decided_from_the_config(local_aws, tmp_path, operation, fault, code, says):
    """Such a change names only the config: an unknown outcome is decided by reading the config
    again (a version past the one targeted; being deleted or gone), never by guessing."""
    file, request, _ = _change(local_aws, "scheduler", f"send-{operation}-{fault}")
    if operation == "delete-cluster-scheduler-config":
        file, request = file.replace("update-", "delete-"), {"ClusterSchedulerConfigId": request["ClusterSchedulerConfigId"]}
    send = "sagemaker:" + "".join(part.capitalize() for part in operation.split("-"))
    with FaultProxy(local_aws.endpoint, {send: fault}) as proxy:
        found, output = _apply_request(local_aws, proxy, tmp_path, file, request)
    assert found == code and says in output, output
    assert proxy.calls.count(send) == 1  # never retried

