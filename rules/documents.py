"""PF0xx: the file itself, before any request or policy is read from it."""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule


def _problems(ctx, kind: str):
    for problem in ctx.document.problems:
        if problem.kind == kind:
            yield ctx.finding(problem.pointer, problem.message, problem.fix, offset=problem.offset)


@rule("PF001", "unparseable-document", Severity.ERROR, kind="document")
def unparseable_document(ctx):
    """The file is not valid JSON (`.json`), YAML (`.yaml`/`.yml`) or Terraform HCL (`.tf`).

    ## Why is this bad?
    The AWS CLI refuses a `--cli-input-json` file it cannot parse, and nothing in it can be checked.
    A `.json` file is read as strict JSON (RFC 8259): no trailing commas, no single quotes, no
    comments, no NaN; a YAML fallback would silently accept mistakes that the CLI rejects.

    ## Example
    ```json
    {"ClusterName": "ml-cluster",}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```

    ## Source
    RFC 8259; AWS CLI `--cli-input-json`.
    """
    yield from _problems(ctx, "syntax")


@rule("PF002", "python-literal-in-json", Severity.ERROR, kind="document")
def python_literal_in_json(ctx):
    """Python's `True`, `False` or `None` written in a JSON file.

    ## Why is this bad?
    JSON spells them `true`, `false` and `null`; the CLI rejects the file. The HyperPod custom AMI guide's
    customer managed key examples write `"RootVolume": True`, copied from Python. preflight reads
    on past the mistake so that the rest of the file is still checked.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": True}}]}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceStorageConfigs": [{"EbsVolumeConfig": {"RootVolume": true}}]}]}
    ```

    ## Source
    HyperPod custom AMI guide, "Customer managed key example"; RFC 8259 section 3.
    """
    yield from _problems(ctx, "python-literal")


@rule("PF003", "duplicate-key", Severity.WARNING, kind="document")
def duplicate_key(ctx):
    """The same key appears twice in one object.

    ## Why is this bad?
    JSON parsers, the AWS CLI's among them, keep the last value and drop the first without a word,
    so half of what was written is never sent.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "ClusterName": "ml-cluster-2"}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster-2"}
    ```

    ## Source
    RFC 8259 section 4 ("names within an object SHOULD be unique").
    """
    yield from _problems(ctx, "duplicate-key")
