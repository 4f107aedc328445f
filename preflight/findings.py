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
class Finding:
    rule: str
    severity: Severity
    file: str
    pointer: str  # RFC 6901, into `file`
    message: str
    fix: str | None = None
    line: int = 1
    column: int = 1

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # usage errors that stopped the run, for machine formats

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[str(finding.severity)] += 1
        return counts

    def blocking(self, fail_on: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= fail_on]
