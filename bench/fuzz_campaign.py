"""The long fuzz campaign: many more hostile inputs than the suite's budget, in every input format
preflight reads (requests in JSON and YAML, policies, authorization details, CloudFormation
templates, Terraform plans, shell templates with env files, configurations, baselines), through
`preflight check` in process (tests/fuzzing.py). Counts inputs, exit codes and crashes (an
exception escaping, exit 4, any undocumented exit code, or output that forges a line) and writes
bench/FUZZ.md. Families run in parallel worker processes (--jobs), each its own Hypothesis run.

    python bench/fuzz_campaign.py [EXAMPLES_PER_FAMILY] [--jobs N]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

FAMILIES = ("requests", "requests + policies", "requests + authorization details", "CloudFormation templates",
            "Terraform plans", "shell templates + env files", "requests + configurations", "requests + baselines")


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
        "requests + baselines": (st.tuples(f.baselines(), formats),
                                 lambda c: f.run_check([request], output=c[1], options=[("--baseline", c[0])])),
    }[name]


def run_family(task: tuple[str, int]) -> tuple[str, int, dict, list[str], float]:
    """One family's campaign: (name, inputs, exit codes, crashes, seconds)."""
    from hypothesis import HealthCheck, Phase, given, settings

    from fuzzing import DOCUMENTED_EXITS

    name, examples = task
    strategy, run = _family(name)
    codes: collections.Counter = collections.Counter()
    crashes: list[str] = []
    started = time.perf_counter()

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(case):
        try:
            code, stderr = run(case)
        except BaseException as err:  # noqa: BLE001 - counted, not raised: the campaign goes on
            code, stderr = "exception", repr(err)
        codes[code] += 1
        if code not in DOCUMENTED_EXITS:
            crashes.append(stderr.strip().splitlines()[-1] if stderr.strip() else str(code))

    one()
    return name, sum(codes.values()), dict(codes), crashes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("examples", nargs="?", type=int, default=3000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(run_family, [(name, args.examples) for name in FAMILIES], chunksize=1)
    total = sum(r[1] for r in results)
    crashes = sum(len(r[3]) for r in results)
    lines = ["# Fuzz campaign", "",
             f"`python bench/fuzz_campaign.py {args.examples} --jobs {args.jobs}`: Hypothesis-generated hostile "
             "files of every input format through `preflight check` in process (tests/fuzzing.py; outputs "
             "encoded strictly as UTF-8 and checked for forged lines), "
             f"{(time.perf_counter() - started) / 60:.0f} minutes on {os.cpu_count()} shared cores.", "",
             f"Inputs: {total:,}. Escapes (an exception, exit 4, an undocumented exit code, or a forged output "
             f"line): {crashes}.", "",
             "| family | inputs | exit codes | escapes | time |", "|---|---|---|---|---|"]
    for name, count, codes, found, seconds in results:
        shown = ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items(), key=str))
        lines.append(f"| {name} | {count:,} | {shown} | {len(found)} | {seconds:.0f} s |")
    for name, _, _, found, _ in results:
        for crash in sorted(set(found))[:20]:
            lines.append(f"\n- {name}: `{crash}`")
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "FUZZ.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
