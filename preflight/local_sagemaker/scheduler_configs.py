"""HyperPod task governance's cluster policies: Create/Update/Delete/DescribeClusterSchedulerConfig
and ListClusterSchedulerConfigs.

A scheduler config is Creating/Updating/Deleting until it settles, then Created/Updated/Deleted
(a deleted one is still described, as the status enum allows); names are unique per cluster
(ConflictException); each update makes a new version, and its TargetVersion must be the current
version (ConflictException otherwise: the model documents it only as "Target version.", so this
reading is ours), as must no change be in progress; DescribeClusterSchedulerConfig answers any
earlier version. A config named in ``failures`` ends CreateFailed/UpdateFailed/DeleteFailed with
the message. An unknown cluster or config is ResourceNotFound, an AWS JSON error.

Not modelled: the scheduler config's effect on scheduling.
"""

from __future__ import annotations

import time

from preflight.local_sagemaker.common import (LOCK, SETTINGS, cluster_by_arn, records_of, result, sagemaker_errors,
                                              settle_record, short_id)

SCHEDULER_SETTLED = {"Creating": "Created", "Updating": "Updated", "Deleting": "Deleted"}
SCHEDULER_FAILED = {"Creating": "CreateFailed", "Updating": "UpdateFailed", "Deleting": "DeleteFailed"}
SCHEDULER_BUSY = ("Creating", "Updating", "Deleting")


def _scheduler_config(response) -> dict:
    record = records_of(response, "scheduler_configs").get(response._get_param("ClusterSchedulerConfigId"))
    if record is None:
        raise sagemaker_errors().ResourceNotFound(
            message=f"Cluster scheduler config {response._get_param('ClusterSchedulerConfigId')} not found.")
    settle_record(record, SCHEDULER_SETTLED, SCHEDULER_FAILED, record["Name"])
    return record


def _scheduler_view(record: dict, version: int | None = None) -> dict:
    if version is None:
        version = record["ClusterSchedulerConfigVersion"]
    snapshot = record["_versions"].get(version)
    if snapshot is None:
        raise sagemaker_errors().ResourceNotFound(
            message=f"Cluster scheduler config {record['ClusterSchedulerConfigId']} has no version {version}.")
    return {**{k: v for k, v in record.items() if not k.startswith("_")}, **snapshot,
            "ClusterSchedulerConfigVersion": version}


def create_cluster_scheduler_config(self):
    cluster = cluster_by_arn(self, "ClusterArn")
    configs = records_of(self, "scheduler_configs")
    name = self._get_param("Name")
    with LOCK:
        if any(c["Name"] == name and c["ClusterArn"] == cluster.arn and c["Status"] != "Deleted"
               for c in configs.values()):
            raise sagemaker_errors().ConflictException(f"Cluster scheduler config {name} already exists in cluster "
                                                       f"{cluster.cluster_name}.")
        identifier = short_id(cluster.arn, name)
        now = time.time()
        configs[identifier] = {
            "ClusterSchedulerConfigArn": f"arn:aws:sagemaker:{cluster.region_name}:{cluster.account_id}:"
                                         f"cluster-scheduler-config/{identifier}",
            "ClusterSchedulerConfigId": identifier, "Name": name, "ClusterArn": cluster.arn,
            "ClusterSchedulerConfigVersion": 1, "Status": "Creating", "CreationTime": now, "LastModifiedTime": now,
            "_settles_at": time.monotonic() + SETTINGS["settle_seconds"],
            "_versions": {1: {"SchedulerConfig": self._get_param("SchedulerConfig"),
                              "Description": self._get_param("Description") or ""}}}
    return result({k: configs[identifier][k] for k in ("ClusterSchedulerConfigArn", "ClusterSchedulerConfigId")})


def update_cluster_scheduler_config(self):
    """TargetVersion is the version the update applies to (the model says only "Target version."):
    another is a ConflictException, as is a config still changing; the update makes version + 1."""
    errors = sagemaker_errors()
    with LOCK:
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
    return result({"ClusterSchedulerConfigArn": record["ClusterSchedulerConfigArn"],
                   "ClusterSchedulerConfigVersion": current + 1})


def delete_cluster_scheduler_config(self):
    """Deleting, then Deleted (still described, with the enum's status; updates are refused)."""
    with LOCK:
        record = _scheduler_config(self)
        if record["Status"] in ("Deleting", "Deleted"):
            raise sagemaker_errors().ResourceNotFound(message=f"Cluster scheduler config {record['Name']} is "
                                                              f"{record['Status']}.")
        record.update(Status="Deleting", LastModifiedTime=time.time(),
                      _settles_at=time.monotonic() + SETTINGS["settle_seconds"])
    return result({})


def describe_cluster_scheduler_config(self):
    with LOCK:
        return result(_scheduler_view(_scheduler_config(self), self._get_param("ClusterSchedulerConfigVersion")))


def list_cluster_scheduler_configs(self):
    with LOCK:
        found = []
        for record in records_of(self, "scheduler_configs").values():
            settle_record(record, SCHEDULER_SETTLED, SCHEDULER_FAILED, record["Name"])
            if all(not self._get_param(k) or self._get_param(k) == record[k] for k in ("ClusterArn", "Status")) and (
                    self._get_param("NameContains") or "") in record["Name"]:
                found.append({k: record[k] for k in ("ClusterSchedulerConfigArn", "ClusterSchedulerConfigId",
                                                     "ClusterSchedulerConfigVersion", "Name", "CreationTime",
                                                     "LastModifiedTime", "Status", "ClusterArn")})
    key = {"Name": "Name", "Status": "Status"}.get(self._get_param("SortBy"), "CreationTime")
    found.sort(key=lambda r: r[key], reverse=self._get_param("SortOrder") != "Ascending")
    return result({"ClusterSchedulerConfigSummaries": found[:self._get_param("MaxResults") or 100]})


HANDLERS = {
    "create_cluster_scheduler_config": create_cluster_scheduler_config,
    "update_cluster_scheduler_config": update_cluster_scheduler_config,
    "delete_cluster_scheduler_config": delete_cluster_scheduler_config,
    "describe_cluster_scheduler_config": describe_cluster_scheduler_config,
    "list_cluster_scheduler_configs": list_cluster_scheduler_configs,
}
