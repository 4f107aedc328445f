"""Live rules against a real HTTP AWS endpoint on loopback (moto's server, seeded from
fixtures/account/hyperpod.json): one parametrised runner over fixtures/live/*.yaml."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import documents, engine
from preflight.registry import all_rules

LIVE_CASES = sorted((FIXTURES / "live").glob("*.yaml"))


@pytest.fixture(scope="module")
def account(local_aws):
    """A fresh reader of the seeded account (its SageMaker cluster quotas are seeded too: see
    preflight/local_sagemaker/quotas.py)."""
    from preflight.aws import BotoAccount

    return lambda: BotoAccount(region=local_aws.region, timeout=5)


@pytest.mark.parametrize("path", LIVE_CASES, ids=[p.stem for p in LIVE_CASES])
def test_live_case(path, account):
    case = yaml.safe_load(path.read_text())
    if "request_file" in case:
        document = documents.read(str(path.parent / case["request_file"]))
    else:
        document = documents.parse("request.json", case["request"])
    report = engine.run([(document, case["operation"])], account=account())
    request_findings = [f for f in report.findings if f.file == document.path]
    found = Counter(f.rule for f in request_findings)
    assert found == Counter(case["expect"]), "\n".join(
        f"{f.line}:{f.column} {f.rule} {f.pointer} {f.message}" for f in request_findings)
    if "severity" in case:  # error when AWS refuses or the operation certainly fails, warning when it may
        assert {str(f.severity) for f in request_findings if f.rule == case["rule"]} == {case["severity"]}


LIVE_RULES = [r for r in all_rules().values() if r.kind == "live"]


@pytest.mark.parametrize("rule", LIVE_RULES, ids=[r.id for r in LIVE_RULES])
def test_live_docstring_example_fires_and_use_instead_does_not(rule, account):
    """Live rules' examples name resources of fixtures/account/hyperpod.json."""
    from test_rule_docs import examples

    def fired(texts):
        pairs = [(documents.parse(f"example{i}.json", t), rule.operations[0]) for i, t in enumerate(texts)]
        return {f.rule for f in engine.run(pairs, account=account()).findings}

    found = examples(rule)
    assert rule.id in fired(found["Example"][0]), f"{rule.id}'s Example does not fire it"
    assert rule.id not in fired(found["Use instead"][0]), f"{rule.id}'s Use instead fires it"


def test_every_live_rule_has_a_failing_and_a_passing_case():
    failing, passing = set(), set()
    for path in LIVE_CASES:
        case = yaml.safe_load(path.read_text())
        (failing if case.get("rule") in case["expect"] else passing).update(
            [case["rule"]] if case.get("rule") else [])
        if not case["expect"]:
            passing.update(r for r in all_rules() if all_rules()[r].kind == "live")
    live = {rid for rid, r in all_rules().items() if r.kind == "live"}
    assert not live - failing, f"live rules without a failing case: {sorted(live - failing)}"
    assert not live - passing, f"live rules without a passing case: {sorted(live - passing)}"


def test_each_resource_is_read_once_and_batched(local_aws):
    from preflight.aws import BotoAccount

    account = BotoAccount(region=local_aws.region, timeout=5)
    requests = [(documents.read(str(p)), op) for p, op in (
        (FIXTURES / "seed/corrected/01-standard.create-cluster.json", "create-cluster"),
        (FIXTURES / "seed/corrected/02-customer-managed-key.create-cluster.json", "create-cluster"))]
    engine.run(requests, account=account)
    assert account.calls[("ec2", "describe_images")] == 1
    assert account.calls[("ec2", "describe_snapshots")] == 1
    assert account.calls[("iam", "get_role")] == 2  # the execution role, and HyperPod's service-linked role
    assert account.calls[("sts", "get_caller_identity")] == 1
    assert account.calls[("kms", "describe_key")] == 1  # one key, named the same way in both requests
    # DescribeCluster: once for each cluster, the region's (PF441 looks for the EKS cluster's) and the requests'
    region = {c["ClusterName"] for c in local_aws.client("sagemaker").list_clusters()["ClusterSummaries"]}
    assert account.calls.pop(("sagemaker", "describe_cluster")) == len(region | {d.data["ClusterName"] for d, _ in requests})
    assert all(count == 1 for (service, _), count in account.calls.items() if service != "iam"), account.calls


def test_the_lifecycle_chain_and_its_file_system_are_read_once_in_the_prefetch(local_aws):
    """The helper chain (on_create.sh, lifecycle_script.py, the four files it runs) and the FSx file
    system a Slurm lifecycle mounts, with its interfaces' groups: every read made before the rules
    run (a second prefetch and the rules add none), each object and resource once."""
    from preflight import live
    from preflight.aws import BotoAccount
    from preflight.engine import Context

    account = BotoAccount(region=local_aws.region, timeout=5)
    requests = [(documents.parse(f"{name}.json", yaml.safe_load((FIXTURES / "live" / f"{name}.yaml").read_text())[
        "request"]), "create-cluster") for name in ("PF420-helper-folder-complete", "PF426-fsx-mountable")]
    live.prefetch(account, [Context(document, operation, account=account) for document, operation in requests],
                  caller_policies=True, organization=True)  # as a check without --policy does
    prefetched = Counter(account.calls)
    report = engine.run(requests, account=account)
    assert not [f for f in report.findings if f.rule in ("PF400", "PF401", "PF420", "PF426", "PF435")]
    assert Counter(account.calls) == prefetched
    # two OnCreate scripts and the four helpers by their first bytes; two provisioning_parameters.json
    # and lifecycle_script.py whole
    assert prefetched[("s3", "get_object")] == 9
    assert prefetched[("s3", "head_bucket")] == 1  # the one lifecycle bucket, whatever the objects read in it
    assert all(prefetched[("fsx" if op == "describe_file_systems" else "ec2", op)] == 1 for op in (
        "describe_file_systems", "describe_network_interfaces", "describe_security_groups"))


def test_an_assumed_role_caller_is_its_role_read_once(local_aws, monkeypatch):
    """A caller in a role session is its role, with its path: one GetRole serves the caller's ARN
    and its boundary, its policies are read by the name in the session's ARN, and a managed policy
    listed among the attached ones is read without GetPolicy."""
    from preflight import live
    from preflight.aws import BotoAccount

    iam = local_aws.client("iam")

    def policy(action):
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{local_aws.account}:root"}}]}
    boundary = iam.create_policy(PolicyName="ci-boundary", PolicyDocument=policy("sagemaker:*"))["Policy"]["Arn"]
    role = iam.create_role(RoleName="ci-deployer", Path="/ci/", AssumeRolePolicyDocument=json.dumps(trust),
                           PermissionsBoundary=boundary)["Role"]
    iam.put_role_policy(RoleName="ci-deployer", PolicyName="deploy", PolicyDocument=policy("sagemaker:CreateCluster"))
    attached = iam.create_policy(PolicyName="ci-read", PolicyDocument=policy("ec2:DescribeImages"))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="ci-deployer", PolicyArn=attached)
    session = local_aws.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="pipeline")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", session["SessionToken"])

    account = BotoAccount(region=local_aws.region, timeout=5)
    live.prefetch(account, [], caller_policies=True)
    policies, failure = live.caller_policy_set(account)
    assert failure is None and account.caller().arn == role["Arn"] == f"arn:aws:iam::{local_aws.account}:role/ci/ci-deployer"
    assert policies.principal == role["Arn"]
    granted = {a.text for s in policies.statements() for a in s.actions}
    assert granted == {"sagemaker:CreateCluster", "ec2:DescribeImages"}
    assert {a.text for s in policies.statements(boundary=True) for a in s.actions} == {"sagemaker:*"}
    assert account.calls[("iam", "get_role")] == 1
    assert account.calls[("iam", "get_policy")] == 1  # the boundary only: it is attached to nothing
    assert account.calls[("iam", "get_policy_version")] == 2


@pytest.mark.parametrize("kind", ["role", "user"])
def test_the_callers_tags_are_read_and_decide_tag_conditions(local_aws, monkeypatch, kind):
    """GetRole and GetUser give every tag of the principal (ListRoles and ListUsers do not): a
    condition on aws:PrincipalTag, or a ${aws:PrincipalTag/...} variable, is decided live."""
    from preflight.aws import BotoAccount

    iam = local_aws.client("iam")
    name = f"tagged-{kind}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sagemaker:DeleteCluster", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ml"}}},
        {"Effect": "Allow", "Action": "sagemaker:DescribeCluster",
         "Resource": "arn:aws:sagemaker:*:*:cluster/*", "Condition": {"StringEquals": {
             "aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]})
    tags = [{"Key": "team", "Value": "ml"}]
    if kind == "role":
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": f"arn:aws:iam::{local_aws.account}:root"}}]}
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="delete", PolicyDocument=policy)
        keys = local_aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="pipeline")["Credentials"]
        keys = {"AccessKeyId": keys["AccessKeyId"], "SecretAccessKey": keys["SecretAccessKey"],
                "SessionToken": keys["SessionToken"]}
    else:
        iam.create_user(UserName=name, Tags=tags)
        iam.put_user_policy(UserName=name, PolicyName="delete", PolicyDocument=policy)
        created = iam.create_access_key(UserName=name)["AccessKey"]
        keys = {"AccessKeyId": created["AccessKeyId"], "SecretAccessKey": created["SecretAccessKey"]}
    for key, variable in (("AccessKeyId", "AWS_ACCESS_KEY_ID"), ("SecretAccessKey", "AWS_SECRET_ACCESS_KEY"),
                          ("SessionToken", "AWS_SESSION_TOKEN")):
        if key in keys:
            monkeypatch.setenv(variable, keys[key])
        else:
            monkeypatch.delenv(variable, raising=False)

    account = BotoAccount(region=local_aws.region, timeout=5)
    report = engine.run([(documents.parse("request.json", '{"ClusterName": "ml-cluster"}'), "delete-cluster")],
                        account=account)
    def judged(findings):
        return [(f.rule, f.message) for f in findings if f.rule in ("PF330", "PF331", "PF332") and "sagemaker:" in f.message]
    assert judged(report.findings) == []  # decided: the principal's team tag is ml

    untag = iam.untag_role if kind == "role" else iam.untag_user
    untag(**({"RoleName": name} if kind == "role" else {"UserName": name}), TagKeys=["team"])
    report = engine.run([(documents.parse("request.json", '{"ClusterName": "ml-cluster"}'), "delete-cluster")],
                        account=BotoAccount(region=local_aws.region, timeout=5))
    assert [rule for rule, message in judged(report.findings) if "sagemaker:DeleteCluster" in message] == ["PF330"]


@pytest.mark.parametrize("text", ['["not", "an", "object"]', '{"ClusterName": 7, "InstanceGroups": [1, {"ImageId": 3}]}',
                                  '{"InstanceGroups": {"InstanceCount": "2", "InstanceType": ["ml.c5.2xlarge"]}}', 'null'])
@pytest.mark.parametrize("operation", ["create-cluster", "update-cluster-software", "delete-cluster"])
def test_malformed_requests_never_crash_the_live_checks(account, text, operation):
    report = engine.run([(documents.parse("request.json", text), operation)], account=account())
    assert all(f.line >= 1 for f in report.findings)


@pytest.mark.parametrize("text,operation", [
    ('{"ClusterName": "slurm-cluster", "InstanceGroups": [{"InstanceGroupName": {"x": 1}, "InstanceCount": 1}], '
     '"InstanceGroupsToDelete": [{"a": 1}, ["controller"]]}', "update-cluster"),
    ('{"ClusterName": "multi-az-cluster", "InstanceGroups": [{"InstanceGroupName": ["workers"], "InstanceCount": 2}]}',
     "update-cluster"),
    ('{"ClusterName": "slurm-cluster", "NodeIds": [{"a": 1}, ["b"], "i-221e1dec52464550b"]}', "batch-delete-cluster-nodes"),
    ('{"ClusterName": "slurm-cluster", "NodeLogicalIds": [{"a": 1}]}', "batch-replace-cluster-nodes"),
    ('{"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": {"x": 1}}]}', "update-cluster-software"),
])
def test_names_that_are_not_strings_end_in_findings_on_an_existing_cluster(account, text, operation):
    """Group names and node ids a hostile request writes as objects or lists are compared with the
    cluster's as values that match nothing, never looked up (they cannot be hashed)."""
    report = engine.run([(documents.parse("request.json", text), operation)], account=account())
    assert report.findings and all(f.line >= 1 for f in report.findings)


def test_create_only_severity_says_which_sources_name_the_member(account, monkeypatch):
    """PF455 reads CloudFormation's create-only members from the generated data. With data that
    lists InstanceType (as the schemas before 2026 did) and LifeCycleConfig: the type change is an
    error (the Developer Guide agrees), the role change a warning (only the guide), the lifecycle
    change info (only the schema). With the shipped data, the type change is a warning."""
    import copy

    from preflight.findings import Severity
    from preflight.iac import cloudformation

    group = {"InstanceGroupName": "workers", "InstanceCount": 2, "InstanceType": "ml.c5.4xlarge", "ThreadsPerCore": 1,
             "ExecutionRole": "arn:aws:iam::444455556666:role/OtherExecutionRole",
             "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/v2/",
                                 "OnCreate": "on_create_noop.sh"}}
    request = documents.parse("request.json", json.dumps({"ClusterName": "ml-cluster", "InstanceGroups": [group]}))

    def severities():
        report = engine.run([(request, "update-cluster")], account=account())
        return {f.pointer.rsplit("/", 1)[1]: f.severity for f in report.findings if f.rule == "PF455"}

    assert severities() == {"InstanceType": Severity.WARNING, "ExecutionRole": Severity.WARNING}
    data = copy.deepcopy(cloudformation._schema_data())
    data["resources"]["AWS::SageMaker::Cluster"]["create_only"] += ["/InstanceGroups/*/InstanceType",
                                                                     "/InstanceGroups/*/LifeCycleConfig"]
    monkeypatch.setattr(cloudformation, "_schema_data", lambda: data)
    assert severities() == {"InstanceType": Severity.ERROR, "ExecutionRole": Severity.WARNING,
                            "LifeCycleConfig": Severity.INFO}


def test_the_files_an_on_create_script_needs_are_read_once(local_aws):
    """Two groups share the lifecycle: its script, lifecycle_script.py and provisioning_parameters.json
    are each read once (the prefetch reads the script, then the files it names)."""
    from preflight.aws import BotoAccount

    account = BotoAccount(region=local_aws.region, timeout=5)
    case = yaml.safe_load((FIXTURES / "live" / "PF420-script-finds-its-files.yaml").read_text())
    request = documents.parse("request.json", case["request"])
    report = engine.run([(request, "create-cluster")], account=account)
    assert not [f for f in report.findings if f.rule in ("PF420", "PF423")]
    assert account.calls[("s3", "get_object")] == 3, account.calls


def test_what_an_on_create_script_needs_beside_it():
    from preflight.live import files_named_by

    published = (b'#!/bin/bash\nset -ex\nPROVISIONING_PARAMETERS_PATH="provisioning_parameters.json"\n'
                 b'python3 -u lifecycle_script.py \\\n  -rc $SAGEMAKER_RESOURCE_CONFIG_PATH \\\n'
                 b'  -pp $PROVISIONING_PARAMETERS_PATH >  >(tee -a $LOG_FILE) 2>&1\n')
    assert files_named_by(published) == [("provisioning_parameters.json", True), ("lifecycle_script.py", True)]
    guarded = b'#!/bin/bash\nset -ex\nif [ -f "./on_create_main.sh" ]; then\n  bash ./on_create_main.sh >> "$LOG"\nfi\n'
    assert files_named_by(guarded) == []
    assert files_named_by(b"#!/bin/bash\nsudo bash ./utils/install.sh\n./run.sh || true\n") == [("utils/install.sh", False)]
    assert files_named_by(b'#!/bin/bash\nset -e\ncd "$(dirname "$0")"\npython3 lifecycle_script.py\n') == []
    assert files_named_by(b'#!/bin/bash\nset -e\ncp x "${DIR}/vars/provisioning_parameters.json"\n'
                          b'aws s3 cp s3://b/extra.sh extra.sh\nbash extra.sh\nbash "${DIR}/setup.sh"\n') == []
    assert files_named_by(None) == [] and files_named_by(b"\xff\x00" * 64) == []
    # The test of a branch: certain when the branch taken on failure exits with a failure
    failing = b'#!/bin/bash\nif ! bash ./on_create_main.sh >> "$LOG" 2>&1; then\n  sleep 60\n  exit 1\nfi\n'
    assert files_named_by(failing) == [("on_create_main.sh", True)]
    assert files_named_by(failing.replace(b"exit 1", b"echo skipped")) == [("on_create_main.sh", False)]
    assert files_named_by(b"#!/bin/bash\nif bash ./probe.sh; then\n  exit 1\nfi\n") == []
    assert files_named_by(b"#!/bin/bash\nset -e\nstdbuf -oL -eL bash ./on_create_main.sh >> log\n") == [
        ("on_create_main.sh", True)]


def test_what_a_python_lifecycle_script_runs():
    """The published lifecycle_script.py's calls: on every node unless a branch other than the
    node's Slurm role, a loop or a try stands between; never a name it only tests for, a commented
    call, or anything in a script that does not parse or changes folder."""
    from preflight.live import files_run_by_python

    source = b"""
import os, subprocess
from config import Config

def main(params, node_type):
    fsx = params.fsx_settings
    if fsx:
        ExecuteBashScript("./mount_fsx.sh").run(*fsx)
    ExecuteBashScript("./add_users.sh").run()
    if params.workload_manager == "slurm":
        if node_type == SlurmNodeType.HEAD_NODE:
            ExecuteBashScript("./setup_mariadb_accounting.sh").run()
        ExecuteBashScript("./utils/motd.sh").run(node_type)
        # ExecuteBashScript("./utils/install_docker.sh").run()
        if Config.enable_sssd:
            subprocess.run(["python3", "-u", "setup_sssd.py", "--node-type", node_type], check=True)
    if os.path.exists("./extra.sh"):
        subprocess.run(["bash", "./extra.sh"])
    for script in ("a.sh",):
        subprocess.run(["bash", "loop.sh"])
    print("utils/not_run.sh")

if __name__ == "__main__":
    main(None, None)
"""
    assert files_run_by_python(source) == [("mount_fsx.sh", False), ("add_users.sh", True),
                                           ("setup_mariadb_accounting.sh", True), ("utils/motd.sh", True),
                                           ("setup_sssd.py", False), ("loop.sh", False)]
    assert files_run_by_python(b"def broken(:\n") == [] and files_run_by_python(None) == []
    assert files_run_by_python(b'import os\nos.chdir("/tmp")\nrun(["bash", "x.sh"])\n') == []


def test_a_helper_the_lifecycle_may_not_run_is_a_warning(account):
    """Of the helpers lifecycle_script.py runs, utils/motd.sh is run on every node (an error) and
    mount_fsx.sh only when an FSx file system is named (a warning)."""
    case = yaml.safe_load((FIXTURES / "live" / "PF420-helper-folder-missing.yaml").read_text())
    report = engine.run([(documents.parse("request.json", case["request"]), "create-cluster")], account=account())
    found = {(str(f.severity), f.message.split(" needs ")[1].split(";")[0]) for f in report.findings if f.rule == "PF420"}
    assert found == {("error", "utils/motd.sh"), ("warning", "mount_fsx.sh")}


def test_which_rules_open_lustres_ports():
    """TCP 988 and 1018-1023 pass by a rule naming one of the groups (all traffic, TCP over the
    ports, or protocol 6), or a block holding one of the subnets; not by UDP, other ports, or
    another block."""
    from preflight.account import Permission
    from preflight.rules.live_network import lustre_ports_closed

    groups, cidrs = {"sg-nodes"}, {"10.0.1.0/24"}
    assert lustre_ports_closed([Permission("-1", None, None, ("sg-nodes",))], groups, cidrs) == []
    assert lustre_ports_closed([Permission("tcp", 988, 988, ("sg-nodes",)),
                                Permission("6", 1018, 1023, (), ("10.0.0.0/16",))], groups, cidrs) == []
    assert lustre_ports_closed([Permission("tcp", 988, 988, ("sg-nodes",))], groups, cidrs) == list(range(1018, 1024))
    assert lustre_ports_closed([Permission("udp", 0, 65535, ("sg-nodes",)), Permission("tcp", 0, 65535, ("sg-other",)),
                                Permission("tcp", 0, 65535, (), ("10.0.2.0/24", "bad"))], groups, cidrs) == [
        988, *range(1018, 1024)]


@pytest.mark.parametrize("endpoints,fires", [(["s3"], False), (["dynamodb"], True)])
def test_an_s3_gateway_endpoint_is_a_way_out(tmp_path, endpoints, fires):
    """A private subnet with no default route reaches S3 through a gateway endpoint on its route
    table (no PF434); another service's endpoint is no way to S3. Seeded in a local AWS of its own."""
    import subprocess
    import sys

    from conftest import preflight_command

    state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
    state.update(vpc_endpoints=endpoints, base_dir=str(FIXTURES / "account"))
    (tmp_path / "state.json").write_text(json.dumps(state))
    request = json.loads(yaml.safe_load((FIXTURES / "live" / "PF434-no-route-to-s3.yaml").read_text())["request"])
    (tmp_path / "private.create-cluster.json").write_text(json.dumps(request))
    result = subprocess.run([sys.executable, "-m", "preflight.local", "--state", str(tmp_path / "state.json"), "--",
                             *preflight_command(), "check", "--live", "--format", "json",
                             str(tmp_path / "private.create-cluster.json")], capture_output=True, text=True, timeout=120)
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert ("PF434" in rules) is fires, result.stdout + result.stderr
    assert result.returncode == (1 if fires else 0), result.stdout + result.stderr


def test_the_local_aws_refuses_an_override_vpc_config_change(local_aws):
    """As PF465 says the service does: an update leaving out a group's OverrideVpcConfig is refused."""
    import botocore.exceptions

    request = json.loads(yaml.safe_load((FIXTURES / "live" / "PF465-override-left-out.yaml").read_text())["request"])
    with pytest.raises(botocore.exceptions.ClientError, match="OverrideVpcConfig"):
        local_aws.client("sagemaker").update_cluster(**request)


@pytest.mark.parametrize("linked_role", [True, False])
def test_a_caller_who_may_not_create_the_service_linked_role(tmp_path, linked_role):
    """Without HyperPod's service-linked role in the account, a create makes it: a caller who may
    not is refused (PF330, an error). With the role there, nothing is needed. Offline it is a
    warning (iam-access/PF330-service-linked-role-not-allowed). Each in a local AWS of its own."""
    import subprocess
    import sys

    from conftest import preflight_command

    case = yaml.safe_load((FIXTURES / "cases" / "iam-access" / "PF330-service-linked-role-not-allowed.yaml").read_text())
    (tmp_path / "caller.json").write_text(case["policies"][0])
    request = json.loads((FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json").read_text())
    request.update(ClusterName="first-cluster")
    del request["Orchestrator"]  # a Slurm cluster: no EKS cluster to share
    (tmp_path / "first.create-cluster.json").write_text(json.dumps(request))
    state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
    state["roles"] = [r for r in state["roles"] if linked_role or not r["name"].startswith("AWSServiceRole")]
    state["base_dir"] = str(FIXTURES / "account")
    (tmp_path / "state.json").write_text(json.dumps(state))
    result = subprocess.run([sys.executable, "-m", "preflight.local", "--state", str(tmp_path / "state.json"), "--",
                             *preflight_command(), "check", "--live", "--format", "json", "--policy",
                             str(tmp_path / "caller.json"), str(tmp_path / "first.create-cluster.json")],
                            capture_output=True, text=True, timeout=120)
    linked = [f for f in json.loads(result.stdout)["findings"] if "iam:CreateServiceLinkedRole" in f["message"]]
    assert [f["severity"] for f in linked] == ([] if linked_role else ["error"]), result.stdout + result.stderr
