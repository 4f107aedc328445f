"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json

from preflight import __version__
from preflight.findings import Report, Severity
from preflight.registry import all_rules

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, colour: bool = False) -> str:
    used = sorted({f.rule for f in report.findings})
    rules = all_rules()
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "preflight", "version": __version__,
                "rules": [{"id": rid, "name": rules[rid].name,
                           "shortDescription": {"text": rules[rid].summary},
                           "fullDescription": {"text": rules[rid].doc}} for rid in used],
            }},
            "results": [{
                "ruleId": f.rule, "level": LEVELS[f.severity],
                "message": {"text": f.message + (f" (fix: {f.fix})" if f.fix else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line, "startColumn": f.column}},
                    "logicalLocations": [{"fullyQualifiedName": f.pointer or "/"}]}],
            } for f in report.findings],
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
