"""What the local HyperPod's operations share: the settings, cluster events, how a change settles,
node ids, the lookups of a request's cluster, the records kept beside moto's clusters, errors and
answers.

A change leaves the cluster Creating, Updating or SystemUpdating (its changed groups likewise, new
nodes Pending) for ``settle_seconds``, then InService with Running nodes (a node whose software
was updating gets its LastSoftwareUpdateTime then); each step is a
ListClusterEvents event. A cluster named in ``failures`` ends Failed with the given message
instead. Settling is also when nodes moving between clusters arrive (MoveClusterNodes: their move
is due with the source cluster's change).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from datetime import datetime, timezone
from typing import Any

SETTINGS: dict[str, Any] = {"settle_seconds": 0.0, "failures": {}}
EVENTS: dict[str, list[dict]] = {}  # cluster ARN -> events, oldest first
MOVES: list[dict] = []  # nodes detaching for MoveClusterNodes: node, source, target, group, at
LOCK = threading.RLock()
_COUNTER = itertools.count(1)


def node_id(cluster: str, group: str, index: int) -> str:
    """A stable EC2-style id for the index-th node made in a group (i- and 17 hex digits)."""
    return "i-" + hashlib.sha256(f"{cluster}/{group}/{index}".encode()).hexdigest()[:17]


def add_nodes(cluster, group: dict, count: int, status: str = "Pending") -> list[str]:
    from moto.sagemaker.models import ClusterNode

    made = []
    for _ in range(count):
        identifier = node_id(cluster.cluster_name, group["InstanceGroupName"], group["_made"])
        group["_made"] += 1
        node = ClusterNode(cluster.region_name, cluster.account_id, cluster.cluster_name, group["InstanceGroupName"],
                           group["InstanceType"], group.get("LifeCycleConfig"), group.get("ExecutionRole"),
                           identifier, group.get("ThreadsPerCore"))
        node.status = status
        cluster.nodes[identifier] = node
        made.append(identifier)
    return made


# ----- events and settling -----------------------------------------------------------------------

def add_event(cluster, description: str, group: str | None = None, node: str | None = None, level: str = "Info"):
    event = {"EventId": f"event-{next(_COUNTER):08d}", "ClusterArn": cluster.arn, "ClusterName": cluster.cluster_name,
             "ResourceType": "Node" if node else "InstanceGroup" if group else "Cluster",
             "EventTime": time.time(), "Description": description, "EventLevel": level}
    event.update({k: v for k, v in (("InstanceGroupName", group), ("InstanceId", node)) if v})
    EVENTS.setdefault(cluster.arn, []).append(event)


def begin_change(cluster, status: str, groups: list[dict], description: str) -> None:
    """Start a change: the cluster and the changed groups show ``status`` until it settles."""
    with LOCK:
        cluster.status = status
        for group in groups:
            group["Status"] = status
        cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
        add_event(cluster, f"{description}: {status}")
    settle(cluster)


def settle(cluster) -> None:
    with LOCK:
        _arrive()
        if getattr(cluster, "_settles_at", None) is None or time.monotonic() < cluster._settles_at:
            return
        cluster._settles_at = None
        failure = SETTINGS["failures"].get(cluster.cluster_name)
        for node in cluster.nodes.values():
            if node.status == "SystemUpdating" and not failure:  # its software updated now
                node.last_software_update = datetime.now(timezone.utc)
            if node.status != "Running" and not failure:
                node.status = "Running"
                add_event(cluster, "node is Running", node.instance_group_name, node.instance_id)
        for group in cluster.instance_groups:
            group["Status"] = "Failed" if failure else "InService"
            group["CurrentCount"] = sum(n.instance_group_name == group["InstanceGroupName"]
                                        for n in cluster.nodes.values())
            if group.get("DesiredImageId"):
                group["CurrentImageId"] = group.pop("DesiredImageId")
        cluster.status = "Failed" if failure else "InService"
        cluster.failure_message = failure or ""
        add_event(cluster, f"cluster is {cluster.status}" + (f": {failure}" if failure else ""),
                  level="Error" if failure else "Info")


def _arrive() -> None:
    """Nodes whose move is due join their target group, Running (AttachInProgress is not shown)."""
    now = time.monotonic()
    for move in [m for m in MOVES if m["at"] <= now]:
        MOVES.remove(move)
        node, source, target, group = move["node"], move["source"], move["target"], move["group"]
        from_group = node.instance_group_name
        source.nodes.pop(node.instance_id, None)
        node.cluster_name, node.instance_group_name, node.status = target.cluster_name, group["InstanceGroupName"], "Running"
        target.nodes[node.instance_id] = node
        for cluster in {id(source): source, id(target): target}.values():
            for each in cluster.instance_groups:
                each["CurrentCount"] = sum(n.instance_group_name == each["InstanceGroupName"] for n in cluster.nodes.values())
        add_event(source, f"node moved to {target.cluster_name}/{group['InstanceGroupName']}", from_group,
                  node.instance_id)
        if target is not source:
            add_event(target, f"node joined from {source.cluster_name}/{from_group}", group["InstanceGroupName"],
                      node.instance_id)


# ----- a request's cluster -----------------------------------------------------------------------

def backend_of(response):
    return response.sagemaker_backend


def cluster_named(response):
    """The cluster a request's ClusterName or ClusterArn names (a ValidationError otherwise), settled."""
    from moto.sagemaker.exceptions import ValidationError

    name = response._get_param("ClusterName") or response._get_param("ClusterArn") or ""
    name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    clusters = backend_of(response).clusters
    found = clusters.get(name) or next((c for c in clusters.values() if c.arn.rsplit("/", 1)[-1] == name), None)
    if found is None:
        raise ValidationError(message=f"Could not find cluster '{name}'.")
    settle(found)
    return found


def cluster_by_arn(response, member: str):
    """The cluster an ARN member names (ResourceNotFound otherwise), settled."""
    arn = response._get_param(member) or ""
    found = next((c for c in backend_of(response).clusters.values() if c.arn == arn), None)
    if found is None:
        raise sagemaker_errors().ResourceNotFound(message=f"Cluster {arn} not found.")
    settle(found)
    return found


def require_in_service(cluster) -> None:
    from moto.sagemaker.exceptions import ValidationError

    if cluster.status != "InService":
        raise ValidationError(message=f"Cluster {cluster.cluster_name} is {cluster.status}; "
                                      "it can be changed only when InService.")


def require_continuous(cluster, orchestrator: str, operation: str) -> None:
    """The orchestrator and NodeProvisioningMode an operation needs; a cluster created without an
    Orchestrator is Slurm-orchestrated."""
    mine = next(iter(getattr(cluster, "orchestrator", None) or {"Slurm": {}}))
    if mine != orchestrator or getattr(cluster, "node_provisioning_mode", None) != "Continuous":
        raise sagemaker_errors().ValidationError(
            message=f"{operation} needs a cluster orchestrated by {orchestrator} with NodeProvisioningMode "
                    f"Continuous; cluster {cluster.cluster_name} is orchestrated by {mine} with "
                    f"NodeProvisioningMode {getattr(cluster, 'node_provisioning_mode', None) or 'unset'}.")


# ----- records beside moto's clusters: scheduler configs and extensions --------------------------

def short_id(*parts: str) -> str:
    return hashlib.sha256("/".join((*parts, str(next(_COUNTER)))).encode()).hexdigest()[:12]


def records_of(response, kind: str) -> dict:
    """The local AWS's records of one kind, kept on moto's SageMaker backend of the account and region."""
    return backend_records(backend_of(response), kind)


def backend_records(backend, kind: str) -> dict:
    return backend.__dict__.setdefault(f"_preflight_{kind}", {})


def settle_record(record: dict, settled: dict, failed: dict, name: str) -> None:
    """A scheduler config or extension in a transitional status settles after ``settle_seconds``;
    one whose name is in ``failures`` fails with that reason instead."""
    if record["Status"] in settled and time.monotonic() >= record["_settles_at"]:
        reason = SETTINGS["failures"].get(name)
        record["Status"] = failed[record["Status"]] if reason else settled[record["Status"]]
        if reason:
            record["FailureReason"] = reason


# ----- errors and answers ------------------------------------------------------------------------

def sagemaker_errors():
    from moto.sagemaker import exceptions

    return exceptions


def result(body: dict):
    from moto.core.responses import ActionResult

    return ActionResult(body)
