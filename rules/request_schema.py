"""PF101-PF108: the operation's input shape in botocore's service model.

Generated JSON Schemas (`preflight/schema/`) carry the model's required members, types, bounds,
patterns, enums and unions. botocore's own client-side validation checks required members, types,
minimums and unknown keys but never maximums, patterns or enums; those reach AWS and fail there.
A value holding a placeholder is reported by PF110 alone; a misplaced key that holds one is still PF102.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule
from preflight.values import placeholder


VALUE_KINDS = ("type", "range", "length", "pattern", "enum")  # about a value, which a placeholder has yet to be


def _violations(ctx, kind: str):
    for violation in ctx.violations():
        if violation.kind == kind and not (kind in VALUE_KINDS and placeholder(ctx.value(violation.pointer))):
            yield ctx.finding(violation.pointer, violation.message, violation.fix)


@rule("PF101", "missing-required-member", Severity.ERROR)
def missing_required_member(ctx):
    """A member the service model marks as required is absent.

    ## Why is this bad?
    The API answers ValidationException. Every operation requires `ClusterName`; an instance group
    requires `InstanceGroupName`, `InstanceCount` and `ExecutionRole`.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model, SageMaker `required` lists.
    """
    yield from _violations(ctx, "required")


@rule("PF102", "unknown-member", Severity.ERROR)
def unknown_member(ctx):
    """A key that is not a member of its structure in the service model.

    ## Why is this bad?
    The CLI stops with "Unknown parameter"; a misspelt optional member (`ThreadPerCore`) would
    otherwise be lost. Names are case-sensitive.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "NodeProvisoningMode": "Continuous"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "NodeProvisioningMode": "Continuous"}
    ```

    ## Source
    botocore service model, SageMaker structure members.
    """
    yield from _violations(ctx, "unknown")


@rule("PF103", "wrong-type", Severity.ERROR)
def wrong_type(ctx):
    """A value of the wrong JSON type: a string for a number, an object where a list belongs.

    ## Why is this bad?
    botocore rejects it before sending. The HyperPod custom AMI guide passes single instance-group objects to
    `--instance-groups`, which takes a list.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": {"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model shape types; HyperPod custom AMI guide, "Creación de un clúster".
    """
    yield from _violations(ctx, "type")


@rule("PF104", "number-out-of-range", Severity.ERROR)
def number_out_of_range(ctx):
    """A number outside the model's range (`InstanceCount` 0..6758, `ThreadsPerCore` 1..2, ...).

    ## Why is this bad?
    botocore checks minimums only; a maximum is enforced by the service, after the call is made.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ThreadsPerCore": 3, "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ThreadsPerCore": 2, "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model, `min`/`max` of integer shapes.
    """
    yield from _violations(ctx, "range")


@rule("PF105", "size-out-of-range", Severity.ERROR)
def size_out_of_range(ctx):
    """A string's length or a list's size outside the model's bounds (1..5 security groups, ...).

    ## Why is this bad?
    Names longer than 63 characters, more than 16 subnets or more than 4 storage configs fail at
    the service.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": [], "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "VpcConfig": {"SecurityGroupIds": ["sg-0123456789abcdef0"],
     "Subnets": ["subnet-0123456789abcdef0"]}}
    ```

    ## Source
    botocore service model, `min`/`max` of string, list and map shapes.
    """
    yield from _violations(ctx, "length")


@rule("PF106", "pattern-mismatch", Severity.ERROR)
def pattern_mismatch(ctx):
    """A string that does not match its shape's pattern, applied to the whole value.

    ## Why is this bad?
    The model's patterns have no anchors but AWS matches the whole value: an IAM role ARN with a
    region, an `ImageId` that is neither `ami-...` nor `default`, or a name with an underscore
    is refused by the service.

    ## Example
    ```json
    {"ClusterName": "ml_cluster"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    botocore service model, `pattern` of string shapes.
    """
    yield from _violations(ctx, "pattern")


@rule("PF107", "value-not-in-enum", Severity.ERROR)
def value_not_in_enum(ctx):
    """A value outside its enum, such as an instance type HyperPod does not offer.

    ## Why is this bad?
    `ClusterInstanceType` lists the `ml.*` types HyperPod accepts; `c5.2xlarge` without `ml.`
    or a misspelt type fails at the service. Being in the enum does not mean a type is offered in
    the region or zone.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "InstanceType": "c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    botocore service model, `enum` of string shapes.
    """
    yield from _violations(ctx, "enum")


@rule("PF108", "union-not-exactly-one", Severity.ERROR)
def union_not_exactly_one(ctx):
    """A union structure with no member or several; `InstanceStorageConfigs` items are unions.

    ## Why is this bad?
    Each storage config is exactly one of `EbsVolumeConfig`, `FsxLustreConfig` or
    `FsxOpenZfsConfig`; the service rejects an empty or mixed one.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution", "InstanceStorageConfigs": [{}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution",
     "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 100}}]}]}
    ```

    ## Source
    botocore service model, structures marked `union`.
    """
    yield from _violations(ctx, "union")
