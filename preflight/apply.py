"""``apply``: the one path a request takes to HyperPod, as explicit states.

    checked -> blocked | held | would send          (nothing is sent)
            -> sending -> sent | not sent | unknown  (the outcome, from evidence)
            -> waiting -> waited                      (--wait, after a send that went through)
            -> reported                               (the report, whatever happened)

Everything that must hold around a send lives here: the outputs are proven writable before
anything is sent, the report says what was sent and what is known of its outcome, and is written
again when a wait ends. A create or update is not idempotent. The request is sent exactly once,
and what happened is decided from evidence only: an answer in the operation's shape says it was
sent; a clear client error (a 4xx with an AWS error code) says it had no effect; anything else (a
timeout, a 5xx, throttling, a reset, an unreadable answer) leaves the outcome unknown until a
fresh read of the cluster (of the scheduler config, for its update or deletion) shows it. Still
unknown is exit 3, and the request is never retried blindly.
"""

from __future__ import annotations

import enum
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from preflight import operations, wait as waiting
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


class State(str, enum.Enum):
    """Where a request is on its way to HyperPod."""

    CHECKED = "checked"  # every check ran; nothing is decided yet
    BLOCKED = "blocked"  # a finding at or above --fail-on (or a PF400): not sent
    HELD = "held"  # --require-verified and an advisory check not verified: not sent
    WOULD_SEND = "would send"  # --dry-run of a request that passed
    SENDING = "sending"  # the outputs are writable; the one call is under way
    SENT = "sent"  # the answer, or a fresh read, shows it went through
    NOT_SENT = "not sent"  # refused with no effect, or never delivered
    UNKNOWN = "unknown"  # nothing shows whether it took effect (exit 3)
    WAITING = "waiting"  # --wait follows what it changed
    WAITED = "waited"  # the change settled, failed, or the wait ended
    REPORTED = "reported"


@dataclass
class Settings:
    dry_run: bool = False
    require_verified: bool = False
    wait: bool = False
    wait_timeout: float = 3600.0
    wait_interval: float = 10.0


class OutputsNotWritable(Exception):
    """An --output file cannot be written: found before sending, so nothing is sent."""


class SendPath:
    """One request's way from its checks to its report. ``publish`` writes the report (stdout in
    the --format, and every --output file); ``outputs`` are those files, proven writable before
    the send, since a report that cannot be written after a send would lose its outcome."""

    def __init__(self, report, operation: str, request, account, publish: Callable[[], None],
                 outputs: list[str], text: bool):
        self.report, self.operation, self.request, self.account = report, operation, request, account
        self.publish, self.outputs, self.text = publish, outputs, text
        self.state = State.CHECKED
        self.history: set[str] = set()  # the followed cluster's events from before the send

    def run(self, checked: int, settings: Settings) -> int:
        """Decide, send at most once, follow, report; the exit code. ``checked`` is the checks' exit code."""
        outcome, code = self._decide(checked, settings)
        self.report.metadata["apply"] = outcome.as_dict()
        followed = waiting.subject(self.operation, self.request, outcome.response) \
            if settings.wait and outcome.sent else None
        follow = followed is not None and outcome.error is None and code == EXIT_OK
        if self.text or not follow:
            self.publish()
            if self.text:
                sys.stdout.write(outcome.describe() + "\n")
        if follow:
            self.state = State.WAITING
            waited = waiting.follow(self.account, followed, self.operation, settings.wait_timeout,
                                    settings.wait_interval, self._reporter(followed.shown), seen=self.history)
            self.state, code = State.WAITED, waited.exit_code
            if not self.text:  # one document, with what the waiting saw
                self.report.metadata["apply"]["wait"] = waited.as_dict()
                self.publish()
        self.state = State.REPORTED
        return code

    def _decide(self, checked: int, settings: Settings) -> tuple[Outcome, int]:
        unverified = [f.message for f in self.report.findings if f.rule == "PF401"]
        if checked != EXIT_OK:
            self.state = State.BLOCKED
            return not_sent(self.operation, self.request, settings.dry_run, "did not pass its checks",
                            unverified), checked
        if settings.require_verified and unverified:
            self.state = State.HELD
            return not_sent(self.operation, self.request, settings.dry_run, "is held back by --require-verified: "
                            f"{len(unverified)} advisory check(s) could not be completed", unverified), EXIT_UNVERIFIED
        if settings.dry_run:
            self.state = State.WOULD_SEND
            return would_send(self.operation, self.request, unverified), EXIT_OK
        _prove_writable(self.outputs)
        self.history = waiting.history(self.account, self.operation, self.request) if settings.wait else set()
        self.state = State.SENDING
        outcome = send(self.account, self.operation, self.request, unverified)
        self.state = State(outcome.result)
        return outcome, outcome.exit_code

    def _reporter(self, shown: str):
        """A live display on a terminal; lines in a log, on stderr beside a machine-readable report."""
        if self.text and sys.stdout.isatty():
            try:
                return waiting.LiveReporter(shown)
            except ImportError:  # rich comes with typer; without it, lines
                pass
        return waiting.LineReporter(sys.stdout if self.text else sys.stderr, shown)


def _prove_writable(paths: list[str]) -> None:
    """Open each --output file for appending (creating it, changing nothing in it)."""
    for path in paths:
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as err:
            raise OutputsNotWritable(f"--output {path}: {err.strerror}; nothing was sent") from None
