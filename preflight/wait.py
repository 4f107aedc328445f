"""``apply --wait``: after a successful send, follow the cluster until it settles.

Polls DescribeCluster, ListClusterNodes and ListClusterEvents (fresh reads, never the check's
memo) every ``interval`` seconds. Settled: InService with every group's running nodes at its
target (exit 0), Failed or RollingBack (exit 1, with the service's failure message), or, after a
delete-cluster, the cluster gone (exit 0). Past the timeout the outcome is not known (exit 3).
Ctrl-C stops the waiting only: the operation goes on in AWS.

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


def follow(account, name: str, operation: str, timeout: float, interval: float, reporter,
           clock=time.monotonic, sleep=time.sleep) -> Waited:
    start = clock()
    since = datetime.now(timezone.utc) - timedelta(seconds=5)  # the cluster's earlier history is not news
    events: list[dict] = []
    seen_events: set[str] = set()
    last: tuple | None = None
    status = None
    try:
        while True:
            elapsed = clock() - start
            try:
                cluster = account.cluster(name, fresh=True)
                nodes = account.cluster_nodes(name, fresh=True) if cluster else None
            except LookupFailed as failure:
                reporter.note(elapsed, f"could not read the cluster: {failure}; still waiting")
                cluster, nodes = "unread", None
            if cluster is None:
                if operation == "delete-cluster":
                    return _done(EXIT_OK, None, f"cluster {name} is deleted", elapsed, events, reporter)
                return _done(EXIT_FAILED, None, f"cluster {name} does not exist", elapsed, events, reporter)
            if cluster != "unread":
                status, groups = cluster.status, _groups(cluster, nodes)
                state = (status, tuple(groups.items()))
                if state != last:
                    last = state
                    event = {"seconds": round(elapsed, 1), "status": status,
                             "groups": {g: {"running": r, "target": t} for g, r, t in
                                        ((g, *counts) for g, counts in groups.items())}}
                    events.append(event)
                    reporter.state(elapsed, status, groups)
                for event in _new_events(account, name, seen_events, since):
                    events.append({"seconds": round(elapsed, 1), "event": event})
                    reporter.event(elapsed, event)
                if status in FAILED:
                    message = f"cluster {name} is {status}: {cluster.failure or 'no failure message given'}"
                    return _done(EXIT_FAILED, status, message, elapsed, events, reporter)
                if status == "InService" and operation != "delete-cluster" and all(r >= t for r, t in groups.values()):
                    return _done(EXIT_OK, status, f"cluster {name} is InService", elapsed, events, reporter)
            if elapsed >= timeout:
                shown = status or "not read"
                return _done(EXIT_UNVERIFIED, status, f"still {shown} after {_ago(elapsed)}: the outcome is not known",
                             elapsed, events, reporter)
            reporter.tick(elapsed)
            sleep(min(interval, timeout - elapsed))
    except KeyboardInterrupt:
        elapsed = clock() - start
        return _done(EXIT_INTERRUPTED, status, f"stopped waiting after {_ago(elapsed)}; the {operation} goes on "
                     f"in AWS (last seen: {status or 'not read'})", elapsed, events, reporter)


def _new_events(account, name: str, seen: set[str], since: datetime) -> list[str]:
    try:
        found = account.cluster_events(name)
    except LookupFailed:  # events are a courtesy: the status decides
        return []
    fresh = []
    for event in found:
        key = event.get("EventId") or repr(sorted(event.items()))
        when = event.get("EventTime")
        if isinstance(when, datetime) and when.tzinfo and when < since:
            seen.add(key)
        if key not in seen:
            seen.add(key)
            where = " ".join(v for v in (event.get("InstanceGroupName"), event.get("InstanceId")) if v)
            fresh.append(f"{event.get('Description', '')}" + (f" ({where})" if where else ""))
    return fresh


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
    recent events and the time elapsed (rich)."""

    def __init__(self, name: str):
        from rich.console import Console
        from rich.live import Live

        self.name, self.status, self.groups, self.recent, self.elapsed = name, "?", {}, [], 0.0
        self.console = Console()
        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _render(self):
        from rich.table import Table
        from rich.text import Text

        title = Text(untrusted(f"{self.name}: {self.status} ({_ago(self.elapsed)})"))
        table = Table(title=title, title_justify="left")
        table.add_column("instance group")
        table.add_column("running / target", justify="right")
        for group, (running, target) in self.groups.items():
            table.add_row(Text(untrusted(group)), f"{running} / {target}")
        for text in self.recent[-5:]:
            table.add_row(Text(untrusted(text), style="dim"), "")
        return table

    def _update(self, elapsed) -> None:
        self.elapsed = elapsed
        self.live.update(self._render())

    def state(self, elapsed, status, groups) -> None:
        self.status, self.groups = status, groups
        self._update(elapsed)

    def event(self, elapsed, text) -> None:
        self.recent.append(text)
        self._update(elapsed)

    def note(self, elapsed, text) -> None:
        self.event(elapsed, text)

    def tick(self, elapsed) -> None:
        self._update(elapsed)

    def finish(self, elapsed, message, code) -> None:
        self._update(elapsed)
        from rich.text import Text

        self.live.stop()
        self.console.print(Text(untrusted(message)))
