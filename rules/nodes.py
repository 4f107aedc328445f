"""PF140-PF148: the node operations (add, reboot, replace, move) and the instance-group members
that choose an image's release and its patching.

The schema rules already hold each member to the model's own bounds; these rules add what the
model's documentation says across members. Where the documentation and the shapes disagree, or
the sources say nothing about a combination, the finding says so as information instead of
guessing what the service does.
"""

from __future__ import annotations

import re

from preflight.findings import Severity
from preflight.registry import rule
from preflight.values import parse_arn, real

# Compiled on first use (re caches them): only the node operations need them.
INSTANCE_ID = r"i-[a-f0-9]{8}(?:[a-f0-9]{9})?"
SHORT_INSTANCE_ID = r"i-[a-f0-9]{8}"
REBOOT_REPLACE = ("batch-reboot-cluster-nodes", "batch-replace-cluster-nodes")
NODE_LISTS = ("NodeIds", "NodeLogicalIds")
REBOOT_REPLACE_LIMIT = 25
ADD_LIMIT = 50


def _request(ctx) -> dict:
    return ctx.request if isinstance(ctx.request, dict) else {}


def _strings(value) -> list[tuple[int, str]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)] if isinstance(value, list) else []


@rule("PF140", "nodes-not-chosen", Severity.ERROR, operations=REBOOT_REPLACE + ("move-cluster-nodes",))
def nodes_not_chosen(ctx):
    """A reboot or replace that names no node, or a move that does not choose its nodes exactly one way.

    ## Why is this bad?
    BatchRebootClusterNodes and BatchReplaceClusterNodes: "Either NodeIds or NodeLogicalIds must
    be provided (or both), but at least one is required." MoveClusterNodes: "Specify exactly one
    of NodeIds, NodeLogicalIds, or InstanceCount." The model marks none of them as required, so
    the schema alone lets such a request through to a ValidationException.

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}
    ```

    ## Source
    botocore service model (SageMaker), documentation of `BatchRebootClusterNodesRequest`,
    `BatchReplaceClusterNodesRequest` and `MoveClusterNodesRequest` `NodeIds`, `NodeLogicalIds`
    and `InstanceCount`.
    """
    request = _request(ctx)
    if ctx.operation == "move-cluster-nodes":
        given = [key for key in NODE_LISTS + ("InstanceCount",) if key in request]
        if len(given) != 1:
            yield ctx.finding(f"/{given[1]}" if len(given) > 1 else "",
                              f"a move chooses its nodes with exactly one of NodeIds, NodeLogicalIds or "
                              f"InstanceCount; {' and '.join(given) if given else 'none'} given",
                              "keep one of them")
    elif not any(key in request for key in NODE_LISTS):
        yield ctx.finding("", "no node named: give NodeIds, NodeLogicalIds or both",
                          "list the nodes' instance ids in NodeIds")


@rule("PF141", "node-batch-over-documented-limit", Severity.INFO, operations=REBOOT_REPLACE)
def node_batch_over_documented_limit(ctx):
    """A reboot or replace naming more than 25 nodes across NodeIds and NodeLogicalIds.

    ## Why is this bad?
    The operations' documentation: "You can reboot (replace) up to 25 nodes in a single
    request." The model's shapes bound each list to 25 on its own, so both together may hold 50.
    The sources do not say how the limit applies to the two lists combined, so this is
    information, not an error: split the request to be sure.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-00000000000000000", "i-00000000000000001", "i-00000000000000002",
     "i-00000000000000003", "i-00000000000000004", "i-00000000000000005", "i-00000000000000006",
     "i-00000000000000007", "i-00000000000000008", "i-00000000000000009", "i-0000000000000000a",
     "i-0000000000000000b", "i-0000000000000000c", "i-0000000000000000d", "i-0000000000000000e",
     "i-0000000000000000f", "i-00000000000000010", "i-00000000000000011", "i-00000000000000012",
     "i-00000000000000013"], "NodeLogicalIds": ["node-0", "node-1", "node-2", "node-3", "node-4", "node-5"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-00000000000000000", "i-00000000000000001"],
     "NodeLogicalIds": ["node-0", "node-1"]}
    ```

    ## Source
    botocore service model (SageMaker), `BatchRebootClusterNodes` and `BatchReplaceClusterNodes`
    documentation against the `max` of their `NodeIds` and `NodeLogicalIds` list shapes.
    """
    request = _request(ctx)
    total = sum(len(request[key]) for key in NODE_LISTS if isinstance(request.get(key), list))
    if total > REBOOT_REPLACE_LIMIT:
        verb = "reboot" if ctx.operation == "batch-reboot-cluster-nodes" else "replace"
        yield ctx.finding("/NodeLogicalIds" if "NodeLogicalIds" in request else "/NodeIds",
                          f"{total} nodes named; the documentation allows {verb} of up to {REBOOT_REPLACE_LIMIT} "
                          "nodes in one request, while the model's shapes allow 25 in each list",
                          f"split the {verb} into requests of at most {REBOOT_REPLACE_LIMIT} nodes")


@rule("PF142", "nodes-to-add-over-limit", Severity.ERROR, operations=("batch-add-cluster-nodes",))
def nodes_to_add_over_limit(ctx):
    """BatchAddClusterNodes adding more than 50 nodes in total across its instance groups.

    ## Why is this bad?
    Each `IncrementTargetCountBy` may be 1 to 50 and `NodesToAdd` may list 5 groups, so the shapes
    allow 250; the documentation of both members says the total across all groups in one request
    cannot exceed 50.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodesToAdd": [{"InstanceGroupName": "workers", "IncrementTargetCountBy": 40},
     {"InstanceGroupName": "inference", "IncrementTargetCountBy": 20}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodesToAdd": [{"InstanceGroupName": "workers", "IncrementTargetCountBy": 30},
     {"InstanceGroupName": "inference", "IncrementTargetCountBy": 20}]}
    ```

    ## Source
    botocore service model (SageMaker), `BatchAddClusterNodesRequest.NodesToAdd` and
    `AddClusterNodeSpecification.IncrementTargetCountBy` documentation.
    """
    groups = _request(ctx).get("NodesToAdd")
    counts = [g.get("IncrementTargetCountBy") for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []
    total = sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool))
    if total > ADD_LIMIT:
        yield ctx.finding("/NodesToAdd", f"{total} nodes added in one request; the total across instance "
                                         f"groups cannot exceed {ADD_LIMIT}",
                          f"split the addition into requests of at most {ADD_LIMIT} nodes")


@rule("PF143", "instance-id-as-logical-id", Severity.WARNING,
      operations=("batch-delete-cluster-nodes", "move-cluster-nodes") + REBOOT_REPLACE)
def instance_id_as_logical_id(ctx):
    """An EC2 instance id listed in `NodeLogicalIds`.

    ## Why is this bad?
    `NodeLogicalIds` take the logical ids HyperPod assigns (returned by BatchAddClusterNodes and
    listed by ListClusterNodes); instance ids belong in `NodeIds`. The logical-id pattern also
    matches `i-0123456789abcdef0`, so the schema lets the mix-up through and the call names a node
    that does not exist.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeLogicalIds": ["i-0123456789abcdef0"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}
    ```

    ## Source
    botocore service model (SageMaker), `NodeIds` ("EC2 instance IDs") and `NodeLogicalIds`
    documentation of the node operations; EC2 User Guide, "Resource IDs".
    """
    for index, value in _strings(_request(ctx).get("NodeLogicalIds")):
        if re.fullmatch(INSTANCE_ID, value):
            yield ctx.finding(f"/NodeLogicalIds/{index}", f"{value} is an EC2 instance id, not a node logical id",
                              "move it to NodeIds")


@rule("PF144", "short-instance-id", Severity.INFO,
      operations=("batch-delete-cluster-nodes", "move-cluster-nodes", "attach-cluster-node-volume",
                  "detach-cluster-node-volume", "attach-cluster-node-network-interface") + REBOOT_REPLACE)
def short_instance_id(ctx):
    """A node id in the old 8-digit form (`i-01234567`): the model's pattern and its documentation disagree.

    ## Why is this bad?
    The model's `ClusterNodeId` pattern admits `i-` with 8 or 17 hexadecimal digits; the reboot and
    replace documentation says an instance id "must follow the pattern i- followed by 17
    hexadecimal characters". EC2 has issued 17-digit ids since 2016, so an 8-digit id is most often
    a truncated one; whether the service accepts it is not documented.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-01234567"]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}
    ```

    ## Source
    botocore service model (SageMaker), `ClusterNodeId` pattern against the
    `BatchRebootClusterNodesRequest.NodeIds` documentation; EC2 User Guide, "Resource IDs".
    """
    request = _request(ctx)
    named = [(f"/NodeIds/{i}", v) for i, v in _strings(request.get("NodeIds"))]
    if isinstance(request.get("NodeId"), str):
        named.append(("/NodeId", request["NodeId"]))
    for pointer, value in named:
        if re.fullmatch(SHORT_INSTANCE_ID, value):
            yield ctx.finding(pointer, f"{value} has 8 hexadecimal digits; the documentation asks for 17, "
                                       "the model's pattern admits both",
                              "check the full instance id with ListClusterNodes")


@rule("PF145", "move-within-one-group", Severity.ERROR, operations=("move-cluster-nodes",))
def move_within_one_group(ctx):
    """A move whose target is its own source instance group.

    ## Why is this bad?
    "If the target cluster is the same as the source cluster, the target instance group must be
    different from the source instance group."

    ## Example
    ```json
    {"SourceClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "SourceInstanceGroupName": "workers", "InstanceCount": 2,
     "TargetClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "TargetInstanceGroupName": "workers"}
    ```

    ## Use instead
    ```json
    {"SourceClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "SourceInstanceGroupName": "workers", "InstanceCount": 2,
     "TargetClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "TargetInstanceGroupName": "inference"}
    ```

    ## Source
    botocore service model (SageMaker), `MoveClusterNodesRequest.TargetInstanceGroupName` documentation.
    """
    request = _request(ctx)
    source, target = real(request.get("SourceClusterArn")), real(request.get("TargetClusterArn"))
    group = real(request.get("SourceInstanceGroupName"))
    if source and source == target and group and group == request.get("TargetInstanceGroupName"):
        yield ctx.finding("/TargetInstanceGroupName", f"the nodes would move from instance group `{group}` to itself",
                          "name another instance group as the target")


@rule("PF146", "move-across-accounts-or-regions", Severity.ERROR, operations=("move-cluster-nodes",))
def move_across_accounts_or_regions(ctx):
    """A move between clusters in different accounts or Regions.

    ## Why is this bad?
    "The target cluster must be in the same account and Region as the source cluster."

    ## Example
    ```json
    {"SourceClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "SourceInstanceGroupName": "workers", "InstanceCount": 2,
     "TargetClusterArn": "arn:aws:sagemaker:us-west-2:444455556666:cluster/fedcba654321",
     "TargetInstanceGroupName": "workers"}
    ```

    ## Use instead
    ```json
    {"SourceClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/abcdef123456",
     "SourceInstanceGroupName": "workers", "InstanceCount": 2,
     "TargetClusterArn": "arn:aws:sagemaker:us-east-1:444455556666:cluster/fedcba654321",
     "TargetInstanceGroupName": "workers"}
    ```

    ## Source
    botocore service model (SageMaker), `MoveClusterNodesRequest.TargetClusterArn` documentation.
    """
    request = _request(ctx)
    source, target = parse_arn(request.get("SourceClusterArn")), parse_arn(request.get("TargetClusterArn"))
    if source and target:
        for what, a, b in (("account", source.account, target.account), ("Region", source.region, target.region)):
            if a != b:
                yield ctx.finding("/TargetClusterArn", f"the target cluster is in {what} {b}, the source in {a}",
                                  f"move nodes only between clusters of one account and Region")


def _image_choices(ctx):
    """(group pointer, group, the group's custom AMI id or None) for each instance group; a software
    update's top-level ImageId applies to the groups it names."""
    top = real(ctx.value("/ImageId")) if ctx.operation == "update-cluster-software" else None
    for pointer, group in ctx.instance_groups():
        image = real(group.get("ImageId")) or top
        yield pointer, group, image if image and image.startswith("ami-") else None


@rule("PF147", "release-version-with-custom-ami", Severity.INFO,
      operations=("create-cluster", "update-cluster", "update-cluster-software"))
def release_version_with_custom_ami(ctx):
    """`ImageReleaseVersion` on an instance group that runs a custom AMI: the sources do not say which wins.

    ## Why is this bad?
    `ImageReleaseVersion` is "the version of the HyperPod-managed AMI to use for the instance
    group"; an `ImageId` of `ami-...` is your own AMI (or a HyperPod public one by id). The model
    and the HyperPod guide document neither a rule for giving both nor which one the service
    applies, so preflight does not guess: with a custom AMI, the release version is most likely
    ignored or refused.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution", "ImageId": "ami-0123456789abcdef0",
     "ImageReleaseVersion": "1.2.3"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    botocore service model (SageMaker), `ClusterInstanceGroupSpecification.ImageReleaseVersion` and
    `ImageId`, `UpdateClusterSoftwareInstanceGroupSpecification.ImageReleaseVersion`; silent on the
    combination, as is the HyperPod guide's "Update your AMI version" page.
    """
    for pointer, group, image in _image_choices(ctx):
        if image and real(group.get("ImageReleaseVersion")):
            yield ctx.finding(f"{pointer}/ImageReleaseVersion",
                              f"release {group['ImageReleaseVersion']} of the HyperPod-managed AMI is asked for a "
                              f"group that runs {image}; the documentation does not say which applies",
                              "drop ImageReleaseVersion for a custom AMI, or drop the ImageId to use HyperPod's")


@rule("PF148", "auto-patch-on-custom-ami", Severity.INFO, operations=("create-cluster", "update-cluster"))
def auto_patch_on_custom_ami(ctx):
    """`AutoPatchConfig` on an instance group that runs a custom AMI: the sources do not say what it patches.

    ## Why is this bad?
    Automatic patching applies "security patch AMI updates", patch-level releases of the
    HyperPod-managed AMI (the `ImageReleaseVersion` line). The model and the auto-patching guide
    do not say what it does on a group that runs your own AMI: whether it is refused, ignored, or
    replaces your image with HyperPod's. preflight does not guess; check before relying on it.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution", "ImageId": "ami-0123456789abcdef0",
     "AutoPatchConfig": {"PatchingStrategy": "WhenIdle"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution", "ImageId": "default",
     "AutoPatchConfig": {"PatchingStrategy": "WhenIdle"}}]}
    ```

    ## Source
    botocore service model (SageMaker), `ClusterAutoPatchConfig` and
    `ClusterInstanceGroupSpecification.AutoPatchConfig`; HyperPod developer guide, "Amazon
    SageMaker HyperPod AMI automatic patching" (silent on custom AMIs).
    """
    for pointer, group, image in _image_choices(ctx):
        if image and isinstance(group.get("AutoPatchConfig"), dict):
            yield ctx.finding(f"{pointer}/AutoPatchConfig",
                              f"automatic patching is asked for a group that runs custom AMI {image}; the "
                              "documentation covers only HyperPod-managed AMIs",
                              "patch the custom AMI yourself and roll it out with update-cluster-software")
