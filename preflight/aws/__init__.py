"""The only package that talks to AWS (botocore, imported only when --live or apply asks).

``BotoAccount`` is the account facade the live rules, the plan and the send path use
(``preflight.account.Account``): it reads, and never writes, except for the one ``send``. Behind
it, one reader per service (``ec2``, ``iam``, ``kms``, ``s3``, ``sagemaker``, ``eks``, ``sts``,
``quotas``, ``organizations``, ``fsx``) owns its calls, pagination and the reading of its answers, and every
call goes through ``calls.Calls``: botocore's standard retries with connect and read timeouts, each
distinct resource read once per run (memoised, safe under the concurrent prefetch), batches where the API
batches, and every failure a ``LookupFailed`` naming the call and the reason.
"""

from __future__ import annotations

from preflight.aws.calls import Calls, ConfigurationError, without_userinfo
from preflight.aws.ec2 import Ec2
from preflight.aws.eks import Eks
from preflight.aws.fsx import Fsx
from preflight.aws.iam import Iam
from preflight.aws.kms import Kms
from preflight.aws.organizations import Organizations
from preflight.aws.quotas import Quotas
from preflight.aws.s3 import S3
from preflight.aws.sagemaker import SageMaker
from preflight.aws.sts import Sts

__all__ = ["BotoAccount", "ConfigurationError", "without_userinfo"]


class BotoAccount:
    """The facts of one account and region, each answered by its service's reader."""

    def __init__(self, profile: str | None = None, region: str | None = None, timeout: float = 10.0,
                 deadline: float | None = None):
        calls = Calls(profile, region, timeout, deadline)
        self.region = calls.region
        self.deadline = calls.deadline  # time.monotonic() by which the run's calls end (--deadline), or None
        self.calls = calls.counted  # (service, operation) -> calls made, for tests and bench/
        sts = Sts(calls)
        self.ec2, self.iam, self.kms, self.s3 = Ec2(calls), Iam(calls, sts), Kms(calls), S3(calls, sts)
        self.sagemaker, self.eks, self.quotas = SageMaker(calls), Eks(calls), Quotas(calls)
        self.organizations = Organizations(calls)
        self.fsx = Fsx(calls)
        # preflight.account.Account, fact by fact
        self.caller, self.caller_policies = self.iam.caller, self.iam.caller_policies
        self.identity_policies, self.role = self.iam.identity_policies, self.iam.role
        self.service_linked_role_exists = self.iam.service_linked_role_exists
        self.images, self.snapshots = self.ec2.images, self.ec2.snapshots
        self.subnets, self.security_groups, self.vpc_endpoints = (self.ec2.subnets, self.ec2.security_groups,
                                                                  self.ec2.vpc_endpoints)
        self.offered_zones, self.instance_types = self.ec2.offered_zones, self.ec2.instance_types
        self.file_system, self.interface_groups = self.fsx.file_system, self.ec2.interface_groups
        self.key, self.key_policy = self.kms.key, self.kms.key_policy
        self.object_head, self.small_object, self.bucket_policy = (self.s3.object_head, self.s3.small_object,
                                                                   self.s3.bucket_policy)
        self.bucket_in_caller_account = self.s3.bucket_in_caller_account
        self.eks_cluster, self.vpc_cni_version = self.eks.eks_cluster, self.eks.vpc_cni_version
        self.cluster_quotas = self.quotas.cluster_quotas
        self.cluster, self.cluster_nodes, self.cluster_events = (self.sagemaker.cluster, self.sagemaker.cluster_nodes,
                                                                 self.sagemaker.cluster_events)
        self.scheduler_config, self.cluster_extension = (self.sagemaker.scheduler_config,
                                                         self.sagemaker.cluster_extension)
        self.training_plan, self.clusters_on_eks = self.sagemaker.training_plan, self.sagemaker.clusters_on_eks
        self.organization_policies = self.organizations.organization_policies
        self.organization_id = self.organizations.organization_id
        self.training_plans = self.sagemaker.training_plans
        self.send = self.sagemaker.send
