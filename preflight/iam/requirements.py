"""What a request needs from its caller's IAM policies, derived from the request itself.

The operation's own action and its dependent actions come from the Service Authorization
Reference (the catalog); which dependent actions a given request exercises, and on which
resources, follows the HyperPod custom AMI guide and the request's contents. Each requirement says why it
exists and where in the request that comes from.
"""

from __future__ import annotations

from typing import NamedTuple

from preflight.findings import Severity
from preflight.iam.catalog import Catalog
from preflight.iam.evaluate import Request, Resource
from preflight.operations import OPERATIONS, cluster_of
from preflight.values import parse_arn, real

SAR = "Service Authorization Reference"
SEED = "HyperPod custom AMI guide, cluster administrator policy"
SHARING_TAG = "AllowSharing"
IMAGE_DEPENDENTS = ("ec2:DescribeImages", "ec2:DescribeSnapshots", "ec2:ModifyImageAttribute",
                    "ec2:ModifySnapshotAttribute")
TAGGED_CREATES = ("create-cluster", "create-cluster-scheduler-config", "create-cluster-extension")
EKS_DEPENDENTS = ("eks:DescribeCluster", "eks:CreateAccessEntry", "eks:DescribeAccessEntry",
                  "eks:DeleteAccessEntry", "eks:AssociateAccessPolicy")


class Requirement(NamedTuple):
    request: Request
    pointer: str  # where in the request file this need comes from
    reason: str
    source: str
    severity: Severity = Severity.ERROR  # WARNING: advisory, where applicability is not certain


def _strings(value) -> tuple[str, ...]:
    return tuple(v for v in (value if isinstance(value, list) else []) if isinstance(v, str))


def _where(ctx, account: str | None) -> tuple[str | None, str | None, str]:
    """(region, account, partition) as far as the request's ARNs tell them."""
    request = ctx.request
    region = partition = None
    for _, group in ctx.instance_groups():
        arn = parse_arn(group.get("ExecutionRole"))
        if arn:
            account = account or arn.account
            partition = partition or arn.partition
    orchestrator = request.get("Orchestrator")
    eks = orchestrator.get("Eks") if isinstance(orchestrator, dict) else None
    candidates = [eks.get("ClusterArn") if isinstance(eks, dict) else None, cluster_of(request)]
    candidates += [config.get("VolumeKmsKeyId") for group_pointer, group in ctx.instance_groups()
                   for _, config in ctx.ebs_configs(group_pointer, group)]
    for value in candidates:
        arn = parse_arn(value)
        if arn and arn.region:
            region = region or arn.region
            account = account or arn.account
            partition = partition or arn.partition
    return region, account, partition or "aws"


def _cluster(reference, partition: str, region: str | None, account: str | None) -> Resource:
    """The cluster a request names, by ARN or by name."""
    arn = parse_arn(reference)
    if arn and arn.service == "sagemaker":
        return Resource(arn.partition, "sagemaker", arn.region, arn.account, arn.resource)
    return Resource.new_cluster(partition, region, account)  # the ARN ends with an id, not the name


def derive(ctx, catalog: Catalog, account: str | None = None, resolve_key=None,
           linked_role_exists=None, call_region: str | None = None) -> list[Requirement]:
    """The requirements of the request in ``ctx`` (an engine Context); ``account`` is the caller's,
    if known; ``resolve_key(reference)`` gives a key's ARN, False for a key known not to exist, or
    None when it cannot tell (live checks resolve aliases and key ids this way);
    ``linked_role_exists()`` says whether HyperPod's service-linked role exists (None: not known),
    asked only of an operation whose dependent actions create it;
    ``call_region`` is the region the call is sent to (live, --region, the configuration's), else
    the request's ARNs tell it: it places what the ARNs do not, and every need carries it as
    aws:RequestedRegion (the dependent actions are authorized within the operation's call)."""
    request, operation = ctx.request, ctx.operation
    if not isinstance(request, dict):
        return []
    api = OPERATIONS[operation]
    action = f"sagemaker:{api}"
    region, account, partition = _where(ctx, account)
    region = region or call_region
    groups = list(ctx.instance_groups())
    needs: list[Requirement] = []

    cluster = _cluster(cluster_of(request), partition, region, account)
    # A scheduler config update or deletion names only the config; the action is authorized on it.
    config_id = real(request.get("ClusterSchedulerConfigId"))
    target = cluster if not config_id else Resource(partition, "sagemaker", region, account,
                                                     f"cluster-scheduler-config/{config_id}")

    # The operation's own action, with the condition keys the request supplies.
    context, absent = {}, []
    if operation in ("create-cluster", "update-cluster"):
        types = {g["InstanceType"] for _, g in groups if isinstance(g.get("InstanceType"), str)}
        for _, g in groups:
            requirements = g.get("InstanceRequirements")
            if isinstance(requirements, dict):
                types.update(_strings(requirements.get("InstanceTypes")))
        vpcs = [request.get("VpcConfig")] + [g.get("OverrideVpcConfig") for _, g in groups]
        subnets = {s for v in vpcs if isinstance(v, dict) for s in _strings(v.get("Subnets"))}
        security_groups = {s for v in vpcs if isinstance(v, dict) for s in _strings(v.get("SecurityGroupIds"))}
        for key, values in (("sagemaker:instancetypes", types), ("sagemaker:vpcsubnets", subnets),
                            ("sagemaker:vpcsecuritygroupids", security_groups)):
            if values:
                context[key] = tuple(sorted(values))
            else:
                absent.append(key)
    listed = request.get("Tags") if operation in TAGGED_CREATES and isinstance(request.get("Tags"), list) else []
    tags = {t["Key"]: t.get("Value", "") for t in listed if isinstance(t, dict) and isinstance(t.get("Key"), str)}
    tag_context = {f"aws:requesttag/{k.lower()}": (str(v),) for k, v in tags.items()}
    if tags:
        tag_context["aws:tagkeys"] = tuple(tags)
    tag_absent = ("aws:requesttag/", "aws:tagkeys")
    if operation == "create-cluster":  # the cluster does not exist yet: it has no tags to condition on
        absent += ["aws:resourcetag/", "sagemaker:resourcetag/"]
    needs.append(Requirement(
        Request(action, target, {**context, **tag_context}, tuple(absent) + tag_absent), "",
        f"{api} itself", f"{SAR}, {action}" if catalog.canonical(action) else
        f"the SageMaker API model, {api} (not yet in the {SAR} of {catalog.date})"))
    # An action authorized on two resources (a new scheduler config and its cluster) needs both:
    # each resource type the reference marks required, of those the request makes (its id, like a
    # cluster's, is 12 characters of [a-z0-9]: the API model's ClusterSchedulerConfigId).
    made = {"cluster-scheduler-config": Resource(partition, "sagemaker", region, account, "cluster-scheduler-config/",
                                                 True, 12, "the scheduler config id the service assigns")}
    for kind, required in catalog.resource_types(action) if catalog.canonical(action) else ():
        if required and kind in made and not config_id:
            needs.append(Requirement(
                Request(action, made[kind], {**context, **tag_context}, tuple(absent) + tag_absent), "",
                f"{api} is authorized on the new {kind} too", f"{SAR}, {action} resource types"))
    if operation == "move-cluster-nodes" and real(request.get("TargetClusterArn")) not in (None, cluster_of(request)):
        # The reference does not list MoveClusterNodes yet: whether the target cluster authorizes it too
        # is not documented, so that need is advisory.
        needs.append(Requirement(
            Request(action, _cluster(request["TargetClusterArn"], partition, region, account)), "/TargetClusterArn",
            "the nodes join the target cluster (whether the call is authorized on it too is not documented)",
            f"botocore service model, {api}", Severity.WARNING))

    dependents = set(catalog.dependents(action))

    # iam:PassRole for each distinct role the request hands to the service.
    if "iam:PassRole" in dependents:
        roles: dict[str, tuple[str, str]] = {}
        for pointer, role in ctx.roles():
            if not real(role) or role in roles:
                continue
            if pointer == "/ClusterRole":
                roles[role] = (pointer, f"ClusterRole {role} is passed for autoscaling")
            else:
                group = ctx.value(pointer.rpartition("/")[0] + "/InstanceGroupName")
                roles[role] = (pointer, f"instance group `{group}` runs role {role}")
        for role, (pointer, reason) in roles.items():
            arn = parse_arn(role)
            if not arn:
                continue  # malformed role ARNs are the request rules' business
            needs.append(Requirement(
                Request("iam:PassRole", Resource(arn.partition, "iam", "", arn.account, arn.resource),
                        {"iam:passedtoservice": ("sagemaker.amazonaws.com",)}),
                pointer, reason, f"{SEED}; {SAR}, {action} dependent actions"))

    # A custom AMI: read it and share it (and its snapshot) with the service, under the AllowSharing tag.
    if dependents.intersection(IMAGE_DEPENDENTS):
        images = ctx.custom_images()
        region_context = {"ec2:region": (region,)} if region else {}
        for image, pointer in images.items():
            for describe in ("ec2:DescribeImages", "ec2:DescribeSnapshots"):
                needs.append(Requirement(Request(describe, Resource.any(), region_context), pointer,
                                         f"custom AMI {image} is read", f"{SEED}; {SAR}, {action} dependent actions"))
            tagged = {"ec2:resourcetag/allowsharing": ("true",), "aws:resourcetag/allowsharing": ("true",)}
            needs.append(Requirement(
                Request("ec2:ModifyImageAttribute", Resource(partition, "ec2", region, "", f"image/{image}"),
                        {**tagged, **region_context, "ec2:imageid": (image,), "ec2:attribute": ("launchPermission",)}),
                pointer, f"custom AMI {image} is shared with the service (taken as tagged {SHARING_TAG}=true, "
                         "as the HyperPod custom AMI guide requires; --live verifies the tag)",
                f"{SEED}, tag-restricted sharing; {SAR}"))
            needs.append(Requirement(
                Request("ec2:ModifySnapshotAttribute", Resource(partition, "ec2", region, "", "snapshot/", True),
                        {**tagged, **region_context, "ec2:attribute": ("createVolumePermission",)}),
                pointer, f"the snapshot of custom AMI {image} is shared with the service (taken as tagged "
                         f"{SHARING_TAG}=true)", f"{SEED}, tag-restricted sharing; {SAR}"))

    # EKS access entries, when the cluster is orchestrated by EKS.
    orchestrator = request.get("Orchestrator") if isinstance(request.get("Orchestrator"), dict) else None
    eks = orchestrator.get("Eks") if orchestrator else None
    eks_arn = parse_arn(eks.get("ClusterArn")) if isinstance(eks, dict) else None
    eks_needed = dependents.intersection(EKS_DEPENDENTS)
    # A new cluster without an Orchestrator is Slurm-orchestrated; an existing one may be either.
    if eks_needed and (eks_arn or (orchestrator is None and operation != "create-cluster")):
        certain = eks_arn is not None
        if eks_arn:
            eks_name = eks_arn.resource.partition("/")[2]
            eks_cluster = Resource(eks_arn.partition, "eks", eks_arn.region, eks_arn.account, eks_arn.resource)
            entry = Resource(eks_arn.partition, "eks", eks_arn.region, eks_arn.account,
                             f"access-entry/{eks_name}/", open_tail=True)
            pointer, reason = "/Orchestrator/Eks/ClusterArn", f"EKS cluster {eks_arn.text} orchestrates the cluster"
        else:
            eks_cluster = Resource(partition, "eks", region, account, "cluster/", open_tail=True)
            entry = Resource(partition, "eks", region, account, "access-entry/", open_tail=True)
            pointer, reason = "", "if the cluster is orchestrated by EKS (the request does not say)"
        for dependent in sorted(eks_needed):
            resource = eks_cluster if dependent in ("eks:DescribeCluster", "eks:CreateAccessEntry") else entry
            needs.append(Requirement(Request(dependent, resource), pointer, reason,
                                     f"{SEED}; {SAR}, {action} dependent actions",
                                     Severity.ERROR if certain else Severity.WARNING))

    if "sagemaker:AddTags" in dependents and tags:
        needs.append(Requirement(
            Request("sagemaker:AddTags", cluster, {**tag_context, "sagemaker:taggingaction": (api,)}, tag_absent),
            "/Tags", f"the request tags the cluster ({', '.join(tags)})", f"{SAR}, {action} dependent actions"))

    linked_role = linked_role_exists() if linked_role_exists and "iam:CreateServiceLinkedRole" in dependents else None
    if "iam:CreateServiceLinkedRole" in dependents and linked_role is not True:
        # Certain when the account is read and has no such role; else it may exist already.
        needs.append(Requirement(
            Request("iam:CreateServiceLinkedRole",
                    Resource(partition, "iam", "", account, "role/aws-service-role/", open_tail=True)),
            "", "the account has no HyperPod service-linked role, which the cluster's creation makes"
            if linked_role is False else "the first cluster of an account creates SageMaker's service-linked role",
            f"{SEED}; {SAR}, {action} dependent actions",
            Severity.ERROR if linked_role is False else Severity.WARNING))

    # Keys named for volume encryption: advisory, the execution role's grants are what HyperPod uses.
    keys: dict[str, str] = {}
    for group_pointer, group in groups:
        for pointer, config in ctx.ebs_configs(group_pointer, group):
            key = real(config.get("VolumeKmsKeyId"))
            if key:
                keys.setdefault(key, f"{pointer}/VolumeKmsKeyId")
    for key, pointer in keys.items():
        resolved = resolve_key(key) if resolve_key else None
        if resolved is False:
            continue  # a key that does not exist is PF216's finding, not a permission question
        arn = parse_arn(resolved or key)
        resource = (Resource(arn.partition, "kms", arn.region, arn.account, arn.resource) if arn
                    else Resource(partition, "kms", region, account, "key/", open_tail=True))
        for kms_action in ("kms:DescribeKey", "kms:CreateGrant"):
            needs.append(Requirement(
                Request(kms_action, resource, {"kms:viaservice": (f"sagemaker.{region}.amazonaws.com",)} if region else {}),
                pointer, f"volumes are encrypted with key {key}",
                "HyperPod developer guide, customer managed key encryption", Severity.WARNING))

    # Whatever else the reference lists for this action is reported as advisory.
    covered = {"iam:PassRole", "sagemaker:AddTags", "iam:CreateServiceLinkedRole", *IMAGE_DEPENDENTS, *EKS_DEPENDENTS}
    for dependent in sorted(dependents - covered):
        prefix = dependent.partition(":")[0]
        resource = cluster if prefix == "sagemaker" else Resource(partition, prefix, region, account, "", True)
        needs.append(Requirement(Request(dependent, resource), "",
                                 f"the {SAR} lists it as a dependent action of {action}",
                                 f"{SAR}, {action} dependent actions", Severity.WARNING))
    requested = call_region or region
    if requested:
        for need in needs:
            need.request.context.setdefault("aws:requestedregion", (requested,))
    return needs
