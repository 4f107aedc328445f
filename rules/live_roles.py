"""PF410-PF42x: the execution roles and what they must reach, the lifecycle scripts, whether the
roles can read them, and the Slurm lifecycle configuration (``--live``).

The roles are required checks (PF400 when they cannot be read); the lifecycle checks are advisory
(PF401 names what was not verified).
"""

from __future__ import annotations

import json

from preflight.findings import Severity
from preflight.live import (PROVISIONING_PARAMETERS, cluster_name, fsx_mounts, in_folder, lifecycle_chain,
                            lifecycle_configs, lifecycle_objects, on_create_folders, policy_set_of,
                            provisioning_parameters)
from preflight.registry import rule
from preflight.values import parse_arn, real, string

SAGEMAKER = "sagemaker.amazonaws.com"


def _trusts(policy: dict, service: str) -> bool:
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        principals = (statement.get("Principal") or {})
        services = principals.get("Service", []) if isinstance(principals, dict) else []
        services = services if isinstance(services, list) else [services]
        if service in services and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            return True
    return False


@rule("PF410", "role-missing", Severity.ERROR, kind="live", required=True)
def role_missing(ctx):
    """An execution role (or `ClusterRole`) that does not exist in the account.

    ## Why is this bad?
    HyperPod cannot assume it: CreateCluster or UpdateCluster fails validation.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/NoSuchRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    SageMaker API reference, `ClusterInstanceGroupSpecification.ExecutionRole`.
    """
    for pointer, arn in ctx.roles():
        if parse_arn(arn) and ctx.account.role(arn) is None:
            yield ctx.finding(pointer, f"role {arn} does not exist", "create the role, or fix the ARN")


@rule("PF411", "role-does-not-trust-sagemaker", Severity.ERROR, kind="live", required=True)
def role_does_not_trust_sagemaker(ctx):
    """An execution role whose trust policy does not let `sagemaker.amazonaws.com` assume it.

    ## Why is this bad?
    The nodes cannot take the role: the cluster fails to create, minutes later. (The autoscaling
    `ClusterRole` trusts `hyperpod.sagemaker.amazonaws.com` instead.)

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/TrustsEc2Role", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    HyperPod developer guide, "IAM role for SageMaker HyperPod"; field reports.
    """
    for pointer, arn in ctx.roles():
        role = ctx.account.role(arn) if parse_arn(arn) else None
        service = "hyperpod.sagemaker.amazonaws.com" if pointer == "/ClusterRole" else SAGEMAKER
        if role is not None and not _trusts(role.trust_policy, service):
            yield ctx.finding(pointer, f"role {arn} does not trust {service}",
                              f'add {{"Effect": "Allow", "Principal": {{"Service": "{service}"}}, "Action": "sts:AssumeRole"}} '
                              "to its trust policy")


@rule("PF420", "lifecycle-script-missing", Severity.ERROR, kind="live", required=False)
def lifecycle_script_missing(ctx):
    """The lifecycle bucket, its `OnCreate` script, or a file the script needs beside it does not exist.

    ## Why is this bad?
    Nodes fail their lifecycle step and the cluster rolls back ("Lifecycle scripts did not run
    successfully. Ensure the scripts exist in provided S3 path"). The nodes run `OnCreate` in the
    downloaded lifecycle folder, so the files it runs or names by a bare relative name must be
    in that prefix: the published Slurm base configuration's `on_create.sh` runs
    `python3 -u lifecycle_script.py` and hands it `provisioning_parameters.json`; the EKS one runs
    `on_create_main.sh` as the test of `if ! bash ./on_create_main.sh ...; then ... exit 1`.
    The chain is followed one step further: the files those scripts run must be there too
    (`lifecycle_script.py` runs `./add_users.sh`, `./utils/motd.sh` and other helpers of its
    folder and subfolders: a folder synced in part fails with exit 127). Read from the OnCreate
    script's first 4 KB and the scripts it runs whole, for an OnCreate script that lies directly
    in its prefix; not judged: names holding a variable or a glob, files a script tests for,
    writes or downloads itself, commands run with `||`, and every name of a script that changes
    folder (`cd`, `os.chdir`). A shell script without `set -e` goes on after a failed command,
    and a Python script may not reach a call inside a branch (other than one choosing by the
    node's Slurm role), a loop or a `try`: a missing file there is a warning. A node replacement
    or addition runs the lifecycle of the groups its new instances join (read from
    `DescribeCluster`), as it is in the bucket now: a script removed since the cluster was created
    fails them.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "no_such_script.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    HyperPod developer guide, lifecycle scripts; aws-samples/awsome-distributed-training,
    1.architectures/5.sagemaker-hyperpod/LifecycleScripts/base-config/on_create.sh and
    lifecycle_script.py (2023 to 2026), the EKS base-config's on_create.sh (before pull #937 it
    ran on_create_main.sh unguarded; since, it tests for it first); field reports.
    """
    for pointer, bucket, key in lifecycle_objects(ctx):
        head = ctx.account.object_head(bucket, key)
        if not head.bucket_exists:
            yield ctx.finding(pointer, f"bucket {bucket} does not exist")
        elif head.head is None:
            yield ctx.finding(pointer, f"s3://{bucket}/{key} does not exist", "upload the script, or fix OnCreate")
    for pointer, bucket, prefix, key in on_create_folders(ctx):
        for needing, name, certain, exists in lifecycle_chain(ctx.account, bucket, prefix, key):
            if exists:
                continue
            beside = in_folder(prefix, name)
            by = f"s3://{bucket}/{needing}" if needing == key else f"{needing.rpartition('/')[2]} (run by {key.rpartition('/')[2]})"
            yield ctx.finding(pointer, f"{by} needs {name}; s3://{bucket}/{beside} does not exist"
                              + ("" if certain else " (the run may go on without it)"),
                              f"upload {name} to s3://{bucket}/{prefix + '/' if prefix else ''}"
                              + ("" if "/" not in name else " (the whole lifecycle folder, its subfolders too)"),
                              severity=None if certain else Severity.WARNING)


@rule("PF421", "lifecycle-script-malformed", Severity.ERROR, kind="live", required=False)
def lifecycle_script_malformed(ctx):
    """The `OnCreate` script has no `#!` line, or Windows (CRLF) line endings.

    ## Why is this bad?
    The node runs it directly: without a shebang it fails to execute, and with CRLF endings the
    interpreter is `/bin/bash\\r`, which does not exist.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "crlf.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    Field reports.
    """
    for pointer, bucket, key in lifecycle_objects(ctx):
        head = ctx.account.object_head(bucket, key)
        if head.head is None:
            continue
        if not head.head.startswith(b"#!"):
            yield ctx.finding(pointer, f"s3://{bucket}/{key} does not start with a #! line", "add #!/bin/bash")
        if b"\r\n" in head.head:
            yield ctx.finding(pointer, f"s3://{bucket}/{key} has CRLF line endings", "convert it with dos2unix")


@rule("PF422", "lifecycle-unreadable-by-role", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def lifecycle_unreadable_by_role(ctx):
    """A group's execution role may not read its lifecycle scripts (`s3:GetObject`, `s3:ListBucket`).

    ## Why is this bad?
    The nodes download the lifecycle scripts with the execution role; without read access the
    cluster fails with "Lifecycle scripts did not run successfully. Ensure the scripts exist in
    provided S3 path, are accessible...". Judged from the role's identity policies, its
    permissions boundary and the bucket policy; a condition that cannot be known here makes it a
    warning (undecided), never a pass. The bucket's account is read (HeadBucket with
    `ExpectedBucketOwner`), not assumed: in the role's account either policy may grant; in
    another account the bucket policy and the role's own policies must both allow, and since
    that bucket policy cannot be read from here, a role whose policies allow it is a warning.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/NoKmsExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    HyperPod developer guide, lifecycle scripts and the execution role (AmazonSageMakerClusterInstanceRolePolicy); field reports.
    """
    from preflight.iam import s3access
    from preflight.iam.evaluate import MAYBE, NO
    from preflight.lookup import LookupFailed

    judged = set()
    for pointer, group, bucket, prefix, key in lifecycle_configs(ctx):
        role_arn = real(group.get("ExecutionRole"))
        if not parse_arn(role_arn) or (role_arn, bucket, key) in judged:
            continue
        judged.add((role_arn, bucket, key))
        head = ctx.account.object_head(bucket, key)
        if ctx.account.role(role_arn) is None or not head.bucket_exists:
            continue  # PF410 and PF420 report those
        identity = policy_set_of(role_arn, ctx.account.identity_policies(role_arn))
        # The execution role is the caller's account's (iam:PassRole passes no other account's role).
        in_role_account, policy, policy_read = head.in_caller_account, None, head.in_caller_account is not False
        if policy_read:
            try:
                policy = ctx.account.bucket_policy(bucket)
                in_role_account = True  # S3 gives a bucket policy to its own account only
            except LookupFailed:
                if in_role_account:
                    raise
                policy_read = False  # neither the bucket's account nor its policy is known: undecided
        where = f"{pointer}/LifeCycleConfig/SourceS3Uri"
        for action, resource, outcome, reason in s3access.verdicts(role_arn, identity, policy, bucket, key, prefix,
                                                                   in_role_account, ctx.organization, policy_read):
            if outcome == NO:
                yield ctx.finding(where, f"role {role_arn} may not {action} on {resource}: {reason}",
                                  f"allow {action} on {resource} in the role's policy")
            elif outcome == MAYBE:
                yield ctx.finding(where, f"whether role {role_arn} may {action} on {resource} is not decided: {reason}",
                                  severity=Severity.WARNING)


@rule("PF427", "lifecycle-key-unusable-by-role", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def lifecycle_key_unusable_by_role(ctx):
    """A group's lifecycle script is encrypted with a customer managed KMS key (SSE-KMS) that its execution role may not decrypt with.

    ## Why is this bad?
    S3 decrypts an SSE-KMS object for whoever reads it: the node downloads its lifecycle scripts
    with the execution role, which needs `kms:Decrypt` on the key through S3 (`kms:ViaService` =
    `s3.<region>.amazonaws.com`), from the key policy directly or, where the key policy delegates
    to the account, from the role's own policies. Without it the download is refused (KMS
    AccessDenied) and the lifecycle fails, though the role may read the bucket (PF422). The AWS
    managed key `aws/s3` lets every principal of the account decrypt through S3: not judged. A
    condition that cannot be decided here is a warning.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/kms-locked", "OnCreate": "on_create.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/kms-open", "OnCreate": "on_create.sh"}}]}
    ```

    ## Source
    Amazon S3 user guide, server-side encryption with KMS keys (the reader needs `kms:Decrypt`);
    AWS KMS key policies; HyperPod troubleshooting references (KMS AccessDenied on a lifecycle
    bucket with SSE-KMS).
    """
    from preflight.iam import keys
    from preflight.iam.evaluate import MAYBE, NO

    judged = set()
    for pointer, group, bucket, _, script in lifecycle_configs(ctx):
        role_arn = real(group.get("ExecutionRole"))
        reference = ctx.account.object_head(bucket, script).kms_key if parse_arn(role_arn) else None
        key = ctx.account.key(reference) if reference else None
        if key is None or key.manager != "CUSTOMER" or (role_arn, key.arn) in judged \
                or ctx.account.role(role_arn) is None:
            continue  # PF410 reports a missing role; each role and key pair is judged once
        judged.add((role_arn, key.arn))
        own = policy_set_of(role_arn, ctx.account.identity_policies(role_arn)).statements()
        needs = keys.lifecycle_needs(key.arn, ctx.account.region)
        where = f"{pointer}/LifeCycleConfig/SourceS3Uri"
        for action, outcome, reason in keys.verdicts(key.arn, ctx.account.key_policy(key.arn) or {}, role_arn, own,
                                                     ctx.account.region, needs, ctx.organization):
            if outcome == NO:
                yield ctx.finding(where, f"s3://{bucket}/{script} is encrypted with {key.arn}, and role {role_arn} may "
                                  f"not {action} on it: {reason}", "allow kms:Decrypt on the key to the role, with "
                                  "kms:ViaService s3.<region>.amazonaws.com")
            elif outcome == MAYBE:
                yield ctx.finding(where, f"s3://{bucket}/{script} is encrypted with {key.arn}; whether role {role_arn} "
                                  f"may {action} on it is not decided: {reason}", severity=Severity.WARNING)


def _role_not_allowed(ctx, role_arn: str, actions) -> tuple[list[str], list[str]]:
    """The actions a role's own policies (within its permissions boundary) do not allow on any
    resource: (not allowed, allowed only on some resources or under conditions)."""
    from preflight.iam.evaluate import MAYBE, YES, Request, Resource, decide

    identity = policy_set_of(role_arn, ctx.account.identity_policies(role_arn))
    boundary = identity.statements(boundary=True) if identity.has_boundary else None
    missing, undecided = [], []
    for action in actions:
        decision = decide(identity.statements(), boundary, Request(action, Resource.any()))
        if decision.outcome == YES:
            continue
        (undecided if decision.outcome == MAYBE or decision.near and not decision.denied_by else missing).append(action)
    return missing, undecided


# What the execution role of a group in the customer's VPC needs to give its nodes their network
# interfaces (the HyperPod guide's custom-VPC permissions; the managed instance-role policy has none).
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
               "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
               "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
               "ec2:DetachNetworkInterface")


@rule("PF425", "execution-role-without-vpc-permissions", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def execution_role_without_vpc_permissions(ctx):
    """The execution role of a group placed in a VPC (`VpcConfig` or `OverrideVpcConfig`) is not allowed the EC2 network-interface actions HyperPod needs.

    ## Why is this bad?
    HyperPod gives each node a network interface in the request's subnets with the group's
    execution role: without `ec2:CreateNetworkInterface` and the other actions the HyperPod guide
    lists for a custom VPC, the nodes never start ("You are not authorized to perform this
    operation"). The AWS managed `AmazonSageMakerClusterInstanceRolePolicy` does not grant them.
    An action the role's policies do not name is an error; one allowed only on some resources or
    under conditions is a warning (not decided here).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/NoKmsExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}], "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    SageMaker Developer Guide, "Setting up SageMaker HyperPod with a custom Amazon VPC" (the
    execution role's additional EC2 permissions); field reports of creations refused for them.
    """
    in_vpc = isinstance(ctx.value("/VpcConfig"), dict)
    judged = set()
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        role_arn = real(group.get("ExecutionRole"))
        placed = in_vpc or isinstance(group.get("OverrideVpcConfig"), dict)
        if not placed or not parse_arn(role_arn) or role_arn in judged or ctx.account.role(role_arn) is None:
            continue  # PF410 reports a missing role
        judged.add(role_arn)
        missing, undecided = _role_not_allowed(ctx, role_arn, VPC_ACTIONS)
        where = f"{pointer}/ExecutionRole"
        if missing:
            yield ctx.finding(where, f"role {role_arn} is not allowed {', '.join(missing)}, which HyperPod needs to place "
                              "its nodes in the VPC", "allow them on \"*\" in the role's policy")
        if undecided:
            yield ctx.finding(where, f"whether role {role_arn} may {', '.join(undecided)} for its nodes' network "
                              "interfaces is not decided: allowed only on some resources or under conditions",
                              severity=Severity.WARNING)


# What ClusterRole needs to scale the cluster (the model's ClusterRole documentation).
AUTOSCALING_ACTIONS = ("sagemaker:BatchAddClusterNodes", "sagemaker:BatchDeleteClusterNodes")


@rule("PF428", "cluster-role-without-autoscaling-permissions", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def cluster_role_without_autoscaling_permissions(ctx):
    """`ClusterRole` of a request that enables autoscaling is not allowed to add and delete the cluster's nodes.

    ## Why is this bad?
    HyperPod's autoscaler acts as `ClusterRole`: the model says the role "must have permissions
    for `sagemaker:BatchAddClusterNodes` and `sagemaker:BatchDeleteClusterNodes`". Without them the
    cluster is created (or updated) with autoscaling on, and Karpenter's scaling calls are denied,
    so pending pods never get nodes. An action the role's policies do not name is an error; one
    allowed only on some resources or under conditions is a warning (not decided here). A role
    that is missing, or does not trust `hyperpod.sagemaker.amazonaws.com`, is PF410's and PF411's.

    ## Example
    ```json
    {"ClusterName": "ml-cluster-2", "AutoScaling": {"Mode": "Enable", "AutoScalerType": "Karpenter"}, "ClusterRole": "arn:aws:iam::444455556666:role/HyperPodClusterRoleWithoutScaling", "NodeProvisioningMode": "Continuous", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster-2", "AutoScaling": {"Mode": "Enable", "AutoScalerType": "Karpenter"}, "ClusterRole": "arn:aws:iam::444455556666:role/HyperPodClusterRole", "NodeProvisioningMode": "Continuous", "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:444455556666:cluster/hyperpod-eks"}}}
    ```

    ## Source
    botocore service model, `CreateClusterRequest.ClusterRole` and `UpdateClusterRequest.ClusterRole`
    documentation; SageMaker Developer Guide, "Create an IAM role for HyperPod autoscaling with
    Karpenter" (sagemaker-hyperpod-eks-autoscaling-iam).
    """
    scaling = ctx.value("/AutoScaling")
    role_arn = real(ctx.value("/ClusterRole"))
    if not (isinstance(scaling, dict) and scaling.get("Mode") == "Enable") or not parse_arn(role_arn) \
            or ctx.account.role(role_arn) is None:
        return  # PF118 reports a missing ClusterRole, PF410 one the account does not have
    missing, undecided = _role_not_allowed(ctx, role_arn, AUTOSCALING_ACTIONS)
    if missing:
        yield ctx.finding("/ClusterRole", f"role {role_arn} is not allowed {', '.join(missing)}, which HyperPod's "
                          "autoscaler calls as this role", "allow them on the cluster in the role's policy")
    if undecided:
        yield ctx.finding("/ClusterRole", f"whether role {role_arn} may {', '.join(undecided)} is not decided: "
                          "allowed only on some resources or under conditions", severity=Severity.WARNING)


@rule("PF423", "provisioning-parameters-mismatch", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def provisioning_parameters_mismatch(ctx):
    """The Slurm `provisioning_parameters.json` beside the lifecycle scripts is not valid JSON, names no controller group, or names groups the cluster will not have.

    ## Why is this bad?
    The Slurm lifecycle scripts read it to tell the controller, login and worker nodes apart; a
    group it names that the cluster lacks, or a partition named after another instance type than
    its group's, leaves nodes out of Slurm and the lifecycle fails; without a `controller_group`
    no node runs the controller. An empty `login_group` means no login nodes, which is valid. A
    group of the request it gives no role to is a warning: its nodes run outside Slurm.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm-other", "OnCreate": "on_create.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm", "OnCreate": "on_create.sh"}}, {"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm", "OnCreate": "on_create.sh"}}]}
    ```

    Whether the lifecycle has the files it names is PF420's. `provisioning_parameters.json`
    itself names no script in any published configuration read: its members are `version`,
    `workload_manager`, `controller_group`, `login_group`, `worker_groups` (`instance_group_name`,
    `partition_name`), `fsx_dns_name`, `fsx_mountname`, `fsx_openzfs_dns_name` and
    `slurm_configurations` (aws-samples/awsome-distributed-training: base-config/lifecycle_script.py,
    which reads it, and the Terraform module hyperpod-slurm-tf/modules/lifecycle_script, which
    writes it; the HyperPod workshop's and other published generators write the same members).
    The scripts are named by `on_create.sh` and `lifecycle_script.py` instead.

    ## Source
    HyperPod developer guide, base lifecycle scripts for Slurm (`provisioning_parameters.json`);
    aws-samples/awsome-distributed-training, 1.architectures/5.sagemaker-hyperpod/LifecycleScripts/base-config.
    """
    groups = {string(g.get("InstanceGroupName")): g.get("InstanceType")
              for _, g in ctx.instance_groups(("InstanceGroups",))}
    # Per lifecycle folder, the request's groups that run its scripts and take no Slurm role from
    # the API (SlurmConfig): the ones its provisioning_parameters.json must place.
    placed_by_file: dict[tuple[str, str], list[str]] = {}
    for _, group, bucket, prefix, _ in lifecycle_configs(ctx):
        if isinstance(group.get("InstanceGroupName"), str) and "SlurmConfig" not in group:
            placed_by_file.setdefault((bucket, in_folder(prefix, PROVISIONING_PARAMETERS)), []).append(
                group["InstanceGroupName"])
    if ctx.operation == "update-cluster":
        name = cluster_name(ctx)
        cluster = ctx.account.cluster(name) if name else None
        for group_name, record in (cluster.groups if cluster else {}).items():
            groups.setdefault(group_name, record.get("InstanceType"))
    for pointer, bucket, key in provisioning_parameters(ctx):
        body = ctx.account.small_object(bucket, key)
        if body is None:
            continue
        where = f"s3://{bucket}/{key}"
        try:
            parameters = json.loads(body)
        except ValueError as err:
            yield ctx.finding(pointer, f"{where} is not valid JSON: {err}")
            continue
        if not isinstance(parameters, dict):
            yield ctx.finding(pointer, f"{where} is not a JSON object")
            continue
        named = [(f"{member}", parameters.get(member), None) for member in ("controller_group", "login_group")]
        workers = parameters.get("worker_groups")
        for index, worker in enumerate(workers if isinstance(workers, list) else []):
            if isinstance(worker, dict):
                named.append((f"worker_groups[{index}]", worker.get("instance_group_name"), worker.get("partition_name")))
        if not real(parameters.get("controller_group")):
            yield ctx.finding(pointer, f"{where} names no controller_group: Slurm's controller never starts",
                              "name the instance group that runs the Slurm controller")
        for member, group_name, partition in named:
            if not isinstance(group_name, str) or not group_name:  # an empty login_group: no login nodes
                continue
            if group_name not in groups:
                yield ctx.finding(pointer, f"{where} {member} names group {group_name!r}, which the cluster will not have",
                                  f"its groups: {', '.join(sorted(g for g in groups if isinstance(g, str))) or 'none'}")
            elif isinstance(partition, str) and partition.startswith("ml.") and groups[group_name] \
                    and partition != groups[group_name]:
                yield ctx.finding(pointer, f"{where} {member} partition {partition} is not {group_name}'s instance type "
                                  f"{groups[group_name]}")
        slurm_groups = {group_name for _, group_name, _ in named if isinstance(group_name, str)}
        left_out = sorted(g for g in placed_by_file.get((bucket, key), []) if g not in slurm_groups)
        if left_out:
            yield ctx.finding(pointer, f"{where} names no role for {', '.join(left_out)}: their nodes do not join Slurm",
                              "add them to worker_groups (or make one the login_group)", severity=Severity.WARNING)


# A file system in these states cannot be mounted, and will not be (FSx's Lifecycle values).
FSX_GONE = ("FAILED", "DELETING", "MISCONFIGURED_UNAVAILABLE")


@rule("PF426", "fsx-file-system-unusable", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def fsx_file_system_unusable(ctx):
    """The FSx for Lustre file system the Slurm lifecycle mounts (`fsx_dns_name` in `provisioning_parameters.json`) does not exist, is not Lustre, cannot be mounted, or has another mount name than `fsx_mountname`.

    ## Why is this bad?
    The published Slurm lifecycle (`lifecycle_script.py`) runs `mount_fsx.sh` with the two values
    on every node: `mount -t lustre <fsx_dns_name>@tcp:/<fsx_mountname> /fsx`. A file system that
    does not exist in the region, is of another type, has failed or is being deleted, or whose
    mount name differs, fails that mount and the node's lifecycle (an error). One still `CREATING`
    may be ready in time, or not, and `fsx_dns_name` without `fsx_mountname` mounts nothing: both
    warnings. Judged when `fsx_dns_name` is the region's FSx name (`fs-....fsx.<region>.amazonaws.com`).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm-fsx-missing", "OnCreate": "on_create.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "controller", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm-fsx", "OnCreate": "on_create.sh"}}]}
    ```

    ## Source
    FSx `DescribeFileSystems` (`FileSystemType`, `Lifecycle`, `LustreConfiguration.MountName`);
    FSx for Lustre user guide, mounting a file system; aws-samples/awsome-distributed-training,
    1.architectures/5.sagemaker-hyperpod/LifecycleScripts/base-config (lifecycle_script.py and
    mount_fsx.sh); field reports of lifecycle scripts failing at the FSx mount.
    """
    for pointer, where, dns_name, system_id, mount_name, _ in fsx_mounts(ctx):
        system = ctx.account.file_system(system_id)
        named = f"{where} fsx_dns_name {dns_name}"
        if system is None:
            yield ctx.finding(pointer, f"{named}: file system {system_id} does not exist in {ctx.account.region}",
                              "create it first, or name an existing file system")
            continue
        if system.type != "LUSTRE":
            yield ctx.finding(pointer, f"{named}: {system_id} is an FSx for {system.type.title()} file system, not Lustre")
            continue
        if system.lifecycle in FSX_GONE:
            yield ctx.finding(pointer, f"{named}: {system_id} is {system.lifecycle}")
            continue
        if system.lifecycle == "CREATING":
            yield ctx.finding(pointer, f"{named}: {system_id} is still CREATING", "wait until it is AVAILABLE",
                              severity=Severity.WARNING)
        if mount_name is None:
            yield ctx.finding(pointer, f"{named} is given without fsx_mountname: the lifecycle mounts nothing",
                              f"add \"fsx_mountname\": \"{system.mount_name}\"", severity=Severity.WARNING)
        elif system.mount_name and mount_name != system.mount_name:
            yield ctx.finding(pointer, f"{where} fsx_mountname {mount_name!r} is not {system_id}'s mount name "
                              f"{system.mount_name!r}", f"set \"fsx_mountname\": \"{system.mount_name}\"")


@rule("PF424", "lifecycle-bucket-other-region", Severity.WARNING, kind="live", required=False)
def lifecycle_bucket_other_region(ctx):
    """The lifecycle bucket is in another region than the cluster.

    ## Why is this bad?
    The nodes fetch the scripts across regions: slower, charged as transfer between regions, and
    blocked where the VPC reaches S3 through a gateway endpoint (which serves its own region only).

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-eu/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    Amazon S3 user guide, gateway endpoints; HyperPod developer guide, VPC setup.
    """
    said = set()
    for pointer, _, bucket, _, key in lifecycle_configs(ctx):
        region = ctx.account.object_head(bucket, key).bucket_region
        if region and region != ctx.account.region and bucket not in said:
            said.add(bucket)
            yield ctx.finding(f"{pointer}/LifeCycleConfig/SourceS3Uri",
                              f"bucket {bucket} is in {region}; the cluster is in {ctx.account.region}",
                              "copy the lifecycle scripts to a bucket in the cluster's region")
