"""Small readers of request values shared by the rules: placeholders, ARNs, every string in a tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from preflight.documents import escape

# Documentation placeholders such as <exampleClusterName> or <arn:aws:iam::444455556666:role/Admin>.
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")
ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|)?:([^\s<>\"]+)")
KMS_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def placeholder(value: object) -> str | None:
    """The placeholder text in a string value, if it has one."""
    if isinstance(value, str):
        found = PLACEHOLDER.search(value)
        if found:
            return found.group(0)
    return None


def real(value) -> str | None:
    """A string value worth acting on: non-empty and not a documentation placeholder."""
    return value if isinstance(value, str) and value and not placeholder(value) else None


def unwrapped(value: str) -> str:
    """A value with a surrounding placeholder's brackets removed: ``<s3://bucket>`` -> ``s3://bucket``."""
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def text(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def arns_in(value: object) -> Iterator[Arn]:
    """Every ARN written inside a string (also inside a placeholder)."""
    if isinstance(value, str):
        for found in ARN.finditer(value):
            yield Arn(*(group or "" for group in found.groups()))


def parse_arn(value: object) -> Arn | None:
    """The ARN that is the whole of ``value`` (placeholder brackets aside), else None."""
    if not isinstance(value, str):
        return None
    found = ARN.fullmatch(unwrapped(value))
    return Arn(*(group or "" for group in found.groups())) if found else None


def strings(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, string) for every string value in a JSON tree."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}/{index}")
