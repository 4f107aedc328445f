"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

Artifact URIs are relative to ``%SRCROOT%`` (the working directory, given in
``originalUriBaseIds``) and percent-encoded, so a ``#``, ``?``, ``%`` or space in a file name stays
part of the path; a file outside the working directory gets an absolute ``file:`` URI. Columns
count Unicode code points, as the engine does.
"""

from __future__ import annotations

import json
import os
import pathlib
from urllib.parse import quote

from preflight import __version__
from preflight.findings import Report, Severity
from preflight.formats import repository_path
from preflight.registry import all_rules
from preflight.formats.escape import escaped_report

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SRCROOT = "%SRCROOT%"


def artifact_location(path: str) -> dict:
    """A relative URI under ``%SRCROOT%`` for a file inside the working directory, else an absolute ``file:`` URI."""
    if path == "-":
        return {"uri": "stdin"}
    relative = repository_path(path)
    if os.path.isabs(relative):
        return {"uri": pathlib.Path(relative).as_uri()}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def rule_descriptor(rule) -> dict:
    """A rule's id, name and documentation: summary line, the whole docstring as help."""
    doc = rule.doc
    details = doc.split("\n\n", 1)[1] if "\n\n" in doc else doc
    return {"id": rule.id, "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": details.split("\n\n## ", 1)[0].removeprefix("## Why is this bad?\n")},
            "help": {"text": doc, "markdown": doc},
            "defaultConfiguration": {"level": LEVELS[rule.severity]}}


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
    root = pathlib.Path(os.getcwd())
    rules = {**all_rules(), **report.rules}  # with the guardrails'
    used = sorted({f.rule for f in report.findings + report.suppressed})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    run = {
        "tool": {"driver": {"name": "preflight", "version": __version__,
                            "rules": [rule_descriptor(rules[rule_id]) if rule_id in rules else {"id": rule_id}
                                      for rule_id in used]}},
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": not report.errors,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": error},
                                            "descriptor": {"id": "usage-error"}} for error in report.errors],
        }],
        "results": [{
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": LEVELS[f.severity],
            "message": {"text": f.message + (f" (fix: {f.fix})" if f.fix else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact_location(f.file),
                "region": {"startLine": f.line, "startColumn": f.column}},
                "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "member"}]}],
            **_suppressions(f),
        } for f in report.findings + report.suppressed],
    }
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _suppressions(finding) -> dict:
    """SARIF's own record of a suppressed result: an inline comment is inSource, a configuration
    entry or a baseline external; the reason is the justification."""
    if finding.suppression is None:
        return {}
    kind = "inSource" if finding.suppression.in_source else "external"
    return {"suppressions": [{"kind": kind, "justification": finding.suppression.reason}]}
