"""The embedded local AWS's HyperPod: the cluster operations moto's SageMaker lacks, over moto's own
cluster state (``moto.sagemaker.models.Cluster`` and ``ClusterNode``), plus seeded Service Quotas.

moto's (5.2.x): CreateCluster, DescribeCluster, ListClusters, DeleteCluster, ListClusterNodes,
DescribeClusterNode, and the cluster and node records themselves.

Ours, because moto answers them with an HTML 500 or not at all: UpdateCluster,
UpdateClusterSoftware, BatchDeleteClusterNodes, BatchAddClusterNodes, BatchRebootClusterNodes,
BatchReplaceClusterNodes, MoveClusterNodes, AttachClusterNodeVolume, DetachClusterNodeVolume,
AttachClusterNodeNetworkInterface, StartClusterHealthCheck, ListClusterEvents; the scheduler
configs (Create/Update/Delete/DescribeClusterSchedulerConfig, ListClusterSchedulerConfigs) and
the cluster extensions (Create/Update/Delete/DescribeClusterExtension, ListClusterExtensions,
ListClusterExtensionVersions), kept beside moto's clusters on its SageMaker backend; and Service
Quotas' ListServiceQuotas. Fixed in moto's CreateCluster: a group without ``ThreadsPerCore``
(moto raises KeyError), the ``ImageId`` it drops (kept as the group's CurrentImageId), the
``Orchestrator`` and ``NodeProvisioningMode`` it drops (kept, and described), and node ids (moto
names nodes ``<group>-<n>``; the API's are EC2 instance ids, which requests name).

What is modelled: a change leaves the cluster Creating, Updating or SystemUpdating (its changed
groups likewise, new nodes Pending) for ``settle_seconds``, then InService with Running nodes; each
step is a ListClusterEvents event. UpdateCluster refuses what the service refuses (a create-only
member changed on an existing group, deleting every group, a cluster that is not InService). A
cluster named in ``failures`` ends Failed with the given message instead.
MoveClusterNodes, as its documentation says: both clusters InService, EKS-orchestrated and
Continuous; exactly one of NodeIds or InstanceCount; per node NodeIdNotFound, InvalidNodeStatus
(not Running), NodeIdInUse (already moving) or NodeInstanceTypeMismatch, the request refused when
no node can move, when fewer than InstanceCount can, or below the source group's minimum; a node
is DetachInProgress in the source group until the change settles, then Running in the target.
A scheduler config is Creating/Updating/Deleting until it settles, then Created/Updated/Deleted
(a deleted one is still described, as the status enum allows); names are unique per cluster
(ConflictException); each update makes a new version, and its TargetVersion must be the current
version (ConflictException otherwise: the model documents it only as "Target version.", so this
reading is ours), as must no change be in progress; DescribeClusterSchedulerConfig answers any
earlier version. An extension needs an InService Slurm cluster (one without Orchestrator) in
Continuous mode, one per name (ConflictException), a version of the local catalog
(EXTENSION_VERSIONS, the latest by default); an update merges ConfigurationValues (null resets a
setting) and never goes to an earlier version; Creating/Updating settle to Active, Deleting to
gone (ResourceNotFound). A scheduler config or extension named in ``failures`` ends
CreateFailed/UpdateFailed/DeleteFailed with the message (an extension's as a Health issue).
In these, an unknown cluster, config or extension is ResourceNotFound, an AWS JSON error.

Not modelled: capacity, lifecycle scripts actually running, rollbacks, deep health checks
(reported, not run), which nodes a scale-down removes (the newest), node logical ids
(MoveClusterNodes refuses NodeLogicalIds here), client tokens, ResourceLimitExceeded, the
scheduler config's effect on scheduling, an extension's settings checked against its definition,
and AttachInProgress (a moved node goes straight from DetachInProgress to Running).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from typing import Any

from preflight.iac import cloudformation

# Refused on an existing instance group: the members CloudFormation's schema lists as create-only
# (the generated data PF455 reads too).
CREATE_ONLY = cloudformation.create_only_members("AWS::SageMaker::Cluster", "/InstanceGroups/*")

SETTINGS: dict[str, Any] = {"settle_seconds": 0.0, "failures": {}}
QUOTAS: dict[tuple[str, str], dict[str, float]] = {}  # (account, region) -> instance type -> quota
_EVENTS: dict[str, list[dict]] = {}  # cluster ARN -> events, oldest first
_MOVES: list[dict] = []  # nodes detaching for MoveClusterNodes: node, source, target, group, at
_LOCK = threading.RLock()
_COUNTER = itertools.count(1)
_INSTALLED = False


def node_id(cluster: str, group: str, index: int) -> str:
    """A stable EC2-style id for the index-th node made in a group (i- and 17 hex digits)."""
    return "i-" + hashlib.sha256(f"{cluster}/{group}/{index}".encode()).hexdigest()[:17]


def install(settle_seconds: float = 0.0, failures: dict | None = None) -> None:
    """Add the operations to moto's response classes (once per process) and set the behaviour."""
    global _INSTALLED
    SETTINGS["settle_seconds"] = float(settle_seconds)
    SETTINGS["failures"] = dict(failures or {})
    if _INSTALLED:
        return
    from moto.sagemaker import models
    from moto.sagemaker.responses import SageMakerResponse
    from moto.servicequotas.responses import ServiceQuotasResponse

    original_create = models.SageMakerModelBackend.create_cluster

    def create_cluster(self, cluster_name, instance_groups, vpc_config, tags):
        for group in instance_groups:
            group.setdefault("ThreadsPerCore", None)  # optional in the API; moto indexes it
        images = {g["InstanceGroupName"]: g.get("ImageId") for g in instance_groups}
        original_create(self, cluster_name, instance_groups, vpc_config, tags)
        cluster = self.clusters[cluster_name]
        # moto's ARN ends in the name; the service's in a 12-character id, which requests' ClusterArn must match
        cluster.arn = cluster.arn.rsplit("/", 1)[0] + "/" + hashlib.sha256(cluster_name.encode()).hexdigest()[:12]
        cluster.nodes = {}
        for group in cluster.instance_groups:
            group["CurrentImageId"] = images.get(group["InstanceGroupName"]) or "default"
            if "MinInstanceCount" in group:
                group["MinCount"] = group["MinInstanceCount"]
            group["_made"] = 0
            _add_nodes(cluster, group, group["TargetCount"])
        _begin(cluster, "Creating", cluster.instance_groups, "cluster creation started")
        return cluster.arn

    def by_arn(method):
        def resolved(self, cluster_name, *args, **kwargs):
            if cluster_name.startswith("arn:"):
                cluster_name = next((c.cluster_name for c in self.clusters.values() if c.arn == cluster_name),
                                    cluster_name)
            return method(self, cluster_name, *args, **kwargs)
        return resolved

    models.SageMakerModelBackend.create_cluster = create_cluster
    for method in ("describe_cluster", "delete_cluster", "describe_cluster_node", "list_cluster_nodes"):
        setattr(models.SageMakerModelBackend, method, by_arn(getattr(models.SageMakerModelBackend, method)))
    models.Cluster.describe = _with_orchestration(models.Cluster.describe)
    for cls, method in ((models.Cluster, "describe"), (models.Cluster, "summary"),
                        (models.ClusterNode, "describe"), (models.ClusterNode, "summary")):
        setattr(cls, method, _settling(getattr(cls, method)))
    SageMakerResponse.create_cluster = _recording_orchestration(SageMakerResponse.create_cluster)
    for name, handler in HANDLERS.items():
        setattr(SageMakerResponse, name, handler)
    ServiceQuotasResponse.list_service_quotas = _list_service_quotas
    _INSTALLED = True


def _recording_orchestration(create):
    """moto's CreateCluster drops Orchestrator and NodeProvisioningMode; MoveClusterNodes and the
    extensions depend on them, so they are kept on the cluster."""
    def handler(self):
        answer = create(self)
        cluster = _backend(self).clusters[self._get_param("ClusterName")]
        cluster.orchestrator = self._get_param("Orchestrator")
        cluster.node_provisioning_mode = self._get_param("NodeProvisioningMode")
        return answer
    return handler


def _with_orchestration(describe):
    def described(self):
        found = describe(self)
        for member, value in (("Orchestrator", getattr(self, "orchestrator", None)),
                              ("NodeProvisioningMode", getattr(self, "node_provisioning_mode", None))):
            if value:
                found[member] = value
        return found
    return described


def _settling(method):
    def wrapped(self):
        cluster = self if hasattr(self, "nodes") else _cluster_of(self)
        if cluster is not None:
            _settle(cluster)
        return method(self)
    return wrapped


def _cluster_of(node):
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[node.account_id][node.region_name].clusters.get(node.cluster_name)


def _event(cluster, description: str, group: str | None = None, node: str | None = None, level: str = "Info"):
    event = {"EventId": f"event-{next(_COUNTER):08d}", "ClusterArn": cluster.arn, "ClusterName": cluster.cluster_name,
             "ResourceType": "Node" if node else "InstanceGroup" if group else "Cluster",
             "EventTime": time.time(), "Description": description, "EventLevel": level}
    event.update({k: v for k, v in (("InstanceGroupName", group), ("InstanceId", node)) if v})
    _EVENTS.setdefault(cluster.arn, []).append(event)


def _begin(cluster, status: str, groups: list[dict], description: str) -> None:
    """Start a change: the cluster and the changed groups show ``status`` until it settles."""
    with _LOCK:
        cluster.status = status
        for group in groups:
            group["Status"] = status
        cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
        _event(cluster, f"{description}: {status}")
    _settle(cluster)


def _settle(cluster) -> None:
    with _LOCK:
        _arrive()
        if getattr(cluster, "_settles_at", None) is None or time.monotonic() < cluster._settles_at:
            return
        cluster._settles_at = None
        failure = SETTINGS["failures"].get(cluster.cluster_name)
        for node in cluster.nodes.values():
            if node.status != "Running" and not failure:
                node.status = "Running"
                _event(cluster, "node is Running", node.instance_group_name, node.instance_id)
        for group in cluster.instance_groups:
            group["Status"] = "Failed" if failure else "InService"
            group["CurrentCount"] = sum(n.instance_group_name == group["InstanceGroupName"]
                                        for n in cluster.nodes.values())
            if group.get("DesiredImageId"):
                group["CurrentImageId"] = group.pop("DesiredImageId")
        cluster.status = "Failed" if failure else "InService"
        cluster.failure_message = failure or ""
        _event(cluster, f"cluster is {cluster.status}" + (f": {failure}" if failure else ""),
               level="Error" if failure else "Info")


def _add_nodes(cluster, group: dict, count: int, status: str = "Pending") -> list[str]:
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


# ----- the operations ----------------------------------------------------------------------------

def _backend(response):
    return response.sagemaker_backend


def _cluster(response):
    from moto.sagemaker.exceptions import ValidationError

    name = response._get_param("ClusterName") or response._get_param("ClusterArn") or ""
    name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    clusters = _backend(response).clusters
    found = clusters.get(name) or next((c for c in clusters.values() if c.arn.rsplit("/", 1)[-1] == name), None)
    if found is None:
        raise ValidationError(message=f"Could not find cluster '{name}'.")
    _settle(found)
    return found


def _require_in_service(cluster) -> None:
    from moto.sagemaker.exceptions import ValidationError

    if cluster.status != "InService":
        raise ValidationError(message=f"Cluster {cluster.cluster_name} is {cluster.status}; "
                                      "it can be changed only when InService.")


def _result(body: dict):
    from moto.core.responses import ActionResult

    return ActionResult(body)


def update_cluster(self):
    from moto.sagemaker.exceptions import ValidationError

    cluster = _cluster(self)
    with _LOCK:
        _require_in_service(cluster)
        existing = {g["InstanceGroupName"]: g for g in cluster.instance_groups}
        deleting = set(self._get_param("InstanceGroupsToDelete") or [])
        specs = self._get_param("InstanceGroups") or []
        for spec in specs:
            group = existing.get(spec["InstanceGroupName"])
            for member in CREATE_ONLY if group else ():
                if member in spec and spec[member] != group.get(member):
                    raise ValidationError(message=f"{member} of instance group {spec['InstanceGroupName']} "
                                                  f"cannot be changed ({group.get(member)} -> {spec[member]}).")
        remaining = (set(existing) - deleting) | {s["InstanceGroupName"] for s in specs}
        if not remaining:
            raise ValidationError(message="A cluster must keep at least one instance group.")
        changed = []
        for spec in specs:
            group = existing.get(spec["InstanceGroupName"])
            count = spec.get("InstanceCount", 0)
            if group is None:
                group = {**spec, "CurrentCount": 0, "TargetCount": count, "_made": 0,
                         "CurrentImageId": spec.get("ImageId") or "default"}
                group.pop("InstanceCount", None)
                if "MinInstanceCount" in spec:
                    group["MinCount"] = spec["MinInstanceCount"]
                group.setdefault("ThreadsPerCore", None)
                cluster.instance_groups.append(group)
                _add_nodes(cluster, group, count)
            else:
                current = [n for n in cluster.nodes.values() if n.instance_group_name == group["InstanceGroupName"]]
                if count > len(current):
                    _add_nodes(cluster, group, count - len(current))
                for node in sorted(current, key=lambda n: n.launch_time)[count:][::-1] if count < len(current) else ():
                    del cluster.nodes[node.instance_id]
                group.update({k: v for k, v in spec.items() if k not in ("InstanceCount", "ImageId")})
                if "MinInstanceCount" in spec:
                    group["MinCount"] = spec["MinInstanceCount"]
                group["TargetCount"] = count
                if spec.get("ImageId") and spec["ImageId"] != group.get("CurrentImageId"):
                    group["DesiredImageId"] = spec["ImageId"]
            changed.append(group)
        for name in deleting & set(existing):
            cluster.instance_groups.remove(existing[name])
            for node in [n for n in cluster.nodes.values() if n.instance_group_name == name]:
                del cluster.nodes[node.instance_id]
        _begin(cluster, "Updating", changed, "UpdateCluster")
    return _result({"ClusterArn": cluster.arn})


def update_cluster_software(self):
    cluster = _cluster(self)
    with _LOCK:
        _require_in_service(cluster)
        named = {g.get("InstanceGroupName") for g in self._get_param("InstanceGroups") or []}
        groups = [g for g in cluster.instance_groups if not named or g["InstanceGroupName"] in named]
        image = self._get_param("ImageId")
        for group in groups:
            group["DesiredImageId"] = image or group.get("CurrentImageId") or "default"
        for node in cluster.nodes.values():
            if node.instance_group_name in {g["InstanceGroupName"] for g in groups}:
                node.status = "SystemUpdating"
        _begin(cluster, "SystemUpdating", groups, "UpdateClusterSoftware")
    return _result({"ClusterArn": cluster.arn})


def _node_batch(self, change) -> dict:
    """Apply ``change(cluster, node)`` to each named node; the BatchXClusterNodes answer shape."""
    cluster = _cluster(self)
    successful, failed = [], []
    with _LOCK:
        for identifier in self._get_param("NodeIds") or []:
            node = cluster.nodes.get(identifier)
            if node is None:
                failed.append({"NodeId": identifier, "Code": "NodeIdNotFound",
                               "Message": f"Node {identifier} is not in cluster {cluster.cluster_name}."})
                continue
            change(cluster, node)
            successful.append(identifier)
        failed_logical = [{"NodeLogicalId": i, "ErrorCode": "NodeLogicalIdNotFound",
                           "Message": "node logical ids are not modelled by the local AWS"}
                          for i in self._get_param("NodeLogicalIds") or []]
    return cluster, successful, failed, failed_logical


def batch_delete_cluster_nodes(self):
    def delete(cluster, node):
        del cluster.nodes[node.instance_id]
        group = next(g for g in cluster.instance_groups if g["InstanceGroupName"] == node.instance_group_name)
        group["TargetCount"] = max(0, group["TargetCount"] - 1)
        group["CurrentCount"] = max(0, group["CurrentCount"] - 1)
        _event(cluster, "node deleted", node.instance_group_name, node.instance_id)

    cluster, successful, failed, failed_logical = _node_batch(self, delete)
    return _result({"Successful": successful, "Failed": failed,
                    **({"FailedNodeLogicalIds": failed_logical} if failed_logical else {})})


def _restart(description: str, status: str):
    def handler(self):
        def restart(cluster, node):
            node.status = status
            _event(cluster, description, node.instance_group_name, node.instance_id)

        cluster, successful, failed, failed_logical = _node_batch(self, restart)
        if successful:
            with _LOCK:
                cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
        errors = [{"NodeId": f["NodeId"], "ErrorCode": f["Code"], "Message": f["Message"]} for f in failed]
        return _result({"Successful": successful, "Failed": errors,
                        **({"FailedNodeLogicalIds": failed_logical} if failed_logical else {})})
    return handler


def batch_add_cluster_nodes(self):
    cluster = _cluster(self)
    successful, failed = [], []
    with _LOCK:
        groups = {g["InstanceGroupName"]: g for g in cluster.instance_groups}
        for spec in self._get_param("NodesToAdd") or []:
            group = groups.get(spec.get("InstanceGroupName"))
            count = spec.get("IncrementTargetCountBy", 0)
            if group is None:
                failed.append({"InstanceGroupName": spec.get("InstanceGroupName"), "ErrorCode": "InstanceGroupNotFound",
                               "FailedCount": count, "Message": "no such instance group"})
                continue
            group["TargetCount"] += count
            for identifier in _add_nodes(cluster, group, count):
                successful.append({"NodeLogicalId": identifier, "InstanceGroupName": group["InstanceGroupName"],
                                   "Status": "Pending"})
        if successful:
            _begin(cluster, "Updating", [groups[s["InstanceGroupName"]] for s in successful], "BatchAddClusterNodes")
    return _result({"Successful": successful, "Failed": failed})


def _node(self, cluster):
    from moto.sagemaker.exceptions import ValidationError

    node = cluster.nodes.get(self._get_param("NodeId"))
    if node is None:
        raise ValidationError(message=f"Node {self._get_param('NodeId')} is not in cluster {cluster.cluster_name}.")
    return node


def _volume(attaching: bool):
    """Attach or detach an EBS volume: recorded on the node (the volume itself is not looked up)."""
    def handler(self):
        cluster = _cluster(self)
        with _LOCK:
            node = _node(self, cluster)
            volumes = node.__dict__.setdefault("volumes", {})
            volume = self._get_param("VolumeId")
            device = volumes.get(volume) or f"/dev/sd{chr(ord('f') + len(volumes))}"
            if attaching:
                volumes[volume] = device
            else:
                volumes.pop(volume, None)
            _event(cluster, f"volume {volume} {'attached to' if attaching else 'detached from'} the node",
                   node.instance_group_name, node.instance_id)
        return _result({"ClusterArn": cluster.arn, "NodeId": node.instance_id, "VolumeId": volume,
                        "AttachTime": time.time(), "Status": "attaching" if attaching else "detaching",
                        "DeviceName": device})
    return handler


def attach_cluster_node_network_interface(self):
    cluster = _cluster(self)
    node = _node(self, cluster)
    interface = self._get_param("NetworkInterfaceId")
    _event(cluster, f"network interface {interface} attached to the node", node.instance_group_name, node.instance_id)
    return _result({"ClusterArn": cluster.arn, "NodeId": node.instance_id, "NetworkInterfaceId": interface,
                    "AttachmentId": "eni-attach-" + hashlib.sha256(interface.encode()).hexdigest()[:17]})


def start_cluster_health_check(self):
    """Nodes under deep health checks show DeepHealthCheckInProgress until the cluster settles."""
    cluster = _cluster(self)
    with _LOCK:
        _require_in_service(cluster)
        for config in self._get_param("DeepHealthCheckConfigurations") or []:
            ids = config.get("InstanceIds") or [n.instance_id for n in cluster.nodes.values()
                                                 if n.instance_group_name == config.get("InstanceGroupName")]
            for identifier in ids:
                if identifier in cluster.nodes:
                    cluster.nodes[identifier].status = "DeepHealthCheckInProgress"
                    _event(cluster, f"deep health checks {', '.join(config.get('DeepHealthChecks') or [])} started",
                           config.get("InstanceGroupName"), identifier)
        cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
    return _result({"ClusterArn": cluster.arn})


def list_cluster_events(self):
    cluster = _cluster(self)
    events = list(_EVENTS.get(cluster.arn, []))
    for key, field in (("InstanceGroupName", "InstanceGroupName"), ("NodeId", "InstanceId")):
        wanted = self._get_param(key)
        if wanted:
            events = [e for e in events if e.get(field) == wanted]
    if self._get_param("SortOrder") == "Descending":
        events.reverse()
    limit = self._get_param("MaxResults") or 100
    return _result({"Events": events[:limit]})


def _list_service_quotas(self) -> str:
    params = json.loads(self.body)
    quotas = [] if params.get("ServiceCode") != "sagemaker" else [
        {"ServiceCode": "sagemaker", "ServiceName": "Amazon SageMaker", "QuotaCode": f"L-LOCAL{i:04d}",
         "QuotaName": f"{instance_type} for cluster usage", "Value": value, "Unit": "None", "Adjustable": True}
        for i, (instance_type, value) in enumerate(sorted(QUOTAS.get((self.current_account, self.region), {}).items()))]
    return json.dumps({"Quotas": quotas})


# ----- MoveClusterNodes --------------------------------------------------------------------------

def _errors():
    from moto.sagemaker import exceptions

    return exceptions


def _cluster_by_arn(response, member: str):
    """The cluster an ARN member names (ResourceNotFound otherwise), settled."""
    arn = response._get_param(member) or ""
    found = next((c for c in _backend(response).clusters.values() if c.arn == arn), None)
    if found is None:
        raise _errors().ResourceNotFound(message=f"Cluster {arn} not found.")
    _settle(found)
    return found


def _group_of(cluster, name: str) -> dict:
    group = next((g for g in cluster.instance_groups if g["InstanceGroupName"] == name), None)
    if group is None:
        raise _errors().ResourceNotFound(message=f"Instance group {name} not found in cluster {cluster.cluster_name}.")
    return group


def _require_continuous(cluster, orchestrator: str, operation: str) -> None:
    """The orchestrator and NodeProvisioningMode an operation needs; a cluster created without an
    Orchestrator is Slurm-orchestrated."""
    mine = next(iter(getattr(cluster, "orchestrator", None) or {"Slurm": {}}))
    if mine != orchestrator or getattr(cluster, "node_provisioning_mode", None) != "Continuous":
        raise _errors().ValidationError(
            message=f"{operation} needs a cluster orchestrated by {orchestrator} with NodeProvisioningMode "
                    f"Continuous; cluster {cluster.cluster_name} is orchestrated by {mine} with "
                    f"NodeProvisioningMode {getattr(cluster, 'node_provisioning_mode', None) or 'unset'}.")


def _moving(node) -> bool:
    return any(move["node"] is node for move in _MOVES)


def _refusal(node, target_group: dict) -> tuple[str, str] | None:
    """Why a node of the source group cannot move (MoveClusterNodesErrorCode, message), or None."""
    if _moving(node):
        return "NodeIdInUse", f"Node {node.instance_id} is already being moved."
    if node.status != "Running":
        return "InvalidNodeStatus", f"Node {node.instance_id} is {node.status}, not Running."
    if node.instance_type != target_group["InstanceType"]:
        return "NodeInstanceTypeMismatch", (f"Node {node.instance_id} is a {node.instance_type}; instance group "
                                            f"{target_group['InstanceGroupName']} runs {target_group['InstanceType']}.")
    return None


def move_cluster_nodes(self):
    """Nodes detach (DetachInProgress, still in the source group) until the source cluster's change
    settles, then join the target group Running; the target group's target count rises at once."""
    errors = _errors()
    chosen = [k for k in ("NodeIds", "NodeLogicalIds", "InstanceCount") if self._get_param(k) is not None]
    if len(chosen) != 1:
        raise errors.ValidationError(message="Specify exactly one of NodeIds, NodeLogicalIds or InstanceCount.")
    if chosen == ["NodeLogicalIds"]:
        raise errors.ValidationError(message="NodeLogicalIds are not modelled by the local AWS; name NodeIds.")
    with _LOCK:
        source, target = _cluster_by_arn(self, "SourceClusterArn"), _cluster_by_arn(self, "TargetClusterArn")
        for cluster in (source, target):
            _require_in_service(cluster)
            _require_continuous(cluster, "Eks", "MoveClusterNodes")
        source_group = _group_of(source, self._get_param("SourceInstanceGroupName"))
        target_group = _group_of(target, self._get_param("TargetInstanceGroupName"))
        if source_group is target_group:
            raise errors.ValidationError(message="The target instance group must differ from the source group.")
        members = {i: n for i, n in source.nodes.items() if n.instance_group_name == source_group["InstanceGroupName"]}
        failed, movable = [], []
        if chosen == ["NodeIds"]:
            for identifier in self._get_param("NodeIds"):
                node = members.get(identifier)
                why = ("NodeIdNotFound", f"Node {identifier} is not in instance group "
                                         f"{source_group['InstanceGroupName']}.") if node is None else _refusal(node, target_group)
                if why:
                    failed.append({"NodeId": identifier, "Code": why[0], "Message": why[1]})
                else:
                    movable.append(node)
            if not movable:
                raise errors.ValidationError(message="None of the nodes can be moved: " +
                                             "; ".join(f"{f['Code']}: {f['Message']}" for f in failed))
        else:
            count = self._get_param("InstanceCount")
            movable = [n for n in sorted(members.values(), key=lambda n: n.instance_id)
                       if _refusal(n, target_group) is None][:count]
            if len(movable) < count:
                raise errors.ValidationError(message=f"Only {len(movable)} of the {count} nodes asked for in instance group "
                                                     f"{source_group['InstanceGroupName']} can be moved.")
        left = len(members) - len(movable)
        if left < source_group.get("MinCount", 0):
            raise errors.ValidationError(message=f"Moving {len(movable)} nodes would leave instance group "
                                                 f"{source_group['InstanceGroupName']} with {left}, below its "
                                                 f"minimum of {source_group['MinCount']}.")
        settles_at = time.monotonic() + SETTINGS["settle_seconds"]
        for node in movable:
            node.status = "DetachInProgress"
            _MOVES.append({"node": node, "source": source, "target": target, "group": target_group, "at": settles_at})
            _event(source, f"node detaching, moving to {target.cluster_name}/{target_group['InstanceGroupName']}",
                   node.instance_group_name, node.instance_id)
        source_group["TargetCount"] -= len(movable)
        target_group["TargetCount"] += len(movable)
    return _result({"Successful": [n.instance_id for n in movable], **({"Failed": failed} if failed else {})})


def _arrive() -> None:
    """Nodes whose move is due join their target group, Running (AttachInProgress is not shown)."""
    now = time.monotonic()
    for move in [m for m in _MOVES if m["at"] <= now]:
        _MOVES.remove(move)
        node, source, target, group = move["node"], move["source"], move["target"], move["group"]
        from_group = node.instance_group_name
        source.nodes.pop(node.instance_id, None)
        node.cluster_name, node.instance_group_name, node.status = target.cluster_name, group["InstanceGroupName"], "Running"
        target.nodes[node.instance_id] = node
        for cluster in {id(source): source, id(target): target}.values():
            for each in cluster.instance_groups:
                each["CurrentCount"] = sum(n.instance_group_name == each["InstanceGroupName"] for n in cluster.nodes.values())
        _event(source, f"node moved to {target.cluster_name}/{group['InstanceGroupName']}", from_group, node.instance_id)
        if target is not source:
            _event(target, f"node joined from {source.cluster_name}/{from_group}", group["InstanceGroupName"],
                   node.instance_id)


# ----- scheduler configs (HyperPod task governance's cluster policies) ---------------------------

SCHEDULER_SETTLED = {"Creating": "Created", "Updating": "Updated", "Deleting": "Deleted"}
SCHEDULER_FAILED = {"Creating": "CreateFailed", "Updating": "UpdateFailed", "Deleting": "DeleteFailed"}
SCHEDULER_BUSY = ("Creating", "Updating", "Deleting")


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join((*parts, str(next(_COUNTER)))).encode()).hexdigest()[:12]


def _store(response, kind: str) -> dict:
    """The local AWS's records of one kind, kept on moto's SageMaker backend of the account and region."""
    return _records(_backend(response), kind)


def _records(backend, kind: str) -> dict:
    return backend.__dict__.setdefault(f"_preflight_{kind}", {})


def rekey(account: str, region: str, kind: str, old: str, new: str) -> None:
    """Give a scheduler config (``kind`` scheduler_configs, by id) or an extension (extensions, by
    ARN) made through the API the id a state file names, so that requests can name it."""
    from moto.sagemaker.models import sagemaker_backends

    records = _records(sagemaker_backends[account][region], kind)
    record = records.pop(old)
    old_id, new_id = old.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]
    for key, value in record.items():
        if isinstance(value, str) and value.endswith(old_id):
            record[key] = value[:-len(old_id)] + new_id
    records[new] = record


def _settle_record(record: dict, settled: dict, failed: dict, name: str) -> None:
    """A scheduler config or extension in a transitional status settles after ``settle_seconds``;
    one whose name is in ``failures`` fails with that reason instead."""
    if record["Status"] in settled and time.monotonic() >= record["_settles_at"]:
        reason = SETTINGS["failures"].get(name)
        record["Status"] = failed[record["Status"]] if reason else settled[record["Status"]]
        if reason:
            record["FailureReason"] = reason


def _scheduler_config(response) -> dict:
    record = _store(response, "scheduler_configs").get(response._get_param("ClusterSchedulerConfigId"))
    if record is None:
        raise _errors().ResourceNotFound(message=f"Cluster scheduler config "
                                                 f"{response._get_param('ClusterSchedulerConfigId')} not found.")
    _settle_record(record, SCHEDULER_SETTLED, SCHEDULER_FAILED, record["Name"])
    return record


def _scheduler_view(record: dict, version: int | None = None) -> dict:
    if version is None:
        version = record["ClusterSchedulerConfigVersion"]
    snapshot = record["_versions"].get(version)
    if snapshot is None:
        raise _errors().ResourceNotFound(message=f"Cluster scheduler config {record['ClusterSchedulerConfigId']} "
                                                 f"has no version {version}.")
    return {**{k: v for k, v in record.items() if not k.startswith("_")}, **snapshot,
            "ClusterSchedulerConfigVersion": version}


def create_cluster_scheduler_config(self):
    cluster = _cluster_by_arn(self, "ClusterArn")
    configs = _store(self, "scheduler_configs")
    name = self._get_param("Name")
    with _LOCK:
        if any(c["Name"] == name and c["ClusterArn"] == cluster.arn and c["Status"] != "Deleted"
               for c in configs.values()):
            raise _errors().ConflictException(f"Cluster scheduler config {name} already exists in cluster "
                                              f"{cluster.cluster_name}.")
        identifier = _short_id(cluster.arn, name)
        now = time.time()
        configs[identifier] = {
            "ClusterSchedulerConfigArn": f"arn:aws:sagemaker:{cluster.region_name}:{cluster.account_id}:"
                                         f"cluster-scheduler-config/{identifier}",
            "ClusterSchedulerConfigId": identifier, "Name": name, "ClusterArn": cluster.arn,
            "ClusterSchedulerConfigVersion": 1, "Status": "Creating", "CreationTime": now, "LastModifiedTime": now,
            "_settles_at": time.monotonic() + SETTINGS["settle_seconds"],
            "_versions": {1: {"SchedulerConfig": self._get_param("SchedulerConfig"),
                              "Description": self._get_param("Description") or ""}}}
    return _result({k: configs[identifier][k] for k in ("ClusterSchedulerConfigArn", "ClusterSchedulerConfigId")})


def update_cluster_scheduler_config(self):
    """TargetVersion is the version the update applies to (the model says only "Target version."):
    another is a ConflictException, as is a config still changing; the update makes version + 1."""
    errors = _errors()
    with _LOCK:
        record = _scheduler_config(self)
        if record["Status"] in ("Deleting", "Deleted"):
            raise errors.ResourceNotFound(message=f"Cluster scheduler config {record['Name']} is {record['Status']}.")
        if record["Status"] in SCHEDULER_BUSY:
            raise errors.ConflictException(f"Cluster scheduler config {record['Name']} is {record['Status']}.")
        current = record["ClusterSchedulerConfigVersion"]
        if self._get_param("TargetVersion") != current:
            raise errors.ConflictException(f"TargetVersion {self._get_param('TargetVersion')} is not the current "
                                           f"version {current} of cluster scheduler config {record['Name']}.")
        before = record["_versions"][current]
        record["_versions"][current + 1] = {
            "SchedulerConfig": self._get_param("SchedulerConfig") or before["SchedulerConfig"],
            "Description": self._get_param("Description") if self._get_param("Description") is not None
            else before["Description"]}
        record.update(ClusterSchedulerConfigVersion=current + 1, Status="Updating", LastModifiedTime=time.time(),
                      _settles_at=time.monotonic() + SETTINGS["settle_seconds"])
        record.pop("FailureReason", None)
    return _result({"ClusterSchedulerConfigArn": record["ClusterSchedulerConfigArn"],
                    "ClusterSchedulerConfigVersion": current + 1})


def delete_cluster_scheduler_config(self):
    """Deleting, then Deleted (still described, with the enum's status; updates are refused)."""
    with _LOCK:
        record = _scheduler_config(self)
        if record["Status"] in ("Deleting", "Deleted"):
            raise _errors().ResourceNotFound(message=f"Cluster scheduler config {record['Name']} is {record['Status']}.")
        record.update(Status="Deleting", LastModifiedTime=time.time(),
                      _settles_at=time.monotonic() + SETTINGS["settle_seconds"])
    return _result({})


def describe_cluster_scheduler_config(self):
    with _LOCK:
        return _result(_scheduler_view(_scheduler_config(self), self._get_param("ClusterSchedulerConfigVersion")))


def list_cluster_scheduler_configs(self):
    with _LOCK:
        found = []
        for record in _store(self, "scheduler_configs").values():
            _settle_record(record, SCHEDULER_SETTLED, SCHEDULER_FAILED, record["Name"])
            if all(not self._get_param(k) or self._get_param(k) == record[k] for k in ("ClusterArn", "Status")) and (
                    self._get_param("NameContains") or "") in record["Name"]:
                found.append({k: record[k] for k in ("ClusterSchedulerConfigArn", "ClusterSchedulerConfigId",
                                                     "ClusterSchedulerConfigVersion", "Name", "CreationTime",
                                                     "LastModifiedTime", "Status", "ClusterArn")})
    key = {"Name": "Name", "Status": "Status"}.get(self._get_param("SortBy"), "CreationTime")
    found.sort(key=lambda r: r[key], reverse=self._get_param("SortOrder") != "Ascending")
    return _result({"ClusterSchedulerConfigSummaries": found[:self._get_param("MaxResults") or 100]})


# ----- cluster extensions ------------------------------------------------------------------------

# The extensions and versions the local AWS offers (its own small catalog, highest version last).
EXTENSION_VERSIONS = {"sagemaker-observability": ("1.0.0", "1.1.0")}
EXTENSION_SETTLED = {"Creating": "Active", "Updating": "Active", "Deleting": "Deleted"}
EXTENSION_FAILED = {"Creating": "CreateFailed", "Updating": "UpdateFailed", "Deleting": "DeleteFailed"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _configuration(response, base: dict) -> dict:
    """``base`` changed by the request's ConfigurationValues (a JSON object as a string): settings
    given are set, a null one returns to its default (removed here)."""
    given = response._get_param("ConfigurationValues")
    if given is None:
        return dict(base)
    try:
        changes = json.loads(given)
    except ValueError:
        changes = None
    if not isinstance(changes, dict):
        raise _errors().ValidationError(message="ConfigurationValues must be a JSON object serialized as a string.")
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def _offered(name: str, version: str | None) -> str:
    offered = EXTENSION_VERSIONS.get(name)
    if not offered or (version and version not in offered):
        raise _errors().ValidationError(message=f"Extension {name} {version or ''} is not offered; "
                                                "ListClusterExtensionVersions lists what can be installed.")
    return version or offered[-1]


def _extensions_of(response, cluster) -> dict:
    """The cluster's extensions (ARN -> record), settled; an extension done deleting is gone."""
    store = _store(response, "extensions")
    for arn, record in list(store.items()):
        if record["ClusterArn"] == cluster.arn:
            _settle_record(record, EXTENSION_SETTLED, EXTENSION_FAILED, record["ExtensionName"])
            if record["Status"] == "Deleted":
                del store[arn]
    return {arn: r for arn, r in store.items() if r["ClusterArn"] == cluster.arn}


def _extension(response) -> tuple[Any, dict]:
    cluster = _cluster_by_arn(response, "ClusterArn")
    record = _extensions_of(response, cluster).get(response._get_param("ExtensionArn"))
    if record is None:
        raise _errors().ResourceNotFound(message=f"Extension {response._get_param('ExtensionArn')} not found "
                                                 f"on cluster {cluster.cluster_name}.")
    return cluster, record


def _changing(record: dict, status: str) -> None:
    record.update(Status=status, LastModifiedTime=time.time(), _settles_at=time.monotonic() + SETTINGS["settle_seconds"])
    record.pop("FailureReason", None)


def create_cluster_extension(self):
    """On a Slurm cluster in Continuous mode that is InService (ResourceInUse otherwise), one
    extension of a name (ConflictException), a version the catalog offers (the latest by default)."""
    errors = _errors()
    with _LOCK:
        cluster = _cluster_by_arn(self, "ClusterArn")
        _require_continuous(cluster, "Slurm", "CreateClusterExtension")
        if cluster.status != "InService":
            raise errors.ResourceInUseException(message=f"Cluster {cluster.cluster_name} is {cluster.status}.")
        name = self._get_param("ExtensionName")
        if any(r["ExtensionName"] == name for r in _extensions_of(self, cluster).values()):
            raise errors.ConflictException(f"Extension {name} is already installed on cluster {cluster.cluster_name}.")
        version = _offered(name, self._get_param("ExtensionVersion"))
        arn = (f"arn:aws:sagemaker:{cluster.region_name}:{cluster.account_id}:extension/{name}/"
               f"{cluster.arn.rsplit('/', 1)[-1]}/{_short_id(cluster.arn, name)}")
        record = {"ClusterArn": cluster.arn, "ExtensionArn": arn, "ExtensionName": name, "ExtensionVersion": version,
                  "_configuration": _configuration(self, {}), "CreationTime": time.time()}
        _changing(record, "Creating")
        _store(self, "extensions")[arn] = record
        _event(cluster, f"extension {name} {version} installing")
    return _result({"ExtensionArn": arn})


def update_cluster_extension(self):
    """A later version (never an earlier one), the configuration merged; not while Deleting."""
    errors = _errors()
    with _LOCK:
        cluster, record = _extension(self)
        if record["Status"] == "Deleting":
            raise errors.ConflictException(f"Extension {record['ExtensionName']} is being deleted.")
        version = self._get_param("ExtensionVersion") or record["ExtensionVersion"]
        if _version(version) < _version(record["ExtensionVersion"]):
            raise errors.ValidationError(message=f"Extension {record['ExtensionName']} is at version "
                                                 f"{record['ExtensionVersion']}; it cannot go back to {version}.")
        record["ExtensionVersion"] = _offered(record["ExtensionName"], version)
        record["_configuration"] = _configuration(self, record["_configuration"])
        _changing(record, "Updating")
        _event(cluster, f"extension {record['ExtensionName']} {version} updating")
    return _result({"ExtensionArn": record["ExtensionArn"]})


def delete_cluster_extension(self):
    with _LOCK:
        cluster, record = _extension(self)
        if record["Status"] != "Deleting":
            _changing(record, "Deleting")
            _event(cluster, f"extension {record['ExtensionName']} deleting")
    return _result({"ExtensionArn": record["ExtensionArn"]})


def describe_cluster_extension(self):
    """The extension's details; every node of the cluster is targeted, all run it once it is Active."""
    with _LOCK:
        cluster, record = _extension(self)
        total = sum(n.status == "Running" for n in cluster.nodes.values())
        details = {k: v for k, v in record.items() if not k.startswith("_") and k != "FailureReason"}
        if record["_configuration"]:
            details["ConfigurationValues"] = json.dumps(record["_configuration"], sort_keys=True)
        answer = {"ExtensionDetails": details,
                  "NodeSummary": {"TotalCount": total, "ActiveCount": total if record["Status"] == "Active" else 0}}
        if record.get("FailureReason"):
            answer["Health"] = {"Issues": [{"Code": "ExtensionUnhealthy", "Message": record["FailureReason"],
                                            "NodeCount": total}]}
    return _result(answer)


def list_cluster_extensions(self):
    with _LOCK:
        found = [{k: r[k] for k in ("ExtensionArn", "ExtensionName", "ExtensionVersion", "Status", "CreationTime")}
                 for r in _extensions_of(self, _cluster_by_arn(self, "ClusterArn")).values()]
    return _result({"Extensions": found[:self._get_param("MaxResults") or 100]})


def list_cluster_extension_versions(self):
    offered = EXTENSION_VERSIONS.get(self._get_param("ExtensionName"), ())
    return _result({"ExtensionVersions": [{"ExtensionVersion": v} for v in reversed(offered)]})


HANDLERS = {
    "update_cluster": update_cluster,
    "update_cluster_software": update_cluster_software,
    "batch_delete_cluster_nodes": batch_delete_cluster_nodes,
    "batch_add_cluster_nodes": batch_add_cluster_nodes,
    "batch_reboot_cluster_nodes": _restart("node rebooting", "Pending"),
    "batch_replace_cluster_nodes": _restart("node being replaced", "Pending"),
    "list_cluster_events": list_cluster_events,
    "attach_cluster_node_volume": _volume(True),
    "detach_cluster_node_volume": _volume(False),
    "attach_cluster_node_network_interface": attach_cluster_node_network_interface,
    "start_cluster_health_check": start_cluster_health_check,
    "move_cluster_nodes": move_cluster_nodes,
    "create_cluster_scheduler_config": create_cluster_scheduler_config,
    "update_cluster_scheduler_config": update_cluster_scheduler_config,
    "delete_cluster_scheduler_config": delete_cluster_scheduler_config,
    "describe_cluster_scheduler_config": describe_cluster_scheduler_config,
    "list_cluster_scheduler_configs": list_cluster_scheduler_configs,
    "create_cluster_extension": create_cluster_extension,
    "update_cluster_extension": update_cluster_extension,
    "delete_cluster_extension": delete_cluster_extension,
    "describe_cluster_extension": describe_cluster_extension,
    "list_cluster_extensions": list_cluster_extensions,
    "list_cluster_extension_versions": list_cluster_extension_versions,
}
