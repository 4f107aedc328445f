"""The cluster as a whole: moto's CreateCluster fixed, and UpdateCluster, UpdateClusterSoftware and
ListClusterEvents, which moto lacks.

Fixed in moto's CreateCluster: a group without ``ThreadsPerCore`` (moto raises KeyError), the
``ImageId`` it drops (kept as the group's CurrentImageId), the ``Orchestrator`` and
``NodeProvisioningMode`` it drops (kept, and described), and node ids (moto names nodes
``<group>-<n>``; the API's are EC2 instance ids, which requests name). moto's Describe and
DeleteCluster, DescribeClusterNode and ListClusterNodes also take a cluster's ARN, and its cluster
and node records settle before they are described; a node whose software update settled gives its
LastSoftwareUpdateTime.

UpdateCluster refuses what the service refuses (a create-only member changed on an existing group,
deleting every group, a cluster that is not InService). Not modelled: which nodes a scale-down
removes (the newest).
"""

from __future__ import annotations

import hashlib

from preflight.iac import cloudformation
from preflight.plan import same
from preflight.local_sagemaker.common import (EVENTS, LOCK, add_nodes, backend_of, begin_change, cluster_named,
                                              require_in_service, result, settle)

# Refused on an existing instance group: the members CloudFormation's schema lists as create-only
# (the generated data PF455 reads too).
CREATE_ONLY = cloudformation.create_only_members("AWS::SageMaker::Cluster", "/InstanceGroups/*")


def fix_moto() -> None:
    """Fix moto's CreateCluster and cluster reads (see the module docstring)."""
    from moto.sagemaker import models
    from moto.sagemaker.responses import SageMakerResponse

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
            add_nodes(cluster, group, group["TargetCount"])
        begin_change(cluster, "Creating", cluster.instance_groups, "cluster creation started")
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
    for method in ("describe", "summary"):
        setattr(models.ClusterNode, method, _with_software_time(getattr(models.ClusterNode, method)))
    for cls, method in ((models.Cluster, "describe"), (models.Cluster, "summary"),
                        (models.ClusterNode, "describe"), (models.ClusterNode, "summary")):
        setattr(cls, method, _settling(getattr(cls, method)))
    SageMakerResponse.create_cluster = _recording_orchestration(SageMakerResponse.create_cluster)


def _recording_orchestration(create):
    """moto's CreateCluster drops Orchestrator and NodeProvisioningMode; MoveClusterNodes and the
    extensions depend on them, so they are kept on the cluster."""
    def handler(self):
        answer = create(self)
        cluster = backend_of(self).clusters[self._get_param("ClusterName")]
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


def _with_software_time(describe):
    """moto's nodes have no LastSoftwareUpdateTime: a node's is the time its last software update settled."""
    def described(self):
        found = describe(self)
        if getattr(self, "last_software_update", None) is not None:
            found["LastSoftwareUpdateTime"] = self.last_software_update
        return found
    return described


def _settling(method):
    def wrapped(self):
        cluster = self if hasattr(self, "nodes") else _cluster_of(self)
        if cluster is not None:
            settle(cluster)
        return method(self)
    return wrapped


def _cluster_of(node):
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[node.account_id][node.region_name].clusters.get(node.cluster_name)


def update_cluster(self):
    from moto.sagemaker.exceptions import ValidationError

    cluster = cluster_named(self)
    with LOCK:
        require_in_service(cluster)
        existing = {g["InstanceGroupName"]: g for g in cluster.instance_groups}
        deleting = set(self._get_param("InstanceGroupsToDelete") or [])
        specs = self._get_param("InstanceGroups") or []
        for spec in specs:
            group = existing.get(spec["InstanceGroupName"])
            for member in CREATE_ONLY if group else ():
                if member in spec and spec[member] != group.get(member):
                    raise ValidationError(message=f"{member} of instance group {spec['InstanceGroupName']} "
                                                  f"cannot be changed ({group.get(member)} -> {spec[member]}).")
            if group and not same(spec.get("OverrideVpcConfig"), group.get("OverrideVpcConfig")):  # left out: removed
                raise ValidationError(message=f"OverrideVpcConfig of instance group {spec['InstanceGroupName']} "
                                              "cannot be added, removed or changed.")
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
                add_nodes(cluster, group, count)
            else:
                current = [n for n in cluster.nodes.values() if n.instance_group_name == group["InstanceGroupName"]]
                if count > len(current):
                    add_nodes(cluster, group, count - len(current))
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
        begin_change(cluster, "Updating", changed, "UpdateCluster")
    return result({"ClusterArn": cluster.arn})


def update_cluster_software(self):
    cluster = cluster_named(self)
    with LOCK:
        require_in_service(cluster)
        named = {g.get("InstanceGroupName") for g in self._get_param("InstanceGroups") or []}
        groups = [g for g in cluster.instance_groups if not named or g["InstanceGroupName"] in named]
        image = self._get_param("ImageId")
        for group in groups:
            group["DesiredImageId"] = image or group.get("CurrentImageId") or "default"
        for node in cluster.nodes.values():
            if node.instance_group_name in {g["InstanceGroupName"] for g in groups}:
                node.status = "SystemUpdating"
        begin_change(cluster, "SystemUpdating", groups, "UpdateClusterSoftware")
    return result({"ClusterArn": cluster.arn})


def list_cluster_events(self):
    cluster = cluster_named(self)
    events = list(EVENTS.get(cluster.arn, []))
    for key, field in (("InstanceGroupName", "InstanceGroupName"), ("NodeId", "InstanceId")):
        wanted = self._get_param(key)
        if wanted:
            events = [e for e in events if e.get(field) == wanted]
    if self._get_param("SortOrder") == "Descending":
        events.reverse()
    limit = self._get_param("MaxResults") or 100
    return result({"Events": events[:limit]})


HANDLERS = {
    "update_cluster": update_cluster,
    "update_cluster_software": update_cluster_software,
    "list_cluster_events": list_cluster_events,
}
