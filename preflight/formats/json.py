"""The stable JSON report (``version`` 1), documented in the README."""

from __future__ import annotations

import json

from preflight import __version__
from preflight.findings import Report
from preflight.formats.escape import escaped_report

VERSION = 1


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
    document = {
        "version": VERSION,
        "tool": {"name": "preflight", "version": __version__, **report.metadata},
        "findings": [_finding(f) for f in report.findings],
        "suppressed": [
            {**_finding(f), "suppression": {"kind": f.suppression.kind, "reason": f.suppression.reason,
                                            "source": f.suppression.source}}
            for f in report.suppressed
        ],
        "summary": {"files": len(report.files), **report.counts(), "suppressed": len(report.suppressed)},
        "errors": report.errors,
        **({"plan": report.plans} if report.plans else {}),
        **({"commands": report.commands} if report.commands else {}),
    }
    if report.baseline is not None:
        document["baseline"] = report.baseline
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finding(f) -> dict:
    return {"rule": f.rule, "severity": str(f.severity), "file": f.file, "path": f.pointer,
            "line": f.line, "column": f.column, "message": f.message, "fix": f.fix}
