"""botocore's SageMaker service model turned into the JSON Schemas preflight validates with.

`scripts/generate_schemas.py` writes them to ``preflight/schema/`` from a recorded botocore
release. At run time the same conversion is used on a newer botocore found installed next to
preflight (read as a file, never imported), so that a member the bundled snapshot does not know
yet is not reported as unknown.

Each operation's input shape becomes a self-contained JSON Schema (draft 2020-12) whose
``$defs`` hold the model shapes it reaches. Model patterns are unanchored but AWS applies them
to the whole value, so each is wrapped as ``^(?:...)$``. The Java ``\\p{L}``/``\\p{N}``/``\\p{Z}``
classes of the model are rewritten for Python's ``re`` (which ``jsonschema`` also uses).
"""

from __future__ import annotations

import json
import pathlib
import re

MODEL_PATH = ("data", "sagemaker", "2017-07-24", "service-2.json.gz")

# Unicode separators (\p{Z}: Zs, Zl, Zp), spelled out because Python's re has no \p{...}.
SEPARATORS = r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Letters, marks, separators, symbols, numbers and punctuation: every character but the "other"
# category (\p{C}). Written as "not a control character", which admits a little more (format and
# unassigned code points): a value the service may refuse, never a valid one refused here.
PRINTABLE_CLASS = r"[\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]"
NOT_CONTROL = r"[^\x00-\x1f\x7f-\x9f]"


class ModelError(Exception):
    """The model has a construct the conversion does not handle."""


def python_pattern(pattern: str) -> str:
    """Translate the model's Java regex classes to Python's re, anchored to the whole value."""
    pattern = pattern.replace(PRINTABLE_CLASS, NOT_CONTROL)
    if r"\p{" in pattern:
        # \w is exactly [\p{L}\p{N}_] in Python's re; safe only inside a class that already admits "_".
        for klass in re.findall(r"\[[^\]]*\\p\{[^\]]*\]", pattern):
            if "_" not in klass:
                raise ModelError(f"cannot translate {pattern!r}: \\p{{}} class without '_'")
        pattern = pattern.replace(r"\p{L}", r"\w").replace(r"\p{N}", "").replace(r"\p{Z}", SEPARATORS)
        if r"\p{" in pattern:
            raise ModelError(f"untranslated Unicode class in {pattern!r}")
    re.compile(pattern)
    return f"^(?:{pattern})$"


def _ref(name: str, shapes: dict, defs: dict) -> dict:
    """Return a $ref to ``name``, adding its definition (and those it reaches) to ``defs``."""
    if name not in defs:
        defs[name] = {}  # placeholder first: recursive shapes terminate
        defs[name] = _build(shapes[name], shapes, defs)
    return {"$ref": f"#/$defs/{name}"}


def _build(shape: dict, shapes: dict, defs: dict) -> dict:
    kind = shape["type"]
    if kind == "structure":
        schema = {
            "type": "object",
            "properties": {m: _ref(s["shape"], shapes, defs) for m, s in shape["members"].items()},
            "additionalProperties": False,
        }
        if shape.get("required"):
            schema["required"] = list(shape["required"])
        if shape.get("union"):
            schema["minProperties"] = schema["maxProperties"] = 1
            schema["x-union"] = True
        return schema
    if kind == "list":
        schema = {"type": "array", "items": _ref(shape["member"]["shape"], shapes, defs)}
        bounds = ("minItems", "maxItems")
    elif kind == "map":
        schema = {
            "type": "object",
            "propertyNames": _ref(shape["key"]["shape"], shapes, defs),
            "additionalProperties": _ref(shape["value"]["shape"], shapes, defs),
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
    elif kind == "timestamp":
        # The CLI takes ISO 8601 text or epoch seconds; the service parses them. No type is imposed.
        return {"x-timestamp": True}
    else:
        raise ModelError(f"unsupported shape type {kind!r}")
    for model_key, schema_key in zip(("min", "max"), bounds):
        if model_key in shape:
            schema[schema_key] = shape[model_key]
    return schema


def schema(model: dict, api_name: str) -> dict:
    """The JSON Schema of one operation's input."""
    defs: dict = {}
    root = _ref(model["operations"][api_name]["input"]["shape"], model["shapes"], defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{api_name} request",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def documentation(model: dict, api_names) -> dict[str, str]:
    """The model's documentation as plain text, for editors (``preflight schema``): ``@Operation``
    for an operation, ``Shape`` for a shape and ``Shape.Member`` for a member, for the shapes the
    operations' inputs reach. Kept apart from the schemas, which validation loads on every run."""
    docs: dict[str, str] = {}
    shapes = model["shapes"]
    reached: set[str] = set()
    for api_name in api_names:
        docs[f"@{api_name}"] = _plain(model["operations"][api_name].get("documentation", ""))
        reached.update(schema(model, api_name)["$defs"])
    for name in sorted(reached):
        docs[name] = _plain(shapes[name].get("documentation", ""))
        for member, reference in shapes[name].get("members", {}).items():
            docs[f"{name}.{member}"] = _plain(reference.get("documentation", ""))
    return {key: text for key, text in docs.items() if text}


def _plain(markup: str) -> str:
    """The model's HTML documentation as text: paragraphs and list items kept, tags dropped."""
    import html

    markup = re.sub(r"<li>", "\n- ", markup)
    markup = re.sub(r"</p>|<br\s*/?>", "\n\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def read(path: pathlib.Path) -> dict:
    import gzip  # only where a botocore model is read, not on every check that imports drift

    return json.loads(gzip.decompress(path.read_bytes()))


OPERATIONS = re.compile(rb'"operations"\s*:\s*')


def operation_names(path: pathlib.Path) -> frozenset[str]:
    """The operation names of a gzipped botocore model, read only as far as its shapes: botocore
    writes "operations" before "shapes", a tenth of a model (SageMaker's is 2.6 MB whole, 20 ms to
    decompress and parse). A model laid out otherwise is read whole."""
    import zlib

    stream, head = zlib.decompressobj(wbits=31), bytearray()  # 31: a gzip member
    with path.open("rb") as file:
        while b'"shapes"' not in head and (chunk := file.read(64 * 1024)):
            try:
                head += stream.decompress(chunk)
            except zlib.error as err:  # as gzip's reader says it
                raise ValueError(f"{path}: not a gzip stream ({err})") from None
    found = OPERATIONS.search(head)
    if found:
        try:
            operations, _ = json.JSONDecoder().raw_decode(head[found.end():].decode())
        except ValueError:  # cut off before its end: the shapes come first
            operations = None
        if isinstance(operations, dict) and all(isinstance(entry, dict) for entry in operations.values()):
            return frozenset(operations)
    return frozenset(read(path).get("operations", {}))


def version_key(version: str) -> tuple[int, ...]:
    """``1.44.8`` -> (1, 44, 8), for comparing botocore releases."""
    return tuple(int(part) for part in re.findall(r"\d+", version))
