#!/usr/bin/env bash
# Regular (non-editable) installs of preflight at BEFORE (the revision before the IaC
# inputs and CI formats: set it) and of the working tree, then bench/bench_iac.py.
set -euo pipefail
cd "$(dirname "$0")/.."
before_rev=${BEFORE:?set BEFORE to the revision to compare against, e.g. the one before the IaC work}
work=bench/work
mkdir -p "$work"
rm -rf "$work/before-src" && mkdir "$work/before-src"
git archive "$before_rev" | tar -x -C "$work/before-src"
for name in before after; do [ -x "$work/$name/bin/python" ] || python3 -m venv "$work/$name"; done
"$work/before/bin/pip" install -q --force-reinstall --no-deps "$work/before-src" && "$work/before/bin/pip" install -q "$work/before-src"
"$work/after/bin/pip" install -q --force-reinstall --no-deps . && "$work/after/bin/pip" install -q .
"$work/after/bin/python" bench/bench_iac.py --before "$work/before" --after "$work/after" "$@"
