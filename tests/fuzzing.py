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
import re
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


INTRINSICS = ("Ref", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::If", "Fn::GetAtt",
              "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition", "Fn::Base64", "Fn::ImportValue")
NAMES = st.sampled_from(["P", "Q", "AWS::NoValue", "AWS::Region", "M", "C", "D", "Cluster"])


def _intrinsic(inner):
    argument = inner | NAMES | st.lists(inner | NAMES, max_size=4) | st.just("${P}-${Q}-${!x}-${AWS::Region}")
    return st.builds(lambda name, value: {name: value}, st.sampled_from(INTRINSICS), argument)


TEMPLATE_VALUES = st.recursive(SCALARS | NAMES, lambda inner: _intrinsic(inner) | st.lists(inner, max_size=4) |
                               st.dictionaries(NAMES | HOSTILE_TEXT, inner, max_size=3), max_leaves=20)


@st.composite
def cloudformation_templates(draw):
    """(file name, bytes) of a template: a cluster whose members are right, wrong or intrinsics of
    any shape, parameters, mappings and conditions that refer to one another, an IAM policy."""
    cluster = draw(requests("create-cluster"))
    for key in draw(st.lists(st.sampled_from(sorted(cluster) or ["ClusterName"]), max_size=3)):
        cluster[key] = draw(TEMPLATE_VALUES)
    template = {"AWSTemplateFormatVersion": "2010-09-09",
                "Parameters": draw(st.dictionaries(NAMES, st.fixed_dictionaries(
                    {"Type": st.sampled_from(["String", "Number", "CommaDelimitedList", "List<String>"]) | VALUES},
                    optional={"Default": TEMPLATE_VALUES})) | VALUES),
                "Mappings": draw(st.dictionaries(NAMES, st.dictionaries(NAMES, st.dictionaries(NAMES, TEMPLATE_VALUES,
                                                                                               max_size=2),
                                                                        max_size=2), max_size=2) | VALUES),
                "Conditions": draw(st.dictionaries(NAMES, TEMPLATE_VALUES, max_size=3)),
                "Resources": {"Cluster": {"Type": "AWS::SageMaker::Cluster",
                                          "Properties": draw(st.just(cluster) | TEMPLATE_VALUES)},
                              "Policy": {"Type": "AWS::IAM::Policy",
                                         "Properties": {"PolicyDocument": draw(TEMPLATE_VALUES | st.fixed_dictionaries(
                                             {"Statement": st.lists(st.dictionaries(
                                                 st.sampled_from(["Effect", "Action", "Resource", "Condition"]),
                                                 TEMPLATE_VALUES), max_size=2)}))}}}}
    return _serialise(draw, template, "template")


TERRAFORM_TYPES = st.sampled_from(["awscc_sagemaker_cluster", "aws_sagemaker_cluster",
                                   "awscc_sagemaker_cluster_scheduler_config", "aws_iam_policy", "aws_iam_role"])
SNAKE_CLUSTER = st.fixed_dictionaries({}, optional={
    "cluster_name": VALUES, "instance_groups": VALUES | st.lists(st.dictionaries(
        st.sampled_from(["instance_group_name", "instance_type", "instance_count", "execution_role",
                         "life_cycle_config", "threads_per_core"]), VALUES, max_size=4), max_size=2),
    "instance_group": VALUES, "tags": VALUES, "tags_all": VALUES, "policy": HOSTILE_TEXT | st.just('{"Statement": []}'),
    "inline_policy": VALUES, "orchestrator": VALUES, "vpc_config": VALUES})


@st.composite
def terraform_plans(draw):
    """(file name, bytes) of `terraform show -json`: changes of cluster and IAM resources whose
    actions, before, after and after_unknown are right, wrong (lists for objects, `true`) or hostile."""
    changes = draw(st.lists(st.fixed_dictionaries({
        "type": TERRAFORM_TYPES | VALUES,
        "change": st.fixed_dictionaries({
            "actions": st.sampled_from([["create"], ["update"], ["delete", "create"], ["no-op"]]) | VALUES,
            "before": SNAKE_CLUSTER | VALUES, "after": SNAKE_CLUSTER | VALUES,
            "after_unknown": st.just(True) | SNAKE_CLUSTER | VALUES}) | VALUES}), max_size=3))
    plan = {"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {},
            "resource_changes": draw(st.just(changes) | VALUES)}
    return _serialise(draw, plan, "plan")


@st.composite
def shell_templates(draw):
    """(request template, env file): a request with ``${VAR}`` references where values and whole
    members stand, and an env file whose values refer to earlier ones, or hostile lines."""
    request = draw(requests(draw(st.sampled_from(OPERATIONS))))
    text = json.dumps(request)
    for name in draw(st.lists(st.sampled_from(["A", "B", "C"]), max_size=4)):
        text = text.replace('"', draw(st.sampled_from(['"${%s}' % name, '"$%s' % name, '"${%s:-x}' % name])), 1)
    lines = draw(st.lists(st.sampled_from(["A=1", "B=${A}${A}", "C=$B$B", "export A='${B}'", 'B="x y"', "# c",
                                           "C=${UNSET:-d}", "=x", "A"]) | HOSTILE_TEXT, max_size=6))
    return (f"t.{draw(st.sampled_from(OPERATIONS))}.json", text.encode("utf-8", "surrogatepass")), \
        ("env", "\n".join(lines).encode("utf-8", "surrogatepass"))


def _option(member: str) -> str:
    """A member's AWS CLI option name (``InstanceGroups`` -> ``--instance-groups``), near enough:
    a member the reader does not know is itself a case (PF021)."""
    return "--" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", member).lower()


@st.composite
def command_line_files(draw):
    """A shell script or Markdown file holding ``aws sagemaker`` command lines made from a request:
    its members as options, values as quoted JSON, bare words or hostile text, with the shell's
    own hostile constructs (unclosed quotes, expansions, brace expansions, heredocs) around them."""
    operation = draw(st.sampled_from(OPERATIONS))
    request = draw(requests(operation))
    words = []
    for member, value in (request.items() if isinstance(request, dict) else []):
        text = value if isinstance(value, str) else json.dumps(value)
        quoted = draw(st.sampled_from(["'%s'", '"%s"', "%s", "$'%s'"])) % text.replace("'", "")
        words += [_option(member), draw(st.just(quoted) | HOSTILE_TEXT)]
    around = draw(st.lists(st.sampled_from([
        "cd \"$(dirname \"$0\")\"", "NAME=ml-cluster", "export GROUPS='[{}]'", "cat > in.json <<EOF\n{}\nEOF",
        "aws sagemaker describe-cluster --cluster-name x", "if true; then", "fi", "{a,b}{c,d}", "$(", "'", "\\",
        "aws --region us-west-2 sagemaker delete-cluster --cluster-name \"$NAME\"",
        "aws sagemaker create-cluster --cli-input-json file://in.json"]) | HOSTILE_TEXT, max_size=5))
    line = f"aws sagemaker {operation} " + " ".join(words)
    script = "\n".join(around[:2] + [line] + around[2:]) + "\n"
    if draw(st.booleans()):
        return f"deploy{draw(st.sampled_from(['.sh', '.bash']))}", script.encode("utf-8", "surrogatepass")
    fence = draw(st.sampled_from(["```bash\n%s```\n", "```console\n$ %s```\n", "```\n%s```\n", "%s"]))
    return "README.md", ("# Deploy\n\n" + fence % script).encode("utf-8", "surrogatepass")


@st.composite
def terraform_sources(draw):
    """A ``.tf`` file with an awscc or aws HyperPod cluster resource made from a create request (its
    members as attributes, hostile values, references and functions), or hostile HCL."""
    request = draw(requests("create-cluster"))
    kind = draw(st.sampled_from(["awscc_sagemaker_cluster", "aws_sagemaker_cluster"]))
    lines = [f'resource "{kind}" "c" {{']
    for member, value in (request.items() if isinstance(request, dict) else []):
        name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", member).lower()
        written = draw(st.sampled_from(["json", "var", "hostile", "function"]))
        if written == "json":
            lines.append(f"  {name} = {json.dumps(value)}")
        elif written == "var":
            lines.append(f"  {name} = var.{name}")
        elif written == "function":
            lines.append(f"  {name} = jsonencode({json.dumps(value)})")
        else:
            lines.append(f"  {name} = {json.dumps(draw(HOSTILE_TEXT))}")
    lines.append("}")
    text = "\n".join(lines) + "\n" + draw(st.just("") | HOSTILE_TEXT)
    return "main.tf", text.encode("utf-8", "surrogatepass")


def _toml(value) -> str:
    """A TOML value: JSON's string escapes are TOML's, but for DEL and lone surrogates."""
    if isinstance(value, str):
        return json.dumps(value.encode("utf-8", "replace").decode(), ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    return '"x"'


CONFIG_KEYS = st.sampled_from(["select", "ignore", "severity", "per-file-ignores", "fail-on", "operations",
                               "placeholder-patterns", "region", "unknown"])
CONFIG_VALUES = VALUES | st.sampled_from([["PF1"], ["ALL"], {"PF102": "warning"}, "warning", ["(a+)+$"], ["x{3,}"],
                                          ["(?P<n>a)(?P=n)"], ["["], "us-east-1"])


def _mostly(valid, other):
    """The valid value two times in three, else one of ``other``."""
    return st.sampled_from([True, True, False]).flatmap(lambda keep: st.just(valid) if keep else other)


VALID_CONFIG = {"select": ["PF1", "PF3", "ORG"], "ignore": ["PF105"], "severity": {"PF102": "warning"},
                "per-file-ignores": {"*.yaml": ["PF1"]}, "fail-on": "warning", "operations": {"*.json": "delete-cluster"},
                "placeholder-patterns": ["fill-?in", "(a+)+$"], "region": "us-east-1"}


@st.composite
def configurations(draw):
    """(file name, bytes) of a `.preflight.toml`: keys right, wrong or hostile, suppressions,
    guardrails whose conditions are CEL or not, or a file nested too deep."""
    if draw(st.integers(0, 30)) == 17:
        depth = draw(st.integers(60, 3000))
        return "deep.toml", ("a = " + "[" * depth + "]" * depth).encode()
    lines = [f"{json.dumps(key)} = {_toml(draw(_mostly(VALID_CONFIG.get(key, 'x'), CONFIG_VALUES)))}"
             for key in draw(st.lists(CONFIG_KEYS, max_size=3, unique=True))]
    for _ in range(draw(st.integers(0, 2))):
        valid = {"rule": "PF102", "reason": draw(HOSTILE_TEXT), "file": "*", "pointer": "*"}
        lines.append("[[suppress]]\n" + "\n".join(f"{key} = {_toml(draw(_mostly(valid.get(key, 1), CONFIG_VALUES)))}"
                                                   for key in draw(st.lists(st.sampled_from(
                                                       ["rule", "reason", "file", "pointer", "expires"]),
                                                       unique=True))))
    for _ in range(draw(st.integers(0, 2))):
        condition = draw(st.sampled_from([
            "request.ClusterName == 'x'", "has(request.InstanceGroups)",
            "request.InstanceGroups.all(g, g.InstanceCount < 10)",
            "request.InstanceGroups.all(a, request.InstanceGroups.all(b, a.InstanceGroupName != ''))",
            "request.ClusterName.matches('(a+)+$')", "size(request.ClusterName) > 2", "((((", "1 +"])
            | HOSTILE_TEXT)
        lines.append(f'[[guardrail]]\nid = {_toml(draw(_mostly("ORG00" + str(len(lines)), HOSTILE_TEXT)))}'
                     f"\nmessage = {_toml(draw(HOSTILE_TEXT))}\ncondition = {_toml(condition)}")
    return ".preflight.toml", "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def baselines(draw):
    """(file name, bytes) of a baseline: entries right, wrong or hostile, or not a baseline."""
    entry = st.fixed_dictionaries({"rule": st.sampled_from(["PF102", "PF106"]) | VALUES,
                                   "file": st.just("0-f.delete-cluster.json") | VALUES,
                                   "pointer": st.sampled_from(["/Extra", "/ClusterName"]) | VALUES,
                                   "value": HOSTILE_TEXT | VALUES}, optional={"message": VALUES})
    data = draw(st.fixed_dictionaries({"version": st.just(1) | VALUES, "findings": st.lists(entry, max_size=3)})
                | VALUES)
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.integers(60, 3000))
        return "baseline.json", ("[" * depth + "]" * depth).encode()
    return "baseline.json", json.dumps(data).encode("utf-8", "surrogatepass")


def run_check(files: list[tuple[str, bytes]], policies: list[tuple[str, bytes]] = (), principal: str | None = None,
              output: str = "text", options: list[tuple[str, tuple[str, bytes]]] = ()) -> tuple[int, str]:
    """``preflight --debug check`` in process on these files: (exit code, stderr). ``options``:
    (option, file) pairs such as ("--env-file", (name, content)). Output goes to a strict UTF-8
    stream, so that a string the formats cannot print fails as on a real terminal; what it prints
    must not be forged (tests/test_forged_output.py's rule): a forged line is exit 5 here."""
    from preflight import cli, values

    placeholders = list(values.PLACEHOLDERS)  # a configuration's patterns are added for the process's one run
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
        for option, (name, content) in options:
            path = pathlib.Path(folder) / name
            path.write_bytes(content)
            argv += [option, str(path)]
        if not any(option == "--config" for option, _ in options):
            argv.append("--isolated")
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
            values.PLACEHOLDERS[:] = placeholders
        stderr.flush()
        stdout.flush()
        printed = stdout.buffer.getvalue().decode()
        if code in DOCUMENTED_EXITS and forged(printed, output) + forged(stderr.buffer.getvalue().decode(), "text"):
            return FORGED, f"forged output: {(forged(printed, output) or forged(stderr.buffer.getvalue().decode(), 'text'))!r}"
        return code, stderr.buffer.getvalue().decode()


FORGED = 5  # not an exit code of preflight: the campaign's mark for output that forges a line
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ANNOTATION = re.compile(r"::(error|warning|notice)( (file|line|col|title)=[^:,]*(,(file|line|col|title)=[^:,]*)*)?::")


def forged(text: str, output: str) -> str:
    """The first raw control character or forged workflow-command line in ``text``, else ""."""
    found = RAW.search(text)
    if found:
        return found.group()
    return next((line for line in text.split("\n") if line.lstrip().startswith("::")
                 and not (output == "github" and ANNOTATION.match(line))), "")
