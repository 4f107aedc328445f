"""Each rule's documentation is executable: its Example fires the rule and its Use instead does not."""

from __future__ import annotations

import re

import pytest

from preflight import documents, engine
from preflight.registry import all_rules

RULES = list(all_rules().values())
SECTION = re.compile(r"^## (Example|Use instead)\n+```json\n(.*?)\n```", re.S | re.M)
REQUIRED_HEADINGS = ("## Why is this bad?", "## Example", "## Use instead", "## Source")


def examples(rule):
    return dict((name, text) for name, text in SECTION.findall(rule.doc))


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_docstring_has_every_section(rule):
    for heading in REQUIRED_HEADINGS:
        assert heading in rule.doc, f"{rule.id} docstring lacks {heading!r}"
    assert rule.summary.endswith("."), f"{rule.id} summary should be one sentence"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_example_fires_and_use_instead_does_not(rule):
    found = examples(rule)
    operation = rule.operations[0]
    fired = {name: {f.rule for f in engine.run([(documents.parse("example.json", text), operation)]).findings}
             for name, text in found.items()}
    assert rule.id in fired["Example"], f"{rule.id}'s Example does not fire it"
    assert rule.id not in fired["Use instead"], f"{rule.id}'s Use instead fires it"


def test_ids_and_names_are_well_formed():
    for rule in RULES:
        assert re.fullmatch(r"PF\d{3}", rule.id)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), rule.name
