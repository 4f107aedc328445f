"""PF201-PF209: EBS volume configs, customer managed keys and custom AMIs, as far as the request shows them."""

from __future__ import annotations

import re

from preflight.findings import Severity
from preflight.registry import rule
from preflight.values import KMS_KEY_ID, parse_arn, placeholder

CLUSTER_CHANGES = ("create-cluster", "update-cluster")
KEY_REFERENCE = rf"{KMS_KEY_ID}|alias/[a-zA-Z0-9/_-]+"  # compiled on first use: most requests name no key


def _ebs_configs(ctx, group_pointer, group):
    """(pointer, EbsVolumeConfig) for a group's EBS configs whose kind is readable: a `RootVolume`
    that is not true or false (`"true"`) is PF103's alone, not a secondary volume."""
    for pointer, config in ctx.ebs_configs(group_pointer, group):
        if isinstance(config.get("RootVolume", False), bool):
            yield pointer, config


def _volumes(ctx, lists=("InstanceGroups", "RestrictedInstanceGroups")):
    """(config pointer, EbsVolumeConfig, is root) for every readable EBS config of every group."""
    for group_pointer, group in ctx.instance_groups(lists):
        for pointer, config in _ebs_configs(ctx, group_pointer, group):
            yield pointer, config, config.get("RootVolume") is True


def aws_managed_key(reference: object) -> bool:
    """Whether a key reference names the AWS managed EBS key (alias/aws/ebs, by name or alias ARN)."""
    return isinstance(reference, str) and (reference == "alias/aws/ebs" or reference.endswith(":alias/aws/ebs"))


@rule("PF201", "root-volume-with-size", Severity.ERROR, operations=CLUSTER_CHANGES)
def root_volume_with_size(ctx):
    """A root volume config (`RootVolume: true`) that gives `VolumeSizeInGB`.

    ## Why is this bad?
    The model: with `RootVolume` true "you can't specify the VolumeSizeInGB field. The size of the
    root volume is determined for you."

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"RootVolume": true, "VolumeSizeInGB": 100,
      "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "NodeProvisioningMode": "Continuous", "InstanceGroups": [{"InstanceGroupName": "a",
     "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"RootVolume": true,
      "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    botocore service model, `ClusterEbsVolumeConfig.RootVolume` documentation.
    """
    for pointer, config, root in _volumes(ctx):
        if root and "VolumeSizeInGB" in config:
            yield ctx.finding(f"{pointer}/VolumeSizeInGB",
                              f"root volume config gives VolumeSizeInGB {config['VolumeSizeInGB']}; the service sizes the root volume",
                              "remove VolumeSizeInGB from the root volume config")


@rule("PF202", "root-volume-without-key", Severity.ERROR, operations=CLUSTER_CHANGES)
def root_volume_without_key(ctx):
    """A root volume config (`RootVolume: true`) without `VolumeKmsKeyId`.

    ## Why is this bad?
    The model: with `RootVolume` true "you must specify a KMS key ID for VolumeKmsKeyId"; the
    config exists only to encrypt the root volume with your own key. On a create, that key also
    needs `NodeProvisioningMode: Continuous` (PF205).

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"RootVolume": true}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "NodeProvisioningMode": "Continuous", "InstanceGroups": [{"InstanceGroupName": "a",
     "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"RootVolume": true,
      "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    botocore service model, `ClusterEbsVolumeConfig.RootVolume` documentation.
    """
    for pointer, config, root in _volumes(ctx):
        if root and "VolumeKmsKeyId" not in config:
            yield ctx.finding(f"{pointer}/RootVolume", "root volume config without VolumeKmsKeyId",
                              "add VolumeKmsKeyId: the customer managed key for the root volume (on a create, with "
                              '"NodeProvisioningMode": "Continuous", which such a key needs), or remove this config')


@rule("PF203", "secondary-volume-without-size", Severity.ERROR, operations=CLUSTER_CHANGES)
def secondary_volume_without_size(ctx):
    """A secondary volume config (`RootVolume` absent or false) without `VolumeSizeInGB`.

    ## Why is this bad?
    The model: when `RootVolume` is false "you must specify the VolumeSizeInGB field".

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig": {}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 500}}]}]}
    ```

    ## Source
    botocore service model, `ClusterEbsVolumeConfig.RootVolume` documentation.
    """
    for pointer, config, root in _volumes(ctx):
        if not root and "VolumeSizeInGB" not in config:
            yield ctx.finding(pointer, "secondary volume config without VolumeSizeInGB",
                              "add VolumeSizeInGB, or RootVolume: true if this config is for the root volume")


@rule("PF204", "volume-config-repeated", Severity.ERROR, operations=CLUSTER_CHANGES)
def volume_config_repeated(ctx):
    """More than one root, or more than one secondary, EBS volume config in one instance group.

    ## Why is this bad?
    The model: "You can specify two ClusterEbsVolumeConfig fields to configure both the root and
    secondary volumes", one of each.

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [
     {"EbsVolumeConfig": {"VolumeSizeInGB": 100}}, {"EbsVolumeConfig": {"VolumeSizeInGB": 200}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [
     {"EbsVolumeConfig": {"VolumeSizeInGB": 300}}]}]}
    ```

    ## Source
    botocore service model, `ClusterEbsVolumeConfig.RootVolume` documentation.
    """
    for group_pointer, group in ctx.instance_groups():
        seen: dict[bool, str] = {}
        for pointer, config in _ebs_configs(ctx, group_pointer, group):
            root = config.get("RootVolume") is True
            kind = "root" if root else "secondary"
            if root in seen:
                yield ctx.finding(pointer, f"a second {kind} volume config; the first is at {seen[root]}",
                                  f"keep one {kind} volume config per instance group")
            else:
                seen[root] = pointer


@rule("PF205", "customer-key-without-continuous-provisioning", Severity.ERROR, operations=("create-cluster",))
def customer_key_without_continuous_provisioning(ctx):
    """A customer managed key on a volume of a cluster created without `NodeProvisioningMode: Continuous`.

    ## Why is this bad?
    Customer managed key encryption of HyperPod volumes is supported only with continuous node
    provisioning; the HyperPod custom AMI guide's key examples all pass `--node-provisioning-mode Continuous`.

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "NodeProvisioningMode": "Continuous", "InstanceGroups": [{"InstanceGroupName": "a",
     "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    SageMaker HyperPod developer guide, "Customer managed AWS KMS key encryption for SageMaker HyperPod".
    """
    mode = ctx.value("/NodeProvisioningMode")
    if mode == "Continuous" or placeholder(mode):  # an unresolved template value may be Continuous
        return
    for pointer, config, _ in _volumes(ctx, ("InstanceGroups",)):
        if "VolumeKmsKeyId" in config and not aws_managed_key(config["VolumeKmsKeyId"]):
            yield ctx.finding(f"{pointer}/VolumeKmsKeyId",
                              "customer managed key without NodeProvisioningMode Continuous",
                              'add "NodeProvisioningMode": "Continuous" to the request')


@rule("PF206", "customer-key-on-restricted-group", Severity.ERROR, operations=CLUSTER_CHANGES)
def customer_key_on_restricted_group(ctx):
    """A customer managed key on a restricted instance group's volume.

    ## Why is this bad?
    Customer managed key encryption is not supported on restricted instance groups.

    ## Example
    ```json
    {"ClusterName": "c", "RestrictedInstanceGroups": [{"InstanceGroupName": "nova", "InstanceCount": 1,
     "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100,
     "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "RestrictedInstanceGroups": [{"InstanceGroupName": "nova", "InstanceCount": 1,
     "InstanceType": "ml.p5.48xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100}}]}]}
    ```

    ## Source
    SageMaker HyperPod developer guide, "Customer managed AWS KMS key encryption for SageMaker HyperPod".
    """
    for pointer, config, _ in _volumes(ctx, ("RestrictedInstanceGroups",)):
        if "VolumeKmsKeyId" in config and not aws_managed_key(config["VolumeKmsKeyId"]):
            yield ctx.finding(f"{pointer}/VolumeKmsKeyId", "customer managed key on a restricted instance group",
                              "remove VolumeKmsKeyId; restricted groups use AWS owned keys")


@rule("PF207", "malformed-key-reference", Severity.ERROR, operations=CLUSTER_CHANGES)
def malformed_key_reference(ctx):
    """`VolumeKmsKeyId` that is not a key id, key ARN, alias name or alias ARN.

    ## Why is this bad?
    The model's pattern accepts almost anything, but KMS resolves only `1234abcd-...` key ids
    (or `mrk-...`), `arn:aws:kms:REGION:ACCOUNT:key/ID`, `alias/NAME` and alias ARNs. The HyperPod
    custom AMI guide's `arn:aws:kms:us-east-1:111122223333:key/key-id` keeps a placeholder `key-id`.

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/key-id"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Source
    AWS KMS Developer Guide, "Key identifiers (KeyId)".
    """
    for pointer, config, _ in _volumes(ctx):
        key = config.get("VolumeKmsKeyId")
        if not isinstance(key, str) or placeholder(key):
            continue
        arn = parse_arn(key)
        if arn and arn.service == "kms" and arn.region and arn.account:
            kind, _, name = arn.resource.partition("/")
            well_formed = kind == "alias" and bool(name) or kind == "key" and bool(re.fullmatch(KMS_KEY_ID, name))
        else:
            well_formed = not arn and bool(re.fullmatch(KEY_REFERENCE, key))
        if not well_formed:
            yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"{key!r} is not a KMS key id, key ARN, alias or alias ARN",
                              "use the key's ARN, arn:aws:kms:REGION:ACCOUNT:key/1234abcd-12ab-34cd-56ef-1234567890ab")


@rule("PF208", "custom-ami-encryption-sources-disagree", Severity.INFO, operations=CLUSTER_CHANGES)
def custom_ami_encryption_sources_disagree(ctx):
    """A custom AMI used with a customer managed root volume key: the sources disagree on encrypted AMIs.

    ## Why is this bad?
    The service model says a custom AMI "must be unencrypted"; the HyperPod custom AMI guide supports an AMI
    encrypted with a customer managed key provided that the same key encrypts the root volume.
    preflight follows the guide (`--live` compares the keys) and says so here.

    ## Example
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ImageId": "ami-0123456789abcdef0", "ExecutionRole": "arn:aws:iam::444455556666:role/R",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": true,
     "VolumeKmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1,
     "ImageId": "ami-0123456789abcdef0", "ExecutionRole": "arn:aws:iam::444455556666:role/R"}]}
    ```

    ## Source
    botocore service model, `ImageId` documentation; HyperPod custom AMI guide, "importante" note on encrypted AMIs.
    """
    for group_pointer, group in ctx.instance_groups(("InstanceGroups",)):
        image = group.get("ImageId")
        if not isinstance(image, str) or image == "default" or placeholder(image):
            continue
        if any(config.get("RootVolume") is True and "VolumeKmsKeyId" in config
               and not aws_managed_key(config["VolumeKmsKeyId"]) for _, config in ctx.ebs_configs(group_pointer, group)):
            yield ctx.finding(f"{group_pointer}/ImageId",
                              "custom AMI with a customer managed root volume key: the service model requires "
                              "custom AMIs to be unencrypted, the HyperPod guide allows the AMI's own key here",
                              "if the AMI is encrypted, its key must be this VolumeKmsKeyId (checked with --live)")


@rule("PF209", "volume-key-aws-managed", Severity.ERROR, operations=CLUSTER_CHANGES)
def volume_key_aws_managed(ctx):
    """`VolumeKmsKeyId` names the AWS managed EBS key (`alias/aws/ebs`), not a customer managed key.

    ## Why is this bad?
    `VolumeKmsKeyId` exists to encrypt a group's volumes with a customer managed key that the
    execution role is granted; the AWS managed key cannot be granted to HyperPod (its key policy is
    AWS's), and volumes are already encrypted with it when no key is given. `--live` makes the same
    check on whatever a key id resolves to (PF216).

    ## Example
    ```json
    {"ClusterName": "c", "NodeProvisioningMode": "Continuous", "InstanceGroups": [{"InstanceGroupName": "a",
     "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "alias/aws/ebs"}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "c", "NodeProvisioningMode": "Continuous", "InstanceGroups": [{"InstanceGroupName": "a",
     "InstanceCount": 1, "ExecutionRole": "arn:aws:iam::444455556666:role/R", "InstanceStorageConfigs": [{"EbsVolumeConfig":
     {"VolumeSizeInGB": 100, "VolumeKmsKeyId": "alias/hyperpod-volumes"}}]}]}
    ```

    ## Source
    SageMaker HyperPod developer guide, "Customer managed AWS KMS key encryption for SageMaker HyperPod";
    AWS KMS developer guide, "AWS managed keys".
    """
    for pointer, config, _ in _volumes(ctx):
        if aws_managed_key(config.get("VolumeKmsKeyId")):
            yield ctx.finding(f"{pointer}/VolumeKmsKeyId", f"{config['VolumeKmsKeyId']} is the AWS managed EBS key, "
                              "not a customer managed key", "name a customer managed key, or leave VolumeKmsKeyId "
                              "out for the default encryption")
