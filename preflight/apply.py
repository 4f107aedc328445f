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
unknown is exit 3, and the request is never retried blindly. A fresh read proves a send only when
the change it shows is this request's: a cluster of the name created before the send, or with
other groups, is someone else's; so is a change to an existing cluster already under way when the
checks read it, or one that does not show what this request asks for (see ``_why_not``).

From the moment a send may start, SIGINT, SIGTERM and SIGHUP do not end the process: the first
stops what is under way (the send, a read-back or the wait), and the report, every format and
every --output file, still says what was sent and what is known of its outcome, with the exit
code 128 + the signal's number; a further signal waits until that report is out.
"""

from __future__ import annotations

import contextlib
import enum
import json
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from preflight import operations, wait as waiting
from preflight.lookup import LookupFailed
from preflight.formats.escape import plain_data, untrusted

EXIT_OK, EXIT_FAILED, EXIT_UNVERIFIED = 0, 1, 3
SETTLE_READS = (0.0, 1.0, 2.0)  # seconds before each fresh read after an unknown outcome
# Cluster statuses that show an update or a deletion has been taken up.
TAKEN_UP = {"update-cluster": {"Updating"}, "update-cluster-software": {"SystemUpdating", "Updating"},
            "delete-cluster": {"Deleting"}}
# A cluster's statuses while a change is under way: a change seen before the send is not this request's.
CHANGING = {"Creating", "Updating", "SystemUpdating", "Deleting", "RollingBack"}
# The changes to an existing cluster whose evidence is compared with the cluster the checks read,
# and those whose change shows in the cluster's nodes (read again with it).
COMPARED = {"update-cluster", "update-cluster-software", "batch-add-cluster-nodes", "batch-delete-cluster-nodes",
            "delete-cluster"}
NODE_EVIDENCE = {"update-cluster-software", "batch-delete-cluster-nodes"}
# DescribeCluster's CreationTime and a node's LastSoftwareUpdateTime may be cut to the second: a
# cluster made (a node updated) in the second the send started may show an earlier time.
CREATION_SLACK = timedelta(seconds=1)
CAUGHT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT, SIGTERM, SIGHUP) stopped what was under way; ``wait.follow`` takes it as
    it takes Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum


class Signals:
    """From the send's start to the report's end: the first SIGINT, SIGTERM or SIGHUP raises
    ``Interrupted`` in the main thread while ``armed`` (the send, its read-back, the wait), and is
    held until the next arming while the report is being written; any later one is held until the
    report is out (leaving the block)."""

    def __init__(self):
        self.first: Interrupted | None = None
        self._saved: dict = {}
        self._armed = False

    def _caught(self, signum, frame):
        if self.first is None:
            self.first = Interrupted(signum)
            if self._armed:
                raise self.first

    @contextlib.contextmanager
    def armed(self):
        if self.first is not None:
            raise self.first
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

    def __enter__(self) -> "Signals":
        if threading.current_thread() is threading.main_thread():  # only the main thread may set handlers
            self._saved = {signum: signal.signal(signum, self._caught) for signum in CAUGHT}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)


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
    interrupted: str | None = None  # the signal that stopped the send or its read-back (SIGTERM ...)

    @property
    def sent(self) -> bool:
        return self.result == "sent"

    def as_dict(self) -> dict:
        return {**asdict(self), "sent": self.sent}

    def describe(self) -> str:
        """What happened, in words; every value from the request or from AWS escaped."""
        if self.result == "would send":
            text = f"dry run: would send {self.operation} with:\n{_shown(self.request, indent=2)}"
        elif self.result == "sent" and self.response is None:  # its answer was not understood: the note says why
            text = f"{self.operation} sent"
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


def send(account, operation: str, request: dict, unverified: list[str] = (), signals: Signals | None = None) -> Outcome:
    """Send once and decide the outcome from evidence; ``signals`` (armed for the send and the
    read-back) lets SIGINT, SIGTERM and SIGHUP stop either, leaving the outcome unknown."""
    outcome = Outcome("sent", False, operation, request, unverified=list(unverified))
    armed = signals.armed if signals else contextlib.nullcontext
    if signals is not None and signals.first is not None:  # came before the send began: nothing was sent
        raise signals.first
    with armed():
        before = _before(account, operation, request)
    started = datetime.now(timezone.utc)
    try:
        with armed():
            delivery = account.send(operation, request)
    except Interrupted as stop:  # the request may be on its way, or applied already
        return _interrupted(outcome, stop, "while the request was being sent")
    if delivery.result == "sent":
        outcome.response = delivery.response
        if delivery.reason:  # a 200 whose body is not in the operation's shape
            outcome.note = f"sent; the answer was not understood ({delivery.reason})"
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
    try:
        with armed():
            _look_again(account, operation, request, outcome, before, started)
    except Interrupted as stop:
        return _interrupted(outcome, stop, "while the cluster was being read again")
    return outcome


@dataclass(frozen=True)
class Observed:
    """One read of the cluster a request changes, with its nodes where they show the change."""

    cluster: object  # ClusterState, or None when there is no such cluster
    nodes: list | None = None


def _observed(account, operation: str, name: str, fresh: bool) -> Observed:
    nodes = account.cluster_nodes(name, fresh=fresh) if operation in NODE_EVIDENCE else None
    return Observed(account.cluster(name, fresh=fresh), nodes)


def _before(account, operation: str, request: dict) -> Observed | None:
    """The cluster a change is made to as the checks read it (the run's memo, read now if they did
    not), before the send; None for a change not judged against it, or a failed read."""
    name = operations.cluster_of(request)
    if operation not in COMPARED or name is None:
        return None
    try:
        return _observed(account, operation, name, fresh=False)
    except LookupFailed:
        return None


def _interrupted(outcome: Outcome, stop: Interrupted, during: str) -> Outcome:
    what = "scheduler config" if operations.cluster_of(outcome.request) is None else "cluster"
    outcome.result, outcome.exit_code, outcome.interrupted = "unknown", stop.exit_code, stop.name
    outcome.error = f"interrupted by {stop.name} {during}"
    outcome.note = f"it may have been applied: check the {what} before sending again"
    return outcome


def _why_not(operation: str, request: dict, before: Observed | None, after: Observed, started: datetime) -> str | None:
    """None when a fresh read (``after``) shows this request's change; otherwise what the cluster
    shows instead. A create's cluster must be made since the send, with the request's groups and
    only those. A change to an existing cluster is compared with ``before``, the cluster as the
    checks read it before the send: a change already under way then (Updating, SystemUpdating,
    Deleting ...) is someone else's, and what the read shows must be this request's change: an
    update's groups at the requested counts (deleted groups gone), new since the checks or with the
    cluster taken up; a software update's image on the groups it names, with the cluster taken up,
    a node's software updated since the send or that image new; a node addition's groups, each
    target count grown by at least its increment since the checks; a node deletion's nodes, there
    before, gone or shutting down; a deletion's cluster Deleting or gone."""
    cluster = after.cluster
    if operation == "create-cluster":
        if cluster is None:
            return "does not exist"
        if (cluster.created is not None and cluster.created >= started - CREATION_SLACK
                and _has_groups(cluster, request, exactly=True)):
            return None
        return (f"exists ({cluster.arn}, {cluster.status}) but is not this request's (made before it was sent, or "
                "with other groups)")
    if operation not in COMPARED:
        return "does not exist" if cluster is None else f"is {cluster.status}"
    if before is None or before.cluster is None:
        return "was not read before the send, so nothing tells this request's change from another's"
    if before.cluster.status in CHANGING:
        return (f"was already {before.cluster.status} before the send (a change under way that is not this "
                "request's)")
    if operation == "delete-cluster":
        return None if cluster is None or cluster.status == "Deleting" else f"is {cluster.status}"
    if cluster is None:
        return "does not exist"
    taken_up = cluster.status in TAKEN_UP.get(operation, ())
    if operation == "update-cluster":
        if not _updated(cluster, request):
            return f"is {cluster.status} without this request's groups at their counts"
        if taken_up or not _updated(before.cluster, request):
            return None
        return f"is {cluster.status}, with the groups and counts it had before the send"
    if operation == "update-cluster-software":
        named = {g.get("InstanceGroupName") for g in request.get("InstanceGroups") or [] if isinstance(g, dict)}
        targets = named or set(cluster.groups)
        image = request.get("ImageId")
        if image is not None and not _imaged(cluster, targets, image):
            return f"is {cluster.status} without the image {image} on the groups this request names"
        updated = any(node.group in targets and node.software_updated is not None
                      and node.software_updated >= started - CREATION_SLACK for node in after.nodes or ())
        if taken_up or updated or image is not None and not _imaged(before.cluster, targets, image):
            return None
        return f"is {cluster.status}, its nodes' software not updated since the send"
    if operation == "batch-add-cluster-nodes":
        short = [group for group, added in _additions(request).items()
                 if _target(cluster, group) is None or _target(before.cluster, group) is None
                 or _target(cluster, group) < _target(before.cluster, group) + added]
        return f"is {cluster.status}, the target count of {', '.join(short)} not grown by the request's" if short else None
    named = {n for member in ("NodeIds", "NodeLogicalIds") for n in request.get(member) or []}  # a node deletion
    there = [n for n in before.nodes or () if n.id in named or n.logical_id in named]
    if not there:
        return "had none of the request's nodes before the send"
    left = {n.id: n.status for n in after.nodes or ()}
    if after.nodes is not None and all(left.get(n.id, "ShuttingDown") == "ShuttingDown" for n in there):
        return None
    return "still has the request's nodes running"


def _has_groups(cluster, request: dict, exactly: bool) -> bool:
    """The cluster has the request's groups (every one, and only those, when ``exactly``), each of
    its instance type, and at its count where the cluster gives a target."""
    wanted = {g.get("InstanceGroupName"): g for g in request.get("InstanceGroups") or [] if isinstance(g, dict)}
    if exactly and set(wanted) != set(cluster.groups):
        return False
    for name, group in wanted.items():
        found = cluster.groups.get(name)
        if found is None or found.get("InstanceType", group.get("InstanceType")) != group.get("InstanceType"):
            return False
        if "TargetCount" in found and found["TargetCount"] != group.get("InstanceCount"):
            return False
    return True


def _additions(request: dict) -> dict[str, int]:
    """A node addition's increment of each group it names (the same group twice adds up)."""
    added: dict[str, int] = {}
    for spec in request.get("NodesToAdd") or []:
        if isinstance(spec, dict) and isinstance(spec.get("IncrementTargetCountBy"), int):
            name = spec.get("InstanceGroupName")
            added[name] = added.get(name, 0) + spec["IncrementTargetCountBy"]
    return added


def _target(cluster, group: str) -> int | None:
    """A group's target count as the cluster gives it; None when it gives none."""
    found = cluster.groups.get(group, {}).get("TargetCount")
    return found if isinstance(found, int) else None


def _updated(cluster, request: dict) -> bool:
    """The cluster shows an update's groups (each of its type, at its count) and none it deletes."""
    deleted = request.get("InstanceGroupsToDelete") or []
    return _has_groups(cluster, request, exactly=False) and not set(deleted) & set(cluster.groups)


def _imaged(cluster, groups: set, image: str) -> bool:
    """Each of the groups has the image as its current or desired one."""
    return all(image in (cluster.groups.get(name, {}).get("CurrentImageId"),
                         cluster.groups.get(name, {}).get("DesiredImageId")) for name in groups)


def _config_shows_effect(operation: str, request: dict, config) -> bool:
    """A scheduler config read after its update or deletion: a version past the one the update
    targeted, or a config being deleted or gone."""
    if operation == "delete-cluster-scheduler-config":
        return config is None or config.status in ("Deleting", "Deleted")
    target = request.get("TargetVersion")
    return config is not None and isinstance(target, int) and config.version > target


def _look_again(account, operation: str, request: dict, outcome: Outcome, before: Observed | None,
                started: datetime) -> None:
    """The answer proves nothing: read the cluster afresh (a few times, as a change may take a
    moment to show) and decide from what it shows against ``before``, or say that it is still
    unknown. A scheduler config's update or deletion names only the config: that is what is read
    again."""
    name = operations.cluster_of(request)
    if name is not None:
        what, command = "cluster", "describe-cluster"

        def read():
            return _observed(account, operation, name, fresh=True)

        def shows(after):
            return _why_not(operation, request, before, after, started) is None

        def state(after, took):
            if took:
                return "is gone" if after.cluster is None else f"exists ({after.cluster.arn}, {after.cluster.status})"
            return _why_not(operation, request, before, after, started)
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
                outcome.response = {"ClusterArn": record.cluster.arn}
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
    deadline: float | None = None  # time.monotonic() by which the whole run ends (--deadline)

    def wait_limit(self) -> float:
        """How long --wait may follow: --wait-timeout, within what is left of --deadline."""
        if self.deadline is None:
            return self.wait_timeout
        return max(0.0, min(self.wait_timeout, self.deadline - time.monotonic()))


class OutputsNotWritable(Exception):
    """An --output file cannot be written: found before sending, so nothing is sent."""


class SendPath:
    """One request's way from its checks to its report. ``publish(stdout)`` writes the report to
    every --output file and, when ``stdout``, in the --format to stdout; ``outputs`` are those
    files, proven writable before the send, since a report that cannot be written after a send
    would lose its outcome."""

    def __init__(self, report, operation: str, request, account, publish: Callable[[bool], None],
                 outputs: list[str], text: bool):
        self.report, self.operation, self.request, self.account = report, operation, request, account
        self.publish, self.outputs, self.text = publish, outputs, text
        self.state = State.CHECKED
        self.history: set[str] = set()  # the followed cluster's events from before the send

    def run(self, checked: int, settings: Settings) -> int:
        """Decide, send at most once, follow, report; the exit code. ``checked`` is the checks' exit
        code. The report is out as soon as the send's outcome is known (stdout and every --output
        file) and, after a wait, the --output files are written again with what it saw; a machine
        format's stdout, one document, waits for the wait (or a signal) to end."""
        with Signals() as signals:
            try:
                outcome, code = self._decide(checked, settings, signals)
            except Interrupted as stop:  # before the send: send() takes the ones that come once it may be on its way
                self.state = State.NOT_SENT
                outcome = not_sent(self.operation, self.request, False, f"was interrupted by {stop.name} before "
                                   "it was sent", [f.message for f in self.report.findings if f.rule == "PF401"])
                outcome.exit_code, outcome.interrupted = stop.exit_code, stop.name
                code = stop.exit_code
            self.report.metadata["apply"] = outcome.as_dict()
            followed = waiting.subject(self.operation, self.request, outcome.response) \
                if settings.wait and outcome.sent else None
            follow = followed is not None and outcome.error is None and code == EXIT_OK
            if follow:
                self.state = State.WAITING
            self._publish(outcome, stdout=self.text or not follow)
            if follow:
                try:
                    with signals.armed():
                        waited = waiting.follow(self.account, followed, self.operation, settings.wait_limit(),
                                                settings.wait_interval, self._reporter(followed.shown),
                                                seen=self.history)
                except Interrupted as stop:  # came while the first report was being written
                    waited = waiting.Waited(stop.exit_code, None, f"not followed: interrupted by {stop.name}", 0.0)
                self.state, code = State.WAITED, waited.exit_code
                self.report.metadata["apply"]["wait"] = waited.as_dict()
                self._publish(outcome, stdout=not self.text)
            self.state = State.REPORTED
        return code

    def _publish(self, outcome: Outcome, stdout: bool) -> None:
        """The report as it stands, with the state the request is in; the text description on stdout."""
        self.report.metadata["apply"]["state"] = self.state.value
        self.publish(stdout)
        if stdout and self.text:
            sys.stdout.write(outcome.describe() + "\n")
        sys.stdout.flush()

    def _decide(self, checked: int, settings: Settings, signals: Signals) -> tuple[Outcome, int]:
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
        with signals.armed():
            self.history = waiting.history(self.account, self.operation, self.request) if settings.wait else set()
        self.state = State.SENDING
        outcome = send(self.account, self.operation, self.request, unverified, signals)
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
