"""Terraform JSON plans (``terraform show -json plan.out``): every HyperPod cluster the plan
creates (``awscc_sagemaker_cluster``, and the AWS provider's ``aws_sagemaker_cluster``) is
checked as the create-cluster request it sends, from the planned values. Values known only after
apply are ``Unresolved``; attributes are matched to the API's members by the request model
(``instance_group`` blocks to ``InstanceGroups``, ``source_s3_uri`` to ``SourceS3Uri``)."""

from __future__ import annotations

from preflight.documents import Document, escape
from preflight.iac import DerivedDocument, matched_request
from preflight.values import Unresolved

CLUSTERS = ("awscc_sagemaker_cluster", "aws_sagemaker_cluster")
OPERATION = "create-cluster"
AFTER_APPLY = Unresolved("(known after apply)")


def _planned(value, unknown, pointer: str, out: str, origins: dict):
    """The planned value with what is unknown until apply as Unresolved; a tag map (the AWS
    provider's ``tags``) as the API's list of Key/Value pairs."""
    origins[out] = pointer
    if unknown is True:
        return AFTER_APPLY
    if isinstance(value, dict):
        unknown = unknown if isinstance(unknown, dict) else {}
        result = {}
        for key, item in value.items():
            child, child_out = f"{pointer}/{escape(key)}", f"{out}/{escape(key)}"
            if key in ("tags", "tags_all") and isinstance(item, dict):
                origins[child_out] = child
                result[key] = [{"Key": tag, "Value": text} for tag, text in item.items()]
                for index, tag in enumerate(item):
                    for part in ("", "/Key", "/Value"):
                        origins[f"{child_out}/{index}{part}"] = f"{child}/{escape(tag)}"
                continue
            result[key] = _planned(item, unknown.get(key), child, child_out, origins)
        for key, flag in unknown.items():
            if flag is True and key not in value:
                result[key] = AFTER_APPLY
        return result
    if isinstance(value, list):
        unknown = unknown if isinstance(unknown, list) else []
        return [_planned(item, unknown[index] if index < len(unknown) else None,
                         f"{pointer}/{index}", f"{out}/{index}", origins) for index, item in enumerate(value)]
    return value


def derive(document: Document, parameters: dict[str, str]) -> list[tuple[DerivedDocument, str]]:
    """The create-cluster request of every cluster the plan creates (or replaces)."""
    changes = document.data.get("resource_changes")
    derived = []
    for index, change in enumerate(changes if isinstance(changes, list) else ()):
        if not (isinstance(change, dict) and change.get("type") in CLUSTERS and isinstance(change.get("change"), dict)):
            continue
        planned = change["change"]
        actions = planned.get("actions")
        if not (isinstance(actions, list) and "create" in actions and isinstance(planned.get("after"), dict)):
            continue
        base = f"/resource_changes/{index}/change/after"
        resolved_origins: dict[str, str] = {}
        after = _planned(planned["after"], planned.get("after_unknown"), base, "", resolved_origins)
        if "tags_all" in after:  # what the provider sends: the resource's tags and the provider's default tags
            after["tags"] = after.pop("tags_all")
            resolved_origins.update({path.replace("/tags_all", "/tags", 1): origin
                                     for path, origin in list(resolved_origins.items())
                                     if path.startswith("/tags_all")})
        request_origins: dict[str, str] = {}
        notes: list[tuple[str, str]] = []

        def origin_of(path: str, origin: str) -> None:
            request_origins.setdefault(path, resolved_origins.get(origin, base + origin))

        request = matched_request(after, "", OPERATION, origin_of, notes)
        notes = [(resolved_origins.get(pointer, base + pointer), message) for pointer, message in notes]
        derived.append((DerivedDocument(path=document.path, text=document.text, data=request, parsed=True,
                                        source=document, origins=request_origins, notes=notes), OPERATION))
    return derived
