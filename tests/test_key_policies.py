"""KMS key policies for an execution role (tests/iam_cases/resource-policies/kms-keys.yaml): who a statement names
(Principal, NotPrincipal, the account root delegating to IAM), kms:ViaService and
kms:CallerAccount, and another principal's Deny left aside; each case's verdicts, per action, as
the AWS KMS and IAM guides decide them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from preflight import documents
from preflight.iam import keys
from preflight.iam.evaluate import MAYBE, NO, YES
from preflight.iam.policy import PolicyRoot, statements_of

DATA = yaml.safe_load((Path(__file__).parent / "iam_cases" / "resource-policies" / "kms-keys.yaml").read_text())
VERDICTS = {YES: "allowed", MAYBE: "undecided"}


def _verdicts(case) -> dict[str, str]:
    key_policy = {"Version": "2012-10-17", "Statement": case["key_policy"]}
    role = {"Version": "2012-10-17", "Statement": case["role_policy"]}
    own = statements_of(PolicyRoot(documents.parse("role.json", json.dumps(role)), "", "role.json", role))
    found = {}
    for action, outcome, reason in keys.verdicts(DATA["key"], key_policy, DATA["role"], own, DATA["region"]):
        found[action] = VERDICTS.get(outcome) or ("explicit-deny" if "denies" in reason else "denied")
        assert outcome in (YES, NO, MAYBE)
    return found


def test_every_case_cites_its_page_and_the_verdicts_vary():
    assert all(case["page"] in DATA["pages"] for case in DATA["cases"])
    assert {v for case in DATA["cases"] for v in case["expect"].values()} == {
        "allowed", "denied", "explicit-deny", "undecided"}


@pytest.mark.parametrize("case", DATA["cases"], ids=[case["name"] for case in DATA["cases"]])
def test_key_policy_case(case):
    assert _verdicts(case) == case["expect"], case.get("why", "")
