#!/usr/bin/env bash
# Make the benchmark venvs and run bench/bench.py. preflight gets a venv of its own (a regular,
# non-editable install, as users have it, with the guardrails extra) and one with the live extra
# (botocore beside it, whose models an unknown action may read): the peers bring pydantic,
# which typer imports when present. With BEFORE=REV, a regular install of that revision runs the
# cold path's commands beside this one, in the same session.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/work/venv
live=bench/work/venv-live  # with the live extra: botocore installed beside preflight, as --live users have it
peers=bench/work/peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$live/bin/python" ] || python3 -m venv "$live"
[ -x "$peers/bin/python" ] || python3 -m venv "$peers"
"$venv/bin/pip" install -q --upgrade --force-reinstall --no-deps . && "$venv/bin/pip" install -q '.[guardrails]'
"$live/bin/pip" install -q --upgrade --force-reinstall --no-deps . && "$live/bin/pip" install -q '.[live]'
"$peers/bin/pip" install -q parliament cfn-lint
before=()
if [ -n "${BEFORE:-}" ]; then
    rm -rf bench/work/before-src && mkdir -p bench/work/before-src
    git archive "$BEFORE" | tar -x -C bench/work/before-src
    [ -x bench/work/before/bin/python ] || python3 -m venv bench/work/before
    bench/work/before/bin/pip install -q --force-reinstall --no-deps bench/work/before-src
    bench/work/before/bin/pip install -q 'bench/work/before-src[guardrails]'
    before=(--before bench/work/before --before-revision "$(git rev-parse --short "$BEFORE")")
fi
"$venv/bin/python" bench/bench.py --venv "$venv" --venv-live "$live" --peers "$peers" "${before[@]}" "$@"
