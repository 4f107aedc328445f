"""S3: whether a lifecycle script's bucket and object exist (and the object's first bytes and KMS key),
whether the bucket is the caller's account's, small lifecycle files read whole, and bucket policies.

Which account owns a bucket is read with the one HeadBucket the object's check makes anyway (it
needs ``s3:ListBucket`` on the bucket and nothing more), given ``ExpectedBucketOwner`` = the
caller's account: S3 answers 403 when another account owns the bucket (Amazon S3 User Guide,
"Verifying bucket ownership with bucket owner condition"). A 403 is also what a caller without
``s3:ListBucket`` gets, so it is told apart by HeadBucket without the condition: answered, the
bucket is another account's; refused, nothing is known and the lookup fails as before. The other
ways cost more permission or say less: GetBucketAcl names a canonical user id, not an account,
and needs ``s3:GetBucketAcl``; ListBuckets needs ``s3:ListAllMyBuckets``; GetBucketPolicy is
refused to every account but the owner's, with or without a policy."""

from __future__ import annotations

import re

from preflight.account import ObjectHead
from preflight.aws.calls import Calls, document, text
from preflight.aws.sts import Sts
from preflight.lookup import LookupFailed

SMALL_OBJECT_LIMIT = 256 * 1024  # a lifecycle configuration file read whole (provisioning_parameters.json)


class S3:
    def __init__(self, calls: Calls, sts: Sts):
        self._calls, self._sts = calls, sts

    def object_head(self, bucket: str, key: str) -> ObjectHead:
        def compute():
            # S3 always names the bucket's region and the object's ETag: a 200 without them (an empty
            # or HTML page from something in between) is not S3 saying that they exist.
            region, in_caller_account = self._bucket(bucket)
            if region is None:
                return ObjectHead(False, None)
            # The body is read inside the call's guard: a reset while reading it is a failed lookup.
            head, kms_key = self._calls.call("s3", "get_object", lambda a: (_body(a), _kms_key(a)), Bucket=bucket,
                                             Key=key, Range="bytes=0-4095") or (None, None)
            return ObjectHead(True, head, region, kms_key, in_caller_account)
        return self._calls.once(("object", bucket, key), compute)

    def bucket_in_caller_account(self, bucket: str) -> bool | None:
        """Whether the caller's account owns the bucket, as ``object_head`` says it, with one call
        fewer before it: the bucket policy's read (PF422) need not wait for the object's."""
        return self._bucket(bucket)[1]

    def _bucket(self, bucket: str) -> tuple[str | None, bool | None]:
        """(the bucket's region, whether the caller's account owns it: None when the caller's
        account is not known); (None, None) when there is no such bucket. Read once per bucket."""
        def head(**owner):
            return self._calls.call("s3", "head_bucket", lambda a: text(a["BucketRegion"]), Bucket=bucket, **owner)

        def compute():
            try:
                account = self._sts.identity()[1]
            except LookupFailed:  # the caller's own failure is said where the caller is needed
                return head(), None
            try:
                region = head(ExpectedBucketOwner=account)
            except LookupFailed as failure:
                if not failure.reason.startswith("access denied"):
                    raise
                region = head()  # answered: another account owns it; refused too: nothing is known
                return region, None if region is None else False
            return region, None if region is None else True
        return self._calls.once(("bucket", bucket), compute)

    def small_object(self, bucket: str, key: str) -> bytes | None:
        """A small object read whole; LookupFailed when it is larger than SMALL_OBJECT_LIMIT."""
        def compute():
            body = self._calls.call("s3", "get_object", _body, Bucket=bucket, Key=key,
                                    Range=f"bytes=0-{SMALL_OBJECT_LIMIT}")
            if body is not None and len(body) > SMALL_OBJECT_LIMIT:
                raise LookupFailed("s3:GetObject", f"s3://{bucket}/{key} is larger than {SMALL_OBJECT_LIMIT} bytes")
            return body
        return self._calls.once(("small-object", bucket, key), compute)

    def bucket_policy(self, bucket: str) -> dict | None:
        return self._calls.once(("bucket-policy", bucket), lambda: self._calls.call(
            "s3", "get_bucket_policy", lambda a: document(a["Policy"]), Bucket=bucket))


def _kms_key(answer: dict) -> str | None:
    """The key of an object S3 encrypts with KMS (SSE-KMS, or its dual-layer form)."""
    return text(answer["SSEKMSKeyId"]) if str(answer.get("ServerSideEncryption", "")).startswith("aws:kms") else None


def _body(answer: dict) -> bytes:
    """The body of a ranged GetObject, read whole; an answer without S3's ETag, or shorter than
    the range it says it holds, is not the object."""
    text(answer["ETag"])
    body = answer["Body"].read()
    found = re.fullmatch(r"bytes (\d+)-(\d+)/\d+", answer.get("ContentRange") or "")
    if found and len(body) != int(found[2]) - int(found[1]) + 1:
        raise ValueError(f"{len(body)} bytes where the answer announced {found[0]}")
    return body
