"""Sending a request that passed every check: the one place preflight changes anything.

A create or update is not idempotent. The sending client makes exactly one attempt; when that
attempt times out, the cluster is looked up before anything else is said, and the call is never
retried blindly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from preflight import operations
from preflight.account import LookupFailed

EXIT_OK, EXIT_FAILED, EXIT_UNVERIFIED = 0, 1, 3


@dataclass
class Outcome:
    sent: bool
    dry_run: bool
    operation: str
    request: object
    response: dict | None = None
    error: str | None = None
    note: str | None = None
    exit_code: int = EXIT_OK

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.dry_run:
            return f"dry run: would send {self.operation} with:\n{json.dumps(self.request, indent=2)}"
        if not self.sent:
            return f"not sent: {self.operation} did not pass its checks"
        if self.error:
            return f"{self.operation} failed: {self.error}" + (f"\n{self.note}" if self.note else "")
        return f"{self.operation} sent: {json.dumps(self.response, default=str)}" + (f"\n{self.note}" if self.note else "")


def send(account, operation: str, request: dict) -> Outcome:
    import botocore.exceptions  # only when something is sent

    outcome = Outcome(sent=True, dry_run=False, operation=operation, request=request)
    try:
        outcome.response = account.send(operation, request)
        return outcome
    except botocore.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        outcome.error = f"{error.get('Code')}: {error.get('Message')}"
        outcome.exit_code = EXIT_FAILED
        return outcome
    except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.EndpointConnectionError) as err:
        outcome.error = f"not delivered: {err}"
        outcome.exit_code = EXIT_FAILED
        return outcome
    except botocore.exceptions.ReadTimeoutError as err:
        outcome.error = f"no answer: {err}"
    except botocore.exceptions.BotoCoreError as err:
        outcome.error = str(err)
    # The request may or may not have been carried out: look before saying anything.
    name = operations.cluster_of(request)
    if name is None:
        outcome.note = f"whether {operation} took effect is unknown; do not resend before checking"
        outcome.exit_code = EXIT_UNVERIFIED
        return outcome
    try:
        cluster = account.cluster(name, fresh=True)  # not the pre-send answer the checks used
    except LookupFailed as failure:
        outcome.note = f"whether {operation} took effect is unknown: {failure}; do not resend before checking"
        outcome.exit_code = EXIT_UNVERIFIED
        return outcome
    if operation == "create-cluster":
        if cluster is not None:
            outcome.note = f"the cluster exists ({cluster.arn}, {cluster.status}): the create went through"
            outcome.response = {"ClusterArn": cluster.arn}
            outcome.error = None
            return outcome
        outcome.note = "the cluster does not exist: the create did not go through; it was not retried"
        outcome.exit_code = EXIT_FAILED
        return outcome
    outcome.note = (f"the cluster is {cluster.status}; whether {operation} took effect is not known from here"
                    if cluster else "the cluster does not exist")
    outcome.exit_code = EXIT_UNVERIFIED
    return outcome
