"""PF02x: requests written as AWS CLI command lines in scripts, Markdown and CI workflows."""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule


def _problems(ctx, kind: str):
    for problem in ctx.document.problems:
        if problem.kind == kind:
            yield ctx.finding(problem.pointer, problem.message, problem.fix, offset=problem.offset)


@rule("PF020", "command-not-read", Severity.WARNING, kind="document")
def command_not_read(ctx):
    """An `aws sagemaker` command line that could not be read, so the request it sends is not checked.

    ## Why is this bad?
    The shell grammar could not make out the command's words (an unclosed quote, a construct cut
    in half), so preflight cannot tell what the command sends. The shell may refuse it too; if it
    runs, its request reaches the service unchecked.

    ## Example
    ```bash script
    aws sagemaker delete-cluster --cluster-name "ml-cluster
    ```

    ## Use instead
    ```bash script
    aws sagemaker delete-cluster --cluster-name "ml-cluster"
    ```

    ## Source
    Bash reference manual, "Quoting"; tree-sitter-bash grammar.
    """
    yield from _problems(ctx, "command-unreadable")


@rule("PF021", "aws-cli-refuses", Severity.ERROR, kind="document")
def aws_cli_refuses(ctx):
    """An argument the AWS CLI itself refuses, so the command fails before any request is sent.

    ## Why is this bad?
    The CLI builds the request from the command line before sending it: an option the operation
    does not have, a value that is not valid JSON or shorthand, an integer option given a word, a
    `file://` path that does not exist, all end the command with a usage error. In a deploy
    script this is found only when the script runs.

    ## Example
    ```bash script
    aws sagemaker delete-cluster --cluster-nmae ml-cluster
    ```

    ## Use instead
    ```bash script
    aws sagemaker delete-cluster --cluster-name ml-cluster
    ```

    ## Source
    AWS CLI User Guide, "Specifying parameter values", "Using shorthand syntax", "Loading
    parameters from a file"; the `awscli` package's argument processing.
    """
    yield from _problems(ctx, "cli-refuses")


@rule("PF022", "unknown-command-value", Severity.INFO, kind="document")
def unknown_command_value(ctx):
    """A value of a command line that is a shell expansion with no known value, so it is not checked.

    ## Why is this bad?
    `$CLUSTER_NAME`, `${ROLE_ARN}` or `$(...)` are known only when the script runs. preflight reads
    them as unknown (never a false error) and says which; `--var NAME=VALUE` or `--env-file` gives
    them values so that they are checked too.

    ## Example
    ```bash script
    aws sagemaker delete-cluster --cluster-name "$CLUSTER_NAME"
    ```

    ## Use instead
    ```bash script
    CLUSTER_NAME=ml-cluster
    aws sagemaker delete-cluster --cluster-name "$CLUSTER_NAME"
    ```

    ## Source
    Bash reference manual, "Shell Parameter Expansion".
    """
    yield from _problems(ctx, "unknown-value")


@rule("PF023", "command-file-missing", Severity.WARNING, kind="document")
def command_file_missing(ctx):
    """A `file://` argument of a command line names a file that is not there, and nothing before the command writes it.

    ## Why is this bad?
    The AWS CLI reads the file when the command runs and refuses the command if it is missing.
    A script may make the file in a way preflight does not follow (a generator program, a download),
    so this is a warning, not an error; a file the script writes itself (`cat > f.json <<EOF`,
    in an earlier block of the same Markdown file too) is read as written, its variables and all.

    ## Example
    ```bash script
    aws sagemaker create-cluster --cluster-name ml-cluster --instance-groups file://no-such-groups.json
    ```

    ## Use instead
    ```bash script
    cat > groups.json <<'EOF'
    [{"InstanceGroupName": "workers", "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/", "OnCreate": "on_create.sh"}, "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole"}]
    EOF
    aws sagemaker create-cluster --cluster-name ml-cluster --instance-groups file://groups.json
    ```

    ## Source
    AWS CLI User Guide, "Loading AWS CLI parameters from a file".
    """
    yield from _problems(ctx, "file-missing")
