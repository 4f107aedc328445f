"""Generate preflight/aws/models/: botocore's service models cut down to the calls preflight makes.

    pip download --no-deps botocore -d /tmp/in && python scripts/generate_models.py --wheel /tmp/in/botocore-*.whl

(`scripts/refresh` does this with the wheel the request schemas come from.) For each service the
readers in preflight/aws/ call, the newest API version's service-2.json of that botocore release,
with only the operations preflight calls (every operation a reader names, and every operation
``send`` may call: preflight/operations.py) and the shapes they reach, without documentation.
Making a client parses its model and builds a method per operation: EC2's has 830 operations,
SageMaker's 434, and preflight calls 6 and 24. The data's date is the release's build date recorded
in the wheel (of the SageMaker model, as for the request schemas). Without ``--wheel`` the installed
botocore's model files are read (botocore is not imported), and its release date must be given
with ``--date``; the tests use that to regenerate the shipped models from the recorded release.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import gzip
import json
import pathlib
import re
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from preflight import drift, model  # noqa: E402
from preflight.operations import OPERATIONS  # noqa: E402  (what send may call)

READERS = ROOT / "preflight" / "aws"
OUT = READERS / "models"
REFS = ("member", "key", "value")  # a list's and a map's shapes (a structure's are its members)
UNDOCUMENTED = ("documentation", "documentationUrl")


def python_name(api_name: str) -> str:
    """``DescribeImages`` -> ``describe_images``: the method a client has for an operation."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", api_name).lower()


CALLS = ("call", "pages", "by_id")  # the methods of preflight.aws.calls.Calls that make a call


def call_sites(tree: ast.AST):
    """(service, operation) argument nodes of each ``call``, ``pages`` and ``by_id`` site of a reader
    module (directly, or handed to a pool as ``submit(call, service, operation, ...)``) that names its
    service."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        args = node.args
        if name == "submit" and args and getattr(args[0], "id", getattr(args[0], "attr", None)) in CALLS:
            args = args[1:]
        elif name not in CALLS:
            continue
        if len(args) > 1 and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            yield args[0].value, args[1]


def reader_operations(models: dict[str, dict]) -> dict[str, set[str]]:
    """Service -> the API names of the operations preflight calls: in each reader module, the string
    literals that name a method of a service the module calls (at the call, or in a table the call
    reads), and every operation ``send`` may call. An operation name made at run time (an f-string)
    could escape this: the readers name each one whole."""
    found: dict[str, set[str]] = {"sagemaker": set(OPERATIONS.values())}
    for path in sorted(READERS.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        sites = list(call_sites(tree))
        for _, operation in sites:
            if not isinstance(operation, (ast.Constant, ast.Name)):
                raise SystemExit(f"{path.name}:{operation.lineno}: name the operation whole, not {ast.unparse(operation)}")
        literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        for service in {service for service, _ in sites}:
            methods = {python_name(name): name for name in models[service]["operations"]}
            found.setdefault(service, set()).update(methods[literal] for literal in literals & set(methods))
    return found


def reached(shapes: dict, roots: list[str]) -> list[str]:
    """The names of the shapes ``roots`` reach, in the model's order."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        todo += [shape[ref]["shape"] for ref in REFS if ref in shape]
        todo += [member["shape"] for member in shape.get("members", {}).values()]
    return [name for name in shapes if name in seen]


def undocumented(definition: dict) -> dict:
    return {key: value for key, value in definition.items() if key not in UNDOCUMENTED}


def trim(data: dict, operations: set[str]) -> dict:
    """The model ``data`` with only ``operations`` and the shapes they reach (input, output, errors), without
    documentation; everything else as botocore ships it."""
    missing = operations - set(data["operations"])
    if missing:
        raise SystemExit(f"{data['metadata']['serviceId']}: no operation {', '.join(sorted(missing))} in the model")
    kept = {name: op for name, op in data["operations"].items() if name in operations}
    roots = [op[part]["shape"] for op in kept.values() for part in ("input", "output") if part in op]
    roots += [error["shape"] for op in kept.values() for error in op.get("errors", [])]
    shapes = {}
    for name in reached(data["shapes"], roots):
        shape = undocumented(data["shapes"][name])
        if "members" in shape:
            shape["members"] = {member: undocumented(ref) for member, ref in shape["members"].items()}
        shapes[name] = shape
    operations_out = {}
    for name, op in kept.items():
        op = undocumented(op)
        for part in ("input", "output"):
            if part in op:
                op[part] = undocumented(op[part])
        if "errors" in op:
            op["errors"] = [undocumented(error) for error in op["errors"]]
        operations_out[name] = op
    return {**undocumented(data), "operations": operations_out, "shapes": shapes}


def newest(paths: list[str], service: str) -> str:
    """The newest API version's service-2 path of a service (as botocore's loader picks it)."""
    versions = sorted(p for p in paths if re.fullmatch(rf"{re.escape(service)}/[^/]+/service-2\.json\.gz", p))
    if not versions:
        raise SystemExit(f"no service-2 model for {service}")
    return versions[-1]


def from_wheel(path: pathlib.Path, services: set[str]) -> tuple[dict[str, tuple[str, dict]], str, str]:
    """({service: (API version, model)}, botocore version, release date) from a botocore wheel."""
    with zipfile.ZipFile(path) as wheel:
        names = [name.removeprefix("botocore/data/") for name in wheel.namelist() if name.startswith("botocore/data/")]
        models = {}
        for service in sorted(services):
            found = newest(names, service)
            models[service] = (found.split("/")[1], json.loads(gzip.decompress(wheel.read(f"botocore/data/{found}"))))
        entry = wheel.getinfo("botocore/" + "/".join(model.MODEL_PATH))  # dated as the request schemas are
    return models, path.name.split("-")[1], datetime.date(*entry.date_time[:3]).isoformat()


def from_installed(package: pathlib.Path, services: set[str]) -> dict[str, tuple[str, dict]]:
    data = package / "data"
    names = [p.relative_to(data).as_posix() for service in services for p in (data / service).glob("*/service-2.json.gz")]
    return {service: (found.split("/")[1], json.loads(gzip.decompress((data / found).read_bytes())))
            for service in sorted(services) for found in [newest(names, service)]}


def services_called() -> set[str]:
    return {service for path in READERS.glob("*.py") for service, _ in call_sites(ast.parse(path.read_text()))}


def render(models: dict[str, tuple[str, dict]], version: str, date: str) -> dict[str, str]:
    """Relative path -> exact text of every model file and of source.json."""
    operations = reader_operations({service: data for service, (_, data) in models.items()})
    files = {}
    for service, (api_version, data) in models.items():
        trimmed = trim(data, operations[service])
        files[f"{service}/{api_version}/service-2.json"] = json.dumps(trimmed, indent=0, separators=(",", ":")) + "\n"
    source = {
        "botocore": version,
        "date": date,  # the botocore release's own date
        "services": {service: {"api_version": api_version, "operations": sorted(operations[service])}
                     for service, (api_version, _) in models.items()},
    }
    files["source.json"] = json.dumps(source, indent=1) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=pathlib.Path, help="a botocore wheel (pip download --no-deps botocore)")
    parser.add_argument("--date", help="the installed botocore's release date (YYYY-MM-DD), without --wheel")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args(argv)
    services = services_called()
    if args.wheel:
        models, version, date = from_wheel(args.wheel, services)
    else:
        installed = drift.installed_botocore()
        if installed is None or not args.date:
            parser.error("give --wheel, or have botocore installed and give its release --date")
        models, version, date = from_installed(installed.package, services), installed.version, args.date
    files = render(models, version, date)
    for old in args.out.glob("*/*/service-2.json"):  # a service no longer called, an API version superseded
        if old.relative_to(args.out).as_posix() not in files:
            old.unlink()
            old.parent.rmdir()
    for name, text in files.items():
        (args.out / name).parent.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_text(text)
    print(f"wrote {len(models)} models from botocore {version} ({date}) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
