"""Every finding's line and column are where its pointer's key or value starts, however the file is laid out."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from preflight import documents, pointers
from strategies import ANY_JSON


def _pointers(node, path=""):
    yield path, node, None
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}/{pointers.escape(key)}"
            yield child, value, key
            yield from list(_pointers(value, child))[1:]
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _pointers(value, f"{path}/{index}")


def _offset(text: str, line: int, column: int) -> int:
    return sum(len(l) + 1 for l in text.split("\n")[: line - 1]) + column - 1


@settings(max_examples=200, deadline=None)
@given(ANY_JSON, st.sampled_from([None, 0, 1, 4]), st.booleans())
def test_positions_point_at_keys_and_values(value, indent, ascii_only):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    document = documents.parse("x.json", text)
    for pointer, node, key in _pointers(value):
        line, column = document.position(pointer)
        at = text[_offset(text, line, column):]
        expected = json.dumps(key, ensure_ascii=ascii_only) if key is not None else \
            json.dumps(node, ensure_ascii=ascii_only)[:1]
        assert at.startswith(expected), (pointer, line, column, at[:20])


@given(st.dictionaries(st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True), st.integers(), min_size=1, max_size=5))
def test_yaml_positions_point_at_keys(mapping):
    text = "".join(f"{key}: {value}\n" for key, value in mapping.items())
    document = documents.parse("x.yaml", text)
    for index, key in enumerate(mapping):
        assert document.position(f"/{key}") == (index + 1, 1)
