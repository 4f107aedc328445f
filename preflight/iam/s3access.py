"""May an execution role read its lifecycle scripts? ``s3:GetObject`` on the script and
``s3:ListBucket`` on the bucket for the prefix, judged with the three-valued evaluator over the
role's identity policies, its permissions boundary and the bucket policy.

Same-account access: an explicit Deny anywhere wins; otherwise the identity policies (within the
boundary) or the bucket policy naming the role must allow. A bucket policy grant that the boundary
does not cover is left undecided (whether a boundary limits it depends on how the principal is
named). The nodes fetch over HTTPS, so ``aws:SecureTransport`` is true; other conditions the
account state cannot tell (source VPC endpoint, ...) leave the answer undecided.
"""

from __future__ import annotations

import json

from preflight import documents
from preflight.iam.evaluate import MAYBE, NO, YES, Request, Resource, decide, decide_layer, match_statement
from preflight.iam.keys import principal_match
from preflight.iam.policy import PolicyRoot, statements_of
from preflight.values import parse_arn


def needs(partition: str, bucket: str, key: str, prefix: str) -> list[Request]:
    transport = {"aws:securetransport": ("true",)}
    return [
        Request("s3:GetObject", Resource(partition, "s3", "", "", f"{bucket}/{key}"), dict(transport)),
        Request("s3:ListBucket", Resource(partition, "s3", "", "", bucket), {**transport, "s3:prefix": (prefix,)}),
    ]


def verdicts(role_arn: str, identity, bucket_policy: dict | None, bucket: str, key: str, prefix: str):
    """[(action, resource, outcome, reason)] for each need; ``identity`` is the role's PolicySet."""
    arn = parse_arn(role_arn)
    boundary = identity.statements(boundary=True) if identity.has_boundary else None
    to_role, denies = [], []
    if bucket_policy:
        root = PolicyRoot(documents.parse("bucket-policy.json", json.dumps(bucket_policy)), "", "bucket policy",
                          bucket_policy)
        statements = statements_of(root)
        to_role = [s for s in statements if s.effect == "Allow" and principal_match(s, role_arn) == "named"]
        denies = [s for s in statements if s.effect == "Deny" and principal_match(s, role_arn)]
    results = []
    for need in needs(arn.partition, bucket, key, prefix):
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
        granted = decide_layer(to_role, need, "bucket policy") if to_role else None
        outcome, reason = own.outcome, f"the role's {layer} " + (
            "allow it" if own.outcome == YES else "do not allow it" if own.outcome == NO else
            "allow it only under conditions that cannot be decided here")
        if granted and granted.outcome > outcome:
            within = boundary is None or decide_layer(boundary, need, "permissions boundary").outcome == YES
            outcome = granted.outcome if within else MAYBE
            reason = "the bucket policy allows the role" + ("" if within else ", outside its permissions boundary")
        if MAYBE in denied and outcome == YES:
            outcome, reason = MAYBE, "a bucket policy Deny applies under conditions that cannot be decided here"
        results.append((need.action, resource, outcome, reason))
    return results
