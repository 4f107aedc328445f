from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def preflight_command() -> list[str]:
    """The installed console script, as a user runs it."""
    found = shutil.which("preflight", path=str(pathlib.Path(sys.executable).parent))
    if not found:
        pytest.fail("the preflight command is not installed in this environment; see README")
    return [found]


@pytest.fixture
def run_cli():
    def run(*args: str, stdin: str | None = None, env: dict | None = None, cwd=None):
        return subprocess.run(preflight_command() + list(args), input=stdin, capture_output=True,
                              text=True, env=env, cwd=cwd or ROOT, timeout=120)
    return run
