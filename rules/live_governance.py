"""PF470-PF471: what a scheduler config or extension request names, against the account (``--live``).

An update or deletion of a scheduler config names only the config: DescribeClusterSchedulerConfig
is the one read of what it changes (and of its cluster, for the plan). An extension is read with
DescribeClusterExtension on the cluster the request names.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import extension_arns, scheduler_config_id
from preflight.registry import rule


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
