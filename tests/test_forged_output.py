"""No forged output: a string from outside (a request value, a file name, a policy action, the
configuration's guardrail messages and suppression reasons, a baseline's entries, a variable's
value, a usage error's subject, a plan's names, apply's AWS answers) placed in every command and every format, by a real
process, never begins a CI workflow command line, and no raw control, escape or bidirectional
override character reaches the output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, preflight_command
from preflight.formats import FORMATS

# What a CI log reader or a terminal takes as its own: workflow commands, GitLab's section markers,
# terminal escapes, bidirectional overrides, line breaks of every kind.
FORGERIES = ["::error::forged", "::add-mask::secret", "::stop-commands::token", "\n::warning file=x::forged",
             "  ::notice::forged", "\r::error::forged", "\u2028::error::forged", "\x85::error::forged",
             "\x1b[0Ksection_start:1:forged\r\x1b[0K", "\x1b[31m", "\x9b2J", "\u202e", "\u2066", "\x00", "\x7f",
             ":", "\t::error::x"]
HOSTILE = st.tuples(st.sampled_from(FORGERIES), st.lists(st.sampled_from(FORGERIES) | st.text(max_size=5),
                                                          max_size=3).map("".join)).map("".join)
BUDGET = settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

# Characters that must never be printed raw: C0 but LF, DEL, C1, bidi marks, overrides and isolates, separators.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A GitHub annotation as preflight writes it: properties escaped, so the first `::` ends them.
ANNOTATION = re.compile(r"::(error|warning|notice)( (file|line|col|title)=[^:,]*(,(file|line|col|title)=[^:,]*)*)?::")
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "NO_COLOR"}
OFFLINE = {**CLEAN_ENV, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_MAX_ATTEMPTS": "1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens on port 9


def file_name(text: str) -> str:
    """The hostile text as much as a file name can hold it (no NUL, no slash, 200 bytes)."""
    name = text.replace("\x00", "").replace("/", "")
    while len(name.encode("utf-8", "surrogatepass")) > 200:
        name = name[:-1]
    return name


def assert_not_forged(text: str, fmt: str, where: str) -> None:
    """No raw control characters; no line (after leading spaces, as the runner trims them) that
    begins a workflow command, except the annotations of the GitHub format, whose structure holds."""
    found = RAW.search(text)
    assert found is None, f"{where}: raw {found.group()!r} in {text!r}"
    for line in text.split("\n"):
        if not line.lstrip().startswith("::"):
            continue
        assert fmt == "github" and ANNOTATION.match(line), f"{where}: forged line {line!r}"
    if fmt in ("json", "sarif", "gitlab") and text.strip():
        json.loads(text)
    if fmt == "junit" and text.strip():
        ET.fromstring(text.encode())


def run_everywhere(tmp_path, args: list[str], stdout_format: str, env=None, formats=FORMATS) -> subprocess.CompletedProcess:
    """``preflight ARGS`` in ``tmp_path`` with stdout in one format and every format also written
    with --output; every output checked."""
    outputs = [f"{fmt}:report-{fmt}.out" for fmt in formats]
    outputs = [item for output in outputs for item in ("--output", output)]
    result = subprocess.run(preflight_command() + [*args, "--format", stdout_format, *outputs], cwd=tmp_path,
                            capture_output=True, env=env or CLEAN_ENV, timeout=120)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")  # strict: no lone surrogate
    assert "Traceback" not in stderr and result.returncode != 4, stderr
    assert_not_forged(stdout, stdout_format, "stdout")
    assert_not_forged(stderr, "text", "stderr")
    for fmt in formats:
        written = tmp_path / f"report-{fmt}.out"
        if written.exists():
            assert_not_forged(written.read_text(encoding="utf-8"), fmt, str(written.name))
            written.unlink()
    return result


def command(tmp_path, args: list[str], env=None) -> subprocess.CompletedProcess:
    """A command that prints text only (rules, explain, config)."""
    result = subprocess.run(preflight_command() + args, cwd=tmp_path, capture_output=True, env=env or CLEAN_ENV,
                            timeout=120)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert result.returncode in (0, 1, 2), stderr
    assert_not_forged(stdout, "text", "stdout")
    assert_not_forged(stderr, "text", "stderr")
    return result


def write(path, text: str) -> str:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path.name


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_file_names(tmp_path_factory, hostile, fmt):
    """A file name begins the line of each of its findings in the text and JUnit formats."""
    folder = tmp_path_factory.mktemp("names")
    name = write(folder / f"{file_name(hostile)}.delete-cluster.json", '{"ClusterName": "c", "Extra": 1}')
    result = run_everywhere(folder, ["check", name], fmt)
    assert result.returncode == 1
    missing = run_everywhere(folder, ["check", f"{file_name(hostile)}-missing.delete-cluster.json"], fmt)
    assert missing.returncode == 2  # a usage error naming it, in every format


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_request_values_and_keys(tmp_path_factory, hostile, fmt):
    folder = tmp_path_factory.mktemp("values")
    name = write(folder / "r.delete-cluster.json", json.dumps({"ClusterName": hostile, hostile: hostile}))
    assert run_everywhere(folder, ["check", name], fmt).returncode == 1


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_policy_actions(tmp_path_factory, hostile, fmt):
    folder = tmp_path_factory.mktemp("policies")
    name = write(folder / "policy.json", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": hostile, "Effect": "Allow", "Action": [hostile, f"sagemaker:{hostile}"], "Resource": hostile}]}))
    assert run_everywhere(folder, ["check", "--policy", name], fmt).returncode in (0, 1)


def _configuration(folder, hostile: str) -> None:
    message, reason = json.dumps(hostile), json.dumps(hostile)  # JSON's escapes are TOML's
    (folder / ".preflight.toml").write_text(
        f'[[suppress]]\nrule = "PF102"\nreason = {reason}\n\n'
        f'[[guardrail]]\nid = "ORG001"\nmessage = {message}\ncondition = "request.ClusterName == \'x\'"\n'
        f'operations = ["delete-cluster"]\n', encoding="utf-8")


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_guardrail_messages_and_suppression_reasons(tmp_path_factory, hostile, fmt):
    """The configuration's text: a guardrail's message (a finding, its rule's description in
    SARIF, `rules`, `explain`) and a suppression's reason (JSON, SARIF, JUnit), and `config`."""
    pytest.importorskip("celpy")
    folder = tmp_path_factory.mktemp("config")
    _configuration(folder, hostile)
    name = write(folder / "r.delete-cluster.json", '{"ClusterName": "c", "Extra": 1}')
    assert run_everywhere(folder, ["check", name], fmt).returncode == 1
    for args in (["rules"], ["explain", "ORG001"], ["config"]):
        assert command(folder, args).returncode == 0


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_baseline_entries(tmp_path_factory, hostile, fmt):
    """A baseline's entries that are gone are printed with their file, pointer and message."""
    folder = tmp_path_factory.mktemp("baseline")
    name = write(folder / "r.delete-cluster.json", '{"ClusterName": "c"}')
    entry = {"rule": "PF102", "file": hostile, "pointer": hostile, "value": hostile, "message": hostile}
    (folder / "baseline.json").write_text(json.dumps({"version": 1, "findings": [entry]}))
    assert run_everywhere(folder, ["check", "--baseline", "baseline.json", name], fmt).returncode == 0


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_variable_values(tmp_path_factory, hostile, fmt):
    folder = tmp_path_factory.mktemp("variables")
    name = write(folder / "r.delete-cluster.json", '{"ClusterName": "${NAME}", "Other": "${UNSET}"}')
    write(folder / "env", f"NAME={hostile.replace(chr(10), '').replace(chr(13), '')}\n")
    result = run_everywhere(folder, ["check", "--env-file", "env", name], fmt)
    assert result.returncode in (1, 2)  # a value the env file cannot hold is a usage error naming it


@BUDGET
@given(HOSTILE, st.sampled_from(FORMATS))
def test_apply_dry_run_request(tmp_path_factory, hostile, fmt):
    """apply prints the request it would send (the JSON report's tool.apply) and its findings."""
    folder = tmp_path_factory.mktemp("apply")
    name = write(folder / "r.delete-cluster.json", json.dumps({"ClusterName": hostile}))
    assert run_everywhere(folder, ["apply", "--dry-run", name], fmt, env=OFFLINE).returncode in (1, 3)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(HOSTILE, st.sampled_from(["text", "json"]))
def test_plan_names(local_aws, tmp_path_factory, hostile, fmt):
    """`plan` prints the request's group names beside the cluster's as the account gives them."""
    folder = tmp_path_factory.mktemp("plan")
    group = {"InstanceGroupName": hostile, "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1,
             "LifeCycleConfig": {"SourceS3Uri": "s3://bucket/lifecycle/", "OnCreate": "on_create.sh"},
             "ExecutionRole": "arn:aws:iam::111122223333:role/exec"}
    name = write(folder / "scale.update-cluster.json", json.dumps({"ClusterName": "ml-cluster",
                                                                 "InstanceGroups": [group]}))
    result = subprocess.run(preflight_command() + ["plan", "--format", fmt, name], cwd=folder, capture_output=True,
                            env=local_aws.env, timeout=120)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert result.returncode in (0, 1), stderr
    assert_not_forged(stdout, fmt, "stdout")
    assert_not_forged(stderr, "text", "stderr")


def test_a_leading_colon_is_escaped_and_an_arn_is_not():
    from preflight.formats.escape import untrusted

    assert untrusted("::error::x") == "\\u003a:error::x"
    assert untrusted("  :x") == "  \\u003ax"
    assert untrusted("arn:aws:iam::111122223333:role/r") == "arn:aws:iam::111122223333:role/r"


APPLIED = 0  # each example's clusters are its own
FAILURE = " (the failure message)"  # after the hostile text: the message reached the output


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(HOSTILE, st.sampled_from(FORMATS))
def test_apply_answers(local_aws, tmp_path_factory, hostile, fmt):
    """`apply` prints what AWS answers after a send and while it waits, on the embedded AWS behind
    the fault proxy (tests/faults.py): the error of an answer that proves nothing (a 500 carrying
    the hostile text); the cluster read back after one (its ARN: moto's record is given the hostile
    text, as moto makes only well-formed ARNs); the wait's statuses, events and the failure message
    (the local AWS fails the cluster with the hostile text: moto has no failures)."""
    from faults import FaultProxy
    from moto.sagemaker.models import sagemaker_backends

    from preflight import local_sagemaker

    global APPLIED
    APPLIED += 1
    folder = tmp_path_factory.mktemp("apply-answers")
    request = json.loads((FIXTURES / "live" / "requests" / "new-cluster-customer-key.create-cluster.json").read_text())
    unknown, failed = f"forged-unknown-{APPLIED}", f"forged-failed-{APPLIED}"
    clusters = sagemaker_backends[local_aws.account][local_aws.region].clusters

    def forge_arn():  # once the create is made, before it is read back
        if failed in clusters:
            clusters[failed].arn = hostile
    local_sagemaker.SETTINGS["failures"][failed] = hostile + FAILURE
    try:
        with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "http500"}, message=hostile) as proxy:
            name = write(folder / "unknown.create-cluster.json", json.dumps({**request, "ClusterName": unknown}))
            result = run_everywhere(folder, ["apply", name], fmt,
                                    env={**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint})
        assert result.returncode == 3 and proxy.mutating() == ["sagemaker:CreateCluster"], result.stdout
        with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "late-5xx"}, message=hostile,
                        before={"sagemaker:DescribeCluster": forge_arn}) as proxy:
            name = write(folder / "failed.create-cluster.json", json.dumps({**request, "ClusterName": failed}))
            result = run_everywhere(folder, ["apply", "--wait", "--wait-interval", "0.2", "--wait-timeout", "30", name],
                                    fmt, env={**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint})
        assert result.returncode == 1, result.stdout  # read back as sent, then followed to its failure
        assert FAILURE in (result.stdout if fmt == "text" else result.stderr).decode()  # the wait's lines
    finally:
        del local_sagemaker.SETTINGS["failures"][failed]
        if failed in clusters:  # one EKS cluster backs one HyperPod cluster (PF441): the next example makes its own
            local_aws.client("sagemaker").delete_cluster(ClusterName=failed)
