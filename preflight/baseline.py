"""A baseline: the findings a repository already has, recorded so that a gate can fail only on
new ones. Each finding is recorded by a fingerprint that survives moving lines: its rule, its
file (relative to the baseline's directory), its JSON pointer, and a hash of the value it is
about (of its message when it is about no value).

A baseline is for the whole repository; a run of some of its files (a pre-commit hook's) reads and
rewrites only their entries: an entry of a file the run did not check is neither gone nor dropped,
unless that file no longer exists. The configuration file is in every run.
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

    @classmethod
    def for_writing(cls, path: str) -> "Baseline":
        """The baseline ``--write-baseline`` rewrites: the file's entries when it exists (a run of
        some files keeps the others'), else none."""
        return cls.load(path) if os.path.exists(path) else cls(path, [])

    def _relative(self, path: str) -> str:
        return path if path == "-" else os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")

    def fingerprint(self, finding: Finding, documents: dict[str, Document]) -> dict:
        return {"rule": finding.rule, "file": self._relative(finding.file), "pointer": finding.pointer,
                "value": _value_hash(finding, documents.get(finding.file))}

    def _in_run(self, documents: dict[str, Document], config_path: str | None):
        """Whether an entry is this run's to judge: its file was checked (or is the configuration),
        or the file no longer exists."""
        checked = {self._relative(path) for path in documents} | ({self._relative(config_path)} if config_path else set())
        return lambda entry: entry["file"] in checked or (
            entry["file"] != "-" and not os.path.exists(os.path.join(self.root, entry["file"])))

    def write(self, report: Report, documents: dict[str, Document], config_path: str | None = None) -> None:
        """Record the report's findings (what a later run will call known), keeping the entries of
        files this run did not check."""
        in_run = self._in_run(documents, config_path)
        entries = [{**self.fingerprint(f, documents), "message": f.message} for f in report.findings
                   if f.rule not in ALWAYS_REPORTED] + [e for e in self.entries if not in_run(e)]
        self.entries = sorted(entries, key=lambda e: tuple(e[k] for k in KEYS))
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump({"version": VERSION, "findings": self.entries}, handle, indent=2, ensure_ascii=False)
            handle.write("\n")

    def apply(self, report: Report, documents: dict[str, Document], config_path: str | None = None) -> None:
        """Move the known findings aside; say how many remain known and which of this run's entries
        are gone (those of files it did not check are left out of both)."""
        in_run = self._in_run(documents, config_path)
        entries = [e for e in self.entries if in_run(e)]
        remaining = collections.Counter(tuple(e[k] for k in KEYS) for e in entries)
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
        for entry in entries:
            key = tuple(entry[k] for k in KEYS)
            if remaining[key] > 0:
                remaining[key] -= 1
                gone.append(entry)
        report.findings = kept
        report.baseline = {"file": self.path, "known": len(entries) - len(gone), "new": len(kept),
                           "gone": gone}


def _value_hash(finding: Finding, document: Document | None) -> str:
    from preflight.engine import Context  # one reader of a pointer's value

    value = Context(document, None).value(finding.pointer) if document is not None and finding.pointer else None
    text = finding.message if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
