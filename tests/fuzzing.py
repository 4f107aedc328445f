"""Fuzzing the whole CLI: Hypothesis strategies for hostile request, policy and
authorization-details files, and a runner that feeds them to ``preflight check`` in process (the
real ``cli.main``, its output encoded strictly as UTF-8, as on a terminal or a pipe).

Shared by tests/test_fuzz.py (a bounded budget in the suite) and bench/fuzz_campaign.py (long runs).
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import sys
import tempfile

from hypothesis import strategies as st

from strategies import ANY_JSON, requests

DOCUMENTED_EXITS = {0, 1, 2}  # offline: nothing blocking, blocking findings, usage error (4: a defect)
OPERATIONS = ("create-cluster", "update-cluster", "update-cluster-software", "delete-cluster",
              "batch-delete-cluster-nodes")
from preflight.formats import FORMATS  # noqa: E402 - every output format

# Characters that have broken parsers and printers: controls, C1, bidi, separators, surrogates.
HOSTILE_CHARS = st.sampled_from(["\x00", "\x1b[31m", "\n", "\r", "\t", "\x9b", "\u202e", "\u2028", "\ud800",
                                 "\udfff", "\ufeff", "\\", '"', "'", "True", "None", "NaN", "-Infinity", "1e999",
                                 "&a", "*a", "!!binary", "!!python/object", "<", "{{", "${x}", "~1", "/", "é", "😀"])
HOSTILE_TEXT = st.lists(HOSTILE_CHARS | st.text(max_size=8), max_size=12).map("".join)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(HOSTILE_TEXT | st.sampled_from(["Statement", "Action", "Arn", "Effect"]),
                                      inner, max_size=4), max_leaves=20)


def _mutate(request: dict, data) -> object:
    """A schema-drawn request with one member replaced by something hostile."""
    if not request:
        return request
    key = data.draw(st.sampled_from(sorted(request)))
    return {**request, key: data.draw(VALUES)}


@st.composite
def request_documents(draw):
    """(file name, bytes): drawn requests, mutated ones, arbitrary JSON, hostile text; written as
    JSON, YAML, Python-flavoured JSON or raw bytes."""
    operation = draw(st.sampled_from(OPERATIONS))
    kind = draw(st.sampled_from(["schema", "mutated", "json", "text", "bytes", "deep"]))
    if kind == "schema":
        value = draw(requests(operation))
    elif kind == "mutated":
        value = _mutate(draw(requests(operation)), draw(st.data()))
    elif kind == "json":
        value = draw(ANY_JSON | VALUES)
    elif kind == "deep":
        depth = draw(st.integers(1, 3000))
        opener = draw(st.sampled_from(["[", "{\"a\":", "- ", "a: &a [*a, "]))
        return f"deep.{operation}.{draw(st.sampled_from(['json', 'yaml']))}", (opener * depth).encode()
    elif kind == "bytes":
        return f"raw.{operation}.json", draw(st.binary(max_size=200))
    else:
        text = draw(HOSTILE_TEXT)
        return f"text.{operation}.{draw(st.sampled_from(['json', 'yaml']))}", text.encode("utf-8", "surrogatepass")
    return _serialise(draw, value, operation)


def _serialise(draw, value, operation: str) -> tuple[str, bytes]:
    form = draw(st.sampled_from(["json", "yaml", "python"]))
    if form == "yaml":
        import yaml

        try:
            text = yaml.safe_dump(value, allow_unicode=True)
        except (yaml.YAMLError, UnicodeError, ValueError):
            text = repr(value)
        return f"f.{operation}.yaml", text.encode("utf-8", "surrogatepass")
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if form == "python":  # the seed's mistake, and NaN/Infinity, which json.dumps writes
        text = text.replace("true", "True").replace("null", "None")
    return f"f.{operation}.json", text.encode("utf-8", "surrogatepass")


STATEMENT_VALUES = VALUES | st.sampled_from(["Allow", "Deny", "*", "sagemaker:*", "iam:PassRole",
                                             "arn:aws:iam::111122223333:role/*", ["s3:GetObject", 1]])


@st.composite
def policy_documents(draw):
    """(file name, bytes) of a policy: statements whose elements are right, wrong or hostile."""
    statement = draw(st.dictionaries(st.sampled_from(["Sid", "Effect", "Action", "NotAction", "Resource",
                                                      "NotResource", "Condition", "Principal"]),
                                     STATEMENT_VALUES, max_size=6))
    policy = draw(st.sampled_from([{"Version": "2012-10-17", "Statement": [statement]},
                                   {"Version": "2012-10-17", "Statement": statement},
                                   {"Statement": draw(VALUES)}, draw(VALUES)]))
    return _serialise(draw, policy, "policy")


PRINCIPAL = "arn:aws:iam::111122223333:user/ops"


@st.composite
def authorization_details(draw):
    """(file name, bytes) of get-account-authorization-details output whose lists, ARNs and
    entries may be of any type."""
    entry = {"Arn": draw(st.just(PRINCIPAL) | VALUES)}
    for key in ("UserPolicyList", "AttachedManagedPolicies", "GroupList", "PermissionsBoundary"):
        if draw(st.booleans()):
            entry[key] = draw(VALUES | st.lists(st.fixed_dictionaries({"PolicyArn": VALUES}), max_size=2))
    details = {"UserDetailList": draw(st.just([entry]) | VALUES)}
    for key in ("GroupDetailList", "Policies"):
        if draw(st.booleans()):
            details[key] = draw(VALUES)
    return _serialise(draw, details, "details")


def run_check(files: list[tuple[str, bytes]], policies: list[tuple[str, bytes]] = (), principal: str | None = None,
              output: str = "text") -> tuple[int, str]:
    """``preflight --debug check`` in process on these files: (exit code, stderr). Output goes to a
    strict UTF-8 stream, so that a string the formats cannot print fails as on a real terminal."""
    from preflight import cli

    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, (name, content) in enumerate(list(files) + list(policies)):
            path = pathlib.Path(folder) / f"{index}-{name}"
            path.write_bytes(content)
            paths.append(str(path))
        argv = ["preflight", "--debug", "check", "--format", output, *paths[:len(files)]]
        for path in paths[len(files):]:
            argv += ["--policy", path]
        if principal:
            argv += ["--principal", principal]
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
        stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
        saved, commands = sys.argv, list(cli.app.registered_commands)
        sys.argv = argv
        code = 0
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                cli.main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        finally:  # main() keeps only the command it runs: the tests after this one run the others in process
            sys.argv, cli.app.registered_commands = saved, commands
        stderr.flush()
        return code, stderr.buffer.getvalue().decode()
