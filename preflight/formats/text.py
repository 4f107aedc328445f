"""``file:line:col: severity RULE message`` lines, then a summary line."""

from __future__ import annotations

from preflight.findings import Report, Severity

COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
RESET = "\033[0m"


def render(report: Report, colour: bool = False) -> str:
    lines = []
    for f in report.findings:
        severity = f"{COLOURS[f.severity]}{f.severity}{RESET}" if colour else str(f.severity)
        line = f"{f.file}:{f.line}:{f.column}: {severity} {f.rule} {f.message}"
        if f.fix:
            line += f" (fix: {f.fix})"
        lines.append(line)
    lines.extend(f"preflight: {error}" for error in report.errors)
    if not report.errors:
        lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    """``N files checked: E errors, W warnings, I info``."""
    counts = report.counts()
    files = len(report.files)
    tally = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}" for name, n in counts.items())
    return f"{files} file{'s' if files != 1 else ''} checked: {tally}"
