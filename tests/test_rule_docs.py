"""Each rule's documentation is executable: its Example fires the rule and its Use instead does not."""

from __future__ import annotations

import re

import pytest

from preflight import documents, engine, iac
from preflight.commandline import reader
from preflight.iac import variables
from preflight.iam import policy as iam_policy
from preflight.registry import all_rules

RULES = list(all_rules().values())
OFFLINE = [r for r in RULES if r.kind not in ("live", "engine")]  # live examples run against moto in test_live.py
SECTION = re.compile(r"^## (Example|Use instead)\n+((?:```(?:json(?: policy)?|yaml template|bash script)\n.*?\n```\n*)+)",
                     re.S | re.M)
BLOCK = re.compile(r"```(json|yaml|bash)( policy| template| script)?\n(.*?)\n```", re.S)
REQUIRED_HEADINGS = ("## Why is this bad?", "## Example", "## Use instead", "## Source")


def examples(rule):
    """{"Example": (requests, policy texts, template texts), "Use instead": ...}; a policy rule's
    lone block is a policy; a ``yaml template`` block is a CloudFormation template and a ``bash
    script`` block a script (templates and scripts are read the same way: for their requests)."""
    found = {}
    for name, body in SECTION.findall(rule.doc):
        requests, policies, templates = [], [], []
        for _, role, text in BLOCK.findall(body):
            if role == " script":
                templates.append(("script", text))
            elif role == " template":
                templates.append(text)
            elif role == " policy" or rule.kind in ("policy", "policy-set"):
                policies.append(text)
            else:
                requests.append(text)
        found[name] = (requests, policies, templates)
    return found


def fired(rule, requests, policies, templates=()) -> set[str]:
    # Requests are read as --var reads them (no variable set), so a `${NAME}` example is a template.
    documents_ = [(variables.substituted(documents.parse(f"example{i}.json", text), {}), rule.operations[0])
                  for i, text in enumerate(requests)]
    for i, text in enumerate(templates):
        if isinstance(text, tuple):
            documents_ += reader.read(documents.Document(f"example{i}.sh", text[1]), {}, documents.MAX_BYTES)[0]
        else:
            documents_ += iac.requests(documents.parse(f"template{i}.yaml", text), {})
    policy_files = [documents.parse(f"policy{i}.json", text) for i, text in enumerate(policies)]
    principal = "arn:aws:iam::444455556666:role/Admin" if any('"RoleDetailList"' in p for p in policies) else None
    policy_set = iam_policy.collect(policy_files, principal) if policies else None
    return {f.rule for f in engine.run(documents_, policy_set).findings}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_docstring_has_every_section(rule):
    headings = ("## Why is this bad?", "## Source") if rule.kind == "engine" else REQUIRED_HEADINGS
    for heading in headings:
        assert heading in rule.doc, f"{rule.id} docstring lacks {heading!r}"
    assert rule.summary.endswith("."), f"{rule.id} summary should be one sentence"


@pytest.mark.parametrize("rule", OFFLINE, ids=[r.id for r in OFFLINE])
def test_example_fires_and_use_instead_does_not(rule):
    found = examples(rule)
    assert rule.id in fired(rule, *found["Example"]), f"{rule.id}'s Example does not fire it"
    assert rule.id not in fired(rule, *found["Use instead"]), f"{rule.id}'s Use instead fires it"


def test_ids_and_names_are_well_formed():
    for rule in RULES:
        assert re.fullmatch(r"PF\d{3}", rule.id)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), rule.name
