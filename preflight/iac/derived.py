"""A request derived from a template or plan: its data, each of its pointers' place in the source,
and its members matched to the API's by the request schema. The CloudFormation and Terraform
readers build on it; the package itself only recognises which reader a document needs."""

from __future__ import annotations

import json
import re

from preflight import schema
from preflight.documents import Document, Problem
from preflight.pointers import escape
from preflight.values import Unresolved

TERRAFORM_SOURCE = ".tf"  # a Terraform configuration file's extension


class ExpansionLimit(Exception):
    """A template whose values, resolved, would pass the reader's budget: said as a problem of
    the template, and no request is derived from it."""


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


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def derived_request(document: Document, resolved, resolved_origins: dict[str, str], base: str,
                    operation: str, blocks: bool = False, strings: bool = False) -> DerivedDocument:
    """The request for ``operation`` made from a resource's resolved values, with each request
    pointer's place in ``document`` (``resolved_origins``: resolved pointer -> document pointer,
    ``base`` the resource's own pointer) and notes on what the model lacks. ``blocks`` and
    ``strings``: Terraform's ways with values (see ``matched_request``)."""
    request_origins: dict[str, str] = {}
    notes: list[tuple[str, str]] = []

    def origin_of(path: str, origin: str) -> None:
        request_origins.setdefault(path, resolved_origins.get(origin, base + origin))

    request = matched_request(resolved, "", operation, origin_of, notes, blocks=blocks, strings=strings)
    notes = [(resolved_origins.get(pointer, base + pointer), message) for pointer, message in notes]
    return DerivedDocument(path=document.path, text=document.text, data=request, parsed=True, source=document,
                           origins=request_origins, notes=notes)


def matched_request(value, origin: str, operation: str, origins_of, notes: list, path: str = "",
                    blocks: bool = False, strings: bool = False):
    """The request for ``operation`` built from resolved template ``value``: member names matched
    to the model's (case and ``_`` aside; a singular Terraform block name to the plural member),
    a one-block list where the model has an object unwrapped, numbers and booleans written as
    strings read as CloudFormation reads them. ``origins_of(request pointer, template pointer)``
    records where each value came from; members the model lacks go to ``notes``. With ``blocks``
    (a plan of the AWS provider, whose nested blocks are lists that are never null), an empty list
    is an absent block: the plan writes ``override_vpc_config = []`` for a group without one. With
    ``strings`` (a configuration's values), a number or boolean where the model has a string is the
    string Terraform converts it to (``tags = { tier = 1 }`` sends "1")."""
    request_schema = schema.load(operation)
    defs = request_schema["$defs"]
    return _match(defs[request_schema["$ref"].rpartition("/")[2]], defs, value, origin, path, origins_of, notes,
                  blocks, strings)


def _resolve_ref(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rpartition("/")[2]]
    return schema


def _match(schema, defs, value, origin, path, origins_of, notes, blocks, strings):
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
    if expected == "string" and strings and isinstance(value, (bool, int, float)):
        return json.dumps(int(value) if isinstance(value, float) and value.is_integer() else value)  # 1.0 is "1"
    if expected == "array" and isinstance(value, list):
        return [_match(schema.get("items", {}), defs, item, f"{origin}/{index}", f"{path}/{index}", origins_of, notes,
                       blocks, strings) for index, item in enumerate(value)]
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
            if item is None or (blocks and item == []) or member in result:
                continue
            result[member] = _match(schema["properties"][member], defs, item, child_origin,
                                    f"{path}/{escape(member)}", origins_of, notes, blocks, strings)
        return result
    return value
