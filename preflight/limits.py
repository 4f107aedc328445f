"""The limits every input is read within, so that any file ends in a finding or a usage error,
quickly and in bounded memory: its size (``--max-bytes``) and its depth. Every file preflight
reads (requests, policies, templates, the configuration, a baseline, an env file) comes through
``read_bytes``; every parsed one is measured by ``deeper_than``."""

from __future__ import annotations

import sys

STDIN = "-"
MAX_BYTES = 4 * 1024 * 1024  # default input size limit (--max-bytes); a request is a few kilobytes
MAX_DEPTH = 64  # containers within containers; a request or policy needs about ten


class LoadError(Exception):
    """An input that cannot be used at all (missing, unreadable, too large, not what was asked): a
    usage error, not a finding."""


def read_bytes(path: str, max_bytes: int = MAX_BYTES, shown: str | None = None) -> bytes:
    """The bytes of a file (``-``: stdin), read no further than ``max_bytes`` (so ``/dev/zero`` or
    a FIFO that never ends is refused at once). LoadError names the file (as ``shown``) when it
    cannot be read or is larger."""
    shown = shown or path
    try:
        if path == STDIN:
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise LoadError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{shown}: is a directory, not a file") from None
    except OSError as err:
        raise LoadError(f"{shown}: {err.strerror}") from None
    if len(raw) > max_bytes:
        raise LoadError(f"{shown}: larger than {max_bytes:,} bytes, the input size limit "
                        "(a cluster request is a few kilobytes; --max-bytes raises the limit)")
    return raw


def deeper_than(data: object, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed data holds containers nested more than ``limit`` levels (without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return False
