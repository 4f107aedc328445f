"""The project configuration, through the real command in a fresh directory."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from preflight.registry import all_rules

# PF124's own severity (the tests below change it only through the configuration).
PF124 = str(all_rules()["PF124"].severity)
CLEAN = json.loads((FIXTURES / "seed/corrected/01-standard.create-cluster.json").read_text())


def request(**changes) -> str:
    """The clean request with members replaced; a bucket outside sagemaker-* gives PF124 (warning),
    a <placeholder> gives PF110 (error)."""
    data = json.loads(json.dumps(CLEAN))
    for key, value in changes.items():
        if key == "bucket":
            data["InstanceGroups"][0]["LifeCycleConfig"]["SourceS3Uri"] = f"s3://{value}/"
        else:
            data[key] = value
    return json.dumps(data, indent=2)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters/a.create-cluster.json").write_text(request(bucket="team-bucket"))
    (tmp_path / "clusters/b.create-cluster.json").write_text(request(ClusterName="<name>"))
    return tmp_path


def rules_found(result) -> list[tuple[str, str, str]]:
    return [(f["file"].rpartition("/")[2], f["rule"], f["severity"]) for f in json.loads(result.stdout)["findings"]]


def test_no_configuration_reports_every_rule_at_its_own_severity(run_cli, repo):
    result = run_cli("check", "-f", "json", "clusters/a.create-cluster.json", "clusters/b.create-cluster.json", cwd=repo)
    assert result.returncode == 1
    assert rules_found(result) == [("a.create-cluster.json", "PF124", PF124),
                                   ("b.create-cluster.json", "PF110", "error")]


def test_pyproject_section_found_from_a_subdirectory(run_cli, repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.preflight]\nignore = ["PF110"]\n'
                                         'fail-on = "info"\n')
    result = run_cli("check", "-f", "json", "a.create-cluster.json", "b.create-cluster.json", cwd=repo / "clusters")
    assert rules_found(result) == [("a.create-cluster.json", "PF124", PF124)]
    assert result.returncode == 1  # fail-on = "info" from the file
    assert run_cli("check", "--fail-on", "error", "a.create-cluster.json", cwd=repo / "clusters").returncode == 0


def test_pyproject_without_the_section_is_passed_over_for_one_above(run_cli, repo):
    (repo / ".preflight.toml").write_text('ignore = ["lifecycle-bucket-outside-managed-policy"]\n')
    (repo / "clusters/pyproject.toml").write_text('[project]\nname = "x"\n')
    result = run_cli("check", "-f", "json", "a.create-cluster.json", cwd=repo / "clusters")
    assert rules_found(result) == [] and result.returncode == 0


@pytest.mark.parametrize("settings, expected", [
    ('select = ["PF11"]', [("b.create-cluster.json", "PF110", "error")]),
    ('ignore = ["PF11"]', [("a.create-cluster.json", "PF124", PF124)]),
    ('select = ["PF12"]\n[severity]\nPF124 = "error"', [("a.create-cluster.json", "PF124", "error")]),
    ('[severity]\nPF1 = "info"\nPF110 = "warning"', [("a.create-cluster.json", "PF124", "info"),
                                                      ("b.create-cluster.json", "PF110", "warning")]),
    ('[per-file-ignores]\n"clusters/b.*" = ["PF110"]', [("a.create-cluster.json", "PF124", PF124)]),
    ('[per-file-ignores]\n"a.*.json" = ["ALL"]', [("b.create-cluster.json", "PF110", "error")]),
])
def test_selection_and_severity(run_cli, repo, settings, expected):
    (repo / ".preflight.toml").write_text(settings + "\n")
    result = run_cli("check", "-f", "json", "clusters/a.create-cluster.json", "clusters/b.create-cluster.json", cwd=repo)
    assert rules_found(result) == expected


def test_config_option_and_isolated(run_cli, repo):
    (repo / ".preflight.toml").write_text('ignore = ["ALL"]\n')
    (repo / "strict.toml").write_text('ignore = ["PF110"]\n')
    files = ("clusters/a.create-cluster.json", "clusters/b.create-cluster.json")
    assert rules_found(run_cli("check", "-f", "json", *files, cwd=repo)) == []
    assert [r for _, r, _ in rules_found(run_cli("check", "-f", "json", "--config", "strict.toml", *files, cwd=repo))] == ["PF124"]
    assert [r for _, r, _ in rules_found(run_cli("check", "-f", "json", "--isolated", *files, cwd=repo))] == ["PF124", "PF110"]


def test_operation_by_glob_for_files_whose_names_do_not_say_it(run_cli, repo):
    (repo / "clusters/prod.json").write_text(request(ClusterName="<name>"))
    assert run_cli("check", "clusters/prod.json", cwd=repo).returncode == 2
    (repo / ".preflight.toml").write_text('[operations]\n"clusters/prod*.json" = "create-cluster"\n')
    result = run_cli("check", "-f", "json", "clusters/prod.json", cwd=repo)
    assert rules_found(result) == [("prod.json", "PF110", "error")]


def test_placeholder_patterns_extend_the_detector(run_cli, repo):
    (repo / "clusters/c.create-cluster.json").write_text(request(ClusterName="fillin-cluster"))
    assert rules_found(run_cli("check", "-f", "json", "clusters/c.create-cluster.json", cwd=repo)) == []
    (repo / ".preflight.toml").write_text('placeholder-patterns = ["fillin"]\n')
    assert rules_found(run_cli("check", "-f", "json", "clusters/c.create-cluster.json", cwd=repo)) == [
        ("c.create-cluster.json", "PF110", "error")]


@pytest.mark.parametrize("text, named", [
    ('selct = ["PF1"]', "selct: unknown key"),
    ('select = ["PF9"]', "select: 'PF9' matches no rule"),
    ('select = "PF1"', "select: expected a list of strings"),
    ('fail-on = "fatal"', "fail-on: 'fatal' is not one of error, warning, info"),
    ('region = "mars"', "region: 'mars' is not a region name"),
    ('placeholder-patterns = ["("]', "placeholder-patterns: '(' is not a regular expression"),
    ('[operations]\n"x*" = "create"', "operations.'x*': 'create' is not one of"),
    ('[severity]\nPF110 = "fatal"', "severity.PF110: 'fatal' is not one of"),
    ('[[suppress]]\nrule = "PF110"', "suppress[0].reason: required"),
    ('[[suppress]]\nrule = "PF110"\nreason = "x"\nexpires = "2027-01-01"', "suppress[0].expires: expected a date"),
    ('ignore = [', "invalid TOML"),
])
def test_bad_configuration_is_a_usage_error_naming_the_key(run_cli, repo, text, named):
    (repo / ".preflight.toml").write_text(text + "\n")
    for command in (("check", "clusters/a.create-cluster.json"), ("config",)):
        result = run_cli(*command, cwd=repo)
        assert result.returncode == 2, result.stderr
        assert ".preflight.toml" in result.stderr and named in result.stderr, result.stderr


def test_a_section_that_is_not_a_table_is_a_usage_error(run_cli, repo):
    (repo / "settings.toml").write_text("[tool]\npreflight = 3\n")
    result = run_cli("check", "--config", "settings.toml", "clusters/a.create-cluster.json", cwd=repo)
    assert result.returncode == 2 and "settings.toml: [tool.preflight]: expected a table" in result.stderr


def test_missing_config_file_is_a_usage_error(run_cli, repo):
    result = run_cli("check", "--config", "nope.toml", "clusters/a.create-cluster.json", cwd=repo)
    assert result.returncode == 2 and "nope.toml: no such configuration file" in result.stderr


def test_config_command_says_where_each_value_comes_from(run_cli, repo):
    (repo / "pyproject.toml").write_text('[tool.preflight]\nfail-on = "warning"\n[tool.preflight.severity]\nPF124 = "error"\n')
    result = run_cli("config", cwd=repo / "clusters")
    assert result.returncode == 0
    source = str(repo / "pyproject.toml")
    lines = result.stdout.splitlines()
    assert lines[0] == f"# configuration: {source}"
    assert f'fail-on = "warning"  # from {source}' in lines
    assert 'select = ["ALL"]  # default' in lines
    assert f"[severity]  # from {source}" in lines and '"PF124" = "error"' in lines
    assert run_cli("config", "--isolated", cwd=repo).stdout.splitlines()[0] == "# configuration: none found (defaults)"


def test_rules_and_explain_show_what_the_configuration_runs(run_cli, repo):
    pytest.importorskip("celpy", reason="guardrails need the guardrails extra")
    (repo / ".preflight.toml").write_text(
        'ignore = ["PF124"]\nseverity = {PF3 = "warning", PF306 = "info"}\n'
        '[[guardrail]]\nid = "ORG001"\nmessage = "instance types must be on the approved list"\n'
        'condition = \'request.InstanceGroups.all(g, g.InstanceType in ["ml.c5.2xlarge"])\'\n')
    listing = {line.split()[0]: line.split()[1:3] for line in run_cli("rules", cwd=repo).stdout.splitlines()}
    assert listing["PF124"][1] == "off" and listing["PF306"][1] == "info" and listing["PF305"][1] == "warning"
    assert listing["PF001"][1] == str(all_rules()["PF001"].severity)
    assert listing["ORG001"] == ["org001", "error"]
    explained = run_cli("explain", "ORG001", cwd=repo)
    assert explained.returncode == 0 and "Condition (CEL): request.InstanceGroups.all" in explained.stdout
    assert explained.stdout.startswith("ORG001 org001 (error; create-cluster, update-cluster)")
    overridden = run_cli("explain", "PF306", cwd=repo).stdout.splitlines()[0]
    assert overridden.startswith(f"PF306 unknown-action (error, info in {repo / '.preflight.toml'};")
    isolated = run_cli("rules", "--isolated", cwd=repo).stdout
    assert "ORG001" not in isolated and " off " not in isolated
    assert run_cli("explain", "ORG001", "--isolated", cwd=repo).returncode == 2


def test_readme_example_is_a_valid_configuration():
    import re
    import tomllib

    from conftest import ROOT
    from preflight import config

    readme = (ROOT / "README.md").read_text()
    example = re.search(r"^## Configuration.*?```toml\n(.*?)```", readme, re.S | re.M).group(1)
    settings = config.parse(tomllib.loads(example)["tool"]["preflight"], "README.md", ("tool", "preflight"))
    assert settings.operation_for("clusters/prod/x.json") == "create-cluster"
    assert not settings.enabled(config.RuleRef("PF003", "duplicate-key"), "a.json")
