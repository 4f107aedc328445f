"""Hostile inputs end quickly in a finding or a usage error: wall time and peak memory (max RSS)
of whole `preflight check` processes, medians of N runs, next to `preflight check` of a normal
request run in the same session. The parsers' bombs, and a bomb for every expander and reader
(tests/test_budgets.py holds the same ones to their outcome). Writes bench/HOSTILE.md.

    python bench/hostile.py [RUNS]
"""

from __future__ import annotations

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PREFLIGHT = shutil.which("preflight", path=str(pathlib.Path(sys.executable).parent)) or "preflight"
BOMB = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


def inputs(folder: pathlib.Path) -> list[tuple[str, list[str]]]:
    def write(name: str, content: str) -> str:
        path = folder / name
        path.write_text(content)
        return str(path)

    big = '{"ClusterName": "' + "a" * 50_000_000 + '"}'
    return [
        ("a valid request (the peer)", [str(ROOT / "fixtures/seed/corrected/01-standard.create-cluster.json")]),
        (f"YAML alias bomb, {len(BOMB)} bytes, 9^9 values", [write("bomb.create-cluster.yaml", BOMB)]),
        ("recursive alias `a: &a [*a]`", [write("recursive.create-cluster.yaml", "a: &a [*a]")]),
        ("JSON nested 100,000 deep", [write("deep.create-cluster.json", "[" * 100_000 + "]" * 100_000)]),
        ("YAML nested 100,000 deep", [write("deep.create-cluster.yaml", "a: " + "[" * 100_000)]),
        ("50 MB ClusterName (default limit: usage error)", [write("big.delete-cluster.json", big)]),
        ("50 MB ClusterName with --max-bytes 60000000 (PF105)", ["--max-bytes", "60000000",
                                                               str(folder / "big.delete-cluster.json")]),
        ("60,000 Python `True` literals", [write("literals.delete-cluster.json",
                                                 "[" + ",".join(["True"] * 60_000) + "]")]),
        ("a 5,000-digit number", [write("digits.delete-cluster.json", '{"ClusterName": ' + "1" * 5000 + "}")]),
        ("/dev/zero", ["--operation", "delete-cluster", "/dev/zero"]),
        (".tf nested 100,000 deep", [write("deep.tf", 'resource "awscc_sagemaker_cluster" "c" {\n  cluster_name = '
                                                     + "[" * 100_000 + "]" * 100_000 + "\n}\n")]),
        (".tf of one list of 9,900 numbers (about the most tokens parsed)", [write("dense.tf", tf_list(9_900))]),
        (".tf of 1 MiB naming a cluster (not parsed: PF001)", [write("large.tf", tf_list(524_000))]),
    ] + expander_bombs(folder)


def expander_bombs(folder: pathlib.Path) -> list[tuple[str, list[str]]]:
    """Every bomb of tests/test_budgets.py, its files written in a folder of its own."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_budgets import BOMBS

    found = []
    for name, files, args, _, _ in BOMBS:
        place = folder / name
        place.mkdir()
        for file_name, text in files.items():
            (place / file_name).write_text(text)
        found.append((name, ["--cwd", str(place), *args]))
    return found


def tf_list(count: int) -> str:
    return 'resource "awscc_sagemaker_cluster" "c" {\n  cluster_name = [' + ",".join(["1"] * count) + "]\n}\n"


def measure(args: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in MB, exit code) of one whole process, as GNU time reports them (a
    forked child's own figure would include this script's memory)."""
    cwd = None
    if args[:1] == ["--cwd"]:  # a bomb's files are named relative to its folder (.preflight.toml found there)
        cwd, args = args[1], args[2:]
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M %x", PREFLIGHT, "check", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd)
    seconds, kilobytes, code = result.stderr.strip().splitlines()[-1].split()[-3:]
    return float(seconds), int(kilobytes) // 1024, int(code)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, args in inputs(pathlib.Path(folder)):
            samples = [measure(args) for _ in range(runs)]
            rows.append((label, statistics.median(s[0] for s in samples), max(s[1] for s in samples),
                         sorted({s[2] for s in samples})))
    lines = ["# Hostile inputs: time and memory", "",
             f"`python bench/hostile.py {runs}`: whole `preflight check` processes, median wall time and "
             f"largest peak RSS of {runs} runs, on {os.cpu_count()} cores, Python {sys.version.split()[0]}.", "",
             "| input | median | peak RSS | exit |", "|---|---|---|---|"]
    lines += [f"| {label} | {seconds * 1000:.0f} ms | {rss} MB | {', '.join(map(str, codes))} |"
              for label, seconds, rss, codes in rows]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "HOSTILE.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
