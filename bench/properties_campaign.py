"""The suite's property tests with random draws, round after round: the suite itself runs the same
derandomised examples on every machine (tests/conftest.py), so new examples are found here. Each
round is one pytest run of the property test files under the "campaign" profile with its own seed;
a failing round prints its seed and Hypothesis' reproduce blob.

    python bench/properties_campaign.py [ROUNDS] [--first-seed N] [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROPERTY_FILES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").glob("test_*.py")
                        if "hypothesis" in path.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    args, pytest_args = parser.parse_known_args()
    pytest_args = [arg for arg in pytest_args if arg != "--"]
    env = {**os.environ, "PREFLIGHT_HYPOTHESIS_PROFILE": "campaign"}
    failed = []
    for seed in range(args.first_seed, args.first_seed + args.rounds):
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              f"--hypothesis-seed={seed}", *PROPERTY_FILES, *pytest_args],
                             cwd=ROOT, env=env, capture_output=True, text=True)
        summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"seed {seed}: {summary} ({time.monotonic() - started:.0f} s)", flush=True)
        if run.returncode != 0:
            failed.append(seed)
            print(run.stdout[-6000:], flush=True)
    print(f"{args.rounds} rounds, {len(failed)} failed" + (f": seeds {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
