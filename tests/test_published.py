"""Requests and policies published in public repositories (fixtures/published/manifest.yaml): each
gets exactly the findings listed there, every one with its reason, and nothing else."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine
from preflight.iam import policy as iam_policy

PUBLISHED = FIXTURES / "published"
MANIFEST = yaml.safe_load((PUBLISHED / "manifest.yaml").read_text())["files"]


def test_every_published_file_is_in_the_manifest_with_its_source():
    listed = {entry["file"] for entry in MANIFEST}
    assert listed == {path.name for path in PUBLISHED.glob("*.json")}
    for entry in MANIFEST:
        assert entry["repository"].count("/") == 1 and entry["path"] and len(entry["commit"]) == 40
        assert all(item["why"] for item in entry["expect"]), entry["file"]


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_published_file(entry):
    path = PUBLISHED / entry["file"]
    document = documents.parse(str(path.relative_to(FIXTURES.parent)), path.read_text())
    if entry.get("kind") == "policy":
        report = engine.run([], iam_policy.collect([document], None))
    else:
        report = engine.run([(document, entry["operation"])])
    found = Counter(f.rule for f in report.findings)
    expected = Counter()
    for item in entry["expect"]:
        expected[item["rule"]] += item.get("count", 1)
    assert found == expected, "\n".join(f"{f.line}:{f.column} {f.rule} {f.message}" for f in report.findings)
