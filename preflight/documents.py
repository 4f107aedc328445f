"""Load request and policy documents, keeping the way back from a JSON pointer to a line and column.

A ``.json`` file is strict JSON (RFC 8259); ``.yaml``/``.yml`` files are YAML, loaded safely.
Parsing never raises: what cannot be read becomes a ``Problem`` that the engine turns into a finding.
Positions are computed only when a finding needs them, so clean files pay for a plain ``json.loads``.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import sys
from dataclasses import dataclass, field
from json.decoder import scanstring

STDIN = "-"

# Python's literals in place of JSON's: same lengths, so offsets survive the substitution.
PYTHON_LITERALS = {"True": "true", "False": "false", "None": "null"}
_PYTHON_LITERAL = re.compile(r"(True|False|None)\b")


class _NonJsonConstant(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonJsonConstant(name)


class LoadError(Exception):
    """An input that cannot be used at all (missing, unreadable, not what was asked): a usage
    error, not a finding."""


@dataclass(frozen=True)
class Problem:
    """Something wrong in the document's text itself, found while loading it."""

    kind: str  # "syntax" | "python-literal" | "duplicate-key"
    message: str
    pointer: str = ""
    offset: int | None = None  # where the problem is, when it is not at the pointer
    fix: str | None = None


@dataclass
class Document:
    path: str
    text: str
    data: object = None
    parsed: bool = False
    problems: list[Problem] = field(default_factory=list)
    _positions: dict[str, int] | None = None
    _line_starts: list[int] | None = None

    def position(self, pointer: str, offset: int | None = None) -> tuple[int, int]:
        """1-based (line, column) of a pointer's key (for members) or value (otherwise)."""
        if offset is None:
            offset = self._offset_of(pointer)
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", self.text)]
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def located(self, pointer: str) -> str:
        """The pointer into this file's text (a request derived from a template translates it)."""
        return pointer

    def _offset_of(self, pointer: str) -> int:
        if self._positions is None:
            self._positions = _index_positions(self) if self.parsed else {}
        # A pointer to something absent (a missing member) falls back to its nearest present parent.
        while pointer and pointer not in self._positions:
            pointer = pointer.rpartition("/")[0]
        return self._positions.get(pointer, 0)


def escape(token: str) -> str:
    """Escape one RFC 6901 reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: object) -> str:
    return "".join("/" + escape(str(t)) for t in tokens)


def read(path: str) -> Document:
    """Read a file (``-`` for stdin, ``file://`` accepted) and parse it; raises LoadError only if unreadable."""
    if path.startswith("file://"):
        path = path[len("file://"):]
    try:
        if path == STDIN:
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as err:
        raise LoadError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise LoadError(f"{path}: {err.strerror}") from None
    return parse(path, text)


def parse(path: str, text: str) -> Document:
    document = Document(path=path, text=text)
    if path.lower().endswith((".yaml", ".yml")):
        _parse_yaml(document)
    else:
        _parse_json(document)
    return document


def _parse_json(document: Document) -> None:
    text = document.text
    duplicates = False

    def no_duplicates(pairs):
        nonlocal duplicates
        result = dict(pairs)
        if len(result) != len(pairs):
            duplicates = True
        return result

    while True:
        try:
            document.data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_reject_constant)
            break
        except _NonJsonConstant as err:
            word = str(err)
            found = re.search(rf"-?{word}", text)
            document.problems.append(Problem("syntax", f"invalid JSON: `{word}` is not a JSON number",
                                             offset=found.start() if found else 0,
                                             fix="JSON has no NaN or Infinity; give a finite number"))
            return
        except RecursionError:
            document.problems.append(Problem("syntax", "invalid JSON: nested too deeply to read", offset=0))
            return
        except json.JSONDecodeError as err:
            literal = _PYTHON_LITERAL.match(text, err.pos)
            if err.msg == "Expecting value" and literal:
                word = literal.group(1)
                document.problems.append(Problem(
                    "python-literal", f"`{word}` is Python, not JSON", offset=err.pos,
                    fix=f"JSON spells it `{PYTHON_LITERALS[word]}`"))
                # Keep reading past it so that every other problem in the file is reported too.
                text = text[:err.pos] + PYTHON_LITERALS[word] + text[literal.end():]
                continue
            document.problems.append(Problem("syntax", _json_message(err), offset=err.pos,
                                             fix=_json_fix(text, err)))
            return
    document.text = text
    document.parsed = True
    if duplicates:
        try:
            _index_positions(document)
        except RecursionError:
            document.problems.append(Problem("syntax", "invalid JSON: nested too deeply to read", offset=0))


def _json_message(err: json.JSONDecodeError) -> str:
    return f"invalid JSON: {err.msg}"


def _json_fix(text: str, err: json.JSONDecodeError) -> str | None:
    before = text[:err.pos].rstrip()
    if err.msg.startswith("Expecting property name") and before.endswith(",") and text[err.pos:].lstrip().startswith("{"):
        return "several objects where one value is expected: put them in one list, [ {...}, {...} ]"
    if err.msg.startswith("Expecting property name") and before.endswith(","):
        return "remove the trailing comma"
    if err.msg == "Expecting value" and text[err.pos:err.pos + 1] == "'":
        return "JSON strings use double quotes"
    return None


@functools.lru_cache(maxsize=None)
def _yaml_loader():
    """The safe loader, also reading CloudFormation's short-form tags (``!Ref``, ``!Sub`` ...)."""
    import yaml  # only YAML inputs pay for it

    from preflight.iac.cloudformation import add_short_forms

    class Loader(yaml.SafeLoader):
        pass

    add_short_forms(Loader)
    return Loader


def _parse_yaml(document: Document) -> None:
    import yaml

    loader = _yaml_loader()
    try:
        node = yaml.compose(document.text, Loader=loader)
        document.data = yaml.load(document.text, Loader=loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        document.problems.append(Problem("syntax", f"invalid YAML: {problem}",
                                         offset=mark.index if mark else 0))
        return
    document.parsed = True
    positions: dict[str, int] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                child = path + "/" + escape(str(key.value))
                if key.value in seen:
                    document.problems.append(Problem(
                        "duplicate-key", f"key {key.value!r} appears more than once; only the last one counts",
                        pointer=child, offset=key.start_mark.index))
                seen.add(key.value)
                positions[child] = key.start_mark.index
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                positions[f"{path}/{index}"] = item.start_mark.index
                walk(item, f"{path}/{index}")

    if node is not None:
        positions[""] = node.start_mark.index
        walk(node, "")
    document._positions = positions


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def _index_positions(document: Document) -> dict[str, int]:
    """Offsets of every pointer in a JSON text that json.loads accepted; records duplicate keys."""
    text = document.text
    positions: dict[str, int] = {}

    def skip(i: int) -> int:
        return _WS.match(text, i).end()

    def value(i: int, path: str) -> int:
        i = skip(i)
        positions.setdefault(path, i)
        char = text[i]
        if char == "{":
            i = skip(i + 1)
            seen = set()
            if text[i] == "}":
                return i + 1
            while True:
                key_start = i
                key, i = scanstring(text, i + 1)
                child = path + "/" + escape(key)
                if key in seen:
                    document.problems.append(Problem(
                        "duplicate-key", f"key {key!r} appears more than once; only the last one counts",
                        pointer=child, offset=key_start))
                seen.add(key)
                positions[child] = key_start
                i = skip(i)  # at ':'
                i = skip(value(i + 1, child))
                if text[i] == "}":
                    return i + 1
                i = skip(i + 1)  # past ','
        if char == "[":
            i = skip(i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = skip(value(i, f"{path}/{index}"))
                index += 1
                if text[i] == "]":
                    return i + 1
                i += 1
        if char == '"':
            return scanstring(text, i + 1)[1]
        return _SCALAR.match(text, i).end()

    value(0, "")
    document._positions = positions
    return positions
