"""Live checks: AWS calls per check, and wall time with latency added at the local endpoint.

    python bench/bench_live.py [--latency-ms 100] [--runs 5] [--out bench/LIVE.md]
                               [--peer OTHER/bin/preflight --peer-name "before (abc1234)"]

Starts the embedded local AWS (moto's server, seeded from fixtures/account/hyperpod.json) behind
a loopback proxy that holds every request for --latency-ms, then checks the requests live, in
process: once with the concurrent prefetch, once with it sequential (one worker); then as a user
runs it, whole `preflight check --live` processes beside `preflight check` of the same files
(their difference is what --live costs, the making of its AWS clients included), and in a fresh
process what comes before the first call (importing botocore, the session and its first client).
With --peer, another install's `preflight check --live` (an earlier commit's, say) is timed in the
same alternation: a before and after of one run, on one machine's load. Runs of the modes
alternate; medians of --runs each. Needs the local extra: pip install '.[local]'.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from faults import DelayProxy  # noqa: E402  (the tests' loopback proxy)
REQUESTS = [
    ("fixtures/live/requests/new-cluster.create-cluster.json", "create-cluster"),
    ("fixtures/live/requests/new-cluster-customer-key.create-cluster.json", "create-cluster"),
    ("fixtures/seed/corrected/03-custom-ami.update-cluster-software.json", "update-cluster-software"),
    ("fixtures/seed/corrected/04-scale-up.update-cluster.json", "update-cluster"),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "LIVE.md")
    parser.add_argument("--peer", type=pathlib.Path, help="another install's preflight command, timed beside this one")
    parser.add_argument("--peer-name", default="the --peer install", help="what the peer is, for the table")
    args = parser.parse_args()

    import os

    from preflight import documents, engine, live
    from preflight.aws import BotoAccount
    from preflight.local import LocalAws

    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with LocalAws() as aws, DelayProxy(aws.endpoint, delay=args.latency_ms / 1000) as proxy:
        os.environ.update({k: v for k, v in aws.env.items() if k.startswith("AWS_")})
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        pairs = [(documents.read(str(ROOT / path)), op) for path, op in REQUESTS]

        def one(workers: int) -> tuple[float, Counter]:
            live.WORKERS = workers
            account = BotoAccount(region=aws.region, timeout=10)  # quotas: seeded in the local AWS
            start = time.perf_counter()
            report = engine.run(pairs, account=account)
            elapsed = time.perf_counter() - start
            assert not report.blocking(engine.Severity.ERROR), [f.message for f in report.findings]
            return elapsed, account.calls

        command = [shutil.which("preflight", path=str(pathlib.Path(sys.executable).parent)), "check"]
        files = [str(ROOT / path) for path, _ in REQUESTS]
        env = {**os.environ, "AWS_ENDPOINT_URL": proxy.endpoint}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once, as an install does, not in every run

        def process(*options: str, checker: list[str] = command) -> float:
            start = time.perf_counter()
            done = subprocess.run(checker + list(options) + files, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            assert done.returncode == 0, done.stdout + done.stderr
            return elapsed

        def first_client() -> float:
            code = ("import time; start = time.perf_counter(); from preflight import aws; "
                    f"aws.BotoAccount(region={aws.region!r}); print(time.perf_counter() - start)")
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
            assert done.returncode == 0, done.stderr
            return float(done.stdout)

        workers = live.WORKERS
        concurrent = f"concurrent prefetch ({workers} workers)"
        modes = {concurrent: lambda: one(workers), "sequential (1 worker)": lambda: one(1),
                 "`preflight check --live` process": lambda: (process("--live"), None),
                 "`preflight check` process (offline peer)": lambda: (process(), None),
                 "botocore's import and first client (before any call; a process of its own)": lambda: (first_client(), None)}
        if args.peer:
            peer = f"`preflight check --live` process, {args.peer_name}"
            modes[peer] = lambda: (process("--live", checker=[str(args.peer), "check"]), None)
        runs = {label: [] for label in modes}
        for _ in range(args.runs):  # alternated, so that a change in the machine's load meets every mode
            for label, mode in modes.items():
                runs[label].append(mode())
        results = {label: (statistics.median(r[0] for r in found), found[0][1]) for label, found in runs.items()}
        load_end = os.getloadavg()[0]

    latency = args.latency_ms / 1000
    lines = ["# Live checks: AWS calls and latency", "",
             f"Measured {time.strftime('%Y-%m-%d')}: {len(REQUESTS)} requests (two creates with custom AMIs, one with a "
             f"customer managed key; a software update; a scale-up) checked live in one run against the embedded "
             f"local AWS behind a proxy adding {args.latency_ms:.0f} ms to every call; medians of {args.runs} runs, "
             f"the modes alternating (load average {load:.1f} on {os.cpu_count()} cores at the start, {load_end:.1f} at "
             "the end). "
             f"Reproduce with `python bench/bench_live.py{' --peer OTHER/bin/preflight' if args.peer else ''}`.", "",
             "| mode | median wall | in round trips | AWS calls |", "|---|---|---|---|"]
    for label, (wall, calls) in results.items():
        lines.append(f"| {label} | {wall * 1000:.0f} ms | {wall / latency:.1f} | {sum(calls.values()) if calls else ''} |")
    calls = results[concurrent][1]
    lines += ["", "Calls per operation (each resource read once; images and snapshots batched):", "",
              "| call | count |", "|---|---|"]
    lines += [f"| {service}:{operation} | {count} |" for (service, operation), count in sorted(calls.items())]
    walls = [wall for wall, _ in results.values()]
    lines += ["", f"Concurrent / sequential: {walls[0] / walls[1]:.2f}. What --live adds to a whole process: "
              f"{(walls[2] - walls[3]) * 1000:.0f} ms, {(walls[2] - walls[3]) / latency:.1f} round trips."
              + (f" This process / {args.peer_name}'s: {walls[2] / walls[5]:.2f}." if args.peer else ""), "",
              "The reads of the plan (`ListClusterNodes`), of lifecycle readiness (the execution role's "
              "policies, `GetBucketPolicy`, the Slurm `provisioning_parameters.json`) are in the counts above; "
              "each runs beside the others in the one prefetch. The longest chains are three calls deep: the "
              "caller's policies (`GetCallerIdentity`; its lists, `GetUser` and one page of `ListPolicies` "
              "together; `GetPolicyVersion` and the inline documents), the AMI's (`DescribeImages`, "
              "`DescribeSnapshots`, `DescribeKey`) and the lifecycle bucket's (`GetCallerIdentity`; `HeadBucket` "
              "with the caller's account as `ExpectedBucketOwner`; the script's `GetObject` and `GetBucketPolicy` "
              "together). The clusters `ListClusters` names are described together, up to 16 at once. A caller in "
              "IAM groups adds one (the groups' lists); a managed policy that page does not list adds one "
              "(`GetPolicy`).", "",
              f"A whole `--live` process costs more than its round trips: before its first call it imports "
              f"botocore and makes the session and its first client ({walls[4] / latency:.1f} round trips in a "
              "process of its own), beside the offline peer's work; "
              "the other clients are made from the compact models of the calls preflight makes "
              "(`preflight/aws/models/`) while the first calls are in flight, and the checks that need the "
              "answers run after the last one.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
