"""``apply --wait``: after a successful send, follow what the operation changed until it settles.

A cluster operation is followed on its cluster (a MoveClusterNodes on the target cluster, where
the nodes end up): DescribeCluster, ListClusterNodes and ListClusterEvents (fresh reads, never
the check's memo) every ``interval`` seconds. Settled: InService with every group's running nodes
at its target (exit 0), Failed or RollingBack (exit 1, with the service's failure message), or,
after a delete-cluster, the cluster gone (exit 0). A scheduler config or an extension is followed
on its own status (DescribeClusterSchedulerConfig, DescribeClusterExtension): Created/Updated or
Active (exit 0), a failed status or Degraded (exit 1, with its failure reason or health issues),
after a delete Deleted or gone (exit 0). Past the timeout the outcome is not known (exit 3).
Ctrl-C (and SIGTERM or SIGHUP, which ``apply`` turns into the same) stops the waiting only: the
operation goes on in AWS.

Progress goes to a reporter: one line per change (CI logs, and stderr beside ``--format json``),
or a live display on a terminal (rich, imported only then). What the service says (status, group
names, events, failure messages) is shown through the one escaping function, and to rich as text,
never as markup. Every observation is kept as an event for the JSON report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from preflight.formats.escape import untrusted
from preflight.lookup import LookupFailed

EXIT_OK, EXIT_FAILED, EXIT_UNVERIFIED, EXIT_INTERRUPTED = 0, 1, 3, 130
FAILED = ("Failed", "RollingBack")


@dataclass
class Waited:
    exit_code: int
    status: str | None
    message: str
    elapsed: float
    events: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"exit_code": self.exit_code, "status": self.status, "message": self.message,
                "elapsed_seconds": round(self.elapsed, 1), "events": self.events}


def _groups(cluster, nodes) -> dict[str, tuple[int, int]]:
    """Group -> (nodes running, target count)."""
    running: dict[str, int] = {}
    for node in nodes or ():
        if node.status == "Running":
            running[node.group] = running.get(node.group, 0) + 1
    return {name: (running.get(name, 0), record.get("TargetCount", record.get("CurrentCount", 0)) or 0)
            for name, record in sorted(cluster.groups.items())}


def _ago(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


@dataclass(frozen=True)
class Subject:
    """What ``--wait`` follows after a send: a cluster (``key``: its name or ARN), a scheduler
    config (its id) or an extension (the cluster's ARN, the extension's ARN). A scheduler config
    and an extension have a status of their own, which is what settles; the cluster's does not move."""

    kind: str  # cluster | scheduler-config | extension
    key: tuple
    shown: str
    version: int | None = None  # a scheduler config update settles at this version, not an earlier one


def subject(operation: str, request: dict, response: dict | None) -> Subject | None:
    """The subject of a sent ``operation``; None when neither the request nor the answer names one."""
    from preflight.operations import cluster_of

    response = response or {}
    if operation.endswith("-cluster-scheduler-config"):
        config = request.get("ClusterSchedulerConfigId") or response.get("ClusterSchedulerConfigId")
        return Subject("scheduler-config", (config,), f"scheduler config {config}",
                       response.get("ClusterSchedulerConfigVersion")) if isinstance(config, str) else None
    if operation.endswith("-cluster-extension"):
        arn, cluster = request.get("ExtensionArn") or response.get("ExtensionArn"), request.get("ClusterArn")
        return Subject("extension", (cluster, arn), f"extension {arn}") if arn and cluster else None
    # moved nodes settle in the target group, which may be in another cluster
    name = request.get("TargetClusterArn") if operation == "move-cluster-nodes" else cluster_of(request)
    return Subject("cluster", (name,), name) if isinstance(name, str) else None


def history(account, operation: str, request: dict) -> set[str]:
    """The events the cluster a change is about to follow already has, read before the send: what
    ``follow`` shows is what came after (a cluster made a moment ago has its creation's events)."""
    followed = subject(operation, request, None)
    if operation == "create-cluster" or followed is None or followed.kind != "cluster":
        return set()
    try:
        return {_event_key(event) for event in account.cluster_events(followed.key[0])}
    except LookupFailed:  # events are a courtesy: the five seconds before the send are left out anyway
        return set()


def follow(account, followed: Subject, operation: str, timeout: float, interval: float, reporter,
           clock=time.monotonic, sleep=time.sleep, seen: set[str] = frozenset()) -> Waited:
    """Follow what a sent change changed; ``seen`` are the events it had before the send (``history``)."""
    if followed.kind == "cluster":
        watch = _ClusterWatch(account, followed, operation, seen)
    else:
        watch = _ResourceWatch(account, followed, operation)
    start = clock()
    try:
        while True:
            elapsed = clock() - start
            settled = watch.observe(elapsed, reporter)
            if settled:
                return _done(*settled, elapsed, watch.events, reporter)
            if elapsed >= timeout:
                shown = watch.status or "not read"
                return _done(EXIT_UNVERIFIED, watch.status, f"still {shown} after {_ago(elapsed)}: the outcome is "
                             "not known", elapsed, watch.events, reporter)
            reporter.tick(elapsed)
            sleep(min(interval, timeout - elapsed))
    except KeyboardInterrupt as stop:  # Ctrl-C, or apply.Interrupted for SIGINT, SIGTERM, SIGHUP
        elapsed = clock() - start
        by = f" ({stop.name})" if hasattr(stop, "name") else ""
        return _done(getattr(stop, "exit_code", EXIT_INTERRUPTED), watch.status,
                     f"stopped waiting{by} after {_ago(elapsed)}; the {operation} goes on in AWS (last seen: "
                     f"{watch.status or 'not read'})", elapsed, watch.events, reporter)


class _ClusterWatch:
    """Settled: InService with every group's running nodes at its target, Failed or RollingBack,
    or (a delete-cluster) the cluster gone."""

    def __init__(self, account, followed: Subject, operation: str, seen: set[str]):
        self.account, self.name, self.operation = account, followed.key[0], operation
        self.since = datetime.now(timezone.utc) - timedelta(seconds=5)  # the cluster's earlier history is not news
        self.events: list[dict] = []
        self.seen_events: set[str] = set(seen)
        self.last: tuple | None = None
        self.status = None

    def observe(self, elapsed: float, reporter) -> tuple | None:
        name = self.name
        try:
            cluster = self.account.cluster(name, fresh=True)
            nodes = self.account.cluster_nodes(name, fresh=True) if cluster else None
        except LookupFailed as failure:
            reporter.note(elapsed, f"could not read the cluster: {failure}; still waiting")
            return None
        if cluster is None:
            if self.operation == "delete-cluster":
                return EXIT_OK, None, f"cluster {name} is deleted"
            return EXIT_FAILED, None, f"cluster {name} does not exist"
        self.status, groups = cluster.status, _groups(cluster, nodes)
        state = (self.status, tuple(groups.items()))
        if state != self.last:
            self.last = state
            self.events.append({"seconds": round(elapsed, 1), "status": self.status,
                                "groups": {g: {"running": r, "target": t} for g, (r, t) in groups.items()}})
            reporter.state(elapsed, self.status, groups)
        for event in _new_events(self.account, name, self.seen_events, self.since):
            self.events.append({"seconds": round(elapsed, 1), "event": event})
            reporter.event(elapsed, event)
        if self.status in FAILED:
            return EXIT_FAILED, self.status, f"cluster {name} is {self.status}: " \
                                             f"{cluster.failure or 'no failure message given'}"
        if self.status == "InService" and self.operation != "delete-cluster" and all(
                r >= t for r, t in groups.values()):
            return EXIT_OK, self.status, f"cluster {name} is InService"
        return None


# A scheduler config or an extension: the statuses where it has settled well, and badly.
SETTLED = {"scheduler-config": ("Created", "Updated", "Deleted"), "extension": ("Active",)}
SETTLED_BADLY = {"scheduler-config": ("CreateFailed", "CreateRollbackFailed", "UpdateFailed", "UpdateRollbackFailed",
                                      "DeleteFailed", "DeleteRollbackFailed"),
                 "extension": ("CreateFailed", "UpdateFailed", "DeleteFailed", "Degraded")}


class _ResourceWatch:
    """Settled: the resource's own status (SETTLED, SETTLED_BADLY), or, after a delete, the
    resource gone (an extension) or Deleted (a scheduler config)."""

    def __init__(self, account, followed: Subject, operation: str):
        self.account, self.followed, self.operation = account, followed, operation
        self.deleting = operation.startswith("delete-")
        self.events: list[dict] = []
        self.status = None

    def observe(self, elapsed: float, reporter) -> tuple | None:
        followed = self.followed
        read = self.account.scheduler_config if followed.kind == "scheduler-config" else self.account.cluster_extension
        try:
            found = read(*followed.key, fresh=True)
        except LookupFailed as failure:
            reporter.note(elapsed, f"could not read the {followed.shown}: {failure}; still waiting")
            return None
        if found is None:
            if self.deleting:
                return EXIT_OK, None, f"{followed.shown} is deleted"
            return EXIT_FAILED, None, f"{followed.shown} does not exist"
        status = found.status
        if followed.version is not None and getattr(found, "version", followed.version) < followed.version:
            status = f"{status} (version {found.version}, not yet {followed.version})"
        if status != self.status:
            self.status = status
            self.events.append({"seconds": round(elapsed, 1), "status": status})
            reporter.state(elapsed, status, {})
        if status in SETTLED_BADLY[followed.kind]:
            return EXIT_FAILED, status, f"{followed.shown} is {status}: {found.failure or 'no failure reason given'}"
        if status == "Deleted" and not self.deleting:
            return EXIT_FAILED, status, f"{followed.shown} is Deleted"
        if status in SETTLED[followed.kind] and (status == "Deleted") == self.deleting:
            return EXIT_OK, status, f"{followed.shown} is {status}"
        return None


def _new_events(account, name: str, seen: set[str], since: datetime) -> list[str]:
    try:
        found = account.cluster_events(name)
    except LookupFailed:  # events are a courtesy: the status decides
        return []
    fresh = []
    for event in found:
        key = _event_key(event)
        when = event.get("EventTime")
        if isinstance(when, datetime) and when.tzinfo and when < since:
            seen.add(key)
        if key not in seen:
            seen.add(key)
            where = " ".join(v for v in (event.get("InstanceGroupName"), event.get("InstanceId")) if v)
            fresh.append(f"{event.get('Description', '')}" + (f" ({where})" if where else ""))
    return fresh


def _event_key(event: dict) -> str:
    return event.get("EventId") or repr(sorted(event.items()))


def _done(code, status, message, elapsed, events, reporter) -> Waited:
    reporter.finish(elapsed, message, code)
    return Waited(code, status, message, elapsed, events)


class LineReporter:
    """One line per change, for logs (``stream``: stdout, or stderr beside JSON output)."""

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name

    def _line(self, elapsed: float, text: str) -> None:
        self.stream.write(f"[{_ago(elapsed):>6}] {untrusted(text)}\n")
        self.stream.flush()

    def state(self, elapsed, status, groups) -> None:
        shown = ", ".join(f"{g} {r}/{t} running" for g, (r, t) in groups.items())
        self._line(elapsed, f"{self.name} {status}" + (f"; {shown}" if shown else ""))

    def event(self, elapsed, text) -> None:
        self._line(elapsed, f"event: {text}")

    def note(self, elapsed, text) -> None:
        self._line(elapsed, text)

    def tick(self, elapsed) -> None:
        """Nothing: a log gets a line per change, not per poll."""

    def finish(self, elapsed, message, code) -> None:
        self._line(elapsed, message)


class LiveReporter:
    """A live display on a terminal: status, nodes running per group out of the target, the
    recent events and the time elapsed (rich). The display is drawn again four times a second,
    so its clock runs between two reads of the cluster."""

    def __init__(self, name: str, clock=time.monotonic):
        from rich.console import Console
        from rich.live import Live

        self.name, self.status, self.groups, self.recent = name, "?", {}, []
        self.clock, self.started, self.final = clock, clock(), None
        self.console = Console()
        self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=4, transient=False)
        self.live.start()

    def _render(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        elapsed = self.final if self.final is not None else self.clock() - self.started
        table = Table(title=Text(untrusted(f"{self.name}: {self.status} ({_ago(elapsed)})")), title_justify="left")
        table.add_column("instance group")
        table.add_column("running / target", justify="right")
        for group, (running, target) in self.groups.items():
            table.add_row(Text(untrusted(group)), f"{running} / {target}")
        if not self.recent:
            return table
        return Group(table, Text("recent events", style="bold"),
                     *(Text(untrusted(text), style="dim") for text in self.recent[-5:]))

    def state(self, elapsed, status, groups) -> None:
        self.status, self.groups = status, groups
        self.live.refresh()

    def event(self, elapsed, text) -> None:
        self.recent.append(text)
        self.live.refresh()

    def note(self, elapsed, text) -> None:
        self.event(elapsed, text)

    def tick(self, elapsed) -> None:
        """Nothing: the display redraws itself, with the time as it passes."""

    def finish(self, elapsed, message, code) -> None:
        from rich.text import Text

        self.final = elapsed
        self.live.refresh()
        self.live.stop()
        self.console.print(Text(untrusted(message)))
