"""Requests, templates and policies published in public repositories (fixtures/published/manifest.yaml):
each gets exactly the findings listed there, every one with its reason, and nothing else. A shell
template is read with the variables the manifest gives (``vars``, ``env_file``), as --var and
--env-file would; a CloudFormation template is told by its content, as the CLI does; a Terraform
configuration is read with its folder, as Terraform does."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine, iac
from preflight.iac.variables import read_env_file, substituted
from preflight.iam import policy as iam_policy

PUBLISHED = FIXTURES / "published"
# Command lines have a corpus of their own, with its own manifest (tests/test_published_commands.py).
COMMAND_LINES = "commandline"
MANIFEST = yaml.safe_load((PUBLISHED / "manifest.yaml").read_text())["files"]


def test_every_published_file_is_in_the_manifest_with_its_source():
    listed = {entry["file"] for entry in MANIFEST} | {entry["env_file"] for entry in MANIFEST if "env_file" in entry}
    assert listed == {str(path.relative_to(PUBLISHED)) for path in PUBLISHED.rglob("*")
                      if path.is_file() and path.name != "manifest.yaml"
                      and path.relative_to(PUBLISHED).parts[0] != COMMAND_LINES}
    for entry in MANIFEST:
        assert entry["repository"].count("/") == 1 and entry["path"] and len(entry["commit"]) == 40
        assert all(item["why"] for item in entry["expect"]), entry["file"]
        assert entry.get("kind") in ("policy", "template", "terraform") or entry.get("operation"), entry["file"]


def _report(entry):
    path = PUBLISHED / entry["file"]
    if entry.get("kind") == "terraform":
        document = iac.read(str(path), documents.MAX_BYTES, {})
        return engine.run(iac.requests(document, {}), linted=iac.policies(document, {}))
    document = documents.parse(str(path.relative_to(FIXTURES.parent)), path.read_text())
    if entry.get("kind") == "policy":
        return engine.run([], iam_policy.collect([document], None))
    if "vars" in entry or "env_file" in entry:
        given = entry.get("vars", {})
        variables = read_env_file(str(PUBLISHED / entry["env_file"]), given=given) if "env_file" in entry else {}
        document = substituted(document, {**variables, **given})
    if entry.get("kind") == "template":
        return engine.run(iac.requests(document, {}), linted=iac.policies(document, {}))
    return engine.run([(document, entry["operation"])])


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_published_file(entry):
    report = _report(entry)
    found = Counter(f.rule for f in report.findings)
    expected = Counter()
    for item in entry["expect"]:
        expected[item["rule"]] += item.get("count", 1)
    assert found == expected, "\n".join(f"{f.line}:{f.column} {f.rule} {f.message}" for f in report.findings)
