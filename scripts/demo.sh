#!/usr/bin/env bash
# The main job on the bundled fixtures: the seed guide's example requests as written (they must
# fail, with every mistake located) and corrected (they must pass). Exits non-zero if either
# outcome is not what it should be.
set -u
cd "$(dirname "$0")/.."
preflight=${1:-preflight}

echo "== The seed guide's example requests, as written (expected: findings, exit 1)"
"$preflight" check fixtures/seed/as-written/*.json
written=$?
echo "exit $written"
echo
echo "== The same requests, corrected (expected: clean pass, exit 0)"
"$preflight" check fixtures/seed/corrected/*.json
corrected=$?
echo "exit $corrected"

if [ "$written" -ne 1 ] || [ "$corrected" -ne 0 ]; then
  echo "demo: unexpected outcome (as written: $written, corrected: $corrected)" >&2
  exit 1
fi
