"""The ``aws`` commands of a piece of shell text, each as the words the program receives.

The text is parsed by tree-sitter's bash grammar (every bash construct: arrays, ``[[ ]]``,
``case``, arithmetic, heredocs; a syntax error stays local to its statement). The grammar gives
the structure and each argument's span; turning an argument into the word the program receives
(quote removal, escapes, expansions) is done here, keeping each character's place in the text.

What the shell would know when the command runs is followed in order, as far as it is certain:
variables given by the caller (``--var``) and the script's own assignments of known values,
the working directory (``cd``; the script's folder to begin with), and the files the script
writes before the command (``cat > f.json <<EOF``). An assignment or a ``cd`` inside a branch, a
loop or a function makes what it changes unknown afterwards; a subshell's changes stay in it.
Anything unknown is marked in the word (``words.UNKNOWN_START``), never guessed.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from preflight.commandline.words import UNKNOWN_END, UNKNOWN_START, Word

EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion",
                        "process_substitution"})
BRANCHES = frozenset({"if_statement", "while_statement", "for_statement", "c_style_for_statement",
                      "case_statement", "function_definition"})
# Programs that run the command that follows them (their own options aside).
WRAPPERS = frozenset({"sudo", "env", "time", "exec", "command", "nohup", "nice", "timeout"})
VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
PARAMETER = re.compile(rf"({VARIABLE_NAME}|[0-9]|BASH_SOURCE(?:\[0\])?)(?:(:?[-=])(.*))?", re.S)  # inside ${{...}}
ANSI_C = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
          "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


class Command(NamedTuple):
    """An ``aws`` command: its words from the program name on, its span, the folder ``file://``
    paths resolve against (None: changed to a folder that is not known), the files the text wrote
    before it (path -> heredoc content, None when the content is not known), and why its words
    cannot be trusted (None when they can)."""

    words: list[Word]
    start: int
    end: int
    directory: str | None
    written: dict[str, Word | None]
    unreadable: str | None


class Session:
    """What the shell knows at a point of the text; one session reads a file's pieces in order
    (a README's blocks run one after another in one shell)."""

    def __init__(self, variables: dict[str, str], directory: str | None, script: str | None):
        self.variables, self.directory, self.script = dict(variables), directory, script
        self.written: dict[str, Word | None] = {}
        # Where the text assigned a variable its value: name -> (the text, the value, each character's
        # offset), so that the words it is expanded into point there, while the value is still that one.
        self.origins: dict[str, tuple[object, str, tuple[int, ...]]] = {}
        self.evals = 0  # how many `eval`s deep the text being read runs
        # Characters the known expansions may still add, shared by every copy: forty lines of
        # A2="$A1$A1" would otherwise build a value of a terabyte.
        self.expansion_budget = [MAX_EXPANDED_CHARACTERS]

    def copy(self) -> "Session":
        inner = Session(self.variables, self.directory, self.script)
        inner.written, inner.origins, inner.evals = dict(self.written), dict(self.origins), self.evals
        inner.expansion_budget = self.expansion_budget
        return inner

    def spend(self, characters: int) -> bool:
        """Whether a known value of that length may still be expanded (then it is counted)."""
        if characters > self.expansion_budget[0]:
            return False
        self.expansion_budget[0] -= characters
        return True

    def origin(self, name: str, source: object) -> tuple[int, ...] | None:
        """The offsets in ``source`` of the value ``name`` has now, when ``source`` assigned it."""
        found = self.origins.get(name)
        if found is None or found[0] is not source or self.variables.get(name) != found[1]:
            return None
        return found[2]

    def forget_changes_of(self, inner: "Session") -> None:
        """After a branch that may or may not have run: what it changed is no longer known."""
        for name in set(self.variables) | set(inner.variables):
            if self.variables.get(name) != inner.variables.get(name):
                self.variables.pop(name, None)
        if inner.directory != self.directory:
            self.directory = None
        for path in inner.written.keys() - self.written.keys():
            self.written[path] = None


class _Text:
    """The parsed text, with tree-sitter's byte offsets turned into character offsets, and the
    way from those to the file's (``to_file``) for what outlives the piece (a written file).
    ``data`` is what the parser is given: the text screened (``_screened``), character for
    character, so character offsets are the text's."""

    def __init__(self, text: str, to_file=None):
        self.text, self.to_file = text, to_file
        self.data = _screened(text).encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(text)

    def offset(self, byte: int) -> int:
        return byte if self.ascii else len(self.data[:byte].decode("utf-8", "surrogatepass"))

    def span(self, node) -> tuple[int, int]:
        return self.offset(node.start_byte), self.offset(node.end_byte)


# tree-sitter-bash's scanner (src/scanner.c, ``brace_start``, 0.25.1 and before) gives C's isdigit()
# the character after a `{` and its digits, and after `{N..` and its digits. isdigit's table covers
# -128..255 only: a character beyond U+00FF there reads memory up to 2.2 MB past the table, and
# the process dies of SIGSEGV where that memory is not mapped (tree-sitter/tree-sitter-bash#337;
# the fix, iswdigit in pull request #348, is in no release). These two calls are the scanner's
# only class tests that are not wide ones (iswdigit, iswalpha, iswalnum, iswspace).
BRACE_SCAN = re.compile(r"\{[0-9]*(?:\.\.[0-9]*)?([^\x00-\xff])")


def _stand_in(match: re.Match) -> str:
    """The match with its last character swapped for one within isdigit's table that the grammar
    and the scanner class alike: whitespace (a separator), a letter (a variable's name), or other."""
    character = match.group(1)
    stand_in = "\xa0" if character.isspace() else "\xe9" if character.isalpha() else "\xa4"
    return match.group()[:-1] + stand_in


def _screened(text: str) -> str:
    """``text`` as the parser may be given it (``BRACE_SCAN``): each character isdigit() would be
    given beyond its table replaced by one within it, every other character as it is."""
    return BRACE_SCAN.sub(_stand_in, text) if "{" in text else text


_LANGUAGE = None


def _parse(data: bytes):
    """The syntax tree of ``data`` (a ``_Text``'s), by a parser of its own: tree-sitter-bash's
    scanner keeps state (open heredocs) across the parses of one parser; a fresh one costs
    microseconds."""
    global _LANGUAGE
    import tree_sitter

    if _LANGUAGE is None:
        import tree_sitter_bash

        _LANGUAGE = tree_sitter.Language(tree_sitter_bash.language())
    return tree_sitter.Parser(_LANGUAGE).parse(data)


# A documentation placeholder written bare (`--cluster-name <cluster-name>`): to the shell, two
# redirections; to the reader of a guide, one value to fill in. It is read as the word it stands
# for (its brackets swapped for private-use characters of the same length, swapped back in words).
BARE_PLACEHOLDER = re.compile(r"<(\w[^<>\s'\"]*)>")  # \w: a placeholder in any script (<你的集群名字>)
PLACEHOLDER_BRACKETS = {0xE002: "<", 0xE003: ">"}


def commands(text: str, variables: dict[str, str] | None = None, directory: str | None = None,
             script: str | None = None, session: Session | None = None, to_file=None) -> list[Command]:
    """Every ``aws`` command of ``text`` in the order it runs, with ``variables`` known to begin
    with, ``directory`` the working folder and ``script`` the path ``$0`` names (or all three as
    an earlier piece of the file left them: ``session``). Offsets are the text's; ``to_file``
    maps them to the file's for the files a piece writes, which later pieces may read."""
    if "<" in text:
        text = BARE_PLACEHOLDER.sub("\ue002\\1\ue003", text)
    source = _Text(text, to_file)
    found: list[Command] = []
    _walk(_parse(source.data).root_node, session or Session(variables or {}, directory, script), source, found)
    return found


def _walk(node, scope: Session, source: _Text, found: list[Command]) -> None:
    kind = node.type
    if kind == "command":
        _command(node, scope, source, found)
    elif kind in ("variable_assignment", "variable_assignments"):
        _assignments(node, scope, source, found)
    elif kind == "declaration_command":  # export / declare / local / readonly
        for child in node.named_children:
            if child.type == "variable_assignment":
                _assignments(child, scope, source, found)
            elif child.type == "variable_name":
                pass  # `export NAME` changes no value
    elif kind == "redirected_statement":
        body = node.child_by_field_name("body")
        for child in node.named_children:
            if child is not body:
                _redirect(child, scope, source, found)
        if body is not None:
            _walk(body, scope, source, found)
    elif kind in ("subshell", "pipeline"):
        for child in node.named_children:  # each runs in a subshell: nothing leaks out
            _walk(child, scope.copy(), source, found)
    elif kind in BRANCHES:
        inner = scope.copy()
        for child in node.named_children:
            _walk(child, inner, source, found)
        scope.forget_changes_of(inner)
    elif kind in EXPANSIONS:
        for child in node.named_children:
            _walk(child, scope.copy(), source, found)
    else:  # program, list, compound_statement, negated_command, test_command, ...
        for child in node.named_children:
            _walk(child, scope, source, found)


def _assignments(node, scope: Session, source: _Text, found: list[Command]) -> None:
    if node.type == "variable_assignments":
        for child in node.named_children:
            _assignments(child, scope, source, found)
        return
    name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
    for child in node.named_children:
        if child is not name:
            _walk_expansions(child, scope, source, found)
    if name is None or name.type != "variable_name":
        return
    variable = source.text[slice(*source.span(name))]
    if value is None:
        scope.variables[variable] = ""
        return
    start, end = source.span(value)
    word = _decode(source, start, end, _expansion_spans(value, source), scope)  # neither split nor brace-expanded
    # A value with an unknown expansion is kept with its markers: the command it is expanded into
    # (``CMD="aws ... --cluster-name $NAME"; eval "$CMD"``) has its other words known.
    if value.type == "array" or "+=" in source.text[slice(*source.span(node))]:
        scope.variables.pop(variable, None)
    else:
        scope.variables[variable] = word.text
        scope.origins[variable] = (source, word.text, word.offsets)


def _redirect(node, scope: Session, source: _Text, found: list[Command]) -> None:
    """A file the statement writes (``> f.json``), with the heredoc it writes when that is its content."""
    _walk_expansions(node, scope, source, found)
    if node.type != "file_redirect" or not any(child.type in (">", ">|") for child in node.children):
        return
    destination = node.child_by_field_name("destination") or (node.named_children[-1] if node.named_children else None)
    if destination is None:
        return
    target = _words(destination, scope, source)
    if len(target) != 1 or target[0].unknown or scope.directory is None:
        return
    heredoc = None
    statement = node.parent
    if statement is not None:
        for sibling in statement.named_children:
            if sibling.type == "heredoc_redirect":
                heredoc = _heredoc(sibling, scope, source)
    if heredoc is not None and source.to_file is not None:
        heredoc = Word(heredoc.text, tuple(map(source.to_file, heredoc.offsets)), source.to_file(heredoc.start),
                       source.to_file(heredoc.end))
    scope.written[os.path.normpath(os.path.join(scope.directory, target[0].text))] = heredoc


def _heredoc(node, scope: Session, source: _Text) -> Word | None:
    body = next((child for child in node.named_children if child.type == "heredoc_body"), None)
    start = next((child for child in node.named_children if child.type == "heredoc_start"), None)
    if body is None or start is None:
        return None
    quoted = any(quote in source.text[slice(*source.span(start))] for quote in "'\"\\")
    begin, end = source.span(body)
    if quoted:  # <<'EOF': the body as written
        return Word(source.text[begin:end], tuple(range(begin, end)), begin, end)
    return _decode(source, begin, end, _expansion_spans(body, source), scope, heredoc=True)


def _walk_expansions(node, scope: Session, source: _Text, found: list[Command]) -> None:
    """Commands inside an argument's command substitutions run too (``ARN=$(aws sagemaker ...)``)."""
    if node.type in ("command_substitution", "process_substitution"):
        for child in node.named_children:
            _walk(child, scope.copy(), source, found)
        return
    for child in node.named_children:
        _walk_expansions(child, scope, source, found)


def _command(node, scope: Session, source: _Text, found: list[Command]) -> None:
    excluded: dict[int, int] = {}  # start -> end of what is not an argument: redirections, comments
    first = None
    for child in node.named_children:
        if child.type == "command_name" and first is None:
            first = source.span(child)[0]
            if not _may_matter(child.text):  # most commands: nothing to follow but what runs inside them
                for other in node.named_children:
                    _walk_expansions(other, scope, source, found)
                return
        elif child.type in ("variable_assignment", "file_redirect", "heredoc_redirect", "herestring_redirect",
                            "comment"):
            excluded.update([source.span(child)])
        _walk_expansions(child, scope, source, found)
    if first is None:
        return
    spans = _expansion_spans(node, source)
    last = _command_end(source.text, source.span(node)[1])
    unreadable = None
    try:
        words = [word for start, end in _split(source, first, last, excluded, spans)
                 for word in _word(source, start, end, spans, scope)]
    except TooManyWords:
        words, unreadable = [], f"a brace expansion makes more than {MAX_EXPANDED_WORDS} words"
    if unreadable and source.text.startswith("aws", first):
        start, end = source.span(node)
        found.append(Command([_decode(source, first, first + 3, {}, scope)], start, end, scope.directory, {}, unreadable))
        return
    words = _unwrapped(words)
    if not words:
        return
    program = os.path.basename(words[0].text)
    if program in ("cd", "pushd"):
        _change_directory(words[1:], scope)
    elif program == "popd":
        scope.directory = None
    elif program == "eval":
        _evaluated(words[1:], scope, source, found)
    elif program == "aws":
        start, end = source.span(node)
        found.append(Command(words, start, end, scope.directory, dict(scope.written),
                             "the shell cannot parse this command as written" if _broken(node, source) else None))


MAX_EXPANDED_CHARACTERS = 4 * 1024 * 1024  # what known expansions may add to one file's words: its size limit
MAX_EVAL_DEPTH = 8  # `X='eval $X'; eval $X` would never end
_UNKNOWN_NAME = re.compile(UNKNOWN_START + rf"\$\{{?({VARIABLE_NAME})")


def _evaluated(arguments: list[Word], scope: Session, source: _Text, found: list[Command]) -> None:
    """``eval WORDS`` runs their text, joined by blanks, as shell in this shell: the commands it
    holds are read as if written there, each character at the place it was written
    (``CMD="aws sagemaker delete-cluster ..."; eval "$CMD"``). An expansion not known when the
    words were made stays unknown, whatever it is by the time of the eval."""
    if arguments and arguments[0].text == "--":
        arguments = arguments[1:]
    if not arguments or scope.evals >= MAX_EVAL_DEPTH:
        return
    characters: list[str] = []
    offsets: list[int] = []
    for index, word in enumerate(arguments):
        if index:
            characters.append(" ")
            offsets.append(word.start)
        for character, offset in zip(word.text, word.offsets):
            if character not in (UNKNOWN_START, UNKNOWN_END):
                characters.append(character)
                offsets.append(offset)
    unknown = {match.group(1) for word in arguments for match in _UNKNOWN_NAME.finditer(word.text)}

    def placed(index: int) -> int:
        return offsets[index] if index < len(offsets) else offsets[-1] + 1

    def placed_end(start: int, end: int) -> int:
        return placed(end - 1) + 1 if end > start else placed(start)

    inner = scope.copy()
    inner.evals += 1
    kept = {name: scope.variables[name] for name in unknown if name in scope.variables}
    for name in unknown:
        inner.variables.pop(name, None)
    to_file = (lambda index: source.to_file(placed(index))) if source.to_file is not None else placed
    for command in commands("".join(characters), session=inner, to_file=to_file):
        words = [Word(word.text, tuple(map(placed, word.offsets)), placed(word.start), placed_end(word.start, word.end))
                 for word in command.words]
        found.append(command._replace(words=words, start=placed(command.start),
                                      end=placed_end(command.start, command.end)))
    scope.variables = {**inner.variables, **{name: value for name, value in kept.items() if name not in inner.variables}}
    scope.directory, scope.written = inner.directory, inner.written


# The programs whose words are read: aws itself, those that run it or the text given them, and those
# that change folder.
READ_PROGRAMS = frozenset({"aws", "cd", "pushd", "popd", "eval"}) | WRAPPERS


def _may_matter(name: bytes) -> bool:
    """Whether a command whose name is written ``name`` may be one whose words are read (a name
    with quotes or expansions is decoded to tell)."""
    plain = name.decode("utf-8", "replace")
    return any(mark in plain for mark in "\\'\"$`{") or os.path.basename(plain) in READ_PROGRAMS


def _broken(node, source: _Text) -> bool:
    """Whether the grammar could not make out the command (an error inside it or around it), or
    read an ``$'...'`` string to another end than bash does (the grammar's escapes differ)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ansi_c_string":
            start, end = source.span(current)
            if _after_quote(source.text, start + 2, len(source.text), "'", True, {}) != end:
                return True
        stack.extend(current.children)
    following = node.next_sibling
    if following is not None and following.type == "ERROR" and re.fullmatch(
            r"(?:[ \t]|\\\n)*", source.text[source.span(node)[1]:source.span(following)[0]]):
        return True  # the command goes on into what the grammar could not read
    while node is not None:
        if node.has_error or node.type == "ERROR":
            return True
        node = node.parent
        if node is not None and node.type == "program":
            return False
    return False


def _command_end(text: str, end: int) -> int:
    """Where a command really ends: the grammar leaves out a last word that begins with an
    escaped blank (``aws ... \\ ``)."""
    found = re.match(r"(?:(?:[ \t]|\\\n)*\\[^\n](?:[^\s;&|()<>\\]|\\[^\n])*)*", text[end:])
    return end + found.end()


def _split(source: _Text, start: int, end: int, excluded: dict[int, int], spans: dict) -> list[tuple[int, int]]:
    """The spans of the words between ``start`` and ``end``, split where bash splits them: at
    unquoted, unescaped blanks (a backslash-newline joins), expansions and quotes kept whole."""
    text, words, current, index = source.text, [], None, start
    while index < end:
        if index in excluded:
            if current is not None:
                words.append((current, index))
                current = None
            index = excluded[index]
            continue
        char = text[index]
        if index in spans:
            next_index = spans[index][0]
        elif char == "\\" and text.startswith("\\\n", index):
            index += 2
            continue
        elif char == "\\":
            next_index = index + 2
        elif char in " \t\n\r":
            if current is not None:
                words.append((current, index))
                current = None
            index += 1
            continue
        elif char == "'" or text.startswith("$'", index):
            next_index = _after_quote(text, index + (2 if char == "$" else 1), end, "'", char == "$", spans)
        elif char == '"':
            next_index = _after_quote(text, index + 1, end, '"', True, spans)
        else:
            next_index = index + 1
        if current is None:
            current = index
        index = min(next_index, end)
    if current is not None:
        words.append((current, end))
    return words


def _after_quote(text: str, index: int, end: int, quote: str, escapes: bool, spans: dict) -> int:
    while index < end and text[index] != quote:
        if quote == '"' and index in spans:
            index = spans[index][0]
        elif escapes and text[index] == "\\":
            index += 2
        else:
            index += 1
    return index + 1


def _unwrapped(words: list[Word]) -> list[Word]:
    """The words from the program a wrapper runs (``sudo aws ...``, ``env X=1 aws ...``)."""
    while words and os.path.basename(words[0].text) in WRAPPERS:
        wrapper, words = words[0].text, words[1:]
        while words and (words[0].text.startswith("-") or (wrapper == "env" and "=" in words[0].text)
                         or (wrapper == "timeout" and words[0].text[:1].isdigit())):
            words = words[1:]
    return words


def _change_directory(arguments: list[Word], scope: Session) -> None:
    targets = [word for word in arguments if not word.text.startswith("-")]
    if scope.directory is None or len(targets) != 1 or targets[0].unknown or targets[0].text.startswith("~"):
        scope.directory = None
    else:
        scope.directory = os.path.normpath(os.path.join(scope.directory, targets[0].text))


def _words(node, scope: Session, source: _Text) -> list[Word]:
    """The words one argument node becomes."""
    start, end = source.span(node)
    return _word(source, start, end, _expansion_spans(node, source), scope)


def _word(source: _Text, start: int, end: int, spans: dict, scope: Session) -> list[Word]:
    """The word written at ``text[start:end]``; several when it is one unquoted expansion whose
    known value holds blanks (the shell splits it)."""
    unquoted: set[int] = set()
    word = _decode(source, start, end, spans, scope, unquoted=unquoted)
    if start in spans and spans[start][0] == end and not word.unknown and any(blank in word.text for blank in " \t\n"):
        return [Word(piece.group(), word.offsets[piece.start():piece.end()], start, end)
                for piece in re.finditer(r"[^ \t\n]+", word.text)]
    if "{" not in word.text:
        return [word]
    expanded = _braces(word.text, word.offsets, unquoted)
    return [Word(text, offsets, start, end) for text, offsets in expanded if text or len(expanded) == 1]


SEQUENCE = re.compile(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?")


def _braces(text: str, offsets: tuple[int, ...], unquoted: set[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Bash's brace expansion of a word: ``a{b,c}d`` is ``abd acd``, ``{1..3}`` is ``1 2 3``;
    only unquoted braces and commas count, and a brace pair with neither stays as written."""
    for opening in sorted(i for i in unquoted if text[i] == "{"):
        depth, commas = 0, []
        for index in range(opening, len(text)):
            if index not in unquoted:
                continue
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    break
            elif text[index] == "," and depth == 1:
                commas.append(index)
        else:
            continue
        closing = index
        inner = text[opening + 1:closing]
        if commas:
            bounds = [opening] + commas + [closing]
            alternatives = [(text[a + 1:b], offsets[a + 1:b], {i - a - 1 for i in unquoted if a < i < b})
                            for a, b in zip(bounds, bounds[1:])]
        else:
            sequence = SEQUENCE.fullmatch(inner)
            if sequence is None or not all(i in unquoted for i in range(opening, closing + 1)):
                continue
            alternatives = [(item, (offsets[opening],) * len(item), set()) for item in _sequence(*sequence.groups())]
        prefix, prefix_offsets = text[:opening], offsets[:opening]
        suffix_unquoted = {i - closing - 1 for i in unquoted if i > closing}
        result = []
        for alternative, alternative_offsets, alternative_unquoted in alternatives:
            for middle, middle_offsets in _braces(alternative, alternative_offsets, alternative_unquoted):
                shift = opening + len(middle)
                combined_unquoted = {i for i in unquoted if i < opening} | {i + shift for i in suffix_unquoted}
                for whole, whole_offsets in _braces(prefix + middle + text[closing + 1:],
                                                    prefix_offsets + middle_offsets + offsets[closing + 1:],
                                                    combined_unquoted):
                    result.append((whole, whole_offsets))
                    if len(result) > MAX_EXPANDED_WORDS:
                        raise TooManyWords
        return result
    return [(text, offsets)]


class TooManyWords(Exception):
    """A brace expansion past ``MAX_EXPANDED_WORDS``: the command is not read."""


MAX_EXPANDED_WORDS = 1000  # {a,b}{a,b}... doubles per pair; no command line holds more words


def _sequence(first: str, last: str, step: str | None) -> list[str]:
    increment = abs(int(step)) if step and int(step) else 1
    if abs(ord(first[-1]) - ord(last[-1]) if not first.lstrip("-").isdigit() else int(first) - int(last)) \
            // increment >= MAX_EXPANDED_WORDS:
        raise TooManyWords
    if first.lstrip("-").isdigit() and last.lstrip("-").isdigit():
        low, high = int(first), int(last)
        width = max(len(first), len(last)) if (first.lstrip("-").startswith("0") and len(first.lstrip("-")) > 1) or \
            (last.lstrip("-").startswith("0") and len(last.lstrip("-")) > 1) else 0
        values = range(low, high + 1, increment) if low <= high else range(low, high - 1, -increment)
        return [str(value).zfill(width) if width else str(value) for value in values]
    if first.isalpha() and last.isalpha():
        low, high = ord(first), ord(last)
        values = range(low, high + 1, increment) if low <= high else range(low, high - 1, -increment)
        return [chr(value) for value in values]
    return [f"{first}..{last}"]


def _expansion_spans(node, source: _Text) -> dict[int, tuple[int, object]]:
    """start -> (end, node) of each outermost expansion inside an argument."""
    spans: dict[int, tuple[int, object]] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in EXPANSIONS:
            start, end = source.span(current)
            spans[start] = (end, current)
        else:
            stack.extend(current.children)
    return spans


def _decode(source: _Text, start: int, end: int, spans: dict, scope: Session, heredoc: bool = False,
            unquoted: set[int] | None = None) -> Word:
    """The word the program receives from the argument written at ``text[start:end]``; the
    indices of its unquoted, unescaped characters are added to ``unquoted`` (brace expansion
    applies to those only)."""
    text = source.text
    out: list[str] = []
    offsets: list[int] = []

    def emit(value: str, at) -> None:
        out.append(value)
        offsets.extend(at if isinstance(at, (range, tuple)) else (at,) * len(value))

    index, quote = start, None  # quote: None, "'" or '"'
    while index < end:
        char = text[index]
        if index in spans and quote != "'":
            span_end, node = spans[index]
            written = text[index:span_end]
            value, placed = _expansion(written, node, scope, source)
            if not scope.spend(len(value)):  # past the budget: as if not known, never a guess
                value, placed = f"{UNKNOWN_START}{written}{UNKNOWN_END}", None
            emit(value, placed if placed is not None else index)
            index = span_end
            continue
        if heredoc:
            if char == "\\" and index + 1 < end and text[index + 1] in "$`\\\n":
                if text[index + 1] != "\n":
                    emit(text[index + 1], index + 1)
                index += 2
            else:
                emit(char, index)
                index += 1
            continue
        if quote == "'":
            if char == "'":
                quote = None
            else:
                emit(char, index)
            index += 1
        elif quote == '"':
            if char == '"':
                quote = None
                index += 1
            elif char == "\\" and index + 1 < end and text[index + 1] in '$`"\\\n':
                if text[index + 1] != "\n":
                    emit(text[index + 1], index + 1)
                index += 2
            else:
                emit(char, index)
                index += 1
        elif char in "'\"":
            quote = char
            index += 1
        elif char == "$" and text.startswith("$'", index):
            index = _ansi_c(text, index + 2, end, emit)
        elif char == "$" and text.startswith('$"', index):  # locale translation: a double-quoted string
            quote = '"'
            index += 2
        elif char == "\\" and index + 1 < end:
            if text[index + 1] != "\n":
                emit(text[index + 1], index + 1)
            index += 2
        else:
            if unquoted is not None:
                unquoted.add(len(offsets))
            emit(char, index)
            index += 1
    return Word("".join(out).translate(PLACEHOLDER_BRACKETS), tuple(offsets), start, end)


def _ansi_c(text: str, index: int, end: int, emit) -> int:
    """``$'...'`` from ``index`` (after the opening quote); the index after its closing quote."""
    while index < end and text[index] != "'":
        if text[index] == "\\" and index + 1 < end:
            escape = text[index + 1]
            if escape in ANSI_C:
                emit(ANSI_C[escape], index)
                index += 2
                continue
            hexa = re.match(r"x([0-9A-Fa-f]{1,2})", text[index + 1:index + 4])
            if hexa:
                emit(chr(int(hexa.group(1), 16)), index)
                index += 1 + hexa.end()
                continue
            emit(text[index], index)
            index += 1
            continue
        emit(text[index], index)
        index += 1
    return index + 1


def _expansion(written: str, node, scope: Session, source: _Text) -> tuple[str, tuple[int, ...] | None]:
    """An expansion's value when it is known, else the expansion as written between the markers;
    with the offsets its characters were written at, when this text assigned the variable's value
    (None: all at the expansion)."""
    value, placed = _known_expansion(written, node, scope, source)
    return (value, placed) if value is not None else (f"{UNKNOWN_START}{written}{UNKNOWN_END}", None)


def _known_expansion(written: str, node, scope: Session, source: _Text) -> tuple[str | None, tuple[int, ...] | None]:
    if node.type in ("simple_expansion", "expansion"):
        braced = node.type == "expansion"
        if braced != (written.startswith("${") and written.endswith("}")):
            return None, None
        found = PARAMETER.fullmatch(written[2:-1] if braced else written[1:])
        if found is None or (found.group(2) and not braced):
            return None, None
        name, operator, default = found.groups()
        if name in ("0", "BASH_SOURCE", "BASH_SOURCE[0]"):
            return scope.script, None
        if name in scope.variables:
            value = scope.variables[name]
            if operator and operator.startswith(":") and value == "":
                return _literal(default), None
            return value, scope.origin(name, source)
        return (_literal(default) if operator else None), None
    if node.type == "command_substitution":
        return _known_substitution(node, scope, source), None
    return None, None


def _literal(default: str | None) -> str | None:
    """A default value written without expansions or quotes, else unknown."""
    if default is None or re.search(r"[$`'\"\\]", default):
        return None
    return default


def _known_substitution(node, scope: Session, source: _Text) -> str | None:
    """The output of the few commands whose output a path depends on: ``dirname``, ``basename``,
    ``pwd`` and ``cd DIR && pwd`` (``SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)``)."""
    inner = scope.copy()
    value = None
    for statement in node.named_children:
        commands = [statement] if statement.type == "command" else (
            statement.named_children if statement.type == "list" else [])
        if not commands or any(command.type != "command" for command in commands):
            return None
        for command in commands:
            words = [word for argument in command.named_children
                     if argument.type not in ("variable_assignment", "file_redirect")
                     for word in _words(argument, inner, source)]
            if not words or any(word.unknown for word in words):
                return None
            program, arguments = words[0].text, [word.text for word in words[1:] if not word.text.startswith("-")]
            if program == "cd" and len(arguments) == 1 and inner.directory is not None:
                inner.directory = os.path.normpath(os.path.join(inner.directory, arguments[0]))
            elif program == "pwd" and inner.directory is not None:
                value = inner.directory
            elif program == "dirname" and len(arguments) == 1:
                value = os.path.dirname(arguments[0]) or "."
            elif program == "basename" and len(arguments) == 1:
                value = os.path.basename(arguments[0].rstrip("/"))
            else:
                return None
    return value
