"""The long fuzz campaign: many more hostile inputs than the suite's budget, in every input format
preflight reads (requests in JSON and YAML, policies, authorization details, CloudFormation
templates, Terraform plans, shell templates with env files, configurations, baselines), through
`preflight check` in process (tests/fuzzing.py). Counts inputs, exit codes and crashes (an
exception escaping, exit 4, any undocumented exit code, output that forges a line, or the process
killed by a signal) and writes bench/FUZZ.md. Batches of each family go round, --jobs at a time,
each batch its own Hypothesis run in a process of its own, so that a native crash ends one batch
and is counted; every outcome is logged as it ends, so `--report` can write bench/FUZZ.md from a
campaign stopped early (the machine is shared: run it under `nice`).

    python bench/fuzz_campaign.py [EXAMPLES_PER_FAMILY] [--jobs N] [--batch N] [--family NAME]... [--log FILE]
                                  [--out FILE] [--report]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

FAMILIES = ("requests", "requests + policies", "requests + authorization details", "CloudFormation templates",
            "Terraform plans", "shell templates + env files", "requests + configurations", "requests + baselines",
            "command lines (scripts, Markdown)", "Terraform sources")


def _family(name: str):
    """(strategy, run) of one family: run(case) -> (exit code, stderr)."""
    from hypothesis import strategies as st

    import fuzzing as f

    formats = st.sampled_from(f.FORMATS)
    request = ("f.delete-cluster.json", b'{"ClusterName": "c", "Extra": 1}')
    return {
        "requests": (st.tuples(f.request_documents(), formats), lambda c: f.run_check([c[0]], output=c[1])),
        "requests + policies": (
            st.tuples(f.request_documents(), st.lists(f.policy_documents(), min_size=1, max_size=2), formats),
            lambda c: f.run_check([c[0]], c[1], output=c[2])),
        "requests + authorization details": (
            st.tuples(f.request_documents(), f.authorization_details(), formats),
            lambda c: f.run_check([c[0]], [c[1]], principal=f.PRINCIPAL, output=c[2])),
        "CloudFormation templates": (st.tuples(f.cloudformation_templates(), formats),
                                     lambda c: f.run_check([c[0]], output=c[1])),
        "Terraform plans": (st.tuples(f.terraform_plans(), formats), lambda c: f.run_check([c[0]], output=c[1])),
        "shell templates + env files": (st.tuples(f.shell_templates(), formats),
                                        lambda c: f.run_check([c[0][0]], output=c[1],
                                                              options=[("--env-file", c[0][1])])),
        "requests + configurations": (st.tuples(f.request_documents(), f.configurations(), formats),
                                      lambda c: f.run_check([c[0]], output=c[2], options=[("--config", c[1])])),
        "command lines (scripts, Markdown)": (st.tuples(f.command_line_files(), formats),
                                              lambda c: f.run_check([c[0]], output=c[1])),
        "Terraform sources": (st.tuples(f.terraform_sources(), formats), lambda c: f.run_check([c[0]], output=c[1])),
        "requests + baselines": (st.tuples(f.baselines(), formats),
                                 lambda c: f.run_check([request], output=c[1], options=[("--baseline", c[0])])),
    }[name]


def run_batch(task: tuple[str, int, str]) -> None:
    """One batch of a family (its own Hypothesis run, its own random seed): each input's outcome
    appended to the log as it ends, so that a campaign stopped early still counts what it ran."""
    from hypothesis import HealthCheck, Phase, given, settings

    from fuzzing import DOCUMENTED_EXITS

    name, examples, log = task
    strategy, run = _family(name)

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(case):
        started = time.perf_counter()
        try:
            code, stderr = run(case)
        except BaseException as err:  # noqa: BLE001 - counted, not raised: the campaign goes on
            code, stderr = "exception", repr(err)
        crash = None
        if code not in DOCUMENTED_EXITS:
            crash = stderr.strip().splitlines()[-1] if stderr.strip() else str(code)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"family": name, "code": code, "crash": crash,
                                     "seconds": time.perf_counter() - started}) + "\n")

    one()


def run_batch_apart(task: tuple[str, int, str]) -> None:
    """One batch in a process of its own; a process killed by a signal is logged as an escape (the
    input it died on is not known here: the inputs before it are logged)."""
    name, examples, log = task
    done = subprocess.run([sys.executable, __file__, "--run-batch", name, str(examples), log])
    if done.returncode < 0:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"family": name, "code": f"signal {-done.returncode}",
                                     "crash": f"killed by {signal.Signals(-done.returncode).name}",
                                     "seconds": 0.0}) + "\n")


def report(log: str, command: str) -> str:
    """bench/FUZZ.md from a campaign's log."""
    results: dict = {name: (collections.Counter(), [], 0.0) for name in FAMILIES}
    with open(log, encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            codes, crashes, seconds = results[entry["family"]]
            codes[entry["code"]] += 1
            if entry["crash"]:
                crashes.append(entry["crash"])
            results[entry["family"]] = (codes, crashes, seconds + entry["seconds"])
    total = sum(sum(codes.values()) for codes, _, _ in results.values())
    escapes = sum(len(crashes) for _, crashes, _ in results.values())
    lines = ["# Fuzz campaign", "",
             f"`{command}`: Hypothesis-generated hostile files of every input format through `preflight check` "
             "in process (tests/fuzzing.py; outputs encoded strictly as UTF-8 and checked for forged lines), in "
             "batches that go round the families, each batch its own random seed.", "",
             f"Inputs: {total:,}. Escapes (an exception, exit 4, an undocumented exit code, a forged output "
             f"line, or the process killed by a signal): {escapes}.", "",
             "| family | inputs | exit codes | escapes | time in preflight |", "|---|---|---|---|---|"]
    for name, (codes, crashes, seconds) in results.items():
        if not codes:  # a family this campaign did not run
            continue
        shown = ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items(), key=str))
        lines.append(f"| {name} | {sum(codes.values()):,} | {shown} | {len(crashes)} | {seconds:.0f} s |")
    for name, (_, crashes, _) in results.items():
        for crash in sorted(set(crashes))[:20]:
            lines.append(f"\n- {name}: `{crash}`")
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--run-batch"]:
        run_batch((sys.argv[2], int(sys.argv[3]), sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("examples", nargs="?", type=int, default=3000, help="inputs per family")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=100, help="inputs per Hypothesis run")
    parser.add_argument("--log", default=str(ROOT / "bench" / "work" / "fuzz-log.jsonl"), help="each outcome")
    parser.add_argument("--family", action="append", choices=FAMILIES, help="only these families (repeatable)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "FUZZ.md"), help="where the report is written")
    parser.add_argument("--report", action="store_true", help="only write the report from the log so far")
    args = parser.parse_args()
    families = args.family or FAMILIES
    command = f"python bench/fuzz_campaign.py {args.examples} --jobs {args.jobs} --batch {args.batch}" + "".join(
        f" --family '{name}'" for name in args.family or ())
    if not args.report:
        pathlib.Path(args.log).parent.mkdir(parents=True, exist_ok=True)
        rounds = -(-args.examples // args.batch)
        tasks = [(name, args.batch, args.log) for _ in range(rounds) for name in families]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(run_batch_apart, tasks))
    text = report(args.log, command)
    pathlib.Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
