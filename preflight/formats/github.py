"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` annotation per
finding, shown inline on the pull request's diff, then the summary line.

Escaping is the runner's own (actions/toolkit ``command.ts``): in the message ``%``, CR and LF are
percent-encoded; in a property value also ``:`` and ``,``, which would otherwise end the value.
"""

from __future__ import annotations

from preflight.findings import Report, Severity
from preflight.formats import repository_path, rule_title, text
from preflight.registry import all_rules
from preflight.formats.escape import escaped_report

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    given = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def render(report: Report, colour: bool = False) -> str:
    report = escaped_report(report)
    lines = [command("error", error, title="preflight usage error") for error in report.errors]
    rules = {**all_rules(), **report.rules} if report.findings else {}  # with the guardrails
    for f in report.findings:
        message = f.message + (f" (fix: {f.fix})" if f.fix else "")
        lines.append(command(COMMANDS[f.severity], message, file=repository_path(f.file), line=f.line, col=f.column,
                             title=rule_title(f.rule, rules)))
    if not report.errors:
        lines.append(text.summary(report))
    return "\n".join(lines) + "\n"
