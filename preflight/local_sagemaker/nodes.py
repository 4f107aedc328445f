"""A cluster's nodes: BatchDeleteClusterNodes, BatchAddClusterNodes, BatchRebootClusterNodes,
BatchReplaceClusterNodes, AttachClusterNodeVolume, DetachClusterNodeVolume,
AttachClusterNodeNetworkInterface, StartClusterHealthCheck and MoveClusterNodes.

MoveClusterNodes, as its documentation says: both clusters InService, EKS-orchestrated and
Continuous; exactly one of NodeIds or InstanceCount; per node NodeIdNotFound, InvalidNodeStatus
(not Running), NodeIdInUse (already moving) or NodeInstanceTypeMismatch, the request refused when
no node can move, when fewer than InstanceCount can, or below the source group's minimum; a node
is DetachInProgress in the source group until the change settles, then Running in the target.
An unknown cluster or instance group is ResourceNotFound, an AWS JSON error.

Not modelled: deep health checks (reported, not run), node logical ids (MoveClusterNodes refuses
NodeLogicalIds here), and AttachInProgress (a moved node goes straight from DetachInProgress to
Running).
"""

from __future__ import annotations

import hashlib
import time

from preflight.local_sagemaker.common import (LOCK, MOVES, SETTINGS, add_event, add_nodes, begin_change,
                                              cluster_by_arn, cluster_named, require_continuous, require_in_service,
                                              result, sagemaker_errors)


def _node_batch(self, change) -> dict:
    """Apply ``change(cluster, node)`` to each named node; the BatchXClusterNodes answer shape."""
    cluster = cluster_named(self)
    successful, failed = [], []
    with LOCK:
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
        add_event(cluster, "node deleted", node.instance_group_name, node.instance_id)

    cluster, successful, failed, failed_logical = _node_batch(self, delete)
    return result({"Successful": successful, "Failed": failed,
                   **({"FailedNodeLogicalIds": failed_logical} if failed_logical else {})})


def _restart(description: str, status: str):
    def handler(self):
        def restart(cluster, node):
            node.status = status
            add_event(cluster, description, node.instance_group_name, node.instance_id)

        cluster, successful, failed, failed_logical = _node_batch(self, restart)
        if successful:
            with LOCK:
                cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
        errors = [{"NodeId": f["NodeId"], "ErrorCode": f["Code"], "Message": f["Message"]} for f in failed]
        return result({"Successful": successful, "Failed": errors,
                       **({"FailedNodeLogicalIds": failed_logical} if failed_logical else {})})
    return handler


def batch_add_cluster_nodes(self):
    cluster = cluster_named(self)
    successful, failed = [], []
    with LOCK:
        groups = {g["InstanceGroupName"]: g for g in cluster.instance_groups}
        for spec in self._get_param("NodesToAdd") or []:
            group = groups.get(spec.get("InstanceGroupName"))
            count = spec.get("IncrementTargetCountBy", 0)
            if group is None:
                failed.append({"InstanceGroupName": spec.get("InstanceGroupName"), "ErrorCode": "InstanceGroupNotFound",
                               "FailedCount": count, "Message": "no such instance group"})
                continue
            group["TargetCount"] += count
            for identifier in add_nodes(cluster, group, count):
                successful.append({"NodeLogicalId": identifier, "InstanceGroupName": group["InstanceGroupName"],
                                   "Status": "Pending"})
        if successful:
            begin_change(cluster, "Updating", [groups[s["InstanceGroupName"]] for s in successful],
                         "BatchAddClusterNodes")
    return result({"Successful": successful, "Failed": failed})


def _node(self, cluster):
    from moto.sagemaker.exceptions import ValidationError

    node = cluster.nodes.get(self._get_param("NodeId"))
    if node is None:
        raise ValidationError(message=f"Node {self._get_param('NodeId')} is not in cluster {cluster.cluster_name}.")
    return node


def _volume(attaching: bool):
    """Attach or detach an EBS volume: recorded on the node (the volume itself is not looked up)."""
    def handler(self):
        cluster = cluster_named(self)
        with LOCK:
            node = _node(self, cluster)
            volumes = node.__dict__.setdefault("volumes", {})
            volume = self._get_param("VolumeId")
            device = volumes.get(volume) or f"/dev/sd{chr(ord('f') + len(volumes))}"
            if attaching:
                volumes[volume] = device
            else:
                volumes.pop(volume, None)
            add_event(cluster, f"volume {volume} {'attached to' if attaching else 'detached from'} the node",
                      node.instance_group_name, node.instance_id)
        return result({"ClusterArn": cluster.arn, "NodeId": node.instance_id, "VolumeId": volume,
                       "AttachTime": time.time(), "Status": "attaching" if attaching else "detaching",
                       "DeviceName": device})
    return handler


def attach_cluster_node_network_interface(self):
    cluster = cluster_named(self)
    node = _node(self, cluster)
    interface = self._get_param("NetworkInterfaceId")
    add_event(cluster, f"network interface {interface} attached to the node", node.instance_group_name,
              node.instance_id)
    return result({"ClusterArn": cluster.arn, "NodeId": node.instance_id, "NetworkInterfaceId": interface,
                   "AttachmentId": "eni-attach-" + hashlib.sha256(interface.encode()).hexdigest()[:17]})


def start_cluster_health_check(self):
    """Nodes under deep health checks show DeepHealthCheckInProgress until the cluster settles."""
    cluster = cluster_named(self)
    with LOCK:
        require_in_service(cluster)
        for config in self._get_param("DeepHealthCheckConfigurations") or []:
            ids = config.get("InstanceIds") or [n.instance_id for n in cluster.nodes.values()
                                                 if n.instance_group_name == config.get("InstanceGroupName")]
            for identifier in ids:
                if identifier in cluster.nodes:
                    cluster.nodes[identifier].status = "DeepHealthCheckInProgress"
                    add_event(cluster, f"deep health checks {', '.join(config.get('DeepHealthChecks') or [])} started",
                              config.get("InstanceGroupName"), identifier)
        cluster._settles_at = time.monotonic() + SETTINGS["settle_seconds"]
    return result({"ClusterArn": cluster.arn})


# ----- MoveClusterNodes --------------------------------------------------------------------------

def _group_of(cluster, name: str) -> dict:
    group = next((g for g in cluster.instance_groups if g["InstanceGroupName"] == name), None)
    if group is None:
        raise sagemaker_errors().ResourceNotFound(message=f"Instance group {name} not found in cluster "
                                                          f"{cluster.cluster_name}.")
    return group


def _moving(node) -> bool:
    return any(move["node"] is node for move in MOVES)


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
    errors = sagemaker_errors()
    chosen = [k for k in ("NodeIds", "NodeLogicalIds", "InstanceCount") if self._get_param(k) is not None]
    if len(chosen) != 1:
        raise errors.ValidationError(message="Specify exactly one of NodeIds, NodeLogicalIds or InstanceCount.")
    if chosen == ["NodeLogicalIds"]:
        raise errors.ValidationError(message="NodeLogicalIds are not modelled by the local AWS; name NodeIds.")
    with LOCK:
        source, target = cluster_by_arn(self, "SourceClusterArn"), cluster_by_arn(self, "TargetClusterArn")
        for cluster in (source, target):
            require_in_service(cluster)
            require_continuous(cluster, "Eks", "MoveClusterNodes")
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
            MOVES.append({"node": node, "source": source, "target": target, "group": target_group, "at": settles_at})
            add_event(source, f"node detaching, moving to {target.cluster_name}/{target_group['InstanceGroupName']}",
                      node.instance_group_name, node.instance_id)
        source_group["TargetCount"] -= len(movable)
        target_group["TargetCount"] += len(movable)
    return result({"Successful": [n.instance_id for n in movable], **({"Failed": failed} if failed else {})})


HANDLERS = {
    "batch_delete_cluster_nodes": batch_delete_cluster_nodes,
    "batch_add_cluster_nodes": batch_add_cluster_nodes,
    "batch_reboot_cluster_nodes": _restart("node rebooting", "Pending"),
    "batch_replace_cluster_nodes": _restart("node being replaced", "Pending"),
    "attach_cluster_node_volume": _volume(True),
    "detach_cluster_node_volume": _volume(False),
    "attach_cluster_node_network_interface": attach_cluster_node_network_interface,
    "start_cluster_health_check": start_cluster_health_check,
    "move_cluster_nodes": move_cluster_nodes,
}
