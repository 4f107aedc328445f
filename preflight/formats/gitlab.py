"""GitLab Code Quality report: a JSON array of issues (the Code Climate subset GitLab reads:
description, check_name, fingerprint, severity, location.path, location.lines.begin), shown in the
merge request widget and diff."""

from __future__ import annotations

import hashlib
import json

from preflight.findings import Finding, Report, Severity
from preflight.formats import repository_path
from preflight.formats.escape import escaped_report

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}


def fingerprint(finding: Finding) -> str:
    """Stable across runs and line moves: what was found and where, not the line number."""
    key = "\0".join((finding.rule, repository_path(finding.file), finding.pointer, finding.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
    issues = [{"type": "issue", "description": error, "check_name": "usage-error",
               "fingerprint": hashlib.sha256(error.encode("utf-8", "surrogatepass")).hexdigest(),
               "severity": "blocker", "location": {"path": ".", "lines": {"begin": 1}}}
              for error in report.errors]
    for f in report.findings:
        issues.append({
            "type": "issue",
            "description": f"{f.message}" + (f" (fix: {f.fix})" if f.fix else ""),
            "check_name": f.rule,
            "fingerprint": fingerprint(f),
            "severity": SEVERITIES[f.severity],
            "location": {"path": repository_path(f.file), "lines": {"begin": f.line}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
