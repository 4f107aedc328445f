"""JSON pointers (RFC 6901), the one way preflight names a place in a document: findings, the
positions of a file's text and a template's origins are all keyed by them."""

from __future__ import annotations


def escape(token: str) -> str:
    """Escape one RFC 6901 reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def value_at(node, pointer: str):
    """The value at an RFC 6901 pointer in parsed data, or None where the path does not exist."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def pointer(*tokens: object) -> str:
    return "".join("/" + escape(str(t)) for t in tokens)
