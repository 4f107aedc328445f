"""The five HyperPod operations preflight checks, by their AWS CLI names."""

from __future__ import annotations

import os

OPERATIONS = {
    "create-cluster": "CreateCluster",
    "update-cluster": "UpdateCluster",
    "update-cluster-software": "UpdateClusterSoftware",
    "delete-cluster": "DeleteCluster",
    "batch-delete-cluster-nodes": "BatchDeleteClusterNodes",
}


def infer(path: str) -> str | None:
    """The operation named in a file name (``prod.create-cluster.json``); the longest name wins,
    so ``update-cluster-software`` is not read as ``update-cluster``."""
    name = os.path.basename(path).lower().replace("_", "-")
    found = [op for op in OPERATIONS if op in name]
    return max(found, key=len) if found else None
