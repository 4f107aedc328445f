"""PF470-PF472: what a scheduler config, extension or node move request names, against the account (``--live``).

An update or deletion of a scheduler config names only the config: DescribeClusterSchedulerConfig
is the one read of what it changes (and of its cluster, for the plan). An extension is read with
DescribeClusterExtension on the cluster the request names.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import extension_arns, scheduler_config_id
from preflight.registry import rule
from preflight.values import real


@rule("PF470", "scheduler-config-missing", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-scheduler-config", "delete-cluster-scheduler-config"))
def scheduler_config_missing(ctx):
    """An update or deletion of a scheduler config that does not exist.

    ## Why is this bad?
    The call fails with ResourceNotFound: usually an id from another region or account, or a
    config already deleted. The request names only the config, so this is the one check of what
    it changes.

    ## Example
    ```json
    {"ClusterSchedulerConfigId": "0123456789ab", "TargetVersion": 1, "SchedulerConfig": {"FairShare": "Disabled"}}
    ```

    ## Use instead
    ```json
    {"ClusterSchedulerConfigId": "a1b2c3d4e5f6", "TargetVersion": 1, "SchedulerConfig": {"FairShare": "Disabled"}}
    ```

    ## Source
    SageMaker `DescribeClusterSchedulerConfig`, `UpdateClusterSchedulerConfig`, `DeleteClusterSchedulerConfig`.
    """
    identifier = scheduler_config_id(ctx)
    if identifier and ctx.account.scheduler_config(identifier) is None:
        yield ctx.finding("/ClusterSchedulerConfigId",
                          f"scheduler config {identifier} does not exist in {ctx.account.region}")


@rule("PF471", "cluster-extension-missing", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-extension", "delete-cluster-extension"))
def cluster_extension_missing(ctx):
    """An update or deletion of an extension the cluster does not have, or an update of one being deleted.

    ## Why is this bad?
    The call fails: ResourceNotFound for an extension that is not installed on the cluster (an ARN
    of another cluster, or one already removed; a re-created extension has a new ARN), and an
    extension cannot be updated while it is being deleted.

    ## Example
    ```json
    {"ClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/0e8334e02d39", "ExtensionArn": "arn:aws:sagemaker:us-east-1:444455556666:extension/sagemaker-observability/0e8334e02d39/0000000000"}
    ```

    ## Use instead
    ```json
    {"ClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/0e8334e02d39", "ExtensionArn": "arn:aws:sagemaker:us-east-1:444455556666:extension/sagemaker-observability/0e8334e02d39/a1b2c3d4e5"}
    ```

    ## Source
    SageMaker `DescribeClusterExtension`, `UpdateClusterExtension`, `DeleteClusterExtension`.
    """
    named = extension_arns(ctx)
    if not named or ctx.account.cluster(named[0]) is None:  # PF450 says the cluster does not exist
        return
    extension = ctx.account.cluster_extension(*named)
    if extension is None:
        yield ctx.finding("/ExtensionArn", f"cluster {named[0]} has no extension {named[1]}")
    elif extension.status == "Deleting" and ctx.operation == "update-cluster-extension":
        yield ctx.finding("/ExtensionArn", f"extension {extension.name} is being deleted: it cannot be updated")


# What an operation needs of the clusters it names, as its documentation says: an orchestrator, and
# NodeProvisioningMode Continuous.
ORCHESTRATION = {"create-cluster-extension": ("Slurm", ("/ClusterArn",)),
                 "move-cluster-nodes": ("Eks", ("/SourceClusterArn", "/TargetClusterArn"))}


@rule("PF472", "cluster-orchestration-unsupported", Severity.ERROR, kind="live", required=True,
      operations=tuple(ORCHESTRATION))
def cluster_orchestration_unsupported(ctx):
    """An extension on a cluster not orchestrated by Slurm, or a node move between clusters not orchestrated by EKS.

    ## Why is this bad?
    The service refuses it: CreateClusterExtension needs a Slurm-orchestrated cluster, and
    MoveClusterNodes two EKS-orchestrated ones, each with NodeProvisioningMode `Continuous`. A
    cluster DescribeCluster shows with another orchestrator is an error (one that names none is
    Slurm-orchestrated); one it does not show in `Continuous` mode is a warning.

    ## Example
    ```json
    {"ClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/9076b5aa2c3a", "ExtensionName": "sagemaker-observability"}
    ```

    ## Use instead
    ```json
    {"ClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/0e8334e02d39", "ExtensionName": "sagemaker-observability"}
    ```

    ## Source
    SageMaker `CreateClusterExtension` and `MoveClusterNodes` (their documentation), `DescribeCluster`.
    """
    needed, members = ORCHESTRATION[ctx.operation]
    named = {}
    for pointer in members:
        named.setdefault(real(ctx.value(pointer)), pointer)  # a move within one cluster names it twice
    for arn, pointer in named.items():
        cluster = ctx.account.cluster(arn) if arn else None
        if cluster is None:  # PF450 says so of the cluster a request acts on
            continue
        orchestrator = cluster.orchestrator or "Slurm"
        if orchestrator != needed:
            yield ctx.finding(pointer, f"{ctx.operation} needs a cluster orchestrated by {needed}; {arn} is "
                                       f"orchestrated by {orchestrator}")
        elif cluster.provisioning_mode != "Continuous":
            yield ctx.finding(pointer, f"{ctx.operation} needs NodeProvisioningMode Continuous; DescribeCluster does "
                                       f"not show it for {arn}", severity=Severity.WARNING)
