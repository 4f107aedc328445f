"""Load request and policy documents, keeping the way back from a JSON pointer to a line and column.

A ``.json`` file is strict JSON (RFC 8259); ``.yaml``/``.yml`` files are YAML, loaded safely
(CloudFormation's short-form tags, ``!Ref`` ..., read as the intrinsics they stand for).
Parsing never raises: what cannot be read becomes a ``Problem`` that the engine turns into a finding.
Positions are computed only when a finding needs them, so clean files pay for a plain ``json.loads``.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from typing import NamedTuple
from json.decoder import scanstring

from preflight import limits
from preflight.limits import MAX_BYTES, MAX_DEPTH, STDIN, LoadError, deeper_than
from preflight.pointers import escape

MAX_YAML_ALIASES = 100
MAX_YAML_VALUES = 100_000  # values of a YAML document with its aliases expanded

# Python's literals in place of JSON's: same lengths, so offsets survive the substitution.
PYTHON_LITERALS = {"True": "true", "False": "false", "None": "null"}


class _NonJsonConstant(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonJsonConstant(name)


class Problem(NamedTuple):
    """Something wrong in the document's text itself, found while loading it."""

    kind: str  # "syntax" | "python-literal" | "duplicate-key"
    message: str
    pointer: str = ""
    offset: int | None = None  # where the problem is, when it is not at the pointer
    fix: str | None = None


class Document:
    """A file as read: its text, what it parses to, and what is wrong in the text itself. A plain
    class, not a dataclass: every run makes documents, and a dataclass costs its creation at import."""

    def __init__(self, path: str, text: str, data: object = None, parsed: bool = False,
                 problems: list[Problem] | None = None):
        self.path, self.text, self.data, self.parsed = path, text, data, parsed
        self.problems = [] if problems is None else problems
        self._positions: dict[str, int] | None = None
        self._line_starts: list[int] | None = None

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

    def offsets(self) -> dict[str, int]:
        """The offset in the text of every pointer (a member at its key, any other value at itself)."""
        if self._positions is None:
            self._positions = _index_positions(self) if self.parsed else {}
        return self._positions

    def _offset_of(self, pointer: str) -> int:
        positions = self.offsets()
        # A pointer to something absent (a missing member) falls back to its nearest present parent.
        while pointer and pointer not in positions:
            pointer = pointer.rpartition("/")[0]
        return positions.get(pointer, 0)


def read(path: str, max_bytes: int = MAX_BYTES, name: str | None = None) -> Document:
    """Read a file (``-`` for stdin, ``file://`` accepted) and parse it. ``name`` is what stdin is
    called (its extension picks JSON or YAML; without one, the first character decides). Raises
    LoadError only when the input cannot be read at all or is larger than ``max_bytes``."""
    shown, raw = _read_named(path, max_bytes, name)
    yaml_input = None if path == STDIN and name is None else _is_yaml(shown)
    return parse_bytes(shown, raw, yaml_input)


def read_text(path: str, max_bytes: int = MAX_BYTES, name: str | None = None) -> Document:
    """Read a file as ``read`` does, without parsing it (a script, a Markdown file): its text only;
    undecodable bytes are replaced."""
    shown, raw = _read_named(path, max_bytes, name)
    return Document(path=shown, text=raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace"))


def _read_named(path: str, max_bytes: int, name: str | None) -> tuple[str, bytes]:
    """The name to show and the bytes of a file given as the AWS CLI takes it (``file://`` accepted)."""
    path = path.removeprefix("file://")
    shown = name or path
    return shown, limits.read_bytes(path, max_bytes, shown)


def parse_bytes(path: str, raw: bytes, yaml_input: bool | None = None) -> Document:
    """Decode UTF-8 (a BOM is dropped) and parse; undecodable bytes are a problem at their offset.
    ``yaml_input`` None: JSON if the text starts like JSON, YAML otherwise."""
    text = decoded(path, raw)
    if isinstance(text, Document):
        return text
    if yaml_input is None:
        yaml_input = text.lstrip()[:1] not in ("{", "[")
    return parse(path, text, yaml_input)


def decoded(path: str, raw: bytes) -> str | Document:
    """The UTF-8 text of a file (a BOM dropped), or a document holding the problem of its first
    undecodable byte."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        document = Document(path=path, text=raw.decode("utf-8", "replace"))
        document.problems.append(Problem(
            "syntax", f"not UTF-8 text: byte 0x{raw[err.start]:02x} at byte offset {err.start} cannot be decoded",
            offset=len(raw[:err.start].decode("utf-8", "replace")), fix="save the file as UTF-8"))
        return document


def _is_yaml(path: str) -> bool:
    return path.lower().endswith((".yaml", ".yml"))


def parse(path: str, text: str, yaml_input: bool | None = None) -> Document:
    """Parse a text as JSON, or as YAML when ``yaml_input`` (by default: when the name says so)."""
    document = Document(path=path, text=text)
    if not text.strip():
        document.problems.append(Problem("syntax", "the file is empty" if not text else
                                         "the file holds only whitespace", fix="give the request's JSON or YAML"))
        return document
    if _is_yaml(path) if yaml_input is None else yaml_input:
        _parse_yaml(document)
    else:
        _parse_json(document)
    if document.parsed and deeper_than(document.data, MAX_DEPTH):
        document.parsed = False
        document.problems.append(Problem("syntax", f"nested more than {MAX_DEPTH} levels deep, more than "
                                                   "any request or policy; not read further"))
    return document


class _BadNumber(ValueError):
    pass


def _number(kind):
    def read(literal: str):
        try:
            value = kind(literal)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            raise _BadNumber(literal) from None
        if value in (float("inf"), float("-inf")):
            raise _BadNumber(literal)
        return value
    return read


# A JSON string (skipped whole), or a Python literal where a JSON value begins. Compiled on
# first use (re caches it): only a text with True, False or None needs it.
_LITERAL_SCAN = r'(?s)"[^"\\]*(?:\\.[^"\\]*)*"|(?:(?<=[\[:,])|\A)\s*(True|False|None)\b'


def _python_literals(text: str) -> tuple[str, list[Problem]]:
    """Python's True/False/None where JSON values begin, replaced by JSON's (same lengths, so
    offsets hold): one pass over the text, so that every other problem is still reported."""
    problems, pieces, last = [], [], 0
    if "True" not in text and "False" not in text and "None" not in text:
        return text, problems
    for match in re.finditer(_LITERAL_SCAN, text):
        word = match.group(1)
        if word:
            start = match.start(1)
            problems.append(Problem("python-literal", f"`{word}` is Python, not JSON", offset=start,
                                    fix=f"JSON spells it `{PYTHON_LITERALS[word]}`"))
            pieces += [text[last:start], PYTHON_LITERALS[word]]
            last = match.end(1)
    return "".join(pieces) + text[last:], problems


def _parse_json(document: Document) -> None:
    duplicates = False

    def no_duplicates(pairs):
        nonlocal duplicates
        result = dict(pairs)
        if len(result) != len(pairs):
            duplicates = True
        return result

    text, literals = _python_literals(document.text)
    try:
        document.data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_reject_constant,
                                   parse_int=_number(int), parse_float=_number(float))
    except _NonJsonConstant as err:
        word = str(err)
        found = re.search(rf"-?{word}", text)
        document.problems.append(Problem("syntax", f"invalid JSON: `{word}` is not a JSON number",
                                         offset=found.start() if found else 0,
                                         fix="JSON has no NaN or Infinity; give a finite number"))
        return
    except _BadNumber as err:
        literal = str(err)
        document.problems += literals
        what = f"{literal} is too large for a number" if len(literal) < 40 else f"a number of {len(literal):,} digits"
        document.problems.append(Problem("syntax", f"{what}, beyond what any request member holds",
                                         offset=max(text.find(literal), 0)))
        return
    except RecursionError:
        document.problems.append(Problem("syntax", "invalid JSON: nested too deeply to read", offset=0))
        return
    except json.JSONDecodeError as err:
        document.problems += [p for p in literals if p.offset < err.pos]
        document.problems.append(Problem("syntax", _json_message(err), offset=err.pos, fix=_json_fix(text, err)))
        return
    document.problems += literals
    document.text = text
    document.parsed = True
    if duplicates and not deeper_than(document.data, MAX_DEPTH):
        _index_positions(document)


def _json_message(err: json.JSONDecodeError) -> str:
    return f"invalid JSON: {err.msg}"


def _json_fix(text: str, err: json.JSONDecodeError) -> str | None:
    before = text[max(0, err.pos - 200):err.pos].rstrip()
    if err.msg.startswith("Expecting property name") and before.endswith(",") and text[err.pos:].lstrip().startswith("{"):
        return "several objects where one value is expected: put them in one list, [ {...}, {...} ]"
    if err.msg.startswith("Expecting property name") and before.endswith(","):
        return "remove the trailing comma"
    if err.msg == "Expecting value" and text[err.pos:err.pos + 1] == "'":
        return "JSON strings use double quotes"
    return None


# CloudFormation's YAML short forms of its intrinsic functions (!Ref, !Condition and !Fn-name), read
# here so that a template in YAML reads as the same data as in JSON.
SHORT_FORMS = ("Ref", "Condition", "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join",
               "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "ToJsonString", "Length")


def _add_short_forms(loader_class) -> None:
    """Teach a (safe) YAML loader class the short-form tags: ``!Ref x`` reads as ``{"Ref": x}``,
    ``!GetAtt a.b`` as ``{"Fn::GetAtt": ["a", "b"]}``, ``!Sub s`` as ``{"Fn::Sub": s}``."""
    import yaml

    def construct(loader, suffix, node):
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    for suffix in SHORT_FORMS:
        loader_class.add_constructor(f"!{suffix}", lambda loader, node, suffix=suffix: construct(loader, suffix, node))


class _YamlLimit(Exception):
    pass


@functools.lru_cache(maxsize=None)
def _yaml_loader():
    """The safe loader, also reading CloudFormation's short-form tags (``!Ref``, ``!Sub`` ...)."""
    import yaml  # only YAML inputs pay for it

    class Loader(yaml.SafeLoader):
        """Counting aliases as it composes and flow collections as it scans."""

        aliases = 0

        def fetch_flow_collection_start(self, token_class):
            if self.flow_level >= MAX_DEPTH:  # refused as it is scanned, before composing it
                raise _YamlLimit(f"nested more than {MAX_DEPTH} levels deep, more than any request or policy; "
                                 "not read further")
            super().fetch_flow_collection_start(token_class)

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise _YamlLimit(f"more than {MAX_YAML_ALIASES} YAML aliases; not read further")
            return super().compose_node(parent, index)

    _add_short_forms(Loader)
    return Loader


def _expanded_size(root) -> int:
    """How many values the node graph holds with every alias expanded (memoised per node, so a
    bomb is measured without being expanded); raises _YamlLimit on a node that contains itself."""
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise _YamlLimit("a YAML alias refers to a node that contains it")
        if depth > MAX_DEPTH:
            raise _YamlLimit(f"nested more than {MAX_DEPTH} levels deep, more than any request or policy; "
                             "not read further")
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, depth + 1) for item in node.value)
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root, 1)


def _parse_yaml(document: Document) -> None:
    import yaml

    loader = None
    try:
        loader = _yaml_loader()(document.text)  # its reader refuses unprintable characters at once
        node = loader.get_single_node()
        if node is not None:
            expanded = _expanded_size(node)
            if expanded > MAX_YAML_VALUES:
                raise _YamlLimit(f"expands to {expanded:,} values through its aliases, more than the "
                                 f"{MAX_YAML_VALUES:,} preflight reads")
        document.data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        offset = mark.index if mark else getattr(err, "position", 0)
        problem = getattr(err, "problem", None) or getattr(err, "reason", None) or type(err).__name__
        document.problems.append(Problem("syntax", f"invalid YAML: {problem}", offset=offset))
        return
    except _YamlLimit as err:
        document.problems.append(Problem("syntax", f"{err}", offset=0))
        return
    except RecursionError:
        document.problems.append(Problem("syntax", "invalid YAML: nested too deeply to read", offset=0))
        return
    except ValueError as err:  # a timestamp that is no date, an integer beyond int()'s digit limit
        document.problems.append(Problem("syntax", f"invalid YAML: a value cannot be read ({type(err).__name__})",
                                         offset=0))
        return
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        document.problems.append(Problem("syntax", "the file holds no YAML document",
                                         fix="give the request's JSON or YAML"))
        return
    document.parsed = True
    positions: dict[str, int] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                name = key.value if isinstance(key.value, str) else str(key.start_mark.index)
                child = path + "/" + escape(name)
                if name in seen:
                    document.problems.append(Problem(
                        "duplicate-key", f"key {name!r} appears more than once; only the last one counts",
                        pointer=child, offset=key.start_mark.index))
                seen.add(name)
                positions[child] = key.start_mark.index
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                positions[f"{path}/{index}"] = item.start_mark.index
                walk(item, f"{path}/{index}")

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
