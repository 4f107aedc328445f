"""Import cost of the two CEL implementations on the registry, whole processes, interleaved:

    python bench/bench_cel.py [--runs 21]     # with cel-python and common-expression-language installed
"""

from __future__ import annotations

import argparse
import sys

from bench import bench


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    commands = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "import celpy (cel-python)": [sys.executable, "-c", "import celpy"],
        "import cel (common-expression-language)": [sys.executable, "-c", "import cel"],
    }
    results = bench(commands, args.runs)
    floor = results["python -c pass (floor)"]["wall_s"]
    for name, r in results.items():
        print(f"| {name} | {r['wall_s'] * 1000:.0f} ms | +{(r['wall_s'] - floor) * 1000:.0f} ms | {r['rss_mib']:.1f} MiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
