"""What the live rules may know of an AWS account: small read-only records and the facade they
come through. Nothing here imports botocore; ``preflight.aws.BotoAccount`` is the implementation.

A lookup returns the record, or None when AWS says the resource does not exist (a verified fact).
Anything else that keeps it from answering (no credentials, AccessDenied, throttling past the
retries, a timeout, an endpoint that is down) raises ``preflight.lookup.LookupFailed``: the rule could not verify.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Caller:
    arn: str  # the identity's ARN (an assumed role is given as its role)
    account: str


@dataclass(frozen=True)
class Image:
    id: str
    state: str
    owner: str
    tags: dict[str, str]
    snapshot_ids: tuple[str, ...]  # one per EBS block device mapping


@dataclass(frozen=True)
class Snapshot:
    id: str
    encrypted: bool
    kms_key_id: str | None  # a key ARN when encrypted
    tags: dict[str, str]


@dataclass(frozen=True)
class Key:
    arn: str
    state: str  # Enabled, Disabled, PendingDeletion...
    manager: str  # CUSTOMER or AWS


@dataclass(frozen=True)
class Role:
    arn: str
    trust_policy: dict
    boundary_arn: str | None = None  # its permissions boundary
    tags: tuple[tuple[str, str], ...] = ()  # (key, value): GetRole gives every tag of the role


@dataclass(frozen=True)
class ObjectHead:
    """The first bytes of an S3 object (None: the bucket exists but the object does not)."""

    bucket_exists: bool
    head: bytes | None
    bucket_region: str | None = None  # where the bucket is, when S3 says (x-amz-bucket-region)
    kms_key: str | None = None  # the KMS key the object is encrypted with (SSE-KMS), as S3 names it
    in_caller_account: bool | None = None  # the bucket is the caller's account's (None: not known)


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc: str
    zone: str
    public: bool  # its route table sends 0.0.0.0/0 to an internet gateway
    egress: bool = False  # ... or to a target a node without a public address gets out by (NAT, transit gateway)
    route_table: str | None = None  # its own route table, else the VPC's main one
    cidr: str | None = None  # its IPv4 block
    free_addresses: int | None = None  # AvailableIpAddressCount


@dataclass(frozen=True)
class VpcEndpoint:
    id: str
    service: str  # the service's own name: "s3", "sts", "ecr.api"...
    kind: str  # Gateway or Interface
    state: str
    route_tables: tuple[str, ...] = ()  # a gateway endpoint's


@dataclass(frozen=True)
class Permission:
    """One rule of a security group: a protocol (``-1`` for all), its ports (None: all), and the
    groups and IPv4 blocks it admits (inbound) or reaches (outbound)."""

    protocol: str
    from_port: int | None
    to_port: int | None
    groups: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    vpc: str
    self_ingress: bool  # all traffic from the group itself
    self_egress: bool  # all traffic to the group itself
    inbound: tuple[Permission, ...] = ()
    outbound: tuple[Permission, ...] = ()


@dataclass(frozen=True)
class FileSystem:
    """DescribeFileSystems: an Amazon FSx file system, and the network interfaces it is reached by."""

    id: str
    type: str  # LUSTRE, OPENZFS, ONTAP, WINDOWS
    lifecycle: str  # AVAILABLE, CREATING, FAILED, DELETING, MISCONFIGURED, UPDATING...
    vpc: str
    subnets: tuple[str, ...]
    dns_name: str
    mount_name: str | None  # LustreConfiguration.MountName
    network_interfaces: tuple[str, ...]


@dataclass(frozen=True)
class InstanceType:
    """DescribeInstanceTypes: what EC2 says of a type (named without SageMaker's ``ml.`` prefix)."""

    name: str
    efa_supported: bool


@dataclass(frozen=True)
class EksCluster:
    arn: str
    status: str
    authentication_mode: str | None  # None: the endpoint did not say
    vpc: str | None
    kubernetes_version: str | None = None  # DescribeCluster's version ("1.31"); None: not said


@dataclass(frozen=True)
class ClusterState:
    arn: str
    status: str
    groups: dict[str, dict] = field(default_factory=dict)  # name -> DescribeCluster's group record
    failure: str | None = None  # DescribeCluster's FailureMessage, when it gives one
    orchestrator: str | None = None  # "Eks" or "Slurm" when DescribeCluster names one
    provisioning_mode: str | None = None  # NodeProvisioningMode ("Continuous") when it gives one
    eks_arn: str | None = None  # the EKS cluster that orchestrates it
    created: datetime | None = None  # DescribeCluster's CreationTime (timezone-aware)


@dataclass(frozen=True)
class Node:
    """One ListClusterNodes summary."""

    id: str
    group: str
    status: str
    instance_type: str = ""
    logical_id: str | None = None
    software_updated: datetime | None = None  # LastSoftwareUpdateTime (timezone-aware)


@dataclass(frozen=True)
class SchedulerConfig:
    """DescribeClusterSchedulerConfig: a cluster policy (HyperPod task governance)."""

    id: str
    arn: str
    name: str
    cluster_arn: str | None
    version: int
    status: str  # Creating, Created, Updating, Updated, Deleting, Deleted, or one of the *Failed
    failure: str | None = None  # its FailureReason


@dataclass(frozen=True)
class Extension:
    """DescribeClusterExtension: software installed on every node of a cluster."""

    arn: str
    name: str
    version: str
    status: str  # Creating, Active, Updating, Deleting, Degraded, or one of the *Failed
    failure: str | None = None  # its Health issues, when a node has one


@dataclass(frozen=True)
class TrainingPlan:
    """DescribeTrainingPlan: capacity reserved for a cluster's instance groups."""

    arn: str
    status: str  # Pending, Active, Scheduled, Expired or Failed
    targets: tuple[str, ...]  # hyperpod-cluster, training-job
    capacity: tuple[tuple[str, str, int], ...]  # (instance type, zone, instances) of each reservation
    available: int | None = None  # AvailableInstanceCount: reserved instances no cluster uses yet


@dataclass(frozen=True)
class OrganizationPolicies:
    """The organisation an account is in, and the policies attached at each level of the path from
    its root down to the account: (target id, ((policy name, policy text), ...)), root first; a
    policy type the organisation has not enabled has no levels."""

    id: str
    management_account: str
    scps: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    rcps: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class Delivery:
    """What the answer to a send proves (see ``aws.BotoAccount.send``)."""

    result: str  # sent | refused | not-delivered | unknown
    response: dict | None = None
    code: str | None = None  # AWS's error code, when the answer had one
    reason: str | None = None


class Account(Protocol):
    region: str

    def caller(self) -> Caller: ...
    def images(self, ids: list[str]) -> dict[str, Image | None]: ...
    def snapshots(self, ids: list[str]) -> dict[str, Snapshot | None]: ...
    def key(self, reference: str) -> Key | None: ...
    def key_policy(self, key_arn: str) -> dict | None: ...
    def role(self, arn: str) -> Role | None: ...
    def service_linked_role_exists(self) -> bool: ...  # HyperPod's, made by an account's first cluster
    def object_head(self, bucket: str, key: str) -> ObjectHead: ...
    def bucket_in_caller_account(self, bucket: str) -> bool | None: ...  # ObjectHead's, without reading an object
    def subnets(self, ids: list[str]) -> dict[str, Subnet | None]: ...
    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup | None]: ...
    def file_system(self, file_system_id: str) -> FileSystem | None: ...
    def interface_groups(self, ids: list[str]) -> dict[str, tuple[str, ...] | None]: ...  # ENI -> its groups
    def vpc_endpoints(self, vpc: str) -> list[VpcEndpoint]: ...
    def eks_cluster(self, name: str) -> EksCluster | None: ...
    def vpc_cni_version(self, eks_name: str) -> str | None: ...  # the managed vpc-cni add-on's; None: none
    def cluster(self, name: str, fresh: bool = False) -> ClusterState | None: ...
    def cluster_nodes(self, name: str, fresh: bool = False) -> list[Node] | None: ...  # None: no such cluster
    def cluster_events(self, name: str) -> list[dict]: ...  # ListClusterEvents, newest last; always fresh
    def scheduler_config(self, config_id: str, fresh: bool = False) -> SchedulerConfig | None: ...
    def cluster_extension(self, cluster: str, arn: str, fresh: bool = False) -> Extension | None: ...
    def bucket_policy(self, bucket: str) -> dict | None: ...  # None: the bucket has no policy
    def small_object(self, bucket: str, key: str) -> bytes | None: ...  # None: no such object
    def offered_zones(self, instance_type: str) -> set[str]: ...  # every zone of the region offering it
    def instance_types(self, names: list[str]) -> dict[str, InstanceType | None]: ...  # None: EC2 knows no such type
    def cluster_quotas(self) -> dict[str, float]: ...
    def training_plan(self, arn: str) -> TrainingPlan | None: ...
    def training_plans(self) -> list[TrainingPlan]: ...  # every plan of the region
    def clusters_on_eks(self, eks_arn: str) -> dict[str, str]: ...  # HyperPod cluster name -> status
    def identity_policies(self, principal_arn: str) -> dict: ...  # get-account-authorization-details shape
    def caller_policies(self) -> dict: ...  # identity_policies of caller().arn
    def organization_policies(self, account: str) -> OrganizationPolicies | None: ...  # None: in no organisation
    def organization_id(self) -> str | None: ...  # the caller's organisation; None: in no organisation
    def send(self, operation: str, request: dict) -> Delivery: ...
