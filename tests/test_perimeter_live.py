"""SCPs and RCPs read from AWS Organizations in the live prefetch, on the embedded AWS: the
account-state file's ``organization`` makes the organisation (preflight/local.py says how moto's
store is seeded where it lacks AWS's behaviour). Three organisations, each in a local AWS of its
own started once for the module (concurrently); the checks run as a user runs them, as
``preflight check --live`` processes against it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES, preflight_command

ORG = "../organization"  # relative to fixtures/account, the state's base_dir
OUS = [{"name": "ml", "parent": "root"}, {"name": "ml-prod", "parent": "ml"}]
MEMBER = {"management_account": "111111111111", "ous": OUS, "account_ou": "ml-prod"}
ORGANIZATIONS = {
    # an instance-type guard at the root, and an allow list without EKS in FullAWSAccess's place on the OU
    # and an RCP keeping KMS keys to an organisation that is not this one
    "member": {**MEMBER, "policies": [
        {"type": "SCP", "name": "approved-gpus", "document": f"{ORG}/scps/approved-gpus.json", "targets": ["root"]},
        {"type": "SCP", "name": "allow-sagemaker-ec2-iam", "document": f"{ORG}/scps/no-eks.json", "targets": ["ml"],
         "replaces_full_access": True},
        {"type": "RCP", "name": "enforce-org-identities", "document": f"{ORG}/rcps/root/enforce-org-identities.json",
         "targets": ["root"]}]},
    "unreadable": {**MEMBER, "readable": False, "policies": [
        {"type": "SCP", "name": "deny-outside-eu", "document": f"{ORG}/scps/eu-only.json", "targets": ["root"]}]},
    "management": {"management_account": "444455556666", "policies": [
        {"type": "SCP", "name": "deny-outside-eu", "document": f"{ORG}/scps/eu-only.json", "targets": ["root"]}]},
}
WAIT = "import json, os, sys; print(json.dumps(dict(os.environ)), flush=True); sys.stdin.read()"


@pytest.fixture(scope="module")
def organizations(tmp_path_factory):
    """Each organisation's local AWS: the environment that points at it."""
    folder = tmp_path_factory.mktemp("organizations")
    servers = {}
    for name, organization in ORGANIZATIONS.items():
        state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
        state.update(base_dir=str(FIXTURES / "account"), organization=organization)
        (folder / f"{name}.json").write_text(json.dumps(state))
        servers[name] = subprocess.Popen([sys.executable, "-m", "preflight.local", "--state", str(folder / f"{name}.json"),
                                          "--", sys.executable, "-c", WAIT], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield {name: json.loads(server.stdout.readline()) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stdin.close()
            server.wait(timeout=60)


def _live(organizations, name, tmp_path, *args: str, example: str = "01-standard") -> tuple[list[dict], int]:
    request = json.loads((FIXTURES / "seed" / "corrected" / f"{example}.create-cluster.json").read_text())
    request["ClusterName"] = "org-cluster"  # not the state's own cluster
    (tmp_path / "org.create-cluster.json").write_text(json.dumps(request))
    result = subprocess.run([*preflight_command(), "check", "--live", "--format", "json", *args,
                             str(tmp_path / "org.create-cluster.json")], env=organizations[name],
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return json.loads(result.stdout)["findings"], result.returncode


def _access(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule"] in ("PF330", "PF331", "PF332")]


def test_every_level_is_read_and_decides(organizations, tmp_path):
    findings, code = _live(organizations, "member", tmp_path)
    access = _access(findings)
    (create,) = [f for f in access if f["rule"] == "PF331"]  # ml.c5.2xlarge is not an approved type
    assert "sagemaker:CreateCluster" in create["message"]
    assert "organizations:r-" in create["message"] and \
        "approved-gpus.json /Statement/0 (Sid RequireApprovedInstanceTypes)" in create["message"], create
    refused = [f for f in access if f["rule"] == "PF330" and f["severity"] == "error"]
    assert refused and all("eks:" in f["message"] and "not allowed by the SCPs at organizations:ou-" in f["message"]
                           for f in refused), refused
    assert not any("iam:PassRole" in f["message"] for f in access)  # both levels allow it
    assert code == 1


def test_the_management_account_is_outside_its_scps(organizations, tmp_path):
    findings, _ = _live(organizations, "management", tmp_path)
    assert not [f for f in _access(findings) if f["severity"] == "error"], findings


@pytest.mark.parametrize("given", [False, True])
def test_a_member_that_may_not_read_them_says_so_and_takes_the_files(organizations, tmp_path, given):
    files = ["--scp", str(FIXTURES / "organization" / "scps" / "eu-only.json")] if given else []
    findings, _ = _live(organizations, "unreadable", tmp_path, *files)
    notes = [f for f in findings if f["rule"] == "PF401" and "organisation" in f["message"]]
    if given:  # the files are the SCPs: Organizations is asked for the organisation's id only
        assert notes == []
        assert any("eu-only.json /Statement/1 (Sid DenyAllOutsideEU) in the SCPs at" in f["message"]
                   for f in _access(findings))
    else:
        (note,) = notes
        assert note["severity"] == "info" and "access denied" in note["message"] and "--scp and --rcp" in note["message"]
        assert not [f for f in _access(findings) if f["severity"] == "error"]


def test_an_rcp_is_read_and_judges_the_callers_organisation(organizations, tmp_path):
    """The organisation's id is read with it (aws:PrincipalOrgID): the RCP's perimeter names
    another organisation, so the key is refused whatever the key policy says."""
    findings, _ = _live(organizations, "member", tmp_path, example="02-customer-managed-key")
    keyed = [f for f in _access(findings) if "kms:" in f["message"]]
    assert {f["rule"] for f in keyed} == {"PF331"}, keyed
    assert all("enforce-org-identities.json /Statement/0 (Sid EnforceOrgIdentities) in the RCPs at organizations:r-"
               in f["message"] for f in keyed), keyed
