"""A budget on every expander and reader: each bomb ends, quickly and in bounded memory, in a
finding (exit 1) or a usage error naming the file (exit 2), never a hang, a MemoryError or an
internal error (exit 4). Each runs the real command; the timeout is the test of the bound.
Time and memory of each, beside a plain check: bench/hostile.py, bench/HOSTILE.md."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import preflight_command

TIMEOUT = 60  # seconds: each bomb ends in about one; without its budget, none ends within this


def _template(resources: dict, **sections) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", **sections, "Resources": resources})


def _cluster(properties: dict) -> dict:
    return {"Cluster": {"Type": "AWS::SageMaker::Cluster", "Properties": properties}}


def _sub_bomb(levels: int) -> dict:
    """Fn::Sub inside Fn::Sub, each level writing the one below 16 times: 16^levels characters."""
    value: object = "ab"
    for _ in range(levels):
        value = {"Fn::Sub": ["${X}" * 16, {"X": value}]}
    return value


def _conditions_bomb(levels: int) -> dict:
    """Each condition the And of the next one 20 times: 20^levels decisions if none is remembered."""
    conditions = {f"C{n}": {"Fn::And": [{"Condition": f"C{n + 1}"}] * 20} for n in range(levels)}
    conditions[f"C{levels}"] = {"Fn::Equals": ["a", "a"]}
    return conditions


BIG = "x" * 1_000_000
NESTED_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                         "Resource": "*", "Condition": {"a": [[[[[[[[[["x"]]]]]]]]]]}}]}
for _ in range(60):
    NESTED_POLICY = {"Version": "2012-10-17", "Statement": [NESTED_POLICY]}
PRINCIPAL = "arn:aws:iam::111122223333:user/ops"
GROUPS = 20_000
DETAILS = {"UserDetailList": [{"Arn": PRINCIPAL, "UserName": "ops", "GroupList": [f"g{n}" for n in range(GROUPS)]}],
           "GroupDetailList": [{"GroupName": f"g{n}", "GroupPolicyList": []} for n in range(GROUPS)],
           "RoleDetailList": [], "Policies": []}
REPEATED_GROUP = {"UserDetailList": [{"Arn": PRINCIPAL, "GroupList": ["g"] * 5000}],
                  "GroupDetailList": [{"GroupName": "g", "GroupPolicyList": [
                      {"PolicyName": f"p{n}", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
                      for n in range(2000)]}]}
NESTED_MACROS = ("request.InstanceGroups.all(a, request.InstanceGroups.all(b, request.InstanceGroups.all(c, "
                 "a.InstanceCount >= 0)))")
MANY_GROUPS = json.dumps({"ClusterName": "c", "InstanceGroups": [
    {"InstanceGroupName": f"g{n}", "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1,
     "LifeCycleConfig": {"SourceS3Uri": "s3://b/", "OnCreate": "x.sh"}, "ExecutionRole": "arn:aws:iam::1:role/r"}
    for n in range(3000)]})
PLAN_BASE = {"format_version": "1.2", "terraform_version": "1.9.0"}

# (id, files to write, arguments, exit code, what the output says)
BOMBS = [
    ("cfn-sub-doubling", {"t.json": _template(_cluster({"ClusterName": _sub_bomb(12)}))}, ["t.json"], 1,
     "its intrinsic functions expand to more than"),
    ("cfn-sub-of-nothing", {"t.json": _template(_cluster({"ClusterName": {"Fn::Sub": []}}))}, ["t.json"], 1, "PF127"),
    ("cfn-conditions-fan-out", {"t.json": _template(_cluster({"ClusterName": {"Fn::If": ["C0", "a", "b"]}}),
                                                    Conditions=_conditions_bomb(10))}, ["t.json"], 1, "PF127"),
    ("cfn-ref-repeated", {"t.json": _template(_cluster({"ClusterName": {"Fn::Join": ["", [{"Ref": "P"}] * 2000]}}),
                                              Parameters={"P": {"Type": "String", "Default": BIG}})},
     ["t.json"], 1, "its intrinsic functions expand to more than"),
    ("cfn-findinmap-repeated", {"t.json": _template(
        _cluster({"Tags": [{"Fn::FindInMap": ["M", "k", "v"]}] * 3000}),
        Mappings={"M": {"k": {"v": {"Key": BIG[:2000], "Value": [BIG[:100]] * 500}}}})},
     ["t.json"], 1, "its intrinsic functions expand to more than"),
    ("env-file-doubling", {"env": "A=xxxxxxxx\n" + "".join(f"{chr(66 + n)}=${{{chr(65 + n)}}}${{{chr(65 + n)}}}\n"
                                                             for n in range(25)),
                           "r.delete-cluster.json": '{"ClusterName": "${Z}"}'},
     ["--env-file", "env", "r.delete-cluster.json"], 2, "env:20: the env file's values, expanded, are larger"),
    ("template-variable-repeated", {"r.delete-cluster.json": json.dumps({"ClusterName": ["${V}"] * 20_000})},
     ["--var", f"V={BIG[:100_000]}", "r.delete-cluster.json"], 1, "its variables expand it to more than"),
    ("env-file-dev-zero", {"r.delete-cluster.json": '{"ClusterName": "${V}"}'},
     ["--env-file", "/dev/zero", "r.delete-cluster.json"], 2, "/dev/zero: larger than 4,194,304 bytes"),
    ("baseline-dev-zero", {"r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--baseline", "/dev/zero", "r.delete-cluster.json"], 2, "/dev/zero: larger than 4,194,304 bytes"),
    ("config-dev-zero", {"r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--config", "/dev/zero", "r.delete-cluster.json"], 2, "/dev/zero: larger than 4,194,304 bytes"),
    ("config-max-bytes", {"c.toml": "fail-on = 'error'\n" + "# padding\n" * 100, "r.delete-cluster.json": "{}"},
     ["--config", "c.toml", "--max-bytes", "100", "r.delete-cluster.json"], 2, "c.toml: larger than 100 bytes"),
    ("config-nested", {"c.toml": "select = " + "[" * 5000 + "]" * 5000, "r.delete-cluster.json": "{}"},
     ["--config", "c.toml", "r.delete-cluster.json"], 2, "c.toml: nested"),
    ("baseline-nested", {"b.json": "[" * 100 + "]" * 100, "r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--baseline", "b.json", "r.delete-cluster.json"], 2, "b.json: nested more than 64 levels deep"),
    ("details-groups-product", {"details.json": json.dumps(DETAILS), "r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--policy", "details.json", "--principal", PRINCIPAL, "r.delete-cluster.json"], 1, "PF3"),
    ("details-policies-product", {"details.json": json.dumps(REPEATED_GROUP),
                                  "r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--policy", "details.json", "--principal", PRINCIPAL, "r.delete-cluster.json"], 2,
     "has more than 1,000 policies through its groups"),
    ("details-nested-policy", {"details.json": json.dumps({"UserDetailList": [{"Arn": PRINCIPAL, "UserPolicyList": [
        {"PolicyName": "p", "PolicyDocument": json.dumps(NESTED_POLICY)}]}]}),
        "r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["--policy", "details.json", "--principal", PRINCIPAL, "r.delete-cluster.json"], 2,
     "a policy nested more than 64 levels deep"),
    ("plan-nested-policy", {"plan.json": json.dumps({**PLAN_BASE, "resource_changes": [
        {"type": "aws_iam_policy", "change": {"actions": ["create"], "after": {"policy": json.dumps(NESTED_POLICY)}}}]})},
     ["plan.json"], 1, "the policy in this attribute is nested more than 64 levels deep"),
    ("plan-after-unknown-true", {"plan.json": json.dumps({**PLAN_BASE, "resource_changes": [
        {"type": "awscc_sagemaker_cluster", "change": {"actions": ["update"], "before": {}, "after": {},
                                                       "after_unknown": True}}]})},
     ["plan.json"], 1, "after_unknown is true where Terraform writes an object"),
    ("plan-type-is-a-list", {"plan.json": json.dumps({**PLAN_BASE, "resource_changes": [
        {"type": ["aws_sagemaker_cluster"], "change": {"actions": ["delete", "create"], "after": {}}}]})},
     ["plan.json"], 0, "1 file checked"),
    ("guardrail-nested-macros", {".preflight.toml": f"[[guardrail]]\nid = 'ORG001'\nmessage = 'm'\n"
                                                    f"condition = '{NESTED_MACROS}'\n",
                                 "r.create-cluster.json": MANY_GROUPS},
     ["r.create-cluster.json"], 1, "more than its budget of 10,000,000"),
    ("guardrail-int-beyond-int64", {".preflight.toml": "[[guardrail]]\nid = 'ORG001'\nmessage = 'm'\n"
                                                       "condition = \"request.ClusterName == 'x'\"\n",
                                    "r.delete-cluster.json": '{"ClusterName": "c", "X": 99999999999999999999999}'},
     ["r.delete-cluster.json"], 1, "a value CEL cannot hold"),
    ("script-variable-doubling", {"s.sh": "A0=xxxxxxxxxxxxxxxx\n" + "".join(f'A{n}="$A{n - 1}$A{n - 1}"\n'
                                                                   for n in range(1, 40))
                                  + "aws sagemaker delete-cluster --cluster-name $A39\n"},
     ["s.sh"], 0, "not known until the command runs, so not checked: $A39"),
    ("script-eval-of-itself", {"s.sh": "X='eval $X $X'\neval $X\naws sagemaker delete-cluster --cluster-name ok\n"},
     ["s.sh"], 0, "1 file checked"),
    ("placeholder-backtracking", {".preflight.toml": "placeholder-patterns = ['^(a+)+$']\n",
                                  "r.delete-cluster.json": json.dumps({"ClusterName": "a" * 60 + "!"})},
     ["r.delete-cluster.json"], 1, "PF106"),
    ("placeholder-backreference", {".preflight.toml": "placeholder-patterns = ['(a)\\1']\n",
                                   "r.delete-cluster.json": '{"ClusterName": "c"}'},
     ["r.delete-cluster.json"], 2, "is not a regular expression RE2 matches in linear time"),
]


@pytest.mark.parametrize("files,args,code,expected", [bomb[1:] for bomb in BOMBS], ids=[bomb[0] for bomb in BOMBS])
def test_bomb_ends_in_a_finding_or_a_usage_error(tmp_path, files, args, code, expected):
    if any(name == ".preflight.toml" and "guardrail" in text for name, text in files.items()):
        pytest.importorskip("celpy")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(preflight_command() + ["check", *args], cwd=tmp_path, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert expected in result.stdout + result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
