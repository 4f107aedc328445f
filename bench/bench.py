"""Whole-process benchmarks of preflight against its floor and its peers, in one session.

    python bench/bench.py --venv bench/work/venv --peers bench/work/peers [--runs 21] [--before VENV]

bench/run.sh makes the venvs. Each command runs --runs times, interleaved so that machine noise hits
every command alike; the tables report medians of wall time, of CPU time (user + system, which
other work on a shared machine disturbs less) and of peak resident memory, the ratios of the cold
path's runs to the peer ``python -c 'import typer'`` measured beside them, the date and the load
average before and after. With --before, an install of an earlier revision runs the cold path's
commands in the same session too. The generated part replaces the top of bench/RESULTS.md, up to
its first ``##`` section.
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
SEED_POLICY = ROOT / "fixtures/policies/seed-administrator.json"  # the seed guide's policy: one misspelt action
GUARDRAILS = ROOT / "fixtures/guardrails/examples.toml"
PEER = "python -c 'import typer'"
# The cold path's runs and their aims, as ratios to the peer.
COLD = {
    "preflight check (1 request)": "where it was or better",
    "preflight check (1 request + policy)": "at most 1.25x",
    "preflight check (1 request + seed policy)": "at most 1.25x",
    "preflight check (1 request + guardrails)": "at most 1.5x",
}
CATALOG_TIMER = (  # the module is imported first: its imports (json) are the CLI's anyway
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


def measure(command: list[str]) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in KiB, exit code, CPU seconds) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return (time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
            usage.ru_utime + usage.ru_stime)


def bench(commands: dict[str, list[str]], runs: int) -> dict[str, dict]:
    samples = {name: [] for name in commands}
    for command in commands.values():  # one warm-up each: page cache, not the measurement
        measure(command)
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(measure(command))
    return {name: {"wall_s": statistics.median(s[0] for s in runs_),
                   "rss_mib": statistics.median(s[1] for s in runs_) / 1024,
                   "exit": runs_[0][2],
                   "cpu_s": statistics.median(s[3] for s in runs_)}
            for name, runs_ in samples.items()}


def many_requests(directory: pathlib.Path, count: int) -> list[str]:
    text = REQUEST.read_text()
    paths = []
    for index in range(count):
        path = directory / f"r{index:05d}.create-cluster.json"
        path.write_text(text.replace("ml-cluster", f"ml-cluster-{index}"))
        paths.append(str(path))
    return paths


def cold_path(preflight: str) -> dict[str, list[str]]:
    """The cold path's runs: one request alone, with a policy, with the seed's policy, with guardrails."""
    return {
        "preflight check (1 request)": [preflight, "check", str(REQUEST)],
        "preflight check (1 request + policy)": [preflight, "check", "--policy", str(POLICY), str(REQUEST)],
        "preflight check (1 request + seed policy)": [preflight, "check", "--policy", str(SEED_POLICY), str(REQUEST)],
        "preflight check (1 request + guardrails)": [preflight, "check", "--config", str(GUARDRAILS), str(REQUEST)],
    }


LIVE = "botocore installed"  # the rows of the venv with the live extra
SEED_RUN = "preflight check (1 request + seed policy)"


def with_botocore(venv: pathlib.Path | None) -> dict[str, list[str]]:
    """The seed's policy (an unknown action, which may be looked up in an installed botocore's
    models) and the peer, in the venv with the live extra; none without one."""
    if venv is None:
        return {}
    bin_dir = venv.resolve() / "bin"
    return {f"{LIVE}: {PEER}": [str(bin_dir / "python"), "-c", "import typer"],
            f"{LIVE}: {SEED_RUN}": cold_path(str(bin_dir / "preflight"))[SEED_RUN]}


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", required=True, type=pathlib.Path, help="venv with preflight")
    parser.add_argument("--peers", required=True, type=pathlib.Path, help="venv with parliament and cfn-lint")
    parser.add_argument("--venv-live", type=pathlib.Path, help="venv with preflight and its live extra (botocore)")
    parser.add_argument("--before", type=pathlib.Path, help="venv with an earlier preflight, for before/after")
    parser.add_argument("--before-revision", default="an earlier revision", help="what --before holds, for the notes")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    bin_dir, peers = args.venv.resolve() / "bin", args.peers.resolve() / "bin"
    python, preflight = str(bin_dir / "python"), str(bin_dir / "preflight")

    before = {f"before: {name}": command
              for name, command in cold_path(str(args.before.resolve() / "bin" / "preflight")).items()} \
        if args.before else {}
    single = {
        "python -c pass (floor)": [python, "-c", "pass"],
        PEER: [python, "-c", "import typer"],
        **cold_path(preflight),
        **before,
        **with_botocore(args.venv_live),
        "parliament (1 policy)": [str(peers / "parliament"), "--file", str(HERE / "inputs/admin-policy.json")],
        "cfn-lint (1 template)": [str(peers / "cfn-lint"), str(HERE / "inputs/cluster.template.yaml")],
    }
    load_before = load_average()
    results = bench(single, args.runs)
    load_after = load_average()

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
    peer, peer_cpu = results[PEER]["wall_s"], results[PEER]["cpu_s"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; medians of {args.runs} interleaved runs, whole processes, "
        "regular (non-editable) install. Reproduce with `bash bench/run.sh`. Load average (1, 5, 15 min) "
        f"before the runs: {load_before}; after: {load_after}. Only ratios within one run mean anything "
        "on a shared machine; CPU time is disturbed less by other work than wall time."
        + (f" The `before:` rows are a regular install of {args.before_revision}, run beside this one."
           if args.before else ""),
        "",
        "| command | median wall | median CPU | vs floor | peak RSS | exit |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['wall_s'] * 1000:.0f} ms | {r['cpu_s'] * 1000:.0f} ms | {r['wall_s'] / floor:.1f}x | "
                     f"{r['rss_mib']:.1f} MiB | {r['exit']} |")
    lines += [
        "",
        f"The cold path against the peer `{PEER}`, measured beside it:",
        "",
        "| run | wall / peer | CPU / peer | aim |",
        "|---|---|---|---|",
    ]
    for name, aim in COLD.items():
        for label in (name, f"before: {name}") if args.before else (name,):
            r = results[label]
            lines.append(f"| {label} | {r['wall_s'] / peer:.2f}x | {r['cpu_s'] / peer_cpu:.2f}x | {aim} |")
    if args.venv_live:  # against the peer in its own venv, whose larger site-packages every import pays for
        r, own = results[f"{LIVE}: {SEED_RUN}"], results[f"{LIVE}: {PEER}"]
        lines.append(f"| {LIVE}: {SEED_RUN} | {r['wall_s'] / own['wall_s']:.2f}x | {r['cpu_s'] / own['cpu_s']:.2f}x "
                     f"| {COLD[SEED_RUN]} |")
    lines += [
        "",
        "| ratio | value | aim |",
        "|---|---|---|",
        f"| preflight / floor | {check / floor:.1f}x | typer's import + ~0.03 s (see design notes) |",
        f"| preflight - (floor + typer import) | {(check - peer) * 1000:.0f} ms | about 30 ms |",
        f"| preflight / parliament | 1/{results['parliament (1 policy)']['wall_s'] / check:.1f} | at most 1/6 |",
        f"| preflight / cfn-lint | 1/{results['cfn-lint (1 template)']['wall_s'] / check:.1f} | at most 1/15 |",
        f"| request + policy - request alone | "
        f"{(results['preflight check (1 request + policy)']['wall_s'] - check) * 1000:.0f} ms | little |",
        f"| request + guardrails - request alone | "
        f"{(results['preflight check (1 request + guardrails)']['wall_s'] - check) * 1000:.0f} ms | little |",
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
    generated = "\n".join(lines)
    kept = args.out.read_text() if args.out.exists() else ""
    sections = kept[kept.index("\n## ") + 1:] if "\n## " in kept else ""  # the hand-written sections stay
    args.out.write_text(generated + ("\n" + sections if sections else ""))
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
