"""What a change will do to the cluster it names: the request compared with DescribeCluster and
ListClusterNodes as read by the live prefetch. Pure: no AWS here, only the records of account.py.

A plan is a list of changes, each a dict with ``action``, ``group`` (or None), ``pointer`` (where
the request asks for it) and ``summary`` (one line), plus the numbers and node ids involved. The
PF452 rule reports each change as an info finding; the JSON report carries the plans.
"""

from __future__ import annotations

import json

from preflight.live import (SCHEDULER_CONFIG_CHANGES, UPDATES as CHANGES, cluster_name, extension_arns,
                            scheduler_config_id)
from preflight.values import real
ATTACHMENTS = {"attach-cluster-node-volume": ("/VolumeId", "volume", "attached to"),
               "detach-cluster-node-volume": ("/VolumeId", "volume", "detached from"),
               "attach-cluster-node-network-interface": ("/NetworkInterfaceId", "network interface", "attached to")}
NODE_ACTIONS = {"batch-delete-cluster-nodes": "deleted", "batch-reboot-cluster-nodes": "rebooted",
                "batch-replace-cluster-nodes": "replaced"}


def _nodes(count: int, kind: str = "") -> str:
    return f"{count} {kind}node{'' if count == 1 else 's'}"


def group_count(group: dict) -> int:
    for key in ("TargetCount", "CurrentCount"):
        if isinstance(group.get(key), int):
            return group[key]
    return 0


def _nodes_of(nodes, group: str) -> list[str]:
    return [n.id for n in nodes or () if n.group == group]


def _checks(spec: dict) -> list[str]:
    checks = spec.get("OnStartDeepHealthChecks")
    return [c for c in checks if isinstance(c, str)] if isinstance(checks, list) else []


def changes(ctx, cluster, nodes) -> list[dict]:
    """The plan of ``ctx``'s request against ``cluster`` (ClusterState) and its ``nodes``."""
    operation = ctx.operation
    if operation == "update-cluster":
        return _update(ctx, cluster, nodes)
    if operation == "update-cluster-software":
        return _software(ctx, cluster, nodes)
    if operation in NODE_ACTIONS:
        return _node_batch(ctx, cluster, nodes, NODE_ACTIONS[operation])
    if operation == "batch-add-cluster-nodes":
        return _add_nodes(ctx, cluster)
    if operation in ATTACHMENTS:
        return _attachment(ctx, nodes, *ATTACHMENTS[operation])
    if operation == "start-cluster-health-check":
        return _health_checks(ctx, cluster, nodes)
    if operation == "move-cluster-nodes":
        return _move(ctx, cluster)
    if operation.endswith("-cluster-scheduler-config"):
        return _scheduler_config(ctx)
    if operation.endswith("-cluster-extension"):
        return _extension(ctx, nodes)
    if operation == "delete-cluster":
        total = len(nodes or ())
        return [{"action": "delete-cluster", "group": None, "pointer": "/ClusterName", "nodes": total,
                 "summary": f"deletes the cluster: {len(cluster.groups)} instance groups, {total} nodes"}]
    return []


def _move(ctx, cluster) -> list[dict]:
    group, target = real(ctx.value("/SourceInstanceGroupName")), real(ctx.value("/TargetInstanceGroupName"))
    ids = [i for i in ctx.value("/NodeIds") or () if isinstance(i, str)] if isinstance(ctx.value("/NodeIds"), list) else []
    logical, count = ctx.value("/NodeLogicalIds"), ctx.value("/InstanceCount")
    if ids:
        moved = f"{_nodes(len(ids))} of {group} ({', '.join(ids)})"
    elif isinstance(logical, list) and logical:
        moved = f"{_nodes(len(logical))} of {group} named by logical id"
    else:
        moved = f"{_nodes(count) if type(count) is int else 'nodes'} of {group} (the service chooses which)"
    where = "the same cluster" if ctx.value("/TargetClusterArn") == cluster.arn else f"cluster {ctx.value('/TargetClusterArn')}"
    return [{"action": "nodes-moved", "group": group, "pointer": "/SourceInstanceGroupName", "nodes": ids, "to": target,
             "summary": f"moves {moved} to group {target} of {where}; their root and secondary EBS volumes are "
                        "replaced (data on them is lost)"}]


def _scheduler_config(ctx) -> list[dict]:
    """A scheduler config created, updated or deleted; the request's SchedulerConfig in words."""
    operation, given = ctx.operation, ctx.value("/SchedulerConfig")
    settings = _scheduler_settings(given) if isinstance(given, dict) else ""
    if operation == "create-cluster-scheduler-config":
        name = real(ctx.value("/Name"))
        return [] if not name else [{"action": "scheduler-config-created", "group": None, "pointer": "/Name", "name": name,
                 "summary": f"creates scheduler config {name} (version 1) on the cluster"
                            + (f": {settings}" if settings else "")}]
    config = ctx.account.scheduler_config(scheduler_config_id(ctx))  # of() read it: the id is there
    if config is None:
        return []
    if operation == "delete-cluster-scheduler-config":
        return [{"action": "scheduler-config-deleted", "group": None, "pointer": "/ClusterSchedulerConfigId",
                 "name": config.name, "version": config.version,
                 "summary": f"deletes scheduler config {config.name} (version {config.version}, {config.status})"}]
    target = ctx.value("/TargetVersion")
    return [{"action": "scheduler-config-updated", "group": None, "pointer": "/ClusterSchedulerConfigId",
             "name": config.name, "from": config.version, "target_version": target,
             "summary": f"updates scheduler config {config.name} (now version {config.version}, {config.status}; "
                        f"TargetVersion {target})" + (f" to: {settings}" if settings else "")}]


def _scheduler_settings(config: dict) -> str:
    parts = [f"{key} {config[key]}" for key in ("FairShare", "IdleResourceSharing") if isinstance(config.get(key), str)]
    classes = config.get("PriorityClasses")
    if isinstance(classes, list) and classes:
        parts.append("priority classes " + ", ".join(
            f"{c.get('Name')} (weight {c.get('Weight')})" for c in classes if isinstance(c, dict)))
    return ", ".join(parts)


def _extension(ctx, nodes) -> list[dict]:
    """An extension installed, updated or removed: every node of the cluster runs it."""
    operation, count = ctx.operation, _nodes(len(nodes or ()))
    if operation == "create-cluster-extension":
        name, version = real(ctx.value("/ExtensionName")), real(ctx.value("/ExtensionVersion"))
        return [] if not name else [{"action": "extension-installed", "group": None, "pointer": "/ExtensionName", "name": name,
                 "to": version, "summary": f"installs extension {name} {version or '(its latest version)'} on the "
                                           f"cluster's {count}"}]
    named = extension_arns(ctx)
    extension = ctx.account.cluster_extension(*named) if named else None
    if extension is None:
        return []
    if operation == "delete-cluster-extension":
        return [{"action": "extension-removed", "group": None, "pointer": "/ExtensionArn", "name": extension.name,
                 "summary": f"removes extension {extension.name} {extension.version} from the cluster's {count}"}]
    version = real(ctx.value("/ExtensionVersion")) or extension.version
    changed = [f"version {extension.version} -> {version}"] if version != extension.version else []
    settings = _json_object(ctx.value("/ConfigurationValues"))
    if settings:
        changed.append("settings " + ", ".join(f"{k} {'reset' if v is None else 'set'}" for k, v in settings.items()))
    what = " and ".join(changed) or "nothing (a retry on the nodes where it failed)"
    return [{"action": "extension-updated", "group": None, "pointer": "/ExtensionArn", "name": extension.name,
             "from": extension.version, "to": version,
             "summary": f"updates extension {extension.name} on the cluster's {count}: {what}"}]


def _json_object(text) -> dict:
    """ConfigurationValues (a JSON object written as a string) read, or {} when it is not one."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _update(ctx, cluster, nodes) -> list[dict]:
    found = []
    for pointer, spec in ctx.instance_groups():
        name = real(spec.get("InstanceGroupName"))
        count = spec.get("InstanceCount")
        if not name or type(count) is not int:
            continue
        checks = _checks(spec)
        existing = cluster.groups.get(name)
        if existing is None:
            change = {"action": "add-group", "group": name, "pointer": pointer, "to": count,
                      "summary": f"adds instance group {name}: {count} x {spec.get('InstanceType')}"}
            if checks:
                change["deep_health_checks"] = checks
                change["summary"] += f", deep health checks {', '.join(checks)} on its {count} new nodes"
            found.append(change)
            continue
        before = group_count(existing)
        if count != before:
            direction = "up" if count > before else "down"
            change = {"action": f"scale-{direction}", "group": name, "pointer": f"{pointer}/InstanceCount",
                      "from": before, "to": count, "by": abs(count - before),
                      "summary": f"scales {name} {direction} by {abs(count - before)}: {before} -> {count} nodes"}
            if direction == "down":
                change["summary"] += " (the service chooses which nodes go)"
            elif checks:
                change["deep_health_checks"] = checks
                change["summary"] += f", deep health checks {', '.join(checks)} on the {_nodes(count - before, 'new ')}"
            found.append(change)
        found += _members_changed(pointer, name, spec, existing)
        image, current = real(spec.get("ImageId")), existing.get("CurrentImageId")
        if image and current and image != current:
            touched = _nodes_of(nodes, name)
            found.append({"action": "image", "group": name, "pointer": f"{pointer}/ImageId", "from": current,
                          "to": image, "nodes": touched,
                          "summary": f"changes {name}'s image {current} -> {image} ({len(touched)} existing nodes)"})
    deleting = ctx.value("/InstanceGroupsToDelete")
    for index, name in enumerate(deleting if isinstance(deleting, list) else []):
        if isinstance(name, str) and name in cluster.groups:
            gone = _nodes_of(nodes, name)
            found.append({"action": "remove-group", "group": name, "pointer": f"/InstanceGroupsToDelete/{index}",
                          "nodes": gone, "summary": f"removes instance group {name} and its {len(gone)} nodes"})
    return found


# Members a group's plan shows by themselves (counts, images), or that the cluster's record keeps
# under another name; every other member the request and the record both have is compared.
SHOWN_APART = ("InstanceGroupName", "InstanceCount", "ImageId", "MinInstanceCount")


def _members_changed(pointer: str, name: str, spec: dict, existing: dict) -> list[dict]:
    """Each member of an existing group the request gives another value than the cluster has
    (DescribeCluster's record); an OverrideVpcConfig the request leaves out is one it removes."""
    found = []
    members = [m for m in spec if m not in SHOWN_APART and m in existing]
    if "OverrideVpcConfig" in existing and "OverrideVpcConfig" not in spec:
        members.append("OverrideVpcConfig")
    for member in members:
        given, now = spec.get(member), existing.get(member)
        if same(given, now):
            continue
        found.append({"action": "change", "group": name, "member": member,
                      "pointer": f"{pointer}/{member}" if member in spec else pointer, "from": now, "to": given,
                      "summary": f"changes {member} of {name}: {shown(now)} -> {shown(given)}" if given is not None
                      else f"removes {member} of {name} ({shown(now)})"})
    return found


def same(given, now) -> bool:
    """Whether a request's member and the cluster's are one value (lists of names, such as subnets
    and security groups, in any order)."""
    return _normal(given) == _normal(now)


def _normal(value):
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_normal(item) for item in value]
        return sorted(items) if all(isinstance(item, str) for item in items) else items
    return value


def shown(value) -> str:
    """A member's value in a plan's or a finding's words: text as it is, the rest as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "), default=str)


def _software(ctx, cluster, nodes) -> list[dict]:
    named = [(f"{p}/InstanceGroupName", g.get("InstanceGroupName")) for p, g in ctx.instance_groups()]
    targets = [(p, n) for p, n in named if isinstance(n, str) and n in cluster.groups] if named else [
        ("", n) for n in sorted(cluster.groups)]
    image = real(ctx.value("/ImageId"))
    found = []
    for pointer, name in targets:
        current = cluster.groups[name].get("CurrentImageId") or "default"
        release = cluster.groups[name].get("CurrentImageReleaseVersion")
        target = image or current
        touched = _nodes_of(nodes, name)
        what = (f"image {current} -> {target}" if target != current else
                f"image {current} to its latest release" + (f" (now {release})" if release else ""))
        found.append({"action": "software-update", "group": name, "pointer": pointer, "from": current,
                      "to": target, "nodes": touched,
                      "summary": f"updates the {what} of {name} on {len(touched)} nodes"})
    return found


def _node_batch(ctx, cluster, nodes, verb: str) -> list[dict]:
    by_id = {n.id: n for n in nodes or ()}
    ids = ctx.value("/NodeIds")
    groups: dict[str, list[str]] = {}
    for node_id in ids if isinstance(ids, list) else []:
        if isinstance(node_id, str) and node_id in by_id:
            groups.setdefault(by_id[node_id].group, []).append(node_id)
    found = []
    for name, touched in groups.items():
        left = len(_nodes_of(nodes, name)) - (len(touched) if verb == "deleted" else 0)
        change = {"action": f"nodes-{verb}", "group": name, "pointer": "/NodeIds", "nodes": touched,
                  "summary": f"{_nodes(len(touched))} of {name} {verb}: {', '.join(touched)}"}
        if verb == "deleted":
            change["left"] = left
            change["summary"] += f" ({left} left)"
        found.append(change)
    logical = ctx.value("/NodeLogicalIds")
    if isinstance(logical, list) and logical:
        found.append({"action": f"nodes-{verb}", "group": None, "pointer": "/NodeLogicalIds", "nodes": logical,
                      "summary": f"{_nodes(len(logical))} named by logical id {verb} (not matched here)"})
    return found


def _attachment(ctx, nodes, pointer: str, what: str, verb: str) -> list[dict]:
    node_id, resource = ctx.value("/NodeId"), ctx.value(pointer)
    node = next((n for n in nodes or () if n.id == node_id), None)
    if node is None or not isinstance(resource, str):
        return []
    return [{"action": f"{what.replace(' ', '-')}-{verb.split()[0]}", "group": node.group, "pointer": pointer,
             "nodes": [node_id], "summary": f"{what} {resource} {verb} node {node_id} of {node.group}"}]


def _health_checks(ctx, cluster, nodes) -> list[dict]:
    found = []
    configs = ctx.value("/DeepHealthCheckConfigurations")
    for index, config in enumerate(configs if isinstance(configs, list) else []):
        name = config.get("InstanceGroupName") if isinstance(config, dict) else None
        if not isinstance(name, str) or name not in cluster.groups:
            continue
        ids = config.get("InstanceIds") if isinstance(config.get("InstanceIds"), list) else _nodes_of(nodes, name)
        checks = _checks({"OnStartDeepHealthChecks": config.get("DeepHealthChecks")})
        found.append({"action": "deep-health-checks", "group": name, "pointer": f"/DeepHealthCheckConfigurations/{index}",
                      "nodes": ids, "deep_health_checks": checks,
                      "summary": f"runs deep health checks {', '.join(checks)} on {len(ids)} nodes of {name} "
                                 "(they are unavailable meanwhile)"})
    return found


def _add_nodes(ctx, cluster) -> list[dict]:
    found = []
    specs = ctx.value("/NodesToAdd")
    for index, spec in enumerate(specs if isinstance(specs, list) else []):
        if not isinstance(spec, dict):
            continue
        name, by = spec.get("InstanceGroupName"), spec.get("IncrementTargetCountBy")
        if isinstance(name, str) and name in cluster.groups and type(by) is int:
            before = group_count(cluster.groups[name])
            found.append({"action": "scale-up", "group": name, "pointer": f"/NodesToAdd/{index}", "from": before,
                          "to": before + by, "by": by,
                          "summary": f"scales {name} up by {by}: {before} -> {before + by} nodes"})
    return found


def of(ctx) -> dict | None:
    """The plan of a change request as a JSON-ready object, or None (not a change, or no such
    cluster). The account reads may raise LookupFailed."""
    name = cluster_name(ctx)
    if ctx.operation in SCHEDULER_CONFIG_CHANGES:  # names only the config: the cluster is the config's
        identifier = scheduler_config_id(ctx)
        config = ctx.account.scheduler_config(identifier) if identifier else None
        name = config.cluster_arn if config else None
    if ctx.operation not in CHANGES or not name:
        return None
    cluster = ctx.account.cluster(name)
    if cluster is None:
        return None
    nodes = ctx.account.cluster_nodes(name)
    return {"file": ctx.document.path, "operation": ctx.operation, "cluster": name, "status": cluster.status,
            "changes": changes(ctx, cluster, nodes)}
