"""``apply --wait`` as its user sees it, against the embedded local AWS: on a terminal (a
pseudo-terminal here, as a shell gives one) the live display; in a log, one plain line per change.
Changes stay in progress for the settle time, so that progress is there to be shown."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import termios
import time

from conftest import ROOT, preflight_command
from test_apply_local import CREATE, WAIT, _apply

# What a terminal interprets: CSI sequences (colour, cursor movement), OSC strings, two-byte escapes.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# A service message with what could break a display: markup-like brackets and a control sequence.
HOSTILE_FAILURE = "Lifecycle scripts failed on [i-0abc] [/dim] [bold]\x1b[2J; see /var/log/provision"


def _in_terminal(args: list[str], env: dict, timeout: float = 60.0) -> tuple[int, str]:
    """(exit code, everything written to the terminal) of the CLI run in a pseudo-terminal of
    120 columns, its stdin, stdout and stderr."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(preflight_command() + args, stdin=follower, stdout=follower, stderr=follower,
                               env=env, cwd=ROOT)
    os.close(follower)
    written, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "the CLI did not finish in time: " + b"".join(written).decode(errors="replace")
            if select.select([leader], [], [], left)[0]:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    chunk = b""
                if not chunk:
                    break
                written.append(chunk)
        return process.wait(timeout=10), b"".join(written).decode("utf-8", errors="replace")
    finally:
        process.kill()
        os.close(leader)


def _terminal_env(local_aws) -> dict:
    env = {k: v for k, v in local_aws.env.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    return {**env, "TERM": "xterm-256color"}


def _request(tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.create-cluster.json"
    path.write_text(json.dumps({**CREATE, "ClusterName": name}))
    return str(path)


def test_terminal_shows_status_nodes_events_elapsed_and_outcome(local_aws, tmp_path, settle):
    """Polled every 3 s (the default is 10), the display still counts the seconds in between."""
    settle(2.5)
    name = "shown-on-a-terminal"
    code, written = _in_terminal(["apply", "--wait", "--wait-interval", "3", "--wait-timeout", "30",
                                  _request(tmp_path, name)], _terminal_env(local_aws))
    screen = ESCAPES.sub("", written).replace("\r", "")
    assert code == 0, screen
    assert ESCAPES.search(written), "a terminal gets the live display, drawn with escape codes"
    assert f"{name}: Creating (" in screen and f"{name}: InService (" in screen  # status, in the title
    assert re.search(r"instance group\s*[│┃|]\s*running / target", screen), screen
    assert re.search(r"workers\s*[│┃|]\s*0 / 2\b", screen) and re.search(r"workers\s*[│┃|]\s*2 / 2\b", screen), screen
    assert re.search(r"^recent events\s*\n\s*cluster creation started: Creating\s*$", screen, re.M), screen
    creating = [int(s) for s in re.findall(rf"{name}: Creating \((\d+)s\)", screen)]
    assert creating == sorted(creating) and max(creating) >= 2, creating  # the time elapsed, as it passes
    assert screen.rstrip().endswith(f"cluster {name} is InService"), screen[-400:]
    local_aws.client("sagemaker").delete_cluster(ClusterName=name)


def test_terminal_shows_a_service_message_as_text(local_aws, tmp_path, settle):
    """Brackets in what the service says are not display markup, and its control characters are
    shown escaped, never sent to the terminal."""
    from preflight import local_sagemaker

    settle(0.5)
    name = "failed-on-a-terminal"
    local_sagemaker.SETTINGS["failures"][name] = HOSTILE_FAILURE
    try:
        code, written = _in_terminal(["apply", "--wait", "--wait-interval", "0.25", "--wait-timeout", "30",
                                      _request(tmp_path, name)], _terminal_env(local_aws))
    finally:
        del local_sagemaker.SETTINGS["failures"][name]
    screen = ESCAPES.sub("", written)
    assert code == 1, screen
    assert "Traceback" not in screen
    assert "\x1b[2J" not in written
    words = " ".join(screen.split())  # the terminal wraps long lines
    assert (f"cluster {name} is Failed: Lifecycle scripts failed on [i-0abc] [/dim] [bold]\\u001b[2J; "
            "see /var/log/provision") in words, screen[-600:]


def test_a_log_gets_plain_lines(run_cli, local_aws, tmp_path, settle):
    settle(0.5)
    name = "shown-in-a-log"
    result = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": name}, *WAIT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    progress = [line for line in result.stdout.splitlines() if re.match(r"\[\s*\d+(m\d\ds)?s?\] ", line)]
    assert progress[0].endswith(f"{name} Creating; workers 0/2 running"), progress
    assert any(line.endswith("event: cluster creation started: Creating") for line in progress), progress
    assert any(line.endswith(f"{name} InService; workers 2/2 running") for line in progress), progress
    assert progress[-1].endswith(f"cluster {name} is InService"), progress
    local_aws.client("sagemaker").delete_cluster(ClusterName=name)


def test_a_log_shows_a_service_message_escaped(run_cli, local_aws, tmp_path, settle):
    from preflight import local_sagemaker

    name = "failed-in-a-log"
    local_sagemaker.SETTINGS["failures"][name] = HOSTILE_FAILURE
    try:
        result = _apply(run_cli, local_aws, tmp_path, "create-cluster", {**CREATE, "ClusterName": name}, *WAIT)
    finally:
        del local_sagemaker.SETTINGS["failures"][name]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "\x1b" not in result.stdout
    assert f"cluster {name} is Failed: Lifecycle scripts failed on [i-0abc] [/dim] [bold]\\u001b[2J" in result.stdout


def test_events_from_before_the_send_are_not_news(run_cli, local_aws, tmp_path, settle):
    """A cluster made a moment ago has its creation's events: an update followed with --wait shows
    what the update did, not the creation again (its events are read before the send)."""
    settle(0.3)
    name = "made-a-moment-ago"
    local_aws.client("sagemaker").create_cluster(**{**CREATE, "ClusterName": name})
    time.sleep(0.5)  # settled: InService, its creation's events listed
    group = {**CREATE["InstanceGroups"][0], "InstanceCount": CREATE["InstanceGroups"][0]["InstanceCount"] + 1}
    result = _apply(run_cli, local_aws, tmp_path, "update-cluster",
                    {"ClusterName": name, "InstanceGroups": [group]}, *WAIT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "event: UpdateCluster" in result.stdout, result.stdout
    assert "cluster creation started" not in result.stdout, result.stdout
