"""Hostile input is normal input: every file ends in a finding or a usage error naming it, in
bounded time and memory, and nothing taken from a file can forge or hide a line of output."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FIXTURES
from preflight import documents, engine
from preflight.formats import FORMATS, escape

CORRECTED = FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json"
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}

ALIAS_BOMB = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(  # 9^9 laughs, 324 bytes
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("name,content,expected", [
    ("digits.create-cluster.json", '{"ClusterName": ' + "1" * 5000 + "}", "a number of 5,000 digits"),
    ("huge.create-cluster.json", '{"ClusterName": 1e999}', "1e999 is too large for a number"),
    ("recursive.create-cluster.yaml", "a: &a [*a]", "refers to a node that contains it"),
    ("bomb.create-cluster.yaml", ALIAS_BOMB, "values through its aliases, more than the 100,000"),
    ("deep.create-cluster.yaml", "a: " + "[" * 500, "nested"),
    ("deep.create-cluster.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("nested.create-cluster.json", "[" * 65 + "]" * 65, "nested more than 64 levels deep"),
    ("empty.create-cluster.json", "", "the file is empty"),
    ("blank.create-cluster.yaml", "  \n", "the file holds only whitespace"),
    ("comment.create-cluster.yaml", "# nothing\n", "the file holds no YAML document"),
    ("date.create-cluster.yaml", "ClusterName: 2024-13-45\n", "a value cannot be read"),
    ("nan.create-cluster.json", '{"ClusterName": NaN}', "`NaN` is not a JSON number"),
])
def test_hostile_document_is_a_finding(name, content, expected):
    document = documents.parse(name, content)
    assert not document.parsed
    report = engine.run([(document, "create-cluster")])
    assert [f.rule for f in report.findings] == ["PF001"]
    assert expected in report.findings[0].message


def test_alias_bomb_is_the_issue_size():
    assert len(ALIAS_BOMB.encode()) <= 357  # the issue's bomb is 357 bytes


def test_python_literals_are_found_in_one_pass():
    text = "[" + ",".join(["True", '"True"', "None", "False"] * 15_000) + "]"
    document = documents.parse("x.json", text)
    literals = [p for p in document.problems if p.kind == "python-literal"]
    assert document.parsed and len(literals) == 45_000
    assert document.data[:4] == [True, "True", None, False]
    assert {p.offset for p in literals[:2]} == {1, 13}


def test_literal_after_a_syntax_error_is_not_reported():
    document = documents.parse("x.json", '{"a": True, "b": ] "c": None}')
    assert [p.kind for p in document.problems] == ["python-literal", "syntax"]


def test_yaml_is_parsed_once_with_positions():
    document = documents.parse("x.yaml", "ClusterName: c\nInstanceGroups:\n  - InstanceGroupName: w\n")
    assert document.parsed and document.data["InstanceGroups"][0]["InstanceGroupName"] == "w"
    assert document.position("/InstanceGroups/0/InstanceGroupName") == (3, 5)


def test_pattern_is_not_run_over_a_value_already_too_long():
    document = documents.parse("x.json", json.dumps({"ClusterName": "é" * 2_000_000}))
    report = engine.run([(document, "delete-cluster")])
    assert [f.rule for f in report.findings] == ["PF105"]


@pytest.mark.parametrize("content,stdin_name,expected", [
    ("ClusterName: c\n", None, 0),  # sniffed: does not start like JSON
    ("ClusterName: c\n", "req.delete-cluster.yaml", 0),
    ("ClusterName: c\n", "req.delete-cluster.json", 1),  # named JSON: read as JSON
    ('{"ClusterName": "c"}', None, 0),
])
def test_yaml_on_stdin(run_cli, content, stdin_name, expected):
    args = ["check", "-"] + (["--stdin-name", stdin_name] if stdin_name else ["--operation", "delete-cluster"])
    result = run_cli(*args, stdin=content)
    assert result.returncode == expected, result.stdout + result.stderr
    if stdin_name:
        assert expected == 0 or f"{stdin_name}:1:1: error PF001" in result.stdout


def test_non_utf8_stdin_is_a_finding(run_cli, tmp_path):
    import subprocess

    from conftest import preflight_command

    result = subprocess.run(preflight_command() + ["check", "-", "-o", "delete-cluster"],
                            input=b'{"ClusterName": "\xff\xfe"}', capture_output=True, timeout=60)
    assert result.returncode == 1
    assert b"-:1:18: error PF001 not UTF-8 text: byte 0xff at byte offset 17" in result.stdout


def test_input_size_limit(run_cli, tmp_path):
    result = run_cli("check", "-o", "delete-cluster", "/dev/zero")
    assert result.returncode == 2
    assert "/dev/zero: larger than 4,194,304 bytes" in result.stderr and "--max-bytes" in result.stderr
    path = tmp_path / "r.delete-cluster.json"
    path.write_text('{"ClusterName": "c"}')
    assert run_cli("check", "--max-bytes", "10", str(path)).returncode == 2
    assert run_cli("check", "--max-bytes", "20", str(path)).returncode == 0
    assert "--max-bytes 0" in run_cli("check", "--max-bytes", "0", str(path)).stderr


@pytest.mark.parametrize("output", FORMATS)
def test_lone_surrogate_and_controls_print_in_every_format(run_cli, tmp_path, output):
    path = tmp_path / "evil\x1b[31m\u202e.delete-cluster.json"
    path.write_text('{"ClusterName": "\\ud800\\u009b2J\\u202e\\n"}')
    result = run_cli("check", "--format", output, str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for raw in ("\x1b", "\x9b", "\u202e", "\ud800"):
        assert raw not in result.stdout
    if output in ("text", "json"):  # the others quote further (SARIF URIs are percent-encoded)
        assert "\\u001b[31m\\u202e.delete-cluster.json" in result.stdout.replace("\\\\", "\\")
    if output in ("json", "sarif", "gitlab"):
        json.loads(result.stdout)


def test_a_newline_in_a_policy_action_cannot_forge_a_finding(run_cli, tmp_path):
    forged = f"s3:GetObject\n{CORRECTED}:1:1: error PF999 forged"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": forged, "Resource": "*"}]}))
    result = run_cli("check", "--policy", str(path))
    assert not any(line.startswith(str(CORRECTED)) for line in result.stdout.splitlines()), result.stdout
    assert "\\u000a" in result.stdout


def test_escape_is_total():
    assert escape.untrusted("a\nb\x9b\u202e\ud800 é 日本") == "a\\u000ab\\u009b\\u202e\\ud800 é 日本"
    assert escape.plain_data({"d": float("nan"), "b": b"\xff", 1: [float("inf")]}) == {
        "d": "nan", "b": "\\xff", "1": ["inf"]}


def test_apply_dry_run_of_yaml_with_date_and_binary(run_cli, tmp_path):
    path = tmp_path / "r.delete-cluster.yaml"
    path.write_text("ClusterName: c\nTags: !!binary aGVsbG8=\nWhen: 2024-01-01\nCount: .nan\n")
    result = run_cli("apply", "--dry-run", "--format", "json", "--region", "us-east-1", str(path),
                     env={**CLEAN_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x",
                          "AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "1"})
    assert result.returncode in (1, 3), result.stderr
    report = json.loads(result.stdout)  # strict: no NaN, no Infinity
    assert report["tool"]["apply"]["request"]["When"] == "2024-01-01"
    assert "NaN" not in result.stdout


def test_empty_no_color_keeps_colour():
    from test_cli import AS_WRITTEN, _on_a_terminal

    assert "\033[31m" in _on_a_terminal(["check", AS_WRITTEN[0]], {**CLEAN_ENV, "NO_COLOR": ""})


@pytest.mark.parametrize("setting,env,expected", [
    (["--timeout", "0"], {}, "--timeout 0.0"),
    (["--timeout", "-1"], {}, "--timeout -1.0"),
    (["--timeout", "nan"], {}, "--timeout nan"),
    (["--region", "bad region!"], {}, "--region 'bad region!'"),
    ([], {"AWS_MAX_ATTEMPTS": "abc"}, "AWS_MAX_ATTEMPTS 'abc'"),
    ([], {"AWS_MAX_ATTEMPTS": "0"}, "AWS_MAX_ATTEMPTS '0'"),
    ([], {"AWS_ENDPOINT_URL": "not-a-url"}, "AWS_ENDPOINT_URL 'not-a-url'"),
    ([], {"AWS_ENDPOINT_URL": "ftp://user:secret@host"}, "AWS_ENDPOINT_URL 'ftp://host'"),
])
def test_bad_settings_are_usage_errors_naming_the_setting(run_cli, setting, env, expected):
    base = {k: v for k, v in CLEAN_ENV.items() if not k.startswith("AWS_")}
    base.update(AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", **env)
    result = run_cli("check", "--live", *setting, str(CORRECTED), env=base)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert "secret" not in result.stderr


def test_endpoint_userinfo_is_not_echoed(run_cli):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in CLEAN_ENV.items() if not k.startswith("AWS_")}
    env.update(AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_MAX_ATTEMPTS="1",
               AWS_ENDPOINT_URL=f"http://user:hunter2@127.0.0.1:{port}")
    result = run_cli("check", "--live", "--timeout", "1", str(CORRECTED), env=env)
    assert result.returncode == 3
    assert "hunter2" not in result.stdout + result.stderr and "endpoint unreachable" in result.stdout


def test_internal_error_has_its_own_exit_code(run_cli, tmp_path):
    """A defect is exit 4 with one line; the stack only with --debug. The defect is provoked by a
    file name that cannot be stored in the report's encoding (a stand-in for any crash)."""
    import subprocess
    import sys

    program = ("import sys; from preflight import cli, engine\n"
               "def broken(*a, **k): raise ZeroDivisionError('boom')\n"
               "engine.run = broken\nsys.argv = ['preflight'] + sys.argv[1:]\ncli.main()\n")
    args = [sys.executable, "-c", program, "check", str(CORRECTED)]
    plain = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 4
    assert plain.stderr.count("\n") == 1 and "internal error ZeroDivisionError" in plain.stderr
    debug = subprocess.run(args[:3] + ["--debug"] + args[3:], capture_output=True, text=True, timeout=60)
    assert debug.returncode == 4 and "Traceback" in debug.stderr and "boom" in debug.stderr
