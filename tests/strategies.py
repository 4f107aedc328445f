"""Hypothesis strategies: arbitrary JSON, and requests drawn from the generated schemas themselves."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from preflight import validation

JSON_SCALARS = st.none() | st.booleans() | st.integers(-10**12, 10**12) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) |
                        st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)
MAX_EXTRA_ITEMS = 2  # keep generated lists small; bounds are exercised by the mutation tests


def _pattern(schema: dict) -> str:
    # The schemas anchor with ^(?:...)$; from_regex(fullmatch=True) wants the inner pattern.
    return schema["pattern"][4:-2]


def from_schema(schema: dict, defs: dict) -> st.SearchStrategy:
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[schema["$ref"].rpartition("/")[2]], defs))
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("x-timestamp"):
        return st.datetimes().map(lambda moment: moment.isoformat()) | st.integers(0, 2**31)
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), schema.get("maximum", 10**6))
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
        if "pattern" in schema:
            base = st.from_regex(re.compile(_pattern(schema)), fullmatch=True)
        else:
            base = st.text(min_size=low, max_size=min(high, 64))
        return base.filter(lambda s: low <= len(s) <= high and not s.endswith("\n"))
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + MAX_EXTRA_ITEMS), low + MAX_EXTRA_ITEMS)
        return st.lists(from_schema(schema["items"], defs), min_size=low, max_size=high)
    if kind == "object" and "properties" in schema:
        properties = schema["properties"]
        if schema.get("x-union"):
            return st.sampled_from(sorted(properties)).flatmap(
                lambda name: from_schema(properties[name], defs).map(lambda v: {name: v}))
        required = schema.get("required", [])
        optional = [name for name in properties if name not in required]
        return st.fixed_dictionaries(
            {name: from_schema(properties[name], defs) for name in required},
            optional={name: from_schema(properties[name], defs) for name in optional})
    if kind == "object":  # a map
        low = schema.get("minProperties", 0)
        return st.dictionaries(from_schema(schema["propertyNames"], defs),
                               from_schema(schema["additionalProperties"], defs),
                               min_size=low, max_size=low + MAX_EXTRA_ITEMS)
    raise AssertionError(f"unhandled schema {schema}")


def requests(operation: str) -> st.SearchStrategy:
    schema = validation.load(operation)
    return from_schema(schema, schema["$defs"])
