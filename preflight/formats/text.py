"""``file:line:col: severity RULE message`` lines, then a summary line."""

from __future__ import annotations

from preflight.findings import Report, Severity
from preflight.formats.escape import escaped_report

COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
RESET = "\033[0m"


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
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
        if report.commands:
            lines.append(commands_summary(report.commands))
        if report.baseline is not None:
            lines.append(baseline_summary(report.baseline))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    """``N files checked: E errors, W warnings, I info`` (and ``; S suppressed`` when some were)."""
    counts = report.counts()
    files = len(report.files)
    tally = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}" for name, n in counts.items())
    if report.suppressed:
        tally += f"; {len(report.suppressed)} suppressed"
    return f"{files} file{'s' if files != 1 else ''} checked: {tally}"


def commands_summary(commands: list[dict]) -> str:
    """How many command lines were read from scripts and Markdown, and what became of them."""
    requests = sum(command["status"] == "request" for command in commands)
    skipped = sum(command["status"].startswith("skipped") for command in commands)
    unread = len(commands) - requests - skipped
    line = (f"{len(commands)} aws command line{'s' if len(commands) != 1 else ''} read: "
            f"{requests} request{'s' if requests != 1 else ''} checked, {skipped} skipped")
    return line + (f", {unread} not read" if unread else "") + " (the JSON report lists each)"


def baseline_summary(baseline: dict) -> str:
    """What the baseline made of this run: known findings left, new ones, and entries now gone."""
    gone = baseline["gone"]
    line = (f"baseline {baseline['file']}: {baseline['known']} known finding{'s' if baseline['known'] != 1 else ''} "
            f"remain, {baseline['new']} new; {len(gone)} entr{'ies' if len(gone) != 1 else 'y'} gone")
    return line + "".join(f"\n  gone: {e['rule']} {e['file']} {e['pointer'] or '/'} {e.get('message', '')}".rstrip()
                          for e in gone)
