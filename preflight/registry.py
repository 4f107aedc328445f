"""Rules are plain functions; ``@rule`` attaches their metadata and this module collects them."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Callable, Iterable

from preflight.findings import Severity

# Families by hundreds: PF0xx documents, PF1xx request shape, PF2xx volumes, KMS and AMI,
# PF3xx IAM policies. An id never changes meaning.
RULE_MODULES = ("documents", "request_schema", "request", "volumes")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    kind: str  # "request": runs on each parsed request; "document": on every file
    operations: tuple[str, ...]
    check: Callable

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


def rule(id: str, name: str, severity: Severity, *, kind: str = "request",
         operations: Iterable[str] | None = None):
    """Mark a function as rule ``id``; ``operations`` limits it to some operations (default: all)."""
    from preflight.operations import OPERATIONS

    def mark(check: Callable) -> Callable:
        check.rule = Rule(id, name, severity, kind, tuple(operations or OPERATIONS), check)
        return check

    return mark


_RULES: dict[str, Rule] | None = None


def all_rules() -> dict[str, Rule]:
    """Every rule by id, in id order; refuses two rules with one id or one name."""
    global _RULES
    if _RULES is None:
        found: dict[str, Rule] = {}
        names: set[str] = set()
        for module_name in RULE_MODULES:
            module = importlib.import_module(f"preflight.rules.{module_name}")
            for value in vars(module).values():
                meta = getattr(value, "rule", None)
                if isinstance(meta, Rule) and meta.check is value:
                    if meta.id in found or meta.name in names:
                        raise RuntimeError(f"duplicate rule {meta.id} {meta.name} in {module_name}")
                    found[meta.id] = meta
                    names.add(meta.name)
        _RULES = dict(sorted(found.items()))
    return _RULES
