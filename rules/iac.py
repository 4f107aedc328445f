"""PF01x: requests derived from infrastructure as code (CloudFormation templates, Terraform plans)."""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule


@rule("PF010", "template-member-not-checked", Severity.INFO, kind="document")
def template_member_not_checked(ctx):
    """A template property that preflight's API model does not have, so it is not checked.

    ## Why is this bad?
    It may be newer than preflight's model snapshot (CloudFormation and the providers add
    properties as the API grows) or be the template's own (read-only attributes). It reaches the
    service unchecked; the rest of the request is still checked. Refreshing the model may cover it.

    ## Example
    ```yaml template
    Resources:
      Cluster:
        Type: AWS::SageMaker::Cluster
        Properties:
          ClusterName: ml-cluster
          FutureProperty: on
    ```

    ## Use instead
    ```yaml template
    Resources:
      Cluster:
        Type: AWS::SageMaker::Cluster
        Properties:
          ClusterName: ml-cluster
    ```

    ## Source
    AWS::SageMaker::Cluster resource schema; the SageMaker API model preflight was built from.
    """
    source = getattr(ctx.document, "source", None)
    for pointer, message in getattr(ctx.document, "notes", ()):
        yield ctx.finding(pointer, message, document=source)


@rule("PF011", "unset-variable", Severity.ERROR, kind="document")
def unset_variable(ctx):
    """A shell variable (`${NAME}` or `$NAME`) of a request template that was given no value.

    ## Why is this bad?
    Scripts write `cluster-config.json` from a heredoc and pass it to
    `aws sagemaker create-cluster --cli-input-json`; a variable the script never set becomes an
    empty string or the literal `${NAME}`, and the service rejects the request or, worse, accepts a
    wrong one. preflight substitutes the values given with `--var`, `--env-file` or
    `--var-from-env` and checks the rest of the request with the variable's place left unchecked.

    ## Example
    ```json
    {"ClusterName": "${CLUSTER_NAME}"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    Published HyperPod setup scripts (`create_cluster_config.sh` heredocs with `${BUCKET}`, `${ROLE}`).
    """
    for problem in ctx.document.problems:
        if problem.kind == "unset-variable":
            yield ctx.finding(problem.pointer, problem.message, problem.fix, offset=problem.offset)


@rule("PF012", "terraform-replaces-cluster", Severity.WARNING, kind="document")
def terraform_replaces_cluster(ctx):
    """A Terraform plan that deletes and creates a HyperPod cluster again (a replacement).

    ## Why is this bad?
    A replacement destroys the running cluster and its nodes (their volumes and whatever the jobs
    left on them) before or after making a new one: rarely what a change to one attribute meant. The
    plan says which attributes force it (`replace_paths`); changing a group in place, or adding a
    group with the new value and deleting the old one, keeps the cluster.

    ## Example
    ```yaml template
    {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": [{"address": "aws_sagemaker_cluster.main", "type": "aws_sagemaker_cluster", "name": "main", "change": {"actions": ["delete", "create"], "before": {"cluster_name": "ml-cluster"}, "after": {"cluster_name": "ml-cluster-v2"}, "replace_paths": [["cluster_name"]]}}]}
    ```

    ## Use instead
    ```yaml template
    {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": [{"address": "aws_sagemaker_cluster.main", "type": "aws_sagemaker_cluster", "name": "main", "change": {"actions": ["no-op"], "before": {"cluster_name": "ml-cluster"}, "after": {"cluster_name": "ml-cluster"}}}]}
    ```

    ## Source
    Terraform's JSON plan format (`resource_changes[].change.actions`, `replace_paths`); the
    `aws_sagemaker_cluster` and `awscc_sagemaker_cluster` resources, whose create-only attributes
    force a replacement.
    """
    data = ctx.request
    changes = data.get("resource_changes") if isinstance(data, dict) and ctx.operation is None else None
    if not isinstance(changes, list):
        return
    from preflight.iac.terraform import resource_types  # a plan's reader, for a plan only

    clusters = {kind for kind, operation in resource_types().items() if operation == "create-cluster"}
    for index, change in enumerate(changes):
        planned = change.get("change") if isinstance(change, dict) else None
        actions = planned.get("actions") if isinstance(planned, dict) else None
        if not (isinstance(actions, list) and isinstance(change.get("type"), str) and change["type"] in clusters
                and "delete" in actions
                and "create" in actions):
            continue
        paths = planned.get("replace_paths")
        forced = ", ".join(".".join(str(step) for step in path) for path in paths if isinstance(path, list)) \
            if isinstance(paths, list) else ""
        yield ctx.finding(f"/resource_changes/{index}/change/actions",
                          f"the plan replaces {change.get('address', change['type'])}: the running cluster and its "
                          f"nodes are destroyed" + (f" (forced by {forced})" if forced else ""),
                          "keep the attributes that force a replacement, or plan the move to a new cluster")
