"""Organisation and session policies on the command line: --scp and --rcp per level (a folder or a
file), --session-policy, --management-account, --account. Real runs of the installed command for
the exit codes and messages; bad organisation files are usage errors naming the file and place."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES

ORG = FIXTURES / "organization"
ADMIN = str(FIXTURES / "policies" / "corrected-administrator.json")
CREATE = str(FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json")  # us-east-1, EKS, custom AMI
KEYED = str(FIXTURES / "seed" / "corrected" / "02-customer-managed-key.create-cluster.json")


def _check(run_cli, *args):
    return run_cli("check", "--format", "json", "--policy", ADMIN, *args)


def _findings(result) -> list[dict]:
    assert "Traceback" not in result.stdout + result.stderr
    return json.loads(result.stdout)["findings"]


def test_every_level_allows_and_the_request_passes(run_cli):
    result = _check(run_cli, "--scp", str(ORG / "scps" / "root"), "--scp", str(ORG / "scps" / "ml-workloads"),
                    "--scp", str(ORG / "scps" / "account"), CREATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _findings(result) == []


def test_a_region_guard_denies_with_the_policy_and_statement_that_decide(run_cli):
    result = _check(run_cli, "--scp", str(ORG / "scps" / "eu-only.json"), CREATE)
    assert result.returncode == 1
    denied = [f for f in _findings(result) if f["rule"] == "PF331"]
    create = next(f for f in denied if f["path"] == "")
    assert "sagemaker:CreateCluster" in create["message"]
    assert "eu-only.json /Statement/1 (Sid DenyAllOutsideEU) in the SCPs at" in create["message"]
    # IAM is outside the guard (its NotAction): PassRole stays allowed
    assert not any("iam:PassRole" in f["message"] for f in denied)


def test_a_level_that_does_not_allow_an_action_restricts_the_account(run_cli):
    result = _check(run_cli, "--scp", str(ORG / "scps" / "root"), "--scp", str(ORG / "scps" / "no-eks.json"), CREATE)
    assert result.returncode == 1
    refused = [f for f in _findings(result) if f["rule"] == "PF330"]
    assert refused and all(f["message"].count("eks:") for f in refused)
    assert "not allowed by the SCPs at " in refused[0]["message"] and "no-eks.json" in refused[0]["message"]


def test_the_management_account_is_outside_scps(run_cli):
    result = _check(run_cli, "--scp", str(ORG / "scps" / "eu-only.json"), "--management-account", CREATE)
    assert result.returncode == 0, result.stdout


def test_a_session_policy_limits_and_names_itself(run_cli):
    result = _check(run_cli, "--session-policy", str(ORG / "session-describe-only.json"), CREATE)
    assert result.returncode == 1
    (own,) = [f for f in _findings(result) if f["rule"] == "PF330" and f["path"] == ""
              and "sagemaker:CreateCluster" in f["message"]]
    assert "not allowed by the session policy" in own["message"] and "session-describe-only.json" in own["message"]


def test_an_rcp_perimeter_on_the_key_is_undecided_without_the_organisation_id(run_cli):
    result = _check(run_cli, "--rcp", str(ORG / "rcps" / "root"), KEYED)
    undecided = [f for f in _findings(result) if f["rule"] == "PF332"]
    assert len(undecided) == 2
    assert any("kms:CreateGrant on" in f["message"] for f in undecided)
    assert any("kms:DescribeKey on" in f["message"] for f in undecided)
    assert all("a Deny may apply, depending on aws:PrincipalOrgID" in f["message"]
               and "enforce-org-identities.json /Statement/0/Condition" in f["message"] for f in undecided)


def _usage_error(run_cli, *args) -> str:
    result = run_cli("check", "--policy", ADMIN, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr


def test_duplicate_sids_are_refused_naming_the_place(run_cli, tmp_path):
    policy = tmp_path / "dup.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}))
    assert f"{policy} /Statement/1/Sid: Sid 'A' is also the Sid of /Statement/0" in _usage_error(
        run_cli, "--scp", str(policy), CREATE)


@pytest.mark.parametrize("content, expected", [
    ('{"Version": "2012-10-17", "Statement": [', ":1:"),
    ('{"Version": "2012-10-17"}', "not a policy document"),
    ('{"Policy": {"Content": "{not json"}}', "/Policy/Content: the policy content is not JSON"),
])
def test_unusable_organisation_files_are_usage_errors(run_cli, tmp_path, content, expected):
    policy = tmp_path / "scp.json"
    policy.write_text(content)
    assert expected in _usage_error(run_cli, "--rcp", str(policy), CREATE)


def test_an_empty_level_folder_and_misplaced_options_are_usage_errors(run_cli, tmp_path):
    assert "a folder without policy files" in _usage_error(run_cli, "--scp", str(tmp_path), CREATE)
    assert "give a 12-digit AWS account id" in _usage_error(run_cli, "--account", "4444", CREATE)
    result = run_cli("check", "--scp", str(ORG / "scps" / "root"), CREATE)  # no --policy, no --live
    assert result.returncode == 2 and "give a request and --policy (or --live)" in result.stderr


def test_the_account_option_decides_statements_on_the_callers_account(run_cli, tmp_path):
    """A grant kept to the caller's own account (aws:ResourceAccount = ${aws:PrincipalAccount}) is
    undecided while the caller's account is unknown, and decided by --account."""
    policy = json.loads((FIXTURES / "policies" / "corrected-administrator.json").read_text())
    policy["Statement"] = [s for s in policy["Statement"] if "kms:CreateGrant" not in s["Action"]]  # its key grant
    policy["Statement"].append({"Effect": "Allow", "Action": ["kms:DescribeKey", "kms:CreateGrant"], "Resource": "*",
                                "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}})
    (tmp_path / "admin.json").write_text(json.dumps(policy))

    def key_findings(*args):
        result = run_cli("check", "--format", "json", "--policy", str(tmp_path / "admin.json"), *args, KEYED)
        return [f["rule"] for f in _findings(result) if "kms:" in f["message"]]
    assert key_findings() == ["PF332", "PF332"]
    assert key_findings("--account", "444455556666") == []
    assert key_findings("--account", "111122223333") == ["PF330", "PF330"]
