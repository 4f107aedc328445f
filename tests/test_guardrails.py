"""The documented example guardrails (fixtures/guardrails/examples.toml): each fires on a request
that breaks it and not on one that keeps it; the live ones against the local AWS."""

from __future__ import annotations

import json
import tomllib

import pytest

from conftest import FIXTURES
from preflight import config, documents, engine, guardrails

EXAMPLES = FIXTURES / "guardrails/examples.toml"
CLEAN = json.loads((FIXTURES / "seed/corrected/02-customer-managed-key.create-cluster.json").read_text())
CLEAN["Tags"] = [{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}]
CLEAN["NodeRecovery"] = "Automatic"


def example_rules(region: str | None = "us-east-1"):
    settings = tomllib.loads(EXAMPLES.read_text())
    if region is None:
        del settings["region"]
    return guardrails.compile_all(config.parse(settings, str(EXAMPLES)))


def group(request: dict) -> dict:
    return request["InstanceGroups"][0]


def changed(change) -> dict:
    request = json.loads(json.dumps(CLEAN))
    change(request)
    return request


def guardrail_findings(request: dict, operation="create-cluster", account=None, rules=None) -> list[str]:
    document = documents.parse("request.json", json.dumps(request))
    report = engine.run([(document, operation)], account=account, rules={}, guardrails=rules or example_rules())
    return sorted(f.rule for f in report.findings)


def test_a_request_that_keeps_every_offline_example_has_no_finding():
    assert guardrail_findings(CLEAN) == []


BREAKS = {
    "ORG001": lambda r: group(r).update(InstanceType="ml.t3.medium"),
    "ORG003": lambda r: group(r).update(InstanceCount=17),
    "ORG004": lambda r: r["InstanceGroups"].extend(
        [dict(group(r), InstanceGroupName=f"g{i}", InstanceCount=16) for i in range(4)]),
    "ORG005": lambda r: r["Tags"].pop(),
    "ORG006": lambda r: group(r)["InstanceStorageConfigs"][1]["EbsVolumeConfig"].pop("VolumeKmsKeyId"),
    "ORG009": lambda r: r.pop("NodeRecovery"),
}


@pytest.mark.parametrize("guardrail", sorted(BREAKS))
def test_each_offline_example_fires_on_the_request_that_breaks_it(guardrail):
    assert guardrail_findings(changed(BREAKS[guardrail])) == [guardrail]


def test_region_example_reads_the_configured_region():
    assert guardrail_findings(CLEAN, rules=example_rules(region=None)) == ["ORG002"]


def test_examples_follow_the_operation():
    update = {"ClusterName": "ml-cluster", "InstanceGroups": [dict(group(CLEAN), InstanceCount=17)]}
    assert guardrail_findings(update, "update-cluster") == ["ORG003"]  # ORG005, ORG009: create only
    assert guardrail_findings({"ClusterName": "ml-cluster"}, "delete-cluster") == []  # only ORG002 applies


def test_examples_are_documented_in_the_readme():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for rule_id in example_rules():
        assert rule_id in readme


@pytest.fixture(scope="module")
def account(local_aws):
    from preflight.aws import BotoAccount

    return lambda: BotoAccount(region=local_aws.region, timeout=5)


@pytest.mark.parametrize("change, expected", [
    (lambda r: None, []),
    (lambda r: group(r).update(ImageId="ami-0ddddddddddddddd5"), ["ORG008"]),  # owned by 111122223333
    (lambda r: group(r)["InstanceStorageConfigs"][1]["EbsVolumeConfig"].update(
        VolumeKmsKeyId="aaaabbbb-cccc-dddd-eeee-ffff00001111"), ["ORG007"]),  # an AWS managed key
])
def test_live_examples_read_what_the_live_checks_read(account, change, expected):
    live_rules = {k: v for k, v in example_rules().items() if k in ("ORG007", "ORG008")}
    assert guardrail_findings(changed(change), account=account(), rules=live_rules) == expected


def test_live_examples_do_not_run_offline():
    live_rules = {k: v for k, v in example_rules().items() if k in ("ORG007", "ORG008")}
    assert guardrail_findings(changed(lambda r: group(r).update(ImageId="ami-0ddddddddddddddd5")),
                              rules=live_rules) == []


def test_a_guardrail_over_every_item_points_at_each_item_it_fails_on(run_cli, tmp_path):
    request = changed(lambda r: r["InstanceGroups"].extend([dict(group(r), InstanceGroupName=f"g{i}") for i in (1, 2)]))
    request["InstanceGroups"][1]["InstanceType"] = "ml.t3.medium"
    request["InstanceGroups"][2]["InstanceCount"] = 17
    request["InstanceGroups"][2]["InstanceType"] = "ml.t3.large"
    document = documents.parse("request.json", json.dumps(request, indent=1))
    report = engine.run([(document, "create-cluster")], rules={}, guardrails=example_rules())
    assert sorted((f.rule, f.pointer) for f in report.findings) == [
        ("ORG001", "/InstanceGroups/1/InstanceType"), ("ORG001", "/InstanceGroups/2/InstanceType"),
        ("ORG003", "/InstanceGroups/2/InstanceCount")]
    path = tmp_path / "request.create-cluster.json"
    path.write_text(json.dumps(request, indent=1))
    (tmp_path / ".preflight.toml").write_text(EXAMPLES.read_text())
    result = run_cli("check", "--format", "json", str(path), cwd=tmp_path)
    lines = {(f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("ORG")}
    text = path.read_text().splitlines()
    assert {(rule, text[line - 1].strip().split(":")[0]) for rule, line in lines} == {
        ("ORG001", '"InstanceType"'), ("ORG003", '"InstanceCount"')}


def test_an_item_the_condition_cannot_judge_is_named_with_the_reason():
    request = changed(lambda r: group(r).update(InstanceCount="many"))
    document = documents.parse("request.json", json.dumps(request))
    report = engine.run([(document, "create-cluster")], rules={}, guardrails=example_rules())
    (finding,) = [f for f in report.findings if f.rule == "ORG003"]
    assert finding.pointer == "/InstanceGroups/0/InstanceCount" and "could not be evaluated" in finding.message
