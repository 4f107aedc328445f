"""Generate preflight/schema/*.json from botocore's SageMaker service model.

    pip download --no-deps botocore -d /tmp/in && python scripts/generate_schemas.py --wheel /tmp/in/botocore-*.whl

(`scripts/refresh` does this and reports what changed.) The model is read from the wheel as
published; the data's date is the release's build date recorded in the wheel, not the day this
runs. Without ``--wheel`` the installed botocore's model file is read (botocore is not imported),
and its release date must be given with ``--date``; the tests use that to regenerate the shipped
schemas from the recorded release.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import pathlib
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from preflight import drift, model  # noqa: E402
from preflight.operations import OPERATIONS  # noqa: E402  (the one list of operations)

OUT = ROOT / "preflight" / "schema"


def from_wheel(path: pathlib.Path) -> tuple[dict, str, str]:
    """(model, botocore version, release date) from a botocore wheel."""
    with zipfile.ZipFile(path) as wheel:
        entry = wheel.getinfo("botocore/" + "/".join(model.MODEL_PATH))
        data = json.loads(gzip.decompress(wheel.read(entry)))
    version = path.name.split("-")[1]
    return data, version, datetime.date(*entry.date_time[:3]).isoformat()


def render(data: dict, version: str, date: str) -> dict[str, str]:
    """File name -> exact text of every schema file and of source.json."""
    files = {f"{cli_name}.json": json.dumps(model.schema(data, api_name), indent=1) + "\n"
             for cli_name, api_name in OPERATIONS.items()}
    source = {
        "botocore": version,
        "date": date,  # the botocore release's own date: how current the model is
        "api_version": data["metadata"]["apiVersion"],
        "operations": OPERATIONS,
    }
    files["source.json"] = json.dumps(source, indent=1) + "\n"
    # Every SageMaker operation, so that an IAM action the catalog lacks can be told from a typo.
    files["model-operations.json"] = json.dumps(sorted(data["operations"])) + "\n"
    # For editors only (`preflight schema`): validation never loads it.
    docs = model.documentation(data, OPERATIONS.values())
    files["docs.json"] = json.dumps(docs, indent=0, ensure_ascii=False, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=pathlib.Path, help="a botocore wheel (pip download --no-deps botocore)")
    parser.add_argument("--date", help="the installed botocore's release date (YYYY-MM-DD), without --wheel")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args(argv)
    if args.wheel:
        data, version, date = from_wheel(args.wheel)
    else:
        installed = drift.installed_botocore()
        if installed is None or not args.date:
            parser.error("give --wheel, or have botocore installed and give its release --date")
        data, version, date = model.read(installed.model_path), installed.version, args.date
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render(data, version, date).items():
        (args.out / name).write_text(text)
    print(f"wrote {len(OPERATIONS)} schemas from botocore {version} ({date}) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
