"""Generate preflight/schema/*.json from botocore's SageMaker service model.

Run with the botocore version to record (``pip install botocore``), then commit the output:

    python scripts/generate_schemas.py

Each operation's input shape becomes a self-contained JSON Schema (draft 2020-12) whose
``$defs`` hold the model shapes it reaches. Model patterns are unanchored but AWS applies them
to the whole value, so each is wrapped as ``^(?:...)$``. The Java ``\\p{L}``/``\\p{N}``/``\\p{Z}``
classes of the model are rewritten for Python's ``re`` (which ``jsonschema`` also uses).
"""

from __future__ import annotations

import datetime
import json
import pathlib
import re
import sys

import botocore
import botocore.loaders

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from preflight.operations import OPERATIONS  # noqa: E402  (the one list of operations)

OUT = pathlib.Path(__file__).resolve().parent.parent / "preflight" / "schema"

# Unicode separators (\p{Z}: Zs, Zl, Zp), spelled out because Python's re has no \p{...}.
SEPARATORS = r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def python_pattern(pattern: str) -> str:
    """Translate the model's Java regex classes to Python's re, anchored to the whole value."""
    if r"\p{" in pattern:
        # \w is exactly [\p{L}\p{N}_] in Python's re; safe only inside a class that already admits "_".
        for klass in re.findall(r"\[[^\]]*\\p\{[^\]]*\]", pattern):
            if "_" not in klass:
                raise SystemExit(f"cannot translate {pattern!r}: \\p{{}} class without '_'")
        pattern = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", "").replace(r"\p{Z}", SEPARATORS)
        if r"\p{" in pattern:
            raise SystemExit(f"untranslated Unicode class in {pattern!r}")
    re.compile(pattern)
    return f"^(?:{pattern})$"


def shape_schema(name: str, shapes: dict, defs: dict) -> dict:
    """Return a $ref to ``name``, adding its definition (and those it reaches) to ``defs``."""
    if name not in defs:
        defs[name] = {}  # placeholder first: recursive shapes terminate
        defs[name] = build(shapes[name], shapes, defs)
    return {"$ref": f"#/$defs/{name}"}


def build(shape: dict, shapes: dict, defs: dict) -> dict:
    kind = shape["type"]
    if kind == "structure":
        schema = {
            "type": "object",
            "properties": {m: shape_schema(s["shape"], shapes, defs) for m, s in shape["members"].items()},
            "additionalProperties": False,
        }
        if shape.get("required"):
            schema["required"] = list(shape["required"])
        if shape.get("union"):
            schema["minProperties"] = schema["maxProperties"] = 1
            schema["x-union"] = True
        return schema
    if kind == "list":
        schema = {"type": "array", "items": shape_schema(shape["member"]["shape"], shapes, defs)}
        bounds = ("minItems", "maxItems")
    elif kind == "map":
        schema = {
            "type": "object",
            "propertyNames": shape_schema(shape["key"]["shape"], shapes, defs),
            "additionalProperties": shape_schema(shape["value"]["shape"], shapes, defs),
        }
        bounds = ("minProperties", "maxProperties")
    elif kind == "string":
        schema = {"type": "string"}
        if "enum" in shape:
            schema["enum"] = list(shape["enum"])
        if "pattern" in shape:
            schema["pattern"] = python_pattern(shape["pattern"])
        bounds = ("minLength", "maxLength")
    elif kind in ("integer", "long"):
        schema = {"type": "integer"}
        bounds = ("minimum", "maximum")
    elif kind == "boolean":
        return {"type": "boolean"}
    else:
        raise SystemExit(f"unsupported shape type {kind!r}")
    for model_key, schema_key in zip(("min", "max"), bounds):
        if model_key in shape:
            schema[schema_key] = shape[model_key]
    return schema


def main() -> int:
    model = botocore.loaders.Loader().load_service_model("sagemaker", "service-2")
    shapes = model["shapes"]
    OUT.mkdir(parents=True, exist_ok=True)
    for cli_name, api_name in OPERATIONS.items():
        defs: dict = {}
        root = shape_schema(model["operations"][api_name]["input"]["shape"], shapes, defs)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{api_name} request",
            **root,
            "$defs": dict(sorted(defs.items())),
        }
        (OUT / f"{cli_name}.json").write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n")
    source = {
        "botocore": botocore.__version__,
        "api_version": model["metadata"]["apiVersion"],
        "generated": datetime.date.today().isoformat(),
        "operations": OPERATIONS,
    }
    (OUT / "source.json").write_text(json.dumps(source, indent=1) + "\n")
    print(f"wrote {len(OPERATIONS)} schemas from botocore {botocore.__version__} to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
