"""PF410-PF42x: the execution roles and what they must reach, the lifecycle scripts (``--live``).

The roles are required checks (PF400 when they cannot be read); the lifecycle checks are advisory
(PF401 names what was not verified).
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import lifecycle_objects
from preflight.registry import rule
from preflight.values import parse_arn

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
    """The lifecycle bucket or its `OnCreate` script does not exist.

    ## Why is this bad?
    Nodes fail their lifecycle step and the cluster rolls back.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "no_such_script.sh"}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/", "OnCreate": "on_create_noop.sh"}}]}
    ```

    ## Source
    HyperPod developer guide, lifecycle scripts; field reports.
    """
    for pointer, bucket, key in lifecycle_objects(ctx):
        head = ctx.account.object_head(bucket, key)
        if not head.bucket_exists:
            yield ctx.finding(pointer, f"bucket {bucket} does not exist")
        elif head.head is None:
            yield ctx.finding(pointer, f"s3://{bucket}/{key} does not exist", "upload the script, or fix OnCreate")


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
