"""The offline path never imports boto3, botocore or jsonschema: a pre-commit hook must start in a blink."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import FIXTURES, preflight_command

HEAVY = ("boto3", "botocore", "jsonschema", "policyuniverse", "policy_sentry",
         "celpy", "lark", "tomllib", "hcl2")  # CEL and TOML load only when a configuration needs them, HCL for a .tf file


def test_check_runs_with_boto3_and_botocore_unimportable(tmp_path):
    for name in ("boto3", "botocore"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('{name} must not be imported offline')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    requests = sorted(str(p) for p in (FIXTURES / "seed").rglob("*.json"))
    policy = str(FIXTURES / "policies" / "seed-administrator.json")
    result = subprocess.run(preflight_command() + ["check", "--policy", policy, *requests],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stderr  # the as-written examples fail, nothing crashes
    assert "must not be imported" not in result.stderr


def test_offline_check_loads_no_heavy_module():
    code = (
        "import sys\n"
        "from preflight.cli import app\n"
        "try:\n"
        f"    app(['check', '--policy', {str(FIXTURES / 'policies' / 'seed-administrator.json')!r}, "
        f"*{sorted(str(p) for p in (FIXTURES / 'seed').rglob('*.json'))!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_offline_check_loads_no_account_records():
    """The live records (preflight.account) and the live rules load only with --live or apply; the
    CloudFormation schema data (PF455 reads its create-only members) only with them or a template."""
    code = (
        "import sys\n"
        "from preflight.cli import app\n"
        "try:\n"
        f"    app(['check', {str(FIXTURES / 'seed' / 'corrected' / '01-standard.create-cluster.json')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m in ('preflight.account', 'preflight.live', 'preflight.aws',\n"
        "                                            'preflight.iac.cloudformation')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_guardrails_preflight_decides_load_no_cel_python(tmp_path):
    """The documented guardrails on the corrected seed requests are parsed and evaluated by
    preflight.cel: cel-python (lark, pendulum and a grammar built on every run) loads only for
    what it leaves to it (an error, as on the seed's requests as written)."""
    (tmp_path / ".preflight.toml").write_text((FIXTURES / "guardrails" / "examples.toml").read_text())
    code = (
        "import sys\n"
        "from preflight.cli import app\n"
        "try:\n"
        f"    app(['check', *{sorted(str(p) for p in (FIXTURES / 'seed' / 'corrected').glob('*.json'))!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('celpy', 'lark', 'pendulum')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "ORG006" in result.stdout, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
