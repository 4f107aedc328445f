"""A baseline: the findings a repository already has, recorded so that a gate can fail only on
new ones. Each finding is recorded by a fingerprint that survives moving lines: its rule, its
file (relative to the baseline's directory), its JSON pointer, and a hash of the value it is
about (of its message when it is about no value).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os

from preflight.documents import Document
from preflight.findings import Finding, Report, Suppression
from preflight.limits import MAX_BYTES, MAX_DEPTH, LoadError, deeper_than, read_bytes
from preflight.triage import ALWAYS_REPORTED

VERSION = 1
KEYS = ("rule", "file", "pointer", "value")


class BaselineError(Exception):
    """A baseline file that cannot be used: a usage error naming it."""


class Baseline:
    def __init__(self, path: str, entries: list[dict]):
        self.path = path
        self.entries = entries

    @property
    def root(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    @classmethod
    def load(cls, path: str, max_bytes: int = MAX_BYTES) -> "Baseline":
        """The baseline in ``path``, read within the input limits like every other file."""
        if not os.path.exists(path):
            raise BaselineError(f"{path}: no such baseline file")
        try:
            data = json.loads(read_bytes(path, max_bytes).decode("utf-8"))
        except LoadError as err:
            raise BaselineError(str(err)) from None
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise BaselineError(f"{path}: not a preflight baseline: {err}") from None
        if deeper_than(data):
            raise BaselineError(f"{path}: nested more than {MAX_DEPTH} levels deep, more than any baseline; "
                                "not read further")
        entries = data.get("findings") if isinstance(data, dict) and data.get("version") == VERSION else None
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) and all(isinstance(e.get(k), str) for k in KEYS) for e in entries):
            raise BaselineError(f"{path}: not a preflight baseline (version {VERSION}, a list of "
                                f"findings with {', '.join(KEYS)})")
        return cls(path, entries)

    def fingerprint(self, finding: Finding, documents: dict[str, Document]) -> dict:
        file = finding.file if finding.file == "-" else os.path.relpath(os.path.abspath(finding.file), self.root)
        return {"rule": finding.rule, "file": file.replace(os.sep, "/"), "pointer": finding.pointer,
                "value": _value_hash(finding, documents.get(finding.file))}

    def write(self, report: Report, documents: dict[str, Document]) -> None:
        """Record the report's findings (what a later run will call known)."""
        entries = [{**self.fingerprint(f, documents), "message": f.message} for f in report.findings
                   if f.rule not in ALWAYS_REPORTED]
        self.entries = sorted(entries, key=lambda e: tuple(e[k] for k in KEYS))
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump({"version": VERSION, "findings": self.entries}, handle, indent=2, ensure_ascii=False)
            handle.write("\n")

    def apply(self, report: Report, documents: dict[str, Document]) -> None:
        """Move the known findings aside; say how many remain known and which entries are gone."""
        remaining = collections.Counter(tuple(e[k] for k in KEYS) for e in self.entries)
        reason = f"known in the baseline {self.path}"
        kept = []
        for finding in report.findings:
            key = tuple(self.fingerprint(finding, documents)[k] for k in KEYS)
            if remaining[key] > 0 and finding.rule not in ALWAYS_REPORTED:
                remaining[key] -= 1
                report.suppressed.append(finding._replace(suppression=Suppression("baseline", reason, self.path)))
            else:
                kept.append(finding)
        gone = []
        for entry in self.entries:
            key = tuple(entry[k] for k in KEYS)
            if remaining[key] > 0:
                remaining[key] -= 1
                gone.append(entry)
        report.findings = kept
        report.baseline = {"file": self.path, "known": len(self.entries) - len(gone), "new": len(kept),
                           "gone": gone}


def _value_hash(finding: Finding, document: Document | None) -> str:
    from preflight.engine import Context  # one reader of a pointer's value

    value = Context(document, None).value(finding.pointer) if document is not None and finding.pointer else None
    text = finding.message if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
