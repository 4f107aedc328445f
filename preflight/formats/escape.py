"""The one escaping of untrusted text for every output format.

File names, policy actions, request values, AWS answers, the configuration's and the baseline's
text reach the output. Control characters (C0, DEL, C1 such as U+009B CSI), line and paragraph
separators, bidirectional overrides and isolates, and lone surrogates are shown as ``\\uXXXX`` so
that no input can forge a line, move the cursor, colour the terminal or reorder what a reviewer
reads, and every string can be encoded. A string whose first visible character is ``:`` shows that
colon as ``\\u003a``: formats start lines with a file name (text, JUnit) or a message (JUnit,
``explain``), and a CI runner reads a line beginning ``::`` (after spaces) as a workflow command
(GitHub's ``::error::``, ``::add-mask::``, ``::stop-commands::``); GitLab's section markers need an
escape character, which never gets through. Formats with their own quoting (JSON, XML) apply it on
top of this.
"""

from __future__ import annotations

import math
import re

# Compiled on first need: printable ASCII, as most text is, holds none of these.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _shown(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def untrusted(text: str) -> str:
    """``text`` with every character that could forge or hide output shown as ``\\uXXXX``, and a
    leading colon too (so that it cannot begin a workflow command where a line starts with it)."""
    if not (text.isascii() and text.isprintable()):
        text = re.sub(_UNSAFE, _shown, text)
    stripped = text.lstrip()
    if stripped.startswith(":"):
        text = text[:len(text) - len(stripped)] + "\\u003a" + stripped[1:]
    return text


def untrusted_lines(text: str) -> str:
    """Text of several lines from outside (a guardrail's documentation): each line escaped."""
    return "\n".join(untrusted(line) for line in text.split("\n"))


def plain_data(value: object) -> object:
    """A copy of parsed or answered data that any format can print: strings (and keys) escaped,
    non-finite numbers and YAML's dates and bytes as strings, anything else as its text."""
    if isinstance(value, str):
        return untrusted(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {untrusted(str(k)): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return untrusted(bytes(value).decode("utf-8", "backslashreplace"))
    return untrusted(str(value))


def escaped(finding):
    """The finding with its rule id (a guardrail's comes from the configuration), file, pointer,
    message, fix and suppression escaped, as every format prints it."""
    suppression = finding.suppression
    if suppression is not None:
        suppression = suppression._replace(reason=untrusted(suppression.reason), source=untrusted(suppression.source))
    return finding._replace(rule=untrusted(finding.rule), file=untrusted(finding.file),
                            pointer=untrusted(finding.pointer), message=untrusted(finding.message),
                            fix=None if finding.fix is None else untrusted(finding.fix), suppression=suppression)


def escaped_rule(rule):
    """A rule as ``rules``, ``explain`` and SARIF print it: a guardrail's id, name and
    documentation come from the configuration. Its check is wrapped so that its docstring, which
    holds the guardrail's message and condition, is escaped line by line."""
    import functools

    shown = functools.partial(rule.check)
    shown.__doc__ = untrusted_lines(rule.doc)
    return rule._replace(id=untrusted(rule.id), name=untrusted(rule.name), check=shown)


def escaped_report(report):
    """The report as every format prints it: findings, file names, usage errors, metadata, plans
    (AWS answers), the baseline's entries and the guardrails escaped (formats start from this, and
    add their own quoting on top)."""
    import copy

    shown = copy.copy(report)
    shown.findings, shown.suppressed = [escaped(f) for f in report.findings], [escaped(f) for f in report.suppressed]
    shown.files, shown.errors = [untrusted(f) for f in report.files], [untrusted(e) for e in report.errors]
    shown.metadata, shown.plans = plain_data(report.metadata), plain_data(report.plans)
    shown.baseline = None if report.baseline is None else plain_data(report.baseline)
    shown.rules = {untrusted(rule_id): escaped_rule(rule) for rule_id, rule in report.rules.items()}
    shown.commands = [plain_data(command._asdict()) for command in report.commands]
    return shown
