"""The pre-commit hooks as pre-commit runs them: `pre-commit try-repo` on a team's own git
repository, installing this checkout (and the hook's `additional_dependencies`) with pip into a
fresh environment, then running the hook's entry on the files its patterns select."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import FIXTURES, ROOT

# A condition preflight.cel leaves to cel-python (`matches`): only an installed cel-python decides it.
GUARDRAIL = """\
[[guardrail]]
id = "ORG900"
message = "only p5 instance types"
condition = 'request.InstanceGroups.all(g, g.InstanceType.matches("^ml[.]p5[.]"))'
"""


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_guardrails_hook_installs_cel_python_and_runs_the_configuration_guardrails(tmp_path):
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(os.sys.executable))
    if pre_commit is None:
        pytest.fail("pre-commit is not installed: it is in the test extra")
    team = tmp_path / "team"
    (team / "clusters").mkdir(parents=True)
    shutil.copy(FIXTURES / "seed" / "corrected" / "01-standard.create-cluster.json", team / "clusters")
    (team / "clusters" / "create-cluster.schema.json").write_text("{}")  # an editor schema: not a request
    (team / ".preflight.toml").write_text(GUARDRAIL)
    _git(team, "init", "-q", ".")
    _git(team, "add", "-A")
    _git(team, "commit", "-qm", "clusters")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    result = subprocess.run([pre_commit, "try-repo", str(ROOT), "preflight-guardrails", "--all-files"], cwd=team,
                            env=env, capture_output=True, text=True, timeout=400)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "clusters/01-standard.create-cluster.json:" in result.stdout and "ORG900 only p5 instance types" in result.stdout
    assert "schema.json" not in result.stdout.split("Failed", 1)[1]
    assert "Traceback" not in result.stdout
