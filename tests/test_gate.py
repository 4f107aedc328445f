"""A fresh repository adopting the gate: configuration in pyproject.toml, a suppression with a
reason, an inline suppression, a baseline and three guardrails, through the real command."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES



CLEAN = json.loads((FIXTURES / "seed/corrected/01-standard.create-cluster.json").read_text())

PYPROJECT = '''[project]
name = "clusters"

[tool.preflight]
fail-on = "warning"

[[tool.preflight.suppress]]
rule = "PF124"
file = "clusters/train.*"
pointer = "/InstanceGroups/*/LifeCycleConfig/SourceS3Uri"
reason = "the bucket policy grants the execution role"

[[tool.preflight.suppress]]
rule = "lifecycle-bucket-outside-managed-policy"
file = "clusters/gone.*"
reason = "the file was removed"

[[tool.preflight.guardrail]]
id = "ORG001"
message = "instance types must be on the approved list"
condition = 'request.InstanceGroups.all(g, g.InstanceType in ["ml.c5.2xlarge", "ml.g5.8xlarge"])'

[[tool.preflight.guardrail]]
id = "ORG002"
message = "at most 4 instances per group"
severity = "warning"
operations = ["create-cluster", "update-cluster"]
condition = "request.InstanceGroups.all(g, g.InstanceCount <= 4)"

[[tool.preflight.guardrail]]
id = "ORG003"
message = "clusters carry a team tag"
operations = ["create-cluster"]
condition = 'has(request.Tags) && request.Tags.exists(t, t.Key == "team")'
'''


def request(instance_type="ml.c5.2xlarge", count=2, bucket="sagemaker-lifecycle", team=True) -> dict:
    data = json.loads(json.dumps(CLEAN))
    group = data["InstanceGroups"][0]
    group.update(InstanceType=instance_type, InstanceCount=count)
    group["LifeCycleConfig"]["SourceS3Uri"] = f"s3://{bucket}/"
    if team:
        data["Tags"] = [{"Key": "team", "Value": "ml"}]
    return data


def yaml_text(data: dict, comment: str = "") -> str:
    """The request as YAML, with ``comment`` at the end of the first group's InstanceCount line
    (where a guardrail over each group's count points)."""
    import yaml

    lines = yaml.safe_dump(data, sort_keys=False).splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("InstanceCount:"))
    return "\n".join(line + (f"  {comment}" if comment and i == at else "") for i, line in enumerate(lines)) + "\n"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    clusters = tmp_path / "clusters"
    clusters.mkdir()
    # PF124 suppressed by the configuration; clean otherwise.
    (clusters / "train.create-cluster.json").write_text(json.dumps(request(bucket="team-bucket"), indent=2))
    # ORG002 (8 > 4) suppressed inline with a reason; ORG003: no team tag.
    (clusters / "infer.create-cluster.yaml").write_text(
        yaml_text(request(count=8, team=False), "# preflight: ignore ORG002 -- approved capacity exception"))
    # ORG001: instance type not approved.
    (clusters / "big.create-cluster.json").write_text(json.dumps(request(instance_type="ml.p5.48xlarge"), indent=2))
    return tmp_path


FILES = ("clusters/big.create-cluster.json", "clusters/infer.create-cluster.yaml", "clusters/train.create-cluster.json")


def found(result) -> list[tuple]:
    return [(f["file"].rpartition("/")[2], f["rule"], f["severity"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_findings_suppressions_and_guardrails(run_cli, repo):
    result = run_cli("check", "-f", "json", *FILES, cwd=repo)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert found(result) == [
        ("big.create-cluster.json", "ORG001", "error", 12),  # the group's InstanceType line
        ("infer.create-cluster.yaml", "ORG003", "error", 1),
        ("pyproject.toml", "PF500", "warning", 13),
    ]
    assert [(s["file"].rpartition("/")[2], s["rule"], s["suppression"]["kind"], s["suppression"]["reason"])
            for s in report["suppressed"]] == [
        ("infer.create-cluster.yaml", "ORG002", "inline", "approved capacity exception"),
        ("train.create-cluster.json", "PF124", "config", "the bucket policy grants the execution role"),
    ]
    assert report["summary"] == {"files": 3, "error": 2, "warning": 1, "info": 0, "suppressed": 2}


def test_text_summary_counts_the_suppressed(run_cli, repo):
    result = run_cli("check", *FILES, cwd=repo)
    lines = result.stdout.splitlines()
    assert lines[-1] == "3 files checked: 2 errors, 1 warning, 0 info; 2 suppressed"
    assert "pyproject.toml:13:1: warning PF500 [[suppress]] #2 (lifecycle-bucket-outside-managed-policy in " \
           "clusters/gone.* at *) matched no finding" in result.stdout


def test_sarif_keeps_suppressed_results_with_their_kind(run_cli, repo):
    result = run_cli("check", "-f", "sarif", *FILES, cwd=repo)
    run = json.loads(result.stdout)["runs"][0]
    suppressions = {r["ruleId"]: r.get("suppressions") for r in run["results"]}
    assert suppressions["ORG002"] == [{"kind": "inSource", "justification": "approved capacity exception"}]
    assert suppressions["PF124"] == [{"kind": "external", "justification": "the bucket policy grants the execution role"}]
    assert suppressions["ORG001"] is None
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["ORG001"]["shortDescription"]["text"] == "instance types must be on the approved list."


def test_baseline_fails_only_on_new_findings(run_cli, repo):
    written = run_cli("check", "--write-baseline", "preflight-baseline.json", *FILES, cwd=repo)
    assert written.returncode == 0, written.stdout + written.stderr
    entries = json.loads((repo / "preflight-baseline.json").read_text())["findings"]
    assert sorted(e["rule"] for e in entries) == ["ORG001", "ORG003", "PF500"]
    # Lines move (a member added at the top), a known finding is fixed, a new one appears.
    big = request(instance_type="ml.p5.48xlarge")
    big = {"ClusterName": big.pop("ClusterName"), "NodeRecovery": "Automatic", **big}
    (repo / "clusters/big.create-cluster.json").write_text(json.dumps(big, indent=4))
    (repo / "clusters/infer.create-cluster.yaml").write_text(
        yaml_text(request(count=8), "# preflight: ignore ORG002 -- approved capacity exception"))
    (repo / "clusters/new.update-cluster.json").write_text(json.dumps(
        {"ClusterName": "ml-cluster", "InstanceGroups": [dict(request(count=9)["InstanceGroups"][0])]}, indent=2))
    result = run_cli("check", "-f", "json", "--baseline", "preflight-baseline.json", *FILES,
                     "clusters/new.update-cluster.json", cwd=repo)
    report = json.loads(result.stdout)
    assert found(result) == [("new.update-cluster.json", "ORG002", "warning", 7)]  # the group's InstanceCount
    assert result.returncode == 1
    assert report["baseline"]["known"] == 2 and report["baseline"]["new"] == 1
    assert [(e["rule"], e["file"]) for e in report["baseline"]["gone"]] == [("ORG003", "clusters/infer.create-cluster.yaml")]
    text = run_cli("check", "--baseline", "preflight-baseline.json", *FILES, cwd=repo)
    assert text.returncode == 0
    assert text.stdout.splitlines()[-2:] == [
        "baseline preflight-baseline.json: 2 known findings remain, 0 new; 1 entry gone",
        "  gone: ORG003 clusters/infer.create-cluster.yaml /Tags clusters carry a team tag"]


@pytest.mark.parametrize("guardrail, named", [
    ('id = "ORG009"\nmessage = "m"\ncondition = "request.InstanceGroups.all(g, "', "guardrail ORG009.condition does not compile"),
    ('id = "ORG009"\nmessage = "m"\ncondition = "request.InstanceGroup.size() > 0"', "no member 'InstanceGroup' in request"),
    ('id = "ORG009"\nmessage = "m"\ncondition = "request.InstanceGroups.all(g, g.InstanceTyp == 1)"',
     "no member 'InstanceTyp' in request.InstanceGroups[]"),
    ('id = "ORG009"\nmessage = "m"\ncondition = "images.size() == 0"', "unknown variable 'images'"),
    ('id = "PF999"\nmessage = "m"\ncondition = "true"', "guardrail[3].id"),
    ('id = "ORG009"\nmessage = "m"\ncondition = "true"\nseverity = "fatal"', "guardrail ORG009.severity"),
    ('id = "ORG009"\nmessage = "m"\ncondition = "true"\nwhen = 1', "guardrail[3].when: unknown key"),
])
def test_bad_guardrail_is_a_usage_error_naming_it(run_cli, repo, guardrail, named):
    (repo / "pyproject.toml").write_text(PYPROJECT + "\n[[tool.preflight.guardrail]]\n" + guardrail + "\n")
    result = run_cli("check", "clusters/train.create-cluster.json", cwd=repo)
    assert result.returncode == 2 and named in result.stderr, result.stderr
