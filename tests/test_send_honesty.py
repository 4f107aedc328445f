"""What `apply` says about a send is true whatever happens to the process or the answers: a signal
in the middle of a send or of a wait, an answer that takes too long or trickles in, an error that
may follow an applied request, a cluster of the request's name that is not the request's doing, a
200 not in the model's shape, listings that never end, repeat themselves or are cut into pages.
Real `preflight apply` processes (for signals) and in-process runs against the embedded AWS behind
the recording fault proxy (tests/faults.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import timedelta

import pytest

from conftest import FIXTURES, preflight_command
from faults import LISTING_FAULTS, FaultProxy

CREATE = json.loads((FIXTURES / "live" / "requests" / "new-cluster-customer-key.create-cluster.json").read_text())
WAIT = ("--wait", "--wait-interval", "0.2")


def _request(tmp_path, name: str, **changes) -> str:
    path = tmp_path / f"{name}.create-cluster.json"
    path.write_text(json.dumps({**CREATE, "ClusterName": name, **changes}))
    return str(path)


def _clusters(local_aws) -> set[str]:
    return {c["ClusterName"] for c in local_aws.client("sagemaker").list_clusters()["ClusterSummaries"]}


def _started(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(preflight_command() + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _until(condition, seconds: float = 120) -> None:
    """Poll until ``condition()`` holds (the process under test is on its way)."""
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "the run never got there"
        time.sleep(0.05)


# ----- signals -----

@pytest.mark.parametrize("signum,fmt,outputs", [
    (signal.SIGTERM, "text", ("json", "sarif")),
    (signal.SIGHUP, "json", ("junit",)),
    (signal.SIGINT, "github", ("gitlab", "json")),
])
def test_a_signal_during_the_send_still_reports_it(local_aws, tmp_path, signum, fmt, outputs):
    """The create reaches the service and its answer is held: the signal comes while the send is
    under way. Every format says the request was sent and that its outcome is unknown."""
    name = f"signalled-send-{signum}"
    files = {kind: tmp_path / f"report.{kind}" for kind in outputs}
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "slow"}, slow_seconds=60) as proxy:
        process = _started(["apply", "--timeout", "90", "--format", fmt,
                            *(f"--output={kind}:{path}" for kind, path in files.items()),
                            _request(tmp_path, name)], {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint})
        _until(lambda: "sagemaker:CreateCluster" in proxy.calls)
        time.sleep(0.3)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, out + err
    assert "Traceback" not in err
    said = signal.Signals(signum).name
    if fmt == "text":
        assert f"unknown whether create-cluster took effect: interrupted by {said}" in out, out
    elif fmt == "json":
        outcome = json.loads(out)["tool"]["apply"]
        assert (outcome["result"], outcome["interrupted"], outcome["exit_code"]) == ("unknown", said, 128 + signum)
        assert outcome["request"]["ClusterName"] == name
    else:
        assert out.strip(), err  # the GitHub annotations of the run's findings and summary
    if "json" in files:
        outcome = json.loads(files["json"].read_text())["tool"]["apply"]
        assert outcome["result"] == "unknown" and outcome["interrupted"] == said and outcome["state"] == "unknown"
    for kind, path in files.items():
        assert path.read_text().strip(), kind
    assert name in _clusters(local_aws)  # it was applied: "unknown" is the truth, never "not sent"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_wait_still_reports_the_send(local_aws, tmp_path, settle, signum):
    """The JSON report is in the --output file as soon as the send's outcome is known, before the
    wait (state "waiting"), and written again when a signal ends the wait; stdout's one document
    carries the send and the interrupted wait."""
    settle(60)
    name = f"signalled-wait-{signum}"
    report = tmp_path / "report.json"
    process = _started(["apply", *WAIT, "--format", "json", f"--output=json:{report}", _request(tmp_path, name)],
                       local_aws.env)
    for line in process.stderr:
        if f"{name} Creating" in line:
            break
    before = json.loads(report.read_text())["tool"]["apply"]
    assert before["result"] == "sent" and before["state"] == "waiting" and "wait" not in before
    assert before["response"]["ClusterArn"].endswith(tuple("0123456789abcdef"))
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, out + err
    said = signal.Signals(signum).name
    for document in (json.loads(out), json.loads(report.read_text())):
        outcome = document["tool"]["apply"]
        assert outcome["result"] == "sent" and outcome["state"] == "waited"
        assert outcome["wait"]["exit_code"] == 128 + signum
        assert f"stopped waiting ({said})" in outcome["wait"]["message"] and "goes on in AWS" in outcome["wait"]["message"]
    assert local_aws.client("sagemaker").describe_cluster(ClusterName=name)["ClusterStatus"] == "Creating"


def test_a_second_signal_does_not_cut_the_first_report(local_aws, tmp_path):
    name = "signalled-twice"
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "slow"}, slow_seconds=60) as proxy:
        process = _started(["apply", "--timeout", "90", "--format", "json", _request(tmp_path, name)],
                           {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint})
        _until(lambda: "sagemaker:CreateCluster" in proxy.calls)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode in (128 + signal.SIGTERM, -signal.SIGTERM), out + err  # the second may end it, after
    outcome = json.loads(out)["tool"]["apply"]
    assert outcome["result"] == "unknown" and outcome["interrupted"] == "SIGTERM"


# ----- the outcome from evidence (in process: faster) -----

def _apply(local_aws, proxy, tmp_path, name: str, *options: str, request: dict | None = None):
    from typer.testing import CliRunner

    from preflight.cli import app

    path = tmp_path / f"{name}.create-cluster.json"
    path.write_text(json.dumps(request or {**CREATE, "ClusterName": name}))
    env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner().invoke(app, ["apply", "--timeout", "3", *options, str(path)], env=env)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, repr(escaped)
    return result.exit_code, result.output


@pytest.mark.parametrize("fault", ["late-5xx", "late-request-timeout", "trickle"])
def test_an_error_after_the_request_was_applied_is_decided_by_reading_it(local_aws, tmp_path, fault):
    """The service made the cluster, and then the answer failed (a 500, a RequestTimeout with its
    4xx, a body trickled past --timeout): not "no effect", but read again, and the cluster is ours."""
    name = f"applied-{fault}"
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": fault}, slow_seconds=6) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, name)
    assert code == 0 and "the create-cluster went through" in output, output
    assert proxy.calls.count("sagemaker:CreateCluster") == 1


def _rival(local_aws, name: str, groups: list[dict] | None = None, made_ago: timedelta | None = None):
    """A cluster of ``name`` made by someone else while the request is on its way. With
    ``made_ago``, moto's record of its creation time is moved back (moto keeps no other way to
    have a cluster made before now)."""
    def make():
        local_aws.client("sagemaker").create_cluster(**{**CREATE, "ClusterName": name,
                                                       "InstanceGroups": groups or CREATE["InstanceGroups"]})
        if made_ago:
            from moto.sagemaker.models import sagemaker_backends

            backend = sagemaker_backends[local_aws.account][local_aws.region]
            backend.clusters[name].creation_time -= made_ago
    return make


@pytest.mark.parametrize("rival", ["other-groups", "made-before"])
def test_a_cluster_of_that_name_that_is_not_ours_is_no_proof(local_aws, tmp_path, rival):
    name = f"rival-{rival}"
    other = [{**CREATE["InstanceGroups"][0], "InstanceGroupName": "someone-elses"}]
    make = _rival(local_aws, name, other) if rival == "other-groups" else _rival(local_aws, name,
                                                                                 made_ago=timedelta(hours=1))
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "http500"},
                    before={"sagemaker:CreateCluster": make}) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, name)
    assert code == 3, output
    assert "unknown whether create-cluster took effect" in output and "is not this request's" in output


def test_a_200_whose_answer_is_not_the_models_is_sent_but_not_understood(local_aws, tmp_path):
    name = "foreign-answer"
    with FaultProxy(local_aws.endpoint, {"sagemaker:CreateCluster": "retyped"}) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, name, "--format", "json")
    outcome = json.loads(output)["tool"]["apply"]
    assert code == 0 and outcome["result"] == "sent" and outcome["response"] is None, output
    assert outcome["note"].startswith("sent; the answer was not understood (/ClusterArn is not a string")
    assert name in _clusters(local_aws)


# ----- bounded time -----

def test_the_deadline_bounds_the_whole_run(local_aws, tmp_path):
    """Each call is within --timeout, but together they pass --deadline: what is left unread is not
    verified, and nothing is sent."""
    with FaultProxy(local_aws.endpoint, {"ec2:DescribeImages": "slow"}, slow_seconds=4) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, "past-deadline", "--timeout", "10", "--deadline", "2")
    assert code == 3 and proxy.mutating() == [], output
    assert "ec2:DescribeImages failed: timed out" in output and "--deadline" in output


def test_the_deadline_ends_the_wait(run_cli, local_aws, tmp_path, settle):
    settle(60)
    result = run_cli("apply", *WAIT, "--wait-timeout", "600", "--deadline", "10",
                     _request(tmp_path, "deadline-wait"), env=local_aws.env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "create-cluster sent" in result.stdout and "still Creating after" in result.stdout


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_deadline_that_cannot_be_used_is_a_usage_error(run_cli, tmp_path, value):
    result = run_cli("check", "--live", "--deadline", value, _request(tmp_path, "bad-deadline"))
    assert result.returncode == 2 and f"--deadline {float(value)}: give a positive number of seconds" in result.stderr


# ----- whole, well-typed answers -----

# The listings a create's checks read, one of each protocol's way of paging (EC2's and SageMaker's
# NextToken, IAM's Marker; every IAM list goes through the one helper), faulted together where no
# one waits for another (as in the fault matrix: the route tables are read before the offerings).
LISTING_BATCHES = [("ec2:DescribeRouteTables", "sagemaker:ListClusters", "iam:ListAttachedUserPolicies"),
                   ("ec2:DescribeInstanceTypeOfferings", "iam:ListAttachedRolePolicies")]
SAYS = {"endless-pages": "pages never end", "repeated-token": "pages repeat", "duplicate": "twice"}
EMPTY = {"iam:ListAttachedRolePolicies"}


@pytest.mark.parametrize("batch,fault", [(batch, fault) for fault in LISTING_FAULTS for batch in LISTING_BATCHES
                                         if not (fault == "duplicate" and set(batch) <= EMPTY)],
                         ids=lambda value: "+".join(value) if isinstance(value, tuple) else value)
def test_listing_faults(local_aws, tmp_path, batch, fault):
    """A listing is followed to its end or the lookup fails closed, naming itself and why (each of
    these is read for an advisory check: PF401, listed next to "sent"). An empty list has no entry
    to give twice."""
    faulted = [lookup for lookup in batch if not (fault == "duplicate" and lookup in EMPTY)]
    name = f"listing-{LISTING_BATCHES.index(batch)}-{fault}"
    with FaultProxy(local_aws.endpoint, {lookup: fault for lookup in faulted}) as proxy:
        code, output = _apply(local_aws, proxy, tmp_path, name)
    listed = output.partition("not verified")[2]  # each is advisory: sent, with what was not verified
    assert code == 0 and proxy.mutating() == ["sagemaker:CreateCluster"], output
    for lookup in faulted:
        assert any(f"{lookup} failed" in line and SAYS[fault] in line for line in listed.splitlines()), output


def test_a_deny_on_a_later_page_counts(local_aws, tmp_path):
    """The caller's attached policies, read one per page: the deny attached last is on the third."""
    iam = local_aws.client("iam")
    deny = iam.create_policy(PolicyName="no-clusters", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="moto", PolicyArn=deny)
    try:
        with FaultProxy(local_aws.endpoint, {"iam:ListAttachedUserPolicies": "paged"}) as proxy:
            code, output = _apply(local_aws, proxy, tmp_path, "denied-later")
    finally:
        iam.detach_user_policy(UserName="moto", PolicyArn=deny)
        iam.delete_policy(PolicyArn=deny)
    assert proxy.calls.count("iam:ListAttachedUserPolicies") >= 3
    assert code == 1 and " PF331 " in output and "no-clusters" in output and proxy.mutating() == [], output


def test_a_count_as_a_string_fails_closed(local_aws, tmp_path):
    """An update's plan counts the cluster's nodes per group: a count that arrives as a string is
    not a count (the check is not skipped, and nothing is sent on a guess)."""
    request = {"ClusterName": "ml-cluster", "InstanceGroups": [
        {k: v for k, v in CREATE["InstanceGroups"][0].items() if k not in ("ImageId", "InstanceStorageConfigs")}]}
    with FaultProxy(local_aws.endpoint, {"sagemaker:DescribeCluster": "counts-as-strings"}) as proxy:
        from typer.testing import CliRunner

        from preflight.cli import app

        path = tmp_path / "scale.update-cluster.json"
        path.write_text(json.dumps(request))
        env = {**local_aws.env, "AWS_ENDPOINT_URL": proxy.endpoint, "AWS_MAX_ATTEMPTS": "1"}
        result = CliRunner().invoke(app, ["apply", "--timeout", "3", str(path)], env=env)
    assert result.exit_code == 3 and proxy.mutating() == [], result.output
    assert "sagemaker:DescribeCluster failed: the answer is not whole and well-typed" in result.output


@pytest.mark.parametrize("cut", [{"IsTruncated": True, "Marker": "AAAB"}, {"NextToken": "eyJNYXJrZXIiOiBudWxsfQ=="}])
def test_one_page_of_authorization_details_is_not_the_whole(run_cli, tmp_path, cut):
    """get-account-authorization-details cut to a page (the API's Marker, the CLI's NextToken): a
    deny on a page left out would count, so the file is refused, naming it and the member."""
    details = json.loads((FIXTURES / "policies" / "authorization-details.json").read_text())
    path = tmp_path / "details.json"
    path.write_text(json.dumps({**details, **cut}))
    principal = (details.get("UserDetailList") or details["RoleDetailList"])[0]["Arn"]
    result = run_cli("check", "--policy", str(path), "--principal", principal, _request(tmp_path, "paged-details"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path} /{next(iter(cut))}: one page of get-account-authorization-details" in result.stderr
