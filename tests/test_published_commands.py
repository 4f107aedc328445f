"""Published ``aws sagemaker`` command lines (fixtures/published/commandline/manifest.yaml) read as
``preflight check`` reads their files: preflight reads exactly the commands the manifest does not
mark ``read: false`` (each such mark says why: a string run by eval, printed text, a log), every
request equals the one aws-cli 1.45.11 built from the same words (values unknown until the script
runs aside), every command the CLI refused has its PF021 (or the manifest says why not), and every
warning or error is listed in the file's ``expect`` with why it is right: a new one fails the suite
until it is fixed or explained.

Each file is laid out at its repository path; the repository files a command names (``file_refs``
with ``local``) are put where the CLI found them when it ran, and a file the manifest says the
same document shows (``content_lines``) is cut from it."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import yaml

from conftest import FIXTURES
from preflight import engine, operations
from preflight.commandline import reader, sources
from preflight.documents import Document
from preflight.findings import Severity
from preflight.values import Unresolved

CORPUS = FIXTURES / "published" / "commandline"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text())
READ = [entry for entry in MANIFEST if sources.kind(entry["path"], (CORPUS / "files" / entry["file"]).read_text())]
MAX_BYTES = 4 << 20


def _lay_out(entry, root):
    """The file at its repository path, with the files its commands read beside it."""
    script = root / entry["repository"].replace("/", "__") / entry["path"]
    script.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "files" / entry["file"], script)
    for command in entry["commands"]:
        for ref in command.get("file_refs", []):
            target = script.parent / ref["uri"].removeprefix("file://")
            if "local" in ref:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(CORPUS / "files" / ref["local"], target)
            elif "content_lines" in ref:
                source = ref["content_lines"]
                lines = (CORPUS / "files" / source["file"]).read_text().splitlines(keepends=True)
                target.write_text("".join(lines[source["first"] - 1:source["last"]]))
    return script


@pytest.fixture(scope="module")
def read_files(tmp_path_factory):
    """file -> (commands listed, (request document, operation) pairs, report) as preflight check reads it."""
    root = tmp_path_factory.mktemp("published-commands")
    found = {}
    for entry in READ:
        script = _lay_out(entry, root)
        document = Document(path=str(script), text=script.read_text())
        pairs, listed = reader.read(document, None, MAX_BYTES)
        found[entry["file"]] = (listed, pairs, engine.run(pairs))
    return found


def _read(command) -> bool:
    return command.get("read", True)


def test_the_corpus_is_read_and_what_is_not_read_says_why():
    commands = [command for entry in READ for command in entry["commands"] if _read(command)]
    assert len(READ) >= 50 and len(commands) >= 100
    for entry in MANIFEST:
        for command in entry["commands"]:
            assert _read(command) and entry in READ or not _read(command) and command["read_why"], \
                (entry["file"], command["line"])


@pytest.mark.parametrize("entry", READ, ids=[entry["file"] for entry in READ])
def test_the_commands_read_are_those_the_manifest_reads(entry, read_files):
    listed, _, _ = read_files[entry["file"]]
    read = Counter((command.line, command.operation) for command in listed if command.service == "sagemaker")
    expected = Counter((command["line"], command["operation"].split()[0])  # "wait cluster-deleted": wait
                       for command in entry["commands"] if _read(command))
    assert read == expected


def _agrees(ours, theirs) -> bool:
    """The CLI's request, where ours knows the value (an unknown expansion agrees with any)."""
    if isinstance(ours, Unresolved):
        return True
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_agrees(ours[key], theirs[key]) for key in ours)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(map(_agrees, ours, theirs))
    return type(ours) is type(theirs) and ours == theirs


def _requests(entry, read_files):
    """(command, its request document or None) of the HyperPod commands read."""
    _, pairs, _ = read_files[entry["file"]]
    documents = {(document.position("")[0], operation): document for document, operation in pairs}
    for command in entry["commands"]:
        if _read(command) and command["operation"] in operations.OPERATIONS:
            yield command, documents.get((command["line"], command["operation"]))


@pytest.mark.parametrize("entry", READ, ids=[entry["file"] for entry in READ])
def test_requests_are_what_the_cli_built(entry, read_files):
    for command, document in _requests(entry, read_files):
        built = command.get("cli_v1_result", {}).get("request")
        if built is None or "not_compared" in command:
            continue
        assert document is not None and document.parsed, command["line"]
        assert _agrees(document.data, built), (command["line"], document.data)


@pytest.mark.parametrize("entry", READ, ids=[entry["file"] for entry in READ])
def test_what_the_cli_refused_is_a_pf021(entry, read_files):
    _, _, report = read_files[entry["file"]]
    for command, _ in _requests(entry, read_files):
        error = command.get("cli_v1_result", {}).get("error", "not run")
        if error.startswith("not run") or "no_pf021" in command:
            continue
        lines = range(command["line"], command.get("end_line", command["line"]) + 1)
        assert any(f.rule == "PF021" and f.line in lines for f in report.findings), (command["line"], error)


@pytest.mark.parametrize("entry", READ, ids=[entry["file"] for entry in READ])
def test_every_warning_and_error_is_judged(entry, read_files):
    _, _, report = read_files[entry["file"]]
    found = Counter((f.rule, f.line) for f in report.findings if f.severity >= Severity.WARNING)
    expected = Counter()
    for item in entry.get("expect", []):
        assert item["why"], item
        expected[(item["rule"], item["line"])] += item.get("count", 1)
    assert found == expected, "\n".join(f"{f.line}:{f.column} {f.rule} {f.message}" for f in report.findings
                                        if f.severity >= Severity.WARNING)


# --- what the corpus showed: each a false error or a command not read before --------------------

def _check(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    pairs, listed = reader.read(Document(path=str(path), text=text), None, MAX_BYTES)
    return listed, engine.run(pairs).findings


def test_a_file_in_a_folder_not_known_is_unknown(tmp_path):
    # hyperpod-eks-cluster-creation.sh: a cd inside a function, then file:// in another
    _, findings = _check(tmp_path, "create.sh", 'setup() { cd "$WORK"; }\nsetup\n'
                         "aws sagemaker create-cluster --cli-input-json file://cluster-config.json\n")
    assert {f.rule for f in findings} == {"PF022"}  # said to be unknown, never an error


def test_an_unknown_input_document_leaves_no_member_missing(tmp_path):
    # haozhx23/eks-smhp-250225 5_create_cluster.sh: the whole request is in the file $CLUSTER_CONF_NAME names
    _, findings = _check(tmp_path, "create.sh", "aws sagemaker create-cluster --cli-input-json file://$CLUSTER_CONF_NAME\n")
    assert {f.rule for f in findings} == {"PF022"}


def test_a_refused_option_leaves_no_member_missing(tmp_path):
    # 19-delete-cluster-nodes.md: --node-ids '[<ids>]' is refused (PF021); no "neither NodeIds nor NodeLogicalIds"
    _, findings = _check(tmp_path, "delete.sh", "aws sagemaker batch-delete-cluster-nodes --cluster-name ml "
                         "--node-ids '[i-0123456789abcdef0'\n")
    assert [f.rule for f in findings] == ["PF021"]


def test_global_options_between_the_service_and_the_operation(tmp_path):
    # task-governance/README.md: `aws sagemaker \ --region $REGION \ create-cluster-scheduler-config`, as the CLI takes it
    listed, findings = _check(tmp_path, "delete.sh", "aws sagemaker --region us-west-2 --output json delete-cluster "
                              "--cluster-name not_a_name\n")
    assert [(c.operation, c.status) for c in listed] == [("delete-cluster", "request")]
    assert "PF106" in [f.rule for f in findings]


def test_a_fence_inside_a_list_item_is_read(tmp_path):
    # SageMaker-HyperPod-Step-By-Step README.md: its blocks are indented under list items
    listed, _ = _check(tmp_path, "README.md", "- Delete the cluster\n    ```\n    aws sagemaker delete-cluster "
                       "--cluster-name ml\n    ```\n")
    assert [(c.line, c.operation) for c in listed] == [(3, "delete-cluster")]


def test_a_placeholder_in_any_script_is_a_placeholder(tmp_path):
    # step_by_step_setup.md: `--cluster-name <你的集群名字>` was read as two redirections, the option left without a value
    _, findings = _check(tmp_path, "README.md", "```\naws sagemaker delete-cluster --cluster-name <你的集群名字>\n```\n")
    assert [f.rule for f in findings] == ["PF110"]


def test_a_heredoc_with_an_unquoted_expansion_is_unknown_not_refused(tmp_path):
    # additional-information.md: the block before writes cluster-config.json with "InstanceCount": ${ACCEL_COUNT}
    _, findings = _check(tmp_path, "create.sh", 'cat > c.json <<EOF\n{"ClusterName": "ml", "InstanceGroups": '
                         '[{"InstanceCount": ${COUNT}}]}\nEOF\naws sagemaker create-cluster --cli-input-json file://c.json\n')
    assert {f.rule for f in findings} == {"PF022"}


def test_a_data_block_that_writes_a_heredoc_is_shell(tmp_path):
    # README-manual-steps.md: cluster-config.json is written by `cat > ... << EOL` in a block tagged ```json
    text = ("```json\ncat > c.json << EOL\n{\"ClusterName\": \"ml\", \"InstanceGroups\": [{\"InstanceCount\": 0}]}\n"
            "EOL\n```\n\n```json\n{\"ClusterName\": \"not read\"}\n```\n\n"
            "```bash\naws sagemaker create-cluster --cli-input-json file://c.json\n```\n")
    _, findings = _check(tmp_path, "README.md", text)
    assert "PF023" not in {f.rule for f in findings}  # the file is written before the command
    assert any(f.line == 3 and f.severity >= Severity.ERROR for f in findings)  # at the heredoc's line


def test_a_missing_input_document_leaves_no_member_missing(tmp_path):
    # thayinm README: --cli-input-json file://cluster-config.json, a file another script makes (PF101 and PF127 fired)
    _, findings = _check(tmp_path, "create.sh", "aws sagemaker create-cluster --cli-input-json file://cluster-config.json\n")
    assert [f.rule for f in findings if f.severity >= Severity.WARNING] == ["PF023"]
