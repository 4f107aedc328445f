"""May an execution role read its lifecycle scripts? ``s3:GetObject`` on the script and
``s3:ListBucket`` on the bucket for the prefix, judged with the three-valued evaluator over the
role's identity policies, its permissions boundary and the bucket policy.

An explicit Deny anywhere wins. Then it depends on whose bucket it is (IAM User Guide, "Policy
evaluation logic" and "Cross-account policy evaluation logic"):

- In the role's account, either suffices: the identity policies (within the boundary) or the
  bucket policy naming the role. A bucket policy grant that the boundary does not cover is left
  undecided (whether a boundary limits it depends on how the principal is named).
- In another account, both must allow: the bucket policy must grant the role (or its account,
  which delegates to the account's IAM) and the role's own policies must allow it too. That
  bucket policy can be read only from its own account; unread, its grant is undecided.
- Where the bucket's account is not known, an answer that the two rules give alike is the
  answer, and one they disagree on is undecided: never taken as allowed.

The role's principal keys are known (its ARN and account, and ``aws:PrincipalOrgID`` when the
organisation is), and so are the bucket's account keys when the bucket is in the role's account.
The nodes fetch over HTTPS, so ``aws:SecureTransport`` is true; other conditions the account
state cannot tell (source VPC endpoint, ...) leave the answer undecided.
"""

from __future__ import annotations

import json

from preflight import documents
from preflight.iam.evaluate import MAYBE, NO, YES, Request, Resource, as_principal, decide, decide_layer, \
    match_statement
from preflight.iam.keys import principal_match
from preflight.iam.policy import PolicyRoot, statements_of
from preflight.values import parse_arn


def needs(role_arn: str, bucket: str, key: str, prefix: str, in_role_account: bool | None = True,
          organization: str | None = None) -> list[Request]:
    """What the role asks S3 for, with what is known of the role and of the bucket's account (an
    S3 ARN names none)."""
    arn = parse_arn(role_arn)
    context = {"aws:securetransport": ("true",), **({"aws:resourceaccount": (arn.account,)} if in_role_account else {})}
    return [as_principal(request, role_arn, organization) for request in (
        Request("s3:GetObject", Resource(arn.partition, "s3", "", "", f"{bucket}/{key}"), dict(context)),
        Request("s3:ListBucket", Resource(arn.partition, "s3", "", "", bucket), {**context, "s3:prefix": (prefix,)}))]


def verdicts(role_arn: str, identity, bucket_policy: dict | None, bucket: str, key: str, prefix: str,
             in_role_account: bool | None = True, organization: str | None = None, policy_read: bool = True):
    """[(action, resource, outcome, reason)] for each need; ``identity`` is the role's PolicySet,
    ``bucket_policy`` None when the bucket has none, ``policy_read`` False when it could not be
    read; ``in_role_account`` whether the bucket is in the role's account (None: not known);
    ``organization`` the id of the role's organisation, when known."""
    boundary = identity.statements(boundary=True) if identity.has_boundary else None
    to_role, to_account, denies = [], [], []
    if bucket_policy:
        root = PolicyRoot(documents.parse("bucket-policy.json", json.dumps(bucket_policy)), "", "bucket policy",
                          bucket_policy)
        for statement in statements_of(root):
            named = principal_match(statement, role_arn)
            if statement.effect == "Deny" and named:
                denies.append(statement)
            elif statement.effect == "Allow" and named:
                (to_role if named == "named" else to_account).append(statement)
    results = []
    for need in needs(role_arn, bucket, key, prefix, in_role_account, organization):
        resource = str(need.resource)
        own = decide(identity.statements(), boundary, need)
        layer = "policies" if own.layer == "identity" else own.layer
        if own.denied_by:
            results.append((need.action, resource, NO, f"the role's {layer} deny it"))
            continue
        denied = [match_statement(s, need).result for s in denies]
        if YES in denied:
            results.append((need.action, resource, NO, "the bucket policy denies it"))
            continue
        own_reason = f"the role's {layer} " + (
            "allow it" if own.outcome == YES else "do not allow it" if own.outcome == NO else
            "allow it only under conditions that cannot be decided here")
        same = _same_account(need, own, own_reason, to_role, boundary) if in_role_account is not False else None
        other = _other_account(need, own, own_reason, to_role + to_account, policy_read) \
            if in_role_account is not True else None
        if same and other and same[0] != other[0]:
            outcome, reason = MAYBE, (f"the bucket's account is not known: in the role's account {same[1]}; "
                                      f"in another account {other[1]}")
        else:
            outcome, reason = same or other
        if MAYBE in denied and outcome == YES:
            outcome, reason = MAYBE, "a bucket policy Deny applies under conditions that cannot be decided here"
        results.append((need.action, resource, outcome, reason))
    return results


def _same_account(need: Request, own, own_reason: str, to_role, boundary) -> tuple[int, str]:
    """The role's account's bucket: its identity policies or the bucket policy naming it suffice."""
    granted = decide_layer(to_role, need, "bucket policy") if to_role else None
    if granted and granted.outcome > own.outcome:
        within = boundary is None or decide_layer(boundary, need, "permissions boundary").outcome == YES
        return (granted.outcome if within else MAYBE,
                "the bucket policy allows the role" + ("" if within else ", outside its permissions boundary"))
    return own.outcome, own_reason


def _other_account(need: Request, own, own_reason: str, grants, policy_read: bool) -> tuple[int, str]:
    """Another account's bucket: its bucket policy and the role's own policies must both allow."""
    if own.outcome == NO:
        return NO, f"the bucket is in another account, where the role's own policies must allow it too: {own_reason}"
    if not policy_read:
        return MAYBE, ("the bucket is in another account, whose bucket policy cannot be read from this account: "
                       "it must grant the role, and " + own_reason)
    granted = decide_layer(grants, need, "bucket policy").outcome if grants else NO
    if granted == NO:
        return NO, "the bucket is in another account, and its bucket policy does not grant the role or its account"
    if granted == MAYBE:
        return MAYBE, "the bucket is in another account, whose bucket policy grants it only under conditions " \
                      "that cannot be decided here"
    return own.outcome, "the bucket policy of the other account grants it, and " + own_reason
