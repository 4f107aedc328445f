"""One parametrised test over fixtures/cases/**: each case names its inputs and the exact rule ids expected."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine, iac
from preflight.iac import variables
from preflight.iam import policy as iam_policy
from preflight.registry import all_rules

CASES = sorted((FIXTURES / "cases").rglob("*.yaml"))


def _document(case_dir, entry, default_name):
    """A document from a case entry: inline text (with an optional file name) or a fixture file."""
    if isinstance(entry, dict) and "file" in entry:
        source = (case_dir / entry["file"]).resolve()
        return documents.parse(str(source.relative_to(FIXTURES.parent)), source.read_text())
    if isinstance(entry, dict):
        return documents.parse(entry.get("file_name", default_name), entry["text"])
    return documents.parse(default_name, entry)


def load_case(path):
    """(case, [(request document, operation)], policy set or None) from a case file.

    A case holds `operation`, `expect` (the exact rule ids), and a `request` (inline text) or
    `request_file`, or a `template` (inline, with optional `parameters`), or a `script` (aws command
    lines, inline, with optional `variables` and `file_name`); `variables` reads the request as
    a shell template with those values; optionally `policies` (inline texts or {file: ...}) and `principal`."""
    case = yaml.safe_load(path.read_text())
    requests = []
    if "request_file" in case:
        requests.append((_document(path.parent, {"file": case["request_file"]}, ""), case["operation"]))
    elif "request" in case:
        request = documents.parse(case.get("file_name", "request.json"), case["request"])
        if "variables" in case:  # a shell template, read as with --var
            request = variables.substituted(request, case["variables"])
        requests.append((request, case["operation"]))
    elif "script" in case:  # aws command lines: the request of each, read as `check deploy.sh` reads them
        from preflight.commandline import reader

        script = documents.Document(case.get("file_name", "script.sh"), case["script"])
        requests += reader.read(script, case.get("variables", {}), documents.MAX_BYTES)[0]
    elif "template" in case:  # a CloudFormation template or Terraform plan: itself and its requests
        template = documents.parse(case.get("file_name", "template.yaml"), case["template"])
        requests += iac.requests(template, case.get("parameters", {}))
    policies = None
    if "policies" in case:
        files = [_document(path.parent, entry, f"policy{i}.json") for i, entry in enumerate(case["policies"])]
        policies = iam_policy.collect(files, case.get("principal"))
    return case, requests, policies


def template_policies(case):
    """A template case's own IAM policies, linted as the CLI lints them."""
    if "template" not in case:
        return []
    template = documents.parse(case.get("file_name", "template.yaml"), case["template"])
    return iac.policies(template, case.get("parameters", {}))


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(FIXTURES / "cases")) for p in CASES])
def test_case(path):
    case, requests, policies = load_case(path)
    report = engine.run(requests, policies, linted=template_policies(case))
    found = Counter(f.rule for f in report.findings)
    assert found == Counter(case["expect"]), "\n".join(
        f"{f.file}:{f.line}:{f.column} {f.rule} {f.pointer} {f.message}" for f in report.findings)
    for finding in report.findings:
        assert finding.line >= 1 and finding.column >= 1
    if "severity" in case:  # one rule with severities by certainty: the case names which it gets
        assert {str(f.severity) for f in report.findings if f.rule == case["rule"]} == {case["severity"]}


def test_every_rule_has_a_failing_and_a_passing_case():
    failing, passing = set(), set()
    for path in CASES:
        case = yaml.safe_load(path.read_text())
        target = case.get("rule")
        if target:
            (failing if target in case["expect"] else passing).add(target)
    offline = [rid for rid, r in all_rules().items() if r.kind not in ("live", "engine")]  # test_live.py has those
    missing = [f"{rid}: {'failing' if rid not in failing else ''} {'passing' if rid not in passing else ''}"
               for rid in offline if rid not in failing or rid not in passing]
    assert not missing, "rules without cases: " + "; ".join(missing)


def test_messages_speak_the_users_terms():
    """Findings name request members and documents a user can open: no model shape names
    (`ClusterInstanceGroupSpecifications`), no in-house names for sources."""
    shape = re.compile(r"\b[A-Z][A-Za-z]*(Specifications?|Request|Config(s)?List)\b")
    for path in CASES:
        _, requests, policies = load_case(path)
        for finding in engine.run(requests, policies).findings:
            text = f"{finding.message} {finding.fix or ''}"
            assert not re.search(r"seed guide|the seed\b|\bmission\b", text, re.I), (path, text)
            assert not shape.search(text), (path, text)
