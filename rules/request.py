"""PF110-PF129: request rules written in prose (model documentation, HyperPod custom AMI guide), not in the shapes."""

from __future__ import annotations

from collections import Counter

from preflight.findings import Severity
from preflight.pointers import escape
from preflight.registry import rule
from preflight.values import Unresolved, arns_in, parse_arn, placeholder, real, strings, unwrapped

@rule("PF110", "placeholder-left-in-value", Severity.ERROR)
def placeholder_left_in_value(ctx):
    """A placeholder such as `<exampleClusterName>` or `${BUCKET}` left in a value.

    ## Why is this bad?
    Documentation examples and templates are meant to be filled in; copied as they are, every
    `<...>`, `${VAR}`, `$VAR`, `{{...}}`, `REPLACE_ME` or `your-...` reaches the API as a literal
    value. The other checks of that value are skipped: it has yet to be written. A key that is
    wrong is still reported (PF102) whatever it holds.

    ## Example
    ```json
    {"ClusterName": "<exampleClusterName>"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    HyperPod custom AMI guide, every example request.
    """
    for pointer, value in strings(ctx.request):
        text = placeholder(value)
        if text:
            inner = unwrapped(value)
            fix = (f"remove the angle brackets: {inner}" if value == f"<{inner}>" and parse_arn(inner)
                   else "replace the placeholder with the real value")
            yield ctx.finding(pointer, f"placeholder {text} left in the value", fix)


@rule("PF111", "iam-arn-with-region", Severity.ERROR)
def iam_arn_with_region(ctx):
    """An IAM ARN with a region: IAM is global and its ARNs have an empty region field.

    ## Why is this bad?
    `arn:aws:iam:us-east-1:444455556666:role/Admin` names no role; the service rejects it. The
    HyperPod custom AMI guide's customer managed key example has this mistake.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam:us-east-1:444455556666:role/Admin"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/Admin"}]}
    ```

    ## Source
    IAM User Guide, "IAM ARNs"; HyperPod custom AMI guide, "Customer managed key example".
    """
    for pointer, value in strings(ctx.request):
        for arn in arns_in(value):
            if arn.service == "iam" and arn.region:
                corrected = f"arn:{arn.partition}:iam::{arn.account}:{arn.resource}"
                yield ctx.finding(pointer, f"IAM ARN {arn.text} has region {arn.region!r}; IAM ARNs have none",
                                  f"write {corrected}")


@rule("PF112", "duplicate-instance-group-name", Severity.ERROR)
def duplicate_instance_group_name(ctx):
    """Two instance groups with one name, across `InstanceGroups` and `RestrictedInstanceGroups`.

    ## Why is this bad?
    Group names identify groups in the cluster; the service rejects a request that repeats one.
    The HyperPod custom AMI guide's "add an instance group" example relies on distinct names.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [
     {"InstanceGroupName": "workers", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R"},
     {"InstanceGroupName": "workers", "InstanceCount": 2, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [
     {"InstanceGroupName": "workers", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R"},
     {"InstanceGroupName": "workers-2", "InstanceCount": 2, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Source
    SageMaker API reference, `ClusterInstanceGroupSpecification`.
    """
    first: dict[str, str] = {}
    for pointer, group in ctx.instance_groups():
        name = group.get("InstanceGroupName")
        if not isinstance(name, str):
            continue
        if name in first:
            yield ctx.finding(f"{pointer}/InstanceGroupName",
                              f"instance group name {name!r} is already used at {first[name]}",
                              "give each instance group its own name")
        else:
            first[name] = pointer


@rule("PF113", "orchestrator-not-exactly-one", Severity.ERROR, operations=("create-cluster", "update-cluster"))
def orchestrator_not_exactly_one(ctx):
    """`Orchestrator` given with no configuration or with both `Eks` and `Slurm`.

    ## Why is this bad?
    The model documentation: "you must provide exactly one orchestrator configuration: either Eks or
    Slurm. Specifying both or providing an empty configuration returns a validation error."

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}}}
    ```

    ## Source
    botocore service model, `CreateClusterRequest.Orchestrator` documentation.
    """
    orchestrator = ctx.value("/Orchestrator")
    if isinstance(orchestrator, dict):
        given = [name for name in ("Eks", "Slurm") if name in orchestrator]
        if len(given) != 1:
            yield ctx.finding("/Orchestrator", f"Orchestrator gives {len(given)} configurations "
                              f"({', '.join(given) or 'none'}); exactly one of Eks or Slurm is required")


@rule("PF114", "instance-type-choice", Severity.ERROR, operations=("create-cluster", "update-cluster"))
def instance_type_choice(ctx):
    """An instance group with both `InstanceType` and `InstanceRequirements`, or (on create) neither.

    ## Why is this bad?
    The model: "The InstanceType and InstanceRequirements properties are mutually exclusive." A new
    group with neither has no instance type at all.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceType": "ml.c5.2xlarge",
     "InstanceRequirements": {"InstanceTypes": ["ml.c5.2xlarge"]}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceType": "ml.c5.2xlarge"}]}
    ```

    ## Source
    botocore service model, `ClusterInstanceGroupSpecification.InstanceRequirements` documentation.
    """
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        has_type, has_requirements = "InstanceType" in group, "InstanceRequirements" in group
        if has_type and has_requirements:
            yield ctx.finding(f"{pointer}/InstanceRequirements",
                              "InstanceType and InstanceRequirements are both given; they are mutually exclusive",
                              "keep InstanceType for one type, or InstanceRequirements for several")
        elif not has_type and not has_requirements and ctx.operation == "create-cluster":
            yield ctx.finding(pointer, "instance group gives neither InstanceType nor InstanceRequirements",
                              "add InstanceType, such as ml.c5.2xlarge")


@rule("PF115", "continuous-provisioning-without-eks", Severity.INFO, operations=("create-cluster",))
def continuous_provisioning_without_eks(ctx):
    """`NodeProvisioningMode: Continuous` on a Slurm cluster: the model's documentation and the newer Developer Guide disagree.

    ## Why is this bad?
    It is not, by the newer source. The service model's documentation of `NodeProvisioningMode`
    says continuous provisioning "is only supported for EKS orchestrated clusters"; the SageMaker
    Developer Guide's later page "Continuous provisioning for enhanced cluster operations with
    Slurm" documents it for new Slurm-orchestrated clusters (set `NodeProvisioningMode` to
    `Continuous` in CreateCluster; existing clusters cannot be migrated). preflight follows the
    newer source and says that the older one disagrees, as information: never an error, since a
    customer managed key on the cluster's volumes needs this mode (PF205).

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeProvisioningMode": "Continuous", "Orchestrator": {"Slurm": {}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeProvisioningMode": "Continuous",
     "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}}}
    ```

    ## Source
    SageMaker Developer Guide, "Continuous provisioning for enhanced cluster operations with Slurm"
    (sagemaker-hyperpod-scaling-slurm), the newer; botocore service model,
    `CreateClusterRequest.NodeProvisioningMode` documentation, the older.
    """
    request = ctx.request if isinstance(ctx.request, dict) else {}
    orchestrator = request.get("Orchestrator")
    if request.get("NodeProvisioningMode") == "Continuous" and isinstance(orchestrator, dict) \
            and "Slurm" in orchestrator and "Eks" not in orchestrator:
        yield ctx.finding("/NodeProvisioningMode", "continuous provisioning on a Slurm cluster: the SageMaker "
                          "Developer Guide documents it for new Slurm clusters; the API model's older text says "
                          "EKS only")


@rule("PF116", "min-count-above-count", Severity.ERROR, operations=("create-cluster", "update-cluster"))
def min_count_above_count(ctx):
    """`MinInstanceCount` greater than the group's `InstanceCount`.

    ## Why is this bad?
    The group can never reach its minimum; after three hours it rolls back.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "MinInstanceCount": 4, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 4,
     "MinInstanceCount": 4, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Source
    botocore service model, `ClusterInstanceGroupSpecification.MinInstanceCount` documentation.
    """
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        count, minimum = group.get("InstanceCount"), group.get("MinInstanceCount")
        if type(count) is int and type(minimum) is int and minimum > count:
            yield ctx.finding(f"{pointer}/MinInstanceCount",
                              f"MinInstanceCount {minimum} exceeds InstanceCount {count}")


@rule("PF117", "group-updated-and-deleted", Severity.ERROR, operations=("update-cluster",))
def group_updated_and_deleted(ctx):
    """An instance group both specified in `InstanceGroups` and listed in `InstanceGroupsToDelete`.

    ## Why is this bad?
    The request contradicts itself: one group cannot be scaled and deleted in one update.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroupsToDelete": ["workers"], "InstanceGroups": [
     {"InstanceGroupName": "workers", "InstanceCount": 2, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroupsToDelete": ["old-workers"], "InstanceGroups": [
     {"InstanceGroupName": "workers", "InstanceCount": 2, "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Source
    SageMaker API reference, `UpdateCluster`.
    """
    doomed = ctx.value("/InstanceGroupsToDelete")
    if not isinstance(doomed, list):
        return
    for index, name in enumerate(doomed):
        for pointer, group in ctx.instance_groups():
            if isinstance(name, str) and group.get("InstanceGroupName") == name:
                yield ctx.finding(f"/InstanceGroupsToDelete/{index}",
                                  f"instance group {name!r} is deleted and also specified at {pointer}")


@rule("PF118", "autoscaling-without-cluster-role", Severity.ERROR, operations=("create-cluster",))
def autoscaling_without_cluster_role(ctx):
    """Autoscaling enabled on a new cluster without `ClusterRole`.

    ## Why is this bad?
    The model: `ClusterRole` is the role HyperPod assumes for autoscaling, "required when
    autoscaling is enabled"; it needs `sagemaker:BatchAddClusterNodes` and
    `sagemaker:BatchDeleteClusterNodes`.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "AutoScaling": {"Mode": "Enable"}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "AutoScaling": {"Mode": "Enable"},
     "ClusterRole": "arn:aws:iam::444455556666:role/HyperPodAutoscaling"}
    ```

    ## Source
    botocore service model, `CreateClusterRequest.ClusterRole` documentation.
    """
    request = ctx.request if isinstance(ctx.request, dict) else {}
    scaling = request.get("AutoScaling")
    if isinstance(scaling, dict) and scaling.get("Mode") == "Enable" and "ClusterRole" not in request:
        yield ctx.finding("/AutoScaling/Mode", "autoscaling is enabled but no ClusterRole is given",
                          "add ClusterRole, a role HyperPod can assume for autoscaling")


@rule("PF131", "autoscaling-without-continuous-eks", Severity.WARNING, operations=("create-cluster",))
def autoscaling_without_continuous_eks(ctx):
    """Autoscaling enabled on a new cluster that is not EKS-orchestrated with `NodeProvisioningMode: Continuous`.

    ## Why is this bad?
    HyperPod's managed autoscaling is Karpenter watching the EKS cluster's pending pods: the Developer
    Guide offers it "for clusters created with EKS orchestration" and says it "is built on
    HyperPod's continuous provisioning capabilities". A Slurm cluster (an `Orchestrator` of `Slurm`,
    or none, which is Slurm) has no Kubernetes for Karpenter to watch, and an EKS cluster
    without `Continuous` lacks what the autoscaler is built on. The API reference states neither
    as a rule of the request, so this is a warning: the create may be refused, or succeed with
    nodes that never scale.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "AutoScaling": {"Mode": "Enable", "AutoScalerType": "Karpenter"},
     "ClusterRole": "arn:aws:iam::444455556666:role/HyperPodAutoscaling", "Orchestrator": {"Slurm": {}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "AutoScaling": {"Mode": "Enable", "AutoScalerType": "Karpenter"},
     "ClusterRole": "arn:aws:iam::444455556666:role/HyperPodAutoscaling", "NodeProvisioningMode": "Continuous",
     "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}}}
    ```

    ## Source
    SageMaker Developer Guide, "Autoscaling on SageMaker HyperPod EKS"
    (sagemaker-hyperpod-eks-autoscaling); botocore service model, `ClusterAutoScalingConfig`.
    """
    request = ctx.request if isinstance(ctx.request, dict) else {}
    scaling = request.get("AutoScaling")
    if not (isinstance(scaling, dict) and scaling.get("Mode") == "Enable"):
        return
    orchestrator, mode = request.get("Orchestrator"), request.get("NodeProvisioningMode")
    if isinstance(orchestrator, Unresolved):
        return  # known only at deployment
    if not (isinstance(orchestrator, dict) and "Eks" in orchestrator):
        yield ctx.finding("/AutoScaling/Mode", "autoscaling is enabled on a Slurm cluster: HyperPod's Karpenter "
                          "autoscaling runs on EKS-orchestrated clusters only",
                          "orchestrate the cluster with EKS (Orchestrator.Eks), or scale it with update-cluster")
    elif mode is None or real(mode) and mode != "Continuous":
        yield ctx.finding("/AutoScaling/Mode", "autoscaling is enabled without NodeProvisioningMode Continuous, "
                          "on which HyperPod's autoscaling is built",
                          "add \"NodeProvisioningMode\": \"Continuous\"")


@rule("PF119", "node-deletion-limits", Severity.ERROR, operations=("batch-delete-cluster-nodes",))
def node_deletion_limits(ctx):
    """BatchDeleteClusterNodes with no node at all, or more than the documented 50 identifiers.

    ## Why is this bad?
    The model documentation: "You must specify either NodeLogicalIds, InstanceIds, or both, with a
    combined maximum of 50 identifiers." The Developer Guide's scale-down page allows "a maximum of
    99 instances at a time", and the model's shapes more still (3000 `NodeIds`, 99
    `NodeLogicalIds`). The sources disagree, so a count over 50 is a warning; over 99, beyond both
    documented limits, it is an error.

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeIds": ["i-0123456789abcdef0"]}
    ```

    ## Source
    botocore service model, `BatchDeleteClusterNodesRequest.NodeLogicalIds` documentation;
    SageMaker Developer Guide, "Scale down a SageMaker HyperPod cluster" (smcluster-scale-down).
    """
    request = ctx.request if isinstance(ctx.request, dict) else {}
    lists = [request.get(key) for key in ("NodeIds", "NodeLogicalIds")]
    total = sum(len(ids) for ids in lists if isinstance(ids, list))
    where = "/NodeIds" if "NodeIds" in request else "/NodeLogicalIds"
    if all(ids is None for ids in lists) and not ctx.partial:
        yield ctx.finding("", "no node to delete: neither NodeIds nor NodeLogicalIds is given")
    elif total > 99:
        yield ctx.finding(where, f"{total} node identifiers; the model's documentation allows 50 in one call and "
                          "the Developer Guide 99", "split the deletion into calls of at most 50 nodes")
    elif total > 50:
        yield ctx.finding(where, f"{total} node identifiers; the documentation allows 50 in one call "
                          "(the Developer Guide 99, the model's shapes more)",
                          "split the deletion into calls of at most 50 nodes", severity=Severity.WARNING)


@rule("PF120", "wrong-resource-id-kind", Severity.ERROR, operations=("create-cluster", "update-cluster"))
def wrong_resource_id_kind(ctx):
    """A subnet id among the security groups, or the other way round.

    ## Why is this bad?
    The model's patterns accept any `[-0-9a-zA-Z]+`; EC2 security group ids start with `sg-` and
    subnet ids with `subnet-`, and the service rejects the other kind.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["subnet-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    Amazon EC2 User Guide, "Resource IDs".
    """
    for pointer, key, value, prefix in _network_ids(ctx):
        if isinstance(value, str) and value and not placeholder(value) and not value.startswith(prefix):
            yield ctx.finding(pointer, f"{value!r} in {key} does not start with {prefix}",
                              f"{key} takes ids of the form {prefix}0123456789abcdef0")


def _network_ids(ctx):
    """(pointer, member, value, the prefix its ids have) of each security group and subnet the
    request's VpcConfig and its groups' OverrideVpcConfig name."""
    configs = [("/VpcConfig", ctx.value("/VpcConfig"))]
    configs += [(f"{p}/OverrideVpcConfig", g.get("OverrideVpcConfig")) for p, g in ctx.instance_groups()]
    for base, config in configs:
        for key, prefix in (("SecurityGroupIds", "sg-"), ("Subnets", "subnet-")):
            ids = config.get(key) if isinstance(config, dict) else None
            for index, value in enumerate(ids if isinstance(ids, list) else ()):
                yield f"{base}/{key}/{index}", key, value, prefix


HEX_DIGITS = frozenset("0123456789abcdef")  # after an EC2 id's prefix: 8 of them (older ids) or 17


@rule("PF130", "malformed-ec2-id", Severity.ERROR,
      operations=("create-cluster", "update-cluster", "update-cluster-software"))
def malformed_ec2_id(ctx):
    """A subnet, security group or AMI id that is not its prefix and 8 or 17 hexadecimal digits.

    ## Why is this bad?
    EC2's resource ids are a prefix and a hexadecimal string of 8 characters (older resources) or
    17. The request's patterns let through any letters and digits for subnets and security groups,
    and any length from 8 to 17 for an AMI, so a digit dropped or added in a copy reaches the
    service, which refuses it as malformed (`InvalidSubnetID.Malformed`, `InvalidGroupId.Malformed`,
    `InvalidAMIID.Malformed`). An id of the wrong kind is PF120's, a placeholder PF110's, and one
    the pattern refuses already PF106's.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-1234567"],
     "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    Amazon EC2 User Guide, "Resource IDs" (8 characters, 17 since the longer ids); EC2 API
    reference, common client errors (the `.Malformed` codes).
    """
    named = [(pointer, value, prefix) for pointer, _, value, prefix in _network_ids(ctx)]
    named += [(f"{p}/ImageId", g.get("ImageId"), "ami-") for p, g in ctx.instance_groups()]
    named.append(("/ImageId", ctx.value("/ImageId"), "ami-"))
    refused = {violation.pointer for violation in ctx.violations() if violation.kind == "pattern"}
    for pointer, value, prefix in named:
        if not (isinstance(value, str) and value.startswith(prefix) and not placeholder(value)
                and pointer not in refused):
            continue
        rest = value[len(prefix):]
        found = f"{len(rest)} characters" if len(rest) not in (8, 17) else \
            "characters that are not hexadecimal" if not set(rest.lower()) <= HEX_DIGITS else None
        if found:
            yield ctx.finding(pointer, f"{value!r} is not an EC2 id: after {prefix} EC2 ids have 8 or 17 "
                              f"hexadecimal digits, this one {found}",
                              f"copy the id whole from EC2 (such as {prefix}0123456789abcdef0)")


@rule("PF121", "roles-from-several-accounts", Severity.WARNING, operations=("create-cluster", "update-cluster"))
def roles_from_several_accounts(ctx):
    """Execution roles (and `ClusterRole`) from more than one AWS account in one request.

    ## Why is this bad?
    A caller can pass (`iam:PassRole`) only roles of its own account, so at most one of the
    accounts can work. The HyperPod custom AMI guide grants PassRole on a role in 111122223333 while its examples
    run roles of 444455556666.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [
     {"InstanceGroupName": "a", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R"},
     {"InstanceGroupName": "b", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::111122223333:role/R"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [
     {"InstanceGroupName": "a", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R"},
     {"InstanceGroupName": "b", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R2"}]}
    ```

    ## Source
    IAM User Guide, "Grant a user permissions to pass a role to an AWS service".
    """
    accounts: dict[str, str] = {}
    for pointer, value in ctx.roles():
        arn = parse_arn(value)
        if arn and arn.account:
            if accounts and arn.account not in accounts:
                first_account, first_pointer = next(iter(accounts.items()))
                yield ctx.finding(pointer, f"role {arn.text} is in account {arn.account}, "
                                  f"but {first_pointer} is in {first_account}",
                                  "use roles of the account that runs the cluster")
            accounts.setdefault(arn.account, pointer)


@rule("PF122", "regions-differ", Severity.ERROR, operations=("create-cluster", "update-cluster"))
def regions_differ(ctx):
    """Regional ARNs in one request (EKS cluster, KMS keys, training plans) name different regions.

    ## Why is this bad?
    A HyperPod cluster lives in one region: its EKS orchestrator, the KMS keys of its volumes and its
    training plans must be in that region too.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-west-2:444455556666:cluster/ml"}},
     "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100,
     "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}},
     "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100,
     "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    Amazon EKS, AWS KMS and EBS: keys and clusters are regional resources.
    """
    first: tuple[str, str] | None = None
    for pointer, value in strings(ctx.request):
        arn = parse_arn(value)
        if not arn or not arn.region or arn.service not in ("eks", "kms", "sagemaker"):
            continue
        if first is None:
            first = (arn.region, pointer)
        elif arn.region != first[0]:
            yield ctx.finding(pointer, f"{arn.text} is in {arn.region}, but {first[1]} is in {first[0]}",
                              "use resources of the cluster's region")


@rule("PF123", "duplicate-list-entry", Severity.WARNING)
def duplicate_list_entry(ctx):
    """The same subnet, security group, node id or group name twice in one list.

    ## Why is this bad?
    A repeated entry is at best ignored and often a copy-paste slip where another value was meant.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]}}
    ```

    ## Source
    SageMaker API reference, `VpcConfig`, `BatchDeleteClusterNodes`.
    """
    for pointer, value in _string_lists(ctx.request, ""):
        seen = Counter()
        for index, item in enumerate(value):
            if isinstance(item, str):
                seen[item] += 1
                if seen[item] == 2:
                    yield ctx.finding(f"{pointer}/{index}", f"{item!r} appears more than once in this list")


def _string_lists(node, path: str):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _string_lists(value, f"{path}/{escape(str(key))}")
    elif isinstance(node, list):
        if node and all(isinstance(item, str) for item in node):
            yield path, node
        else:
            for index, value in enumerate(node):
                yield from _string_lists(value, f"{path}/{index}")


@rule("PF124", "lifecycle-bucket-outside-managed-policy", Severity.INFO,
      operations=("create-cluster", "update-cluster"))
def lifecycle_bucket_outside_managed_policy(ctx):
    """`LifeCycleConfig.SourceS3Uri` in a bucket whose name does not start with `sagemaker-`.

    ## Why is this bad?
    Not wrong in itself. The HyperPod guide advises a bucket named `sagemaker-...`: the managed
    `AmazonSageMakerClusterInstanceRolePolicy` reaches only those, so any other bucket works only
    when the execution role is granted `s3:GetObject` and `s3:ListBucket` on it (most published
    setups do exactly that). Whether the role can read the script is for `--live` to tell.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "LifeCycleConfig": {"SourceS3Uri": "s3://amzn-s3-demo-bucket/", "OnCreate": "on_create.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle-444455556666/", "OnCreate": "on_create.sh"}}]}
    ```

    ## Source
    SageMaker HyperPod developer guide, "IAM role for SageMaker HyperPod"; domain notes.
    """
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        config = group.get("LifeCycleConfig")
        uri = config.get("SourceS3Uri") if isinstance(config, dict) else None
        if not isinstance(uri, str):
            continue
        uri = unwrapped(uri)
        if uri.startswith("s3://") and not placeholder(uri):  # a placeholder bucket is PF110's
            bucket = uri[len("s3://"):].partition("/")[0]
            if bucket and not bucket.startswith("sagemaker-"):  # no bucket at all is PF106's
                yield ctx.finding(f"{pointer}/LifeCycleConfig/SourceS3Uri",
                                  f"lifecycle bucket {bucket!r} is not named sagemaker-...: the managed instance "
                                  "role policy does not reach it, so the execution role must be granted read access",
                                  "make sure the execution role may s3:GetObject and s3:ListBucket on it, "
                                  "or use a bucket named sagemaker-...")


@rule("PF125", "software-update-touches-every-group", Severity.INFO, operations=("update-cluster-software",))
def software_update_touches_every_group(ctx):
    """A software update without `InstanceGroups` applies the image to every instance group.

    ## Why is this bad?
    It is not wrong, but it is easy to miss: the HyperPod custom AMI guide warns that, unless a group is named,
    "the new image will be applied to all instance groups of the cluster".

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "ami-0123456789abcdef0"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "ami-0123456789abcdef0", "InstanceGroups": [{"InstanceGroupName": "workers"}]}
    ```

    ## Source
    HyperPod custom AMI guide, "Actualización del software de clúster".
    """
    if isinstance(ctx.request, dict) and "InstanceGroups" not in ctx.request:
        yield ctx.finding("", "no InstanceGroups: the update applies to every instance group of the cluster",
                          "name the groups to update in InstanceGroups")


@rule("PF126", "software-update-without-image", Severity.INFO, operations=("update-cluster-software",))
def software_update_without_image(ctx):
    """A software update without `ImageId`: groups on a custom AMI must be given one.

    ## Why is this bad?
    The model: "if an instance group uses a custom AMI, you must provide an ImageId or use the
    default". Whether a group runs a custom AMI is known only to the account (`--live`).

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers"}], "ImageId": "ami-0123456789abcdef0"}
    ```

    ## Source
    botocore service model, `UpdateClusterSoftwareRequest.ImageId` documentation.
    """
    if isinstance(ctx.request, dict) and "ImageId" not in ctx.request:
        yield ctx.finding("", "no ImageId: instance groups on a custom AMI require one (or default)",
                          "add ImageId: your custom AMI's id, or default")


def _orchestrator(ctx) -> str | None:
    """"Eks" or "Slurm" when the request says which orchestrates the cluster; a create without an
    Orchestrator is Slurm-orchestrated (the model: Orchestrator is needed only for EKS)."""
    orchestrator = ctx.value("/Orchestrator")
    if isinstance(orchestrator, dict):
        given = [name for name in ("Eks", "Slurm") if name in orchestrator]
        return given[0] if len(given) == 1 else None
    return "Slurm" if orchestrator is None and ctx.operation == "create-cluster" else None


@rule("PF127", "create-without-instance-groups", Severity.ERROR, operations=("create-cluster",))
def create_without_instance_groups(ctx):
    """A create with neither `InstanceGroups` nor `RestrictedInstanceGroups`.

    ## Why is this bad?
    The model marks only `ClusterName` as required, but a HyperPod cluster is its instance groups:
    the service refuses a create that gives none ("at least one of InstanceGroups or
    RestrictedInstanceGroups"); each list, when given, holds at least one group.

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1,
     "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model, `CreateClusterRequest.InstanceGroups` ("the instance groups to be created",
    1..100 items); SageMaker HyperPod developer guide, "Creating a SageMaker HyperPod cluster".
    """
    if isinstance(ctx.request, dict) and not ctx.partial and not any(
            k in ctx.request for k in ("InstanceGroups", "RestrictedInstanceGroups")):
        yield ctx.finding("", "the create gives no instance groups: neither InstanceGroups nor RestrictedInstanceGroups",
                          "add InstanceGroups with at least one group")


@rule("PF128", "eks-cluster-without-vpc-config", Severity.ERROR, operations=("create-cluster",))
def eks_cluster_without_vpc_config(ctx):
    """An EKS-orchestrated create without `VpcConfig`.

    ## Why is this bad?
    HyperPod nodes of an EKS-orchestrated cluster run in the EKS cluster's VPC, which only
    `VpcConfig` (subnets and security groups of that VPC) can say; the service refuses an EKS
    create without it. A Slurm cluster may leave it out (its nodes then use a VPC the service manages).

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}},
     "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge",
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/ml"}},
     "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
     "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge",
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    SageMaker HyperPod developer guide, "Getting started with Amazon EKS support in SageMaker
    HyperPod" (networking) and "Creating a SageMaker HyperPod cluster" with the AWS CLI for EKS.
    """
    if _orchestrator(ctx) == "Eks" and ctx.value("/VpcConfig") is None:
        yield ctx.finding("/Orchestrator/Eks", "an EKS-orchestrated cluster without VpcConfig",
                          "add VpcConfig with subnets and security groups of the EKS cluster's VPC")


@rule("PF129", "group-config-for-other-orchestrator", Severity.WARNING, operations=("create-cluster", "update-cluster"))
def group_config_for_other_orchestrator(ctx):
    """`KubernetesConfig` on an instance group of a Slurm cluster, or `SlurmConfig` on one of an EKS cluster.

    ## Why is this bad?
    `KubernetesConfig` sets the labels and taints of the group's Kubernetes nodes and `SlurmConfig`
    the group's Slurm role; each means something only under its own orchestrator. The model does
    not say that the service refuses the other one, so this is a warning: it does nothing at best.
    Checked where the request says which orchestrator it has (a create without `Orchestrator` is Slurm).

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Slurm": {}}, "InstanceGroups": [{"InstanceGroupName": "workers",
     "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution",
     "KubernetesConfig": {"Labels": {"team": "ml"}}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "Orchestrator": {"Slurm": {}}, "InstanceGroups": [{"InstanceGroupName": "workers",
     "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model, `ClusterInstanceGroupSpecification.KubernetesConfig` and `.SlurmConfig` documentation.
    """
    orchestrator = _orchestrator(ctx)
    foreign = {"Slurm": "KubernetesConfig", "Eks": "SlurmConfig"}.get(orchestrator or "")
    if not foreign:
        return
    for pointer, group in ctx.instance_groups():
        if foreign in group:
            yield ctx.finding(f"{pointer}/{foreign}", f"{foreign} on an instance group of a "
                              f"{'Slurm' if orchestrator == 'Slurm' else 'EKS'}-orchestrated cluster",
                              f"remove {foreign}: it belongs to {'EKS' if orchestrator == 'Slurm' else 'Slurm'} clusters")
