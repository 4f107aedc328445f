"""The embedded AWS's account-state file used from elsewhere, as a team does with a copy of its
own: the files it names are read from the state file's folder, and what cannot be used is a usage
error naming the file and the member, before any server starts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES


def _local(state, *command):
    return subprocess.run([sys.executable, "-m", "preflight.local", "--state", str(state), "--", *command],
                          capture_output=True, text=True, timeout=120)


def test_a_copied_state_reads_its_policies_from_its_own_folder(tmp_path):
    pytest.importorskip("moto", reason="the embedded AWS needs the test extra (moto[server])")
    state = json.loads((FIXTURES / "account" / "hyperpod.json").read_text())
    (tmp_path / "account").mkdir()
    (tmp_path / "account" / "state.json").write_text(json.dumps(state))

    missing = _local(tmp_path / "account" / "state.json", "true")

    assert missing.returncode == 2 and "Traceback" not in missing.stderr, missing.stderr
    assert f"account/state.json: caller_policies[0]: {state['caller_policies'][0]}: no such file" in missing.stderr
    assert str(tmp_path / "account") in missing.stderr  # where relative names are read from

    shutil.copytree(FIXTURES / "policies", tmp_path / "policies")  # beside it, as the names say
    found = _local(tmp_path / "account" / "state.json", sys.executable, "-c", "import os; print(os.environ['AWS_ENDPOINT_URL'])")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("text,said", [
    ("{not json", "not a readable JSON account state"),
    ('{"account": "444455556666"}', "region: required, a string"),
    ('{"account": "444455556666", "region": "us-east-1", "roles": [{"name": "r", "trusts": "x", "policies": [7]}]}',
     "roles[0].policies[0]: expected a file name, found int"),
])
def test_an_unusable_state_is_a_usage_error_naming_the_member(tmp_path, text, said):
    (tmp_path / "state.json").write_text(text)
    result = _local(tmp_path / "state.json", "true")
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_missing_state_file_is_named(tmp_path):
    result = _local(tmp_path / "nowhere.json", "true")
    assert result.returncode == 2 and "nowhere.json: no such account-state file" in result.stderr
