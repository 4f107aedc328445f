#!/usr/bin/env bash
# Make the benchmark venvs and run bench/bench.py. preflight gets a venv of its own (a regular,
# non-editable install, as users have it): the peers bring pydantic, which typer imports when present.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/work/venv
peers=bench/work/peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$peers/bin/python" ] || python3 -m venv "$peers"
"$venv/bin/pip" install -q --upgrade --force-reinstall --no-deps . && "$venv/bin/pip" install -q .
"$peers/bin/pip" install -q parliament cfn-lint
"$venv/bin/python" bench/bench.py --venv "$venv" --peers "$peers" "$@"
