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
from preflight.iam.evaluate import MAYBE, NO, YES, Request, Resource, decide
from preflight.iam.policy import PolicyRoot, statements_of
from preflight.values import parse_arn


def needs(key_arn: str, region: str) -> list[Request]:
    arn = parse_arn(key_arn)
    key = Resource(arn.partition, "kms", arn.region, arn.account, arn.resource)
    service = (f"sagemaker.{region}.amazonaws.com",)
    return [
        Request("kms:CreateGrant", key, {"kms:viaservice": service, "kms:grantisforawsresource": ("true",)},
                absent=("kms:encryptioncontext",)),
        Request("kms:DescribeKey", key, {"kms:viaservice": service},
                absent=("kms:encryptioncontext", "kms:grantisforawsresource")),
    ]


def lifecycle_needs(key_arn: str, region: str) -> list[Request]:
    """What a node needs of the key its lifecycle scripts are encrypted with: S3 decrypts them
    for the execution role (``kms:Decrypt`` through ``s3.<region>.amazonaws.com``)."""
    arn = parse_arn(key_arn)
    key = Resource(arn.partition, "kms", arn.region, arn.account, arn.resource)
    return [Request("kms:Decrypt", key, {"kms:viaservice": (f"s3.{region}.amazonaws.com",)})]


def _principals(statement) -> list[str]:
    principal = statement.data.get("Principal")
    if principal == "*":
        return ["*"]
    values = principal.get("AWS", []) if isinstance(principal, dict) else []
    return values if isinstance(values, list) else [values]


def verdicts(key_arn: str, key_policy: dict, role_arn: str, role_statements, region: str, requests=None):
    """[(action, outcome, reason)] for each need (by default HyperPod's, ``needs``); outcome YES, NO
    or MAYBE."""
    account = parse_arn(role_arn).account
    root = PolicyRoot(documents.parse("key-policy.json", json.dumps(key_policy)), "", "key policy", key_policy)
    statements = statements_of(root)
    to_role = [s for s in statements if any(p in ("*", role_arn) for p in _principals(s))]
    to_account = [s for s in statements if any(p in (account, f"arn:aws:iam::{account}:root") for p in _principals(s))]
    denies = [s for s in statements if s.effect == "Deny"]
    results = []
    for need in requests or needs(key_arn, region):
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
