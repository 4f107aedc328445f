"""Does reading templates and writing CI formats cost a plain request check anything? Whole-process
medians, interleaved in one session, of preflight before these features (a regular install of
the given revision) against preflight with them; and what a template or plan check costs.

    bash bench/run_iac.sh [--runs 21]    # builds both venvs, then runs this
"""

from __future__ import annotations

import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import REQUEST, ROOT, bench  # noqa: E402  (bench/bench.py: measure and bench)

IAC = ROOT / "fixtures" / "iac"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=pathlib.Path, help="venv of preflight without the features")
    parser.add_argument("--after", required=True, type=pathlib.Path, help="venv of preflight with them")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    before, after = str(args.before / "bin" / "preflight"), str(args.after / "bin" / "preflight")
    commands = {
        "before: check (1 request)": [before, "check", str(REQUEST)],
        "after: check (1 request)": [after, "check", str(REQUEST)],
        "before: check --format sarif (1 request)": [before, "check", "--format", "sarif", str(REQUEST)],
        "after: check --format sarif (1 request)": [after, "check", "--format", "sarif", str(REQUEST)],
        "after: check CloudFormation YAML (stack.yaml)": [after, "check", str(IAC / "stack.yaml")],
        "after: check Terraform plan (plan.json)": [after, "check", str(IAC / "plan.json")],
        "after: check Terraform configuration (terraform/awscc/main.tf, its module of 4 files)": [
            after, "check", str(IAC / "terraform" / "awscc" / "main.tf")],
        "after: check --var template (1 request)": [after, "check", "--var", "ROLE=arn:aws:iam::444455556666:role/R",
                                                    str(IAC / "cluster-config.create-cluster.json")],
    }
    results = bench(commands, args.runs)
    print(f"medians of {args.runs} interleaved runs\n")
    print("| command | median wall | peak RSS | exit |\n|---|---|---|---|")
    for name, result in results.items():
        print(f"| {name} | {result['wall_s'] * 1000:.0f} ms | {result['rss_mib']:.1f} MiB | {result['exit']} |")
    plain = results["after: check (1 request)"]["wall_s"] - results["before: check (1 request)"]["wall_s"]
    print(f"\nplain request check, after - before: {plain * 1000:+.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
