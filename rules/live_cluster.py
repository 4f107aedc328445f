"""PF400, PF401 and PF45x: the live run's own verdicts, and the cluster a request changes (``--live``).

PF400/PF401 are reported by the engine when a lookup fails: required checks fail closed (exit 3),
advisory ones warn. The PF45x rules compare an update, a software update or a deletion with the
cluster as it is.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import UPDATES
from preflight.registry import rule
from preflight.values import real


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
    name = real(ctx.value("/ClusterName"))
    return name, ctx.account.cluster(name) if name else None


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
        yield ctx.finding("/ClusterName", f"cluster {name} does not exist in {ctx.account.region}")


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


@rule("PF452", "software-update-touches-groups", Severity.INFO, kind="live", required=False,
      operations=("update-cluster-software", "update-cluster"))
def software_update_touches_groups(ctx):
    """Which existing instance groups this update will touch.

    ## Why is this bad?
    Informational: a software update without `InstanceGroups` touches every group; a cluster
    update replaces the named groups' settings. Knowing which groups change avoids surprises.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "no-such-cluster", "ImageId": "default"}
    ```

    ## Source
    Seed guide, "Actualización del software de clúster".
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    named = [g.get("InstanceGroupName") for _, g in ctx.instance_groups()]
    touched = sorted(cluster.groups) if ctx.operation == "update-cluster-software" and not named \
        else sorted(n for n in named if n in cluster.groups)
    added = sorted(n for n in named if isinstance(n, str) and n not in cluster.groups)
    message = f"touches existing instance groups: {', '.join(touched) or 'none'}"
    if added and ctx.operation == "update-cluster":
        message += f"; adds: {', '.join(added)}"
    yield ctx.finding("", message)


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
    named = [g.get("InstanceGroupName") for _, g in ctx.instance_groups()] or list(cluster.groups)
    for group_name in named:
        image = (cluster.groups.get(group_name) or {}).get("CurrentImageId")
        if image and image.startswith("ami-"):
            yield ctx.finding("", f"instance group {group_name} runs custom AMI {image}, and no ImageId is given",
                              "add ImageId: the new custom AMI, or default")
