"""Validate a request against its operation's generated JSON Schema, reporting every violation.

The schemas in ``preflight/schema/`` are generated from botocore's service model
(``scripts/generate_schemas.py``) and use a small subset of JSON Schema: type, properties,
required, additionalProperties, propertyNames, items, min/max bounds, pattern, enum and
$ref into $defs. This module interprets exactly that subset, so a check needs no
``jsonschema`` import at run time; the test suite holds it to ``jsonschema``'s verdicts.

Two deliberate differences from a generic validator, both matching what AWS accepts:
``integer`` excludes floats such as ``2.0`` (botocore rejects them), and ``$`` in a pattern
means the end of the value, as in ECMA-262, not "before a final newline" as in Python's re.
"""

from __future__ import annotations

import functools
import json
import re
from typing import NamedTuple

from preflight.pointers import escape
from preflight.schema import load, source
from preflight.values import Unresolved


class Violation(NamedTuple):
    kind: str  # required | unknown | type | range | length | pattern | enum | union
    pointer: str
    message: str
    fix: str | None = None


# What a newer model may have changed: members, enum values. Types, bounds and patterns change rarely.
DRIFT_KINDS = ("unknown", "enum")

JSON_TYPES = {"object": "an object", "array": "a list", "string": "a string",
              "integer": "an integer", "boolean": "true or false"}


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return type(value).__name__  # YAML can produce dates and the like


def shown(value: object, limit: int = 60) -> str:
    """A value as the user wrote it, shortened for a message."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # a huge value is not serialised whole only to be cut
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    # ECMA-262's (and AWS's) `$` is the very end of the value; Python's `\Z` is that.
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def validate(operation: str, request: object) -> list[Violation]:
    """Every violation of the operation's schema. Where the bundled model finds any, a newer
    SageMaker model installed next to preflight decides instead (see drift.py); without one, the
    findings that stale data could explain say how old the model is."""
    violations = _violations(load(operation), request)
    if not violations:
        return violations
    from preflight import drift  # only when something is wrong: a clean request never looks further

    newer = drift.newer_schema(source()["operations"][operation])
    if newer is not None:
        return [v._replace(message=f"{v.message} ({drift.newer_note()})") for v in _violations(newer, request)]
    return [v._replace(message=f"{v.message} ({drift.data_note()})", fix=v.fix or f"if it is newer than that: {drift.REFRESH}")
            if v.kind in DRIFT_KINDS else v for v in violations]


def _violations(schema: dict, request: object) -> list[Violation]:
    violations: list[Violation] = []
    _check(schema, request, "", schema["$defs"], violations, "the request")
    return violations


def _check(schema: dict, value: object, path: str, defs: dict, out: list[Violation], shape: str) -> None:
    """``shape`` names the value as the user wrote it: its member (``InstanceGroups``), an item of
    one (``an item of InstanceGroups``), or the request; never the model's internal shape name."""
    if isinstance(value, Unresolved):  # known only at deployment: any type, never a violation
        return
    if "$ref" in schema:
        schema = defs[schema["$ref"].rpartition("/")[2]]
    expected = schema.get("type")
    actual = json_type(value)
    if expected and actual != expected:
        fix = None
        if expected == "array" and actual == "object":
            fix = "wrap the object in a list: [ {...} ]"
        elif expected == "boolean" and actual == "string" and str(value).lower() in ("true", "false"):
            fix = f"write {str(value).lower()} without quotes"
        elif expected == "integer" and actual == "string" and str(value).strip().isdigit():
            fix = f"write {str(value).strip()} without quotes"
        elif expected == "string" and actual not in ("object", "array", "null"):
            fix = ("quote it: YAML reads an unquoted no, yes, on or off as a boolean, 0x1F or 1e3 as a number "
                   "and 2024-01-31 as a date")
        out.append(Violation("type", path, f"{shown(value)} is {actual}; {shape} must be {JSON_TYPES[expected]}", fix))
        if expected == "array" and actual == "object" and "items" in schema:
            # One object where a list of them belongs: check it as that list's only item.
            _check(schema["items"], value, path, defs, out, _item_of(shape))
        return
    if "enum" in schema and value not in schema["enum"]:
        out.append(_not_in_enum(value, path, shape, schema["enum"]))
    too_long = isinstance(value, str) and len(value) > schema.get("maxLength", len(value))
    # A value already too long is reported for its length; its pattern is not run over megabytes.
    if "pattern" in schema and not too_long and not _compiled(schema["pattern"]).match(value):
        out.append(Violation("pattern", path, f"{shown(value)} does not match the pattern of {shape}, {schema['pattern'][4:-2]}"))
    if actual == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            out.append(Violation("range", path, f"{value} is outside the range of {shape}, {_bounds(low, high)}"))
    elif actual in ("string", "array", "object"):
        prefix = {"string": "Length", "array": "Items", "object": "Properties"}[actual]
        low, high = schema.get("min" + prefix), schema.get("max" + prefix)
        size = len(value)
        if schema.get("x-union") and size != 1:
            members = ", ".join(schema["properties"])
            out.append(Violation("union", path, f"{shape} takes exactly one of {members}; {size} given"))
        elif (low is not None and size < low) or (high is not None and size > high):
            unit = {"string": "length", "array": "item count", "object": "entry count"}[actual]
            out.append(Violation("length", path, f"{unit} {size} of {shape} is outside {_bounds(low, high)}"))
    if actual == "object":
        _check_members(schema, value, path, defs, out, shape)
    elif actual == "array" and "items" in schema:
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}/{index}", defs, out, _item_of(shape))


def _check_members(schema: dict, value: dict, path: str, defs: dict, out: list[Violation], shape: str) -> None:
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            out.append(Violation("required", f"{path}/{escape(name)}", f"{shape} requires {name}"))
    extra = schema.get("additionalProperties", True)
    for key, member in value.items():
        child = f"{path}/{escape(str(key))}"
        if key in properties:
            _check(properties[key], member, child, defs, out, str(key))
        elif extra is False:
            out.append(Violation("unknown", child, f"{shown(key)} is not a member of {shape}",
                                 closest(key, properties)))
        else:
            if "propertyNames" in schema:
                _check(schema["propertyNames"], key, child, defs, out, f"a key of {shape}")
            if isinstance(extra, dict):
                _check(extra, member, child, defs, out, f"the value of {key} in {shape}")


LISTED = 12  # an enum this long or shorter is spelt out in its finding; longer ones (instance types) are counted
_VALID_VALUES = r"Valid values are ([A-Za-z0-9_, -]+?)\.(?:\s|$)"


def _not_in_enum(value, path: str, member: str, choices: list) -> Violation:
    """The allowed values named; and where the model's own text lists other values than its enum
    (ClusterSlurmConfig.NodeType: "Worker" in the text, "Compute" in the enum), both, said as such."""
    allowed = ", ".join(choices) if len(choices) <= LISTED else f"one of {len(choices)} values"
    message, fix = f"{shown(value)} is not a valid value of {member} ({allowed})", closest(value, choices)
    where, listed = _documented_values(member, choices) or (None, choices)
    if set(listed) != set(choices):
        message += (f"; the model's documentation of {where} lists {', '.join(listed)}, its enum {', '.join(choices)}: "
                    "the two disagree, and the enum is what the model validates")
        if value in listed:
            fix = f"use a value of the enum: {', '.join(c for c in choices if c not in listed)} in place of {value}"
    return Violation("enum", path, message, fix)


def _documented_values(member: str, choices: list) -> tuple[str, list[str]] | None:
    """(Structure.Member, the values its documentation lists) for the documented member of that name
    whose listed values share the most with ``choices``; read only on this error path."""
    from preflight.schema import FOLDER

    docs = json.loads((FOLDER / "docs.json").read_text(encoding="utf-8"))
    found = []
    for key, text in docs.items():
        listed = re.search(_VALID_VALUES, text) if key.endswith(f".{member}") else None
        if listed:
            values = [v for v in re.split(r",\s*(?:and\s+)?|\s+and\s+", listed.group(1).strip()) if v]
            found.append((len(set(values) & set(choices)), key, values))
    best = max(found, default=None)
    return (best[1], best[2]) if best and best[0] else None


def _item_of(shape: str) -> str:
    return shape if shape.startswith("an item of ") else f"an item of {shape}"


def _bounds(low, high) -> str:
    if high is None:
        return f"minimum {low}"
    if low is None:
        return f"maximum {high}"
    return f"{low}..{high}"


def closest(value: object, choices) -> str | None:
    """A "did you mean" hint for a misspelt name, or None."""
    from preflight.spelling import nearest  # only on the error path

    if not isinstance(value, str):
        return None
    lowered = {c.lower(): c for c in choices}
    if value.lower() in lowered:
        return f"did you mean {lowered[value.lower()]}? (names are case-sensitive)"
    match = nearest(value, choices, cutoff=0.75)
    return f"did you mean {match}?" if match else None
