"""Cluster extensions: Create/Update/Delete/DescribeClusterExtension, ListClusterExtensions and
ListClusterExtensionVersions.

An extension needs an InService Slurm cluster (one without Orchestrator) in Continuous mode, one
per name (ConflictException), a version of the local catalog (EXTENSION_VERSIONS, the latest by
default); an update merges ConfigurationValues (null resets a setting) and never goes to an
earlier version; Creating/Updating settle to Active, Deleting to gone (ResourceNotFound). An
extension named in ``failures`` ends CreateFailed/UpdateFailed/DeleteFailed with the message, as
a Health issue. An unknown cluster or extension is ResourceNotFound, an AWS JSON error.

Not modelled: an extension's settings checked against its definition.
"""

from __future__ import annotations

import json
import time
from typing import Any

from preflight.local_sagemaker.common import (LOCK, SETTINGS, add_event, cluster_by_arn, records_of,
                                              require_continuous, result, sagemaker_errors, settle_record, short_id)

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
        raise sagemaker_errors().ValidationError(message="ConfigurationValues must be a JSON object serialized as "
                                                         "a string.")
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def _offered(name: str, version: str | None) -> str:
    offered = EXTENSION_VERSIONS.get(name)
    if not offered or (version and version not in offered):
        raise sagemaker_errors().ValidationError(message=f"Extension {name} {version or ''} is not offered; "
                                                         "ListClusterExtensionVersions lists what can be installed.")
    return version or offered[-1]


def _extensions_of(response, cluster) -> dict:
    """The cluster's extensions (ARN -> record), settled; an extension done deleting is gone."""
    store = records_of(response, "extensions")
    for arn, record in list(store.items()):
        if record["ClusterArn"] == cluster.arn:
            settle_record(record, EXTENSION_SETTLED, EXTENSION_FAILED, record["ExtensionName"])
            if record["Status"] == "Deleted":
                del store[arn]
    return {arn: r for arn, r in store.items() if r["ClusterArn"] == cluster.arn}


def _extension(response) -> tuple[Any, dict]:
    cluster = cluster_by_arn(response, "ClusterArn")
    record = _extensions_of(response, cluster).get(response._get_param("ExtensionArn"))
    if record is None:
        raise sagemaker_errors().ResourceNotFound(message=f"Extension {response._get_param('ExtensionArn')} not "
                                                          f"found on cluster {cluster.cluster_name}.")
    return cluster, record


def _changing(record: dict, status: str) -> None:
    record.update(Status=status, LastModifiedTime=time.time(), _settles_at=time.monotonic() + SETTINGS["settle_seconds"])
    record.pop("FailureReason", None)


def create_cluster_extension(self):
    """On a Slurm cluster in Continuous mode that is InService (ResourceInUse otherwise), one
    extension of a name (ConflictException), a version the catalog offers (the latest by default)."""
    errors = sagemaker_errors()
    with LOCK:
        cluster = cluster_by_arn(self, "ClusterArn")
        require_continuous(cluster, "Slurm", "CreateClusterExtension")
        if cluster.status != "InService":
            raise errors.ResourceInUseException(message=f"Cluster {cluster.cluster_name} is {cluster.status}.")
        name = self._get_param("ExtensionName")
        if any(r["ExtensionName"] == name for r in _extensions_of(self, cluster).values()):
            raise errors.ConflictException(f"Extension {name} is already installed on cluster {cluster.cluster_name}.")
        version = _offered(name, self._get_param("ExtensionVersion"))
        arn = (f"arn:aws:sagemaker:{cluster.region_name}:{cluster.account_id}:extension/{name}/"
               f"{cluster.arn.rsplit('/', 1)[-1]}/{short_id(cluster.arn, name)}")
        record = {"ClusterArn": cluster.arn, "ExtensionArn": arn, "ExtensionName": name, "ExtensionVersion": version,
                  "_configuration": _configuration(self, {}), "CreationTime": time.time()}
        _changing(record, "Creating")
        records_of(self, "extensions")[arn] = record
        add_event(cluster, f"extension {name} {version} installing")
    return result({"ExtensionArn": arn})


def update_cluster_extension(self):
    """A later version (never an earlier one), the configuration merged; not while Deleting."""
    errors = sagemaker_errors()
    with LOCK:
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
        add_event(cluster, f"extension {record['ExtensionName']} {version} updating")
    return result({"ExtensionArn": record["ExtensionArn"]})


def delete_cluster_extension(self):
    with LOCK:
        cluster, record = _extension(self)
        if record["Status"] != "Deleting":
            _changing(record, "Deleting")
            add_event(cluster, f"extension {record['ExtensionName']} deleting")
    return result({"ExtensionArn": record["ExtensionArn"]})


def describe_cluster_extension(self):
    """The extension's details; every node of the cluster is targeted, all run it once it is Active."""
    with LOCK:
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
    return result(answer)


def list_cluster_extensions(self):
    with LOCK:
        found = [{k: r[k] for k in ("ExtensionArn", "ExtensionName", "ExtensionVersion", "Status", "CreationTime")}
                 for r in _extensions_of(self, cluster_by_arn(self, "ClusterArn")).values()]
    return result({"Extensions": found[:self._get_param("MaxResults") or 100]})


def list_cluster_extension_versions(self):
    offered = EXTENSION_VERSIONS.get(self._get_param("ExtensionName"), ())
    return result({"ExtensionVersions": [{"ExtensionVersion": v} for v in reversed(offered)]})


HANDLERS = {
    "create_cluster_extension": create_cluster_extension,
    "update_cluster_extension": update_cluster_extension,
    "delete_cluster_extension": delete_cluster_extension,
    "describe_cluster_extension": describe_cluster_extension,
    "list_cluster_extensions": list_cluster_extensions,
    "list_cluster_extension_versions": list_cluster_extension_versions,
}
