"""The JSON Schema of a request with the AWS model's documentation as descriptions, for editors
and the YAML language server (``preflight schema OPERATION``). The documentation lives in
``preflight/schema/docs.json``, which the validation reads only to name an enum's documented values."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources

from preflight import schema
from preflight.operations import OPERATIONS


@functools.lru_cache(maxsize=None)
def _docs() -> dict[str, str]:
    return json.loads(resources.files("preflight.schema").joinpath("docs.json").read_text(encoding="utf-8"))


def documented(operation: str) -> dict:
    """The request schema of ``operation`` with ``description`` on the request, each shape and
    each member the model documents."""
    described = copy.deepcopy(schema.load(operation))
    docs = _docs()
    source = schema.source()
    described["$id"] = f"preflight:{operation}"
    summary = docs.get(f"@{OPERATIONS[operation]}")
    described["description"] = ((summary + "\n\n") if summary else "") + (
        f"Request of `aws sagemaker {operation}` (--cli-input-json), from botocore {source['botocore']}.")
    for name, definition in described.get("$defs", {}).items():
        if docs.get(name):
            definition["description"] = docs[name]
        for member, member_schema in definition.get("properties", {}).items():
            if docs.get(f"{name}.{member}"):
                member_schema["description"] = docs[f"{name}.{member}"]
    return described
