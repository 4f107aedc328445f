"""The shell side of the command-line reader, held to bash itself: the words a command receives,
where each came from, what is known when it runs, and which text of a file is shell at all."""

from __future__ import annotations

import os
import shlex
import subprocess

from hypothesis import HealthCheck, given, settings, strategies as st

from preflight.commandline import shell, sources
from preflight.commandline.words import UNKNOWN_END, UNKNOWN_START


def words_of(text: str, **kwargs) -> list[list[str]]:
    return [[word.text for word in command.words] for command in shell.commands(text, **kwargs)]


def bash_words(script: str, variables: dict[str, str] | None = None) -> list[str]:
    """The arguments bash passes to ``aws`` in ``script`` (``aws`` made a function that prints them)."""
    program = "aws() { printf '%s\\0' \"$@\"; }\n" + script
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, timeout=10,
                            env={"PATH": os.environ["PATH"], **(variables or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


# Pieces of a shell word: plain characters, escapes, every kind of quoting, known expansions.
PLAIN = st.text(alphabet=st.sampled_from(list("abcXYZ019-_=,:/.{}[]@+%^")), min_size=1, max_size=6)
QUOTABLE = st.text(alphabet=st.sampled_from(list("ab ,={}[]\"\\$`'\t\n*?#;&|<>()~!")), max_size=6)
PIECE = st.one_of(
    PLAIN,
    QUOTABLE.map(lambda s: "'" + s.replace("'", "") + "'"),
    QUOTABLE.map(lambda s: '"' + "".join("\\" + c if c in '"\\$`' else c for c in s) + '"'),
    st.sampled_from(list("ab ,={}\"'$;&|<>()#~")).map(lambda c: "\\" + c),
    QUOTABLE.map(lambda s: "$'" + "".join({"'": "\\'", "\\": "\\\\", "\n": "\\n", "\t": "\\t"}.get(c, c) for c in s) + "'"),
    st.sampled_from(['"$NAME"', "${NAME}", '"${NAME}x"', "${MISSING:-dflt}", '"${EMPTY:-d2}"']),
)
WORD = st.lists(PIECE, min_size=1, max_size=4).map("".join).filter(lambda w: not w.startswith(("#", "~")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORD, min_size=1, max_size=4), st.booleans())
def test_words_are_what_bash_passes(arguments, continued):
    separator = " \\\n  " if continued else " "
    script = "NAME=v1\nEMPTY=\naws sagemaker" + separator + separator.join(arguments) + "\n"
    (command,) = shell.commands(script)
    if command.unreadable is None:  # where the grammar and bash part ways, the command is said unread
        assert [word.text for word in command.words][1:] == bash_words(script), script


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORD, min_size=1, max_size=3), st.booleans())
def test_a_command_run_by_eval_is_what_bash_runs(arguments, quoted):
    """``CMD='aws ...'; eval "$CMD"`` (or unquoted ``eval $CMD``): the text is parsed again, as bash does."""
    line = "aws sagemaker " + " ".join(arguments)
    script = "NAME=v1\nEMPTY=\nCMD=" + shlex.quote(line) + ("\neval \"$CMD\"\n" if quoted else "\neval $CMD\n")
    commands = shell.commands(script)
    readable = [command for command in commands if command.unreadable is None]
    if len(commands) == 1 and readable and not any(UNKNOWN_START in word.text for word in readable[0].words):
        assert [word.text for word in readable[0].words][1:] == bash_words(script), script


def test_eval_reads_the_command_where_its_text_was_written():
    script = ('REGION=us-west-2\nCMD="aws sagemaker delete-cluster --cluster-name ${NAME} --region $REGION"\n'
              'if [ -n "$CMD" ]; then echo "$CMD"; fi\nNAME=later\neval "$CMD"\n')
    (command,) = shell.commands(script)
    texts = [word.text for word in command.words]
    assert texts[4] == f"{UNKNOWN_START}${{NAME}}{UNKNOWN_END}"  # unknown when CMD was made, whatever NAME is now
    assert texts[-1] == "us-west-2"
    line_of = [script.count("\n", 0, word.offset(0)) + 1 for word in command.words]
    assert line_of[:5] == [2] * 5 and line_of[-1] == 1  # the value where REGION was given
    assert script.count("\n", 0, command.start) + 1 == 2


def test_eval_that_runs_itself_ends():
    assert shell.commands("X='eval $X'\neval $X\naws sagemaker list-clusters\n")[-1].words[-1].text == "list-clusters"


@settings(max_examples=60, deadline=None)
@given(WORD)
def test_each_character_keeps_its_place(argument):
    script = f"aws sagemaker delete-cluster --cluster-name {argument}\n"
    (command,) = shell.commands(script)
    if command.unreadable:  # where the grammar and bash part ways, the command is said unread, not placed
        return
    word = command.words[-1]
    assert len(word.offsets) == len(word.text)
    assert word.start == script.rindex(argument) and word.end == word.start + len(argument)
    assert all(word.start <= offset < word.end for offset in word.offsets)
    assert list(word.offsets) == sorted(word.offsets)


def test_unquoted_braces_expand_as_bash_expands_them():
    script = "aws sagemaker update-cluster --orchestrator Eks={ClusterArn=a,Role=b} --node-ids i-{1..3} '{a,b}'\n"
    assert words_of(script)[0][1:] == bash_words(script) == [
        "sagemaker", "update-cluster", "--orchestrator", "Eks=ClusterArn=a", "Eks=Role=b",
        "--node-ids", "i-1", "i-2", "i-3", "{a,b}"]


def test_a_bare_placeholder_is_a_word_not_two_redirections():
    (words,) = words_of("aws sagemaker delete-cluster --cluster-name <cluster-name> --region us-west-2 < in.json\n")
    assert words[3:] == ["--cluster-name", "<cluster-name>", "--region", "us-west-2"]


def test_unknown_expansions_are_marked_not_guessed():
    (words,) = words_of('aws sagemaker delete-cluster --cluster-name "$NAME" --region ${REGION}-x $(cat f) `id`')
    assert words[4] == f"{UNKNOWN_START}$NAME{UNKNOWN_END}"
    assert words[6] == f"{UNKNOWN_START}${{REGION}}{UNKNOWN_END}-x"
    assert words[7:] == [f"{UNKNOWN_START}$(cat f){UNKNOWN_END}", f"{UNKNOWN_START}`id`{UNKNOWN_END}"]


def test_given_variables_and_the_scripts_own_assignments_are_known():
    script = "CLUSTER=ml\nexport REGION=us-west-2\naws --region $REGION sagemaker delete-cluster --cluster-name $CLUSTER --x $GIVEN\n"
    assert words_of(script, variables={"GIVEN": "g"}) == [
        ["aws", "--region", "us-west-2", "sagemaker", "delete-cluster", "--cluster-name", "ml", "--x", "g"]]


def test_an_assignment_in_a_branch_is_unknown_afterwards():
    script = 'NAME=a\nif [ "$1" = x ]; then NAME=b; fi\naws sagemaker delete-cluster --cluster-name "$NAME"\n'
    assert words_of(script)[0][-1] == f"{UNKNOWN_START}$NAME{UNKNOWN_END}"


def test_a_subshell_keeps_its_changes():
    script = "NAME=a\n(NAME=b; cd elsewhere)\naws sagemaker delete-cluster --cluster-name $NAME\n"
    (command,) = shell.commands(script, directory="/repo")
    assert command.words[-1].text == "a" and command.directory == "/repo"


def test_commands_inside_substitutions_branches_pipelines_and_functions_are_read():
    script = """
ARN=$(aws sagemaker create-cluster --cluster-name a --query ClusterArn --output text)
if true; then aws sagemaker delete-cluster --cluster-name b; fi
case "$1" in up) aws sagemaker update-cluster --cluster-name c ;; esac
deploy() { sudo -E aws --region us-east-1 sagemaker update-cluster-software --cluster-name d; }
echo x | env AWS_PAGER= aws sagemaker delete-cluster --cluster-name e
[[ -n $X ]] && aws sagemaker delete-cluster --cluster-name f
# aws sagemaker delete-cluster --cluster-name commented-out
"""
    names = [words[words.index("--cluster-name") + 1] for words in words_of(script)]
    assert names == ["a", "b", "c", "d", "e", "f"]


def test_the_working_directory_is_followed():
    script = """cd "$(dirname "$0")"
aws sagemaker create-cluster --cli-input-json file://a.json
cd config && aws sagemaker create-cluster --cli-input-json file://b.json
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
aws sagemaker create-cluster --cli-input-json file://$SCRIPT_DIR/c.json
cd "$SOMEWHERE"
aws sagemaker create-cluster --cli-input-json file://d.json
"""
    found = shell.commands(script, directory="/repo/scripts", script="/repo/scripts/deploy.sh")
    assert [command.directory for command in found] == ["/repo/scripts", "/repo/scripts/config", "/repo/scripts/config", None]
    assert found[2].words[-1].text == "file:///repo/scripts/c.json"


def test_files_the_script_writes_are_known_with_their_heredoc():
    script = """NAME=ml
cat > cluster.json << EOF
{"ClusterName": "$NAME", "Role": "${ROLE}"}
EOF
cat > literal.json <<'EOF'
{"ClusterName": "$NAME"}
EOF
aws sagemaker create-cluster --cli-input-json file://cluster.json
"""
    (command,) = shell.commands(script, directory="/w")
    written = command.written
    assert written["/w/cluster.json"].text == f'{{"ClusterName": "ml", "Role": "{UNKNOWN_START}${{ROLE}}{UNKNOWN_END}"}}\n'
    assert written["/w/literal.json"].text == '{"ClusterName": "$NAME"}\n'
    content = written["/w/cluster.json"]
    assert script[content.offsets[content.text.index("Role")]:].startswith("Role")


def test_a_broken_command_is_said_not_guessed():
    (command,) = shell.commands('aws sagemaker delete-cluster --cluster-name "unclosed\n')
    assert command.unreadable


def test_non_ascii_text_keeps_character_offsets():
    script = "# é ü 日本\naws sagemaker delete-cluster --cluster-name 'ñame'\n"
    (command,) = shell.commands(script)
    assert script[command.words[-1].start:command.words[-1].end] == "'ñame'"


def test_markdown_reads_shell_blocks_and_prompted_lines_only():
    text = """# Setup
Run `aws sagemaker delete-cluster --cluster-name inline` to clean up.

```bash
aws sagemaker create-cluster --cluster-name one
```

```console
$ aws sagemaker create-cluster \\
    --cluster-name two
{
    "ClusterArn": "arn:aws:sagemaker:us-west-2:111122223333:cluster/abc"
}
```

```
aws sagemaker update-cluster --cluster-name three
```

```python
os.system("aws sagemaker delete-cluster --cluster-name four")
```
"""
    found = []
    for piece in sources.pieces("markdown", text):
        for command in shell.commands(piece.text):
            word = command.words[-1]
            found.append((word.text, text[piece.file_offset(word.start):piece.file_offset(word.end)]))
    assert found == [("one", "one"), ("two", "two"), ("three", "three")]


def test_workflow_run_steps_are_read_at_their_lines():
    text = """name: deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: aws sagemaker delete-cluster --cluster-name one
      - name: create
        run: |
          cat > c.json <<EOF
          {"ClusterName": "two"}
          EOF
          aws sagemaker create-cluster \\
            --cli-input-json file://c.json --cluster-name two
"""
    found = []
    for piece in sources.pieces("workflow", text):
        for command in shell.commands(piece.text, directory="/w"):
            word = command.words[-1]
            found.append((word.text, text[piece.file_offset(word.start):piece.file_offset(word.end)], command.written))
    assert [(text_, written) for text_, written, _ in found] == [("one", "one"), ("two", "two")]
    assert found[1][2]["/w/c.json"].text == '{"ClusterName": "two"}\n'  # the heredoc's end was found though indented


def test_kinds_by_name_and_shebang():
    assert sources.kind("deploy.sh", "") == "shell"
    assert sources.kind("bin/deploy", "#!/usr/bin/env bash\n") == "shell"
    assert sources.kind("bin/deploy", "#!/usr/bin/env python3\n") is None
    assert sources.kind("docs/README.md", "") == "markdown"
    assert sources.kind("repo/.github/workflows/ci.yml", "") == "workflow"
    assert sources.kind("cluster.create-cluster.yaml", "") is None


HOSTILE = [
    "aws sagemaker delete-cluster --cluster-name " + "{a,b}" * 40 + "\n",  # 2**40 words
    "aws sagemaker delete-cluster --node-ids i-{1..100000000}\n",
    "aws sagemaker delete-cluster --cluster-name x " + "(" * 5000 + "\n",
    "f() { " * 3000 + "aws sagemaker delete-cluster --cluster-name x" + "; }" * 3000 + "\n",
    "echo $(" * 3000 + "aws sagemaker delete-cluster" + ")" * 3000 + "\n",
    "aws sagemaker delete-cluster --cluster-name '" + "x" * 200_000 + "\n",
]


def test_hostile_shell_ends_in_a_finding_in_bounded_time():
    from preflight import documents
    from preflight.commandline import reader

    for text in HOSTILE:
        pairs, listed = reader.read(documents.Document("hostile.sh", text), {}, documents.MAX_BYTES)
        assert listed and all(entry.status.startswith("not read") or entry.status == "request" for entry in listed), text[:80]
        unread = [document for document, _ in pairs if not document.parsed]
        assert all(problem.kind == "command-unreadable" for document in unread for problem in document.problems)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aws sagemaker-cluster {}[]()$'\"\\`\n#;&|<>=,.*~!0123456789")), max_size=300))
def test_any_text_is_read_without_failing(text):
    from preflight import documents
    from preflight.commandline import reader

    for name in ("fuzz.sh", "fuzz.md"):
        reader.read(documents.Document(name, "aws sagemaker " + text), {}, documents.MAX_BYTES)


# Characters tree-sitter-bash's scanner gives C's isdigit() after `{` (shell.BRACE_SCAN): beyond U+00FF
# its table is overrun, into memory that may not be mapped. Found by fuzzing command lines; the first
# three each crashed the process, minimised from a whole script to `{` and the character.
BEYOND_THE_TABLE = ["\U0005703d", "\U000c74b1", "\U000ce969", "\U0010ffff", "\U0002c800", "\u2028", "\u0100", "\ud800"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["{", "0", "1", "..", ".", "a", " ", "\n", "é", "\xff"] + BEYOND_THE_TABLE)
                | st.text(max_size=3), max_size=30).map("".join))
def test_the_parser_is_given_nothing_its_scanner_reads_past_a_table(text):
    parsed = shell._Text(text).data.decode("utf-8", "surrogatepass")
    assert len(parsed) == len(text) and shell.BRACE_SCAN.search(parsed) is None
    for original, given_ in zip(text, parsed):
        if original != given_:  # a stand-in of the same kind: a separator stays one, a letter one
            assert ord(original) > 0xFF and original.isspace() == given_.isspace() \
                and original.isalpha() == given_.isalpha(), (original, given_)


def test_words_after_a_brace_keep_what_was_written():
    for character in BEYOND_THE_TABLE[:-1]:  # a lone surrogate is not a character a file can hold
        line = f"aws sagemaker delete-cluster --cluster-name {{{character}x --node-ids {{1..2{character}\n"
        (command,) = shell.commands(line)
        assert [word.text for word in command.words][-3:] == [f"{{{character}x", "--node-ids", f"{{1..2{character}"]


def test_text_that_crashed_the_parser_ends_in_findings(run_cli, tmp_path):
    """Before the screen this file killed `preflight check` with SIGSEGV in 29 of 40 runs (where the
    read lands depends on the process's memory layout), so eight runs see the crash come back all
    but about once in 30,000."""
    blocks = "".join(f"```bash\naws sagemaker delete-cluster --cluster-name {{{character}\n```\n\n"
                     for character in BEYOND_THE_TABLE[:-1])
    (tmp_path / "README.md").write_text("# Deploy\n\n" + blocks)
    for _ in range(8):
        result = run_cli("check", str(tmp_path / "README.md"))
        assert result.returncode == 1, (result.returncode, result.stderr)
        assert [line.split()[2] for line in result.stdout.splitlines()[:-2]] == ["PF106"] * 7, result.stdout
