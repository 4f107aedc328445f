"""IAM's wildcards: ``*`` is any run of characters, ``?`` exactly one; nothing else is special."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.S | (re.I if ignore_case else 0))


def glob_matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the pattern whole, in any case (as IAM compares actions). A pattern
    without a wildcard is compared, not compiled (a policy names dozens of plain actions): between
    ASCII strings what re.I matches is what lower() equates."""
    if not has_wildcard(pattern) and pattern.isascii() and text.isascii():
        return pattern.lower() == text.lower()
    return bool(glob_regex(pattern, ignore_case=True).fullmatch(text))


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text
