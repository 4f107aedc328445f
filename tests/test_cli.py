"""The installed ``preflight`` command, run as a user runs it: exit codes, formats, inputs."""

from __future__ import annotations

import json
import os

import pytest

from preflight.operations import OPERATIONS
from conftest import FIXTURES, ROOT

SEED = FIXTURES / "seed"
CORRECTED = sorted(str(p) for p in (SEED / "corrected").glob("*.json"))
AS_WRITTEN = sorted(str(p) for p in (SEED / "as-written").glob("*.json"))
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}


def test_corrected_seed_examples_pass(run_cli):
    result = run_cli("check", *CORRECTED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_seed_examples_as_written_fail_with_locations(run_cli):
    result = run_cli("check", *AS_WRITTEN)
    assert result.returncode == 1
    assert "02-customer-managed-key.create-cluster.json:19:25: error PF002" in result.stdout
    assert "06-add-instance-group.update-cluster.json:15:3: error PF001" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_json_format_is_complete(run_cli):
    result = run_cli("check", "--format", "json", AS_WRITTEN[1])
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["version"] == 1
    assert report["tool"]["schema"]["botocore"]
    assert report["summary"]["files"] == 1
    assert report["summary"]["error"] == sum(f["severity"] == "error" for f in report["findings"])
    for finding in report["findings"]:
        assert set(finding) == {"rule", "severity", "file", "path", "line", "column", "message", "fix"}
        assert finding["line"] >= 1 and finding["column"] >= 1
    literal = next(f for f in report["findings"] if f["rule"] == "PF002")
    assert (literal["line"], literal["column"]) == (19, 25)
    region = next(f for f in report["findings"] if f["rule"] == "PF111")
    assert region["path"] == "/InstanceGroups/ExecutionRole"


def test_sarif_format(run_cli):
    result = run_cli("check", "--format", "sarif", AS_WRITTEN[0])
    sarif = json.loads(result.stdout)
    results = sarif["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} == {r["ruleId"] for r in results}


def test_stdin_needs_operation(run_cli):
    request = '{"ClusterName": "ml-cluster"}'
    assert run_cli("check", "-", stdin=request).returncode == 2
    result = run_cli("check", "-", "--operation", "delete-cluster", stdin=request)
    assert result.returncode == 0, result.stderr


def test_file_uri_prefix(run_cli):
    assert run_cli("check", "file://" + CORRECTED[0]).returncode == 0


def test_operation_from_file_name_prefers_longest(run_cli, tmp_path):
    path = tmp_path / "prod.update-cluster-software.json"
    path.write_text('{"ClusterName": "ml-cluster", "ImageId": "default", "InstanceGroups": [{"InstanceGroupName": "w"}]}')
    assert run_cli("check", str(path)).returncode == 0


def test_unknown_operation_in_file_name_is_usage_error(run_cli, tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text('{"ClusterName": "ml-cluster"}')
    result = run_cli("check", str(path))
    assert result.returncode == 2
    assert "cluster.json" in result.stderr and "--operation" in result.stderr


def test_missing_file_is_usage_error(run_cli):
    result = run_cli("check", "--operation", "delete-cluster", "no-such-file.json")
    assert result.returncode == 2
    assert "no-such-file.json: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_usage_error(run_cli):
    assert run_cli("check", "--no-such-option", CORRECTED[0]).returncode == 2
    assert run_cli("check", "--operation", "create-clusters", CORRECTED[0]).returncode == 2


def test_fail_on_warning(run_cli, tmp_path):
    path = tmp_path / "r.delete-cluster.json"
    path.write_text('{"ClusterName": "c", "ClusterName": "c"}')
    assert run_cli("check", str(path)).returncode == 0
    assert run_cli("check", "--fail-on", "warning", str(path)).returncode == 1


def test_info_fails_only_with_fail_on_info(run_cli):
    path = str(SEED / "corrected" / "02-customer-managed-key.create-cluster.json")
    assert run_cli("check", path).returncode == 0
    assert run_cli("check", "--fail-on", "info", path).returncode == 1


def test_no_colour_when_piped_or_no_color(run_cli):
    result = run_cli("check", AS_WRITTEN[0], env=CLEAN_ENV)
    assert "\033[" not in result.stdout
    result = run_cli("check", AS_WRITTEN[0], env={**CLEAN_ENV, "NO_COLOR": "1"})
    assert "\033[" not in result.stdout


@pytest.mark.parametrize("content,name", [
    ("\x00\x01garbage", "bin.create-cluster.json"),
    ("{" * 50000, "deep.create-cluster.json"),
    ("[1, 2", "short.create-cluster.yaml"),
    ("- a\n- b: [\n", "bad.create-cluster.yml"),
    ("!!python/object:os.system ['true']", "unsafe.create-cluster.yaml"),
])
def test_broken_input_is_a_finding_not_a_traceback(run_cli, tmp_path, content, name):
    path = tmp_path / name
    path.write_text(content)
    result = run_cli("check", str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{path}:" in result.stdout


def test_not_utf8_is_a_finding_at_its_byte(run_cli, tmp_path):
    path = tmp_path / "latin.create-cluster.json"
    path.write_bytes(b'{"ClusterName": "caf\xe9"}')
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert f"{path}:1:21: error PF001 not UTF-8 text: byte 0xe9 at byte offset 20" in result.stdout


def test_rules_and_explain(run_cli):
    listing = run_cli("rules")
    assert listing.returncode == 0 and "PF002" in listing.stdout and "python-literal-in-json" in listing.stdout
    explained = run_cli("explain", "PF002")
    assert explained.returncode == 0 and "## Why is this bad?" in explained.stdout
    assert run_cli("explain", "python-literal-in-json").stdout == explained.stdout
    assert run_cli("explain", "PF999").returncode == 2


def test_version_names_the_schema_source(run_cli):
    result = run_cli("--version")
    assert result.returncode == 0 and "botocore" in result.stdout


def test_many_files_in_one_run(run_cli, tmp_path):
    paths = []
    for index in range(50):
        path = tmp_path / f"r{index}.delete-cluster.json"
        path.write_text('{"ClusterName": "c%d"}' % index if index != 17 else '{"ClusterName": "bad_name"}')
        paths.append(str(path))
    result = run_cli("check", "--format", "json", *paths)
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["summary"]["files"] == 50
    assert [f["file"] for f in report["findings"]] == [paths[17]]


def test_pre_commit_hook_definition(run_cli):
    import re
    import shlex

    import yaml

    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    command = shlex.split(hook["entry"])
    assert command[0] == "preflight"
    selected = [p for p in CORRECTED + AS_WRITTEN if re.search(hook["files"], p)]
    assert len(selected) == len(CORRECTED + AS_WRITTEN)
    assert run_cli(*command[1:], *CORRECTED).returncode == 0
    assert run_cli(*command[1:], *AS_WRITTEN).returncode == 1


POLICIES = FIXTURES / "policies"
DETAILS = str(POLICIES / "authorization-details.json")


def test_seed_policy_linted_alone(run_cli):
    result = run_cli("check", "--policy", str(POLICIES / "seed-administrator.json"))
    assert result.returncode == 1
    assert "seed-administrator.json:15:9: error PF306 sagemaker:DescribeCluterNode" in result.stdout
    assert "did you mean sagemaker:DescribeClusterNode?" in result.stdout


def test_seed_policy_against_corrected_request_names_both_places(run_cli):
    result = run_cli("check", "--format", "json", "--policy", str(POLICIES / "seed-administrator.json"), CORRECTED[0])
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["tool"]["iam_catalog"]["date"]
    passrole = next(f for f in report["findings"] if f["rule"] == "PF330")
    assert passrole["path"] == "/InstanceGroups/0/ExecutionRole" and passrole["file"] == CORRECTED[0]
    assert "instance group `workers` runs role arn:aws:iam::444455556666:role/HyperPodExecutionRole" in passrole["message"]
    assert "granted only on arn:aws:iam::111122223333:role/your-execution-role-name" in passrole["message"]
    assert "seed-administrator.json /Statement/0/Resource" in passrole["message"]


def test_corrected_policy_passes_every_corrected_request(run_cli):
    result = run_cli("check", "--policy", str(POLICIES / "corrected-administrator.json"), *CORRECTED)
    assert result.returncode == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_authorization_details_need_a_principal(run_cli):
    result = run_cli("check", "--policy", DETAILS, CORRECTED[0])
    assert result.returncode == 2 and "--principal" in result.stderr
    result = run_cli("check", "--policy", DETAILS, "--principal", "arn:aws:iam::444455556666:user/nobody", CORRECTED[0])
    assert result.returncode == 2 and "no user or role" in result.stderr


def test_principal_through_group_and_boundary(run_cli, tmp_path):
    admin = "arn:aws:iam::444455556666:user/platform-admin"
    assert run_cli("check", "--policy", DETAILS, "--principal", admin, *CORRECTED).returncode == 0
    delete = tmp_path / "x.delete-cluster.json"
    delete.write_text('{"ClusterName": "ml-cluster"}')
    result = run_cli("check", "--policy", DETAILS, "--principal", admin, str(delete))
    assert result.returncode == 1 and "PF331" in result.stdout and "boundary PlatformBoundary" in result.stdout
    intern = run_cli("check", "--policy", DETAILS, "--principal", "arn:aws:iam::444455556666:user/intern", CORRECTED[0])
    assert intern.returncode == 1 and "PF330" in intern.stdout


def test_nothing_to_check_is_usage_error(run_cli):
    assert run_cli("check").returncode == 2
    assert run_cli("check", "--principal", "arn:aws:iam::444455556666:user/x", CORRECTED[0]).returncode == 2


def _on_a_terminal(args: list[str], env: dict) -> str:
    import pty
    import subprocess

    from conftest import preflight_command

    leader, follower = pty.openpty()
    process = subprocess.Popen(preflight_command() + args, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color():
    coloured = _on_a_terminal(["check", AS_WRITTEN[0]], CLEAN_ENV)
    assert "\033[31merror\033[0m PF110" in coloured
    plain = _on_a_terminal(["check", AS_WRITTEN[0]], {**CLEAN_ENV, "NO_COLOR": "1"})
    assert "\033[" not in plain and "error PF110" in plain


def test_operation_option_contradicting_the_file_name_is_usage_error(run_cli, tmp_path):
    path = tmp_path / "x.create-cluster.json"
    path.write_text('{"ClusterName": "ml-cluster"}')
    result = run_cli("check", "--operation", "delete-cluster", str(path))
    assert result.returncode == 2
    assert "--operation delete-cluster contradicts the file name, which names create-cluster" in result.stderr
    assert "PF102" not in result.stdout


def test_operation_option_with_a_file_name_that_only_contains_another(run_cli, tmp_path):
    path = tmp_path / "x.delete-cluster-nodes.json"  # batch-delete-cluster-nodes, not delete-cluster
    path.write_text('{"ClusterName": "ml-cluster", "NodeIds": ["i-04486002ebdb59e0a"]}')
    result = run_cli("check", "--operation", "batch-delete-cluster-nodes", str(path))
    assert result.returncode == 0, result.stderr + result.stdout


def test_yaml_boolean_for_a_string_says_to_quote_it(run_cli, tmp_path):
    path = tmp_path / "x.delete-cluster.yaml"
    path.write_text("ClusterName: no\n")
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert "PF103" in result.stdout and "quote it" in result.stdout and "InstanceGroups" not in result.stdout


def test_yaml_policy_version_unquoted_says_to_quote_it(run_cli, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text('Version: 2012-10-17\nStatement:\n  - {Effect: Allow, Action: "sagemaker:ListClusters", Resource: "*"}\n')
    result = run_cli("check", "--policy", str(path))
    assert result.returncode == 0, result.stdout
    assert "warning PF302 Version 2012-10-17 is unquoted" in result.stdout and 'quote it: "2012-10-17"' in result.stdout
    assert "datetime" not in result.stdout


def test_every_pre_commit_hook_runs_on_what_it_selects(run_cli, tmp_path):
    import re
    import shlex

    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"preflight", "preflight-guardrails", "preflight-policies", "preflight-cloudformation",
                          "preflight-terraform"}
    requests = hooks["preflight"]  # the guardrails hook is the same hook with the extra (tests/test_pre_commit.py)
    own = ("id", "name", "description", "additional_dependencies")
    assert {k: v for k, v in requests.items() if k not in own} == {
        k: v for k, v in hooks["preflight-guardrails"].items() if k not in own}
    for operation in OPERATIONS:  # every operation, a bare name too, and never a JSON Schema
        for name in (f"{operation}.json", f"clusters/prod.{operation}.yaml", f"infra/{operation}-gpu.yml"):
            assert re.search(requests["files"], name) and not re.search(requests["exclude"], name), name
        assert re.search(requests["exclude"], f"schemas/{operation}.schema.json"), operation
    readme = (ROOT / "README.md").read_text()  # the README's local hook selects the same files
    assert f"files: '{requests['files']}'" in readme and f"exclude: '{requests['exclude']}'" in readme
    selected = {
        "preflight-policies": [str(FIXTURES / "policies" / "seed-administrator.json"), str(ROOT / "bench" / "inputs" / "admin-policy.json")],
        "preflight-cloudformation": [str(FIXTURES / "iac" / "stack.yaml"), str(FIXTURES / "iac" / "stack.json")],
        "preflight-terraform": [str(FIXTURES / "iac" / "terraform" / "awscc" / name) for name in ("main.tf", "variables.tf")],
    }
    for hook_id, paths in selected.items():
        hook = hooks[hook_id]
        assert all(re.search(hook["files"], path) for path in paths), hook_id
        result = run_cli(*shlex.split(hook["entry"])[1:], *paths)
        assert result.returncode == 1 and "Traceback" not in result.stderr, (hook_id, result.stderr)
        assert all(path in result.stdout for path in paths[:1]), (hook_id, result.stdout)
