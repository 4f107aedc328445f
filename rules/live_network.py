"""PF430-PF46x: subnets, security groups, the EKS orchestrator and capacity (``--live``, advisory).

A lookup that fails gives a warning that names what was not verified (PF401).
"""

from __future__ import annotations

import ipaddress
import re

from preflight.findings import Severity
from preflight.live import cluster_name, eks_name, fsx_mounts, network_ids
from preflight.registry import rule
from preflight.values import real

API_MODES = ("API", "API_AND_CONFIG_MAP")
# The Kubernetes versions the HyperPod EKS prerequisites page lists (its copies of 2025-2026 list
# 1.28 up to 1.32, 1.33 and 1.34 as they were updated): the list grows, so a newer version is not
# held against the cluster, and versions are compared as numbers.
KUBERNETES_SUPPORTED = ((1, 28), (1, 34))
KUBERNETES_LIST_READ = "2026-12"
# The same page: "SageMaker HyperPod requires the Amazon VPC Container Network Interface (CNI) plugin
# version 1.18.3 or later", the only CNI it supports.
VPC_CNI_MINIMUM = (1, 18, 3)


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


def _placements(ctx) -> list[tuple[str, dict, list[str], list[str]]]:
    """(pointer, group, its subnets, its security groups) of each instance group: its
    OverrideVpcConfig's where it has one, else the request's VpcConfig."""
    def ids(config, key) -> list[str]:
        values = config.get(key) if isinstance(config, dict) else None
        return [value for value in values if real(value)] if isinstance(values, list) else []

    shared = ctx.value("/VpcConfig")
    placed = []
    for pointer, group in ctx.instance_groups():
        config = group["OverrideVpcConfig"] if isinstance(group.get("OverrideVpcConfig"), dict) else shared
        placed.append((pointer, group, ids(config, "Subnets"), ids(config, "SecurityGroupIds")))
    return placed


@rule("PF432", "security-group-without-efa-rules", Severity.ERROR, kind="live", required=False)
def security_group_without_efa_rules(ctx):
    """A security group of an EFA instance type's group without the self-referencing all-traffic rules (inbound and outbound) EFA needs.

    ## Why is this bad?
    HyperPod runs EFA health checks on instance types that support EFA: without an inbound and an
    outbound rule allowing all traffic to and from the security group itself, those checks fail and
    the nodes never join (an error). On a type without EFA the rules only matter to traffic between
    nodes (a warning).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0fedcba9876543210"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    HyperPod developer guide, "Setting up SageMaker HyperPod with a custom Amazon VPC"; EFA user
    guide (the security group's self-referencing rules); EC2 `DescribeInstanceTypes`
    (`NetworkInfo.EfaSupported`); field reports of EFA health checks failing at creation.
    """
    _, group_ids, _, groups = _network(ctx)
    lacking = {i: groups[i] for i in group_ids if groups.get(i) and not (groups[i].self_ingress and groups[i].self_egress)}
    if not lacking:
        return
    placements = _placements(ctx)
    types = sorted({group["InstanceType"] for _, group, _, _ in placements if real(group.get("InstanceType"))})
    known = ctx.account.instance_types(types) if types else {}
    for group_id, group in lacking.items():
        efa = sorted({g["InstanceGroupName"] for _, g, _, used in placements if group_id in used
                      and known.get(g.get("InstanceType")) and known[g["InstanceType"]].efa_supported
                      and isinstance(g.get("InstanceGroupName"), str)})
        missing = " and ".join(d for d, ok in (("inbound", group.self_ingress), ("outbound", group.self_egress)) if not ok)
        message = f"security group {group_id} lacks the {missing} all-traffic rule to itself"
        fix = "allow all traffic from and to the security group itself"
        if efa:
            yield ctx.finding(group_ids[group_id], f"{message}, which the EFA health checks of {', '.join(efa)} need", fix)
        else:
            yield ctx.finding(group_ids[group_id], message, fix, severity=Severity.WARNING)


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


@rule("PF434", "subnet-without-egress", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def subnet_without_egress(ctx):
    """A subnet with no way to S3 for its nodes: no default route to a NAT gateway (or another egress target) and no S3 endpoint.

    ## Why is this bad?
    HyperPod nodes have no public addresses. Each downloads its lifecycle scripts from S3 when it
    starts: in a subnet whose route table sends `0.0.0.0/0` nowhere, or only to an internet gateway,
    and whose VPC has no S3 endpoint (a gateway endpoint on that route table, or an interface
    endpoint), the download times out and the creation (or the new nodes) fails.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0eeeeeeeeeeeeeee5"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    HyperPod developer guide, "Setting up SageMaker HyperPod with a custom Amazon VPC" (private
    subnets with a NAT gateway, or VPC endpoints); EC2 `DescribeRouteTables`,
    `DescribeVpcEndpoints`; field reports of lifecycle downloads timing out.
    """
    subnet_ids, _, subnets, _ = _network(ctx)
    for subnet_id, pointer in subnet_ids.items():
        subnet = subnets.get(subnet_id)
        if subnet is None or subnet.egress:
            continue
        endpoints = [e for e in ctx.account.vpc_endpoints(subnet.vpc) if e.service == "s3"
                     and e.state.lower() == "available"]
        if any(e.kind == "Interface" or subnet.route_table in e.route_tables for e in endpoints):
            continue
        where = "only to an internet gateway, which nodes without public addresses cannot use" if subnet.public \
            else "nowhere"
        yield ctx.finding(pointer, f"subnet {subnet_id} has no way to S3: its 0.0.0.0/0 goes {where}, and "
                          f"{subnet.vpc} has no S3 endpoint on its route table",
                          "route 0.0.0.0/0 to a NAT gateway, or add an S3 gateway endpoint to its route table")


LUSTRE_PORTS = (988, *range(1018, 1024))  # LNET, and the ports Lustre's clients and servers answer from


def _within(cidr: str | None, blocks: tuple[str, ...]) -> bool:
    try:
        return cidr is not None and any(ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(block))
                                        for block in blocks)
    except (ValueError, TypeError):
        return False


def lustre_ports_closed(permissions, groups: set[str], cidrs: set[str]) -> list[int]:
    """The Lustre TCP ports that no rule of ``permissions`` opens to (or from) one of ``groups`` or a
    block holding one of ``cidrs``."""
    def opens(rule, port):
        return rule.protocol in ("-1", "tcp", "6") and (
            rule.protocol == "-1" or rule.from_port is None or rule.from_port <= port <= rule.to_port) and (
            bool(set(rule.groups) & groups) or any(_within(cidr, rule.cidrs) for cidr in cidrs))
    return [port for port in LUSTRE_PORTS if not any(opens(rule, port) for rule in permissions)]


def _ports(ports: list[int]) -> str:
    """``TCP 988, 1018-1023``: the ports as runs."""
    runs: list[list[int]] = []
    for port in sorted(ports):
        if runs and port == runs[-1][1] + 1:
            runs[-1][1] = port
        else:
            runs.append([port, port])
    return "TCP " + ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@rule("PF435", "fsx-unreachable-from-nodes", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def fsx_unreachable_from_nodes(ctx):
    """The nodes cannot reach the FSx for Lustre file system their Slurm lifecycle mounts: its security groups do not admit them on TCP 988 and 1018-1023, or theirs do not let that traffic out, or it is in another VPC.

    ## Why is this bad?
    Lustre clients talk to the file system on TCP 988 and 1018-1023: the file system's security
    groups must admit that traffic from the nodes' security groups (or their subnets' addresses),
    and the nodes' groups must let it out. Otherwise `mount -t lustre` in the lifecycle times out
    (`mount.lustre: ... Connection timed out`) and every node of the groups that mount it fails (an
    error). A file system in another VPC is reached only through peering or a transit gateway (a
    warning; its rules are not judged). Judged for the groups whose lifecycle folder's
    `provisioning_parameters.json` names the file system; a self-referencing all-traffic group
    (the EFA rules) shared by both admits it.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm-fsx-closed", "OnCreate": "on_create.sh"}}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm-fsx", "OnCreate": "on_create.sh"}}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    FSx for Lustre user guide, "File system access control with Amazon VPC" (inbound TCP 988 and
    1018-1023) and "Creating an FSx for Lustre file system fails" (LNET traffic on port 988); FSx
    `DescribeFileSystems`, EC2 `DescribeNetworkInterfaces`, `DescribeSecurityGroups`,
    `DescribeSubnets`; field reports of `mount.lustre` timing out in lifecycle scripts.
    """
    mounts = fsx_mounts(ctx)
    if not mounts:
        return
    _, _, subnets, groups = _network(ctx)
    placed = {group.get("InstanceGroupName"): (pointer, group_subnets, group_ids)
              for pointer, group, group_subnets, group_ids in _placements(ctx)}
    for _, where, _, system_id, _, names in mounts:
        system = ctx.account.file_system(system_id)
        if system is None or system.type != "LUSTRE":
            continue  # PF426
        interfaces = ctx.account.interface_groups(list(system.network_interfaces))
        system_group_ids = sorted({g for ids in interfaces.values() if ids for g in ids})
        system_groups = [g for g in ctx.account.security_groups(system_group_ids).values() if g]
        system_cidrs = {s.cidr for s in ctx.account.subnets(list(system.subnets)).values() if s and s.cidr}
        for name in names:
            pointer, group_subnets, group_ids = placed.get(name, (None, [], []))
            node_subnets = [subnets[i] for i in group_subnets if subnets.get(i)]
            node_groups = [groups[i] for i in group_ids if groups.get(i)]
            if not node_subnets or not node_groups or not system_groups:
                continue
            if any(subnet.vpc != system.vpc for subnet in node_subnets):
                yield ctx.finding(f"{pointer}/InstanceGroupName", f"{name} mounts {system_id} ({where}), which is in "
                                  f"{system.vpc}, and its nodes are in {node_subnets[0].vpc}",
                                  "mount a file system of the cluster's VPC, or peer the two VPCs",
                                  severity=Severity.WARNING)
                continue
            node_ids, node_cidrs = {g.id for g in node_groups}, {s.cidr for s in node_subnets if s.cidr}
            closed_in = lustre_ports_closed([r for g in system_groups for r in g.inbound], node_ids, node_cidrs)
            closed_out = lustre_ports_closed([r for g in node_groups for r in g.outbound],
                                             {g.id for g in system_groups}, system_cidrs)
            said = []
            if closed_in:
                said.append(f"{system_id}'s security groups ({', '.join(g.id for g in system_groups)}) admit no "
                            f"{_ports(closed_in)} from them")
            if closed_out:
                said.append(f"their security groups ({', '.join(sorted(node_ids))}) let no {_ports(closed_out)} out "
                            f"to it")
            if said:
                yield ctx.finding(f"{pointer}/InstanceGroupName", f"the nodes of {name} cannot mount {system_id} ({where}): "
                                  + "; ".join(said), "allow TCP 988 and 1018-1023 between the file system's security "
                                  "groups and the nodes' (both ways)")


@rule("PF436", "subnet-addresses-exhausted", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def subnet_addresses_exhausted(ctx):
    """Groups that add more instances than their subnets have free IPv4 addresses.

    ## Why is this bad?
    Every node takes at least one address of its group's subnets (an EFA instance type several,
    an EKS node one per pod besides): where the subnets' free addresses (`AvailableIpAddressCount`)
    are fewer than the instances a group adds, the rest are never provisioned, with no error on
    the call ("instance provisioning fails silently"). Groups placed on the same subnets add up;
    an update counts only the instances it adds to a group beyond its current count. Only that
    lower bound of one address per node is judged.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 12, "InstanceType": "ml.m5.xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0ccccccccccccccc3"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 12, "InstanceType": "ml.m5.xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    EC2 `DescribeSubnets` (`AvailableIpAddressCount`); SageMaker `DescribeCluster` (a group's
    `CurrentCount`); HyperPod capacity-planning references (network interfaces and addresses per
    instance); field reports of nodes never provisioned in small subnets.
    """
    _, _, subnets, _ = _network(ctx)
    current: dict = {}
    if ctx.operation == "update-cluster":
        name = cluster_name(ctx)
        cluster = ctx.account.cluster(name) if name else None
        current = {group: record.get("CurrentCount") for group, record in (cluster.groups if cluster else {}).items()}
    shared: dict[tuple[str, ...], list[tuple[str, str, int]]] = {}
    for pointer, group, group_subnets, _ in _placements(ctx):
        count, name = group.get("InstanceCount"), group.get("InstanceGroupName")
        if type(count) is not int or not group_subnets or any(subnets.get(i) is None
                                                              or subnets[i].free_addresses is None
                                                              for i in group_subnets):
            continue
        now = current.get(name, 0) if isinstance(name, str) else 0
        added = count - (now if type(now) is int else 0)
        if added > 0:
            shared.setdefault(tuple(sorted(set(group_subnets))), []).append((pointer, str(name), added))
    for placed, adding in shared.items():
        free = sum(subnets[i].free_addresses for i in placed)
        added = sum(n for _, _, n in adding)
        if added > free:
            where = ", ".join(f"{i}: {subnets[i].free_addresses}" for i in placed)
            yield ctx.finding(f"{adding[0][0]}/InstanceCount", f"{' and '.join(g for _, g, _ in adding)} add "
                              f"{added} instances; their subnets have {free} free addresses ({where})",
                              "add subnets with free addresses (OverrideVpcConfig or VpcConfig), or fewer instances")


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


@rule("PF442", "eks-kubernetes-version-unsupported", Severity.WARNING, kind="live", required=False,
      operations=("create-cluster",))
def eks_kubernetes_version_unsupported(ctx):
    """The EKS cluster runs a Kubernetes version older than any HyperPod supports.

    ## Why is this bad?
    HyperPod's EKS prerequisites list the Kubernetes versions it supports, from 1.28 on; on an
    older EKS cluster the creation, or the nodes joining it, may fail (a warning: the page says
    "supports", not how the service refuses). A version newer than the newest the list held
    when preflight's data was read is info: the list grows with EKS, and preflight's copy may be
    behind. Read from EKS `DescribeCluster`'s `version`; an EKS cluster that is missing or
    unusable is PF440's.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/old-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    SageMaker Developer Guide, "Getting started with Amazon EKS support in SageMaker HyperPod"
    (sagemaker-hyperpod-eks-prerequisites.html), "Kubernetes version support"; EKS `DescribeCluster`.
    """
    eks = eks_name(ctx)
    if not eks:
        return
    name, pointer = eks
    cluster = ctx.account.eks_cluster(name)
    version = _version(cluster.kubernetes_version) if cluster is not None and cluster.kubernetes_version else None
    if version is None:
        return
    oldest, newest = KUBERNETES_SUPPORTED
    listed = f"the HyperPod EKS prerequisites list {'.'.join(map(str, oldest))} to {'.'.join(map(str, newest))}"
    if version < oldest:
        yield ctx.finding(pointer, f"EKS cluster {name} runs Kubernetes {cluster.kubernetes_version}; {listed}",
                          "upgrade the EKS cluster (aws eks update-cluster-version), one minor version at a time")
    elif version > newest:
        yield ctx.finding(pointer, f"EKS cluster {name} runs Kubernetes {cluster.kubernetes_version}, newer than "
                          f"{listed} as read in {KUBERNETES_LIST_READ}; that list grows, so check the current one",
                          severity=Severity.INFO)


def _version(written: str) -> tuple[int, int] | None:
    major, _, minor = written.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


@rule("PF443", "eks-vpc-cni-too-old", Severity.WARNING, kind="live", required=False, operations=("create-cluster",))
def eks_vpc_cni_too_old(ctx):
    """The EKS cluster's managed Amazon VPC CNI add-on is older than 1.18.3.

    ## Why is this bad?
    HyperPod's EKS prerequisites require the Amazon VPC CNI plugin 1.18.3 or later, the only CNI
    HyperPod supports; with an older one the nodes' pod networking may not work (a warning: the
    page states the requirement, not how the service refuses). Read from EKS `DescribeAddon`
    (the `vpc-cni` add-on's `addonVersion`, compared as numbers: `v1.18.10-eksbuild.1` is later
    than 1.18.3). An EKS cluster without the managed add-on runs a self-managed VPC CNI (the
    `aws-node` DaemonSet), whose version the EKS API does not give: that is info, not verified.
    An EKS cluster that is missing or unusable is PF440's.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/old-cni-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    SageMaker Developer Guide, "Getting started with Amazon EKS support in SageMaker HyperPod"
    (sagemaker-hyperpod-eks-prerequisites.html), "Networking"; EKS `DescribeAddon`.
    """
    eks = eks_name(ctx)
    if not eks or ctx.account.eks_cluster(eks[0]) is None:  # a missing EKS cluster is PF440's
        return
    name, pointer = eks
    version = ctx.account.vpc_cni_version(name)
    minimum = ".".join(map(str, VPC_CNI_MINIMUM))
    if version is None:
        yield ctx.finding(pointer, f"EKS cluster {name} has no managed vpc-cni add-on: its VPC CNI is self-managed, "
                          f"whose version is not in the EKS API; not verified (HyperPod requires {minimum} or later)",
                          "check the aws-node DaemonSet's image (kubectl describe daemonset aws-node -n kube-system), "
                          "or make the VPC CNI a managed add-on (aws eks create-addon --addon-name vpc-cni)",
                          severity=Severity.INFO)
        return
    found = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version)
    if found is None:
        yield ctx.finding(pointer, f"EKS cluster {name}'s vpc-cni add-on version {version!r} is not a version number; "
                          f"not verified (HyperPod requires {minimum} or later)", severity=Severity.INFO)
    elif tuple(map(int, found.groups())) < VPC_CNI_MINIMUM:
        yield ctx.finding(pointer, f"EKS cluster {name}'s vpc-cni add-on is {version}; HyperPod requires {minimum} or later",
                          f"update the add-on (aws eks update-addon --cluster-name {name} --addon-name vpc-cni "
                          "--addon-version VERSION; aws eks describe-addon-versions --addon-name vpc-cni lists them)")


@rule("PF441", "eks-cluster-taken", Severity.ERROR, kind="live", required=False, operations=("create-cluster",))
def eks_cluster_taken(ctx):
    """A create on an EKS cluster that already orchestrates another HyperPod cluster (in any status, `Deleting` included).

    ## Why is this bad?
    One EKS cluster backs one HyperPod cluster: the creation fails while another cluster holds it,
    even one still being deleted. Read from ListClusters and each cluster's DescribeCluster
    (`Orchestrator.Eks.ClusterArn`).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/taken-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    SageMaker Developer Guide, HyperPod with Amazon EKS (one EKS cluster per HyperPod cluster);
    field reports of creations refused while an earlier cluster on the EKS cluster was deleted.
    """
    eks = eks_name(ctx)
    if not eks:
        return
    taken = {name: status for name, status in ctx.account.clusters_on_eks(ctx.value(eks[1])).items()
             if name != ctx.value("/ClusterName")}
    if taken:
        held = ", ".join(f"{name} ({status})" for name, status in sorted(taken.items()))
        yield ctx.finding(eks[1], f"EKS cluster {eks[0]} already orchestrates HyperPod cluster {held}",
                          "use another EKS cluster, or wait until that HyperPod cluster is deleted")


@rule("PF460", "instance-type-not-offered", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def instance_type_not_offered(ctx):
    """An instance type that EC2 offers in the region, but in none of its group's subnets' zones.

    ## Why is this bad?
    Being in the model's enum does not mean a type is offered in a zone: the nodes of a group
    launch only in its subnets' zones (its `OverrideVpcConfig`'s, else the cluster's), and where the
    type is not offered they never launch (an error). A type EC2 offers in no zone of the region
    may be one SageMaker names otherwise (a warning: the EC2 offering is read for the type
    without its `ml.` prefix).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.trn1.32xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    EC2 `DescribeInstanceTypeOfferings`; the HyperPod developer guide's VPC setup (choose subnets in
    zones that offer the instance type); field reports of creations failing for capacity.
    """
    _, _, subnets, _ = _network(ctx)
    for pointer, group, group_subnets, _ in _placements(ctx):
        zones = {subnets[i].zone for i in group_subnets if subnets.get(i)}
        instance_type = real(group.get("InstanceType"))
        if not zones or not instance_type:
            continue
        offered = ctx.account.offered_zones(instance_type)
        if not offered:
            yield ctx.finding(f"{pointer}/InstanceType", f"EC2 offers {instance_type.removeprefix('ml.')} in no zone "
                              f"of {ctx.account.region}", "check that SageMaker offers the type in the region",
                              severity=Severity.WARNING)
        elif not offered & zones:
            yield ctx.finding(f"{pointer}/InstanceType", f"{instance_type} is not offered in "
                              f"{', '.join(sorted(zones))} (its subnets' zones); it is in {', '.join(sorted(offered))}",
                              "choose subnets in a zone that offers it, or another type")


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


USABLE_PLAN = ("Active", "Scheduled")


@rule("PF464", "training-plan-unusable", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def training_plan_unusable(ctx):
    """A group's training plan that does not exist, is not usable, is not for HyperPod clusters, or does not cover the group's instance type, count or zone.

    ## Why is this bad?
    A group that names a training plan gets its instances only from the plan's reserved capacity:
    a plan that does not exist, has expired or failed, reserves another instance type, fewer
    instances, or capacity in a zone none of the group's subnets is in, leaves the group without
    nodes (capacity errors at creation). A plan still `Pending` (not yet paid for) is a warning.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "gpus", "InstanceCount": 2, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "TrainingPlanArn": "arn:aws:sagemaker:us-east-1:444455556666:training-plan/expired-plan"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "gpus", "InstanceCount": 2, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "TrainingPlanArn": "arn:aws:sagemaker:us-east-1:444455556666:training-plan/p5-plan"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    SageMaker `DescribeTrainingPlan` (`Status`, `TargetResources`, `ReservedCapacitySummaries`);
    SageMaker Developer Guide, training plans for HyperPod clusters (a plan's capacity is in one
    Availability Zone: the group's subnets must include it); field reports of creations failing
    for capacity with a training plan.
    """
    _, _, subnets, _ = _network(ctx)
    for pointer, group, group_subnets, _ in _placements(ctx):
        arn = real(group.get("TrainingPlanArn"))
        if not arn:
            continue
        where = f"{pointer}/TrainingPlanArn"
        plan = ctx.account.training_plan(arn)
        if plan is None:
            yield ctx.finding(where, f"training plan {arn} does not exist in {ctx.account.region}")
            continue
        if plan.status == "Pending":
            yield ctx.finding(where, f"training plan {arn} is Pending (not yet active)", severity=Severity.WARNING)
        elif plan.status not in USABLE_PLAN:
            yield ctx.finding(where, f"training plan {arn} is {plan.status}", "buy a new plan, or remove it from the group")
            continue
        if plan.targets and "hyperpod-cluster" not in plan.targets:
            yield ctx.finding(where, f"training plan {arn} reserves capacity for {', '.join(plan.targets)}, not for "
                              "HyperPod clusters")
            continue
        yield from _plan_capacity(ctx, where, group, plan, {subnets[i].zone for i in group_subnets if subnets.get(i)})


@rule("PF466", "training-plan-left-unused", Severity.WARNING, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def training_plan_left_unused(ctx):
    """A group that names no training plan, of an instance type the account has reserved in a usable plan for HyperPod clusters with instances still free.

    ## Why is this bad?
    A group without `TrainingPlanArn` asks for on-demand capacity, even when the account bought
    that very capacity: for the instance types plans are bought for, on-demand capacity is
    rarely there, and the creation fails for capacity while the plan stays unused ("Verify
    TrainingPlanArn is specified"). A warning: the group may be meant to run on demand. Read from
    ListTrainingPlans: plans `Active` or `Scheduled`, for HyperPod clusters, with available
    instances of the group's type.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "gpus", "InstanceCount": 2, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "gpus", "InstanceCount": 2, "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "TrainingPlanArn": "arn:aws:sagemaker:us-east-1:444455556666:training-plan/p5-plan"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    SageMaker `ListTrainingPlans` (`Status`, `TargetResources`, `AvailableInstanceCount`,
    `ReservedCapacitySummaries`); awslabs/ai-on-sagemaker-hyperpod troubleshooting guide
    (capacity errors with Flexible Training Plans: "Verify TrainingPlanArn is specified").
    """
    unplanned = [(pointer, group) for pointer, group in ctx.instance_groups(("InstanceGroups",))
                 if not real(group.get("TrainingPlanArn")) and real(group.get("InstanceType"))]
    if not unplanned:
        return
    usable = [plan for plan in ctx.account.training_plans() if plan.status in USABLE_PLAN
              and (not plan.targets or "hyperpod-cluster" in plan.targets) and (plan.available or 0) > 0]
    for pointer, group in unplanned:
        plans = sorted(plan.arn for plan in usable if any(kind == group["InstanceType"] for kind, _, _ in plan.capacity))
        if plans:
            yield ctx.finding(f"{pointer}/InstanceType", f"{group['InstanceType']} is reserved in training plan "
                              f"{', '.join(plans)}, which this group does not name: it asks for on-demand capacity",
                              f"add \"TrainingPlanArn\": \"{plans[0]}\" to the group, if it is to run on the plan")


def _plan_capacity(ctx, where: str, group: dict, plan, zones: set[str]):
    """The plan's reservations of the group's instance type: they exist, hold its count, and are in
    one of its subnets' zones."""
    instance_type, count = real(group.get("InstanceType")), group.get("InstanceCount")
    if not instance_type:
        return
    reserved = [(zone, instances) for kind, zone, instances in plan.capacity if kind == instance_type]
    if not reserved:
        kinds = ", ".join(sorted({kind for kind, _, _ in plan.capacity})) or "no instance type"
        yield ctx.finding(where, f"training plan {plan.arn} reserves {kinds}, not {instance_type}")
        return
    if isinstance(count, int) and not isinstance(count, bool) and count > sum(n for _, n in reserved):
        yield ctx.finding(where, f"training plan {plan.arn} reserves {sum(n for _, n in reserved)} {instance_type}, "
                          f"fewer than the group's {count}")
    plan_zones = {zone for zone, _ in reserved}
    if zones and not plan_zones & zones:
        yield ctx.finding(where, f"training plan {plan.arn}'s capacity is in {', '.join(sorted(plan_zones))}, and "
                          f"the group's subnets are in {', '.join(sorted(zones))}",
                          f"give the group a subnet in {', '.join(sorted(plan_zones))} (OverrideVpcConfig)")
