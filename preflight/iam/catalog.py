"""The action catalog generated from the Service Authorization Reference (scripts/generate_catalog.py).

The file is a header line (sources, the data's date, each service's byte range), then two lines
per service: the service, with each action's byte range in the next line, and the action entries.
A service is read and decoded on first use and an action's entry when asked for, so a check pays
only for the services its policies name and the actions it asks about.
"""

from __future__ import annotations

import functools
import json
import pathlib
import re
from collections.abc import Mapping
from typing import NamedTuple

from preflight.iam.glob import glob_regex


class Actions(Mapping):
    """A service's action entries by canonical name, each decoded when it is first asked for."""

    def __init__(self, ranges: dict[str, list[int]], entries: bytes):
        self._ranges, self._entries, self._decoded = ranges, entries, {}

    def __getitem__(self, name: str) -> list:
        if name not in self._decoded:
            start, length = self._ranges[name]
            self._decoded[name] = json.loads(self._entries[start:start + length])
        return self._decoded[name]

    def __iter__(self):
        return iter(self._ranges)

    def __len__(self) -> int:
        return len(self._ranges)


class Service(NamedTuple):
    prefix: str
    name: str
    actions: Actions  # canonical name -> [resource types, dependent actions?, condition keys?]
    resources: dict[str, str]  # resource type -> ARN template
    resource_keys: dict[str, list[str]]  # resource type -> its service condition keys
    conditions: dict[str, str]  # condition key (as the reference spells it) -> its type
    older_source_only: frozenset[str]  # actions only the older source lists
    by_lower: dict[str, str]  # lower-case name -> canonical name


class Catalog:
    def __init__(self, path: pathlib.Path):
        with open(path, "rb") as handle:
            head = handle.readline()
        header = json.loads(head)
        self._index: dict[str, list[int]] = header.pop("services")
        self._meta = header
        self._path, self._base = path, len(head)
        self._services: dict[str, Service] = {}

    def metadata(self) -> dict:
        """Where the data comes from and the data's own date."""
        return dict(self._meta)

    @property
    def date(self) -> str:
        return self._meta["date"]

    @property
    def prefixes(self) -> list[str]:
        return list(self._index)

    def service(self, prefix: str) -> Service | None:
        prefix = prefix.lower()
        if prefix not in self._services:
            if prefix not in self._index:
                return None
            head, _, entries = self._read(*self._index[prefix]).partition(b"\n")
            data = json.loads(head)
            self._services[prefix] = Service(
                prefix, data["name"], Actions(data["actions"], entries), data["resources"], data["resource_keys"],
                data["conditions"], frozenset(data.get("older_source_only", ())),
                {name.lower(): name for name in data["actions"]})
        return self._services[prefix]

    def _read(self, start: int, length: int) -> bytes:
        """One service's lines: read alone, so a check reads the few services it needs, not the file."""
        with open(self._path, "rb") as handle:
            handle.seek(self._base + start)
            return handle.read(length)

    def _entry(self, action: str) -> tuple[Service | None, list]:
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        return service, (service.actions.get(name, []) if service else [])

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
            prefixes = [p for p in self._index if prefix_regex.fullmatch(p)]
        else:
            prefixes = [prefix.lower()] if prefix.lower() in self._index else []
        return [f"{p}:{a}" for p in prefixes for a in self.service(p).actions if regex.fullmatch(a)]

    def resource_types(self, action: str) -> list[tuple[str, bool]]:
        """(resource type, required) for an action; empty when it takes only ``*``."""
        _, entry = self._entry(action)
        kinds = entry[0] if entry else []
        return [(kind.lstrip("*"), kind.startswith("*")) for kind in kinds]

    def dependents(self, action: str) -> list[str]:
        _, entry = self._entry(action)
        return entry[1] if len(entry) > 1 else []

    def arn_template(self, prefix: str, kind: str) -> str | None:
        service = self.service(prefix)
        return service.resources.get(kind) if service else None

    def condition_keys(self, action: str) -> list[str] | None:
        """The service condition keys a canonical action supports, its own and its resource types'
        (global ``aws:`` keys apply to every action and are not listed); None when only the older
        source lists the action, whose key data is not trusted to be complete."""
        service, entry = self._entry(action)
        name = action.partition(":")[2]
        if service is None or not entry or name in service.older_source_only:
            return None
        keys = list(entry[2]) if len(entry) > 2 else []
        for kind in entry[0]:
            keys += service.resource_keys.get(kind.lstrip("*"), [])
        return keys

    def key_type(self, key: str) -> str | None:
        """The type the reference gives a condition key (``String``, ``ArrayOfString``, ``Bool``...):
        a global key's (``aws:...`` and the few session keys every action carries), else its
        service's; None for a key that neither lists."""
        found = self.global_key_type(key)
        if found:
            return found
        service = self.service(key.partition(":")[0])
        return next((kind for template, kind in (service.conditions.items() if service else ())
                     if key_matches(template, key)), None)

    def global_key_type(self, key: str) -> str | None:
        """The type of a global condition key, which every action's request may carry; None for
        any other key."""
        return next((kind for template, kind in self._meta.get("global_conditions", {}).items()
                     if key_matches(template, key)), None)

    def multivalued(self, key: str) -> bool:
        """Whether a condition key carries several values (an ``ArrayOf...`` type in the reference)."""
        return (self.key_type(key) or "").startswith("ArrayOf")

    def suggest(self, action: str) -> str | None:
        """The closest real action to a misspelt one, for "did you mean"; None for a known action."""
        from preflight.spelling import nearest  # only on the error path

        if self.canonical(action):
            return None
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        if service is None:
            close = nearest(prefix.lower(), self.prefixes, cutoff=0.6)
            return f"{close}:{name}" if close else None
        close = nearest(name.lower(), service.by_lower, cutoff=0.6)
        return f"{service.prefix}:{service.by_lower[close]}" if close else None


@functools.lru_cache(maxsize=256)
def _key_regex(template: str) -> re.Pattern:
    parts = re.split(r"\$\{[^}]*\}|<[^>]*>", template)  # ${TagKey}, and <key> in a few services
    return re.compile(".+".join(re.escape(part) for part in parts), re.I)


def key_matches(template: str, key: str) -> bool:
    """Whether a condition key as written matches a reference key (``s3:ResourceTag/${TagKey}``).
    A template without a placeholder is its own text, and one with a placeholder starts with the
    text before it: between ASCII strings, what re.I matches is what lower() equates, so the hundred
    keys of a service compile no regex, nor the placeholders of keys that start otherwise (re.I also
    matches the Kelvin sign to k and the long s to s: keys with such letters take the regex)."""
    if template.lower() == key.lower():
        return True
    if template.isascii() and key.isascii():
        head = template.split("${", 1)[0].split("<", 1)[0]
        if head == template or not key.lower().startswith(head.lower()):
            return False
    return bool(_key_regex(template).fullmatch(key))


@functools.lru_cache(maxsize=None)
def load() -> Catalog:
    # Read by path: importlib.resources would cost its import on every run.
    return Catalog(pathlib.Path(__file__).parent / "catalog.jsonl")
