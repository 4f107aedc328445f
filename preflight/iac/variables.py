"""Shell-variable templates: the request files that scripts write from a heredoc full of
``${VAR}`` before calling ``aws sagemaker create-cluster --cli-input-json``.

``${VAR}``, ``$VAR`` and ``${VAR:-default}`` / ``${VAR-default}`` are substituted in the text
before it is parsed, as the shell would. A variable with no value does not make the file
unparseable: its place reads as a value known only at deployment (``Unresolved``, never checked)
and the variable itself is reported, by name and place. Positions are mapped back to the file as
written, so findings point at the template's own lines and columns.
"""

from __future__ import annotations

import json
import re
import uuid

from preflight.documents import Document, LoadError, Problem, parse
from preflight.limits import MAX_BYTES, read_bytes
from preflight.values import Unresolved

REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class SubstitutedDocument(Document):
    """A document parsed from substituted text; positions are given in the text as written."""

    def __init__(self, document: Document, written: str, shifts: list[tuple[int, int]]):
        """``document``: what the substituted text parsed to."""
        super().__init__(document.path, document.text, document.data, document.parsed, document.problems)
        self._positions, self._line_starts = document._positions, document._line_starts
        self.written = written
        self.shifts = shifts  # (offset in text, offset in written), ascending
        self._written: Document | None = None

    def position(self, pointer: str, offset: int | None = None) -> tuple[int, int]:
        if offset is None:
            offset = self._offset_of(pointer)
        if self._written is None:
            self._written = Document(path=self.path, text=self.written)
        return self._written.position("", self.written_offset(offset))

    def written_offset(self, offset: int) -> int:
        start, original = 0, 0
        for text_start, written_start in self.shifts:
            if text_start > offset:
                break
            start, original = text_start, written_start
        return original + (offset - start)


def read_env_file(path: str, max_bytes: int = MAX_BYTES, given: dict[str, str] | None = None) -> dict[str, str]:
    """KEY=VALUE lines (``export`` and quotes allowed, ``#`` comments), as a shell script's env file
    or a ``.env`` holds them, each value read as bash reads it when the file is sourced (``_word``).
    A value that runs a command (``$(...)``, backticks), or refers to a variable set by one, is
    known only when the file is sourced: the variable is left out, so that its uses are unset
    variables rather than the command's text. ``given`` (the ``--var`` values, which win over the
    file) stands for the variables it names in the values that refer to them.
    The file is read within ``max_bytes``, and so are its values once expanded, all together (a
    value doubling an earlier one on each line would otherwise grow without bound)."""
    try:
        lines = read_bytes(path, max_bytes).decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise LoadError(f"{path}: cannot read the env file ({err})") from None
    given = given or {}
    found, unknown, size = {}, set(), 0
    for number, line in enumerate(lines, 1):
        line = line.lstrip()
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise LoadError(f"{path}:{number}: expected KEY=VALUE")
        try:
            word = _word(value.lstrip(), {**found, **given}, unknown, max_bytes - size, f"{path}:{number}")
        except _KnownWhenSourced:
            found.pop(key, None)
            unknown.add(key)
            continue
        if word is None:
            raise LoadError(f"{path}:{number}: a quote is not closed")
        found[key] = word
        unknown.discard(key)
        size += len(word)
    return found


class _KnownWhenSourced(Exception):
    """A value bash knows only when it sources the file: it runs a command or uses a value that does."""


COMMAND_SUBSTITUTION = re.compile(r"\$\(|`")


# Inside double quotes bash drops the backslash only before these; before any other character it stays.
DOUBLE_QUOTED_ESCAPES = '"$`\\'
WORD_PART = re.compile(r"""'(?P<single>[^']*)'|"(?P<double>(?:[^"\\]|\\.)*)"|(?P<end>\s.*)|\\(?P<escaped>.)|(?P<plain>[^'"\\\s]+)""",
                       re.DOTALL)


def _word(text: str, known: dict[str, str], unknown: set[str], room: int, where: str) -> str | None:
    """A value as bash reads it: single-quoted parts literal; in double-quoted parts a backslash
    before a double quote, dollar, backtick or backslash is dropped (before anything else it stays)
    and references are expanded; in unquoted parts references are expanded and a backslash takes
    the next character as it is; unquoted white space ends the value (a comment or a command may
    follow). None when a quote is left open; _KnownWhenSourced for a command substitution outside
    single quotes or a reference to an ``unknown`` variable. Expansions are bounded by ``room``
    (``_expanded``)."""
    parts, position = [], 0
    while position < len(text):
        match = WORD_PART.match(text, position)
        if match is None:
            return None
        position = match.end()
        if match.group("end") is not None:  # a comment, or what bash would run as a command
            break
        if match.group("single") is not None:
            parts.append(match.group("single"))
        elif match.group("double") is not None:
            pieces = re.split(r"\\([" + re.escape(DOUBLE_QUOTED_ESCAPES) + "])", match.group("double"))
            # split keeps each escaped character at the odd places: expand only what lies between them
            parts.extend(piece if index % 2 else _expanded(piece, known, unknown, room, where)
                         for index, piece in enumerate(pieces))
        elif match.group("escaped") is not None:
            parts.append(match.group("escaped"))
        else:
            parts.append(_expanded(match.group("plain"), known, unknown, room, where))
    return "".join(parts)


def _expanded(value: str, known: dict[str, str], unknown: set[str], room: int, where: str) -> str:
    """A value with the references to earlier lines' variables expanded, as sourcing the file does
    (``HYPERPOD_NAME=${PREFIX}-smhp``); a reference to none of them is left as written. Measured
    before it is built: more than ``room`` characters is a LoadError at ``where``."""
    if COMMAND_SUBSTITUTION.search(value):
        raise _KnownWhenSourced
    pieces, last, length = [], 0, 0
    for match in REFERENCE.finditer(value):
        name, operator, default = match.group(1) or match.group(4), match.group(2), match.group(3)
        if name not in known and name in unknown:
            raise _KnownWhenSourced
        found = known.get(name)
        if found is None or (operator == ":-" and found == ""):
            found = default if operator else None
        piece = value[last:match.start()] + (match.group(0) if found is None else found)
        length += len(piece)
        if length > room:
            break
        pieces.append(piece)
        last = match.end()
    if length + len(value) - last > room:
        raise LoadError(f"{where}: the env file's values, expanded, are larger than the input size limit "
                        "(--max-bytes)")
    return "".join(pieces) + value[last:]


def substituted(document: Document, variables: dict[str, str], max_bytes: int = MAX_BYTES) -> Document:
    """The document re-read with its variables substituted; unset ones are problems of kind
    ``unset-variable`` and read as Unresolved values. A document without references is returned as
    is; one whose substituted text would be longer than ``max_bytes`` characters (a long value
    written many times) is not built: its problem says so at the reference that passed the limit."""
    written = document.text
    if "$" not in written or not REFERENCE.search(written):
        return document
    marker = f"preflight-unset-{uuid.uuid4().hex}-"
    json_text = not document.path.lower().endswith((".yaml", ".yml"))
    in_string = _string_state(written) if json_text else None
    pieces, shifts, unset = [], [], []
    last, length = 0, 0
    for match in REFERENCE.finditer(written):
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3)
        value = variables.get(name)
        if value is None or (operator == ":-" and value == ""):
            value = default if operator else None
        pieces.append(written[last:match.start()])
        length += match.start() - last
        if value is None:
            value = f"{marker}{name}"
            if json_text and not in_string(match.start()):
                value = json.dumps(value)
            unset.append((name, match.group(0), length))
        pieces.append(value)
        length += len(value)
        if length > max_bytes:
            document = Document(path=document.path, text=written)
            document.problems.append(Problem(
                "syntax", f"its variables expand it to more than {max_bytes:,} characters, the input size limit; "
                "not read further", offset=match.start(), fix="--max-bytes raises the limit"))
            return document
        shifts += [(length - len(value), match.start()), (length, match.end())]
        last = match.end()
    pieces.append(written[last:])
    result = parse(document.path, "".join(pieces))
    result = SubstitutedDocument(result, written, shifts)
    if result.parsed:
        result.data = _marked_unresolved(result.data, marker)
    for name, written_as, offset in unset:
        result.problems.append(Problem("unset-variable", f"{written_as} has no value: the file was written "
                                       "from a shell template", offset=offset,
                                       fix=f"give it with --var {name}=VALUE, --env-file or --var-from-env"))
    return result


def _string_state(text: str):
    """Whether each offset of a JSON text lies inside a string (one pass; escapes honoured)."""
    starts, inside, index = [], False, 0
    while index < len(text):
        char = text[index]
        if char == "\\" and inside:
            index += 2
            continue
        if char == '"':
            inside = not inside
            starts.append(index)
        index += 1

    import bisect

    return lambda offset: bisect.bisect_right(starts, offset) % 2 == 1


def _marked_unresolved(value, marker: str):
    if isinstance(value, str) and marker in value:
        return Unresolved(re.sub(re.escape(marker) + r"([A-Za-z0-9_]+)", r"${\1}", value))
    if isinstance(value, dict):
        return {key: _marked_unresolved(item, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [_marked_unresolved(item, marker) for item in value]
    return value
