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
