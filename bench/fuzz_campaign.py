"""The long fuzz campaign: many more hostile requests, policies and authorization-details files
than the suite's budget, through `preflight check` in process (tests/fuzzing.py). Counts inputs,
exit codes and crashes (an exception escaping, exit 4, or any undocumented exit code) and writes
bench/FUZZ.md.

    python bench/fuzz_campaign.py [EXAMPLES_PER_FAMILY]
"""

from __future__ import annotations

import collections
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fuzzing import DOCUMENTED_EXITS, FORMATS, PRINCIPAL, authorization_details, policy_documents, \
    request_documents, run_check  # noqa: E402


def campaign(examples: int) -> dict:
    results: dict = {}
    families = {
        "requests": (st.tuples(request_documents(), st.sampled_from(FORMATS)),
                     lambda case: run_check([case[0]], output=case[1])),
        "requests + policies": (st.tuples(request_documents(), st.lists(policy_documents(), min_size=1, max_size=2),
                                          st.sampled_from(FORMATS)),
                                lambda case: run_check([case[0]], case[1], output=case[2])),
        "requests + authorization details": (
            st.tuples(request_documents(), authorization_details(), st.sampled_from(FORMATS)),
            lambda case: run_check([case[0]], [case[1]], principal=PRINCIPAL, output=case[2])),
    }
    for name, (strategy, run) in families.items():
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
        results[name] = (sum(codes.values()), dict(codes), crashes, time.perf_counter() - started)
    return results


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    results = campaign(examples)
    total = sum(r[0] for r in results.values())
    crashes = sum(len(r[2]) for r in results.values())
    lines = ["# Fuzz campaign", "",
             f"`python bench/fuzz_campaign.py {examples}`: Hypothesis-generated hostile files through "
             "`preflight check` in process (tests/fuzzing.py; outputs encoded strictly as UTF-8).", "",
             f"Inputs: {total:,}. Crashes (an escaping exception, exit 4 or an undocumented exit code): {crashes}.", "",
             "| family | inputs | exit codes | crashes | time |", "|---|---|---|---|---|"]
    for name, (count, codes, found, seconds) in results.items():
        shown = ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items(), key=str))
        lines.append(f"| {name} | {count:,} | {shown} | {len(found)} | {seconds:.0f} s |")
    for name, (_, _, found, _) in results.items():
        for crash in sorted(set(found))[:20]:
            lines.append(f"\n- {name}: `{crash}`")
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "FUZZ.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
