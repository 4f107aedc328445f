"""Suppressions with reasons and the baseline, through the real command in a fresh repository."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES

CLEAN = json.loads((FIXTURES / "seed/corrected/01-standard.create-cluster.json").read_text())

PYPROJECT = '''[project]
name = "clusters"

[tool.preflight]
fail-on = "warning"

[[tool.preflight.suppress]]
rule = "PF124"
file = "clusters/train.*"
pointer = "/InstanceGroups/*/LifeCycleConfig/SourceS3Uri"
reason = "the bucket policy grants the execution role"

[[tool.preflight.suppress]]
rule = "lifecycle-bucket-outside-managed-policy"
file = "clusters/gone.*"
reason = "the file was removed"

[tool.preflight.severity]
PF124 = "warning"  # pinned: these tests count warnings
'''


def request(name="ml-cluster", bucket="sagemaker-lifecycle") -> dict:
    data = json.loads(json.dumps(CLEAN))
    data["ClusterName"] = name
    data["InstanceGroups"][0]["LifeCycleConfig"]["SourceS3Uri"] = f"s3://{bucket}/"
    return data


def yaml_text(data: dict, comment: str = "") -> str:
    """The request as YAML, with ``comment`` at the end of the ClusterName line."""
    import yaml

    lines = yaml.safe_dump(data, sort_keys=False).splitlines()
    return "\n".join(line + (f"  {comment}" if comment and line.startswith("ClusterName:") else "")
                     for line in lines) + "\n"


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    clusters = tmp_path / "clusters"
    clusters.mkdir()
    # PF124 (warning), suppressed by the configuration.
    (clusters / "train.create-cluster.json").write_text(json.dumps(request(bucket="team-bucket"), indent=2))
    # PF110 (error) suppressed inline; PF124 not suppressed here.
    (clusters / "infer.create-cluster.yaml").write_text(
        yaml_text(request(name="<name>", bucket="infer-bucket"), "# preflight: ignore PF110 -- named at deploy time"))
    return tmp_path


FILES = ("clusters/infer.create-cluster.yaml", "clusters/train.create-cluster.json")


def found(result) -> list[tuple]:
    return [(f["file"], f["rule"], f["severity"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_suppressed_findings_are_kept_aside_with_their_reasons(run_cli, repo):
    result = run_cli("check", "-f", "json", *FILES, cwd=repo)
    assert result.returncode == 1, result.stderr  # the PF124 in infer and the unused entry (fail-on warning)
    report = json.loads(result.stdout)
    assert found(result) == [
        ("clusters/infer.create-cluster.yaml", "PF124", "warning", 11),
        ("pyproject.toml", "PF500", "warning", 13),
    ]
    assert [(s["file"], s["rule"], s["line"], s["suppression"]) for s in report["suppressed"]] == [
        ("clusters/infer.create-cluster.yaml", "PF110", 1,
         {"kind": "inline", "reason": "named at deploy time", "source": "clusters/infer.create-cluster.yaml:1"}),
        ("clusters/train.create-cluster.json", "PF124", 15,
         {"kind": "config", "reason": "the bucket policy grants the execution role",
          "source": "pyproject.toml [[suppress]] #1"}),
    ]
    assert report["summary"] == {"files": 2, "error": 0, "warning": 2, "info": 0, "suppressed": 2}


def test_suppressed_findings_never_fail_the_run(run_cli, repo):
    (repo / "pyproject.toml").write_text(PYPROJECT.split("[[tool.preflight.suppress]]\nrule = \"lifecycle")[0])
    result = run_cli("check", "clusters/train.create-cluster.json", cwd=repo)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "1 file checked: 0 errors, 0 warnings, 0 info; 1 suppressed\n"


def test_text_summary_counts_the_suppressed(run_cli, repo):
    result = run_cli("check", *FILES, cwd=repo)
    assert result.stdout.splitlines()[-1] == "2 files checked: 0 errors, 2 warnings, 0 info; 2 suppressed"
    assert ("pyproject.toml:13:1: warning PF500 [[suppress]] #2 (lifecycle-bucket-outside-managed-policy in "
            "clusters/gone.* at *) matched no finding") in result.stdout


def test_sarif_records_each_suppression_with_its_kind(run_cli, repo):
    result = run_cli("check", "-f", "sarif", *FILES, cwd=repo)
    results = json.loads(result.stdout)["runs"][0]["results"]
    by_rule = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r.get("suppressions")
               for r in results}
    assert by_rule == {
        ("PF110", "clusters/infer.create-cluster.yaml"): [{"kind": "inSource", "justification": "named at deploy time"}],
        ("PF124", "clusters/infer.create-cluster.yaml"): None,
        ("PF124", "clusters/train.create-cluster.json"): [
            {"kind": "external", "justification": "the bucket policy grants the execution role"}],
        ("PF500", "pyproject.toml"): None,
    }


def test_expired_suppression_stops_applying_and_says_so(run_cli, repo):
    (repo / "pyproject.toml").write_text(PYPROJECT.replace(
        'reason = "the bucket policy grants the execution role"',
        'reason = "the bucket policy grants the execution role"\nexpires = 2020-01-31'))
    result = run_cli("check", "-f", "json", "clusters/train.create-cluster.json", cwd=repo)
    assert [(rule, line) for _, rule, _, line in found(result)] == [("PF124", 15), ("PF501", 7), ("PF500", 14)]
    assert "expired on 2020-01-31" in result.stdout


def test_inline_comment_without_reason_suppresses_nothing(run_cli, repo):
    (repo / "clusters/infer.create-cluster.yaml").write_text(
        yaml_text(request(name="<name>"), "# preflight: ignore PF110"))
    result = run_cli("check", "-f", "json", "clusters/infer.create-cluster.yaml", cwd=repo)
    # the entry for train.* is not judged (that file is not in this run); the one for gone.* is (no such file)
    assert [(rule, line) for _, rule, _, line in found(result)] == [("PF110", 1), ("PF502", 1), ("PF500", 13)]
    assert json.loads(result.stdout)["suppressed"] == []


def test_inline_comment_for_another_rule_is_unused(run_cli, repo):
    (repo / "clusters/infer.create-cluster.yaml").write_text(
        yaml_text(request(name="<name>"), "# preflight: ignore PF124 -- wrong line"))
    result = run_cli("check", "-f", "json", "--isolated", "clusters/infer.create-cluster.yaml", cwd=repo)
    assert [(rule, line) for _, rule, _, line in found(result)] == [("PF110", 1), ("PF500", 1)]


def test_selection_applies_to_what_suppressions_report(run_cli, repo):
    (repo / "pyproject.toml").write_text(PYPROJECT.replace('fail-on = "warning"', 'ignore = ["PF500"]'))
    result = run_cli("check", "-f", "json", *FILES, cwd=repo)
    assert [rule for _, rule, _, _ in found(result)] == ["PF124"]


def test_baseline_fails_only_on_new_findings_and_survives_moved_lines(run_cli, repo):
    written = run_cli("check", "--write-baseline", "baseline.json", *FILES, cwd=repo)
    assert written.returncode == 0, written.stdout + written.stderr
    assert written.stdout.splitlines()[-1] == "baseline baseline.json: 2 known findings remain, 0 new; 0 entries gone"
    entries = json.loads((repo / "baseline.json").read_text())["findings"]
    assert sorted((e["rule"], e["file"]) for e in entries) == [
        ("PF124", "clusters/infer.create-cluster.yaml"), ("PF500", "pyproject.toml")]
    # The infer request moves down five lines (same values); train gets a new finding; the unused
    # suppression is removed, so its baseline entry is gone.
    moved = "# moved\n" * 5 + (repo / "clusters/infer.create-cluster.yaml").read_text()
    (repo / "clusters/infer.create-cluster.yaml").write_text(moved)
    (repo / "clusters/train.create-cluster.json").write_text(
        json.dumps(request(name="<new>", bucket="team-bucket"), indent=2))
    (repo / "pyproject.toml").write_text(PYPROJECT.split("[[tool.preflight.suppress]]\nrule = \"lifecycle")[0])
    result = run_cli("check", "-f", "json", "--baseline", "baseline.json", *FILES, cwd=repo)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert found(result) == [("clusters/train.create-cluster.json", "PF110", "error", 2)]
    assert report["baseline"]["known"] == 1 and report["baseline"]["new"] == 1
    assert [(e["rule"], e["file"]) for e in report["baseline"]["gone"]] == [("PF500", "pyproject.toml")]
    baseline_suppressed = [s for s in report["suppressed"] if s["suppression"]["kind"] == "baseline"]
    assert [(s["rule"], s["line"]) for s in baseline_suppressed] == [("PF124", 16)]
    text = run_cli("check", "--baseline", "baseline.json", *FILES, cwd=repo)
    assert text.stdout.splitlines()[-3:] == [
        "2 files checked: 1 error, 0 warnings, 0 info; 3 suppressed",
        "baseline baseline.json: 1 known finding remain, 1 new; 1 entry gone",
        "  gone: PF500 pyproject.toml / [[suppress]] #2 (lifecycle-bucket-outside-managed-policy in clusters/gone.* "
        "at *) matched no finding"]


def test_a_changed_value_is_a_new_finding(run_cli, repo):
    run_cli("check", "--write-baseline", "baseline.json", *FILES, cwd=repo)
    (repo / "clusters/infer.create-cluster.yaml").write_text(
        yaml_text(request(name="<name>", bucket="other-bucket"), "# preflight: ignore PF110 -- named at deploy time"))
    result = run_cli("check", "-f", "json", "--baseline", "baseline.json", *FILES, cwd=repo)
    assert [rule for _, rule, _, _ in found(result)] == ["PF124"]
    assert result.returncode == 1


@pytest.mark.parametrize("text, message", [
    ("", "not a preflight baseline"),
    ('{"version": 1, "findings": [{"rule": "PF1"}]}', "not a preflight baseline (version 1"),
    ("[1, 2]", "not a preflight baseline"),
])
def test_bad_baseline_is_a_usage_error(run_cli, repo, text, message):
    (repo / "baseline.json").write_text(text)
    result = run_cli("check", "--baseline", "baseline.json", *FILES, cwd=repo)
    assert result.returncode == 2 and f"baseline.json: {message}" in result.stderr, result.stderr
    missing = run_cli("check", "--baseline", "nope.json", *FILES, cwd=repo)
    assert missing.returncode == 2 and "nope.json: no such baseline file" in missing.stderr


def test_a_run_of_some_files_judges_only_the_entries_it_could_use(run_cli, repo):
    """A pre-commit hook checks the files a commit touches: an entry for another file that exists is
    not unused, so a clean commit passes at fail-on warning; an entry for a file that is gone is
    stale in any run."""
    (repo / "clusters/clean.create-cluster.json").write_text(json.dumps(request(name="clean"), indent=2))
    result = run_cli("check", "-f", "json", "clusters/clean.create-cluster.json", cwd=repo)
    assert [(rule, line) for _, rule, _, line in found(result)] == [("PF500", 13)]  # gone.*, not train.*
    (repo / "clusters/gone.create-cluster.json").write_text(json.dumps(request(name="gone"), indent=2))
    result = run_cli("check", "clusters/clean.create-cluster.json", cwd=repo)
    assert result.returncode == 0, result.stdout  # fail-on warning, and nothing to say
