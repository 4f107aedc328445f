"""Terraform configurations (.tf) are checked as the create requests their HyperPod resources send,
with the plan's semantics: the same findings as the request they write, at the line of the
attribute each value came from; what the configuration alone does not decide is never an error."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import FIXTURES
from preflight import documents, engine, iac
from preflight.values import Unresolved

TERRAFORM = FIXTURES / "iac" / "terraform"
AWSCC = TERRAFORM / "awscc" / "main.tf"
AWS = TERRAFORM / "aws" / "main.tf"
REQUEST = FIXTURES / "iac" / "cluster.create-cluster.json"


def read(path, variables=None):
    return iac.read(str(path), documents.MAX_BYTES, variables or {})


def check(path, variables=None):
    document = read(path, variables)
    return document, engine.run(iac.requests(document, {}) or [(document, None)],
                                linted=iac.policies(document, {})).findings


def configuration(tmp_path, text, name="main.tf"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_module_gives_the_request_findings_at_the_attribute_lines():
    """Variables (default, terraform.tfvars, then *.auto.tfvars), locals naming locals and
    variables, templates and indexing decide the awscc cluster of cluster.create-cluster.json."""
    expected = engine.run([(documents.read(str(REQUEST)), "create-cluster")]).findings
    document, findings = check(AWSCC)
    assert Counter((f.rule, f.severity, f.message, f.fix) for f in findings) == Counter(
        (f.rule, f.severity, f.message, f.fix) for f in expected)
    lines = AWSCC.read_text().splitlines()
    for finding in findings:
        assert finding.file == str(AWSCC) and finding.pointer.startswith("/resource/awscc_sagemaker_cluster/cluster/")
        attribute = next(token for token in reversed(finding.pointer.split("/")) if not token.isdigit())
        assert lines[finding.line - 1][finding.column - 1:].startswith(attribute), (finding.rule, finding.line)
    # a value taken from a local sits at the attribute that names it, not in the locals block
    role = next(f for f in findings if f.rule == "PF111")
    assert lines[role.line - 1].strip() == "execution_role   = local.role_arn"


def test_aws_provider_blocks_give_the_plans_request():
    """The AWS provider's nested blocks (one block per list item, a block of at most one as the
    member's object), with Terraform's meta-arguments and blocks left out, give the very request
    its plan gives (plan-aws-provider.json, whose tags are known only after apply)."""
    from_source = iac.requests(read(AWS), {})[1][0].data
    from_plan = iac.requests(documents.read(str(FIXTURES / "iac" / "plan-aws-provider.json")), {})[1][0].data
    assert isinstance(from_plan.pop("Tags"), Unresolved)
    assert from_source == from_plan
    assert check(AWS)[1] == []


def test_variables_given_on_the_command_line_win(run_cli):
    result = run_cli("check", "--format", "json", "--var", "threads_per_core=2", "--var",
                     'security_group_ids=["subnet-0123456789abcdef0"]', str(AWSCC))
    found = {(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert "PF104" not in {rule for rule, _ in found}
    assert ("PF120", "/resource/awscc_sagemaker_cluster/cluster/vpc_config/security_group_ids/0") in found
    assert result.returncode == 1


def test_several_files_of_a_folder_are_one_module(run_cli):
    result = run_cli("check", "--format", "json", str(AWSCC), str(AWSCC.with_name("variables.tf")))
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 2 and result.returncode == 1
    assert {f["file"] for f in report["findings"]} == {str(AWSCC)}
    assert run_cli("check", str(AWS)).returncode == 0


UNKNOWN = """
variable "name" {}
variable "groups" { default = [] }
data "aws_eks_cluster" "eks" { name = "x" }
module "net" { source = "./net" }
locals {
  loop_a = local.loop_b
  loop_b = local.loop_a
}
resource "aws_sagemaker_cluster" "c" {
  count        = var.enabled ? 1 : 0
  cluster_name = var.name
  node_recovery = local.loop_a
  orchestrator {
    eks { cluster_arn = data.aws_eks_cluster.eks.arn }
  }
  dynamic "instance_group" {
    for_each = var.groups
    content { instance_group_name = instance_group.key }
  }
  vpc_config {
    security_group_ids = module.net.security_group_ids
    subnets            = [for s in module.net.subnets : s.id]
  }
  tags = merge(var.tags, { team = upper("ml") })
}
resource "awscc_sagemaker_cluster" "d" {
  cluster_name = "%{ if var.prod }prod%{ else }dev%{ endif }-cluster"
  instance_groups = [{
    instance_group_name = each.key
    instance_count      = var.count_by_group[each.key] + 1
    instance_type       = var.prod ? "ml.p5.48xlarge" : "ml.c5.mega"
    execution_role      = aws_iam_role.exec.arn
    threads_per_core    = -var.threads
    life_cycle_config = {
      source_s3_uri = "s3://${aws_s3_bucket.lc.id}/lifecycle/"
      on_create     = local.missing
    }
    instance_storage_configs = module.storage.configs[*].value
  }]
}
resource "aws_sagemaker_cluster" "never" {
  count        = 0
  cluster_name = "not a valid name"
}
"""


def test_what_the_configuration_does_not_decide_is_never_an_error(tmp_path):
    document, findings = check(configuration(tmp_path, UNKNOWN))
    assert findings == [], [(f.rule, f.pointer, f.message) for f in findings]
    values = document.data["resource"]
    assert "never" not in values["aws_sagemaker_cluster"]  # count = 0: declared, never created
    cluster = values["aws_sagemaker_cluster"]["c"]
    assert cluster["cluster_name"] == "var.name" and isinstance(cluster["cluster_name"], Unresolved)
    assert isinstance(cluster["instance_group"], Unresolved) and isinstance(cluster["node_recovery"], Unresolved)


def test_literal_values_as_terraform_reads_them(tmp_path):
    document = read(configuration(tmp_path, r'''
locals {
  escaped = "tab\tquote\" dollar $${aws:username} unicode \u00e9"
  joined  = "${local.number}-${local.flag}-${local.fraction}"
  number  = 4
  flag    = true
  fraction = 1.5
  doc = <<-EOT
    {"a": "$${b}"}
      indented
    EOT
  keys = { "quoted key" = 1, bare = -2, (local.number) = 3 }
}
resource "awscc_sagemaker_cluster" "c" {
  cluster_name = [local.escaped, local.joined, local.doc, local.keys]
}
'''))
    escaped, joined, doc, keys = document.data["resource"]["awscc_sagemaker_cluster"]["c"]["cluster_name"]
    assert escaped == 'tab\tquote" dollar ${aws:username} unicode \u00e9'
    assert joined == "4-true-1.5"
    assert doc == '{"a": "${b}"}\n  indented\n'
    assert isinstance(keys, Unresolved)  # a computed key: the whole object is unknown


def test_numbers_and_booleans_where_the_api_has_strings_are_converted(tmp_path):
    """Terraform converts a tag value of 1, true or 2.0 to the string the attribute holds."""
    path = configuration(tmp_path, 'resource "aws_sagemaker_cluster" "c" {\n  cluster_name = "ml"\n'
                                   '  tags = { tier = 1, public = false, weight = 2.0 }\n}\n')
    request = iac.requests(read(path), {})[1][0]
    assert request.data["Tags"] == [{"Key": "tier", "Value": "1"}, {"Key": "public", "Value": "false"},
                                    {"Key": "weight", "Value": "2"}]
    assert [f.rule for f in engine.run([(request, "create-cluster")]).findings] == ["PF127"]  # no groups, no type error


POLICIES = '''
resource "aws_iam_policy" "admin" {
  name   = "hyperpod-admin"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sagemaker:DescribeCluterNode"]
      Resource = "arn:aws:sagemaker:us-east-1:444455556666:cluster/$${aws:username}"
    }]
  })
}

resource "aws_iam_role_policy" "inline" {
  role   = aws_iam_role.admin.id
  policy = <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DeleteClusterNodes", "Resource": "*"}]}
EOF
}

resource "aws_iam_policy" "unknown" {
  policy = data.aws_iam_policy_document.admin.json
}
'''


def test_iam_policies_are_linted_at_their_attribute(tmp_path):
    path = configuration(tmp_path, POLICIES)
    document, findings = check(path)
    policies = iac.policies(document, {})
    assert len(policies) == 2  # the data source's document is known at apply time only
    assert policies[0].data["Statement"][0]["Resource"].endswith("cluster/${aws:username}")
    lines = path.read_text().splitlines()
    assert sorted((f.rule, lines[f.line - 1].strip()) for f in findings) == [
        ("PF306", "policy = <<EOF"), ("PF306", "policy = jsonencode({")], [(f.rule, f.line, f.message) for f in findings]


def test_malformed_hcl_is_a_finding_at_its_line(run_cli, tmp_path):
    path = configuration(tmp_path, 'resource "aws_sagemaker_cluster" "c" {\n  cluster_name = "ml"\n  tags = {\n}\n')
    result = run_cli("check", str(path))
    assert result.returncode == 1, result.stderr
    assert f"{path}:5:1: error PF001 not valid Terraform (HCL): the file ends inside" in result.stdout
    path.write_text('resource "aws_sagemaker_cluster" "c" {\n  cluster_name = @\n}\n')
    result = run_cli("check", str(path))
    assert f"{path}:2:18: error PF001 not valid Terraform (HCL): unexpected '@'" in result.stdout
    path.write_bytes(b'cluster_name = "\xff"\n')
    assert f"{path}:1:17: error PF001 not UTF-8 text" in run_cli("check", str(path)).stdout


REAL = sorted(TERRAFORM.rglob("*.tf")) + sorted((FIXTURES / "published" / "terraform").rglob("*.tf"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(REAL), cut=st.floats(0, 1), noise=st.binary(max_size=24))
def test_truncated_and_garbled_files_end_in_a_finding_or_a_clean_result(tmp_path_factory, source, cut, noise):
    raw = source.read_bytes()
    raw = raw[:int(len(raw) * cut)] + noise
    path = tmp_path_factory.mktemp("tf") / "main.tf"
    path.write_bytes(raw)
    document, findings = check(path)
    assert all(f.file == str(path) and f.line >= 1 for f in findings)
    if not document.parsed:
        assert [f.rule for f in findings if f.rule == "PF001"] == ["PF001"]


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes_end_in_a_finding_or_a_clean_result(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("tf") / "main.tf"
    path.write_bytes(raw)
    check(path)


def test_hostile_files_end_quickly_in_a_finding_or_a_clean_result(tmp_path):
    """Nesting beyond MAX_DEPTH is refused by a scan before the parse (which would take minutes and
    gigabytes on 100,000 levels); brackets in strings and comments do not count; a file beyond
    MAX_SOURCE_TOKENS is not parsed, and one that names no checked resource type is clean unread."""
    from preflight.iac.terraform_source import MAX_SOURCE_TOKENS

    deep = configuration(tmp_path, 'resource "awscc_sagemaker_cluster" "c" {\n  cluster_name = '
                         + "[" * 5_000 + "]" * 5_000 + "\n}\n")
    assert [(f.rule, f.message) for f in check(deep)[1]] == [
        ("PF001", "nested more than 64 levels deep, more than any request or policy; not read further")]
    shallow = configuration(tmp_path, 'locals {\n  a = "[[[[" # {{{{\n  /* ((((\n  */ b = [[1]]\n}\n' * 40, "s.tf")
    assert check(shallow)[1] == []
    large = configuration(tmp_path, "locals {\n" + "  a = [1, 2]\n" * (MAX_SOURCE_TOKENS // 7) + "}\n", "large.tf")
    assert check(large)[1] == []
    large.write_text(large.read_text() + 'resource "aws_sagemaker_cluster" "c" {}\n')
    assert [f.rule for f in check(large)[1]] == ["PF001"]
    comments = configuration(tmp_path, "# many words in one comment\n" * MAX_SOURCE_TOKENS, "comments.tf")
    assert check(comments)[1] == []  # a comment is one token: read


def test_an_empty_file_and_one_without_hyperpod_resources_are_clean(run_cli, tmp_path):
    assert run_cli("check", str(configuration(tmp_path, ""))).returncode == 0
    other = configuration(tmp_path, 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n', "s3.tf")
    assert run_cli("check", str(other)).returncode == 0


def test_the_terraform_hook_selects_tf_files_only():
    import re

    import yaml

    hook = next(hook for hook in yaml.safe_load((FIXTURES.parent / ".pre-commit-hooks.yaml").read_text())
                if hook["id"] == "preflight-terraform")
    assert re.search(hook["files"], "infra/hyperpod/main.tf")
    assert not re.search(hook["files"], "infra/hyperpod/main.tf.json")
    assert not re.search(hook["files"], "infra/terraform.tfvars")


TRAPS = '''resource "aws_sagemaker_cluster" "c" {
  # threads_per_core = 9 (a comment naming the attribute)
  cluster_name = "threads-per-core"
  instance_group {
    instance_group_name = "a"
    instance_type = "ml.c5.2xlarge"
    instance_count = 1
    execution_role = "arn:aws:iam::444455556666:role/R"
    lifecycle_config {
      on_create = <<-EOT
        threads_per_core = 9
      EOT
      source_s3_uri = "s3://sagemaker-lc/"
    }
    /* threads_per_core = 9
    */ threads_per_core = 3
  }
}
'''


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_finding_sits_on_its_attribute_whatever_surrounds_it(tmp_path, newline):
    path = tmp_path / "main.tf"
    path.write_bytes(TRAPS.replace("\n", newline).encode())
    _, findings = check(path)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PF104", 16, 8)]


def test_the_aws_providers_default_tags_are_sent_with_each_clusters_own(tmp_path):
    """As the plan's tags_all: the default provider's default_tags, the resource's tags winning;
    a cluster of an aliased provider gets none of them."""
    path = configuration(tmp_path, '''
provider "aws" {
  default_tags {
    tags = { team = "ml", owner = var.owner }
  }
}
provider "aws" {
  alias = "other"
  default_tags { tags = { cost = "x" } }
}
variable "owner" { default = "platform" }
resource "aws_sagemaker_cluster" "own" {
  cluster_name = "a"
  tags         = { team = "research" }
}
resource "aws_sagemaker_cluster" "none" { cluster_name = "b" }
resource "aws_sagemaker_cluster" "aliased" {
  provider     = aws.other
  cluster_name = "c"
}
''')
    tags = {request.data["ClusterName"]: request.data.get("Tags") for request, _ in iac.requests(read(path), {})[1:]}
    assert tags == {"a": [{"Key": "team", "Value": "research"}, {"Key": "owner", "Value": "platform"}],
                    "b": [{"Key": "team", "Value": "ml"}, {"Key": "owner", "Value": "platform"}], "c": None}


def test_a_comment_on_the_attributes_line_suppresses_its_finding(run_cli, tmp_path):
    path = configuration(tmp_path, TRAPS.replace("*/ threads_per_core = 3",
                                                 "*/ threads_per_core = 3  # preflight: ignore PF104 -- a test"))
    result = run_cli("check", "--format", "json", str(path))
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["findings"] == []
    assert [(f["rule"], f["line"]) for f in report["suppressed"]] == [("PF104", 16)]
