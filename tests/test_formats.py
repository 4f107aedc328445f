"""The CI formats validate against their published schemas, carry usage errors, and keep file
names intact (SARIF URIs, GitHub workflow-command properties)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from urllib.parse import unquote, urljoin, urlparse

import jsonschema
import pytest
import xmlschema

from conftest import FIXTURES, ROOT
from preflight.formats import github

SCHEMAS = ROOT / "tests" / "schemas"
AS_WRITTEN = sorted(str(p) for p in (FIXTURES / "seed" / "as-written").glob("*.json"))
CORRECTED = sorted(str(p) for p in (FIXTURES / "seed" / "corrected").glob("*.json"))
POLICY = str(FIXTURES / "policies" / "seed-administrator.json")


def validate_sarif(text: str) -> dict:
    document = json.loads(text)
    jsonschema.Draft4Validator(json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())).validate(document)
    return document


def validate_gitlab(text: str) -> list:
    document = json.loads(text)
    jsonschema.Draft7Validator(json.loads((SCHEMAS / "gitlab-code-quality.json").read_text())).validate(document)
    return document


def validate_junit(text: str):
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
    schema.validate(text)
    return schema.to_dict(text)


def test_sarif_validates_and_describes_each_rule(run_cli):
    result = run_cli("check", "--format", "sarif", "--policy", POLICY, *AS_WRITTEN, *CORRECTED)
    assert result.returncode == 1
    run = validate_sarif(result.stdout)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"][0]["executionSuccessful"] is True
    for result_ in run["results"]:
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "## Example" in rule["help"]["markdown"]


def test_sarif_uri_keeps_hash_and_space_in_file_name(run_cli, tmp_path):
    name = "prod #1 50%.create-cluster.json"
    shutil.copy(AS_WRITTEN[0], tmp_path / name)
    result = run_cli("check", "--format", "sarif", name, cwd=tmp_path)
    run = validate_sarif(result.stdout)["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "prod%20%231%2050%25.create-cluster.json", "uriBaseId": "%SRCROOT%"}
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    resolved = urlparse(urljoin(base, location["uri"]))
    assert not resolved.fragment
    assert pathlib.Path(unquote(resolved.path)) == (tmp_path / name).resolve()


def test_sarif_uri_outside_working_directory_is_absolute(run_cli, tmp_path):
    result = run_cli("check", "--format", "sarif", AS_WRITTEN[0], cwd=tmp_path)
    location = validate_sarif(result.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": pathlib.Path(AS_WRITTEN[0]).as_uri()}


def test_junit_validates_one_suite_per_file(run_cli):
    result = run_cli("check", "--format", "junit", AS_WRITTEN[0], CORRECTED[0])
    assert result.returncode == 1
    report = validate_junit(result.stdout)
    suites = {suite["@name"]: suite for suite in report["testsuite"]}
    assert set(suites) == {AS_WRITTEN[0], CORRECTED[0]}
    clean = suites[CORRECTED[0]]
    assert (clean["@tests"], clean["@failures"]) == ("1", "0") and "failure" not in clean["testcase"][0]
    failing = suites[AS_WRITTEN[0]]
    assert int(failing["@failures"]) == len(failing["testcase"]) > 0
    assert all(case["failure"] for case in failing["testcase"])
    total = json.loads(run_cli("check", "--format", "json", AS_WRITTEN[0]).stdout)["findings"]
    assert sum(len(case["failure"]) for case in failing["testcase"]) == len(total)


def test_gitlab_validates_with_unique_fingerprints(run_cli):
    result = run_cli("check", "--format", "gitlab", *AS_WRITTEN)
    issues = validate_gitlab(result.stdout)
    findings = json.loads(run_cli("check", "--format", "json", *AS_WRITTEN).stdout)["findings"]
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == \
        [(f["rule"], os.path.relpath(f["file"], ROOT), f["line"]) for f in findings]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_github_annotations_escape_properties_and_message():
    assert github.command("error", "50% done\r\nnext", file="a,b:c.json", line=3, col=4, title="PF1 x") == \
        "::error file=a%2Cb%3Ac.json,line=3,col=4,title=PF1 x::50%25 done%0D%0Anext"


def test_github_format_annotates_each_finding(run_cli, tmp_path):
    name = "a,b.create-cluster.json"
    shutil.copy(AS_WRITTEN[0], tmp_path / name)
    result = run_cli("check", "--format", "github", name, cwd=tmp_path)
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    findings = json.loads(run_cli("check", "--format", "json", name, cwd=tmp_path).stdout)["findings"]
    assert len(annotations) == len(findings)
    first = findings[0]
    assert annotations[0].startswith(f"::{first['severity']} file=a%2Cb.create-cluster.json,"
                                     f"line={first['line']},col={first['column']},title={first['rule']} ")
    assert result.stdout.splitlines()[-1].startswith("1 file checked:")


def test_output_writes_sarif_while_text_goes_to_stdout(run_cli, tmp_path):
    sarif, junit = tmp_path / "out.sarif", tmp_path / "junit.xml"
    result = run_cli("check", AS_WRITTEN[0], "--output", f"sarif:{sarif}", "--output", f"junit:{junit}")
    assert result.returncode == 1
    assert "error PF" in result.stdout and not result.stdout.lstrip().startswith("{")
    assert validate_sarif(sarif.read_text())["runs"][0]["results"]
    validate_junit(junit.read_text())


@pytest.mark.parametrize("spec", ["sarif", "nope:x.json", "sarif:"])
def test_bad_output_spec_is_usage_error(run_cli, spec):
    result = run_cli("check", CORRECTED[0], "--output", spec)
    assert result.returncode == 2 and "FORMAT:FILE" in result.stderr


def test_unwritable_output_is_usage_error(run_cli, tmp_path):
    result = run_cli("check", CORRECTED[0], "--output", f"sarif:{tmp_path}/missing/out.sarif")
    assert result.returncode == 2 and "missing/out.sarif" in result.stderr


VALIDATORS = {"sarif": validate_sarif, "gitlab": validate_gitlab, "junit": validate_junit, "json": json.loads}


@pytest.mark.parametrize("fmt", sorted(VALIDATORS))
def test_usage_error_still_writes_a_valid_document(run_cli, tmp_path, fmt):
    written = tmp_path / f"report.{fmt}"
    result = run_cli("check", "--format", fmt, "--output", f"{fmt}:{written}", str(tmp_path / "absent.create-cluster.json"))
    assert result.returncode == 2 and "no such file" in result.stderr
    for text in (result.stdout, written.read_text()):
        VALIDATORS[fmt](text)
        assert "absent.create-cluster.json: no such file" in text


def test_usage_error_in_github_format_is_an_annotation(run_cli, tmp_path):
    (tmp_path / "cluster.json").write_text('{"ClusterName": "ml-cluster"}')
    result = run_cli("check", "--format", "github", "cluster.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=preflight usage error::cluster.json: cannot tell")


@pytest.mark.parametrize("fmt", ["github", "junit", "gitlab", "sarif"])
def test_a_rule_outside_the_registry_is_named_by_its_id(fmt):
    import importlib

    from preflight.findings import Finding, Report, Severity

    finding = Finding("ORG001", Severity.ERROR, "a.create-cluster.json", "/ClusterName", "not an approved name")
    text = importlib.import_module(f"preflight.formats.{fmt}").render(Report(findings=[finding], files=[finding.file]))
    assert "ORG001" in text
    if fmt == "sarif":
        validate_sarif(text)


def test_junit_keeps_a_suppressed_finding_as_skipped_with_its_reason():
    from preflight.findings import Finding, Report, Severity, Suppression
    from preflight.formats import junit

    kept = Finding("PF124", Severity.INFO, "a.create-cluster.json", "/InstanceGroups/0", "bucket",
                   suppression=Suppression("config", "lifecycle bucket shared by the team", "pyproject.toml"))
    report = validate_junit(junit.render(Report(files=["a.create-cluster.json"], suppressed=[kept])))
    suite = report["testsuite"][0]
    assert (suite["@tests"], suite["@failures"], suite["@skipped"]) == ("2", "0", "1")
    assert suite["testcase"][0]["skipped"][0]["@message"] == "suppressed: lifecycle bucket shared by the team (pyproject.toml)"
