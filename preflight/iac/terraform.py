"""Terraform JSON plans (``terraform show -json plan.out``): every HyperPod resource the plan
creates is checked as the create request it sends, from the planned values: the Cloud Control
provider's resources, named after the CloudFormation types (``awscc_sagemaker_cluster``,
``awscc_sagemaker_cluster_scheduler_config``), and the AWS provider's ``aws_sagemaker_cluster``.
A cluster the plan changes in place is checked as the update-cluster request the change amounts
to: the planned cluster's updatable members, and the instance groups it no longer has as
``InstanceGroupsToDelete`` (members that cannot change in place make Terraform replace the
cluster, which is a create). Values known only after apply are ``Unresolved``; attributes are
matched to the API's members by the request model (``instance_group`` blocks to
``InstanceGroups``, ``source_s3_uri`` to ``SourceS3Uri``)."""

from __future__ import annotations

import json
import re

from preflight import schema
from preflight.documents import Document, Problem
from preflight.limits import MAX_DEPTH, deeper_than
from preflight.iac.derived import DerivedDocument, _resolve_ref, derived_request
from preflight.pointers import escape, value_at
from preflight.values import Unresolved

AWS_PROVIDER = {"aws_sagemaker_cluster": "create-cluster"}
AFTER_APPLY = Unresolved("(known after apply)")
GROUP_BLOCKS = ("instance_groups", "instance_group")  # a cluster's groups: the awscc and the AWS provider's name


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


def resource_types() -> dict[str, str]:
    """Terraform resource type -> operation: awscc's names are the CloudFormation type's parts in
    snake case (AWS::SageMaker::ClusterSchedulerConfig -> awscc_sagemaker_cluster_scheduler_config)."""
    from preflight.iac.cloudformation import resource_types as cloudformation_types

    def snake(name: str) -> str:
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()

    found = {}
    for type_name, kind in cloudformation_types().items():
        _, service, resource = type_name.split("::")
        found[f"awscc_{service.lower()}_{snake(resource)}"] = kind["operation"]
    return {**found, **AWS_PROVIDER}


def derive(document: Document, parameters: dict[str, str]) -> list[tuple[DerivedDocument, str]]:
    """The create request of every HyperPod resource the plan creates (or replaces), and the
    update-cluster request of every cluster it changes in place."""
    changes = document.data.get("resource_changes")
    derived = []
    types = resource_types()
    for index, change in enumerate(changes if isinstance(changes, list) else ()):
        if not (isinstance(change, dict) and isinstance(change.get("type"), str) and change["type"] in types
                and isinstance(change.get("change"), dict)):
            continue
        operation = types[change["type"]]
        planned = change["change"]
        actions = planned.get("actions")
        in_place = actions == ["update"] and operation == "create-cluster"
        if not (isinstance(actions, list) and ("create" in actions or in_place) and isinstance(planned.get("after"), dict)):
            continue
        base = f"/resource_changes/{index}/change/after"
        unknown = planned.get("after_unknown")
        if unknown is not None and not isinstance(unknown, dict):  # Terraform writes an object beside `after`
            document.problems.append(Problem(
                "syntax", f"after_unknown is {json.dumps(unknown)[:40]} where Terraform writes an object of the "
                "attributes known only after apply; this change is not checked",
                pointer=f"/resource_changes/{index}/change/after_unknown"))
            continue
        resolved_origins: dict[str, str] = {}
        after = _planned(planned["after"], unknown, base, "", resolved_origins)
        if "tags_all" in after:  # what the provider sends: the resource's tags and the provider's default tags
            after["tags"] = after.pop("tags_all")
            resolved_origins.update({path.replace("/tags_all", "/tags", 1): origin
                                     for path, origin in list(resolved_origins.items())
                                     if path.startswith("/tags_all")})
        request = derived_request(document, after, resolved_origins, base, operation,
                                  blocks=change["type"] in AWS_PROVIDER)
        if in_place:
            request, operation = _cluster_update(request, planned, f"/resource_changes/{index}/change"), "update-cluster"
        derived.append((request, operation))
    return derived


def _cluster_update(create: DerivedDocument, change: dict, base: str) -> DerivedDocument:
    """The update-cluster request of an in-place ``change``, from the planned cluster's create
    request: the members UpdateCluster takes (the others are unchanged, or Terraform would replace
    the cluster), and the groups the cluster had that the plan drops, to delete. Of the attributes
    the model lacks, only those the change alters are said (the provider's computed ones, such as
    ``cluster_arn``, are known by now and unchanged)."""
    before, after = change.get("before"), f"{base}/after"
    notes = [(pointer, message) for pointer, message in create.notes
             if value_at(change["after"], pointer[len(after):]) != value_at(before, pointer[len(after):])]
    update_schema = schema.load("update-cluster")
    members = _resolve_ref(update_schema, update_schema["$defs"])["properties"]
    request = {key: value for key, value in create.data.items() if key in members}
    origins = {pointer: origin for pointer, origin in create.origins.items()
               if pointer == "" or pointer.split("/")[1] in request}
    kept = {g.get("InstanceGroupName") for g in request.get("InstanceGroups") or () if isinstance(g, dict)}
    block = next((k for k in GROUP_BLOCKS if isinstance(before, dict) and isinstance(before.get(k), list)), None)
    dropped = [(index, group["instance_group_name"]) for index, group in enumerate(before[block] if block else ())
               if isinstance(group, dict) and isinstance(group.get("instance_group_name"), str)
               and group["instance_group_name"] not in kept]
    if dropped:
        request["InstanceGroupsToDelete"] = [name for _, name in dropped]
        for position, (index, _) in enumerate(dropped):
            origins[f"/InstanceGroupsToDelete/{position}"] = f"{base}/before/{block}/{index}/instance_group_name"
    return DerivedDocument(path=create.path, text=create.text, data=request, parsed=True, source=create.source,
                           origins=origins, notes=notes)


# Identity policies in a plan: resource type -> where its policy JSON strings are (a list of
# attribute paths; "*" for every block of a list). Trust policies (assume_role_policy) are not these.
POLICY_PLACES = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("inline_policy/*/policy",),
    "awscc_iam_managed_policy": ("policy_document",),
    "awscc_iam_role_policy": ("policy_document",),
    "awscc_iam_role": ("policies/*/policy_document",),
}


def policies(document: Document, parameters: dict[str, str]) -> list[DerivedDocument]:
    """Each identity policy document the plan creates or changes, to be linted like a --policy file."""
    changes = document.data.get("resource_changes")
    found = []
    for index, change in enumerate(changes if isinstance(changes, list) else ()):
        if (isinstance(change, dict) and isinstance(change.get("type"), str) and change["type"] in POLICY_PLACES
                and isinstance(change.get("change"), dict) and isinstance(change["change"].get("after"), dict)):
            found.extend(policy_documents(document, change["type"], change["change"]["after"],
                                          f"/resource_changes/{index}/change/after"))
    return found


def policy_documents(document: Document, kind: str, values: dict, base: str) -> list[DerivedDocument]:
    """The policies of one IAM resource of type ``kind`` (its attribute ``values``, at ``base``
    in ``document``): each is JSON inside a string, so its findings point at the attribute that
    holds it. A string that is not JSON is left out: the provider rejects it before any request."""
    found = []
    for place in POLICY_PLACES[kind]:
        for pointer, text in _strings_at(values, place.split("/"), base):
            if isinstance(text, Unresolved):  # known at apply time only
                continue
            try:
                policy = json.loads(text)
            except (ValueError, RecursionError):
                continue
            if deeper_than(policy):
                document.problems.append(Problem("syntax", f"the policy in this attribute is nested more than "
                                                 f"{MAX_DEPTH} levels deep; not read further", pointer=pointer))
                continue
            if isinstance(policy, dict):
                found.append(DerivedDocument(path=document.path, text=document.text, data=policy, parsed=True,
                                             source=document, origins={"": pointer}, embedded=True))
    return found


def _strings_at(node, tokens: list[str], pointer: str):
    if not tokens:
        if isinstance(node, str):
            yield pointer, node
        return
    token, rest = tokens[0], tokens[1:]
    if token == "*":
        for index, item in enumerate(node if isinstance(node, list) else ()):
            yield from _strings_at(item, rest, f"{pointer}/{index}")
    elif isinstance(node, dict) and token in node:
        yield from _strings_at(node[token], rest, f"{pointer}/{escape(token)}")
