"""The offline check with and without organisation policies, before and after they were added.

    python bench/bench_perimeter.py --venv AFTER_VENV --before BEFORE_VENV --before-revision REV [--runs 21]

Each venv holds a regular (non-editable) install. Runs interleave (bench.bench); medians of wall
and CPU time. The aim: ``check`` with a request and a policy costs what it did before (the
organisation files and their module load only when given); with three SCP levels, an RCP level
and a session policy it costs little more. Writes bench/PERIMETER.md.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib

from bench import HERE, POLICY, REQUEST, ROOT, bench, load_average

ORG = ROOT / "fixtures/organization"
PERIMETER = ["--scp", str(ORG / "scps/root"), "--scp", str(ORG / "scps/ml-workloads"), "--scp",
             str(ORG / "scps/account"), "--rcp", str(ORG / "rcps/root"),
             "--session-policy", str(ORG / "session-describe-only.json")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", required=True, type=pathlib.Path)
    parser.add_argument("--before", required=True, type=pathlib.Path)
    parser.add_argument("--before-revision", default="an earlier revision")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    check = ["check", "--policy", str(POLICY), str(REQUEST)]
    commands = {
        f"before ({args.before_revision}): check request + policy": [str(args.before / "bin/preflight"), *check],
        "after: check request + policy": [str(args.venv / "bin/preflight"), *check],
        "after: check request + policy + 3 SCP levels, 1 RCP level, session policy":
            [str(args.venv / "bin/preflight"), *check[:-1], *PERIMETER, str(REQUEST)],
    }
    load = load_average()
    results = bench(commands, args.runs)
    base = results[next(iter(commands))]
    lines = [f"# Organisation policies and the offline path\n",
             f"Measured {datetime.date.today()}, medians of {args.runs} interleaved runs of each whole process "
             f"(load average {load} at the start, {load_average()} at the end, 2 cores). Reproduce with "
             "`python bench/bench_perimeter.py --venv AFTER --before BEFORE --before-revision REV`.\n",
             "| command | median wall | ratio to before | median CPU | ratio to before | exit |",
             "|---|---|---|---|---|---|"]
    for name, result in results.items():
        lines.append(f"| {name} | {result['wall_s'] * 1000:.0f} ms | {result['wall_s'] / base['wall_s']:.2f} | "
                     f"{result['cpu_s'] * 1000:.0f} ms | {result['cpu_s'] / base['cpu_s']:.2f} | {result['exit']} |")
    (HERE / "PERIMETER.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
