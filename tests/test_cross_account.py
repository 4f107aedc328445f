"""A lifecycle bucket in another account, and the organisation's id given offline.

The offline evaluator (preflight/iam/s3access.py, keys.py) on the cross-account examples of the IAM
User Guide and the Amazon S3 User Guide, each case naming its source and its expected decision; the
command line's --organization and the configuration's ``organization`` deciding an RCP's
aws:PrincipalOrgID (real runs of the installed command); and on the embedded AWS, the
organisation's id read with DescribeOrganization by a member account that may not list its SCPs
and RCPs (the account-state file's organisation ``id``: moto draws a random one). The embedded
AWS's lifecycle buckets of another account are fixtures/live/PF422-cross-account-*.yaml.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, preflight_command
from preflight import documents
from preflight.iam import keys, s3access
from preflight.iam import policy as iam_policy
from preflight.iam.evaluate import MAYBE, NO, YES

ROLE = "arn:aws:iam::444455556666:role/HyperPodExecutionRole"
BUCKET = "amzn-s3-demo-bucket"
OBJECTS, WHOLE = f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}"
ORGANIZATION = "o-a1b2c3d4e5"
READS = ("s3:GetObject", "s3:ListBucket")


def _policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions, resources, principal=None, condition=None) -> dict:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources),
            **({"Principal": principal} if principal else {}), **({"Condition": condition} if condition else {})}


def _role(*statements):
    return iam_policy.collect([documents.parse("role.json", json.dumps(_policy(*statements)))], None)


def _decided(identity, bucket_policy, in_role_account, organization=None, policy_read=True) -> dict:
    found = s3access.verdicts(ROLE, identity, bucket_policy, BUCKET, "on_create.sh", "", in_role_account,
                              organization, policy_read)
    return {action: outcome for action, _, outcome, _ in found}


READ_BOTH = [_allow(["s3:GetObject"], [OBJECTS]), _allow(["s3:ListBucket"], [WHOLE])]
# Amazon S3 User Guide, "Example 2: Bucket owner granting cross-account bucket permissions": the bucket
# owner's policy names the other account (its root), whose administrator then delegates to its own
# principals with an identity policy.
TO_ACCOUNT = _policy(_allow(["s3:GetObject"], [OBJECTS], {"AWS": "arn:aws:iam::444455556666:root"}),
                     _allow(["s3:ListBucket"], [WHOLE], {"AWS": "arn:aws:iam::444455556666:root"}))
TO_ROLE = _policy(_allow(READS, [OBJECTS, WHOLE], {"AWS": ROLE}))

CASES = [
    # IAM User Guide, "Policy evaluation for requests within a single account": within one account,
    # either the identity-based or the resource-based policy allowing is enough.
    ("single account: the bucket policy naming the role suffices", [], TO_ROLE, True, YES, YES),
    ("single account: the role's own policy suffices", READ_BOTH, None, True, YES, YES),
    ("single account: an account-root grant delegates to IAM, which allows nothing", [], TO_ACCOUNT, True, NO, NO),
    # IAM User Guide, "Cross-account policy evaluation logic": the trusting account's resource-based
    # policy and the trusted principal's identity-based policy must both allow.
    ("cross-account: both allow (S3 User Guide example 2)", READ_BOTH, TO_ACCOUNT, False, YES, YES),
    ("cross-account: the bucket policy naming the role alone is not enough", [], TO_ROLE, False, NO, NO),
    ("cross-account: the role's own policy alone is not enough", READ_BOTH, None, False, NO, NO),
    ("cross-account: only what both allow", READ_BOTH,
     _policy(_allow(["s3:ListBucket"], [WHOLE], {"AWS": "arn:aws:iam::444455556666:root"})), False, NO, YES),
    # The bucket's account not known: where the two rules disagree it is undecided, never allowed.
    ("unknown account: the bucket policy alone", [], TO_ROLE, None, MAYBE, MAYBE),
    ("unknown account: both allow", READ_BOTH, TO_ROLE, None, YES, YES),
    ("unknown account: neither allows", [], None, None, NO, NO),
]


@pytest.mark.parametrize("identity, bucket_policy, in_role_account, get_object, list_bucket",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_whose_bucket_decides_what_must_allow(identity, bucket_policy, in_role_account, get_object, list_bucket):
    assert _decided(_role(*identity), bucket_policy, in_role_account) == {"s3:GetObject": get_object,
                                                                          "s3:ListBucket": list_bucket}


def test_another_accounts_unread_bucket_policy_leaves_an_allowed_role_undecided():
    """Amazon S3 API Reference, GetBucketPolicy: only the bucket owner's account may read it."""
    found = s3access.verdicts(ROLE, _role(*READ_BOTH), None, BUCKET, "on_create.sh", "", False, None, False)
    assert {outcome for _, _, outcome, _ in found} == {MAYBE}
    assert all("cannot be read from this account" in reason for _, _, _, reason in found)
    assert {outcome for *_, outcome, _ in s3access.verdicts(ROLE, _role(), None, BUCKET, "on_create.sh", "", False,
                                                            None, False)} == {NO}


# IAM User Guide, "AWS global condition context keys", aws:PrincipalOrgID: a resource policy granting
# every principal of the organisation ("Principal": "*" with the organisation's id).
ORG_WIDE = _policy(_allow(READS, [OBJECTS, WHOLE], "*", {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}}))


@pytest.mark.parametrize("organization, expected", [(ORGANIZATION, YES), (None, MAYBE), ("o-f6g7h8i9j0", NO)])
def test_an_organisation_wide_bucket_grant_is_decided_by_the_organisation_id(organization, expected):
    assert _decided(_role(), ORG_WIDE, True, organization) == {"s3:GetObject": expected, "s3:ListBucket": expected}


def test_the_bucket_org_id_is_known_only_for_the_roles_own_account():
    """aws:ResourceOrgID is the organisation of the resource's account: known for a bucket in the
    role's account, not for another account's (which may be in any organisation)."""
    fenced = _policy(_allow(READS, [OBJECTS, WHOLE], {"AWS": ROLE},
                            {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION}}))
    assert set(_decided(_role(), fenced, True, ORGANIZATION).values()) == {YES}
    assert set(_decided(_role(*READ_BOTH), fenced, False, ORGANIZATION).values()) == {MAYBE}


def test_a_key_policy_for_the_organisation_is_decided_by_its_id():
    """AWS KMS Developer Guide, key policies with aws:PrincipalOrgID: every principal of the
    organisation may decrypt through S3."""
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    policy = _policy({**_allow(["kms:Decrypt"], ["*"], "*"),
                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}}})
    needs = keys.lifecycle_needs(key, "us-east-1")
    assert [outcome for _, outcome, _ in keys.verdicts(key, policy, ROLE, [], "us-east-1", needs, ORGANIZATION)] == [YES]
    assert [outcome for _, outcome, _ in keys.verdicts(key, policy, ROLE, [], "us-east-1", needs)] == [MAYBE]


# ----- the command line -------------------------------------------------------------------

ADMIN = str(FIXTURES / "policies" / "corrected-administrator.json")
KEYED = str(FIXTURES / "seed" / "corrected" / "02-customer-managed-key.create-cluster.json")
RCPS = str(FIXTURES / "organization" / "rcps" / "root")  # a data perimeter: Deny outside o-a1b2c3d4e5


def _kms_findings(result) -> set[str]:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return {f["rule"] for f in json.loads(result.stdout)["findings"] if "kms:" in f["message"]}


@pytest.mark.parametrize("organization, expected", [(ORGANIZATION, set()), ("o-f6g7h8i9j0", {"PF331"})])
def test_the_organization_option_decides_an_rcp_data_perimeter(run_cli, organization, expected):
    """AWS Organizations User Guide, RCP examples: "Enforce organization identities" denies
    principals of other organisations; undecided without the id (test_perimeter.py), decided
    with it and the caller's account (an RCP applies to its own account's keys)."""
    result = run_cli("check", "--format", "json", "--policy", ADMIN, "--rcp", RCPS, "--account", "444455556666",
                     "--organization", organization, KEYED)
    assert _kms_findings(result) == expected


def test_the_configuration_names_the_organisation(run_cli, tmp_path):
    (tmp_path / ".preflight.toml").write_text(f'organization = "{ORGANIZATION}"\n')
    result = run_cli("check", "--format", "json", "--config", str(tmp_path / ".preflight.toml"), "--policy", ADMIN,
                     "--rcp", RCPS, "--account", "444455556666", KEYED)
    assert _kms_findings(result) == set()


@pytest.mark.parametrize("args, named", [
    (["--organization", "a1b2c3d4e5", KEYED], "--organization 'a1b2c3d4e5'"),
    (["--organization", ORGANIZATION], "give a request and --policy"),
])
def test_a_bad_or_misplaced_organization_is_a_usage_error(run_cli, args, named):
    result = run_cli("check", "--policy", ADMIN, *args)
    assert result.returncode == 2 and named in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_bad_configured_organisation_is_a_usage_error_naming_the_file(run_cli, tmp_path):
    (tmp_path / ".preflight.toml").write_text('organization = "o-UPPER"\n')
    result = run_cli("check", "--config", str(tmp_path / ".preflight.toml"), "--policy", ADMIN, KEYED)
    assert result.returncode == 2 and ".preflight.toml" in result.stderr and "organization" in result.stderr


# ----- the embedded AWS --------------------------------------------------------------------

def test_a_member_account_reads_its_organisation_id_though_not_its_policies(tmp_path):
    """A member account refused ListParents and ListPoliciesForTarget still describes its
    organisation: its id decides the given RCP's aws:PrincipalOrgID, and a different
    --organization is said. One local AWS of its own (the organisation is the state's)."""
    state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
    state.update(base_dir=str(FIXTURES / "account"), organization={
        "id": ORGANIZATION, "management_account": "111111111111", "readable": False})
    (tmp_path / "member.json").write_text(json.dumps(state))
    request = tmp_path / "org.create-cluster.json"
    request.write_text(json.dumps({**json.loads((FIXTURES / "seed" / "corrected" /
                                                 "02-customer-managed-key.create-cluster.json").read_text()),
                                   "ClusterName": "org-cluster"}))

    def check(*args: str) -> list[dict]:
        result = subprocess.run([sys.executable, "-m", "preflight.local", "--state", str(tmp_path / "member.json"),
                                 "--", *preflight_command(), "check", "--live", "--format", "json", *args,
                                 str(request)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                                env={k: v for k, v in __import__("os").environ.items()
                                     if not k.startswith("AWS_") and k != "MOTO_ACCOUNT_ID"})
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return json.loads(result.stdout)["findings"]

    found = check("--rcp", RCPS, "--organization", "o-f6g7h8i9j0")
    assert not [f for f in found if f["rule"] in ("PF331", "PF332") and "kms:" in f["message"]], found
    assert any(f["rule"] == "PF401" and "--organization o-f6g7h8i9j0 is not the caller's organisation: "
               f"AWS Organizations names {ORGANIZATION}" in f["message"] for f in found), found


def test_another_accounts_bucket_is_told_by_two_heads_and_its_policy_never_asked(local_aws):
    """The shared embedded AWS's bucket of account 111122223333 (fixtures/account/hyperpod.json):
    HeadBucket with ExpectedBucketOwner is refused, without it answered; GetBucketPolicy, which S3
    refuses to any account but the owner's, is not called. The caller's own bucket costs one HeadBucket."""
    from preflight import engine
    from preflight.aws import BotoAccount

    def run(bucket: str):
        request = {"ClusterName": "new-cluster", "InstanceGroups": [{
            "InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge",
            "ImageId": "ami-0123456789abcdef0", "ExecutionRole": ROLE,
            "LifeCycleConfig": {"SourceS3Uri": f"s3://{bucket}/", "OnCreate": "on_create_noop.sh"}}]}
        account = BotoAccount(region=local_aws.region, timeout=5)
        report = engine.run([(documents.parse("request.json", json.dumps(request)), "create-cluster")], account=account)
        return account.calls, [f for f in report.findings if f.rule in ("PF401", "PF422")]

    calls, found = run("sagemaker-hyperpod-shared-111122223333")
    assert calls[("s3", "head_bucket")] == 2 and calls[("s3", "get_bucket_policy")] == 0, calls
    assert [(f.rule, str(f.severity)) for f in found] == [("PF422", "warning")] * 2, found
    calls, found = run("sagemaker-hyperpod-lifecycle-444455556666")
    assert calls[("s3", "head_bucket")] == 1 and calls[("s3", "get_bucket_policy")] == 1, calls
    assert found == []
