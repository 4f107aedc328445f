"""May an execution role use a KMS key the way HyperPod needs? The key policy and, where the key
policy delegates to the account, the role's own IAM policies are evaluated with the same
three-valued evaluator as the caller's policies.

HyperPod needs the role to hold `kms:CreateGrant` (with `kms:ViaService` =
`sagemaker.<region>.amazonaws.com` and `kms:GrantIsForAWSResource` = true) and `kms:DescribeKey`
(with the same `kms:ViaService`), with no encryption-context condition on either.
"""

from __future__ import annotations

import json

from preflight import documents
from preflight.iam.evaluate import MAYBE, NO, YES, Request, Resource, as_principal, decide
from preflight.iam.policy import PolicyRoot, statements_of
from preflight.values import parse_arn


def needs(key_arn: str, region: str, caller_account: str | None = None) -> list[Request]:
    arn = parse_arn(key_arn)
    key = Resource(arn.partition, "kms", arn.region, arn.account, arn.resource)
    service = (f"sagemaker.{region}.amazonaws.com",)
    caller = {"kms:calleraccount": (caller_account,)} if caller_account else {}
    return [
        Request("kms:CreateGrant", key, {"kms:viaservice": service, "kms:grantisforawsresource": ("true",), **caller},
                absent=("kms:encryptioncontext",)),
        Request("kms:DescribeKey", key, {"kms:viaservice": service, **caller},
                absent=("kms:encryptioncontext", "kms:grantisforawsresource")),
    ]


def _aws_principals(value) -> set[str]:
    """The AWS principals a Principal or NotPrincipal element names ("*" for everyone)."""
    if value == "*":
        return {"*"}
    named = value.get("AWS", []) if isinstance(value, dict) else []
    return {p for p in (named if isinstance(named, list) else [named]) if isinstance(p, str)}


def principal_match(statement, principal_arn: str) -> str | None:
    """How a resource policy's statement names a principal: "named" (the principal itself, or
    everyone), "account" (its account: the account's own IAM policies then decide, as a key policy
    naming the account root delegates to IAM), or None (another principal's statement: neither
    its Allow nor its Deny is about this one). ``NotPrincipal`` names everyone but those it lists
    (IAM User Guide, "AWS JSON policy elements: Principal" and "NotPrincipal")."""
    arn = parse_arn(principal_arn)
    account = {arn.account, f"arn:{arn.partition}:iam::{arn.account}:root"}
    if "NotPrincipal" in statement.data:
        excluded = _aws_principals(statement.data["NotPrincipal"])
        return None if principal_arn in excluded or excluded & account else "named"
    listed = _aws_principals(statement.data.get("Principal"))
    if "*" in listed or principal_arn in listed:
        return "named"
    return "account" if listed & account else None


def lifecycle_needs(key_arn: str, region: str) -> list[Request]:
    """What a node needs of the key its lifecycle scripts are encrypted with: S3 decrypts them
    for the execution role (``kms:Decrypt`` through ``s3.<region>.amazonaws.com``)."""
    arn = parse_arn(key_arn)
    key = Resource(arn.partition, "kms", arn.region, arn.account, arn.resource)
    return [Request("kms:Decrypt", key, {"kms:viaservice": (f"s3.{region}.amazonaws.com",)})]


def verdicts(key_arn: str, key_policy: dict, role_arn: str, role_statements, region: str, requests=None,
             organization: str | None = None):
    """[(action, outcome, reason)] for each need (by default HyperPod's, ``needs``), made by the
    role (of the organisation ``organization``, when known); outcome YES, NO or MAYBE."""
    root = PolicyRoot(documents.parse("key-policy.json", json.dumps(key_policy)), "", "key policy", key_policy)
    statements = statements_of(root)
    named = [(s, principal_match(s, role_arn)) for s in statements]
    to_role = [s for s, match in named if match == "named" and s.effect == "Allow"]
    to_account = [s for s, match in named if match == "account" and s.effect == "Allow"]
    denies = [s for s, match in named if match and s.effect == "Deny"]  # another principal's Deny is not ours
    results = []
    for need in requests or needs(key_arn, region, parse_arn(role_arn).account):
        need = as_principal(need, role_arn, organization)
        direct = decide(to_role + denies, None, need)
        if direct.outcome == YES:
            results.append((need.action, YES, "the key policy allows the role"))
            continue
        if direct.denied_by:
            results.append((need.action, NO, f"the key policy denies it ({direct.denied_by.statement.pointer})"))
            continue
        delegated = decide(to_account + denies, None, need)
        if delegated.outcome == NO:
            results.append((need.action, MAYBE if direct.outcome == MAYBE else NO,
                            "the key policy allows neither the role nor its account"))
            continue
        own = decide(role_statements, None, need)
        outcome = min(delegated.outcome, own.outcome)
        reason = ("the key policy delegates to the account and the role's policies allow it" if outcome == YES else
                  "the key policy delegates to the account, but the role's policies do not allow it" if outcome == NO
                  else "it depends on conditions that cannot be decided here")
        results.append((need.action, outcome, reason))
    return results
