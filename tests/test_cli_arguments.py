"""The AWS CLI argument reader (preflight/commandline/arguments.py), held to the AWS CLI itself: the
``awscli`` package's own driver reads the same words (tests/awscli_reference.py, in a process of its
own, on the botocore model the schemas come from) and must build the same request, or refuse too."""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from preflight import drift, schema
from preflight.commandline.arguments import Built, build, option_name
from preflight.commandline.words import UNKNOWN_END, UNKNOWN_START, Word, argument
from preflight.operations import OPERATIONS
from preflight.values import Unresolved
from strategies import from_schema

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "published" / "commandline"
MAX_BYTES = 1 << 20
# 25 command lines for each of the 19 operations on every run (about a minute and a half on a loaded
# 2-core machine); 150 each passed when the reader was written.
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


class Reference:
    """awscli's driver in its own process (tests/awscli_reference.py)."""

    def __init__(self, model_dir: pathlib.Path):
        self.model_dir = model_dir
        self.process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "awscli_reference.py"), str(model_dir)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, operation: str, words: list[str], cwd: pathlib.Path) -> dict:
        self.process.stdin.write(json.dumps({"args": ["sagemaker", operation, *words], "cwd": str(cwd)}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-arguments")


@pytest.fixture(scope="module")
def reference(workdir):
    installed = drift.installed_botocore()
    assert installed is not None and installed.model_path.is_file(), "the test extra installs botocore"
    assert shutil.which("aws", path=str(pathlib.Path(sys.executable).parent)), "the test extra installs awscli"
    model_dir = workdir / "model"
    target = model_dir / "sagemaker" / schema.source()["api_version"]
    target.mkdir(parents=True)
    shutil.copy(installed.model_path, target / installed.model_path.name)
    cli = Reference(model_dir)
    yield cli
    cli.close()


def words_of(*texts: str) -> list[Word]:
    """Words given one after another, a space apart (their offsets in that line)."""
    words, start = [], 0
    for text in texts:
        words.append(argument(text, start))
        start += len(text) + 1
    return words


def built(operation: str, *texts: str, directory=".") -> Built:
    return build(operation, words_of(*texts), directory=str(directory), max_bytes=MAX_BYTES)


def agree(reference: Reference, operation: str, texts: list[str], directory: pathlib.Path) -> Built:
    """Ours and the CLI's reading of the same words: the same request, or both refuse."""
    ours = built(operation, *texts, directory=directory)
    theirs = reference.run(operation, texts, directory)
    if ours.partial:
        if "--" in texts:  # a word not read: what the CLI makes of the command is not claimed
            return ours
        # else an input document that cannot be read, said as a problem; the CLI refuses it too
        assert ours.problems and "refused" in theirs, (texts, theirs)
        return ours
    if "request" in theirs:
        assert ours.problems == [], (texts, theirs)
        assert json.loads(json.dumps(ours.request)) == theirs["request"], texts
    elif "no_request" in theirs:
        assert ours.no_request and ours.problems == [], texts
    else:
        # A required option left out is the request schema's finding (PF1xx), not the reader's.
        missing = "the following arguments are required" in theirs["refused"]
        assert ours.problems or missing, (texts, theirs["refused"])
    return ours


# --- option names ----------------------------------------------------------------------------------

def test_option_names_are_botocores_xform_name_of_every_member():
    from botocore import xform_name

    names = {name for operation in OPERATIONS for definition in schema.load(operation)["$defs"].values()
             for name in definition.get("properties", {})}
    assert len(names) > 100
    for name in sorted(names) + ["DBInstanceARNs", "VPCConfig", "Already-dashed"]:
        assert option_name(name) == xform_name(name, "-"), name


# --- examples: what the issue and the CLI's documentation show --------------------------------------

def test_shorthand_and_json_build_the_request(reference, workdir):
    ours = agree(reference, "create-cluster", [
        "--cluster-name", "x", "--orchestrator", "Eks={ClusterArn=arn:aws:eks:us-west-2:111122223333:cluster/e}",
        "--instance-groups",
        "InstanceGroupName=a,InstanceCount=2,LifeCycleConfig={SourceS3Uri=s3://b/,OnCreate=x.sh}",
        "InstanceGroupName=b,InstanceCount=1,InstanceStorageConfigs=[{EbsVolumeConfig={VolumeSizeInGB=100,RootVolume=false}}]",
        "--vpc-config", "SecurityGroupIds=sg-1,sg-2,Subnets=subnet-1", "--region", "us-west-2"], workdir)
    assert ours.request["InstanceGroups"][1]["InstanceStorageConfigs"] == [
        {"EbsVolumeConfig": {"VolumeSizeInGB": 100, "RootVolume": False}}]
    assert ours.request["VpcConfig"] == {"SecurityGroupIds": ["sg-1", "sg-2"], "Subnets": ["subnet-1"]}
    assert set(ours.globals) == {"region"} and ours.globals["region"].text == "us-west-2"
    inline = built("delete-cluster", "--cluster-name", "x", "--region=eu-west-1").globals["region"]
    assert (inline.text, inline.start) == ("eu-west-1", len("--cluster-name x --region="))


def test_two_json_objects_given_as_two_words_are_a_list_of_two(reference, workdir):
    group = '{"InstanceGroupName": "%s", "InstanceCount": 1}'
    ours = agree(reference, "create-cluster", ["--cluster-name", "x", "--instance-groups", group % "a", group % "b"],
                 workdir)
    assert [g["InstanceGroupName"] for g in ours.request["InstanceGroups"]] == ["a", "b"]


def test_several_words_and_a_json_list_for_a_list_of_strings(reference, workdir):
    assert agree(reference, "batch-delete-cluster-nodes", ["--cluster-name", "x", "--node-ids", "i-1", "i-2"],
                 workdir).request["NodeIds"] == ["i-1", "i-2"]
    assert agree(reference, "batch-delete-cluster-nodes", ["--cluster-name", "x", "--node-ids", '["i-1", "i-2"]'],
                 workdir).request["NodeIds"] == ["i-1", "i-2"]
    # a comma does not separate the values of a list of strings
    assert agree(reference, "batch-delete-cluster-nodes", ["--cluster-name", "x", "--node-ids", "i-1,i-2"],
                 workdir).request["NodeIds"] == ["i-1,i-2"]


def test_integers_and_global_options(reference, workdir):
    ours = agree(reference, "update-cluster-scheduler-config", [
        "--cluster-scheduler-config-id", "abc", "--output", "json", "--target-version", "3",
        "--query", "x", "--no-paginate", "--endpoint-url", "http://127.0.0.1:9"], workdir)
    assert ours.request == {"ClusterSchedulerConfigId": "abc", "TargetVersion": 3}
    assert set(ours.globals) == {"output", "query", "no-paginate", "endpoint-url"}
    assert ours.globals["no-paginate"] is None
    refused = agree(reference, "update-cluster-scheduler-config", [
        "--cluster-scheduler-config-id", "abc", "--target-version", "three"], workdir)
    assert refused.problems[0].message == "--target-version: `three` is not an integer"
    assert refused.problems[0].offset == len("--cluster-scheduler-config-id abc --target-version ")


def test_an_empty_region_is_refused_wherever_the_suite_runs(reference, workdir, monkeypatch):
    """The CLI makes its endpoint from the region, and an empty one makes none; the reference reads no
    AWS setting of its caller (the embedded AWS sets AWS_ENDPOINT_URL for the suite)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    fresh = Reference(reference.model_dir)
    try:
        refused = agree(fresh, "delete-cluster", ["--cluster-name", "x", "--region", ""], workdir)
    finally:
        fresh.close()
    assert refused.problems[0].message == "`` is not a region name"


def test_only_the_last_query_must_be_an_expression(reference, workdir):
    """The CLI compiles --query once parsing is done: an empty one given before another is not read."""
    assert agree(reference, "delete-cluster", ["--query", "", "--cluster-name", "x", "--query", "ClusterArn"],
                 workdir).problems == []
    refused = agree(reference, "delete-cluster", ["--query", "ClusterArn", "--cluster-name", "x", "--query", ""],
                    workdir)
    assert refused.problems[0].message == "--query takes a JMESPath expression; it is empty"


def test_what_the_cli_refuses(reference, workdir):
    unknown = agree(reference, "delete-cluster", ["--cluster-name", "x", "--cluser-nam", "y"], workdir)
    assert [(p.offset, p.message, p.fix) for p in unknown.problems] == [
        (len("--cluster-name x "), "unknown option --cluser-nam", "did you mean --cluster-name?")]
    missing = agree(reference, "delete-cluster", ["--region", "us-east-1", "--cluster-name"], workdir)
    assert missing.problems[0].message == "--cluster-name needs a value"
    stray = agree(reference, "delete-cluster", ["--cluster-name", "x", "y"], workdir)
    assert stray.problems[0].offset == len("--cluster-name x ")
    bad_json = agree(reference, "create-cluster", ["--cluster-name", "x", "--vpc-config", '{"Subnets": [}'], workdir)
    assert bad_json.problems[0].offset == len("--cluster-name x --vpc-config ") + len('{"Subnets": [')
    bad_shorthand = agree(reference, "create-cluster", ["--cluster-name", "x", "--vpc-config", "Subnets=[a,b"],
                          workdir)
    assert bad_shorthand.problems[0].message.startswith("--vpc-config: bad shorthand")
    twice = agree(reference, "create-cluster", ["--cluster-name", "x", "--vpc-config", "Subnets=a,Subnets=b"], workdir)
    assert "Subnets is given twice" in twice.problems[0].message


def test_the_last_of_an_option_given_twice_wins_and_a_prefix_stands_for_the_option(reference, workdir):
    assert agree(reference, "delete-cluster", ["--cluster-name", "x", "--cluster-name", "y"],
                 workdir).request == {"ClusterName": "y"}
    assert agree(reference, "delete-cluster", ["--cluster=x"], workdir).request == {"ClusterName": "x"}
    ambiguous = agree(reference, "create-cluster", ["--cluster-name", "x", "--cluster", "y"], workdir)
    assert ambiguous.problems[0].message == "`--cluster` is ambiguous: it could be --cluster-name, --cluster-role"


def test_files_are_read_relative_to_the_directory(reference, workdir):
    folder = workdir / "files"
    folder.mkdir()
    (folder / "groups.json").write_text('[{"InstanceGroupName": "a", "InstanceCount": 1}]\n')
    (folder / "name.txt").write_text("from-a-file\n")
    ours = agree(reference, "create-cluster", ["--cluster-name", "file://name.txt", "--instance-groups",
                                               "file://groups.json"], folder)
    assert ours.request == {"ClusterName": "from-a-file\n",
                            "InstanceGroups": [{"InstanceGroupName": "a", "InstanceCount": 1}]}
    assert ours.files == [str(folder / "name.txt"), str(folder / "groups.json")]
    assert ours.origins["/InstanceGroups/0/InstanceCount"] == len("--cluster-name file://name.txt --instance-groups ")
    missing = agree(reference, "create-cluster", ["--cluster-name", "x", "--vpc-config", "file://absent.json"], folder)
    assert missing.problems[0].message.startswith("--vpc-config: absent.json is not there")
    assert missing.problems[0].kind == "file-missing"  # the CLI refuses it now; a script may make it first
    (folder / "big.json").write_text("[" + " " * MAX_BYTES + "]")
    too_big = built("create-cluster", "--cluster-name", "x", "--instance-groups", "file://big.json", directory=folder)
    assert too_big.problems[0].message.startswith("--instance-groups: big.json: larger than 1,048,576 bytes")
    shorthand_file = agree(reference, "create-cluster", ["--cluster-name", "x", "--vpc-config",
                                                         "Subnets=a,SecurityGroupIds@=file://name.txt"], folder)
    assert shorthand_file.request["VpcConfig"]["SecurityGroupIds"] == ["from-a-file\n"]
    # botocore refuses the bytes fileb:// gives for a text member (after the reference's capture)
    binary = built("delete-cluster", "--cluster-name", "fileb://name.txt", directory=folder)
    assert [(p.offset, p.fix) for p in binary.problems] == [(len("--cluster-name "), "use file://name.txt")]


def test_cli_input_json_gives_what_the_options_do_not(reference, workdir):
    folder = workdir / "input"
    folder.mkdir()
    (folder / "request.json").write_text('{"ClusterName": "from-file", "NodeIds": ["i-1"]}')
    ours = agree(reference, "batch-delete-cluster-nodes", ["--cli-input-json", "file://request.json",
                                                           "--cluster-name", "explicit"], folder)
    assert ours.request == {"ClusterName": "explicit", "NodeIds": ["i-1"]}
    literal = agree(reference, "batch-delete-cluster-nodes", ["--cli-input-json", '{"ClusterName": "lit"}'], folder)
    assert literal.request == {"ClusterName": "lit"} and literal.origins["/ClusterName"] == len("--cli-input-json {")
    (folder / "request.yaml").write_text("ClusterName: from-yaml\nNodeIds: [i-2]\n")
    yaml_input = built("batch-delete-cluster-nodes", "--cli-input-yaml", "file://request.yaml", directory=folder)
    assert yaml_input.request == {"ClusterName": "from-yaml", "NodeIds": ["i-2"]} and not yaml_input.problems
    assert agree(reference, "create-cluster", ["--generate-cli-skeleton"], folder).no_request == \
        "--generate-cli-skeleton"
    # (the CLI renders help with groff and a pager, which this machine need not have)
    assert built("delete-cluster", "help").no_request == "help"
    not_an_object = agree(reference, "delete-cluster", ["--cli-input-json", '["x"]'], folder)
    assert not_an_object.problems[0].message == "--cli-input-json: the input is not an object of request members"
    invalid = agree(reference, "delete-cluster", ["--cli-input-json", '{"ClusterName": x}'], folder)
    assert invalid.problems[0].offset == len('--cli-input-json {"ClusterName": ')


# --- unknown shell expansions: never an error, the values they stand in are Unresolved --------------

def unknown(expansion: str) -> str:
    return UNKNOWN_START + expansion + UNKNOWN_END


def test_unknown_expansions_are_unresolved_never_errors():
    ours = built("create-cluster", "--cluster-name", unknown("$NAME"), "--instance-groups",
                 '{"InstanceGroupName": "g-%s", "InstanceCount": %s}' % (unknown("$ID"), unknown("$N")),
                 "--vpc-config", f"Subnets={unknown('${SUBNET}')},SecurityGroupIds=sg-1",
                 "--region", unknown("$REGION"))
    assert ours.problems == []
    assert isinstance(ours.request["ClusterName"], Unresolved) and ours.request["ClusterName"] == "$NAME"
    assert isinstance(ours.request["InstanceGroups"], Unresolved)  # the JSON cannot be read without $N
    assert ours.request["VpcConfig"] == {"Subnets": ["${SUBNET}"], "SecurityGroupIds": ["sg-1"]}
    assert isinstance(ours.request["VpcConfig"]["Subnets"][0], Unresolved)
    assert [name for name, _ in ours.unknown] == ["$NAME", "$ID", "$N", "${SUBNET}", "$REGION"]
    nodes = built("batch-delete-cluster-nodes", "--cluster-name", "x", "--node-ids", unknown("$IDS"))
    assert isinstance(nodes.request["NodeIds"], Unresolved)  # unquoted, it may be any number of words
    count = built("move-cluster-nodes", "--instance-count", unknown("$(count)"), "--source-cluster-arn", "a")
    assert count.problems == [] and count.request["InstanceCount"] == "$(count)"
    extra = built("delete-cluster", "--cluster-name", "x", unknown("$EXTRA_ARGS"))
    assert extra.problems == [] and extra.partial
    whole_input = built("delete-cluster", "--cli-input-json", unknown("$REQUEST"))
    assert whole_input.problems == [] and whole_input.partial and whole_input.request == {}
    input_value = built("delete-cluster", "--cli-input-json", '{"ClusterName": "%s"}' % unknown("${NAME}"))
    assert input_value.request == {"ClusterName": "${NAME}"} and not input_value.partial
    escaped = built("delete-cluster", "--cluster-name", "x", "--cli-input-json", '{"Other": "\\ue000"}')
    assert escaped.request["Other"] == UNKNOWN_START and not isinstance(escaped.request["Other"], Unresolved)


# --- positions inside a quoted word -----------------------------------------------------------------

def shell_words(line: str) -> list[Word]:
    """Words of a line of plain and single-quoted text, each character's offset kept (enough for these
    tests; the shell reader is a module of its own)."""
    words = []
    for match in re.finditer(r"(?:'[^']*'|[^\s'])+", line):
        text, offsets = [], []
        for piece in re.finditer(r"'([^']*)'|([^\s'])", match.group()):
            group = 1 if piece.group(1) is not None else 2
            text.append(piece.group(group))
            offsets.extend(range(match.start() + piece.start(group), match.start() + piece.end(group)))
        words.append(Word("".join(text), tuple(offsets), match.start(), match.end()))
    return words


def test_problems_and_origins_point_into_a_single_quoted_word():
    line = ("aws sagemaker create-cluster --cluster-name x --instance-groups "
            """'[{"InstanceGroupName": "a", "InstanceCount": 2, "LifeCycleConfig": {"OnCreate": "x.sh"}}]' """
            "--vpc-config 'Subnets=s-1, s-2,SecurityGroupIds=[sg-1,sg-2]'")
    ours = build("create-cluster", shell_words(line)[3:], directory=".", max_bytes=MAX_BYTES)
    assert ours.problems == []
    assert line[ours.origins["/InstanceGroups/0/InstanceCount"]:].startswith('"InstanceCount": 2')
    assert line[ours.origins["/InstanceGroups/0/LifeCycleConfig/OnCreate"]:].startswith('"OnCreate"')
    assert line[ours.origins["/VpcConfig/Subnets/1"]:].startswith("s-2,")
    assert line[ours.origins["/VpcConfig/SecurityGroupIds/1"]:].startswith("sg-2]")
    assert line[ours.origins["/ClusterName"]:].startswith("x --instance-groups")

    bad = ("aws sagemaker create-cluster --cluster-name x --instance-groups "
           """'[{"InstanceGroupName": "a", "RootVolume": True}]'""")
    problem = build("create-cluster", shell_words(bad)[3:], directory=".", max_bytes=MAX_BYTES).problems[0]
    assert bad[problem.offset:].startswith("True}]'") and problem.fix == "JSON spells it `true`"
    shorthand = "aws sagemaker create-cluster --cluster-name x --vpc-config 'Subnets=[a,b,SecurityGroupIds=c'"
    problem = build("create-cluster", shell_words(shorthand)[3:], directory=".", max_bytes=MAX_BYTES).problems[0]
    assert problem.offset == len(shorthand), problem  # the list is still open where the word ends
    second = ("aws sagemaker create-cluster --cluster-name x --instance-groups InstanceGroupName=a "
              "'InstanceGroupName=b,InstanceCount=x'")
    problem = build("create-cluster", shell_words(second)[3:], directory=".", max_bytes=MAX_BYTES).problems[0]
    assert second[problem.offset:] == "x'", problem  # in the second word
    count = "aws sagemaker create-cluster --cluster-name x --instance-groups 'InstanceGroupName=a,InstanceCount=two'"
    problem = build("create-cluster", shell_words(count)[3:], directory=".", max_bytes=MAX_BYTES).problems[0]
    assert count[problem.offset:].startswith("two'") and "InstanceCount" in problem.message


# --- generated command lines, held to the CLI ------------------------------------------------------

QUOTING = st.text(alphabet=st.sampled_from(list("ab1 ,=[]{}'\"\\@:/-_.$*\n")), max_size=8)


def member_shapes(operation: str) -> tuple[dict, dict, list[str]]:
    document = schema.load(operation)
    defs = document["$defs"]
    root = defs[document["$ref"].rpartition("/")[2]]
    return root["properties"], defs, root.get("required", [])


def resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = defs[node["$ref"].rpartition("/")[2]]
    return node


@st.composite
def shorthand(draw, value, node: dict, defs: dict, top: bool = True) -> str:
    node = resolve(node, defs)
    if isinstance(value, dict):
        properties = node.get("properties", {})
        parts = [f"{key}={draw(shorthand(item, properties.get(key, node.get('additionalProperties', {})), defs, False))}"
                 for key, item in value.items()]
        body = draw(st.sampled_from([",", ", "])).join(parts)
        return body if top else "{" + body + "}"
    if isinstance(value, list):
        items = [draw(shorthand(item, node.get("items", {}), defs, False)) for item in value]
        return "[" + ",".join(items) + "]"
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    quote = draw(st.sampled_from(["", "", '"', "'"]))
    return quote + text + quote


@st.composite
def command_lines(draw, operation: str, workdir: pathlib.Path):
    """The words of one command: each member drawn from the schema (strings often full of the
    characters quoting and shorthand care about), written as JSON, shorthand, several words, a
    file:// file or a plain word, in any order, among global options; sometimes broken a little."""
    properties, defs, required = member_shapes(operation)
    optional = sorted(set(properties) - set(required))
    chosen = required + (draw(st.lists(st.sampled_from(optional), unique=True, max_size=3)) if optional else [])
    groups = []
    # Some members from --cli-input-json (literal or a file), sometimes given as options too.
    from_input = draw(st.lists(st.sampled_from(chosen), unique=True)) if chosen and draw(st.booleans()) else []
    if from_input:
        document = json.dumps({member: draw(from_schema(properties[member], defs)) for member in from_input})
        if draw(st.booleans()):
            name = f"input-{draw(st.integers(0, 10**9))}.json"
            (workdir / name).write_text(document)
            document = f"file://{name}"
        groups.append(["--cli-input-json", document])
        chosen = [member for member in chosen if member not in from_input or draw(st.booleans())]
    for member in chosen:
        node = resolve(properties[member], defs)
        strategy = from_schema(properties[member], defs)
        if node.get("type") == "string" and "enum" not in node:
            strategy = strategy | QUOTING.filter(lambda text: not text.startswith(("-", "file://")))
        value = draw(strategy)
        kind = node.get("type")
        words: list[str]
        if kind in ("object", "array"):
            form = draw(st.sampled_from(["json", "shorthand", "words", "file"]))
            if form == "json" or (form == "shorthand" and kind == "array"
                                  and "properties" not in resolve(node["items"], defs)):
                words = [json.dumps(value, indent=draw(st.sampled_from([None, 1])))]
            elif form == "shorthand":
                words = [draw(shorthand(value, node, defs))] if kind == "object" else \
                    [draw(shorthand(item, node["items"], defs)) for item in value]
                if kind == "array" and not value:
                    words = ["[]"]
            elif form == "words" and kind == "array":
                item_node = resolve(node["items"], defs)
                words = [json.dumps(item) if item_node.get("type") in ("object", "array") else str(item)
                         for item in value]
            else:
                name = f"value-{draw(st.integers(0, 10**9))}.json"
                (workdir / name).write_text(json.dumps(value))
                words = [f"file://{name}"]
        else:
            words = [str(value).lower() if isinstance(value, bool) else str(value)]
        if len(words) == 1 and draw(st.booleans()):
            groups.append([f"--{option_name(member)}={words[0]}"])
        else:
            groups.append(["--" + option_name(member), *words])
    groups += draw(st.lists(st.sampled_from([["--region", "us-west-2"], ["--output", "text"], ["--no-paginate"],
                                             ["--query", "ClusterArn"], ["--color", "off"]]), max_size=2))
    groups = draw(st.permutations(groups))
    texts = [text for group in groups for text in group]
    mutation = draw(st.sampled_from(["none"] * 6 + ["truncate", "drop", "insert"]))
    if mutation != "none" and texts:
        at = draw(st.integers(0, len(texts) - 1))
        if mutation == "truncate":
            texts[at] = texts[at][:draw(st.integers(0, max(len(texts[at]) - 1, 0)))]
        elif mutation == "drop":
            del texts[at]
        else:
            texts.insert(at, draw(QUOTING | st.sampled_from(["--cluster-nam", "--bogus", "-x", "-5"])))
    return texts


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@SETTINGS
@given(data=st.data())
def test_generated_command_lines_build_what_the_cli_builds(operation, data, reference, workdir):
    texts = data.draw(command_lines(operation, workdir))
    # The characters that mark unknown expansions are private to the shell reader (words.py).
    assume(not any(UNKNOWN_START in text or UNKNOWN_END in text for text in texts))
    agree(reference, operation, texts, workdir)


# --- the published corpus ---------------------------------------------------------------------------

def corpus_commands():
    """(id, operation, words, files, expected) of the corpus commands of the 19 operations that the CLI
    ran on their own words and the corpus's files (shell variables given by the manifest substituted)."""
    manifest = yaml.safe_load((CORPUS / "manifest.yaml").read_text())
    for entry in manifest:
        for command in entry["commands"]:
            result = command.get("cli_v1_result") or {}
            given_with = result.get("with", "")
            files = {ref["uri"].removeprefix("file://"): ref.get("local") for ref in command.get("file_refs", [])}
            if command["operation"] not in OPERATIONS or None in files.values() or not (
                    "request" in result or str(result.get("error", "")).startswith("JSON received")):
                continue
            variables = dict(re.findall(r"(\w+)=([\w.-]+)", given_with.partition("shell variables set for this run:")[2]))
            lines = (CORPUS / "files" / entry["file"]).read_text().splitlines()
            text = "\n".join(lines[command["line"] - 1:command.get("end_line") or command["line"]])
            text = re.sub(r"\\\n", " ", text.strip().removeprefix("$ "))
            if re.search(r"\$\{\w+[^\w}]", text):
                continue
            text = re.sub(r"\$\{?(\w+)\}?", lambda m: variables[m.group(1)], text)
            try:
                words = shlex.split(text)
            except ValueError:  # a backslash before trailing blanks: more than simple splitting
                continue
            service = words.index("sagemaker")
            operation_at = words.index(command["operation"], service)
            yield (f"{entry['file']}:{command['line']}", command["operation"],
                   words[service + 1:operation_at] + words[operation_at + 1:], files, result)


CORPUS_COMMANDS = list(corpus_commands())


def test_the_corpus_has_commands_to_read():
    assert len(CORPUS_COMMANDS) >= 15


@pytest.mark.parametrize("name, operation, texts, files, expected", CORPUS_COMMANDS,
                         ids=[c[0] for c in CORPUS_COMMANDS])
def test_published_commands_build_what_aws_cli_1_45_built(name, operation, texts, files, expected, tmp_path):
    for path, local in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / "files" / local, tmp_path / path)
    ours = built(operation, *texts, directory=tmp_path)
    if "request" in expected:
        assert ours.problems == [] and ours.request == expected["request"]
    else:  # the CLI's own refusals: invalid JSON
        assert ours.problems and ours.problems[0].message.startswith("--instance-groups: invalid JSON"), expected
