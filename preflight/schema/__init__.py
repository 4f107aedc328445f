"""The request schemas bundled with preflight, one per operation, and ``source.json``: the botocore
release they were generated from (scripts/generate_schemas.py), its date and each operation's API
name. Read here, below both the validator and what may be newer than them (drift.py)."""

from __future__ import annotations

import functools
import json
import pathlib

# The package's own files, read by path: importlib.resources would cost its import on every run.
FOLDER = pathlib.Path(__file__).parent


@functools.lru_cache(maxsize=None)
def load(operation: str) -> dict:
    return json.loads((FOLDER / f"{operation}.json").read_text())


@functools.lru_cache(maxsize=None)
def source() -> dict:
    return json.loads((FOLDER / "source.json").read_text())
