"""PF400, PF401 and PF45x: the live run's own verdicts, and the cluster a request changes (``--live``).

PF400/PF401 are reported by the engine when a lookup fails: required checks fail closed (exit 3),
advisory ones warn. The PF45x rules compare a change (update, software update, deletion, node
operations) with the cluster as it is: DescribeCluster and ListClusterNodes (preflight/plan.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from preflight.findings import Severity
from preflight.live import (CONTROLLER_CHANGES, UPDATES, cluster_name, controller_parameters, emptied_groups,
                            foreign_region)
from preflight.operations import CLUSTER_MEMBERS
from preflight.plan import same, shown
from preflight.registry import rule
from preflight.values import real, string

# What the SageMaker Developer Guide's update-cluster steps say an existing instance group keeps ("you
# must match the instance type you initially specified", "keep using the same IAM role", "keep using
# the same value" of ThreadsPerCore). Prose, with no machine-readable form to generate it from; the
# create-only members of CloudFormation's schema are generated (preflight/iac/cloudformation.json).
GUIDE_KEEPS = ("InstanceType", "ExecutionRole", "ThreadsPerCore")
GUIDE = "the SageMaker Developer Guide (Update cluster configuration)"


@rule("PF400", "verification-incomplete", Severity.ERROR, kind="engine")
def verification_incomplete(ctx):
    """A required live check (AMI, sharing tag, key match, roles) could not be completed.

    ## Why is this bad?
    preflight cannot say the request is safe, so it fails closed: the run exits 3 and nothing is
    sent. The finding names the lookup that failed and why (no credentials, AccessDenied,
    throttling past retries, a timeout, an unreachable endpoint).

    ## Source
    preflight's gate: only a request that passes is ever sent.
    """
    return ()


@rule("PF401", "advisory-verification-incomplete", Severity.WARNING, kind="engine")
def advisory_verification_incomplete(ctx):
    """An advisory live check (lifecycle, network, orchestrator, caller, capacity) could not be completed.

    ## Why is this bad?
    The request may still be fine; the warning says exactly what was not verified and why.

    ## Source
    preflight's gate.
    """
    return ()


def _named_cluster(ctx):
    """(the request's cluster name, its state in the account, or None when it does not exist)."""
    name = cluster_name(ctx)
    return name, ctx.account.cluster(name) if name else None


@rule("PF402", "region-mismatch", Severity.ERROR, kind="live", required=False)
def region_mismatch(ctx):
    """The request's ARNs name another region than the one checked (`--region`, the profile's).

    ## Why is this bad?
    Every resource would be looked up in the wrong region and reported missing, one error per
    resource. Said once instead, and the other live checks of the request are skipped: check it
    in its own region.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-west-2:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    AWS ARNs name their region; SageMaker, EC2, KMS and EKS resources are regional.
    """
    found = foreign_region(ctx)
    if found:
        region, pointer = found
        yield ctx.finding(pointer, f"the request names region {region}, but {ctx.account.region} is checked; "
                          "its other live checks are skipped", f"check it with --region {region}")


@rule("PF450", "cluster-missing", Severity.ERROR, kind="live", required=True, operations=UPDATES)
def cluster_missing(ctx):
    """An update, software update or deletion of a cluster that does not exist.

    ## Why is this bad?
    The call fails; usually the name is misspelt or the region is not the cluster's.

    ## Example
    ```json
    {"ClusterName": "no-such-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    SageMaker `DescribeCluster`.
    """
    name, cluster = _named_cluster(ctx)
    if name and cluster is None:
        member = next(m for m in CLUSTER_MEMBERS if ctx.value(f"/{m}") == name)
        yield ctx.finding(f"/{member}", f"cluster {name} does not exist in {ctx.account.region}")


@rule("PF454", "cluster-already-exists", Severity.ERROR, kind="live", required=True,
      operations=("create-cluster",))
def cluster_already_exists(ctx):
    """A create for a cluster name that is already taken in the region.

    ## Why is this bad?
    CreateCluster fails with ResourceInUse; a pipeline that meant an update would have sent
    the wrong call.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    SageMaker `DescribeCluster`, `CreateCluster`.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is not None:
        yield ctx.finding("/ClusterName", f"cluster {name} already exists ({cluster.status})",
                          "choose another name, or send update-cluster")


# The calls the service takes only on an InService cluster: the cluster's own changes and its nodes'.
NEEDS_IN_SERVICE = ("update-cluster", "update-cluster-software", "batch-add-cluster-nodes",
                    "batch-delete-cluster-nodes", "batch-reboot-cluster-nodes", "batch-replace-cluster-nodes",
                    "move-cluster-nodes", "attach-cluster-node-volume", "detach-cluster-node-volume",
                    "attach-cluster-node-network-interface", "start-cluster-health-check")
# What each status is waiting for, said in the finding.
SETTLES = {"Creating": "its creation ends", "Updating": "its update ends", "SystemUpdating": "its software update ends",
           "RollingBack": "its rollback ends", "Deleting": "it is gone: it is being deleted"}


@rule("PF462", "cluster-not-in-service", Severity.ERROR, kind="live", required=True,
      operations=NEEDS_IN_SERVICE + ("delete-cluster",))
def cluster_not_in_service(ctx):
    """A change to a cluster that is not `InService` (Creating, Updating, SystemUpdating, RollingBack, Deleting or Failed).

    ## Why is this bad?
    HyperPod takes an update, a software update or a node operation only on an `InService`
    cluster: the call is refused while another change is under way, and a `Failed` cluster takes
    no change at all (it is deleted and created again). An update is refused too while deep health
    checks run on its nodes (`DeepHealthCheckInProgress`). A deletion is refused while the cluster
    rolls back (it is deleted once `Failed`); a deletion of a cluster already being deleted changes
    nothing (a warning: the service's answer to it is not documented).

    ## Example
    ```json
    {"ClusterName": "busy-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 3, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}, "ThreadsPerCore": 1}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 3, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}, "ThreadsPerCore": 1}]}
    ```

    ## Source
    SageMaker `DescribeCluster` (`ClusterStatus`); the SageMaker Developer Guide's HyperPod cluster
    management pages (a cluster is updated when InService; a failed creation is deleted and
    retried; "Updating SageMaker HyperPod cluster configuration": not while deep health checks run);
    field reports of updates and node deletions refused during a change.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    member = next(m for m in CLUSTER_MEMBERS if ctx.value(f"/{m}") == name)
    if cluster.status == "InService":
        checking = sorted(n.id for n in _nodes(ctx, name) if n.status == "DeepHealthCheckInProgress")
        if checking and ctx.operation == "update-cluster":
            yield ctx.finding(f"/{member}", f"cluster {name} is running deep health checks on {len(checking)} nodes "
                              f"({', '.join(checking[:3])}{', ...' if len(checking) > 3 else ''}): update-cluster is "
                              "refused until they end", "wait until its nodes are Running, then send it")
        return
    if ctx.operation == "delete-cluster":
        if cluster.status == "RollingBack":
            yield ctx.finding(f"/{member}", f"cluster {name} is RollingBack: delete-cluster is refused until it is "
                              "Failed", "wait until it is Failed (aws sagemaker describe-cluster), then delete it")
        elif cluster.status == "Deleting":
            yield ctx.finding(f"/{member}", f"cluster {name} is already being deleted", severity=Severity.WARNING)
        return
    if cluster.status == "Failed":
        failure = f" (its failure: {cluster.failure})" if cluster.failure else ""
        yield ctx.finding(f"/{member}", f"cluster {name} is Failed and takes no {ctx.operation}{failure}",
                          "delete it (delete-cluster) and create it again")
        return
    waiting = SETTLES.get(cluster.status, "it is InService again")
    yield ctx.finding(f"/{member}", f"cluster {name} is {cluster.status}: {ctx.operation} is refused until {waiting}",
                      "wait until it is InService (aws sagemaker describe-cluster), then send it")


@rule("PF451", "instance-group-missing", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-software",))
def instance_group_missing(ctx):
    """A software update names an instance group the cluster does not have.

    ## Why is this bad?
    The update fails validation, or the group meant is left on its old image.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [{"InstanceGroupName": "gpu"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [{"InstanceGroupName": "workers"}]}
    ```

    ## Source
    SageMaker `DescribeCluster`, `UpdateClusterSoftware`.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    for pointer, group in ctx.instance_groups():
        group_name = group.get("InstanceGroupName")
        if isinstance(group_name, str) and group_name not in cluster.groups:
            yield ctx.finding(f"{pointer}/InstanceGroupName", f"cluster {name} has no instance group {group_name!r}",
                              f"its groups: {', '.join(sorted(cluster.groups)) or 'none'}")


@rule("PF452", "software-update-touches-groups", Severity.INFO, kind="live", required=False, operations=UPDATES)
def software_update_touches_groups(ctx):
    """What a change will do to the cluster (the plan): groups added, removed or scaled, images and nodes touched.

    ## Why is this bad?
    Informational: an update is otherwise checked field by field, never against the cluster it
    changes. Read from DescribeCluster and ListClusterNodes, each change is one finding: a group
    added (with the deep health checks its new nodes run), removed, scaled up or down by how many
    nodes, an image or release change and how many nodes it touches, nodes rebooted, replaced or
    deleted. The JSON report carries the same as `plan`; `preflight plan` prints only that.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 3, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    Seed guide, "Actualización del software de clúster"; SageMaker `DescribeCluster`, `ListClusterNodes`.
    """
    from preflight import plan

    found = plan.of(ctx)
    for change in found["changes"] if found else ():
        yield ctx.finding(change["pointer"], change["summary"])


@rule("PF453", "custom-ami-group-without-image", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-software",))
def custom_ami_group_without_image(ctx):
    """A software update without `ImageId` touches a group that runs a custom AMI.

    ## Why is this bad?
    The model: "if an instance group uses a custom AMI, you must provide an ImageId or use the default".

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "ami-0123456789abcdef0"}
    ```

    ## Source
    botocore service model, `UpdateClusterSoftwareRequest.ImageId` documentation.
    """
    if real(ctx.value("/ImageId")):
        return
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    named = [string(g.get("InstanceGroupName")) for _, g in ctx.instance_groups()] or list(cluster.groups)
    for group_name in named:
        image = (cluster.groups.get(group_name) or {}).get("CurrentImageId")
        if image and image.startswith("ami-"):
            yield ctx.finding("", f"instance group {group_name} runs custom AMI {image}, and no ImageId is given",
                              "add ImageId: the new custom AMI, or default")


def _nodes(ctx, name):
    return ctx.account.cluster_nodes(name) or []


@rule("PF455", "create-only-member-changed", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster",))
def create_only_member_changed(ctx):
    """An update changes a member of an existing instance group that is documented as set only when the group is created.

    ## Why is this bad?
    A refused UpdateCluster, or a stack update that replaces the whole cluster. Two sources say
    which members of an existing group cannot change, and they disagree, so the severity says how
    sure this is:

    - the SageMaker Developer Guide's update-cluster steps: an existing group keeps its
      `InstanceType` ("you must match the instance type you initially specified"),
      `ExecutionRole` and `ThreadsPerCore`; the same page, and its EKS twin, also say "you can
      change the instance type". The API reference (botocore's `UpdateCluster`,
      `ClusterInstanceGroupSpecification`) says nothing either way.
    - CloudFormation's resource schema for AWS::SageMaker::Cluster (`createOnlyProperties`,
      generated into preflight/iac/cloudformation.json; those of 2026-10-20 list `ClusterName`,
      `VpcConfig` and `Orchestrator/Eks`, and no instance group member; earlier schemas listed
      `InstanceType`, `ExecutionRole`, `ThreadsPerCore` and `OverrideVpcConfig`). A create-only
      change makes CloudFormation replace the cluster; it does not say UpdateCluster refuses it.

    Both sources name the member: an error. Only the guide: a warning (the service may refuse it;
    CloudFormation's schema updates it in place). Only the schema: info (a stack update replaces
    the cluster). A group that runs `ThreadsPerCore` 1 and an update that leaves it out is a
    warning: an update without it resets it to the type's default (the HyperPod CloudFormation
    error reference: "must include ThreadsPerCore even if not originally set"), so it changes too,
    unless the type runs one thread per core anyway. Restricted instance groups are read against the schema only: the guide's steps
    are for instance groups. A group renamed is PF458's; the cluster's `Orchestrator.Eks` and
    `VpcConfig` are not compared (DescribeCluster's record is not read for them). To change such a
    member for sure, add a new group with the new value and remove the old one.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.4xlarge", "ThreadsPerCore": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge", "ThreadsPerCore": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    SageMaker Developer Guide, "Update cluster configuration"
    (sagemaker-hyperpod-operate-slurm-cli-command.html#sagemaker-hyperpod-operate-slurm-cli-command-update-cluster,
    sagemaker-hyperpod-eks-operate-cli-command-update-cluster.html); CloudFormation resource schema
    AWS::SageMaker::Cluster, `createOnlyProperties` (as cfn-lint bundles it); SageMaker `UpdateCluster`;
    the HyperPod cluster debugger's CloudFormation error reference, "CFN Template Gotchas:
    ThreadsPerCore" (awslabs/agent-plugins).
    """
    from preflight.iac.cloudformation import create_only_members, schema_date

    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    for pointer, group in ctx.instance_groups():
        existing = cluster.groups.get(string(group.get("InstanceGroupName")))
        if existing is None:
            continue
        listed = pointer.split("/")[1]
        schema, date = create_only_members("AWS::SageMaker::Cluster", f"/{listed}/*"), schema_date()
        guide = GUIDE_KEEPS if listed == "InstanceGroups" else ()
        for member in dict.fromkeys(guide + schema):
            given, now = group.get(member), existing.get(member)
            if given is None or now is None or same(given, now):
                continue
            change = (f"{member} of existing group {group['InstanceGroupName']} changes from {shown(now)} "
                      f"to {shown(given)}")
            if member in guide and member in schema:
                severity, said = Severity.ERROR, (f"{GUIDE} keeps it and CloudFormation's resource schema "
                                                  f"({date}) lists it create-only")
            elif member in guide:
                severity, said = Severity.WARNING, (f"{GUIDE} says an existing group keeps it, but CloudFormation's "
                                                    f"resource schema ({date}) updates it in place: the service may "
                                                    "refuse the update")
            else:
                severity, said = Severity.INFO, (f"CloudFormation's resource schema ({date}) lists it create-only: "
                                                 "a stack update replaces the cluster")
            yield ctx.finding(f"{pointer}/{member}", f"{change}; {said}",
                              "keep it, or add a new group with the new value and delete this one",
                              severity=severity)
        if listed == "InstanceGroups" and group.get("ThreadsPerCore") is None and existing.get("ThreadsPerCore") == 1:
            yield ctx.finding(pointer, f"existing group {group['InstanceGroupName']} runs ThreadsPerCore 1 and the "
                              "update leaves it out, which resets it to the instance type's default (2 where the "
                              f"type runs two threads per core); {GUIDE} says an existing group keeps it",
                              "write ThreadsPerCore: 1, as the group has it", severity=Severity.WARNING)


# The day after which a cluster can take BatchDeleteClusterNodes as made; one made before needs a
# software update first (the operation's API reference, and the HyperPod workshop's "clusters
# created after 6/20/2024").
NODE_DELETION_SINCE = datetime(2024, 6, 20, tzinfo=timezone.utc)


@rule("PF467", "node-deletion-before-software-update", Severity.WARNING, kind="live", required=False,
      operations=("batch-delete-cluster-nodes",))
def node_deletion_before_software_update(ctx):
    """A node deletion on a cluster made before 2024-06-20 whose nodes show no software update since.

    ## Why is this bad?
    BatchDeleteClusterNodes came to clusters made from 2024-06-20 on; on an older cluster the API
    reference says to patch the cluster with UpdateClusterSoftware first. Read from DescribeCluster's
    `CreationTime` and each node's `LastSoftwareUpdateTime` (ListClusterNodes): a warning, since a
    node's update time is the only evidence of a patch that the API gives, and a cluster patched
    before its current nodes were launched shows none.

    ## Example
    ```json
    {"ClusterName": "legacy-cluster", "NodeIds": ["i-75a470ec0c4304134"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "patched-cluster", "NodeIds": ["i-d300ca27379e2720f"]}
    ```

    ## Source
    SageMaker API Reference, BatchDeleteClusterNodes ("If you want to invoke this API on an existing
    cluster, you'll first need to patch the cluster by running the UpdateClusterSoftware API");
    AI on SageMaker HyperPod, "Delete cluster nodes" ("apply to cluster created after 6/20/2024").
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None or cluster.created is None or cluster.created >= NODE_DELETION_SINCE:
        return
    updates = [node.software_updated for node in ctx.account.cluster_nodes(name) or [] if node.software_updated]
    if any(updated >= NODE_DELETION_SINCE for updated in updates):
        return
    last = f"last updated {max(updates):%Y-%m-%d}" if updates else "no node shows a software update"
    yield ctx.finding("/ClusterName", f"cluster {name} was made {cluster.created:%Y-%m-%d}, before node deletion "
                      f"came to HyperPod (2024-06-20), and {last}",
                      f"patch it first: aws sagemaker update-cluster-software --cluster-name {name}")


@rule("PF465", "override-vpc-config-changed", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster",))
def override_vpc_config_changed(ctx):
    """An update that adds, removes or changes the `OverrideVpcConfig` of an existing instance group.

    ## Why is this bad?
    UpdateCluster refuses it: a group keeps the subnets and security groups it was created with.
    An update that leaves out the `OverrideVpcConfig` a group has removes it, and is refused too:
    a request written from an older copy of the configuration fails this way. To move a group to
    other subnets, add a new group with them and delete the old one.

    ## Example
    ```json
    {"ClusterName": "multi-az-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}, "ThreadsPerCore": 1}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "multi-az-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}, "ThreadsPerCore": 1, "OverrideVpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}]}
    ```

    ## Source
    Field reports of UpdateCluster refusing an instance group's `OverrideVpcConfig` change (the
    project's domain notes); SageMaker `DescribeCluster` (each group's `OverrideVpcConfig`);
    CloudFormation's earlier resource schemas listed it create-only.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        existing = cluster.groups.get(string(group.get("InstanceGroupName")))
        if existing is None:
            continue
        given, now = group.get("OverrideVpcConfig"), existing.get("OverrideVpcConfig")
        if same(given, now):
            continue
        label = group["InstanceGroupName"]
        if given is None:
            yield ctx.finding(pointer, f"the update leaves out {label}'s OverrideVpcConfig ({shown(now)}), which "
                              "removes it; the service refuses that", "copy the group's OverrideVpcConfig as it is")
        else:
            was = f"from {shown(now)}" if now is not None else "where the group has none"
            yield ctx.finding(f"{pointer}/OverrideVpcConfig", f"the update changes {label}'s OverrideVpcConfig {was}; "
                              "an existing group keeps its own", "keep it, or add a new group with the new subnets "
                              "and delete this one")


@rule("PF456", "scaled-below-minimum", Severity.ERROR, kind="live", required=True,
      operations=("batch-delete-cluster-nodes", "update-cluster"))
def scaled_below_minimum(ctx):
    """A change leaves an instance group with fewer nodes than its `MinInstanceCount`.

    ## Why is this bad?
    The group's minimum is what the cluster needs to be useful; the service refuses to go below
    it, or the cluster is left degraded. Lower `MinInstanceCount` first if that is the intent.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-557701e84e555db82", "i-ead00e00de8f6f4dd"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-557701e84e555db82"]}
    ```

    ## Source
    SageMaker API reference, `ClusterInstanceGroupSpecification.MinInstanceCount`.
    """
    from preflight import plan

    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    if ctx.operation == "update-cluster":
        for pointer, group in ctx.instance_groups():
            existing = cluster.groups.get(string(group.get("InstanceGroupName")))
            count = group.get("InstanceCount")
            minimum = group.get("MinInstanceCount", (existing or {}).get("MinCount"))
            if existing is not None and type(count) is int and type(minimum) is int and count < minimum:
                yield ctx.finding(f"{pointer}/InstanceCount", f"{group['InstanceGroupName']} would have {count} "
                                  f"nodes, below its MinInstanceCount {minimum}")
        return
    for change in plan.changes(ctx, cluster, _nodes(ctx, name)):
        minimum = cluster.groups.get(change["group"], {}).get("MinCount")
        if "left" in change and type(minimum) is int and change["left"] < minimum:
            yield ctx.finding(change["pointer"], f"deleting {len(change['nodes'])} nodes leaves {change['group']} "
                              f"with {change['left']}, below its MinInstanceCount {minimum}")


@rule("PF457", "last-group-deleted", Severity.ERROR, kind="live", required=True, operations=("update-cluster",))
def last_group_deleted(ctx):
    """An update deletes every instance group of the cluster and adds none.

    ## Why is this bad?
    A cluster keeps at least one instance group; to remove the cluster, send delete-cluster.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroupsToDelete": ["workers"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    SageMaker `UpdateCluster`, `InstanceGroupsToDelete`.
    """
    name, cluster = _named_cluster(ctx)
    deleting = ctx.value("/InstanceGroupsToDelete")
    if cluster is None or not isinstance(deleting, list):
        return
    kept = (set(cluster.groups) - set(d for d in deleting if isinstance(d, str))) | {
        string(g.get("InstanceGroupName")) for _, g in ctx.instance_groups(("InstanceGroups",))}
    if not kept:
        yield ctx.finding("/InstanceGroupsToDelete", f"deletes every instance group of {name} "
                          f"({', '.join(sorted(cluster.groups))}) and adds none", "send delete-cluster instead")


@rule("PF458", "group-renamed", Severity.WARNING, kind="live", required=False, operations=("update-cluster",))
def group_renamed(ctx):
    """An update deletes a group and adds one of the same instance type under another name.

    ## Why is this bad?
    That is a rename, and HyperPod does not rename: every node of the old group is terminated and
    the new group's nodes are launched and run their lifecycle scripts from scratch. To change the
    group, keep its name.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroupsToDelete": ["workers"], "InstanceGroups": [{"InstanceGroupName": "workers-v2", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 3, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    SageMaker `UpdateCluster`, `InstanceGroupsToDelete`; field reports.
    """
    from preflight import plan

    name, cluster = _named_cluster(ctx)
    deleting = ctx.value("/InstanceGroupsToDelete")
    if cluster is None or not isinstance(deleting, list):
        return
    removed = {d: cluster.groups[d] for d in deleting if isinstance(d, str) and d in cluster.groups}
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        new_name = string(group.get("InstanceGroupName"))
        if new_name in cluster.groups:
            continue
        twin = next((old for old, record in removed.items() if record.get("InstanceType") == group.get("InstanceType")), None)
        if twin:
            yield ctx.finding(f"{pointer}/InstanceGroupName", f"group {twin} is deleted and {new_name} added with the same "
                              f"instance type: its {plan.group_count(cluster.groups[twin])} nodes are replaced, not renamed",
                              f"keep the name {twin} to change that group in place")


@rule("PF459", "cluster-node-missing", Severity.ERROR, kind="live", required=True,
      operations=("batch-delete-cluster-nodes", "batch-reboot-cluster-nodes", "batch-replace-cluster-nodes",
                  "batch-add-cluster-nodes", "attach-cluster-node-volume", "detach-cluster-node-volume",
                  "attach-cluster-node-network-interface", "move-cluster-nodes"))
def cluster_node_missing(ctx):
    """A node operation names a node, or an instance group, the cluster does not have.

    ## Why is this bad?
    The call reports the node as failed (or fails); usually an id from another cluster or region,
    or a node already gone. Read from ListClusterNodes.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-557701e84e555db82"]}
    ```

    ## Source
    SageMaker `ListClusterNodes`, `BatchDeleteClusterNodes`.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    ids = ctx.value("/NodeIds")
    named = [(f"/NodeIds/{i}", n) for i, n in enumerate(ids if isinstance(ids, list) else [])]
    named += [("/NodeId", ctx.value("/NodeId"))]
    known = {n.id for n in _nodes(ctx, name)}
    for pointer, node_id in named:
        if isinstance(node_id, str) and node_id not in known:
            yield ctx.finding(pointer, f"cluster {name} has no node {node_id}")
    specs = ctx.value("/NodesToAdd")
    groups = [(f"/NodesToAdd/{index}/InstanceGroupName", spec.get("InstanceGroupName") if isinstance(spec, dict) else None)
              for index, spec in enumerate(specs if isinstance(specs, list) else [])]
    if ctx.operation == "move-cluster-nodes":  # the target group is this cluster's when the nodes stay in it
        groups += [(p, ctx.value(p)) for p in ("/SourceInstanceGroupName", "/TargetInstanceGroupName")
                   if p == "/SourceInstanceGroupName" or ctx.value("/TargetClusterArn") == cluster.arn]
        yield from _moved_from_another_group(ctx, name, named)
    for pointer, group in groups:
        if isinstance(group, str) and group not in cluster.groups:
            yield ctx.finding(pointer, f"cluster {name} has no instance group {group!r}",
                              f"its groups: {', '.join(sorted(cluster.groups)) or 'none'}")


def _moved_from_another_group(ctx, name, named):
    """A node a move names that is in another group than the source group (the service refuses it
    as NodeIdNotFound)."""
    source = ctx.value("/SourceInstanceGroupName")
    groups = {n.id: n.group for n in _nodes(ctx, name)}
    for pointer, node_id in named:
        if isinstance(node_id, str) and isinstance(source, str) and groups.get(node_id, source) != source:
            yield ctx.finding(pointer, f"node {node_id} is in instance group {groups[node_id]}, not {source}")


def _slurm_controller_groups(account, cluster) -> set[str]:
    """The groups of a Slurm cluster that run its controller: the API's own SlurmConfig
    (NodeType Controller), else the controller_group of the provisioning_parameters.json beside the
    group's lifecycle scripts (read as live.controller_parameters names them)."""
    if cluster.orchestrator == "Eks":
        return set()
    found = {name for name, record in cluster.groups.items()
             if isinstance(record.get("SlurmConfig"), dict) and record["SlurmConfig"].get("NodeType") == "Controller"}
    for bucket, key in controller_parameters(cluster):
        body = account.small_object(bucket, key)
        try:
            parameters = json.loads(body) if body else None
        except ValueError:  # PF423 says so when the request names it
            continue
        if isinstance(parameters, dict) and real(parameters.get("controller_group")):
            found.add(parameters["controller_group"])
    return found & set(cluster.groups)


@rule("PF463", "slurm-controller-removed", Severity.ERROR, kind="live", required=False, operations=CONTROLLER_CHANGES)
def slurm_controller_removed(ctx):
    """A node operation or an update that removes (or replaces) a Slurm cluster's controller node or group.

    ## Why is this bad?
    The API reference says that a Slurm cluster's controller nodes cannot be removed: a
    BatchDeleteClusterNodes naming one, or an UpdateCluster deleting the controller's group, is
    refused. Nor can the controller node be replaced (BatchReplaceClusterNodes, which would destroy
    its volumes and Slurm's state with them), nor a controller group scaled to no nodes (the
    multi-controller guide: "at least 1 controller node" per controller group, never 0). The
    controller group is the one the API configures as `Controller` (`SlurmConfig.NodeType`), else
    the `controller_group` of the `provisioning_parameters.json` beside its lifecycle scripts.

    ## Example
    ```json
    {"ClusterName": "slurm-cluster", "NodeIds": ["i-221e1dec52464550b"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "slurm-cluster", "NodeIds": ["i-c037e8555fbfeb30f"]}
    ```

    ## Source
    SageMaker API reference, `BatchDeleteClusterNodes` (`NodeIds`: "you cannot remove instances
    that are configured as Slurm controller nodes"), `BatchReplaceClusterNodes`, `ClusterSlurmConfig`;
    SageMaker Developer Guide, multiple controller nodes for Slurm, "Important notes"
    (sagemaker-hyperpod-multihead-slurm-notes); field reports of controller replacements refused;
    SageMaker `DescribeCluster`, `ListClusterNodes`.
    """
    name, cluster = _named_cluster(ctx)
    deleted = ctx.value("/InstanceGroupsToDelete") if ctx.operation == "update-cluster" else None
    emptied = emptied_groups(ctx)
    if cluster is None or ctx.operation == "update-cluster" and not (isinstance(deleted, list) and deleted or emptied):
        return
    controllers = _slurm_controller_groups(ctx.account, cluster)
    if not controllers:
        return
    if ctx.operation == "update-cluster":
        for index, group in enumerate(deleted if isinstance(deleted, list) else []):
            if string(group) in controllers:
                yield ctx.finding(f"/InstanceGroupsToDelete/{index}", f"{group} runs cluster {name}'s Slurm "
                                  "controller, whose nodes cannot be removed", "keep the controller group")
        for pointer, group in emptied:
            if string(group) in controllers:
                yield ctx.finding(f"{pointer}/InstanceCount", f"{group} runs cluster {name}'s Slurm controller "
                                  "and is scaled to 0 nodes; a controller group keeps at least one",
                                  "keep InstanceCount at 1 or more for the controller group")
        return
    groups = {node.id: node.group for node in _nodes(ctx, name)}
    groups.update({node.logical_id: node.group for node in _nodes(ctx, name) if node.logical_id})
    for member in ("NodeIds", "NodeLogicalIds"):
        ids = ctx.value(f"/{member}")
        for index, node_id in enumerate(ids if isinstance(ids, list) else []):
            if groups.get(string(node_id)) not in controllers:
                continue
            done = "removed" if ctx.operation == "batch-delete-cluster-nodes" else "replaced"
            yield ctx.finding(f"/{member}/{index}", f"node {node_id} is cluster {name}'s Slurm controller "
                              f"({groups[node_id]}), which cannot be {done}", "leave it out of the request; "
                              "a controller that misbehaves is rebooted (batch-reboot-cluster-nodes)")
