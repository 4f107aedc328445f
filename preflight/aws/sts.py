"""STS: who the caller is."""

from __future__ import annotations

from preflight.aws.calls import Calls, text


class Sts:
    def __init__(self, calls: Calls):
        self._calls = calls

    def identity(self) -> tuple[str, str]:
        """(the caller's ARN as STS gives it, its account)."""
        return self._calls.once(("identity",), lambda: self._calls.call(
            "sts", "get_caller_identity", lambda a: (text(a["Arn"]), text(a["Account"]))))
