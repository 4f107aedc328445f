"""Findings and the report they form."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> "Severity":
        return cls[name.upper()]


@dataclass(frozen=True)
class Suppression:
    """Why a finding is kept aside instead of counted: a ``[[suppress]]`` entry of the
    configuration, an inline comment in the file, or a baseline."""

    kind: str  # "config" | "inline" | "baseline"
    reason: str
    source: str  # where it was said: the configuration or baseline file, or file:line

    @property
    def in_source(self) -> bool:
        return self.kind == "inline"


@dataclass(frozen=True)
class Finding:
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


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # usage errors that stopped the run, for machine formats
    suppressed: list[Finding] = field(default_factory=list)  # kept aside with a reason; never fail a run
    rules: dict = field(default_factory=dict)  # rules beyond the registry's (guardrails), by id
    baseline: dict | None = None  # with a baseline: {"file", "known", "new", "gone": [entries]}
    plans: list[dict] = field(default_factory=list)  # what each change request will do (preflight/plan.py)

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[str(finding.severity)] += 1
        return counts

    def blocking(self, fail_on: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= fail_on]
