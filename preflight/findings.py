"""Findings and the report they form."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> "Severity":
        return cls[name.upper()]


class Suppression(NamedTuple):
    """Why a finding is kept aside instead of counted: a ``[[suppress]]`` entry of the
    configuration, an inline comment in the file, or a baseline."""

    kind: str  # "config" | "inline" | "baseline"
    reason: str
    source: str  # where it was said: the configuration or baseline file, or file:line

    @property
    def in_source(self) -> bool:
        return self.kind == "inline"


class Finding(NamedTuple):
    rule: str
    severity: Severity
    file: str
    pointer: str  # RFC 6901, into `file`
    message: str
    fix: str | None = None
    line: int = 1
    column: int = 1
    suppression: Suppression | None = None  # set only on the findings in Report.suppressed

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)


class Report:
    """What a run found. A plain class, and the records above named tuples, not dataclasses: every
    run makes them, and a dataclass costs its creation (about half a millisecond) at import."""

    def __init__(self, findings: list[Finding] | None = None, files: list[str] | None = None,
                 metadata: dict | None = None, errors: list[str] | None = None,
                 suppressed: list[Finding] | None = None, rules: dict | None = None,
                 baseline: dict | None = None, plans: list[dict] | None = None, commands: list | None = None):
        self.findings = [] if findings is None else findings
        self.files = [] if files is None else files
        self.metadata = {} if metadata is None else metadata
        self.errors = [] if errors is None else errors  # usage errors that stopped the run, for machine formats
        self.suppressed = [] if suppressed is None else suppressed  # kept aside with a reason; never fail a run
        self.rules = {} if rules is None else rules  # rules beyond the registry's (guardrails), by id
        self.baseline = baseline  # with a baseline: {"file", "known", "new", "gone": [entries]}
        self.plans = [] if plans is None else plans  # what each change request will do (preflight/plan.py)
        self.commands = [] if commands is None else commands  # command lines read from scripts and Markdown

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[str(finding.severity)] += 1
        return counts

    def blocking(self, fail_on: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= fail_on]
