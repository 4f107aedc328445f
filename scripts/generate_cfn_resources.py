"""Generate preflight/iac/cloudformation.json from the CloudFormation resource schemas of the
HyperPod resources, as cfn-lint bundles them (its us-east-1 provider schemas).

    pip install cfn-lint && python scripts/generate_cfn_resources.py
    python scripts/generate_cfn_resources.py --wheel cfn_lint-*.whl    # pip download --no-deps cfn-lint

For each resource type whose create call is one of preflight's operations (``AWS::SageMaker::X``
-> ``CreateX``): that operation, the read-only properties (attributes CloudFormation returns,
never sent: left out of the derived request without a word), the create-only properties (a change
makes CloudFormation replace the resource; PF455 and the embedded local AWS read the instance
group's), and every property path the schema defines (``*`` for a list item), which the tests hold
to the request model's members. The data is dated by the schemas' own date (cfn-lint's
``schema_date``), not by the day this runs; ``render`` is what the tests regenerate byte for byte.
"""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from preflight.operations import OPERATIONS  # noqa: E402  (the one list of operations)

OUT = ROOT / "preflight" / "iac" / "cloudformation.json"
PREFIX = "AWS::SageMaker::"


def _paths(schema: dict, node: dict, path: str, seen: tuple = ()) -> list[str]:
    while "$ref" in node:
        name = node["$ref"].rpartition("/")[2]
        if name in seen:  # a recursive definition: its first level is enough
            return []
        seen, node = seen + (name,), schema["definitions"][name]
    found = []
    if "items" in node:
        found += _paths(schema, node["items"], f"{path}/*", seen)
    for name, child in (node.get("properties") or {}).items():
        found.append(f"{path}/{name}")
        found += _paths(schema, child, f"{path}/{name}", seen)
    return found


def _pointers(schema: dict, key: str) -> list[str]:
    """A schema's list of property pointers (``/properties/A/*/B``) as request pointers (``/A/*/B``)."""
    return sorted(p.removeprefix("/properties") for p in schema.get(key, []))


def installed_schemas():
    """(reader of a file under cfnlint/data/schemas/, version) of the installed cfn-lint."""
    import cfnlint
    from importlib.metadata import version

    schemas = pathlib.Path(cfnlint.__file__).parent / "data" / "schemas"
    return (lambda name: (schemas / name).read_bytes()), version("cfn-lint")


def wheel_schemas(wheel: pathlib.Path):
    """(reader of a file under cfnlint/data/schemas/, version) of a cfn-lint wheel, unpacked in memory."""
    import zipfile

    archive = zipfile.ZipFile(wheel)
    return (lambda name: archive.read(f"cfnlint/data/schemas/{name}")), wheel.name.split("-")[1]


def render(source=None) -> str:
    """The file's text, from the schemas of ``source`` (``wheel_schemas``), else the installed cfn-lint's."""
    read, cfn_lint = source or installed_schemas()
    providers = json.loads(read("providers/us-east-1.json"))
    creates = {name: op for op, name in OPERATIONS.items() if name.startswith("Create")}
    resources = {}
    for type_name, digest in sorted(providers.items()):
        operation = creates.get("Create" + type_name[len(PREFIX):]) if type_name.startswith(PREFIX) else None
        if operation is None:
            continue
        schema = json.loads(read(f"resources/{digest}.json"))
        resources[type_name] = {
            "operation": operation,
            "read_only": _pointers(schema, "readOnlyProperties"),
            "create_only": _pointers(schema, "createOnlyProperties"),
            "properties": _paths(schema, {"properties": schema["properties"]}, ""),
        }
    version = json.loads(read("version.json"))
    document = {"source": {"cfn-lint": cfn_lint, "schema_date": version["schema_date"][:10]},
                "resources": resources}
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=pathlib.Path, help="a cfn-lint wheel (pip download); default: the installed one")
    args = parser.parse_args(argv)
    OUT.write_text(render(wheel_schemas(args.wheel) if args.wheel else None))
    document = json.loads(OUT.read_text())
    print(f"{OUT.relative_to(ROOT)}: {', '.join(document['resources'])} "
          f"(schemas of {document['source']['schema_date']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
