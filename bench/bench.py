"""Whole-process benchmarks of preflight against its floor and its peers, in one session.

    python bench/bench.py --venv bench/work/venv --peers bench/work/peers [--runs 21]

bench/run.sh makes both venvs. Each command runs --runs times, interleaved so that machine noise hits
every command alike; the table reports medians of wall time and of peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
REQUEST = ROOT / "fixtures/seed/corrected/01-standard.create-cluster.json"
POLICY = ROOT / "fixtures/policies/corrected-administrator.json"
CATALOG_TIMER = (  # the module is imported first: its imports (json, dataclasses) are the CLI's anyway
    "import time\n"
    "from preflight.iam import catalog\n"
    "start = time.perf_counter()\n"
    "actions = catalog.load()\n"
    "for prefix in ('sagemaker', 'ec2', 'eks', 'iam', 'kms'): actions.service(prefix)\n"
    "print((time.perf_counter() - start) * 1000)\n"
)


def catalog_load_ms(python: str, runs: int) -> float:
    """Median in-process time to read and parse the catalog and decode the services a HyperPod policy names."""
    return statistics.median(float(subprocess.run([python, "-c", CATALOG_TIMER], capture_output=True, text=True,
                                                  check=True).stdout) for _ in range(runs))


def measure(command: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, exit code) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def bench(commands: dict[str, list[str]], runs: int) -> dict[str, dict]:
    samples = {name: [] for name in commands}
    for command in commands.values():  # one warm-up each: page cache, not the measurement
        measure(command)
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(measure(command))
    return {name: {"wall_s": statistics.median(s[0] for s in runs_),
                   "rss_mib": statistics.median(s[1] for s in runs_) / 1024,
                   "exit": runs_[0][2]}
            for name, runs_ in samples.items()}


def many_requests(directory: pathlib.Path, count: int) -> list[str]:
    text = REQUEST.read_text()
    paths = []
    for index in range(count):
        path = directory / f"r{index:05d}.create-cluster.json"
        path.write_text(text.replace("ml-cluster", f"ml-cluster-{index}"))
        paths.append(str(path))
    return paths


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", required=True, type=pathlib.Path, help="venv with preflight")
    parser.add_argument("--peers", required=True, type=pathlib.Path, help="venv with parliament and cfn-lint")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    bin_dir, peers = args.venv.resolve() / "bin", args.peers.resolve() / "bin"
    python, preflight = str(bin_dir / "python"), str(bin_dir / "preflight")

    single = {
        "python -c pass (floor)": [python, "-c", "pass"],
        "python -c 'import typer'": [python, "-c", "import typer"],
        "preflight check (1 request)": [preflight, "check", str(REQUEST)],
        "preflight check (1 request + policy)": [preflight, "check", "--policy", str(POLICY), str(REQUEST)],
        "parliament (1 policy)": [str(peers / "parliament"), "--file", str(HERE / "inputs/admin-policy.json")],
        "cfn-lint (1 template)": [str(peers / "cfn-lint"), str(HERE / "inputs/cluster.template.yaml")],
    }
    results = bench(single, args.runs)

    throughput = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (100, 1000, 3000):
            directory = pathlib.Path(tmp) / str(count)
            directory.mkdir()
            paths = many_requests(directory, count)
            timing = bench({str(count): [preflight, "check", *paths]}, max(5, args.runs // 4))[str(count)]
            throughput[count] = {**timing, "files_per_s": count / timing["wall_s"]}

    catalog_ms = catalog_load_ms(python, args.runs)
    floor = results["python -c pass (floor)"]["wall_s"]
    check = results["preflight check (1 request)"]["wall_s"]
    typer_wall = results["python -c 'import typer'"]["wall_s"]
    policy_check = results["preflight check (1 request + policy)"]["wall_s"]
    typer_cost = typer_wall - floor
    lines = [
        "# Benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; medians of {args.runs} interleaved runs, whole processes, "
        "regular (non-editable) install. Reproduce with `bash bench/run.sh`.",
        "",
        "| command | median wall | vs floor | peak RSS | exit |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['wall_s'] * 1000:.0f} ms | {r['wall_s'] / floor:.1f}x | "
                     f"{r['rss_mib']:.1f} MiB | {r['exit']} |")
    lines += [
        "",
        "| ratio | value | aim |",
        "|---|---|---|",
        f"| preflight check / python -c 'import typer' | {check / typer_wall:.2f}x | at most 1.25x |",
        f"| preflight check --policy / python -c 'import typer' | {policy_check / typer_wall:.2f}x | at most 1.25x |",
        f"| preflight / floor | {check / floor:.1f}x | typer's import + ~0.03 s (see design notes) |",
        f"| preflight - (floor + typer import) | {(check - floor - typer_cost) * 1000:.0f} ms | about 30 ms |",
        f"| preflight / parliament | 1/{results['parliament (1 policy)']['wall_s'] / check:.1f} | at most 1/6 |",
        f"| preflight / cfn-lint | 1/{results['cfn-lint (1 template)']['wall_s'] / check:.1f} | at most 1/15 |",
        f"| request + policy - request alone | "
        f"{(results['preflight check (1 request + policy)']['wall_s'] - check) * 1000:.0f} ms | little |",
        f"| action catalog load (in process; sagemaker, ec2, eks, iam, kms decoded) | {catalog_ms:.1f} ms | under 20 ms |",
        "",
        "Throughput, many requests in one invocation:",
        "",
        "| files | median wall | files/s | peak RSS |",
        "|---|---|---|---|",
    ]
    for count, r in throughput.items():
        lines.append(f"| {count} | {r['wall_s'] * 1000:.0f} ms | {r['files_per_s']:.0f} | {r['rss_mib']:.1f} MiB |")
    marginal = (throughput[3000]["wall_s"] - throughput[100]["wall_s"]) / 2900
    lines += ["", f"Marginal cost per file (100 -> 3000 files): {marginal * 1e6:.0f} µs, "
              f"i.e. {1 / marginal:.0f} files/s once started.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
