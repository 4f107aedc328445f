"""Identity policies as preflight reads them: plain policy documents, or the principal's policies
(inline, managed, through groups, and its permissions boundary) taken from the output of
``aws iam get-account-authorization-details``. Every statement remembers its file and pointer.

Reading is tolerant: what is malformed is skipped here and reported by the PF3xx rules.
"""

from __future__ import annotations

import json
from typing import NamedTuple
from urllib.parse import unquote

from preflight.documents import Document, LoadError
from preflight.limits import MAX_DEPTH, deeper_than
from preflight.pointers import escape

AUTH_DETAILS_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


class PolicyError(LoadError):
    """The policy inputs cannot be used as asked (a usage error, exit 2)."""


class Located(NamedTuple):
    text: str
    pointer: str


class Condition(NamedTuple):
    operator: str
    key: str
    values: tuple[str, ...]
    pointer: str  # the key's place in the Condition block


class PolicyRoot(NamedTuple):
    """One policy document inside a file: the whole file, or a document in an authorization-details file."""

    document: Document
    pointer: str
    name: str
    data: object
    boundary: bool = False


class Statement(NamedTuple):
    root: PolicyRoot
    pointer: str
    data: dict
    effect: object
    actions: list[Located]
    not_action: bool
    resources: list[Located]
    not_resource: bool
    conditions: list[Condition]

    def where(self, member: str = "") -> str:
        """``policy.json /Statement/0/Resource``, for messages."""
        pointer = f"{self.pointer}/{member}" if member else self.pointer
        label = self.root.document.path
        if self.root.name != label:
            label = f"{label} ({self.root.name})"
        return f"{label} {pointer}"


class PolicySet:
    """The caller's policies (plain classes and named tuples here, not dataclasses: a dataclass
    costs its creation at import, on every policy check)."""

    def __init__(self, files: list[Document] | None = None, principal: str | None = None):
        self.files = [] if files is None else files  # every policy file given, readable or not
        self.roots: list[PolicyRoot] = []
        self.missing: list[tuple[Document, str, str]] = []  # (file, pointer, what)
        self.principal = principal
        self.principal_tags: dict[str, str] | None = None  # known only from an authorization-details file
        self.account: str | None = None  # the caller's account when no principal ARN says it (--account)
        self.perimeter = None  # iam.perimeter.Perimeter: SCPs, RCPs and the session policy, when given

    def statements(self, boundary: bool = False) -> list[Statement]:
        return [s for root in self.roots if root.boundary == boundary for s in statements_of(root)]

    @property
    def has_boundary(self) -> bool:
        return any(root.boundary for root in self.roots)


def strings_at(value: object, pointer: str) -> list[Located]:
    """A policy element that is a string or a list of strings, with each string's pointer."""
    if isinstance(value, str):
        return [Located(value, pointer)]
    if isinstance(value, list):
        return [Located(v, f"{pointer}/{i}") for i, v in enumerate(value) if isinstance(v, str)]
    return []


def condition_values(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(json.dumps(v) if isinstance(v, bool) else str(v) for v in items
                 if isinstance(v, (str, int, float, bool)))


def statement_list(root: PolicyRoot) -> list[tuple[str, object]]:
    """(pointer, raw statement) for each statement of a policy document."""
    data = root.data
    if not isinstance(data, dict):
        return []
    statements = data.get("Statement")
    if isinstance(statements, dict):
        return [(f"{root.pointer}/Statement", statements)]
    if isinstance(statements, list):
        return [(f"{root.pointer}/Statement/{i}", s) for i, s in enumerate(statements)]
    return []


def repeated_sids(root: PolicyRoot) -> list[tuple[str, str, str]]:
    """(pointer of a statement, its Sid, the pointer of the earlier statement with that Sid) for each
    Sid used again within the policy: IAM and Organizations refuse such a policy."""
    seen: dict[str, str] = {}
    found = []
    for pointer, raw in statement_list(root):
        sid = raw.get("Sid") if isinstance(raw, dict) else None
        if isinstance(sid, str) and sid:
            if sid in seen:
                found.append((pointer, sid, seen[sid]))
            else:
                seen[sid] = pointer
    return found


def statements_of(root: PolicyRoot) -> list[Statement]:
    result = []
    for pointer, raw in statement_list(root):
        if not isinstance(raw, dict):
            continue
        action_key = "NotAction" if "NotAction" in raw else "Action"
        resource_key = "NotResource" if "NotResource" in raw else "Resource"
        conditions = []
        block = raw.get("Condition")
        if isinstance(block, dict):
            for operator, tests in block.items():
                if isinstance(tests, dict):
                    for key, values in tests.items():
                        conditions.append(Condition(operator, key, condition_values(values),
                                                    f"{pointer}/Condition/{escape(operator)}/{escape(key)}"))
        result.append(Statement(
            root, pointer, raw, raw.get("Effect"),
            strings_at(raw.get(action_key), f"{pointer}/{action_key}"), action_key == "NotAction",
            strings_at(raw.get(resource_key), f"{pointer}/{resource_key}"), resource_key == "NotResource",
            conditions))
    return result


def is_authorization_details(data: object) -> bool:
    return isinstance(data, dict) and any(key in data for key in AUTH_DETAILS_KEYS) and "Statement" not in data


def collect(documents: list[Document], principal: str | None) -> PolicySet:
    """The policy set of these files: each plain policy document, and the principal's policies from
    authorization-details files."""
    policies = PolicySet(files=list(documents), principal=principal)
    for document in documents:
        if not document.parsed:
            continue
        if is_authorization_details(document.data):
            _whole(document)
            if not principal:
                raise PolicyError(f"{document.path}: an authorization-details file; name whose policies "
                                  "to check with --principal ARN")
            _principal_policies(document, principal, policies)
        else:
            policies.roots.append(PolicyRoot(document, "", document.path, document.data))
    return policies


def _whole(document: Document) -> None:
    """An authorization-details file is the whole listing, not one page of it: a policy on a page
    left out could deny what the pages given allow."""
    data = document.data
    for member in ("IsTruncated", "Marker", "NextToken"):
        if data.get(member) not in (None, False, ""):
            raise PolicyError(f"{document.path} /{member}: one page of get-account-authorization-details; a "
                              "policy on the pages left out could deny what these allow: give the whole output "
                              "(the AWS CLI reads every page unless --max-items or --no-paginate is given)")


def _decoded(document: Document, value: object, pointer: str) -> object:
    """Policy documents in raw IAM API output are URL-encoded JSON strings; the CLI decodes them.
    One nested deeper than any file may be is a usage error naming its place."""
    if isinstance(value, str):
        try:
            value = json.loads(unquote(value))
        except (ValueError, RecursionError):
            return value
    if deeper_than(value):
        raise PolicyError(f"{document.path} {pointer}: a policy nested more than {MAX_DEPTH} levels deep; "
                          "not read further")
    return value


def _entries(document: Document, value: object, pointer: str) -> list:
    """A list of an authorization-details file (absent: empty); anything else is a usage error
    naming the file and the place."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{document.path} {pointer}: expected a list, found {type(value).__name__} "
                          "(not get-account-authorization-details output)")
    return value


def _arn(document: Document, value: object, pointer: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise PolicyError(f"{document.path} {pointer}: expected an ARN string, found {type(value).__name__}")
    return value


# Policies one principal may have, far above IAM's quotas (10 groups, 20 managed policies each,
# inline policies within 2,048 characters): an authorization-details file naming more (one group
# listed thousands of times, groups of thousands of policies) is refused, not expanded.
MAX_PRINCIPAL_POLICIES = 1000


def _within_budget(document: Document, principal: str, policies: PolicySet) -> None:
    if len(policies.roots) + len(policies.missing) > MAX_PRINCIPAL_POLICIES:
        raise PolicyError(f"{document.path}: {principal} has more than {MAX_PRINCIPAL_POLICIES:,} policies through "
                          "its groups and attachments, far beyond IAM's quotas; not read further")


def _principal_policies(document: Document, principal: str, policies: PolicySet) -> None:
    data = document.data
    managed = {_arn(document, p.get("Arn"), f"/Policies/{i}/Arn"): (i, p)
               for i, p in enumerate(_entries(document, data.get("Policies"), "/Policies")) if isinstance(p, dict)}

    def add_inline(entries, base):
        for j, entry in enumerate(_entries(document, entries, base)):
            if isinstance(entry, dict) and "PolicyDocument" in entry:
                at = f"{base}/{j}/PolicyDocument"
                policies.roots.append(PolicyRoot(document, at, f"inline {entry.get('PolicyName', j)}",
                                                 _decoded(document, entry["PolicyDocument"], at)))

    def add_managed(arn, at, boundary=False):
        if arn not in managed:
            policies.missing.append((document, at, f"managed policy {arn} is attached but not in the file"))
            return
        index, policy = managed[arn]
        for v, version in enumerate(_entries(document, policy.get("PolicyVersionList"),
                                             f"/Policies/{index}/PolicyVersionList")):
            if isinstance(version, dict) and version.get("IsDefaultVersion"):
                at = f"/Policies/{index}/PolicyVersionList/{v}/Document"
                policies.roots.append(PolicyRoot(
                    document, at, f"{'boundary ' if boundary else ''}{policy.get('PolicyName', arn)}",
                    _decoded(document, version.get("Document"), at), boundary))
                return
        policies.missing.append((document, f"/Policies/{index}", f"managed policy {arn} has no default version"))

    def add_attached(entries, base):
        for k, attached in enumerate(_entries(document, entries, base)):
            if not isinstance(attached, dict):
                raise PolicyError(f"{document.path} {base}/{k}: expected an attached policy "
                                  f"{{PolicyName, PolicyArn}}, found {type(attached).__name__}")
            add_managed(_arn(document, attached.get("PolicyArn"), f"{base}/{k}/PolicyArn"), f"{base}/{k}")

    for list_key, inline_key in (("UserDetailList", "UserPolicyList"), ("RoleDetailList", "RolePolicyList")):
        for i, entry in enumerate(_entries(document, data.get(list_key), f"/{list_key}")):
            if not isinstance(entry, dict) or entry.get("Arn") != principal:
                continue
            base = f"/{list_key}/{i}"
            tags = entry.get("Tags")  # absent is not "no tags": IAM's output leaves an empty list out
            policies.principal_tags = {t["Key"]: str(t.get("Value", "")) for t in tags
                                       if isinstance(t, dict) and isinstance(t.get("Key"), str)} \
                if isinstance(tags, list) else None
            add_inline(entry.get(inline_key), f"{base}/{inline_key}")
            add_attached(entry.get("AttachedManagedPolicies"), f"{base}/AttachedManagedPolicies")
            _within_budget(document, principal, policies)
            groups: dict[str, list[int]] = {}  # by name, once: names x groups would be quadratic
            for g, group in enumerate(_entries(document, data.get("GroupDetailList"), "/GroupDetailList")):
                if isinstance(group, dict) and isinstance(group.get("GroupName"), str):
                    groups.setdefault(group["GroupName"], []).append(g)
            group_list = _entries(document, entry.get("GroupList"), f"{base}/GroupList")
            for group_name in dict.fromkeys(name for name in group_list if isinstance(name, str)):
                for g in groups.get(group_name, ()):
                    group = data["GroupDetailList"][g]
                    add_inline(group.get("GroupPolicyList"), f"/GroupDetailList/{g}/GroupPolicyList")
                    add_attached(group.get("AttachedManagedPolicies"), f"/GroupDetailList/{g}/AttachedManagedPolicies")
                    _within_budget(document, principal, policies)
            boundary = entry.get("PermissionsBoundary")
            if isinstance(boundary, dict) and boundary.get("PermissionsBoundaryArn"):
                at = f"{base}/PermissionsBoundary"
                add_managed(_arn(document, boundary["PermissionsBoundaryArn"], at), at, boundary=True)
            return
    raise PolicyError(f"{document.path}: no user or role with ARN {principal}")
