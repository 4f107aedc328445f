"""Requests derived from infrastructure as code: CloudFormation templates, Terraform plans and
Terraform configurations (``.tf``).

Each ``AWS::SageMaker::Cluster`` resource (or Terraform cluster resource) becomes the create-cluster
request it sends, as a ``DerivedDocument``: the request's data, and for every request pointer the
pointer of the template value it came from, so that findings point at the template's lines.
Member names are matched to the API's by the request schema itself (``matched_request``), so the
mapping follows the model; what the model does not have is dropped and said.
"""

from __future__ import annotations

from preflight.documents import Document, Problem
from preflight.iac.derived import TERRAFORM_SOURCE, DerivedDocument, ExpansionLimit


def read(path: str, max_bytes: int, variables: dict[str, str]) -> Document | None:
    """A Terraform configuration file (by its extension) read with the module around it, its
    ``variables`` given as ``--var``; None for any other file, which is read as a document."""
    if not path.lower().endswith(TERRAFORM_SOURCE):
        return None
    from preflight.iac import terraform_source  # python-hcl2 is loaded only for a .tf file

    return terraform_source.read(path, max_bytes, variables)


def requests(document: Document, parameters: dict[str, str]) -> list[tuple[Document, str | None]] | None:
    """For a template: the template itself (operation None: checked as a file) and the requests
    it creates; None for anything else."""
    reader = recognise(document)
    if reader is None:
        return None
    try:
        return [(document, None)] + reader.derive(document, parameters)
    except RecursionError:
        document.problems.append(Problem("syntax", "nested too deeply to read", offset=0))
        return [(document, None)]
    except ExpansionLimit as err:
        document.problems.append(Problem("syntax", str(err), offset=0))
        return [(document, None)]


def policies(document: Document, parameters: dict[str, str]) -> list[DerivedDocument]:
    """The identity policies a template or plan writes (its IAM resources), to lint."""
    reader = recognise(document)
    if reader is None:
        return []
    try:
        return reader.policies(document, parameters)
    except (RecursionError, ExpansionLimit):  # said once, by requests()
        return []


def recognise(document: Document):
    """The IaC module that reads this document (by content), or None for a plain request."""
    data = document.data
    if not document.parsed or not isinstance(data, dict):
        return None
    if document.path.lower().endswith(TERRAFORM_SOURCE):
        from preflight.iac import terraform_source

        return terraform_source
    if "AWSTemplateFormatVersion" in data or _typed_resources(data.get("Resources")):
        from preflight.iac import cloudformation

        return cloudformation
    if "terraform_version" in data and ("planned_values" in data or "resource_changes" in data):
        from preflight.iac import terraform

        return terraform
    return None


def _typed_resources(resources) -> bool:
    return isinstance(resources, dict) and bool(resources) and all(
        isinstance(r, dict) and isinstance(r.get("Type"), str) for r in resources.values())
