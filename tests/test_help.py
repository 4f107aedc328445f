"""`--help` as a user reads it: every sentence of the help texts is shown, brackets included (rich
markup read "[tool.preflight]" and "[default: ...]" as tags and dropped them)."""

from __future__ import annotations

import os


def _help(run_cli, *command):
    result = run_cli(*command, "--help", env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def test_top_level_help_says_where_the_configuration_comes_from(run_cli):
    shown = _help(run_cli)
    assert "Configuration: [tool.preflight] in pyproject.toml, or a .preflight.toml, in the nearest directory" in shown
    assert "`preflight config` prints the effective settings" in shown


def test_bracketed_option_help_is_shown(run_cli):
    assert "[default: the configuration's `fail-on`, else error]" in _help(run_cli, "check")
    assert "[default: the configuration's `plan-max-age`, else 24h]" in _help(run_cli, "apply")
