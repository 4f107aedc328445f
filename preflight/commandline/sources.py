"""The shell text inside a file: a whole script, a Markdown file's shell code blocks, a CI
workflow's ``run:``/``script:`` steps. Each piece comes with the way from its characters back to
the file's, so that a finding lands on the line the user wrote.

What is not shell is left out: a Markdown block's output lines (a ``console`` block, or any
block whose commands carry a ``$ `` prompt: then only the prompted lines and their
continuations are commands), prose, inline code (documentation, not a command that runs).
"""

from __future__ import annotations

import bisect
import os
import re
from typing import NamedTuple

SHELL_SUFFIXES = (".sh", ".bash", ".zsh", ".ksh")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")
SHELL_INFOS = frozenset({"", "bash", "sh", "shell", "zsh", "console", "shell-session", "shellsession",
                         "terminal", "text"})
PROMPTED_INFOS = frozenset({"console", "shell-session", "shellsession", "terminal"})
# The patterns are compiled on first use (re's cache): a check of request files reads no script.
SHEBANG = r"#![ \t]*\S*/(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:ba|z|k|da)?sh\b"
# Indented any amount: a fence inside a list item is indented to the item's text (CommonMark, "List items").
FENCE = r"(?m)^(?P<indent> *)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$"
PROMPT = r"^[ \t]*(?:\([^()\n]*\)[ \t]*)?(?:[\w.@:~/-]*[$%#]|\$)[ \t]"  # "$ ", "(venv) user@host:~$ "
# A fenced block tagged as data (```json) that opens by writing a heredoc is shell whatever its tag
# says: no request document begins so, and published guides write their request files this way.
HEREDOC_WRITE = r"\A\s*(?:cat|tee)\b[^\n]*<<"
# The one word every HyperPod command holds: a file without it is not read further.
MARKER = "sagemaker"


class Piece(NamedTuple):
    """Shell text and, for each run of it, where it is in the file: ``starts`` (ascending offsets
    in ``text``) with ``file_starts`` the file offsets they begin at."""

    text: str
    starts: tuple[int, ...]
    file_starts: tuple[int, ...]

    def file_offset(self, offset: int) -> int:
        run = bisect.bisect_right(self.starts, offset) - 1
        return self.file_starts[run] + offset - self.starts[run]


def may_hold_commands(path: str) -> bool:
    """Whether a file's name lets it be a script, Markdown or a workflow (an extensionless file
    may be a script with a shebang): the files whose text is looked at before parsing."""
    name = os.path.basename(path).lower()
    return not os.path.splitext(name)[1] or kind(path, "") is not None


def kind(path: str, text: str) -> str | None:
    """``shell``, ``markdown`` or ``workflow`` for a file whose commands are read, else None."""
    name = os.path.basename(path).lower()
    if name.endswith(SHELL_SUFFIXES) or (not os.path.splitext(name)[1] and re.match(SHEBANG, text)):
        return "shell"
    if name.endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    normal = path.replace(os.sep, "/")
    if name.endswith((".yml", ".yaml")) and ("/.github/workflows/" in f"/{normal}" or name == ".gitlab-ci.yml"
                                             or name in ("action.yml", "action.yaml")):
        return "workflow"
    return None


def pieces(kind_: str, text: str) -> list[Piece]:
    """The shell pieces of a file of the given kind, when the file may hold a HyperPod command."""
    if MARKER not in text:
        return []
    if kind_ == "shell":
        return [Piece(text, (0,), (0,))]
    # Every shell piece of the file: an earlier block may set a variable or write a file the
    # command of a later one reads, as they run one after another in one shell.
    return _markdown(text) if kind_ == "markdown" else _workflow(text)


def _markdown(text: str) -> list[Piece]:
    found: list[Piece] = []
    position = 0
    while True:
        opening = re.compile(FENCE).search(text, position)
        if opening is None:
            return found
        fence, info = opening.group("fence"), opening.group("info").strip()
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M).search(text, opening.end())
        body_start = opening.end() + 1
        body_end = closing.start() if closing else len(text)
        position = closing.end() if closing else len(text)
        language = info.split()[0].lower().strip("{}.") if info else ""
        body = text[body_start:body_end] if body_start <= body_end else None
        if body is not None and (language in SHELL_INFOS or re.match(HEREDOC_WRITE, body)):
            found.append(Piece(_commands_of_block(body, language in PROMPTED_INFOS), (0,), (body_start,)))


def _commands_of_block(body: str, prompted: bool) -> str:
    """The block with what is not a command blanked (same length, so offsets hold): with prompts,
    each prompted line (its prompt blanked) and the lines that continue it."""
    lines = body.splitlines(keepends=True)
    prompt_pattern = re.compile(PROMPT)
    if not prompted and not any(prompt_pattern.match(line) and line.lstrip().startswith(("$", "%")) for line in lines):
        return body
    out, continuing = [], False
    for line in lines:
        prompt = prompt_pattern.match(line)
        if prompt and (not continuing):
            out.append(" " * prompt.end() + line[prompt.end():])
            continuing = _continues(line[prompt.end():])
        elif continuing:
            out.append(line)
            continuing = _continues(line)
        else:
            out.append(_blank(line))
    return "".join(out)


def _continues(line: str) -> bool:
    """A command line that goes on to the next: a trailing backslash or a quote left open."""
    stripped = line.rstrip("\r\n")
    return stripped.endswith("\\") or stripped.count("'") % 2 == 1 or stripped.replace('\\"', "").count('"') % 2 == 1


def _blank(line: str) -> str:
    return re.sub(r"[^\r\n]", " ", line)


def _workflow(text: str) -> list[Piece]:
    """The ``run:`` (GitHub Actions) and ``script:``/``before_script:``/``after_script:`` (GitLab CI) values."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    found: list[Piece] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in ("run", "script", "before_script", "after_script"):
                    values = value.value if isinstance(value, yaml.SequenceNode) else [value]
                    found.extend(_scalar(text, item) for item in values if isinstance(item, yaml.ScalarNode))
                else:
                    stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda piece: piece.file_starts[0])


def _scalar(text: str, node) -> Piece:
    """A YAML string's shell text: a block scalar's lines without their indentation, each mapped
    to its line; a one-line plain scalar as written; a quoted one at its start."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        first_line = text.index("\n", start) + 1 if "\n" in text[start:end] else end
        starts, file_starts, lines = [], [], []
        indent = None
        offset = 0
        for match in re.finditer(r"[^\n]*\n?", text[first_line:end]):
            line = match.group(0)
            if not line:
                break
            content = line.lstrip(" ")
            if indent is None and content.strip():
                indent = len(line) - len(content)
            cut = min(indent or 0, len(line) - len(content))
            starts.append(offset)
            file_starts.append(first_line + match.start() + cut)
            lines.append(line[cut:])
            offset += len(line) - cut
        if lines:
            return Piece("".join(lines), tuple(starts), tuple(file_starts))
    if node.style is None and "\n" not in text[start:end]:
        return Piece(text[start:end], (0,), (start,))
    return Piece(node.value, (0,), (start,))
