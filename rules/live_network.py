"""PF430-PF46x: subnets, security groups, the EKS orchestrator and capacity (``--live``, advisory).

A lookup that fails gives a warning that names what was not verified (PF401).
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import eks_name, network_ids
from preflight.registry import rule
from preflight.values import real

API_MODES = ("API", "API_AND_CONFIG_MAP")


@rule("PF430", "network-resource-missing", Severity.ERROR, kind="live", required=False)
def network_resource_missing(ctx):
    """A subnet or security group that does not exist in the region.

    ## Why is this bad?
    CreateCluster fails validation, or nodes cannot be placed.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0ddddddddddddddd4"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    EC2 `DescribeSubnets`, `DescribeSecurityGroups`.
    """
    subnet_ids, group_ids = network_ids(ctx)
    for ids, lookup, what in ((subnet_ids, ctx.account.subnets, "subnet"),
                              (group_ids, ctx.account.security_groups, "security group")):
        found = lookup(sorted(ids)) if ids else {}
        for resource_id, pointer in ids.items():
            if found.get(resource_id) is None:
                yield ctx.finding(pointer, f"{what} {resource_id} does not exist in {ctx.account.region}")


def _network(ctx):
    subnet_ids, group_ids = network_ids(ctx)
    subnets = ctx.account.subnets(sorted(subnet_ids)) if subnet_ids else {}
    groups = ctx.account.security_groups(sorted(group_ids)) if group_ids else {}
    return subnet_ids, group_ids, subnets, groups


@rule("PF431", "network-vpc-mismatch", Severity.ERROR, kind="live", required=False)
def network_vpc_mismatch(ctx):
    """Subnets, security groups and the EKS cluster are not all in one VPC.

    ## Why is this bad?
    A security group applies only within its VPC; HyperPod rejects the configuration.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}, "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/elsewhere-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}, "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    Amazon VPC User Guide; HyperPod developer guide, VPC setup.
    """
    subnet_ids, group_ids, subnets, groups = _network(ctx)
    placed = [(pointer, f"subnet {i}", subnets[i].vpc) for i, pointer in subnet_ids.items() if subnets.get(i)]
    placed += [(pointer, f"security group {i}", groups[i].vpc) for i, pointer in group_ids.items() if groups.get(i)]
    eks = eks_name(ctx)
    if eks:
        cluster = ctx.account.eks_cluster(eks[0])
        if cluster and cluster.vpc:
            placed.append((eks[1], f"EKS cluster {eks[0]}", cluster.vpc))
    if placed:
        _, first_what, first_vpc = placed[0]
        for pointer, what, vpc in placed[1:]:
            if vpc != first_vpc:
                yield ctx.finding(pointer, f"{what} is in {vpc}, but {first_what} is in {first_vpc}")


@rule("PF432", "security-group-without-efa-rules", Severity.WARNING, kind="live", required=False)
def security_group_without_efa_rules(ctx):
    """A security group without the self-referencing all-traffic rules (inbound and outbound) EFA needs.

    ## Why is this bad?
    EFA traffic between nodes is dropped; distributed training hangs or falls back to slow paths.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0fedcba9876543210"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    HyperPod developer guide, "Setting up SageMaker HyperPod with a custom Amazon VPC"; EFA user guide.
    """
    _, group_ids, _, groups = _network(ctx)
    for group_id, pointer in group_ids.items():
        group = groups.get(group_id)
        if group and not (group.self_ingress and group.self_egress):
            missing = " and ".join(d for d, ok in (("inbound", group.self_ingress), ("outbound", group.self_egress)) if not ok)
            yield ctx.finding(pointer, f"security group {group_id} lacks the {missing} all-traffic rule to itself",
                              "allow all traffic from and to the security group itself")


@rule("PF433", "public-subnet", Severity.WARNING, kind="live", required=False)
def public_subnet(ctx):
    """A subnet whose route table sends `0.0.0.0/0` to an internet gateway.

    ## Why is this bad?
    HyperPod nodes get no public addresses; in a public subnet they have no way out (no NAT) to
    reach S3 or the service endpoints. Use private subnets with a NAT gateway or VPC endpoints.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0fedcba9876543210"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    HyperPod developer guide, VPC setup; field reports.
    """
    subnet_ids, _, subnets, _ = _network(ctx)
    for subnet_id, pointer in subnet_ids.items():
        if subnets.get(subnet_id) and subnets[subnet_id].public:
            yield ctx.finding(pointer, f"subnet {subnet_id} is public (0.0.0.0/0 goes to an internet gateway)",
                              "use private subnets with a NAT gateway")


@rule("PF440", "eks-orchestrator-unusable", Severity.ERROR, kind="live", required=False)
def eks_orchestrator_unusable(ctx):
    """The EKS cluster does not exist, is not ACTIVE, or authenticates with `CONFIG_MAP` only.

    ## Why is this bad?
    HyperPod registers its nodes through EKS access entries, which need the `API` or
    `API_AND_CONFIG_MAP` authentication mode.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/configmap-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    HyperPod developer guide, EKS prerequisites; field reports.
    """
    eks = eks_name(ctx)
    if not eks:
        return
    name, pointer = eks
    cluster = ctx.account.eks_cluster(name)
    if cluster is None:
        yield ctx.finding(pointer, f"EKS cluster {name} does not exist in {ctx.account.region}")
        return
    if cluster.status != "ACTIVE":
        yield ctx.finding(pointer, f"EKS cluster {name} is {cluster.status}, not ACTIVE")
    if cluster.authentication_mode is None:
        yield ctx.finding(pointer, f"EKS cluster {name}'s authentication mode could not be read; not verified",
                          severity=Severity.WARNING)
    elif cluster.authentication_mode not in API_MODES:
        yield ctx.finding(pointer, f"EKS cluster {name} authenticates with {cluster.authentication_mode}",
                          "switch it to API_AND_CONFIG_MAP (aws eks update-cluster-config --access-config ...)")


@rule("PF460", "instance-type-not-offered", Severity.WARNING, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def instance_type_not_offered(ctx):
    """An instance type that EC2 does not offer in any of the request's subnets' zones.

    ## Why is this bad?
    Being in the model's enum does not mean a type is offered in a zone; nodes then never launch
    ("insufficient capacity"). Best effort: the EC2 offering of the type without its `ml.` prefix.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.trn1.32xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    EC2 `DescribeInstanceTypeOfferings`; field reports.
    """
    subnet_ids, _, subnets, _ = _network(ctx)
    zones = {subnets[i].zone for i in subnet_ids if subnets.get(i)}
    if not zones:
        return
    for pointer, group in ctx.instance_groups():
        instance_type = real(group.get("InstanceType"))
        if instance_type and not ctx.account.offered_zones(instance_type) & zones:
            yield ctx.finding(f"{pointer}/InstanceType", f"{instance_type} is not offered in {', '.join(sorted(zones))}",
                              "choose subnets in zones that offer it, or another type")


@rule("PF461", "cluster-quota-exceeded", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def cluster_quota_exceeded(ctx):
    """More instances of a type than the account's Service Quota "<type> for cluster usage" allows.

    ## Why is this bad?
    HyperPod cannot launch them: the cluster stays short of capacity, or the call fails
    (field reports: "service quota exceeded"). The request alone is compared with the quota; other
    clusters' usage only makes it worse. A type for which no quota is listed is not verified.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 9, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    Service Quotas, SageMaker "<instance type> for cluster usage"; field reports.
    """
    requested: dict[str, tuple[int, str]] = {}
    for pointer, group in ctx.instance_groups():
        instance_type, count = real(group.get("InstanceType")), group.get("InstanceCount")
        if instance_type and type(count) is int:
            total, first = requested.get(instance_type, (0, f"{pointer}/InstanceCount"))
            requested[instance_type] = (total + count, first)
    if not requested:
        return
    quotas = ctx.account.cluster_quotas()
    for instance_type, (total, pointer) in requested.items():
        quota = quotas.get(instance_type)
        if quota is None:
            yield ctx.finding(pointer, f"no cluster-usage quota is listed for {instance_type}; the count is not verified",
                              severity=Severity.WARNING)
        elif total > quota:
            yield ctx.finding(pointer, f"{total} {instance_type} requested; the account's quota for cluster usage is "
                              f"{quota:g}", "request an increase in Service Quotas, or fewer instances")
