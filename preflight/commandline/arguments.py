"""From one AWS CLI command's words to the request the CLI would build from them.

``build(operation, words, directory=..., max_bytes=...)`` reads the words after ``aws sagemaker
<operation>`` the way the AWS CLI (``awscli``: clidriver, argparse, argprocess, shorthand, paramfile,
cliinputjson) reads them, with the operation's request schema as the model:

- Option names are the input members' names in kebab case (botocore's ``xform_name``), read by
  argparse's rules: ``--name value`` or ``--name=value``, a unique prefix of a name stands for it,
  a word starting with ``-`` is an option unless it is a negative number or holds a space, the last
  of an option given twice wins.
- A boolean member is a flag pair, ``--x`` / ``--no-x``. A list member takes every value word up to
  the next option (``--instance-groups '{...}' '{...}'`` is a list of two). Any other member takes
  one word.
- A value ``file://path`` or ``fileb://path`` (relative to ``directory``) is replaced by the file's
  text; the CLI's v1 also fetched ``http(s)://`` values, v2 does not and neither does this.
- Structures, maps and lists of them take JSON (a value starting with ``{`` or ``[``) or the
  shorthand syntax (``A=1,B=[x,y],C={D=e}``, quoting with ``'``/``"``, ``\\,``, ``key@=file://x``),
  whose scalars are then converted by the member's type (integers, booleans; a scalar given for a
  list becomes a list of one). Integers given alone are Python's ``int()`` of the word.
- ``--cli-input-json`` / ``--cli-input-yaml`` (literal or ``file://``) give the members the
  options do not. ``--generate-cli-skeleton`` makes the command print a template, and a word
  ``help`` its help: then it sends nothing.
- The AWS CLI's global options may stand anywhere among the words; they do not shape the request
  and are returned in ``Built.globals``.
- ``--`` (argparse's end of options) is not read: its effect on the CLI's two parsers is not
  modelled, so the word is left out and the result marked ``partial``.

What the CLI itself refuses (an unknown option, a value missing or left over, invalid JSON or
shorthand, a file it cannot read, a word that is not the member's scalar type) is a problem at the
character it concerns. What botocore or the service refuses (unknown members inside JSON, types
inside JSON, enums, patterns) is left to the rules, as for any request file; so is a required
option left out, which the CLI refuses too but the request schema's rule reports with its pointer.
An unknown shell expansion is never an error: the value it stands in is ``Unresolved``.
"""

from __future__ import annotations

import os
import re
import string
from typing import NamedTuple

from preflight import documents, limits, schema, spelling
from preflight.commandline.words import UNKNOWN_END, UNKNOWN_START, Word, known
from preflight.pointers import escape
from preflight.values import Unresolved

# The AWS CLI's global options, from aws-cli v1's awscli/data/cli.json and v2's additions
# (--no-cli-pager, --cli-binary-format, --cli-auto-prompt): True for those that take a value.
# The options v1 does not have are read only when written whole, so that a prefix means what it
# means to v1 (``--cli-i`` is v1's --cli-input-json).
V2_ONLY = ("--no-cli-pager", "--cli-binary-format", "--cli-auto-prompt", "--no-cli-auto-prompt", "--cli-input-yaml")
GLOBAL_OPTIONS = {
    "debug": False, "endpoint-url": True, "no-verify-ssl": False, "no-paginate": False, "output": True,
    "query": True, "profile": True, "region": True, "version": False, "color": True,
    "no-sign-request": False, "ca-bundle": True, "cli-read-timeout": True, "cli-connect-timeout": True,
    "v2-debug": False, "no-cli-pager": False, "cli-binary-format": True, "cli-auto-prompt": False,
    "no-cli-auto-prompt": False,
}
GLOBAL_CHOICES = {"output": ("json", "text", "table", "yaml", "yaml-stream"), "color": ("on", "off", "auto"),
                  "cli-binary-format": ("base64", "raw-in-base64-out")}
GLOBAL_INTEGERS = ("cli-read-timeout", "cli-connect-timeout")
SKELETON_CHOICES = ("input", "output", "yaml-input")
FILE_PREFIXES = ("file://", "fileb://")

# botocore's validate_region_name, less the empty name (which makes no endpoint)
_REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse reads these as values
_FIRST_CAP = re.compile("(.)([A-Z][a-z]+)")
_END_CAP = re.compile("([a-z0-9])([A-Z])")
_SPECIAL_CASE = re.compile("[A-Z]{2,}s$")


def option_name(member: str) -> str:
    """A member's CLI option name, as botocore's ``xform_name(member, '-')`` makes it."""
    if "-" in member:
        return member
    special = _SPECIAL_CASE.search(member)
    if special is not None:
        member = f"{member[:-len(special.group())]}-{special.group().lower()}"
    return _END_CAP.sub(r"\1-\2", _FIRST_CAP.sub(r"\1-\2", member)).lower()


class Problem(NamedTuple):
    """Something the AWS CLI would refuse, at a source offset; ``kind`` "file-missing" when it is
    a ``file://`` that is not there now (it may be when the command runs)."""

    offset: int
    message: str
    fix: str | None = None
    kind: str = "cli-refuses"


class Built(NamedTuple):
    request: dict
    origins: dict[str, int]  # request JSON pointer -> source offset
    problems: list[Problem]
    unknown: list[tuple[str, int]]  # unknown expansions met, as written, with their offsets
    files: list[str]  # the file:// and fileb:// paths read (or tried)
    globals: dict[str, Word | None]  # global option -> its value word (None for a flag)
    no_request: str | None  # why the command sends nothing: "--generate-cli-skeleton" or "help"
    partial: bool  # an unknown expansion stood where an option was expected, or a `--` was left out


class _Refused(Exception):
    """The CLI refuses the value: where (a source offset, or an index in the text being parsed),
    what, and the fix."""

    def __init__(self, message: str, fix: str | None = None, *, index: int = 0, offset: int = 0):
        super().__init__(message)
        self.message, self.fix, self.index, self.offset = message, fix, index, offset


class _Text(NamedTuple):
    """A value's text and the way back to the source: a word from ``shift`` on, or a file (every
    character at the word that named it)."""

    text: str
    word: Word
    shift: int | None = 0

    def at(self, index: int) -> int:
        return self.word.start if self.shift is None else self.word.offset(self.shift + index)

    def sub(self, start: int, end: int) -> _Text:
        return _Text(self.text[start:end], self.word, None if self.shift is None else self.shift + start)

    @property
    def unknown(self) -> bool:
        return UNKNOWN_START in self.text

    def as_word(self) -> Word:
        """The value as a word of its own: ``--region=us-west-2``'s ``us-west-2``."""
        if not self.shift:
            return self.word
        return Word(self.text, self.word.offsets[self.shift:self.shift + len(self.text)], self.at(0), self.word.end)


class _Shape:
    """A node of the request schema, seen as the service model's shape."""

    def __init__(self, node: dict, defs: dict):
        while "$ref" in node:
            node = defs[node["$ref"].rpartition("/")[2]]
        self.node, self.defs = node, defs
        kind = node.get("type")
        if kind == "object":
            kind = "structure" if "properties" in node else "map"
        elif kind == "array":
            kind = "list"
        elif node.get("x-timestamp"):
            kind = "timestamp"
        self.kind = kind

    @property
    def members(self) -> dict[str, _Shape]:
        return {name: _Shape(sub, self.defs) for name, sub in self.node["properties"].items()}

    @property
    def member(self) -> _Shape:
        return _Shape(self.node["items"], self.defs)

    @property
    def value(self) -> _Shape:
        return _Shape(self.node["additionalProperties"], self.defs)

    @property
    def complex(self) -> bool:
        return self.kind in ("structure", "map", "list")

    @property
    def takes_shorthand(self) -> bool:
        return self.kind in ("structure", "map") or (self.kind == "list" and self.member.complex)


class _Option(NamedTuple):
    name: str  # with its dashes
    nargs: str  # "one" | "flag" | "many" | "maybe"
    member: str | None = None
    flag_value: bool = True


def _operation_options(operation: str) -> tuple[dict[str, _Option], _Shape]:
    document = schema.load(operation)
    root = _Shape(document, document["$defs"])
    options: dict[str, _Option] = {}
    for member, shape in root.members.items():
        name = "--" + option_name(member)
        if shape.kind == "boolean":
            options[name] = _Option(name, "flag", member, True)
            options["--no-" + name[2:]] = _Option("--no-" + name[2:], "flag", member, False)
        else:
            options[name] = _Option(name, "many" if shape.kind == "list" else "one", member)
    for name in ("--cli-input-json", "--cli-input-yaml"):
        options[name] = _Option(name, "one")
    options["--generate-cli-skeleton"] = _Option("--generate-cli-skeleton", "maybe")
    return options, root


_GLOBALS = {f"--{name}": _Option(f"--{name}", "one" if takes else "flag") for name, takes in GLOBAL_OPTIONS.items()}


def _classify(text: str, options: dict[str, _Option]) -> tuple[_Option | None, int | None] | None:
    """argparse's reading of one word: None for a value; else the option it names (None when
    unknown; a prefix names the one option it begins) and where its ``=value`` starts."""
    if not text or text[0] != "-":
        return None
    if text in options:
        return options[text], None
    if len(text) == 1:
        return None
    name, equals, _ = text.partition("=")
    if equals and name in options:
        return options[name], len(name) + 1
    if text[1] == "-":
        matches = sorted(option for option in options if option.startswith(name) and option not in V2_ONLY)
        if len(matches) > 1:
            raise _Refused(f"`{name}` is ambiguous: it could be {', '.join(matches)}", "write the whole option name")
        if matches:
            return options[matches[0]], len(name) + 1 if equals else None
    if _NEGATIVE_NUMBER.match(text) or " " in text:
        return None
    return None, None


def global_option(text: str) -> tuple[str, int] | None:
    """The AWS CLI global option the word ``text`` names, as argparse reads it (``--name=value`` and
    prefixes included), and how many words it spans: 1 (a flag, or its value after ``=``) or 2;
    None when the word is not one."""
    try:
        kind = _classify(text, _GLOBALS)
    except _Refused:
        return None
    if kind is None or kind[0] is None:
        return None
    option, explicit = kind
    return option.name, 1 if explicit is not None or option.nargs == "flag" else 2


class _Parsed(NamedTuple):
    values: dict[str, tuple[_Option, object, Word]]  # member or option -> (option, value, the option's word)
    rest: list[Word]
    given: list[tuple[_Option, object]]  # every option given, in order (argparse checks each one's value)


def _parse(words: list[Word], options: dict[str, _Option], problems: list[Problem], keep_rest: bool,
           state: dict) -> _Parsed:
    """argparse's reading of ``words`` against ``options``. With ``keep_rest``, words it does not
    know are returned (the CLI's main parser passes them on); otherwise they are problems."""

    kinds = []
    for word in words:
        try:
            kinds.append(None if word.text.startswith(UNKNOWN_START) else _classify(word.text, options))
        except _Refused as refused:
            problems.append(Problem(word.offset(0), refused.message, refused.fix))
            kinds.append((None, -1))
    values: dict[str, tuple[_Option, object, Word]] = {}
    rest: list[Word] = []
    given: list[tuple[_Option, object]] = []
    # The operation's parser has one positional, ``help`` (``aws ... create-cluster help``): the first
    # word no option takes is read as it, and an empty one is then ignored; any other is refused.
    help_free = not keep_rest

    def stray(word: Word, option: _Option | None = None) -> None:
        nonlocal help_free
        first, help_free = help_free, False
        if keep_rest:
            rest.append(word)
        elif word.unknown:
            state["partial"] = True
        elif first and word.text == "help":
            state["help"] = True
        elif not (first and word.text == ""):
            problems.append(_stray(word, option))

    i = 0
    while i < len(words):
        word, kind = words[i], kinds[i]
        i += 1
        if kind is None:
            stray(word)
            continue
        if kind[0] is None:
            if kind[1] == -1:
                continue
            if keep_rest:
                rest.append(word)
            elif word.unknown:
                state["partial"] = True
            else:
                problems.append(_unknown_option(word, options))
                help_free = False
                while i < len(words) and kinds[i] is None:  # its values: the same mistake
                    i += 1
            continue
        option, explicit = kind
        following = []
        while i < len(words) and kinds[i] is None:
            following.append(words[i])
            i += 1
        if explicit is not None:
            attached = _Text(word.text[explicit:], word, explicit)
            if option.nargs == "flag":
                problems.append(Problem(word.offset(explicit), f"{option.name} takes no value",
                                        f"write {option.name} alone"))
                value = None
            else:
                value = [attached] if option.nargs == "many" else attached
        elif option.nargs == "flag":
            value = option.flag_value
        elif option.nargs == "many":
            value, following = [_Text(w.text, w) for w in following], []
        elif following:
            value = _Text(following[0].text, following[0])
            following = following[1:]
        elif option.nargs == "maybe":
            value = None
        else:
            problems.append(Problem(word.end, f"{option.name} needs a value", f"give {option.name} a value"))
            value = None
        values[option.member or option.name] = (option, value, word)
        given.append((option, value))
        # Words left after an option's values: the CLI passes them on, or calls them unknown options.
        for extra in following:
            stray(extra, option)
    return _Parsed(values, rest, given)


def _unknown_option(word: Word, options: dict[str, _Option]) -> Problem:
    name = word.text.partition("=")[0]
    close = spelling.nearest(name, options, cutoff=0.6)
    return Problem(word.offset(0), f"unknown option {name}", f"did you mean {close}?" if close else None)


def _stray(word: Word, option: _Option | None = None) -> Problem:
    if option is not None and option.nargs == "flag":
        fix = f"{option.name} is a flag and takes no value (its opposite is {_opposite(option.name)})"
    elif option is not None:
        fix = f"{option.name} takes one value: quote it if it holds spaces"
    else:
        fix = "a value goes after its option"
    return Problem(word.offset(0), f"`{word.text}` is not an option and no option takes it", fix)


def _opposite(name: str) -> str:
    return "--" + name[5:] if name.startswith("--no-") else "--no-" + name[2:]


def build(operation: str, words: list[Word], *, directory: str | None, max_bytes: int,
          written: dict[str, Word | None] | None = None) -> Built:
    """The request the AWS CLI builds from ``words`` (those after the operation's name), where the
    command runs in ``directory`` (None: a folder not known), reading no file larger than
    ``max_bytes``; ``written`` holds the files the script wrote before the command (path -> its
    heredoc, None when its content is not known), read in place of the disk's."""
    problems: list[Problem] = []
    state = {"partial": "--" in (word.text for word in words), "help": False}
    words = [word for word in words if word.text != "--"]
    options, root = _operation_options(operation)
    unknown = [(expansion, offset) for word in words for expansion, offset in _expansions(word)]
    main = _parse(words, _GLOBALS, problems, keep_rest=True, state=state)
    for option, value in main.given:
        key = option.name[2:]
        if isinstance(value, _Text) and not value.unknown:
            if key in GLOBAL_CHOICES and value.text not in GLOBAL_CHOICES[key]:
                problems.append(Problem(value.at(0), f"{option.name} takes one of {', '.join(GLOBAL_CHOICES[key])}"))
            if key in GLOBAL_INTEGERS and not _is_int(value.text):
                problems.append(Problem(value.at(0), f"{option.name} takes a whole number of seconds"))
    globals_ = {name[2:]: value.as_word() if isinstance(value, _Text) else None
                for name, (_, value, _) in main.values.items()}
    # argparse checks choices and types at each occurrence; the CLI compiles --query after parsing,
    # so only the last one given must be an expression
    query = main.values.get("--query", (None, None, None))[1]
    if isinstance(query, _Text) and not query.unknown and not query.text:
        problems.append(Problem(query.at(0), "--query takes a JMESPath expression; it is empty"))
    region = main.values.get("--region", (None, None, None))[1]
    if isinstance(region, _Text) and not region.unknown and not _REGION.match(region.text):
        problems.append(Problem(region.at(0), f"`{region.text}` is not a region name", "for example us-west-2"))
    parsed = _parse(main.rest, options, problems, keep_rest=False, state=state)
    for option, value in parsed.given:
        if option.name == "--generate-cli-skeleton" and isinstance(value, _Text) and value.text not in SKELETON_CHOICES:
            problems.append(Problem(value.at(0), f"--generate-cli-skeleton takes one of {', '.join(SKELETON_CHOICES)}"))
    reader = _Reader(directory, max_bytes, problems, written or {})
    request: dict = {}
    no_request = "help" if state["help"] else None
    for option, value, word in parsed.values.values():
        if option.member is None:
            if option.name == "--generate-cli-skeleton":
                no_request = no_request or option.name
            continue
        if value is None:
            continue
        pointer = "/" + escape(option.member)
        shape = root.members[option.member]
        if isinstance(value, bool):
            request[option.member] = value
            reader.origins[pointer] = word.offset(0)
            continue
        try:
            result = reader.member(shape, value, pointer, option.name)
        except _Unreadable:  # said where it is; present, so that nothing reports it missing, and never checked
            result = Unresolved(value.text if isinstance(value, _Text) else option.name)
            reader.origins.setdefault(pointer, word.offset(0))
        request[option.member] = result
    for key in ("--cli-input-json", "--cli-input-yaml"):
        if key in parsed.values and isinstance(parsed.values[key][1], _Text):
            reader.input_document(parsed.values[key][1], key, request)
    return Built(request, reader.origins, problems, unknown + reader.expansions_in_files, reader.files, globals_,
                 no_request,
                 state["partial"] or reader.partial)


def _wholly_unknown(text: str) -> bool:
    return text.startswith(UNKNOWN_START) and text.endswith(UNKNOWN_END) and text.count(UNKNOWN_START) == 1


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _expansions(word: Word):
    start = word.text.find(UNKNOWN_START)
    while start >= 0:
        end = word.text.find(UNKNOWN_END, start)
        end = len(word.text) if end < 0 else end
        yield word.text[start + 1:end], word.offset(start)
        start = word.text.find(UNKNOWN_START, end)


_UNKNOWN = re.compile(f"{UNKNOWN_START}[^{UNKNOWN_END}]*{UNKNOWN_END}?")
_MASK_BASE = 0xE100  # private-use characters, read by the shorthand grammar as plain value characters


class _Unreadable(Exception):
    """The member's value is refused: the problem is recorded, the member left out."""


class _Reader:
    """Turns option values into request values, recording origins, files read and problems."""

    def __init__(self, directory: str | None, max_bytes: int, problems: list[Problem],
                 written: dict[str, Word | None]):
        self.directory, self.max_bytes, self.problems = directory, max_bytes, problems
        # An unknown expansion stands for a value, whatever it is written with (``${X}``'s braces,
        # ``"$(cmd)"``): it is parsed as a run of plain characters of the same length, one
        # private character per expansion, and put back in the values read.
        self.masks: dict[str, str] = {}
        self.origins: dict[str, int] = {}
        self.value_origins: dict[str, int] = {}  # where a shorthand member's value (not its key) starts
        self.files: list[str] = []
        self.partial = False  # an input document whose members cannot be known
        self.written = written
        self.option_name = ""  # the option whose value is being read, for the problems met inside it
        self.expansions_in_files: list[tuple[str, int]] = []  # unknown ones, in the heredocs read

    def _mask(self, text: _Text) -> _Text:
        if not text.unknown:
            return text

        def mask(match: re.Match) -> str:
            masked = UNKNOWN_START + chr(_MASK_BASE + len(self.masks) % 0x1000) * (len(match.group()) - 2)
            masked += UNKNOWN_END if match.group().endswith(UNKNOWN_END) else masked[-1]
            self.masks[masked] = match.group()
            return masked

        return text._replace(text=_UNKNOWN.sub(mask, text.text))

    def known(self, value: str) -> str | Unresolved:
        """A string read from a value, with its unknown expansions as written: ``words.known``."""
        if UNKNOWN_START in value:
            value = _UNKNOWN.sub(lambda match: self.masks.get(match.group(), match.group()), value)
        return known(value)

    def resolved(self, value):
        """Every string leaf as ``known`` makes it."""
        if isinstance(value, str):
            return self.known(value)
        if isinstance(value, dict):
            return {key: self.resolved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolved(item) for item in value]
        return value

    def member(self, shape: _Shape, value, pointer: str, name: str):
        """The CLI's unpack_argument, then process-cli-arg (shorthand) or unpack_cli_arg."""
        value = [self._mask(text) for text in value] if isinstance(value, list) else self._mask(value)
        texts = value if isinstance(value, list) else [value]
        if texts:
            self.origins[pointer] = texts[0].at(0)
        single = texts[0] if len(texts) == 1 else None
        if single is not None and single.text.startswith(FILE_PREFIXES):
            loaded = self.paramfile(single, name)
            if isinstance(loaded, Unresolved):
                return loaded
            value = single = loaded
            texts = [loaded]  # a heredoc the script wrote may hold unknown expansions of its own
        elif isinstance(value, list) and single is not None and _wholly_unknown(single.text):
            # An unquoted expansion may stand for any number of words: the whole list is unknown.
            return self.known(single.text)
        self.option_name = name
        try:
            result = self._unpack(shape, value, pointer, name)
        except _Refused as refused:
            if any(text.unknown for text in texts):
                return self.known(" ".join(text.text for text in texts))
            self.problems.append(Problem(refused.offset, f"{name}: {refused.message}", refused.fix))
            raise _Unreadable() from None
        # Only the words' own markers are unknown expansions, not a JSON escape such as \ue000.
        return self.resolved(result) if any(text.unknown for text in texts) else result

    def _unpack(self, shape: _Shape, value, pointer: str, name: str):
        check = value[0] if isinstance(value, list) and value else value
        looks_json = isinstance(check, _Text) and check.text.strip().startswith(("[", "{"))
        if shape.takes_shorthand and not looks_json:
            special = self._special_case(shape, value)
            if special is not None:
                return special
            if isinstance(value, list):
                parsed = []
                for index, text in enumerate(value):
                    parsed.append(self._shorthand(text, f"{pointer}/{index}", name))
            else:
                parsed = self._shorthand(value, pointer, name)
            return _Visitor(self).visit(parsed, shape, pointer)
        return self._unpack_cli_arg(shape, value, pointer)

    def _special_case(self, shape: _Shape, value):
        """argprocess's one special case: a structure of one string member ``Value``, given without ``=``."""
        if shape.kind != "structure":
            return None
        members = shape.members
        texts = [t.text for t in value] if isinstance(value, list) else value.text
        if list(members) == ["Value"] and members["Value"].kind == "string" and "=" not in texts:
            return {"Value": texts}
        return None

    def _unpack_cli_arg(self, shape: _Shape, value, pointer: str):
        if shape.kind in ("structure", "map"):
            if value.text.lstrip()[:1] == "{":
                return self._json(value, pointer)
            raise _Refused("invalid JSON: a structure is given as {...} or in the shorthand syntax",
                           offset=value.at(0))
        if shape.kind == "list":
            if isinstance(value, _Text):
                if value.text.lstrip()[:1] == "[":
                    return self._json(value, pointer)
                if not value.text.lstrip():
                    raise _Refused("the value is empty", offset=value.at(0))
                # As the CLI does: a text that is not a JSON list is read one character at a time.
                elements = [value.sub(i, i + 1) for i in range(len(value.text))]
            else:
                if len(value) == 1 and value[0].text.strip()[:1] == "[":
                    return self._json(value[0], pointer)
                elements = value
            result = []
            for index, element in enumerate(elements):
                self.origins[f"{pointer}/{index}"] = element.at(0)
                result.append(self._unpack_cli_arg(shape.member, element, f"{pointer}/{index}"))
            return result
        return _scalar(shape, value)

    def _json(self, text: _Text, pointer: str):
        document = documents.parse("argument.json", text.text, yaml_input=False)
        refused = [p for p in document.problems if p.kind != "duplicate-key"]
        if refused and document.parsed and all(p.kind == "python-literal" for p in refused):
            for problem in refused:  # refused by the CLI, and read past (as PF002 does) so the rest is checked
                self.problems.append(Problem(text.at(problem.offset or 0), f"{self.option_name}: {problem.message}",
                                             problem.fix))
            refused = []
        if refused:
            first = refused[0]
            raise _Refused(first.message, first.fix, offset=text.at(first.offset or 0))
        for relative, offset in document.offsets().items():
            self.origins[pointer + relative] = text.at(offset)
        return document.data

    def _shorthand(self, text: _Text, pointer: str, name: str):
        parser = _Shorthand(text, self, name)
        try:
            parsed = parser.parse()
        except _Refused as refused:
            raise _Refused(f"bad shorthand: {refused.message}", refused.fix, offset=text.at(refused.index)) from None
        for relative, index in parser.positions.items():
            self.origins[pointer + relative] = text.at(index)
        for relative, index in parser.value_starts.items():
            self.value_origins[pointer + relative] = text.at(index)
        return parsed

    def paramfile(self, text: _Text, name: str):
        """A ``file://``/``fileb://`` value's contents (paramfile.get_paramfile)."""
        binary = text.text.startswith("fileb://")
        path = text.text[len("fileb://" if binary else "file://"):]
        if text.unknown or self.directory is None:  # where the command runs is not known either
            return self.known(text.text if text.unknown else f"{UNKNOWN_START}{text.text}{UNKNOWN_END}")
        full = os.path.normpath(os.path.join(self.directory, os.path.expanduser(path)))
        self.files.append(full)
        if full in self.written:  # the script wrote it before the command: its heredoc, as the shell wrote it
            content = self.written[full]
            if content is None:
                return self.known(f"{UNKNOWN_START}{text.text}{UNKNOWN_END}")
            self.expansions_in_files.extend(_expansions(content))
            return self._mask(_Text(content.text, content, 0))
        if not os.path.lexists(full):
            self.problems.append(Problem(text.at(0), f"{name}: {path} is not there and nothing before the command "
                                         "writes it; the AWS CLI refuses the command unless it exists when it runs",
                                         kind="file-missing"))
            raise _Unreadable()
        try:
            raw = limits.read_bytes(full, self.max_bytes, path)  # full: never "-", stdin
        except documents.LoadError as err:
            self.problems.append(Problem(text.at(0), f"{name}: {err}"))
            raise _Unreadable() from None
        if binary:
            self.problems.append(Problem(text.at(0), f"{name}: fileb:// gives bytes and this member takes text",
                                         f"use file://{path}"))
            raise _Unreadable()
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(Problem(text.at(0), f"{name}: {path} is not UTF-8 text"))
            raise _Unreadable() from None
        return _Text(content, text.word, None)

    def input_document(self, value: _Text, name: str, request: dict) -> None:
        """--cli-input-json / --cli-input-yaml: the members the options did not give."""
        source = self._mask(value)
        if value.text.startswith(FILE_PREFIXES):
            try:
                source = self.paramfile(value, name)
            except _Unreadable:  # missing (PF023) or refused (PF021): which members it gives is unknown
                self.partial = True
                return
            if isinstance(source, Unresolved):
                self.partial = True  # which members it gives is unknown
                return
        document = documents.parse(name, source.text, yaml_input=name.endswith("yaml"))
        refused = [p for p in document.problems if p.kind != "duplicate-key"]
        if refused and source.unknown:
            self.partial = True
            return
        if refused:
            first = refused[0]
            self.problems.append(Problem(source.at(first.offset or 0), f"{name}: {first.message}", first.fix))
            return
        if not isinstance(document.data, dict):
            self.problems.append(Problem(source.at(0), f"{name}: the input is not an object of request members"))
            return
        offsets = document.offsets()
        for member, item in document.data.items():
            if member in request:
                continue
            request[member] = self.resolved(item) if source.unknown else item
            pointer = "/" + escape(member)
            for relative, offset in offsets.items():
                if relative == pointer or relative.startswith(pointer + "/"):
                    self.origins[relative] = source.at(offset)


def _scalar(shape: _Shape, value: _Text):
    """argprocess.unpack_scalar_cli_arg."""
    if shape.kind == "integer":
        try:
            return int(value.text)
        except ValueError:
            raise _Refused(f"`{value.text}` is not an integer", offset=value.at(0)) from None
    if shape.kind == "boolean":
        return False if value.text.lower() == "false" else bool(value.text)
    return value.text


class _Visitor:
    """shorthand.BackCompatVisitor: scalars converted by the model, a lone value made a list of one."""

    def __init__(self, reader: _Reader):
        self.origins, self.value_origins = reader.origins, reader.value_origins

    def visit(self, parsed, shape: _Shape, pointer: str):
        # The CLI's visitor makes a lone top-level value a list of one in a holder it then drops.
        if shape.kind != "list" or isinstance(parsed, list):
            self._visit({"": parsed}, "", shape, pointer)
        return parsed

    def _visit(self, parent, key, shape: _Shape, pointer: str) -> None:
        value = parent[key]
        if shape.kind == "structure":
            if isinstance(value, dict):
                for name, member in shape.members.items():
                    if value.get(name) is not None:
                        self._visit(value, name, member, f"{pointer}/{escape(name)}")
        elif shape.kind == "map":
            if isinstance(value, dict):
                for name in value:
                    if value[name] is not None:
                        self._visit(value, name, shape.value, f"{pointer}/{escape(name)}")
        elif shape.kind == "list":
            if not isinstance(value, list):
                parent[key] = [value]
                self._nest(pointer)
            else:
                for index in range(len(value)):
                    self._visit(value, index, shape.member, f"{pointer}/{index}")
        else:
            parent[key] = self._scalar(shape, value, pointer)

    def _nest(self, pointer: str) -> None:
        """Origins of a value made a list of one move under its index 0."""
        moved = {}
        for path in list(self.origins):
            if path.startswith(pointer + "/"):
                moved[pointer + "/0" + path[len(pointer):]] = self.origins.pop(path)
        self.origins.update(moved)
        self.origins[pointer + "/0"] = self.value_origins.get(pointer, self.origins.get(pointer, 0))

    def _scalar(self, shape: _Shape, value, pointer: str):
        if isinstance(value, str) and UNKNOWN_START in value:
            return value
        holder = pointer  # the value the shorthand placed, or the nearest one that holds it
        while holder and holder not in self.origins:
            holder = holder.rpartition("/")[0]
        where = self.value_origins.get(pointer, self.origins.get(holder, 0))
        if shape.kind == "integer":
            try:
                return int(value)
            except (ValueError, TypeError):
                raise _Refused(f"{pointer.rpartition('/')[2]}: `{value}` is not an integer",
                               offset=where) from None
        if shape.kind == "boolean":
            if not isinstance(value, str):
                raise _Refused(f"{pointer.rpartition('/')[2]}: a boolean is true or false", offset=where)
            if value.lower() == "true":
                return True
            if value.lower() == "false":
                return False
        return value


class _Shorthand:
    """awscli.shorthand.ShorthandParser, keeping each value's place: ``positions`` maps a pointer
    relative to the value to an index in its text (a member at its key, a list item at itself)."""

    _SINGLE_QUOTED = re.compile(r"'(?:\\'|[^'])*'")
    _DOUBLE_QUOTED = re.compile(r'"(?:\\"|[^"])*"')
    _START_WORD = r"\!\#-&\(-\+\--\<\>-Z\\\\-z\u007c-\uffff"
    _FIRST_FOLLOW = r"\s\!\#-&\(-\+\--\\\\\^-\|~-\uffff"
    _SECOND_FOLLOW = r"\s\!\#-&\(-\+\--\<\>-\uffff"
    _ESCAPED_COMMA = r"(\\,)"
    _FIRST_VALUE = re.compile(f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_FIRST_FOLLOW}])*")
    _SECOND_VALUE = re.compile(f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_SECOND_FOLLOW}])*")
    _KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_.#/:")

    def __init__(self, text: _Text, reader: _Reader, name: str):
        self.text, self.value, self.reader, self.name = text, text.text, reader, name
        self.index = 0
        self.positions: dict[str, int] = {"": 0}
        self.value_starts: dict[str, int] = {}
        self.paramfile = False

    def parse(self):
        params = {}
        key, child = self._key_equals("")
        params[key] = self._values(child)
        last = self.index
        while self.index < len(self.value):
            self._expect(",", whitespace=True)
            key, child = self._key_equals("")
            if key in params:
                raise _Refused(f"{key} is given twice",
                               "a space, not a comma, separates the values of a list given as several words",
                               index=last + 1)
            params[key] = self._values(child)
            last = self.index
        return params

    def _key_equals(self, path: str) -> tuple[str, str]:
        """``key=`` or ``key@=`` (its value read from a file): the key and its pointer."""
        start = self.index
        key = self._key()
        child = f"{path}/{escape(key)}"
        self.positions[child] = start
        self.paramfile = False
        self._consume_whitespace()
        if self._current() == "@":
            self.index += 1
            self._consume_whitespace()
            self.paramfile = True
        self._expect("=", whitespace=True)
        self.value_starts[child] = self.index
        return key, child

    def _key(self) -> str:
        start = self.index
        while self.index < len(self.value) and self.value[self.index] in self._KEY_CHARS:
            self.index += 1
        return self.value[start:self.index]

    def _values(self, path: str):
        if self.index >= len(self.value):
            return ""
        if self._current() == "[":
            return self._explicit_list(path)
        if self._current() == "{":
            return self._hash_literal(path)
        return self._csv_value(path)

    def _csv_value(self, path: str):
        first = self._first_value()
        self._consume_whitespace()
        if self.index >= len(self.value) or self.value[self.index] != ",":
            return first
        first_start = self.value_starts[path]
        self._expect(",", whitespace=True)
        values, starts = [first], [first_start]
        while True:
            start = self.index
            try:
                current = self._second_value()
                self._consume_whitespace()
                if self.index >= len(self.value):
                    values.append(current)
                    starts.append(start)
                    break
                self._expect(",", whitespace=True)
                values.append(current)
                starts.append(start)
            except _Refused:
                if self.index >= len(self.value):
                    raise
                while self.index >= 0 and self.value[self.index] != ",":
                    self.index -= 1
                break
        if len(values) == 1:
            return first
        for number, start in enumerate(starts):
            self.positions[f"{path}/{number}"] = start
        return values

    def _value(self):
        match = self._FIRST_VALUE.match(self.value, self.index)
        if match is None:
            return ""
        self.index = match.end()
        return self._file(match.group().replace("\\,", ",").rstrip(), match.start())

    def _explicit_list(self, path: str):
        self._expect("[", whitespace=True)
        values = []
        while self._current() != "]":
            self.positions[f"{path}/{len(values)}"] = self.index
            values.append(self._explicit_values(f"{path}/{len(values)}"))
            self._consume_whitespace()
            if self._current() != "]":
                self._expect(",")
                self._consume_whitespace()
        self._expect("]")
        return values

    def _explicit_values(self, path: str):
        if self._current() == "[":
            return self._explicit_list(path)
        if self._current() == "{":
            return self._hash_literal(path)
        return self._first_value()

    def _hash_literal(self, path: str):
        self._expect("{", whitespace=True)
        members = {}
        while self._current() != "}":
            key, child = self._key_equals(path)
            members[key] = self._explicit_values(child)
            self._consume_whitespace()
            if self._current() != "}":
                self._expect(",")
                self._consume_whitespace()
        self._expect("}")
        return members

    def _first_value(self):
        if self._current() == "'":
            return self._quoted(self._SINGLE_QUOTED, "'")
        if self._current() == '"':
            return self._quoted(self._DOUBLE_QUOTED, '"')
        return self._value()

    def _second_value(self):
        if self._current() == "'":
            return self._quoted(self._SINGLE_QUOTED, "'")
        if self._current() == '"':
            return self._quoted(self._DOUBLE_QUOTED, '"')
        match = self._SECOND_VALUE.match(self.value, self.index)
        if match is None:
            raise _Refused("expected a value", index=self.index)
        self.index = match.end()
        return self._file(match.group().replace("\\,", ",").rstrip(), match.start())

    def _quoted(self, regex, quote: str):
        match = regex.match(self.value, self.index)
        if match is None:
            raise _Refused(f"the {quote} quote is not closed", index=self.index)
        self.index = match.end()
        value = match.group()[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\")
        return self._file(value, match.start())

    def _file(self, value: str, start: int):
        """``key@=file://path``: the file's contents."""
        if not self.paramfile or not value.startswith(FILE_PREFIXES):
            return value
        named = _Text(value, self.text.word, None if self.text.shift is None else self.text.shift + start)
        loaded = self.reader.paramfile(named, self.name)
        return loaded if isinstance(loaded, Unresolved) else loaded.text

    def _expect(self, char: str, whitespace: bool = False) -> None:
        if whitespace:
            self._consume_whitespace()
        if self.index >= len(self.value):
            raise _Refused(f"expected `{char}` at the end", index=self.index)
        if self.value[self.index] != char:
            raise _Refused(f"expected `{char}`, found `{self.value[self.index]}`", index=self.index)
        self.index += 1
        if whitespace:
            self._consume_whitespace()

    def _current(self):
        return self.value[self.index] if self.index < len(self.value) else None

    def _consume_whitespace(self) -> None:
        while self.index < len(self.value) and self.value[self.index] in string.whitespace:
            self.index += 1
