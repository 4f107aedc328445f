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
    env.update({"FILES": "", "ARGS": "", "FAIL_ON": "error", "SARIF": "preflight.sarif", **inputs})
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
