"""Requests written as aws command lines, read where users keep them (scripts, Markdown, CI
workflows, folders) and given to the drop-in gate, walked through the installed CLI as a user
runs it; the gate against the embedded AWS."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import yaml

from conftest import FIXTURES

GUIDE = FIXTURES / "commandline"
CREATE = """aws sagemaker create-cluster \\
  --cluster-name {name} \\
  --instance-groups 'InstanceGroupName=workers,InstanceType=ml.c5.2xlarge,InstanceCount=1,LifeCycleConfig={{SourceS3Uri=s3://sagemaker-hyperpod-lifecycle-444455556666/,OnCreate=on_create_noop.sh}},ExecutionRole=arn:aws:iam::444455556666:role/HyperPodExecutionRole'
"""


def findings(result) -> list[tuple[int, str]]:
    return [(f["line"], f["rule"]) for f in json.loads(result.stdout)["findings"]]


def test_a_scripts_commands_are_read_at_their_lines_and_its_describe_is_skipped(run_cli, tmp_path):
    script = tmp_path / "deploy.sh"
    script.write_text("#!/bin/bash\nset -e\nNAME=ml-cluster\n"
                      'aws sagemaker describe-cluster --cluster-name "$NAME"\n'
                      + CREATE.format(name='"$NAME"') +
                      'aws sagemaker delete-cluster --cluster-nmae "$NAME"\n'
                      'aws s3 cp x s3://y/\n')
    result = run_cli("check", "--format", "json", str(script))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [(c["line"], c["end_line"], c["operation"], c["status"].split(":")[0]) for c in report["commands"]] == [
        (4, 4, "describe-cluster", "skipped"), (5, 7, "create-cluster", "request"), (8, 8, "delete-cluster", "request"),
        (9, 9, "cp", "skipped")]
    errors = [(f["line"], f["column"], f["rule"]) for f in report["findings"] if f["severity"] == "error"]
    assert (8, 30, "PF021") in errors  # --cluster-nmae, where it is written
    assert all(line == 8 for line, _, _ in errors), errors  # the create is valid


def test_a_value_in_the_command_line_is_found_at_its_character(run_cli, tmp_path):
    script = tmp_path / "scale.sh"
    script.write_text("aws sagemaker update-cluster --cluster-name ml \\\n"
                      "  --instance-groups '[{\"InstanceGroupName\": \"w\", \"InstanceType\": \"ml.c5.2xlarge\", "
                      "\"InstanceCount\": -1, \"LifeCycleConfig\": {\"SourceS3Uri\": \"s3://sagemaker-b/\", "
                      "\"OnCreate\": \"a.sh\"}, \"ExecutionRole\": \"arn:aws:iam::444455556666:role/R\"}]'\n")
    report = json.loads(run_cli("check", "--format", "json", str(script)).stdout)
    (count,) = [f for f in report["findings"] if f["path"] == "/InstanceGroups/0/InstanceCount"]
    line = script.read_text().splitlines()[1]
    assert count["line"] == 2 and line[count["column"] - 1:].startswith('"InstanceCount": -1')  # a member: at its key


def test_unknown_values_are_never_errors_and_var_gives_them(run_cli, tmp_path):
    script = tmp_path / "delete.sh"
    script.write_text('aws sagemaker delete-cluster --cluster-name "$CLUSTER_NAME"\n')
    unknown = run_cli("check", "--format", "json", str(script))
    assert unknown.returncode == 0 and findings(unknown) == [(1, "PF022")]
    assert "$CLUSTER_NAME" in json.loads(unknown.stdout)["findings"][0]["message"]
    given = run_cli("check", "--format", "json", "--var", "CLUSTER_NAME=not a name!", str(script))
    assert given.returncode == 1 and (1, "PF103") in findings(given) or any(
        rule.startswith("PF1") for _, rule in findings(given)), given.stdout


def test_file_arguments_resolve_beside_the_script(run_cli, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "groups.json").write_text(json.dumps([{
        "InstanceGroupName": "w", "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1,
        "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-b/", "OnCreate": "a.sh"},
        "ExecutionRole": "arn:aws:iam::444455556666:role/R", "ThreadsPerCore": 3}]))
    script = tmp_path / "create.sh"
    script.write_text('cd "$(dirname "$0")"\naws sagemaker create-cluster --cluster-name ml '
                      "--instance-groups file://config/groups.json --missing-file file://nowhere.json\n")
    result = run_cli("check", "--format", "json", str(script), cwd=str(FIXTURES))  # not the script's folder
    rules = [rule for _, rule in findings(result)]
    assert "PF021" in rules  # the unknown option
    assert any(f["path"] == "/InstanceGroups/0/ThreadsPerCore" for f in json.loads(result.stdout)["findings"])


def test_markdown_and_workflow_commands_are_read(run_cli, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Cluster\n\nCreate it:\n\n```console\n$ " + CREATE.format(name="ml") +
                      "{\n  \"ClusterArn\": \"arn\"\n}\n```\n\nThen `aws sagemaker delete-cluster --cluster-name x`.\n")
    workflow = tmp_path / ".github" / "workflows" / "deploy.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: |\n          aws sagemaker delete-cluster --cluster-nme ml\n")
    result = run_cli("check", "--format", "json", str(readme), str(workflow))
    report = json.loads(result.stdout)
    assert [(c["file"].rpartition("/")[2], c["line"], c["operation"]) for c in report["commands"]] == [
        ("README.md", 6, "create-cluster"), ("deploy.yml", 7, "delete-cluster")]
    assert findings(result) == [(7, "PF021")]


def test_the_guides_command_lines_as_written_and_corrected(run_cli):
    written = run_cli("check", "--format", "json", str(GUIDE / "guide-as-written.sh"))
    assert written.returncode == 1
    report = json.loads(written.stdout)
    cli_refusals = [(f["line"], f["message"]) for f in report["findings"] if f["rule"] == "PF021"]
    # Python's True in two --instance-groups JSON values; a bare group name where the update takes structures.
    assert [line for line, _ in cli_refusals] == [16, 20, 27]
    assert "True" in cli_refusals[0][1] and "=" in cli_refusals[1][1]
    # Each command is caught as its --cli-input-json form is (fixtures/cases/seed), where the command
    # line is a mistake too: Python's True is refused by the CLI (PF021, not PF002); one group
    # object, or two groups as two words, are a list to the CLI (the JSON form's PF103 and PF001
    # are no mistakes here); a bare group name where update-cluster-software takes structures is a
    # mistake only the command line has.
    starts = [c["line"] for c in report["commands"]] + [10**6]
    by_command = [Counter(f["rule"] for f in report["findings"] if start <= f["line"] < end)
                  for start, end in zip(starts, starts[1:])]
    cases = ["01-standard", "02-customer-managed-key", "03-update-cluster-software", "04-scale-up",
             "05-scale-up-customer-managed-key", "06-add-instance-group"]
    for found, case in zip(by_command, cases):
        expected = Counter(yaml.safe_load((FIXTURES / "cases" / "seed" / f"{case}-as-written.yaml").read_text())["expect"])
        expected = Counter({rule: n for rule, n in expected.items() if rule not in ("PF001", "PF002", "PF103")})
        cli_only = {"02-customer-managed-key": {"PF021": 1}, "05-scale-up-customer-managed-key": {"PF021": 1},
                    "03-update-cluster-software": {"PF021": 1}}.get(case, {})
        if case == "03-update-cluster-software":  # the refused group name is not read, so not a placeholder
            expected -= Counter({"PF110": 1})
        if case == "06-add-instance-group":  # unreadable as one JSON file; read whole here: its 9 placeholders
            expected = Counter({"PF110": 9, "PF124": 2})  # (two groups' name, bucket, role, image; the cluster's name)
        assert found == expected + Counter(cli_only), case
    corrected = run_cli("check", str(GUIDE / "guide-corrected.sh"))
    assert corrected.returncode == 0, corrected.stdout
    assert "6 aws command lines read: 6 requests checked" in corrected.stdout


def test_a_script_named_after_its_operation_is_read_as_a_script(run_cli, tmp_path):
    # haozhx23/eks-smhp-241125 4_create_cluster.sh was parsed as a JSON request: a false PF001
    (tmp_path / "4_create_cluster.sh").write_text("\naws sagemaker create-cluster \\\n"
                                                  "    --cli-input-json file://$CLUSTER_CONF_NAME\n")
    (tmp_path / "delete-cluster.md").write_text("```bash\naws sagemaker delete-cluster --cluster-name ml\n```\n")
    for name in ("4_create_cluster.sh", "delete-cluster.md", "."):
        result = run_cli("check", "--format", "json", name, cwd=str(tmp_path))
        assert result.returncode == 0 and "PF001" not in {rule for _, rule in findings(result)}, result.stdout
        assert json.loads(result.stdout)["commands"], name


def test_a_folder_is_walked_by_name_and_content_as_git_sees_it(run_cli, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "delete.sh").write_text("aws sagemaker delete-cluster --cluster-nme x\n")  # ignored
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "delete.sh").write_text("aws sagemaker delete-cluster --cluster-nme x\n")  # excluded
    (tmp_path / ".preflight.toml").write_text('exclude = ["vendor/*"]\n')
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "prod.delete-cluster.json").write_text('{"ClusterName": "bad name"}')
    (tmp_path / "ops" / "notes.md").write_text("No commands here.\n")
    (tmp_path / "ops" / "package.json").write_text('{"name": "x"}')
    (tmp_path / "ops" / "create-cluster.schema.json").write_text('{"type": "object"}')
    (tmp_path / "ops" / "teardown.sh").write_text("aws sagemaker delete-cluster --cluster-name ok-name\n")
    result = run_cli("check", "--format", "json", ".", cwd=str(tmp_path))
    report = json.loads(result.stdout)
    assert sorted(report_file.removeprefix("./") for report_file in _files(report)) == [
        "ops/prod.delete-cluster.json", "ops/teardown.sh"]
    assert result.returncode == 1 and {f["file"].removeprefix("./") for f in report["findings"]} == {
        "ops/prod.delete-cluster.json"}


def _files(report) -> set[str]:
    return {f["file"] for f in report["findings"]} | {c["file"] for c in report.get("commands", [])}


def test_the_gate_blocks_a_command_line_the_cli_refuses_and_sends_nothing(run_cli, local_aws):
    result = run_cli("aws", "sagemaker", "delete-cluster", "--cluster-nmae", "ml-cluster", env=local_aws.env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "command line:1:" in result.stdout and "PF021" in result.stdout
    names = [c["ClusterName"] for c in local_aws.client("sagemaker").list_clusters()["ClusterSummaries"]]
    assert "ml-cluster" in names


def test_the_gate_sends_a_command_line_that_passes(run_cli, local_aws):
    words = ["aws", "--region", "us-east-1", "sagemaker", "create-cluster", "--cluster-name", "gated",
             "--instance-groups", "InstanceGroupName=workers,InstanceType=ml.c5.2xlarge,InstanceCount=1,"
             "LifeCycleConfig={SourceS3Uri=s3://sagemaker-hyperpod-lifecycle-444455556666/,OnCreate=on_create_noop.sh},"
             "ExecutionRole=arn:aws:iam::444455556666:role/HyperPodExecutionRole", "--output", "json"]
    dry = run_cli(words[0], "--dry-run", *words[1:], env=local_aws.env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    # the region as the AWS CLI also takes it: after `=`, by a prefix
    for region in (["--region=us-east-1"], ["--reg", "us-east-1"]):
        shortened = run_cli("aws", "--dry-run", *region, *words[3:], env=local_aws.env)
        assert shortened.returncode == 0, shortened.stdout + shortened.stderr
    assert "gated" not in _cluster_names(local_aws)
    sent = run_cli(*words, env=local_aws.env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "create-cluster sent" in sent.stdout
    group = local_aws.client("sagemaker").describe_cluster(ClusterName="gated")["InstanceGroups"][0]
    assert (group["InstanceGroupName"], group["CurrentCount"] >= 0) == ("workers", True)


def test_the_gate_refuses_what_it_does_not_gate(run_cli):
    result = run_cli("aws", "sagemaker", "describe-cluster", "--cluster-name", "x")
    assert result.returncode == 2 and "run anything else with aws itself" in result.stderr + result.stdout


def _cluster_names(local_aws) -> set[str]:
    return {c["ClusterName"] for c in local_aws.client("sagemaker").list_clusters()["ClusterSummaries"]}


def test_a_scripts_commands_are_checked_live_in_the_region_they_name(run_cli, local_aws, tmp_path):
    script = tmp_path / "ops.sh"
    script.write_text("aws sagemaker delete-cluster --cluster-name no-such-cluster\n"
                      "aws --region eu-west-1 sagemaker delete-cluster --cluster-name elsewhere\n"
                      "aws --output=json --reg=eu-west-1 sagemaker --debug delete-cluster --cluster-name elsewhere\n")
    result = run_cli("check", "--live", "--format", "json", str(script), env=local_aws.env)
    found = findings(result)
    assert (1, "PF450") in found  # looked up, and missing
    for line in (2, 3):  # global options as argparse reads them: `=value` and prefixes too
        assert (line, "PF402") in found and not any(at == line and rule == "PF450" for at, rule in found)


def test_a_file_an_earlier_block_writes_is_read_as_written(run_cli, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("""# Setup

```bash
export ROLE=arn:aws:iam::444455556666:role/HyperPodExecutionRole
cat > cluster-config.json << EOL
[{"InstanceGroupName": "workers", "InstanceType": "ml.c5.2xlarge", "InstanceCount": 1,
  "LifeCycleConfig": {"SourceS3Uri": "s3://${BUCKET}/lc/", "OnCreate": "on_create.sh"},
  "ExecutionRole": "${ROLE}", "ThreadsPerCore": 3}]
EOL
```

Then create the cluster:

```bash
aws sagemaker create-cluster --cluster-name ml-cluster --instance-groups file://cluster-config.json \\
  --vpc-config file://vpc-config.json
```
""")
    report = json.loads(run_cli("check", "--format", "json", str(readme)).stdout)
    located = {(f["rule"], f["path"], f["line"]) for f in report["findings"]}
    assert ("PF102", "/InstanceGroups/0/ThreadsPerCore", 8) in located or any(
        path == "/InstanceGroups/0/ThreadsPerCore" and line == 8 for _, path, line in located), located  # in the heredoc
    assert ("PF023", "", 16) in {(rule, path, line) for rule, path, line in located}  # vpc-config.json: nobody writes it
    assert not [f for f in report["findings"] if f["severity"] == "error" and f["rule"] not in ("PF102",)
                and f["path"] != "/InstanceGroups/0/ThreadsPerCore"], report["findings"]
