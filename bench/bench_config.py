"""What the project configuration costs a check: the same request checked by an install from
before configuration existed and by this one, with no configuration file, beside a pyproject.toml
without a preflight section, and with a .preflight.toml, interleaved in one session.

    python bench/bench_config.py --before VENV_BEFORE --venv VENV [--runs 21]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

from bench import REQUEST, bench

CONFIG = 'select = ["PF1", "PF2"]\nignore = ["PF124"]\nfail-on = "warning"\n[severity]\nPF2 = "info"\n'


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=pathlib.Path, help="venv with the install to compare to")
    parser.add_argument("--venv", required=True, type=pathlib.Path, help="venv with this install")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    before, after = (str(v.resolve() / "bin/preflight") for v in (args.before, args.venv))
    with tempfile.TemporaryDirectory() as tmp:
        bare, plain, configured = (pathlib.Path(tmp) / name for name in ("bare", "plain", "configured"))
        for directory in (bare, plain, configured):
            directory.mkdir()
        (plain / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.black]\nline-length = 100\n')
        (configured / ".preflight.toml").write_text(CONFIG)
        # The request is named by absolute path; the working directory decides the configuration.
        commands = {
            "before, no configuration file": ([before, "check", str(REQUEST)], bare),
            "now, no configuration file": ([after, "check", str(REQUEST)], bare),
            "now, pyproject.toml without [tool.preflight]": ([after, "check", str(REQUEST)], plain),
            "now, .preflight.toml (select, ignore, severity)": ([after, "check", str(REQUEST)], configured),
        }
        results = bench({name: ["sh", "-c", f'cd "{cwd}" && exec "$@"', "sh", *command]
                         for name, (command, cwd) in commands.items()}, args.runs)
    base = results["before, no configuration file"]["wall_s"]
    for name, r in results.items():
        print(f"| {name} | {r['wall_s'] * 1000:.1f} ms | {r['wall_s'] / base:.3f}x | {r['rss_mib']:.1f} MiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
