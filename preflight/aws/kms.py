"""KMS: a key's state and manager, and its key policy."""

from __future__ import annotations

from preflight.account import Key
from preflight.aws.calls import Calls, document, text


class Kms:
    def __init__(self, calls: Calls):
        self._calls = calls

    def key(self, reference: str) -> Key | None:
        def build(answer):
            meta = answer["KeyMetadata"]
            return Key(text(meta["Arn"]), text(meta["KeyState"]), text(meta["KeyManager"]))
        return self._calls.once(("key", reference),
                                lambda: self._calls.call("kms", "describe_key", build, KeyId=reference))

    def key_policy(self, key_arn: str) -> dict | None:
        return self._calls.once(("key-policy", key_arn), lambda: self._calls.call(
            "kms", "get_key_policy", lambda a: document(a["Policy"]), KeyId=key_arn, PolicyName="default"))
