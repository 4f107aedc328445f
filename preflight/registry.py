"""Rules are plain functions; ``@rule`` attaches their metadata and this module collects them."""

from __future__ import annotations

import importlib
import inspect
from typing import Callable, Iterable, NamedTuple

from preflight.findings import Severity

# Families by hundreds: PF0xx documents, PF1xx request shape, PF2xx volumes, KMS and AMI,
# PF3xx IAM policies, PF4xx live, PF5xx suppressions. An id never changes meaning. The IAM
# families load only when policies are checked (or all rules are listed), so a request-only check
# does not pay for them.
OFFLINE_MODULES = ("documents", "iac", "request_schema", "request", "volumes", "nodes", "suppressions")
IAM_MODULES = ("iam_policy", "iam_access")
LIVE_MODULES = ("live_images", "live_roles", "live_network", "live_cluster", "live_governance", "plans")


class Rule(NamedTuple):
    id: str
    name: str
    severity: Severity
    # "document": every file; "request": each parsed request; "policy": each parsed policy file;
    # "policy-set": once for all the policies; "access": each request against the policies;
    # "live": each request against the account; "engine": reported by the engine itself.
    kind: str
    operations: tuple[str, ...]
    check: Callable
    required: bool = False  # live: a failed lookup fails the run closed (exit 3), not just a warning

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.check) or ""

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


def rule(id: str, name: str, severity: Severity, *, kind: str = "request",
         operations: Iterable[str] | None = None, required: bool = False):
    """Mark a function as rule ``id``; ``operations`` limits it to some operations (default: all)."""
    from preflight.operations import OPERATIONS

    def mark(check: Callable) -> Callable:
        check.rule = Rule(id, name, severity, kind, tuple(operations or OPERATIONS), check, required)
        return check

    return mark


_LOADED: dict[str, dict[str, Rule]] = {}


def _load(module_name: str) -> dict[str, Rule]:
    if module_name not in _LOADED:
        module = importlib.import_module(f"preflight.rules.{module_name}")
        _LOADED[module_name] = {value.rule.id: value.rule for value in vars(module).values()
                                if isinstance(getattr(value, "rule", None), Rule) and value.rule.check is value}
    return _LOADED[module_name]


def all_rules(iam: bool = True, live: bool = True) -> dict[str, Rule]:
    """Every rule by id, in id order (without the IAM or live families when not asked for);
    refuses two rules with one id or one name."""
    found: dict[str, Rule] = {}
    names: set[str] = set()
    for module_name in OFFLINE_MODULES + (IAM_MODULES if iam else ()) + (LIVE_MODULES if live else ()):
        for rule_id, meta in _load(module_name).items():
            if rule_id in found or meta.name in names:
                raise RuntimeError(f"duplicate rule {rule_id} {meta.name} in {module_name}")
            found[rule_id] = meta
            names.add(meta.name)
    return dict(sorted(found.items()))
