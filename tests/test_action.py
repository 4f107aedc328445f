"""The GitHub Action's check step, run by bash as the runner runs it: globs expand, inputs arrive
as environment variables, annotations go to the log and SARIF to the file the upload step reads."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

from conftest import FIXTURES, ROOT
from test_formats import validate_sarif

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def run_step(name: str, cwd: pathlib.Path, **inputs: str) -> subprocess.CompletedProcess:
    step = next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    defaults = {name: ACTION["inputs"][name.lower().replace("_", "-")].get("default", "") for name in ("FILES", "ARGS", "FAIL_ON")}
    env.update({**defaults, "SARIF": "preflight.sarif", **inputs})
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_check_step_annotates_and_writes_sarif(tmp_path):
    (tmp_path / "clusters" / "prod").mkdir(parents=True)
    shutil.copy(FIXTURES / "seed" / "as-written" / "01-standard.create-cluster.json", tmp_path / "clusters" / "prod")
    shutil.copy(FIXTURES / "iac" / "stack.yaml", tmp_path / "clusters")
    result = run_step("Check", tmp_path, FILES="clusters/**/*.create-cluster.json\nclusters/*.yaml",
                      ARGS="--parameter Environment=prod")
    assert result.returncode == 1, result.stderr
    assert "::error file=clusters/prod/01-standard.create-cluster.json,line=" in result.stdout
    assert "::error file=clusters/stack.yaml," in result.stdout  # prod: PF112 (and PF124, a notice) remain
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in validate_sarif((tmp_path / "preflight.sarif").read_text())["runs"][0]["results"]}
    assert uris == {"clusters/prod/01-standard.create-cluster.json", "clusters/stack.yaml"}


def test_check_step_fails_when_no_file_matches(tmp_path):
    result = run_step("Check", tmp_path, FILES="clusters/*.json")
    assert result.returncode == 2 and "::error title=preflight::no file matches" in result.stdout


def test_inputs_are_never_spliced_into_scripts():
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_check_step_leaves_fail_on_to_the_configuration(tmp_path):
    """Without the fail-on input the team's own `fail-on` decides; the input, when given, wins."""
    shutil.copy(FIXTURES / "seed" / "corrected" / "02-customer-managed-key.create-cluster.json", tmp_path)  # PF208, info
    assert run_step("Check", tmp_path, FILES="*.json").returncode == 0
    (tmp_path / ".preflight.toml").write_text('fail-on = "info"\n')
    result = run_step("Check", tmp_path, FILES="*.json")
    assert result.returncode == 1 and "PF208" in result.stdout, result.stdout + result.stderr
    assert run_step("Check", tmp_path, FILES="*.json", FAIL_ON="error").returncode == 0


def test_install_step_brings_the_guardrails_extra(tmp_path):
    """The step's pip command, with a python that only says what it was asked to install."""
    (tmp_path / "python").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (tmp_path / "python").chmod(0o755)
    step = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Install preflight")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "ACTION_PATH": str(ROOT)}
    for package, installed in (("", f"{ROOT}[guardrails]"), ("hyperpod-preflight==0.2.0", "hyperpod-preflight==0.2.0")):
        result = subprocess.run(["bash", "-e", "-c", step["run"]], env={**env, "PACKAGE": package}, capture_output=True,
                                text=True, timeout=60)
        assert result.stdout.splitlines() == ["-m", "pip", "install", "--quiet", installed], result.stderr


def test_readme_pins_only_versions_that_exist():
    """A `rev:` or an Action `@ref` in the README names a tag of this repository, or says to put a commit there."""
    import re

    tags = set(subprocess.run(["git", "tag"], cwd=ROOT, capture_output=True, text=True).stdout.split())
    readme = (ROOT / "README.md").read_text()
    pins = re.findall(r"^\s*rev: (<[^>]*>|\S+)", readme, re.M) + re.findall(r"uses: [\w-]+/preflight@(<[^>]*>|\S+)", readme)
    assert pins, "the README shows how to pin the hooks and the Action"
    for pin in pins:
        assert pin in tags or re.fullmatch(r"<[a-z0-9 -]+>", pin), pin
