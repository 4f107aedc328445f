"""How fast a tree of shell scripts and Markdown without HyperPod commands is scanned: the cost a
pre-commit hook or a `preflight check .` pays on a repository where most files hold no request.

A tree of 1,000 files (half shell scripts, half Markdown; one in ten mentions sagemaker in a
read-only command or a URL, so the shell grammar runs on it) is written once; then, interleaved,
whole-process medians of `preflight check FOLDER` (walked outside a git work tree, and inside
one: `git ls-files`) and `preflight check FILE...` (the list a hook passes). A peer run in the
same session, `preflight check` of one request file, gives the process's fixed cost.

    python bench/bench_scan.py [--runs 11] [--files 1000]
"""

from __future__ import annotations

import argparse
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import REQUEST, bench  # noqa: E402  (bench/bench.py: measure and bench)

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
# Job {n}: sync the data set and start training.
BUCKET=${{BUCKET:-my-training-data-{n}}}
aws s3 sync ./data "s3://$BUCKET/data/{n}/" --exclude '*.tmp'
for shard in $(seq 1 {shards}); do
  python train.py --shard "$shard" --epochs {epochs} | tee "logs/train-$shard.log"
done
if [[ -f done.flag ]]; then echo "job {n} finished"; fi
"""
SCRIPT_MENTION = SCRIPT + 'aws sagemaker describe-cluster --cluster-name "cluster-{n}" --query ClusterStatus\n'
MARKDOWN = """# Runbook {n}

How to run job {n}: check out the repository, then

```bash
pip install -r requirements.txt
python train.py --epochs {epochs}
```

| step | what |
|---|---|
| 1 | prepare the data |
| 2 | train for {epochs} epochs |
"""
MARKDOWN_MENTION = MARKDOWN + """
See https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-hyperpod.html and:

```console
$ aws sagemaker list-clusters --query 'ClusterSummaries[].ClusterName'
```
"""


def write_tree(root: pathlib.Path, count: int) -> list[str]:
    generator = random.Random(7)
    paths = []
    for n in range(count):
        folder = root / f"team{n % 20}" / ("scripts" if n % 2 == 0 else "docs")
        folder.mkdir(parents=True, exist_ok=True)
        mention = n % 10 == 0
        values = {"n": n, "shards": generator.randint(1, 64), "epochs": generator.randint(1, 100)}
        if n % 2 == 0:
            path = folder / f"job-{n}.sh"
            path.write_text((SCRIPT_MENTION if mention else SCRIPT).format(**values))
        else:
            path = folder / f"runbook-{n}.md"
            path.write_text((MARKDOWN_MENTION if mention else MARKDOWN).format(**values))
        paths.append(str(path))
    return paths


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--preflight", default=str(pathlib.Path(sys.executable).parent / "preflight"))
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="preflight-scan-"))
    try:
        plain, tracked = work / "plain", work / "tracked"
        files = write_tree(plain, args.files)
        shutil.copytree(plain, tracked)
        subprocess.run(["git", "init", "-q", str(tracked)], check=True)
        subprocess.run(["git", "-C", str(tracked), "add", "-A"], check=True)
        preflight = args.preflight
        commands = {
            "check 1 request (the fixed cost)": [preflight, "check", str(REQUEST)],
            f"check FOLDER ({args.files} files, no git)": [preflight, "check", "--isolated", str(plain)],
            f"check FOLDER ({args.files} files, git ls-files)": [preflight, "check", "--isolated", str(tracked)],
            f"check FILE... ({args.files} files, as a hook passes them)": [preflight, "check", "--isolated", *files],
        }
        results = bench(commands, args.runs)
    finally:
        shutil.rmtree(work)
    print(f"medians of {args.runs} interleaved runs\n")
    fixed = results["check 1 request (the fixed cost)"]["wall_s"]
    print("| command | median wall | files/s, whole process | files/s beyond the fixed cost | peak RSS | exit |\n"
          "|---|---|---|---|---|---|")
    for name, result in results.items():
        scan = "FOLDER" in name or "FILE..." in name
        whole = f"{args.files / result['wall_s']:,.0f}" if scan else "-"
        beyond = f"{args.files / max(result['wall_s'] - fixed, 1e-6):,.0f}" if scan else "-"
        print(f"| {name} | {result['wall_s'] * 1000:.0f} ms | {whole} | {beyond} | {result['rss_mib']:.1f} MiB | "
              f"{result['exit']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
