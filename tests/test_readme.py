"""The README's rules table is the registry's, and its two set-up commands are the ones CI runs."""

from __future__ import annotations

import re

from conftest import ROOT
from preflight.registry import all_rules


def test_rules_table_matches_registry():
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (PF\d{3}) \| ([a-z0-9-]+) \| (\w+) \| (.*) \|$", readme, re.M)
    expected = [(r.id, r.name, str(r.severity), r.summary) for r in all_rules().values()]
    assert rows == expected


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(python3 -m venv[^\n]*)\n```", readme)
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci
