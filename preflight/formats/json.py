"""The stable JSON report (``version`` 1), documented in the README."""

from __future__ import annotations

import json

from preflight import __version__
from preflight.findings import Report

VERSION = 1


def render(report: Report, colour: bool = False) -> str:
    document = {
        "version": VERSION,
        "tool": {"name": "preflight", "version": __version__, **report.metadata},
        "findings": [
            {"rule": f.rule, "severity": str(f.severity), "file": f.file, "path": f.pointer,
             "line": f.line, "column": f.column, "message": f.message, "fix": f.fix}
            for f in report.findings
        ],
        "summary": {"files": len(report.files), **report.counts()},
        "errors": report.errors,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
