"""What the project says about the findings, applied once after the rules ran, so that every
output format sees the same report:

    selection and severities (configuration) -> suppressions (configuration entries, inline
    comments in YAML and .tf files) -> what the suppressions themselves say (PF500-PF502) -> baseline

A suppressed finding is moved to ``Report.suppressed`` with its ``Suppression``: counted and
shown by the formats, never failing a run.
"""

from __future__ import annotations

import datetime
import os
import re

from preflight.config import Config, RuleRef
from preflight.documents import Document
from preflight.findings import Finding, Report, Severity, Suppression

# A required verification that could not be completed always fails the run closed.
ALWAYS_REPORTED = frozenset({"PF400"})
# Compiled on first use (re caches it): only a YAML file with a "preflight:" comment needs it.
INLINE = r"(?m)#\s*preflight:\s*ignore\b(?P<rules>[^#\n]*?)(?:\s--\s*(?P<reason>[^\n]*?))?\s*$"


def apply(report: Report, config: Config, documents: list[Document] = (), baseline=None,
          today: datetime.date | None = None) -> None:
    """Apply the configuration, the suppressions and the baseline to ``report`` in place."""
    inline = [d for d in documents if d.path.lower().endswith((".yaml", ".yml", ".tf")) and "preflight:" in d.text]
    if not (config.select or config.ignore or config.per_file_ignores or config.severity
            or config.suppress or inline or baseline is not None):
        return  # nothing configured: a run without a configuration file pays nothing here
    names = _rule_names(report)
    report.findings = _selected(report.findings, config, names)
    notes = _suppress(report, config, inline, names, today or datetime.date.today(), [d.path for d in documents])
    report.findings.extend(_selected(notes, config, names))
    if baseline is not None:
        baseline.apply(report, {document.path: document for document in documents}, config.path)
    report.findings.sort(key=Finding.sort_key)
    report.suppressed.sort(key=Finding.sort_key)


def _rule_names(report: Report) -> dict[str, str]:
    from preflight.registry import all_rules

    return {rule_id: rule.name for rule_id, rule in {**all_rules(), **report.rules}.items()}


def _selected(findings: list[Finding], config: Config, names: dict[str, str]) -> list[Finding]:
    """The findings of the selected rules, at their configured severities."""
    if not (config.select or config.ignore or config.per_file_ignores or config.severity):
        return findings
    kept = []
    for finding in findings:
        rule = RuleRef(finding.rule, names.get(finding.rule, ""))
        if finding.rule not in ALWAYS_REPORTED:
            if not config.enabled(rule, finding.file):
                continue
            severity = config.severity_of(rule)
            if severity is not None:
                finding = finding._replace(severity=severity)
        kept.append(finding)
    return kept


class _Inline:
    """One ``# preflight: ignore RULE -- reason`` comment (a plain class: this module is imported
    by every run, and a dataclass costs its creation at import)."""

    def __init__(self, document: Document, line: int, rules: list[str], reason: str):
        self.document, self.line, self.rules, self.reason = document, line, rules, reason
        self.used = False


def _inline_comments(documents: list[Document]) -> dict[tuple[str, int], _Inline]:
    found = {}
    for document in documents:
        for match in re.finditer(INLINE, document.text):
            line = document.text.count("\n", 0, match.start()) + 1
            rules = [r for r in re.split(r"[\s,]+", match.group("rules")) if r]
            found[document.path, line] = _Inline(document, line, rules, (match.group("reason") or "").strip())
    return found


def _suppress(report: Report, config: Config, inline_documents: list[Document], names: dict[str, str],
              today: datetime.date, checked: list[str]) -> list[Finding]:
    """Move suppressed findings aside; return what the suppressions themselves call for."""
    entries = [e for e in config.suppress if e.expires is None or e.expires >= today]
    used: set[int] = set()
    comments = _inline_comments(inline_documents)
    kept = []
    for finding in report.findings:
        rule = RuleRef(finding.rule, names.get(finding.rule, ""))
        suppression = None
        if finding.rule not in ALWAYS_REPORTED:
            comment = comments.get((finding.file, finding.line))
            entry = next((e for e in entries if e.matches(rule, finding.file, finding.pointer, config)), None)
            if comment and comment.reason and any(rule.selected_by(r) for r in comment.rules):
                comment.used = True
                suppression = Suppression("inline", comment.reason, f"{finding.file}:{finding.line}")
            elif entry is not None:
                used.add(entry.index)
                suppression = Suppression("config", entry.reason, f"{_shown(config.path)} [[suppress]] #{entry.index + 1}")
        if suppression is None:
            kept.append(finding)
        else:
            report.suppressed.append(finding._replace(suppression=suppression))
    report.findings = kept
    return _notes(config, used, comments, today, checked)


def _notes(config: Config, used: set[int], comments: dict, today: datetime.date, checked: list[str]) -> list[Finding]:
    """PF500 for what matched nothing, PF501 for what expired, PF502 for a comment without a reason.
    An entry is unused only where the run could have used it: it names a file this run checked, or
    a file that is gone (a run of part of the repository, as a pre-commit hook makes, says nothing
    of the entries for the other files)."""
    from preflight.registry import all_rules

    rules = all_rules(iam=False, live=False)
    notes = []
    text = _read(config.path) if config.suppress else ""
    for entry in config.suppress:
        line = _entry_line(text, entry.index)
        where = f"[[suppress]] #{entry.index + 1} ({entry.rule} in {entry.file} at {entry.pointer})"
        if entry.expires is not None and entry.expires < today:
            notes.append(_note(rules["PF501"], config.path, line, f"{where} expired on {entry.expires.isoformat()}; "
                               f"its findings are reported again", "fix them, or renew the entry with a new "
                               "date and reason"))
        elif entry.index not in used and (any(config.matches_file(entry.file, path) for path in checked)
                                          or not _names_a_file(config, entry.file)):
            notes.append(_note(rules["PF500"], config.path, line, f"{where} matched no finding",
                               "remove the entry, or correct its rule, file or pointer"))
    for comment in comments.values():
        where = f"`# preflight: ignore {' '.join(comment.rules)}`"
        if not comment.reason:
            notes.append(_note(rules["PF502"], comment.document.path, comment.line,
                               f"{where} has no reason, so it suppresses nothing", "add `-- why it is accepted`"))
        elif not comment.used:
            notes.append(_note(rules["PF500"], comment.document.path, comment.line,
                               f"{where} matched no finding on its line", "remove the comment, or correct its rule"))
    return notes


def _names_a_file(config: Config, pattern: str) -> bool:
    """Whether a file below the configuration's folder matches ``pattern`` (hidden folders, such
    as .git and virtual environments, and node_modules are not searched)."""
    for folder, subfolders, files in os.walk(config.root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "node_modules"]
        if any(config.matches_file(pattern, os.path.join(folder, name)) for name in files):
            return True
    return False


def _note(rule, path: str, line: int, message: str, fix: str) -> Finding:
    return Finding(rule.id, rule.severity, _shown(path), "", message, fix, line, 1)


def _shown(path: str) -> str:
    """A path as a user would type it: relative to the working directory when it is below it."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return ""


def _entry_line(text: str, index: int) -> int:
    """The line of the ``index``-th ``[[suppress]]`` header (tomllib keeps no positions)."""
    headers = list(re.finditer(r"^[ \t]*\[\[[ \t]*(?:tool\.preflight\.)?suppress[ \t]*\]\]", text, re.M))
    return text.count("\n", 0, headers[index].start()) + 1 if index < len(headers) else 1
