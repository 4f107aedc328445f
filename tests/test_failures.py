"""docs/failures.yaml, public reports of failed HyperPod operations judged against the rules: its
page is current, each caught report names cases that show its rules, and each rule it names
exists. The cases themselves run once, in test_live.py (fixtures/live/) and test_cases.py
(fixtures/cases/)."""

from __future__ import annotations

import re
import sys

import pytest
import yaml

from conftest import ROOT
from preflight.registry import all_rules
from test_cases import CASES
from test_live import LIVE_CASES

sys.path.insert(0, str(ROOT / "scripts"))
import render_failures  # noqa: E402 - a script, not a package

ENTRIES = render_failures.load()
CAUGHT = [entry for entry in ENTRIES if "caught_by" in entry]
PUBLIC_KINDS = ("issue", "pull", "page")


def test_the_page_is_rendered_from_the_yaml():
    assert (ROOT / "docs" / "failures.md").read_text() == render_failures.render(ENTRIES), \
        "docs/failures.md is stale: run python scripts/render_failures.py"


def test_each_report_is_caught_or_says_why_not():
    assert len({entry["id"] for entry in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert ("caught_by" in entry) != ("not_caught" in entry), entry["id"]
        if "not_caught" in entry:
            assert entry["not_caught"].startswith((render_failures.NO_CHECK, render_failures.NOT_YET)), entry["id"]


@pytest.mark.parametrize("entry", CAUGHT, ids=[entry["id"] for entry in CAUGHT])
def test_each_case_of_a_caught_report_expects_its_rules(entry):
    assert entry["cases"], "a caught report needs a case that reproduces it"
    for case in entry["cases"]:
        path = ROOT / case
        assert path in LIVE_CASES or path in CASES, f"{case} is not a case test_live.py or test_cases.py runs"
        expected = set(yaml.safe_load(path.read_text())["expect"])
        assert set(entry["caught_by"]) <= expected, f"{case} does not expect {sorted(set(entry['caught_by']) - expected)}"


def _prose(entry: dict) -> str:
    return f"{entry.get('note', '')} {entry.get('not_caught', '')}"


def test_every_rule_named_exists():
    named = {rule for entry in ENTRIES for rule in entry.get("caught_by", [])}
    named |= {rule for entry in ENTRIES for rule in re.findall(r"\bPF\d{3}\b", _prose(entry))}
    assert named and not named - set(all_rules()), sorted(named - set(all_rules()))


def test_every_fixture_named_in_the_prose_exists():
    named = {path for entry in ENTRIES for path in re.findall(r"fixtures/[\w./-]+\.yaml", _prose(entry))}
    assert not [path for path in named if not (ROOT / path).is_file()]


def test_the_reports_are_public_and_counted():
    public = [entry for entry in ENTRIES if entry["source"]["kind"] in PUBLIC_KINDS
              and entry["source"]["url"].startswith("https://")]
    assert len(public) >= 30
    for entry in ENTRIES:
        source = entry["source"]
        if source["kind"] in ("issue", "pull"):
            assert f"github.com/{source['repository']}/" in source["url"] and source["url"].endswith(f"/{source['number']}")
    page = (ROOT / "docs" / "failures.md").read_text()
    assert f"{len(ENTRIES)} reports" in page and f"{len(CAUGHT)} caught" in page
    assert f"{len(ENTRIES) - len(CAUGHT)} not caught" in page
