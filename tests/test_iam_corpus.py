"""Adversarial IAM cases (tests/iam_cases/*.yaml): each gives a policy set (with, in
organizations.yaml, the SCPs, RCPs and session policy around it), one request and the verdict
AWS reaches, with the IAM User Guide or Organizations User Guide page that decides it. The
evaluator must agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine
from preflight.iam import perimeter
from preflight.iam.evaluate import MAYBE, YES, Request, Resource, decide, principal_context
from preflight.iam.policy import PolicyRoot, statements_of
from test_cases import load_case

CORPUS = Path(__file__).parent / "iam_cases"
GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
CASES = [(path.stem, case) for path in sorted(CORPUS.glob("*.yaml")) for case in yaml.safe_load(path.read_text())["cases"]]
PAGES = {path.stem: yaml.safe_load(path.read_text())["pages"] for path in sorted(CORPUS.glob("*.yaml"))}


def _statements(statements, version, boundary=False):
    data = {"Version": version, "Statement": statements} if version else {"Statement": statements}
    root = PolicyRoot(documents.parse("case.json", json.dumps(data)), "", "case.json", data, boundary)
    return statements_of(root)


def _resource(text: str) -> Resource:
    """An ARN where <region>, <account> and a trailing <id> stand for what is not known offline."""
    if text == "*":
        return Resource.any()
    _, partition, service, region, account, path = text.split(":", 5)
    region = None if region == "<region>" else region
    account = None if account == "<account>" else account
    if path.endswith("<id>"):
        if service == "sagemaker" and path == "cluster/<id>":
            return Resource.new_cluster(partition, region, account)
        return Resource(partition, service, region, account, path[:-len("<id>")], open_tail=True)
    return Resource(partition, service, region, account, path)


def _perimeter(case) -> perimeter.Perimeter | None:
    """The case's SCP and RCP levels (each a list of policies, each a list of statements) and
    session policy, read as the policy files they would be."""
    if not any(key in case for key in ("scps", "rcps", "session", "management_account")):
        return None

    def policy(statements, name):
        data = {"Version": "2012-10-17", "Statement": statements}
        return perimeter.policy_root(documents.parse(name, json.dumps(data)))

    def levels(kind):
        return [perimeter.Level(f"{kind}/{i}", tuple(policy(p, f"{kind}/{i}/{j}.json") for j, p in enumerate(level)))
                for i, level in enumerate(case.get(kind, []))]
    session = perimeter.Level("session.json", (policy(case["session"], "session.json"),)) if "session" in case else None
    return perimeter.Perimeter(levels("scps"), levels("rcps"), session, case.get("management_account", False),
                               case.get("organization_id"))


def verdict(case) -> str:
    version = case.get("version", "2012-10-17")
    identity = _statements(case["policy"], version)
    boundary = _statements(case["boundary"], version, True) if "boundary" in case else None
    caller, caller_absent = principal_context(case.get("principal"), case.get("principal_tags"))
    context = {key.lower(): tuple(values) for key, values in (case.get("context") or {}).items()}
    request = Request(case["action"], _resource(case["resource"]), {**caller, **context},
                      tuple(case.get("absent", [])) + caller_absent)
    limits = _perimeter(case)
    if limits is None:
        decision = decide(identity, boundary, request)
    else:
        account = case["principal"].split(":")[4]
        decision = perimeter.decide(identity, boundary, limits, request, case["principal"], account)
    if decision.outcome == YES:
        return "allowed"
    if decision.outcome == MAYBE:
        return "undecided"
    return "explicit-deny" if decision.denied_by else "denied"


def test_the_corpus_is_large_and_every_case_cites_its_page():
    assert len(CASES) >= 60
    names = [case["name"] for _, case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for file, case in CASES:
        assert case["page"] in PAGES[file], f"{case['name']}: unknown page {case['page']}"
        assert case["expect"] in ("allowed", "denied", "explicit-deny", "undecided"), case["name"]
    assert {case["expect"] for _, case in CASES} == {"allowed", "denied", "explicit-deny", "undecided"}


@pytest.mark.parametrize("case", [case for _, case in CASES], ids=[case["name"] for _, case in CASES])
def test_case(case):
    assert verdict(case) == case["expect"], case.get("why", "")


def _findings(case_name):
    """The findings of a fixture case under fixtures/cases/iam-access, for their wording."""
    _, requests, policies = load_case(FIXTURES / "cases" / "iam-access" / case_name)
    return engine.run(requests, policies).findings


def test_undecided_names_the_real_unknown():
    (region,) = [f for f in _findings("PF332-region-unknown.yaml") if f.rule == "PF332"]
    assert "depends on the region (policy0.json /Statement/0/Resource)" in region.message
    assert "cluster id" not in region.message
    (variable,) = [f for f in _findings("PF332-principal-tag-variable.yaml") if f.rule == "PF332"]
    assert "a Deny may apply, depending on the policy variable ${aws:PrincipalTag/blocked-role}" in variable.message


def test_a_cluster_named_by_name_is_said_never_to_match():
    (denied,) = [f for f in _findings("PF330-cluster-named-by-name.yaml") if f.rule == "PF330"]
    assert "a cluster ARN ends in the cluster's 12-character id" in denied.message
