"""CloudFormation templates and Terraform plans are checked as the create-cluster requests they
send: the same findings as the equivalent request, at the template's own lines."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import FIXTURES
from preflight import documents, engine, iac
from preflight.iac import cloudformation

IAC = FIXTURES / "iac"
REQUEST = IAC / "cluster.create-cluster.json"
TEMPLATES = [IAC / "stack.yaml", IAC / "stack.json", IAC / "plan.json"]


def check(path, parameters=None):
    document = documents.read(str(path))
    pairs = iac.requests(document, parameters or {})
    assert pairs is not None, f"{path} is not recognised as a template"
    return document, engine.run(pairs).findings


def what(findings):
    return Counter((f.rule, f.severity, f.message, f.fix) for f in findings)


@pytest.mark.parametrize("template", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_template_gives_the_requests_findings_at_its_own_lines(template):
    request_findings = engine.run([(documents.read(str(REQUEST)), "create-cluster")]).findings
    document, findings = check(template)
    assert request_findings and what(findings) == what(request_findings)
    lines = document.text.splitlines()
    for finding, expected in zip(sorted(findings, key=lambda f: (f.rule, f.message)),
                                 sorted(request_findings, key=lambda f: (f.rule, f.message))):
        assert finding.file == str(template)
        assert finding.pointer.startswith(("/Resources/Cluster/Properties/", "/resource_changes/1/change/after/"))
        # The finding sits on the template's member for the request's member: its key starts there
        # (a value chosen by an intrinsic, such as !If's branch, is located on the member's key).
        member = expected.pointer.rpartition("/")[2]
        key = [token for token in finding.pointer.split("/") if not token.isdigit() and "::" not in token][-1]
        assert key.replace("_", "").lower() == member.lower()
        assert (finding.line, finding.column) == document.position(finding.pointer)
        member_pointer = finding.pointer[:finding.pointer.rindex("/" + key) + len(key) + 1]
        line, column = document.position(member_pointer)
        assert lines[line - 1][column - 1:].lstrip('"').startswith(key)
        assert (line, column) <= (finding.line, finding.column)


def test_cli_reads_a_template_without_a_flag(run_cli):
    result = run_cli("check", "--format", "json", str(IAC / "stack.yaml"))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 1
    assert {f["rule"] for f in report["findings"]} == {"PF104", "PF106", "PF107", "PF111", "PF112", "PF124", "PF205"}


def test_parameter_values_replace_defaults(run_cli):
    result = run_cli("check", "--format", "json", "--parameter", "Environment=prod",
                     "--parameter", "ExecutionRoleArn=arn:aws:iam::444455556666:role/HyperPodExecutionRole",
                     str(IAC / "stack.yaml"))
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert rules == {"PF112", "PF124"}  # prod: Continuous, 1 thread, a real instance type; a corrected role


def test_bad_parameter_is_usage_error(run_cli):
    result = run_cli("check", "--parameter", "Environment", str(IAC / "stack.yaml"))
    assert result.returncode == 2 and "KEY=VALUE" in result.stderr


UNRESOLVED = """\
Resources:
  Cluster:
    Type: AWS::SageMaker::Cluster
    Properties:
      ClusterName: !GetAtt Naming.ClusterName
      Orchestrator:
        Eks:
          ClusterArn: !ImportValue eks-cluster-arn
      NodeProvisioningMode: !Ref Mode
      InstanceGroups:
        - InstanceGroupName: !Sub "${AWS::StackName}-workers"
          InstanceType: !Ref InstanceType
          InstanceCount: !GetAtt Sizing.Count
          LifeCycleConfig: !GetAtt Lifecycle.Config
          ExecutionRole: !GetAtt Role.Arn
          ThreadsPerCore: !Select [0, !GetAZs ""]
          InstanceStorageConfigs:
            - EbsVolumeConfig:
                RootVolume: true
                VolumeKmsKeyId: !GetAtt Key.Arn
        - !If [Unknowable, {InstanceGroupName: x}, !Ref AWS::NoValue]
      VpcConfig:
        SecurityGroupIds: !Split [",", !ImportValue security-groups]
        Subnets: !Ref SubnetIds
      Tags: !Ref TagList
"""


def test_values_known_only_at_deployment_never_alarm():
    document = documents.parse("stack.yaml", UNRESOLVED)
    findings = engine.run(iac.requests(document, {})).findings
    assert findings == [], [(f.rule, f.pointer, f.message) for f in findings]


def test_member_the_model_lacks_is_said_not_checked():
    document = documents.parse("stack.yaml", UNRESOLVED.replace(
        "      ClusterName:", "      AutoPatchConfig: {Enabled: true}\n      ClusterName:"))
    findings = engine.run(iac.requests(document, {})).findings
    assert [(f.rule, f.pointer, f.line) for f in findings] == [
        ("PF010", "/Resources/Cluster/Properties/AutoPatchConfig", 5)]


def test_typed_resources_without_version_are_a_template_and_other_files_are_not():
    template = documents.parse("x.yaml", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    assert iac.requests(template, {}) == [(template, None)]
    assert engine.run(iac.requests(template, {})).findings == []
    request = documents.read(str(REQUEST))
    assert iac.requests(request, {}) is None


AWS_PROVIDER_PLAN = {
    "format_version": "1.2", "terraform_version": "1.9.8",
    "resource_changes": [{
        "address": "aws_sagemaker_cluster.example", "type": "aws_sagemaker_cluster",
        "change": {"actions": ["delete", "create"], "before": {}, "after": {
            "cluster_name": "ml-cluster",
            "instance_group": [{
                "execution_role": "arn:aws:iam::444455556666:role/HyperPodExecutionRole",
                "instance_count": 2, "instance_group_name": "workers", "instance_type": "ml.t3.medium",
                "lifecycle_config": [{"on_create": "on_create.sh", "source_s3_uri": "s3://other-bucket/lc"}],
                "instance_storage_config": [{"ebs_volume_config": [{"volume_size_in_gb": 20}]}],
                "threads_per_core": 1}],
            "vpc_config": [{"security_group_ids": ["subnet-0123456789abcdef0"], "subnets": ["subnet-0123456789abcdef0"]}],
            "tags": {"team": "ml"}, "tags_all": {"team": "ml", "owner": "platform"}},
            "after_unknown": {"arn": True, "cluster_status": True, "id": True, "node_recovery": True,
                              "instance_group": [{"nodes": True}]}}}],
}


def test_aws_provider_blocks_and_tag_maps():
    document = documents.parse("plan.json", json.dumps(AWS_PROVIDER_PLAN, indent=1))
    pairs = iac.requests(document, {})
    request = pairs[1][0].data
    assert request["InstanceGroups"][0]["LifeCycleConfig"] == {"OnCreate": "on_create.sh", "SourceS3Uri": "s3://other-bucket/lc"}
    assert request["Tags"] == [{"Key": "team", "Value": "ml"}, {"Key": "owner", "Value": "platform"}]
    findings = engine.run(pairs).findings
    assert {(f.rule, f.pointer) for f in findings} == {
        ("PF124", "/resource_changes/0/change/after/instance_group/0/lifecycle_config/0/source_s3_uri"),
        ("PF120", "/resource_changes/0/change/after/vpc_config/0/security_group_ids/0"),
        ("PF012", "/resource_changes/0/change/actions"),  # the plan replaces the cluster (delete, then create)
    }


def test_aws_provider_plan_writes_absent_blocks_as_empty_lists():
    """The AWS provider's plan (written from its schema: every nested block a list, never null)
    gives ``override_vpc_config = []`` and ``scheduled_update_config = []`` for a group without
    them: absent, not a shape error. A block that is there is still checked."""
    path = IAC / "plan-aws-provider.json"
    pairs = iac.requests(documents.read(str(path)), {})
    groups = pairs[1][0].data["InstanceGroups"]
    assert "OverrideVpcConfig" not in groups[0] and "ScheduledUpdateConfig" not in groups[0]
    assert "InstanceStorageConfigs" not in groups[1]
    assert groups[1]["OverrideVpcConfig"]["Subnets"] == ["subnet-0123456789abcdef1"]
    assert engine.run(pairs).findings == []
    plan = json.loads(path.read_text())
    plan["resource_changes"][0]["change"]["after"]["instance_group"][1]["override_vpc_config"][0][
        "security_group_ids"] = ["subnet-0123456789abcdef1"]
    findings = engine.run(iac.requests(documents.parse("plan.json", json.dumps(plan)), {})).findings
    assert [(f.rule, f.pointer) for f in findings] == [
        ("PF120", "/resource_changes/0/change/after/instance_group/1/override_vpc_config/0/security_group_ids/0")]


def _members(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", node, key
            yield from _members(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield f"{path}/{index}", node, index
            yield from _members(value, f"{path}/{index}")


REQUESTS = sorted((FIXTURES / "seed" / "corrected").glob("*.json")) + [REQUEST]


@pytest.mark.parametrize("path", REQUESTS, ids=[p.name for p in REQUESTS])
def test_any_member_left_to_deployment_adds_no_finding(path):
    """Each member in turn (value, object or list) made Unresolved: no finding beyond the request's own."""
    import copy

    from preflight.iac import DerivedDocument
    from preflight.values import Unresolved

    document = documents.read(str(path))
    operation = path.name.split(".")[-2]
    baseline = {(f.rule, f.message) for f in engine.run([(document, operation)]).findings}
    for pointer, _, _ in list(_members(document.data)):
        data = copy.deepcopy(document.data)
        for pointer_, parent, key in _members(data):
            if pointer_ == pointer:
                parent[key] = Unresolved("!GetAtt Resource.Attribute")
                break
        derived = DerivedDocument(path=document.path, text=document.text, data=data, parsed=True, source=document)
        added = [f for f in engine.run([(derived, operation)]).findings if (f.rule, f.message) not in baseline]
        assert not added, (pointer, [(f.rule, f.message) for f in added])


IAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Bucket: {Type: String, Default: sagemaker-lifecycle-444455556666}
Resources:
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: lifecycle
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "arn:aws:s3:::${Bucket}/*"
              - Effect: Allow
                Action: kms:CreateGrant
                Resource: !GetAtt Key.Arn
  ClusterAdmin:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: [sagemaker:CreateCluster, sagemaker:DescribeCluterNode]
            Resource: "*"
          - Effect: Alow
            Action: iam:PassRole
            Resource: !GetAtt ExecutionRole.Arn
"""


def test_template_iam_policies_are_linted_not_taken_as_the_callers(run_cli, tmp_path):
    path = tmp_path / "iam.yaml"
    path.write_text(IAM_TEMPLATE)
    result = run_cli("check", "--format", "json", str(path))
    found = [(f["rule"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    # The trust policy (a Principal) is not an identity policy; a statement with a deploy-time value
    # (the key's ARN, the role's ARN) is left out, even the one whose Effect is misspelt.
    assert found == [("PF306", "/Resources/ClusterAdmin/Properties/PolicyDocument/Statement/0/Action/1", 32)]
    assert result.returncode == 1


def test_hostile_templates_end_in_findings(run_cli, tmp_path):
    deep = "[" * 900 + "]" * 900
    cases = {
        "deep.json": '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"C": {"Type": "AWS::SageMaker::Cluster",'
                     ' "Properties": {"Tags": ' + deep + '}}}}',
        "cycle.yaml": "Conditions: {A: {Condition: B}, B: {Condition: A}}\nResources:\n  C:\n    Type: AWS::SageMaker::Cluster\n"
                      "    Properties: {ClusterName: !If [A, x, y], InstanceGroups: !Select [9, !Split [',', a]]}\n",
        "odd.yaml": "Resources:\n  C:\n    Type: AWS::SageMaker::Cluster\n    Properties: [1, 2]\n  P:\n    Type: AWS::IAM::Role\n"
                    "    Properties: {Policies: [7, {PolicyDocument: !Ref AWS::NoValue}]}\n",
        "plan.json": '{"terraform_version": "1", "resource_changes": [7, {"type": "awscc_sagemaker_cluster", "change": '
                     '{"actions": ["create"], "after": {"cluster_name": {"x": 1}}, "after_unknown": [true]}}]}',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        result = run_cli("check", "--format", "json", str(tmp_path / name))
        assert result.returncode in (0, 1), (name, result.stderr)
        json.loads(result.stdout)


def _model_has(operation: str, path: list[str]) -> bool:
    """Whether the request model has this member path, by exact names (an independent walk)."""
    from preflight import validation

    schema = validation.load(operation)
    defs, node = schema["$defs"], schema
    for token in path:
        while "$ref" in node:
            node = defs[node["$ref"].rpartition("/")[2]]
        node = node.get("items", {}) if token == "*" else (node.get("properties") or {}).get(token)
        if node is None:
            return False
    return True


def _skeleton(paths: list[str]):
    """A value with every property path filled (a list of one item for `*`, "x" at the leaves)."""
    tree: dict = {}
    for path in paths:
        node = tree
        for token in path.split("/")[1:]:
            node = node.setdefault(token, {})

    def build(node):
        if not node:
            return "x"
        if set(node) == {"*"}:
            return [build(node["*"])]
        return {key: build(child) for key, child in node.items() if key != "*"}

    return build(tree)


@pytest.mark.parametrize("type_name", sorted(cloudformation.resource_types()))
def test_every_resource_schema_property_maps_to_its_api_member_or_is_said(type_name):
    """The generated schema data (scripts/generate_cfn_resources.py) against the request model:
    a CloudFormation property reaches the request under the same member path, or PF010 says the
    model lacks it; read-only properties are left out without a word."""
    kind = cloudformation.resource_types()[type_name]
    read_only = set(kind["read_only"])
    writable = [p for p in kind["properties"] if not any(p == r or p.startswith(r + "/") for r in read_only)]
    template = {"Resources": {"R": {"Type": type_name, "Properties": _skeleton(kind["properties"])}}}
    document = documents.parse("t.json", json.dumps(template))
    (_, _), (request, operation) = iac.requests(document, {})
    noted = {pointer.removeprefix("/Resources/R/Properties") for pointer, _ in request.notes}
    assert operation == kind["operation"]
    for path in writable:
        tokens = path.split("/")[1:]
        lacking = next((tokens[:i] for i in range(1, len(tokens) + 1) if not _model_has(operation, tokens[:i])), None)
        if lacking is None:
            value = request.data
            for token in tokens:
                value = value[0] if token == "*" else value[token]
        else:
            assert "/" + "/".join(lacking).replace("*", "0") in noted, path
    assert not any(r.replace("*", "0") in noted for r in read_only)


SCHEDULER = """\
Resources:
  Scheduler:
    Type: AWS::SageMaker::ClusterSchedulerConfig
    Properties:
      Name: team-priorities
      ClusterArn: !GetAtt Cluster.ClusterArn
      SchedulerConfig:
        PriorityClasses:
          - {Name: inference, Weight: 90}
        FairShare: Sometimes
"""


def test_cluster_scheduler_config_is_checked_as_its_create_request():
    document = documents.parse("scheduler.yaml", SCHEDULER)
    pairs = iac.requests(document, {})
    assert [op for _, op in pairs] == [None, "create-cluster-scheduler-config"]
    findings = engine.run(pairs).findings
    assert [(f.rule, f.pointer, f.line) for f in findings] == [
        ("PF107", "/Resources/Scheduler/Properties/SchedulerConfig/FairShare", 10)]


def test_terraform_resource_types_follow_the_cloudformation_types():
    from preflight.iac import terraform

    assert terraform.resource_types() == {"awscc_sagemaker_cluster": "create-cluster",
                                          "awscc_sagemaker_cluster_scheduler_config": "create-cluster-scheduler-config",
                                          "aws_sagemaker_cluster": "create-cluster"}


def test_plan_iam_policies_are_linted_at_their_attribute(run_cli, tmp_path):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sagemaker:CreateCluster", "sagemaker:DescribeCluterNode"], "Resource": "*"}]})
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    plan = {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": [
        {"type": "aws_iam_role", "change": {"actions": ["create"], "after": {
            "assume_role_policy": trust, "inline_policy": [{"name": "admin", "policy": policy}]}}},
        {"type": "aws_iam_policy", "change": {"actions": ["update"], "after": {"policy": "not json"}}}]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=1))
    result = run_cli("check", "--format", "json", str(path))
    found = [(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("PF306", "/resource_changes/0/change/after/inline_policy/0/policy")]


UPDATE_PLAN = IAC / "plan-update.json"


def _plan_with(tmp_path, edit) -> str:
    plan = json.loads(UPDATE_PLAN.read_text())
    edit(plan["resource_changes"][0]["change"])
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=1))
    return str(path)


def test_in_place_cluster_change_is_checked_as_its_update_request():
    document = documents.read(str(UPDATE_PLAN))
    (_, _), (derived, operation) = iac.requests(document, {})
    assert operation == "update-cluster"
    assert derived.data["ClusterName"] == "tf-cluster"
    assert derived.data["InstanceGroupsToDelete"] == ["old-workers"]
    assert [g["InstanceCount"] for g in derived.data["InstanceGroups"]] == [1, 3]
    assert not {"VpcConfig", "Tags", "Orchestrator"} & set(derived.data)  # not UpdateCluster's: unchanged in place
    assert derived.notes == []  # cluster_arn, id, status: the provider's computed values, unchanged
    assert derived.located("/InstanceGroupsToDelete/0") == "/resource_changes/0/change/before/instance_groups/2/instance_group_name"
    assert engine.run(iac.requests(document, {})).findings == []


def test_in_place_change_findings_point_at_the_planned_values(run_cli, tmp_path):
    def edit(change):
        change["after"]["instance_groups"][1]["threads_per_core"] = 3
        change["before"]["a_new_member"], change["after"]["a_new_member"] = "off", "on"
    result = run_cli("check", "--format", "json", _plan_with(tmp_path, edit))
    found = {(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert ("PF104", "/resource_changes/0/change/after/instance_groups/1/threads_per_core") in found, found
    assert ("PF010", "/resource_changes/0/change/after/a_new_member") in found  # changed, unknown to the model: said
    assert result.returncode == 1


def test_in_place_change_shows_its_plan_against_the_live_cluster(run_cli, local_aws):
    group = {"InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecutionRole",
             "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-hyperpod-lifecycle-444455556666/slurm", "OnCreate": "on_create.sh"}}
    client = local_aws.client("sagemaker")
    if not any(c["ClusterName"] == "tf-cluster" for c in client.list_clusters()["ClusterSummaries"]):
        client.create_cluster(ClusterName="tf-cluster", InstanceGroups=[
            {**group, "InstanceGroupName": name, "InstanceCount": count}
            for name, count in (("controller", 1), ("workers", 2), ("old-workers", 2))])
    result = run_cli("plan", str(UPDATE_PLAN), env=local_aws.env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scales workers up by 1: 2 -> 3 nodes" in result.stdout, result.stdout
    assert "removes instance group old-workers and its 2 nodes" in result.stdout, result.stdout
