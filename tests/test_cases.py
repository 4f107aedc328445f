"""One parametrised test over fixtures/cases/**: each case names its inputs and the exact rule ids expected."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine
from preflight.registry import all_rules

CASES = sorted((FIXTURES / "cases").rglob("*.yaml"))


def load_case(path):
    case = yaml.safe_load(path.read_text())
    if "request_file" in case:
        source = (path.parent / case["request_file"]).resolve()
        document = documents.parse(str(source.relative_to(FIXTURES.parent)), source.read_text())
    else:
        document = documents.parse(case.get("file_name", "request.json"), case["request"])
    return case, document


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(FIXTURES / "cases")) for p in CASES])
def test_case(path):
    case, document = load_case(path)
    report = engine.run([(document, case["operation"])])
    found = Counter(f.rule for f in report.findings)
    assert found == Counter(case["expect"]), "\n".join(
        f"{f.line}:{f.column} {f.rule} {f.pointer} {f.message}" for f in report.findings)
    for finding in report.findings:
        assert finding.line >= 1 and finding.column >= 1


def test_every_rule_has_a_failing_and_a_passing_case():
    failing, passing = set(), set()
    for path in CASES:
        case, _ = load_case(path)
        target = case.get("rule")
        if target:
            (failing if target in case["expect"] else passing).add(target)
    missing = [f"{rid}: {'failing' if rid not in failing else ''} {'passing' if rid not in passing else ''}"
               for rid in all_rules() if rid not in failing or rid not in passing]
    assert not missing, "rules without cases: " + "; ".join(missing)
