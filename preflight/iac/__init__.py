"""Requests derived from infrastructure as code: CloudFormation templates and Terraform plans.

Each ``AWS::SageMaker::Cluster`` resource (or Terraform cluster resource) becomes the create-cluster
request it sends, as a ``DerivedDocument``: the request's data, and for every request pointer the
pointer of the template value it came from, so that findings point at the template's lines.
Member names are matched to the API's by the request schema itself (``matched_request``), so the
mapping follows the model; what the model does not have is dropped and said.
"""

from __future__ import annotations

import re

from preflight.documents import Document, Problem, escape
from preflight.values import Unresolved


class DerivedDocument(Document):
    """A request derived from ``source`` (a template), whose pointers translate into it."""

    def __init__(self, path: str, text: str, data: object = None, parsed: bool = False,
                 problems: list[Problem] | None = None, source: Document | None = None,
                 origins: dict[str, str] | None = None, notes: list[tuple[str, str]] | None = None,
                 embedded: bool = False):
        super().__init__(path, text, data, parsed, problems)
        self.source = source
        self.origins = {} if origins is None else origins  # request pointer -> pointer in source
        self.notes = [] if notes is None else notes  # (source pointer, what was not carried)
        self.embedded = embedded  # the data is JSON text inside one string of the source: every pointer is that string's

    def located(self, pointer: str) -> str:
        """The template pointer of a request pointer (an absent member: under its nearest parent)."""
        if self.embedded:
            return self.origins[""]
        parent, suffix = pointer, ""
        while parent not in self.origins and parent:
            parent, _, last = parent.rpartition("/")
            suffix = f"/{last}{suffix}"
        return self.origins.get(parent, "") + suffix

    def position(self, pointer: str, offset: int | None = None) -> tuple[int, int]:
        return self.source.position(pointer if offset is not None else self.located(pointer), offset)


def requests(document: Document, parameters: dict[str, str]) -> list[tuple[Document, str | None]] | None:
    """For a template: the template itself (operation None: checked as a file) and the requests
    it creates; None for anything else."""
    reader = recognise(document)
    if reader is None:
        return None
    try:
        return [(document, None)] + reader.derive(document, parameters)
    except RecursionError:
        document.problems.append(Problem("syntax", "nested too deeply to read", offset=0))
        return [(document, None)]


def policies(document: Document, parameters: dict[str, str]) -> list[DerivedDocument]:
    """The identity policies a template or plan writes (its IAM resources), to lint."""
    reader = recognise(document)
    if reader is None:
        return []
    try:
        return reader.policies(document, parameters)
    except RecursionError:  # said once, by requests()
        return []


def recognise(document: Document):
    """The IaC module that reads this document (by content), or None for a plain request."""
    data = document.data
    if not document.parsed or not isinstance(data, dict):
        return None
    if "AWSTemplateFormatVersion" in data or _typed_resources(data.get("Resources")):
        from preflight.iac import cloudformation

        return cloudformation
    if "terraform_version" in data and ("planned_values" in data or "resource_changes" in data):
        from preflight.iac import terraform

        return terraform
    return None


def _typed_resources(resources) -> bool:
    return isinstance(resources, dict) and bool(resources) and all(
        isinstance(r, dict) and isinstance(r.get("Type"), str) for r in resources.values())


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def derived_request(document: Document, resolved, resolved_origins: dict[str, str], base: str,
                    operation: str) -> DerivedDocument:
    """The request for ``operation`` made from a resource's resolved values, with each request
    pointer's place in ``document`` (``resolved_origins``: resolved pointer -> document pointer,
    ``base`` the resource's own pointer) and notes on what the model lacks."""
    request_origins: dict[str, str] = {}
    notes: list[tuple[str, str]] = []

    def origin_of(path: str, origin: str) -> None:
        request_origins.setdefault(path, resolved_origins.get(origin, base + origin))

    request = matched_request(resolved, "", operation, origin_of, notes)
    notes = [(resolved_origins.get(pointer, base + pointer), message) for pointer, message in notes]
    return DerivedDocument(path=document.path, text=document.text, data=request, parsed=True, source=document,
                           origins=request_origins, notes=notes)


def matched_request(value, origin: str, operation: str, origins_of, notes: list, path: str = ""):
    """The request for ``operation`` built from resolved template ``value``: member names matched
    to the model's (case and ``_`` aside; a singular Terraform block name to the plural member),
    a one-block list where the model has an object unwrapped, numbers and booleans written as
    strings read as CloudFormation reads them. ``origins_of(request pointer, template pointer)``
    records where each value came from; members the model lacks go to ``notes``."""
    from preflight import validation

    schema = validation.load(operation)
    return _match(schema["$defs"][schema["$ref"].rpartition("/")[2]], schema["$defs"], value, origin, path,
                  origins_of, notes)


def _resolve_ref(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rpartition("/")[2]]
    return schema


def _match(schema, defs, value, origin, path, origins_of, notes):
    origins_of(path, origin)
    if isinstance(value, Unresolved) or value is None:
        return value
    schema = _resolve_ref(schema, defs)
    expected = schema.get("type")
    if expected == "object" and isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        value, origin = value[0], f"{origin}/0"  # a Terraform block of at most one
    if expected == "integer" and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if expected == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if expected == "array" and isinstance(value, list):
        return [_match(schema.get("items", {}), defs, item, f"{origin}/{index}", f"{path}/{index}", origins_of, notes)
                for index, item in enumerate(value)]
    if expected == "object" and isinstance(value, dict) and "properties" in schema:
        members = {}
        for member in schema["properties"]:
            members.setdefault(_normal(member), member)
            members.setdefault(_normal(member)[:-1] if member.endswith("s") else _normal(member), member)
        result = {}
        for key, item in value.items():
            member = members.get(_normal(str(key)))
            child_origin = f"{origin}/{escape(str(key))}"
            if member is None:
                if item is not None and not isinstance(item, Unresolved):  # computed by the provider
                    notes.append((child_origin, f"{key} is not a member of the API's {path or 'request'} in "
                                                "preflight's model snapshot; not checked"))
                continue
            if item is None or member in result:
                continue
            result[member] = _match(schema["properties"][member], defs, item, child_origin,
                                    f"{path}/{escape(member)}", origins_of, notes)
        return result
    return value
