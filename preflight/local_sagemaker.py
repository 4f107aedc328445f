"""The embedded local AWS's HyperPod: the cluster operations moto's SageMaker lacks, over moto's own
cluster state (``moto.sagemaker.models.Cluster`` and ``ClusterNode``), plus seeded Service Quotas.

Ours, because moto (5.x) answers them with an HTML 500 or not at all: UpdateCluster,
UpdateClusterSoftware, BatchDeleteClusterNodes, BatchAddClusterNodes, BatchRebootClusterNodes,
BatchReplaceClusterNodes, AttachClusterNodeVolume, DetachClusterNodeVolume,
AttachClusterNodeNetworkInterface, StartClusterHealthCheck, ListClusterEvents, and Service
Quotas' ListServiceQuotas. Not here (moto's 500 stands): MoveClusterNodes, the scheduler configs
and the cluster extensions. Fixed in
moto's CreateCluster: a group without ``ThreadsPerCore`` (moto raises KeyError), the ``ImageId``
it drops (kept as the group's CurrentImageId), and node ids (moto names nodes ``<group>-<n>``; the
API's are EC2 instance ids, which requests name).

What is modelled: a change leaves the cluster Creating, Updating or SystemUpdating (its changed
groups likewise, new nodes Pending) for ``settle_seconds``, then InService with Running nodes; each
step is a ListClusterEvents event. UpdateCluster refuses what the service refuses (a create-only
member changed on an existing group, deleting every group, a cluster that is not InService). A
cluster named in ``failures`` ends Failed with the given message instead. Not modelled: capacity,
lifecycle scripts actually running, rollbacks, deep health checks (reported, not run), and
which nodes a scale-down removes (the newest).
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
    for cls, method in ((models.Cluster, "describe"), (models.Cluster, "summary"),
                        (models.ClusterNode, "describe"), (models.ClusterNode, "summary")):
        setattr(cls, method, _settling(getattr(cls, method)))
    for name, handler in HANDLERS.items():
        setattr(SageMakerResponse, name, handler)
    ServiceQuotasResponse.list_service_quotas = _list_service_quotas
    _INSTALLED = True


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
}
