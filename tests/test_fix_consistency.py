"""Fixes that other rules refuse: following one finding's advice must not walk into another's error.
The case that started it: a customer managed key on a Slurm cluster, whose fix (PF205) adds
continuous provisioning, which PF115 refused as an error on the API model's older text."""

from __future__ import annotations

import json
import re

import pytest

from preflight import documents, engine
from preflight.findings import Severity
from preflight.registry import all_rules
from conftest import FIXTURES
from test_cases import CASES, load_case
from test_rule_docs import OFFLINE, examples

KEY = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SLURM_WITH_KEY = {
    "ClusterName": "ml-cluster", "Orchestrator": {"Slurm": {}},
    "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1,
                        "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole",
                        "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/", "OnCreate": "on_create.sh"},
                        "InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": True, "VolumeKmsKeyId": KEY}}]}]}
# A fix that says exactly what to add to the request: 'add "Member": value to the request'.
ADDITION = re.compile(r'^add "(\w+)": (.+) to the request$')


def _findings(request: dict, operation: str = "create-cluster"):
    return engine.run([(documents.parse("request.json", json.dumps(request)), operation)]).findings


def _errors_at(findings, pointers) -> list[str]:
    return [f"{f.rule} {f.pointer} {f.message}" for f in findings if f.severity is Severity.ERROR
            and any(f.pointer == p or f.pointer.startswith(p + "/") for p in pointers)]


def test_key_on_a_slurm_cluster_its_fix_is_not_refused():
    first = _findings(SLURM_WITH_KEY)
    key_fix = next(f.fix for f in first if f.rule == "PF205")
    member, value = ADDITION.fullmatch(key_fix).groups()
    fixed = {**SLURM_WITH_KEY, member: json.loads(value)}
    after = _findings(fixed)
    assert "PF205" not in {f.rule for f in after}
    assert _errors_at(after, [f"/{member}"]) == []
    said = next(f for f in after if f.rule == "PF115")  # the sources' disagreement, said as information
    assert said.severity is Severity.INFO and "Developer Guide" in said.message


def _additions():
    """(case name, request, operation, member, value) for each finding on the fixture cases whose
    fix names exactly what to add to the request."""
    found = []
    for path in CASES:
        case, requests, policies = load_case(path)
        for document, operation in requests:
            if not (operation and isinstance(document.data, dict) and document.parsed):
                continue
            for finding in engine.run([(document, operation)], policies).findings:
                addition = ADDITION.fullmatch(finding.fix or "")
                if addition:
                    found.append((f"{path.stem}:{finding.rule}", document.data, operation, *addition.groups()))
    return found


ADDITIONS = _additions()


def test_the_fixture_cases_have_fixes_to_follow():
    assert any(name.endswith("PF205") for name, *_ in ADDITIONS)


@pytest.mark.parametrize("name,request_,operation,member,value", ADDITIONS, ids=[a[0] for a in ADDITIONS])
def test_following_a_fix_is_not_refused_by_another_rule(name, request_, operation, member, value):
    after = _findings({**request_, member: json.loads(value)}, operation)
    assert _errors_at(after, [f"/{member}"]) == []


def _leaves(value, pointer=""):
    if isinstance(value, dict):
        return {p: v for key, item in value.items() for p, v in _leaves(item, f"{pointer}/{key}").items()}
    if isinstance(value, list):
        return {p: v for index, item in enumerate(value) for p, v in _leaves(item, f"{pointer}/{index}").items()}
    return {pointer: value}


def _request_examples(rule) -> tuple[dict, dict] | None:
    """(Example, Use instead) of a rule documented with one JSON request each."""
    (example, _, _), (instead, policies, templates) = examples(rule)["Example"], examples(rule)["Use instead"]
    if policies or templates or len(example) != 1 or len(instead) != 1:
        return None
    try:
        return json.loads(example[0]), json.loads(instead[0])
    except ValueError:  # a rule about unparseable text
        return None


DOCUMENTED = [rule for rule in OFFLINE if _request_examples(rule)]


@pytest.mark.parametrize("rule", DOCUMENTED, ids=[r.id for r in DOCUMENTED])
def test_use_instead_is_not_refused_where_it_differs_from_the_example(rule):
    """What a rule's documentation says to write instead is not a new error of another rule at the
    members it changed."""
    before, after = _request_examples(rule)
    changed = [p for p, v in _leaves(after).items() if _leaves(before).get(p, object()) != v]
    already = {(f.rule, f.pointer) for f in _findings(before, rule.operations[0])}
    new = [f for f in _findings(after, rule.operations[0]) if f.rule != rule.id and (f.rule, f.pointer) not in already]
    assert _errors_at(new, changed) == []


def test_a_value_outside_its_enum_names_the_allowed_values_and_the_documentation_that_disagrees():
    request = {**SLURM_WITH_KEY, "NodeProvisioningMode": "Continuous"}
    request["InstanceGroups"] = [{**request["InstanceGroups"][0], "SlurmConfig": {"NodeType": "Worker"}}]
    found = next(f for f in _findings(request) if f.rule == "PF107")
    assert '"Worker" is not a valid value of NodeType (Controller, Login, Compute)' in found.message
    assert "documentation of ClusterSlurmConfig.NodeType lists Controller, Worker, Login" in found.message
    assert found.fix == "use a value of the enum: Compute in place of Worker"
    request["NodeRecovery"] = "Auto"  # a member whose documentation agrees with its enum: the values, nothing more
    found = next(f for f in _findings(request) if f.rule == "PF107" and f.pointer == "/NodeRecovery")
    assert found.message.startswith('"Auto" is not a valid value of NodeRecovery (Automatic, None)')
    assert "documentation" not in found.message


def test_a_condition_on_the_requested_region_is_decided_by_region(run_cli, tmp_path):
    policy = tmp_path / "region-policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["sagemaker:*", "iam:PassRole", "eks:*"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]}))
    request = str(FIXTURES / "seed" / "corrected" / "04-scale-up.update-cluster.json")

    def verdicts(*options):
        result = run_cli("check", "--format", "json", "--policy", str(policy), *options, request, cwd=tmp_path)
        return {(f["rule"], f["message"].partition(";")[0]) for f in json.loads(result.stdout)["findings"]
                if f["rule"] in ("PF330", "PF332") and "aws:RequestedRegion" in f["message"]}

    assert ("PF332", "UpdateCluster itself") in verdicts()  # no region given: it depends on it
    assert verdicts("--region", "us-east-1") == set()
    assert ("PF330", "UpdateCluster itself") in verdicts("--region", "eu-west-1")
    (tmp_path / ".preflight.toml").write_text('region = "eu-west-1"\n')  # the configuration's region, likewise
    assert ("PF330", "UpdateCluster itself") in verdicts()
