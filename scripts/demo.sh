#!/usr/bin/env bash
# The main job on the bundled fixtures. Offline: the seed guide's example requests as written
# (they must fail, every mistake located) and corrected (they must pass), and the seed's policy;
# the guide's aws command lines, read from a script, as written and corrected.
# Live: the same corrected requests and some broken ones against the embedded local AWS (moto's
# server seeded from fixtures/account/hyperpod.json), then `apply` sending one that passed, the
# drop-in gate (`preflight aws ...`) refusing a command line the CLI would refuse; the
# plan of an update to the existing cluster, an update the service would refuse, and an update
# applied with --wait.
# Exits non-zero if any outcome is not the expected one.
set -u
cd "$(dirname "$0")/.."
preflight=${1:-preflight}
python="$(dirname "$(command -v "$preflight")")/python"
status=0

expect() {  # expect CODE TITLE COMMAND...
  local want=$1 title=$2
  shift 2
  echo "== $title (expected: exit $want)"
  "$@"
  local got=$?
  echo "exit $got"
  echo
  [ "$got" -eq "$want" ] || { echo "demo: unexpected exit $got for: $title" >&2; status=1; }
}

expect 1 "The seed guide's example requests, as written" \
  "$preflight" check fixtures/seed/as-written/*.json
expect 0 "The same requests, corrected" \
  "$preflight" check fixtures/seed/corrected/*.json
expect 1 "The seed guide's administrator policy against the corrected create request" \
  "$preflight" check --policy fixtures/policies/seed-administrator.json fixtures/seed/corrected/01-standard.create-cluster.json
expect 0 "The corrected policy against every corrected request" \
  "$preflight" check --policy fixtures/policies/corrected-administrator.json fixtures/seed/corrected/*.json
expect 1 "The guide's six aws command lines, as written (a script: each request at its line and column)" \
  "$preflight" check fixtures/commandline/guide-as-written.sh
expect 0 "The same command lines, corrected" \
  "$preflight" check fixtures/commandline/guide-corrected.sh

local_aws() { "$python" -m preflight.local -- "$@"; }
expect 0 "Live, embedded local AWS: the corrected update requests and a create for a new cluster" \
  local_aws "$preflight" check --live fixtures/seed/corrected/0[3-6]*.json fixtures/live/requests/new-cluster.create-cluster.json
expect 1 "Live: an untagged AMI, a key that is not the AMI's, a missing script, a missing role" \
  local_aws "$preflight" check --live fixtures/live/requests/{untagged-ami,mismatched-key-alias,missing-script,missing-role}.create-cluster.json
expect 0 "Live: apply sends a create request that passed" \
  local_aws "$preflight" apply fixtures/live/requests/new-cluster.create-cluster.json
expect 1 "Live: the drop-in gate refuses a command line the AWS CLI would refuse, and sends nothing" \
  local_aws "$preflight" aws sagemaker delete-cluster --cluster-nmae ml-cluster
expect 1 "Live: apply refuses a failing request and sends nothing" \
  local_aws "$preflight" apply fixtures/live/requests/untagged-ami.create-cluster.json
expect 0 "Live: what a scale-up of the existing cluster will do (the plan)" \
  local_aws "$preflight" plan fixtures/live/requests/scale-up.update-cluster.json
expect 1 "Live: an update that changes an existing group's instance type (a warning naming the guide and the schema, held with --fail-on warning)" \
  local_aws "$preflight" check --live --fail-on warning fixtures/live/requests/instance-type.update-cluster.json
expect 0 "Live: apply the scale-up and wait until the cluster is InService again (changes settle in 3 s here)" \
  "$python" -m preflight.local --settle 3 -- "$preflight" apply --wait --wait-interval 1 fixtures/live/requests/scale-up.update-cluster.json
exit $status
