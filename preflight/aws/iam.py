"""IAM: the caller (as its role, for an assumed role), roles, and a principal's identity policies
in the shape of get-account-authorization-details."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from preflight.account import Caller, Role
from preflight.aws.calls import Calls, document, listed, tags, text
from preflight.aws.sts import Sts
from preflight.lookup import LookupFailed

HYPERPOD_LINKED_ROLE = "AWSServiceRoleForSageMakerHyperPod"
LISTED_POLICIES = 100  # one ListPolicies page (IAM's default size): ~40 KiB, ~8 ms to parse; 1000: ~390 KiB, ~140 ms
# A principal's own policies, by its kind: (inline names, attached policies, an inline document),
# each named whole (scripts/generate_models.py reads the operations from this source).
OWN_POLICY_CALLS = {"role": ("list_role_policies", "list_attached_role_policies", "get_role_policy"),
                    "user": ("list_user_policies", "list_attached_user_policies", "get_user_policy")}


class Iam:
    def __init__(self, calls: Calls, sts: Sts):
        self._calls = calls
        self._sts = sts

    def caller(self) -> Caller:
        def compute():
            arn, account = self._sts.identity()
            if ":assumed-role/" in arn:  # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION -> the role, with its path
                name = principal(arn)[1]
                role = self.role_named(name)
                arn = role.arn if role else f"arn:{arn.split(':')[1]}:iam::{account}:role/{name}"
            return Caller(arn, account)
        return self._calls.once(("caller",), compute)

    def caller_policies(self) -> dict:
        """The caller's identity policies (``identity_policies`` of ``caller().arn``), read by the
        name STS gives: an assumed role's lists start beside the GetRole that gives its path."""
        return self._calls.once(("caller-policies",), lambda: self._authorization_details(
            *principal(self._sts.identity()[0]), None))

    def identity_policies(self, principal_arn: str) -> dict:
        """The principal's policies in the shape of get-account-authorization-details."""
        return self._calls.once(("policies", principal_arn),
                                lambda: self._authorization_details(*principal(principal_arn), principal_arn))

    def service_linked_role_exists(self) -> bool:
        """Whether the account has HyperPod's service-linked role (made by its first cluster)."""
        return self.role_named(HYPERPOD_LINKED_ROLE) is not None

    def role(self, arn: str) -> Role | None:
        role = self.role_named(arn.rsplit("/", 1)[-1])
        return role if role and role.arn == arn else None

    def role_named(self, name: str) -> Role | None:
        """The role of that name, whatever its path (GetRole reads by name): the caller's, an
        execution role's and its policies' reads share this one call."""
        def build(answer):
            role = answer["Role"]
            return Role(text(role["Arn"]), document(role["AssumeRolePolicyDocument"]),
                        (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"), tuple(tags(role).items()))
        return self._calls.once(("role", name), lambda: self._calls.call("iam", "get_role", build, RoleName=name))

    def _listed_policy_versions(self) -> dict[str, tuple[str, str]]:
        """Policy ARN -> (default version id, name) from one page of ListPolicies (OnlyAttached),
        read once per run beside the principals' own lists, so that a managed policy they name goes
        straight to GetPolicyVersion instead of GetPolicy first. One page of LISTED_POLICIES (about
        40 KiB): in a bigger account the policies beyond it are read by GetPolicy, as they would
        be anyway. A failed listing is no answer, not a failed check: GetPolicy reads each then."""
        def build(answer):
            return {text(p["Arn"]): (text(p["DefaultVersionId"]), text(p["PolicyName"]))
                    for p in listed(answer, "Policies", needed=True)}

        def compute():
            try:
                return self._calls.call("iam", "list_policies", build, OnlyAttached=True, MaxItems=LISTED_POLICIES) or {}
            except LookupFailed:
                return {}
        return self._calls.once(("policy-listing",), compute)

    def _managed_policy(self, arn: str) -> dict | None:
        """A managed policy with its default version's document, in the shape of
        get-account-authorization-details' Policies; None when it does not exist."""
        def compute():
            policy = self._listed_policy_versions().get(arn) or self._calls.call(
                "iam", "get_policy", lambda a: (text(a["Policy"]["DefaultVersionId"]), text(a["Policy"]["PolicyName"])),
                PolicyArn=arn)
            if policy is None:
                return None
            version_id, name = policy
            found = self._calls.call("iam", "get_policy_version", lambda a: document(a["PolicyVersion"]["Document"]),
                                     PolicyArn=arn, VersionId=version_id)
            if found is None:
                return None
            return {"PolicyName": name, "Arn": arn,
                    "PolicyVersionList": [{"VersionId": version_id, "IsDefaultVersion": True, "Document": found}]}
        return self._calls.once(("managed-policy", arn), compute)

    def _authorization_details(self, kind: str, name: str, arn: str | None) -> dict:
        """Read a user's or role's inline, attached, group and boundary policies, and its tags (for
        ``${aws:PrincipalTag/...}`` and conditions on them). Each read starts as soon as what it
        needs is known: the principal's record and lists at once (by the name in the ARN), each
        policy's document as soon as its list answers; a role's chain is two round trips, a user's
        three with groups (a managed policy the listing of attached policies did not give costs one
        more, for GetPolicy). No pooled task waits for another: only this thread waits.
        ``arn`` None: the caller's, whose ARN (an assumed role's path) is known only from its record."""
        call = self._calls.call

        def every(operation, items, **owner):  # IAM's lists, every page (Marker, IsTruncated)
            return self._calls.pages("iam", operation, items, token="Marker", **owner)

        def names(answer):
            return [text(n) for n in listed(answer, "PolicyNames", needed=True)]

        def attached(answer):
            return [text(p["PolicyArn"]) for p in listed(answer, "AttachedPolicies", needed=True)]

        def role_record():
            role = self.role_named(name)  # the caller's, whatever its path; a role named by ARN must be that one
            return (role.boundary_arn, dict(role.tags)) if role and (arn is None or role.arn == arn) else (None, {})

        def user_record(answer):
            user = answer["User"]
            return (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"), tags(user)

        with ThreadPoolExecutor(max_workers=8) as pool:
            pool.submit(self._listed_policy_versions)  # started now, used by the managed reads
            if kind == "role":
                who = {"RoleName": name}
                record = pool.submit(role_record)
                groups = None
            else:
                who = {"UserName": name}
                record = pool.submit(call, "iam", "get_user", user_record, **who)
                groups = pool.submit(every, "list_groups_for_user", lambda a: [
                    text(g["GroupName"]) for g in listed(a, "Groups", needed=True)], **who)
            list_inline, list_attached, get_inline = OWN_POLICY_CALLS[kind]
            own_inline = pool.submit(every, list_inline, names, **who)
            own_attached = pool.submit(every, list_attached, attached, **who)

            managed: dict = {}

            def read_managed(policy_arns):
                for policy_arn in policy_arns or []:
                    if policy_arn not in managed:
                        managed[policy_arn] = pool.submit(self._managed_policy, policy_arn)
                return policy_arns or []

            def read_inline(policy_names, operation, **owner):
                return [(n, pool.submit(call, "iam", operation, lambda a: document(a["PolicyDocument"]), PolicyName=n,
                                        **owner)) for n in policy_names or []]

            attached_list = read_managed(own_attached.result())
            group_names = (groups.result() or []) if groups else []
            group_lists = [(g, pool.submit(every, "list_group_policies", names, GroupName=g),
                            pool.submit(every, "list_attached_group_policies", attached, GroupName=g))
                           for g in group_names]
            boundary, principal_tags = record.result()
            read_managed([boundary] if boundary else [])
            inline_list = read_inline(own_inline.result(), get_inline, **who)
            group_reads = [(g, read_inline(inline.result(), "get_group_policy", GroupName=g),
                            read_managed(attached_to.result())) for g, inline, attached_to in group_lists]

            def documents(reads, member):
                return [{"PolicyName": n, member: d} for n, d in ((n, f.result()) for n, f in reads) if d is not None]

            # GetUser and GetRole give every tag: the principal's tags are known, none included
            entry = {"Arn": arn or self.caller().arn,
                     "Tags": [{"Key": k, "Value": v} for k, v in principal_tags.items()],
                     f"{kind.capitalize()}PolicyList": documents(inline_list, "PolicyDocument"),
                     "AttachedManagedPolicies": [{"PolicyArn": a} for a in attached_list]}
            group_details = [{"GroupName": g, "GroupPolicyList": documents(inline, "PolicyDocument"),
                              "AttachedManagedPolicies": [{"PolicyArn": a} for a in attached_to]}
                             for g, inline, attached_to in group_reads]
            if kind == "user":
                entry["GroupList"] = group_names
            if boundary:
                entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
            policies = [policy for _, future in sorted(managed.items()) if (policy := future.result())]
        return {"RoleDetailList" if kind == "role" else "UserDetailList": [entry], "GroupDetailList": group_details,
                "Policies": policies}


def principal(arn: str) -> tuple[str, str]:
    """("role" or "user", name) of a user's or role's ARN, or of an assumed role's session (its role)."""
    if ":assumed-role/" in arn:
        return "role", arn.split("/")[1]
    return "role" if ":role/" in arn else "user", arn.rsplit("/", 1)[-1]
