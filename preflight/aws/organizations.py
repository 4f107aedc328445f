"""AWS Organizations: the organisation an account is in and the SCPs and RCPs attached at each
level from its root down to the account. Only the management account and a delegated
administrator may list them; a member account is refused (a LookupFailed saying so), but may
still describe its organisation, whose id decides aws:PrincipalOrgID and aws:ResourceOrgID. An account in
no organisation is a verified absence (AWSOrganizationsNotInUseException)."""

from __future__ import annotations

from preflight.account import OrganizationPolicies
from preflight.aws.calls import Calls, listed, text
from preflight.lookup import LookupFailed

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
MAX_LEVELS = 7  # the root, at most five nested OUs (Organizations quotas), the account


class Organizations:
    def __init__(self, calls: Calls):
        self._calls = calls

    def organization_id(self) -> str | None:
        """The id of the caller's organisation (None: in no organisation). Every account of an
        organisation may describe it, member accounts too."""
        found = self._organization()
        return found.id if found else None

    def _organization(self) -> OrganizationPolicies | None:
        return self._calls.once(("describe-organization",), lambda: self._calls.call(
            "organizations", "describe_organization",
            lambda a: OrganizationPolicies(text(a["Organization"]["Id"]), text(a["Organization"]["MasterAccountId"]))))

    def organization_policies(self, account: str) -> OrganizationPolicies | None:
        def compute():
            found = self._organization()
            if found is None:
                return None
            if found.management_account == account:  # outside SCPs; RCPs do not apply to its resources
                return found
            roots = self._calls.pages("organizations", "list_roots",
                                      lambda a: listed(a, "Roots", True),
                                      key=lambda root: root.get("Id"))
            enabled = {text(kind["Type"]) for root in roots or [] for kind in listed(root, "PolicyTypes")
                       if kind.get("Status") == "ENABLED"}
            path = self._path(account)
            levels = {kind: tuple((target, tuple(self._policy(text(summary["Id"]))
                                                 for summary in self._attached(target, kind))) for target in path)
                      for kind in POLICY_TYPES if kind in enabled}
            return OrganizationPolicies(found.id, found.management_account, levels.get(POLICY_TYPES[0], ()),
                                        levels.get(POLICY_TYPES[1], ()))
        return self._calls.once(("organization", account), compute)

    def _path(self, account: str) -> list[str]:
        """The target ids from the root down to the account."""
        path, child = [account], account
        for _ in range(MAX_LEVELS):
            parents = self._calls.pages("organizations", "list_parents",
                                        lambda a: listed(a, "Parents", True),
                                        key=lambda parent: parent.get("Id"), ChildId=child)
            if not parents:
                raise LookupFailed("organizations:ListParents", f"{child} has no parent in the organisation")
            child = text(parents[0]["Id"])
            path.insert(0, child)
            if parents[0].get("Type") == "ROOT":
                return path
        raise LookupFailed("organizations:ListParents", f"no root within {MAX_LEVELS} levels above {account}")

    def _attached(self, target: str, kind: str) -> list[dict]:
        return self._calls.pages("organizations", "list_policies_for_target",
                                 lambda a: listed(a, "Policies", True), key=lambda policy: policy.get("Id"),
                                 TargetId=target, Filter=kind) or []

    def _policy(self, policy_id: str) -> tuple[str, str]:
        """(name, policy text) of one policy, read once however many levels it is attached at."""
        def build(answer):
            policy = answer["Policy"]
            return text(policy["PolicySummary"]["Name"]), text(policy["Content"])
        return self._calls.once(("organization-policy", policy_id), lambda: self._calls.call(
            "organizations", "describe_policy", build, PolicyId=policy_id))
