"""Sending a request that passed every check: the one place preflight changes anything.

A create or update is not idempotent. The request is sent exactly once, and what happened is
decided from evidence only: an answer in the operation's shape says it was sent; a clear client
error (a 4xx with an AWS error code) says it had no effect; anything else (a timeout, a 5xx,
throttling, a reset, an unreadable answer) leaves the outcome unknown until a fresh read of the
cluster (of the scheduler config, for its update or deletion) shows it. Still unknown is exit 3,
and the request is never retried blindly.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from preflight import operations
from preflight.lookup import LookupFailed
from preflight.formats.escape import plain_data, untrusted

EXIT_OK, EXIT_FAILED, EXIT_UNVERIFIED = 0, 1, 3
SETTLE_READS = (0.0, 1.0, 2.0)  # seconds before each fresh read after an unknown outcome
# Cluster statuses that show an update or a deletion has been taken up.
TAKEN_UP = {"update-cluster": {"Updating"}, "update-cluster-software": {"SystemUpdating", "Updating"},
            "delete-cluster": {"Deleting"}}


@dataclass
class Outcome:
    result: str  # sent | not sent | unknown | would send (a dry run that passed)
    dry_run: bool
    operation: str
    request: object
    response: dict | None = None
    error: str | None = None
    note: str | None = None
    unverified: list[str] = field(default_factory=list)  # advisory checks (PF401) not verified
    exit_code: int = EXIT_OK

    @property
    def sent(self) -> bool:
        return self.result == "sent"

    def as_dict(self) -> dict:
        return {**asdict(self), "sent": self.sent}

    def describe(self) -> str:
        """What happened, in words; every value from the request or from AWS escaped."""
        if self.result == "would send":
            text = f"dry run: would send {self.operation} with:\n{_shown(self.request, indent=2)}"
        elif self.result == "sent":
            text = f"{self.operation} sent: {_shown(self.response)}"
        elif self.result == "not sent" and self.error is None:
            text = f"{'dry run: ' if self.dry_run else ''}not sent: {self.operation} {untrusted(self.note or '')}"
        elif self.result == "not sent":
            text = f"not sent: {self.operation} failed: {untrusted(self.error)}"
        else:
            text = f"unknown whether {self.operation} took effect: {untrusted(self.error or '')}"
        if self.note and self.error is not None or self.result == "sent" and self.note:
            text += f"\n{untrusted(self.note)}"
        if self.unverified:
            text += "\nnot verified (advisory checks that could not be completed):" + "".join(
                f"\n  - {untrusted(u)}" for u in self.unverified)
        return text


def _shown(value, indent=None) -> str:
    return json.dumps(plain_data(value), indent=indent, ensure_ascii=False)


def not_sent(operation: str, request, dry_run: bool, why: str, unverified: list[str]) -> Outcome:
    """Not sent, and why: the checks block it, or (--require-verified) some were not verified."""
    return Outcome("not sent", dry_run, operation, request, note=why, unverified=unverified, exit_code=EXIT_FAILED)


def would_send(operation: str, request, unverified: list[str]) -> Outcome:
    return Outcome("would send", True, operation, request, unverified=unverified)


def send(account, operation: str, request: dict, unverified: list[str] = ()) -> Outcome:
    outcome = Outcome("sent", False, operation, request, unverified=list(unverified))
    delivery = account.send(operation, request)
    if delivery.result == "sent":
        outcome.response = delivery.response
        return outcome
    outcome.error = delivery.reason
    if delivery.result in ("refused", "not-delivered"):
        outcome.result, outcome.exit_code = "not sent", EXIT_FAILED
        if operation == "create-cluster" and delivery.code == "ResourceInUse":
            outcome.note = (f"the cluster {operations.cluster_of(request)} already exists (created since the checks "
                            "ran, by another request) and was not changed by this one")
        elif delivery.result == "refused":
            outcome.note = f"HyperPod refused {operation}: it had no effect"
        return outcome
    _look_again(account, operation, request, outcome)
    return outcome


def _shows_effect(operation: str, cluster) -> bool:
    if operation == "create-cluster":
        return cluster is not None
    if operation == "delete-cluster" and cluster is None:
        return True
    return cluster is not None and cluster.status in TAKEN_UP.get(operation, ())


def _config_shows_effect(operation: str, request: dict, config) -> bool:
    """A scheduler config read after its update or deletion: a version past the one the update
    targeted, or a config being deleted or gone."""
    if operation == "delete-cluster-scheduler-config":
        return config is None or config.status in ("Deleting", "Deleted")
    target = request.get("TargetVersion")
    return config is not None and isinstance(target, int) and config.version > target


def _look_again(account, operation: str, request: dict, outcome: Outcome) -> None:
    """The answer proves nothing: read the cluster afresh (a few times, as a create may take a
    moment to show) and decide from what it shows, or say that it is still unknown. A scheduler
    config's update or deletion names only the config: that is what is read again."""
    name = operations.cluster_of(request)
    if name is not None:
        what, command = "cluster", "describe-cluster"

        def read():
            return account.cluster(name, fresh=True)

        def shows(cluster):
            return _shows_effect(operation, cluster)

        def state(cluster, took):
            if cluster is None:
                return "is gone" if took else "does not exist"
            return f"exists ({cluster.arn}, {cluster.status})" if took else f"is {cluster.status}"
    else:
        what, command = "scheduler config", "describe-cluster-scheduler-config"

        def read():
            return account.scheduler_config(request.get("ClusterSchedulerConfigId"), fresh=True)

        def shows(config):
            return _config_shows_effect(operation, request, config)

        def state(config, took):
            if config is None:
                return "is gone" if took else "does not exist"
            return f"is at version {config.version} ({config.status})"
    record = failure = None
    for delay in SETTLE_READS:
        time.sleep(delay)
        try:
            record, failure = read(), None
        except LookupFailed as err:  # not the pre-send answer the checks used: a fresh one or none
            failure = err
            continue
        if shows(record):
            outcome.result, outcome.exit_code, outcome.error = "sent", EXIT_OK, None
            if operation == "create-cluster":
                outcome.response = {"ClusterArn": record.arn}
            outcome.note = f"the {what} {state(record, True)}: the {operation} went through"
            return
    outcome.result, outcome.exit_code = "unknown", EXIT_UNVERIFIED
    if failure is not None:
        outcome.note = f"the {what} could not be read afterwards ({failure}); check it before sending again"
    else:
        outcome.note = (f"the {what} {state(record, False)}, which does not show whether {operation} took effect: "
                        f"check it (aws sagemaker {command}) before sending again")
