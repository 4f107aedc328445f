"""PF210-PF216 and PF4xx: what only the account can tell (``--live``, read-only).

The AMI, its sharing tag, the key match and the roles are required checks: if the account cannot
be read for them, preflight fails closed (PF400, exit 3). The others are advisory: a lookup that
fails gives a warning that names what was not verified (PF401). Each rule reads the account
through ``ctx.account`` (preflight/account.py), already prefetched once per run.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import UPDATES, eks_name, lifecycle_objects, network_ids, policy_set_of
from preflight.registry import rule
from preflight.values import parse_arn, real

SHARING_TAG, SHARING_VALUE = "AllowSharing", "true"
SAGEMAKER = "sagemaker.amazonaws.com"
API_MODES = ("API", "API_AND_CONFIG_MAP")


@rule("PF400", "verification-incomplete", Severity.ERROR, kind="engine")
def verification_incomplete(ctx):
    """A check the mission requires (AMI, sharing tag, key match, roles) could not be completed.

    ## Why is this bad?
    preflight cannot say the request is safe, so it fails closed: the run exits 3 and nothing is
    sent. The finding names the lookup that failed and why (no credentials, AccessDenied,
    throttling past retries, a timeout, an unreachable endpoint).

    ## Source
    preflight's gate: only a request that passes is ever sent.
    """
    return ()


@rule("PF401", "advisory-verification-incomplete", Severity.WARNING, kind="engine")
def advisory_verification_incomplete(ctx):
    """An advisory live check (lifecycle, network, orchestrator, caller, capacity) could not be completed.

    ## Why is this bad?
    The request may still be fine; the warning says exactly what was not verified and why.

    ## Source
    preflight's gate.
    """
    return ()


def _image_records(ctx):
    images = ctx.custom_images()
    found = ctx.account.images(sorted(images)) if images else {}
    return [(image_id, pointer, found.get(image_id)) for image_id, pointer in images.items()]


@rule("PF210", "custom-ami-unavailable", Severity.ERROR, kind="live", required=True)
def custom_ami_unavailable(ctx):
    """The custom AMI does not exist in the region, or is not `available`.

    ## Why is this bad?
    HyperPod cannot launch nodes from it; the cluster fails after minutes of provisioning.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0ccccccccccccccc3"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    Seed guide, "Creación de un clúster"; EC2 `DescribeImages`.
    """
    for image_id, pointer, image in _image_records(ctx):
        if image is None:
            yield ctx.finding(pointer, f"AMI {image_id} does not exist in {ctx.account.region}",
                              "build or copy the AMI into this region, or fix the id")
        elif image.state != "available":
            yield ctx.finding(pointer, f"AMI {image_id} is {image.state}, not available")


@rule("PF211", "custom-ami-foreign-owner", Severity.ERROR, kind="live", required=True)
def custom_ami_foreign_owner(ctx):
    """The custom AMI is owned by another account than the caller's.

    ## Why is this bad?
    The model: the custom AMI "must be owned by the same Amazon Web Services account that is
    creating the HyperPod cluster".

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0ddddddddddddddd5"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    botocore service model, `ImageId` documentation.
    """
    images = _image_records(ctx)
    if not any(image for _, _, image in images):
        return
    account = ctx.account.caller().account
    for image_id, pointer, image in images:
        if image and image.owner != account:
            yield ctx.finding(pointer, f"AMI {image_id} is owned by {image.owner}, not by the caller's account {account}",
                              "copy the AMI into this account")


@rule("PF212", "custom-ami-extra-volumes", Severity.ERROR, kind="live", required=True)
def custom_ami_extra_volumes(ctx):
    """The custom AMI has more than one EBS volume.

    ## Why is this bad?
    The model: "Only the primary AMI snapshot volume is supported; additional AMI volumes are not supported."

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0fffffffffffffff7"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    botocore service model, `ImageId` documentation.
    """
    for image_id, pointer, image in _image_records(ctx):
        if image and len(image.snapshot_ids) > 1:
            yield ctx.finding(pointer, f"AMI {image_id} has {len(image.snapshot_ids)} EBS volumes "
                              f"({', '.join(image.snapshot_ids)}); only the root volume is supported",
                              "build the AMI with a single EBS volume")


@rule("PF213", "custom-ami-not-tagged-for-sharing", Severity.ERROR, kind="live", required=True)
def custom_ami_not_tagged_for_sharing(ctx):
    """The custom AMI or one of its snapshots lacks the tag `AllowSharing=true` (exact, case-sensitive).

    ## Why is this bad?
    The seed's administrator policy grants `ec2:ModifyImageAttribute` and
    `ec2:ModifySnapshotAttribute` only under `StringEquals ec2:ResourceTag/AllowSharing = "true"`,
    checked on the image and on each snapshot: without the tag the image cannot be shared with
    the service and cluster creation fails.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0bbbbbbbbbbbbbbb2"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    Seed guide, the tag-restricted sharing policy.
    """
    records = _image_records(ctx)
    snapshot_ids = sorted({s for _, _, image in records if image for s in image.snapshot_ids})
    snapshots = ctx.account.snapshots(snapshot_ids) if snapshot_ids else {}
    for image_id, pointer, image in records:
        if image is None:
            continue
        tagged = [(f"AMI {image_id}", image.tags)] + [
            (f"snapshot {s} of {image_id}", snapshots[s].tags if snapshots.get(s) else {}) for s in image.snapshot_ids]
        for what, tags in tagged:
            value = tags.get(SHARING_TAG)
            if value != SHARING_VALUE:
                shown = "no AllowSharing tag" if value is None else f"AllowSharing={value!r}"
                yield ctx.finding(pointer, f"{what} has {shown}; the sharing grants need AllowSharing=true",
                                  f"tag it: aws ec2 create-tags --resources {what.split()[1]} --tags Key=AllowSharing,Value=true")


def _root_key(ctx, group_pointer, group):
    """(pointer, key reference) of a group's root volume config, or (group pointer, None)."""
    for pointer, config in ctx.ebs_configs(group_pointer, group):
        if config.get("RootVolume") is True:
            return f"{pointer}/VolumeKmsKeyId", real(config.get("VolumeKmsKeyId"))
    return f"{group_pointer}/InstanceStorageConfigs", None


@rule("PF214", "encrypted-ami-key-mismatch", Severity.ERROR, kind="live", required=True)
def encrypted_ami_key_mismatch(ctx):
    """An AMI encrypted with a customer managed key, and the group's root volume is not encrypted with that same key.

    ## Why is this bad?
    The seed guide: if the custom AMI is encrypted with a customer managed key, "make sure the
    same key is used to encrypt the cluster's root EBS volume". Keys are compared after resolving
    both sides with `kms:DescribeKey`: a key id, key ARN, alias name or alias ARN all name a key ARN.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0aaaaaaaaaaaaaaa1", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": true, "VolumeKmsKeyId": "alias/other"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0aaaaaaaaaaaaaaa1", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": true, "VolumeKmsKeyId": "alias/hyperpod-volumes"}}]}]}
    ```

    ## Source
    Seed guide, "importante" note; AWS KMS `DescribeKey`.
    """
    for group_pointer, group in ctx.instance_groups(("InstanceGroups",)):
        image_id = real(group.get("ImageId"))
        if not image_id or image_id == "default":
            continue
        image = ctx.account.images([image_id]).get(image_id)
        snapshots = ctx.account.snapshots(list(image.snapshot_ids)) if image and image.snapshot_ids else {}
        ami_keys = {s.kms_key_id for s in snapshots.values() if s and s.encrypted and s.kms_key_id}
        for ami_key in sorted(ami_keys):
            ami = ctx.account.key(ami_key)
            if ami is not None and ami.manager != "CUSTOMER":
                continue  # PF215 says why this AMI cannot be used at all
            pointer, given = _root_key(ctx, group_pointer, group)
            if given is None:
                yield ctx.finding(pointer, f"AMI {image_id} is encrypted with {ami_key}, but the group has no root "
                                  "volume config with that key", "add an EbsVolumeConfig with RootVolume: true and "
                                  f"VolumeKmsKeyId: {ami_key}")
                continue
            resolved = ctx.account.key(given)
            if resolved is None:
                yield ctx.finding(pointer, f"root volume key {given} does not exist in {ctx.account.region}")
            elif resolved.arn != (ami.arn if ami else ami_key):
                yield ctx.finding(pointer, f"root volume key {given} is {resolved.arn}; AMI {image_id} is encrypted "
                                  f"with {ami_key}", f"use {ami_key} for the root volume")


@rule("PF215", "ami-encrypted-with-aws-managed-key", Severity.ERROR, kind="live", required=True)
def ami_encrypted_with_aws_managed_key(ctx):
    """A custom AMI encrypted with the AWS managed key (`aws/ebs`).

    ## Why is this bad?
    An AWS managed key's policy cannot be changed, so the AMI cannot be shared with HyperPod.
    Re-encrypt the AMI (copy it) with a customer managed key.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0eeeeeeeeeeeeeee6"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    HyperPod developer guide, customer managed key encryption; domain notes.
    """
    for image_id, pointer, image in _image_records(ctx):
        if image is None or not image.snapshot_ids:
            continue
        for snapshot in ctx.account.snapshots(list(image.snapshot_ids)).values():
            if snapshot and snapshot.encrypted and snapshot.kms_key_id:
                key = ctx.account.key(snapshot.kms_key_id)
                if key is not None and key.manager == "AWS":
                    yield ctx.finding(pointer, f"AMI {image_id} is encrypted with the AWS managed key {key.arn}",
                                      "copy the AMI, encrypting it with a customer managed key")


@rule("PF216", "volume-key-unusable", Severity.ERROR, kind="live", required=True)
def volume_key_unusable(ctx):
    """A `VolumeKmsKeyId` that does not exist, is not enabled, or is not a customer managed key.

    ## Why is this bad?
    HyperPod encrypts with customer managed keys only; a disabled or missing key fails every volume.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "alias/no-such-key"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    HyperPod developer guide, customer managed key encryption.
    """
    for group_pointer, group in ctx.instance_groups():
        for pointer, config in ctx.ebs_configs(group_pointer, group):
            reference = real(config.get("VolumeKmsKeyId"))
            if not reference:
                continue
            key = ctx.account.key(reference)
            where = f"{pointer}/VolumeKmsKeyId"
            if key is None:
                yield ctx.finding(where, f"KMS key {reference} does not exist in {ctx.account.region}")
            elif key.state != "Enabled":
                yield ctx.finding(where, f"KMS key {key.arn} is {key.state}", "enable the key")
            elif key.manager != "CUSTOMER":
                yield ctx.finding(where, f"KMS key {key.arn} is AWS managed", "use a customer managed key")


@rule("PF217", "execution-role-cannot-use-key", Severity.ERROR, kind="live", required=False,
      operations=("create-cluster", "update-cluster"))
def execution_role_cannot_use_key(ctx):
    """A group's execution role may not use its volume key the way HyperPod needs.

    ## Why is this bad?
    HyperPod creates grants on the customer managed key through the execution role. The role
    needs `kms:CreateGrant` (with `kms:ViaService` = `sagemaker.<region>.amazonaws.com` and
    `kms:GrantIsForAWSResource` = true) and `kms:DescribeKey` (same `kms:ViaService`), from the key
    policy directly or, where the key policy delegates to the account, from the role's own policies.
    Without them the volumes cannot be encrypted and the nodes do not launch.

    ## Example
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/NoKmsExecutionRole", "ImageId": "ami-0123456789abcdef0", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0", "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    HyperPod developer guide, customer managed key encryption; AWS KMS key policies.
    """
    from preflight.iam import keys
    from preflight.iam.evaluate import MAYBE, NO

    judged = set()
    for group_pointer, group in ctx.instance_groups(("InstanceGroups",)):
        role_arn = real(group.get("ExecutionRole"))
        if not parse_arn(role_arn) or ctx.account.role(role_arn) is None:
            continue
        for pointer, config in ctx.ebs_configs(group_pointer, group):
            reference = real(config.get("VolumeKmsKeyId"))
            key = ctx.account.key(reference) if reference else None
            if key is None or key.manager != "CUSTOMER" or (role_arn, key.arn) in judged:
                continue  # PF216 reports unusable keys; each role and key pair is judged once
            judged.add((role_arn, key.arn))
            policy = ctx.account.key_policy(key.arn) or {}
            own = policy_set_of(role_arn, ctx.account.identity_policies(role_arn)).statements()
            for action, outcome, reason in keys.verdicts(key.arn, policy, role_arn, own, ctx.account.region):
                if outcome == NO:
                    yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"role {role_arn} may not {action} on {key.arn}: "
                                      f"{reason}", "allow it in the key policy or the role's policy, with "
                                      "kms:ViaService sagemaker.<region>.amazonaws.com")
                elif outcome == MAYBE:
                    yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"whether role {role_arn} may {action} on "
                                      f"{key.arn} is not decided: {reason}", severity=Severity.WARNING)


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


def _named_cluster(ctx):
    """(the request's cluster name, its state in the account, or None when it does not exist)."""
    name = real(ctx.value("/ClusterName"))
    return name, ctx.account.cluster(name) if name else None


@rule("PF450", "cluster-missing", Severity.ERROR, kind="live", required=True, operations=UPDATES)
def cluster_missing(ctx):
    """An update, software update or deletion of a cluster that does not exist.

    ## Why is this bad?
    The call fails; usually the name is misspelt or the region is not the cluster's.

    ## Example
    ```json
    {"ClusterName": "no-such-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    SageMaker `DescribeCluster`.
    """
    name, cluster = _named_cluster(ctx)
    if name and cluster is None:
        yield ctx.finding("/ClusterName", f"cluster {name} does not exist in {ctx.account.region}")


@rule("PF454", "cluster-already-exists", Severity.ERROR, kind="live", required=True,
      operations=("create-cluster",))
def cluster_already_exists(ctx):
    """A create for a cluster name that is already taken in the region.

    ## Why is this bad?
    CreateCluster fails with ResourceInUse; a pipeline that meant an update would have sent
    the wrong call.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "new-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole", "ImageId": "ami-0123456789abcdef0"}]}
    ```

    ## Source
    SageMaker `DescribeCluster`, `CreateCluster`.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is not None:
        yield ctx.finding("/ClusterName", f"cluster {name} already exists ({cluster.status})",
                          "choose another name, or send update-cluster")


@rule("PF451", "instance-group-missing", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-software",))
def instance_group_missing(ctx):
    """A software update names an instance group the cluster does not have.

    ## Why is this bad?
    The update fails validation, or the group meant is left on its old image.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [{"InstanceGroupName": "gpu"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [{"InstanceGroupName": "workers"}]}
    ```

    ## Source
    SageMaker `DescribeCluster`, `UpdateClusterSoftware`.
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    for pointer, group in ctx.instance_groups():
        group_name = group.get("InstanceGroupName")
        if isinstance(group_name, str) and group_name not in cluster.groups:
            yield ctx.finding(f"{pointer}/InstanceGroupName", f"cluster {name} has no instance group {group_name!r}",
                              f"its groups: {', '.join(sorted(cluster.groups)) or 'none'}")


@rule("PF452", "software-update-touches-groups", Severity.INFO, kind="live", required=False,
      operations=("update-cluster-software", "update-cluster"))
def software_update_touches_groups(ctx):
    """Which existing instance groups this update will touch.

    ## Why is this bad?
    Informational: a software update without `InstanceGroups` touches every group; a cluster
    update replaces the named groups' settings. Knowing which groups change avoids surprises.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "default"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "no-such-cluster", "ImageId": "default"}
    ```

    ## Source
    Seed guide, "Actualización del software de clúster".
    """
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    named = [g.get("InstanceGroupName") for _, g in ctx.instance_groups()]
    touched = sorted(cluster.groups) if ctx.operation == "update-cluster-software" and not named \
        else sorted(n for n in named if n in cluster.groups)
    added = sorted(n for n in named if isinstance(n, str) and n not in cluster.groups)
    message = f"touches existing instance groups: {', '.join(touched) or 'none'}"
    if added and ctx.operation == "update-cluster":
        message += f"; adds: {', '.join(added)}"
    yield ctx.finding("", message)


@rule("PF453", "custom-ami-group-without-image", Severity.ERROR, kind="live", required=True,
      operations=("update-cluster-software",))
def custom_ami_group_without_image(ctx):
    """A software update without `ImageId` touches a group that runs a custom AMI.

    ## Why is this bad?
    The model: "if an instance group uses a custom AMI, you must provide an ImageId or use the default".

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "ImageId": "ami-0123456789abcdef0"}
    ```

    ## Source
    botocore service model, `UpdateClusterSoftwareRequest.ImageId` documentation.
    """
    if real(ctx.value("/ImageId")):
        return
    name, cluster = _named_cluster(ctx)
    if cluster is None:
        return
    named = [g.get("InstanceGroupName") for _, g in ctx.instance_groups()] or list(cluster.groups)
    for group_name in named:
        image = (cluster.groups.get(group_name) or {}).get("CurrentImageId")
        if image and image.startswith("ami-"):
            yield ctx.finding("", f"instance group {group_name} runs custom AMI {image}, and no ImageId is given",
                              "add ImageId: the new custom AMI, or default")


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

