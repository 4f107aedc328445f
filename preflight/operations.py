"""The HyperPod operations preflight checks: every SageMaker call that changes a cluster or its
nodes, by its AWS CLI name. The CLI's choices, the schema generator, the rules' defaults and
the sender all read this one list.

Chosen from the SageMaker service model: the calls whose input names a HyperPod cluster (by
``ClusterName``, ``ClusterArn`` or ``SourceClusterArn``, or a scheduler config of one) and that
change its configuration, software, nodes, node attachments or scheduling. Left out: the
List/Describe reads, and the calls on resources that only refer to a cluster (compute quotas,
inference gateways).
"""

from __future__ import annotations

import os

OPERATIONS = {
    "create-cluster": "CreateCluster",
    "update-cluster": "UpdateCluster",
    "update-cluster-software": "UpdateClusterSoftware",
    "delete-cluster": "DeleteCluster",
    "batch-add-cluster-nodes": "BatchAddClusterNodes",
    "batch-delete-cluster-nodes": "BatchDeleteClusterNodes",
    "batch-reboot-cluster-nodes": "BatchRebootClusterNodes",
    "batch-replace-cluster-nodes": "BatchReplaceClusterNodes",
    "move-cluster-nodes": "MoveClusterNodes",
    "attach-cluster-node-volume": "AttachClusterNodeVolume",
    "detach-cluster-node-volume": "DetachClusterNodeVolume",
    "attach-cluster-node-network-interface": "AttachClusterNodeNetworkInterface",
    "start-cluster-health-check": "StartClusterHealthCheck",
    "create-cluster-scheduler-config": "CreateClusterSchedulerConfig",
    "update-cluster-scheduler-config": "UpdateClusterSchedulerConfig",
    "delete-cluster-scheduler-config": "DeleteClusterSchedulerConfig",
    "create-cluster-extension": "CreateClusterExtension",
    "update-cluster-extension": "UpdateClusterExtension",
    "delete-cluster-extension": "DeleteClusterExtension",
}

# Calls whose input names a cluster but that change a resource that only refers to it; left out
# on purpose (scripts/refresh reports any other cluster-naming operation that is not checked).
NOT_CLUSTER_CHANGES = ("AddInferenceGateway", "RemoveInferenceGateway", "CreateComputeQuota")

# The members that name the cluster an operation acts on (a name or an ARN), in the order looked at.
CLUSTER_MEMBERS = ("ClusterName", "ClusterArn", "SourceClusterArn")


def infer(path: str, exact: bool = False) -> str | None:
    """The operation named in a file name (``prod.create-cluster.json``); the longest name wins,
    so ``update-cluster-software`` is not read as ``update-cluster``. With ``exact``, only a
    dot-separated part that is the whole name counts: ``x.delete-cluster-nodes.json`` names no
    operation (it reads as delete-cluster otherwise), so it cannot contradict --operation."""
    name = os.path.basename(path).lower().replace("_", "-")
    found = [op for op in OPERATIONS if op in (name.split(".") if exact else name)]
    return max(found, key=len) if found else None


def cluster_of(request: object) -> str | None:
    """The cluster a request acts on, by name or ARN; None when it names none (a scheduler
    config update or deletion names only the config)."""
    if not isinstance(request, dict):
        return None
    return next((request[m] for m in CLUSTER_MEMBERS if isinstance(request.get(m), str)), None)
