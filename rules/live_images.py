"""PF210-PF217: the custom AMI, its snapshots and sharing tag, and the KMS keys of its volumes (``--live``).

The AMI, its sharing tag and the key checks are required: if the account cannot be read for them,
preflight fails closed (PF400, exit 3). Each rule reads the account through ``ctx.account``
(preflight/account.py), already prefetched once per run (preflight/live.py).
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.live import policy_set_of
from preflight.registry import rule
from preflight.values import parse_arn, real

SHARING_TAG, SHARING_VALUE = "AllowSharing", "true"


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
            for action, outcome, reason in keys.verdicts(key.arn, policy, role_arn, own, ctx.account.region,
                                                         organization=ctx.organization):
                if outcome == NO:
                    yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"role {role_arn} may not {action} on {key.arn}: "
                                      f"{reason}", "allow it in the key policy or the role's policy, with "
                                      "kms:ViaService sagemaker.<region>.amazonaws.com")
                elif outcome == MAYBE:
                    yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"whether role {role_arn} may {action} on "
                                      f"{key.arn} is not decided: {reason}", severity=Severity.WARNING)
