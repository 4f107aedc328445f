"""Reviewed plan files, walked as a team does: `preflight plan REQUEST --out PLAN.json`, the plan
reviewed, then `preflight apply PLAN.json`, through the installed CLI against an embedded AWS of this
module's own (the tests change its account between plan and apply: an AMI's tags, a group's count)."""

from __future__ import annotations

import json
import os
import time

import pytest

from conftest import FIXTURES, preflight_command

SCALE = json.loads((FIXTURES / "seed" / "corrected" / "04-scale-up.update-cluster.json").read_text())
CLUSTER, IMAGE = SCALE["ClusterName"], SCALE["InstanceGroups"][0]["ImageId"]


class Account:
    """An embedded AWS of this module's own, in a process of its own (moto's state is per process:
    a second server in the test process would share, and change, the other tests' account)."""

    def __init__(self, endpoint: str, account: str, region: str):
        self.endpoint, self.account, self.region = endpoint, account, region
        self.env = {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def aws():
    import re
    import subprocess
    import sys
    import threading

    pytest.importorskip("moto", reason="the live tests need the test extra (moto[server])")
    server = subprocess.Popen([sys.executable, "-m", "preflight.local", "--", "cat"], stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # cat holds it up until its stdin closes
    started = re.match(r"local AWS at (\S+) \(account (\d+), ([\w-]+)\)", server.stderr.readline())
    threading.Thread(target=server.stderr.read, daemon=True).start()  # whatever it says later never blocks it
    try:
        assert started, "the embedded AWS did not start"
        yield Account(*started.groups())
    finally:
        server.stdin.close()
        server.wait(timeout=60)


@pytest.fixture
def walk(aws, tmp_path):
    """Run the CLI in a project folder of the test's own, against this module's AWS."""
    import subprocess

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **aws.env}

    def run(*args: str):
        return subprocess.run(preflight_command() + list(args), capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
    return run


def _workers(aws) -> dict:
    cluster = aws.client("sagemaker").describe_cluster(ClusterName=CLUSTER)
    return next(g for g in cluster["InstanceGroups"] if g["InstanceGroupName"] == "workers")


def _scale_request(aws, tmp_path, count: int | None = None):
    """A scale of the workers group to one node more or less than it has now, written as a request file."""
    current = _workers(aws)["TargetCount"]
    request = json.loads(json.dumps(SCALE))
    request["InstanceGroups"][0]["InstanceCount"] = count or (3 if current == 2 else 2)
    path = tmp_path / "scale.update-cluster.json"
    path.write_text(json.dumps(request, indent=2))
    return path, request


def _planned(walk, aws, tmp_path):
    path, request = _scale_request(aws, tmp_path)
    result = walk("plan", path.name, "--live", "--out", "plan.json")
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path / "plan.json", request


def _rules(result) -> list[str]:
    return [f["rule"] for f in json.loads(result.stdout)["findings"]]


def test_apply_sends_the_planned_request_not_the_working_tree(walk, aws, tmp_path):
    plan, request = _planned(walk, aws, tmp_path)
    data = json.loads(plan.read_text())
    assert data["format"] == "preflight-plan" and data["version"] == 1
    assert (data["operation"], data["account"], data["region"]) == ("update-cluster", aws.account, aws.region)
    assert data["request"] == request and data["file"] == "scale.update-cluster.json"
    assert any(f["read"] == "cluster" and f["of"] == [CLUSTER] for f in data["facts"])
    # edited after the review: apply must not read it
    (tmp_path / "scale.update-cluster.json").write_text(json.dumps({**request, "ClusterName": "other"}))

    result = walk("apply", "--format", "json", "plan.json")

    assert result.returncode == 0, result.stdout + result.stderr
    sent = json.loads(result.stdout)["tool"]["apply"]
    assert sent["result"] == "sent" and sent["request"] == request
    assert _workers(aws)["TargetCount"] == request["InstanceGroups"][0]["InstanceCount"]


def test_a_changed_ami_tag_refuses_the_plan(walk, aws, tmp_path):
    plan, request = _planned(walk, aws, tmp_path)
    before = _workers(aws)["TargetCount"]
    ec2 = aws.client("ec2")
    ec2.create_tags(Resources=[IMAGE], Tags=[{"Key": "stage", "Value": "retired"}])
    try:
        result = walk("apply", "--format", "json", "plan.json")
    finally:
        ec2.delete_tags(Resources=[IMAGE], Tags=[{"Key": "stage"}])

    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    changed = [f for f in report["findings"] if f["rule"] == "PF480"]
    assert len(changed) == 1 and f"images {IMAGE}" in changed[0]["message"] and "/tags/stage added" in changed[0]["message"]
    assert changed[0]["file"] == "plan.json" and changed[0]["path"].startswith("/facts/")
    assert "retired" not in plan.read_text() + changed[0]["message"]  # a tag's value is shown as its digest
    assert report["tool"]["apply"]["result"] == "not sent"
    assert _workers(aws)["TargetCount"] == before


def test_a_changed_group_count_refuses_the_plan(walk, aws, tmp_path):
    plan, request = _planned(walk, aws, tmp_path)
    before = _workers(aws)["TargetCount"]
    changed = json.loads(json.dumps(request))
    changed["InstanceGroups"][0]["InstanceCount"] = 1 if before != 1 else 2  # someone else scaled it meanwhile
    aws.client("sagemaker").update_cluster(**changed)

    result = walk("apply", "plan.json")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "PF480" in result.stdout and f"cluster {CLUSTER} changed since the plan" in result.stdout
    assert f"/groups/workers/TargetCount {before} -> {changed['InstanceGroups'][0]['InstanceCount']}" in result.stdout
    assert "not sent" in result.stdout
    assert _workers(aws)["TargetCount"] == changed["InstanceGroups"][0]["InstanceCount"]


def test_an_old_plan_is_refused_by_option_and_by_configuration(walk, aws, tmp_path):
    plan, _ = _planned(walk, aws, tmp_path)
    time.sleep(2.1)
    for options in (["--max-age", "1s"], []):
        if not options:
            (tmp_path / ".preflight.toml").write_text('plan-max-age = "1s"\n')
        result = walk("apply", "--format", "json", *options, "plan.json")
        assert result.returncode == 1, result.stdout + result.stderr
        found = json.loads(result.stdout)["findings"]
        assert [(f["rule"], f["path"]) for f in found] == [("PF481", "/planned_at")]
        assert "older than the 1s" in found[0]["message"]
    assert walk("apply", "--dry-run", "--max-age", "1h", "plan.json").returncode == 0
    assert walk("apply", "--max-age", "soon", "plan.json").returncode == 2


def test_an_edited_plan_is_refused(walk, aws, tmp_path):
    plan, request = _planned(walk, aws, tmp_path)
    data = json.loads(plan.read_text())
    edits = {"/request": lambda d: d["request"]["InstanceGroups"][0].update(InstanceCount=4),
             "/digest": lambda d: d["facts"].pop()}
    for pointer, edit in edits.items():
        edited = json.loads(json.dumps(data))
        edit(edited)
        plan.write_text(json.dumps(edited, indent=2))
        before = _workers(aws)["TargetCount"]

        result = walk("apply", "--format", "json", "plan.json")

        assert result.returncode == 1, result.stdout + result.stderr
        found = json.loads(result.stdout)["findings"]
        assert [(f["rule"], f["path"]) for f in found] == [("PF481", pointer)]
        assert "edited" in found[0]["message"]
        assert _workers(aws)["TargetCount"] == before


def test_a_request_holding_a_credential_is_not_written_into_a_plan(walk, aws, tmp_path):
    path, request = _scale_request(aws, tmp_path)
    request["Tags"] = [{"Key": "deploy", "Value": "AKIAIOSFODNN7EXAMPLE"}]
    path.write_text(json.dumps(request))

    result = walk("plan", str(path), "--out", "plan.json")

    assert result.returncode == 2
    assert "/Tags/0/Value looks like an AWS access key id" in result.stderr
    assert not (tmp_path / "plan.json").exists()


def test_a_plan_holds_one_request(walk, aws, tmp_path):
    first, _ = _scale_request(aws, tmp_path)
    second = tmp_path / "again.update-cluster.json"
    second.write_text(first.read_text())
    result = walk("plan", str(first), str(second), "--out", "plan.json")
    assert result.returncode == 2 and "a plan file holds one request" in result.stderr


def test_a_hostile_plan_ends_in_findings_not_a_crash(walk, aws, tmp_path):
    """A plan whose digests were computed again over hostile facts (the digests detect edits; they do
    not sign): each fact apply cannot read again is refused by name, nothing is sent."""
    import hashlib

    plan, _ = _planned(walk, aws, tmp_path)
    data = json.loads(plan.read_text())
    data["facts"] += [{"read": "cluster", "of": [["a list"]], "showed": {}},
                      {"read": "cluster", "of": ["a", "b", "c"], "showed": {}},
                      {"read": "send", "of": [], "showed": {}}]
    unsealed = {k: v for k, v in data.items() if k != "digest"}
    data["digest"] = "sha256:" + hashlib.sha256(json.dumps(unsealed, sort_keys=True, separators=(",", ":"),
                                                           ensure_ascii=False).encode()).hexdigest()
    plan.write_text(json.dumps(data, indent=2))
    before = _workers(aws)["TargetCount"]

    result = walk("apply", "--format", "json", "plan.json")

    assert result.returncode == 1, result.stdout + result.stderr
    refused = [f["path"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "PF481"]
    count = len(data["facts"])
    assert refused == [f"/facts/{count - 3}", f"/facts/{count - 2}", f"/facts/{count - 1}"]
    assert _workers(aws)["TargetCount"] == before
