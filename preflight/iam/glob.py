"""IAM's wildcards: ``*`` is any run of characters, ``?`` exactly one; nothing else is special."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.S | (re.I if ignore_case else 0))


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text
