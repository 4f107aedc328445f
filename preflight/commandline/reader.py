"""The requests a file's ``aws sagemaker`` command lines send, each checked like a request file.

Every ``aws`` command of a script, a Markdown file's shell blocks or a CI workflow's steps is
read (``sources``, ``shell``); those of SageMaker's HyperPod cluster operations become requests
(``arguments``), and the others are listed as read and skipped (``describe-cluster``, another
service), so a report shows everything that was looked at.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from preflight import operations
from preflight.commandline import arguments, shell, sources
from preflight.commandline.words import Word
from preflight.documents import Document, Problem


class CommandRead(NamedTuple):
    """A command line as read: where it is, its operation, and what became of it."""

    file: str
    line: int
    end_line: int
    service: str | None
    operation: str | None
    status: str  # "request" | "skipped: ..." | "not read: ..."


class CommandDocument(Document):
    """The request one command line sends; its pointers are placed at the words that wrote them."""

    def __init__(self, source: Document, request: dict, origins: dict[str, int], start: int,
                 problems: list[Problem], parsed: bool = True, partial: bool = False):
        super().__init__(source.path, source.text, request, parsed, problems)
        self.source, self.origins, self.start = source, origins, start
        self.partial = partial  # options may be missing: an unknown expansion stands where they go
        self.region: str | None = None  # the region the command line names (--region), when it does

    def position(self, pointer: str, offset: int | None = None) -> tuple[int, int]:
        if offset is None:
            parent = pointer
            while parent not in self.origins and parent:
                parent = parent.rpartition("/")[0]
            offset = self.origins.get(parent, self.start)
        return self.source.position("", offset)


def read(document: Document, variables: dict[str, str] | None, max_bytes: int) -> tuple[list[tuple[Document, str]], list[CommandRead]]:
    """The (request, operation) pairs of a file's HyperPod command lines, and every command read."""
    kind = sources.kind(document.path, document.text)
    pairs: list[tuple[Document, str]] = []
    listed: list[CommandRead] = []
    if kind is None:
        return pairs, listed
    folder = os.path.dirname(os.path.abspath(document.path))
    session = shell.Session(variables or {}, folder, os.path.abspath(document.path))
    for piece in sources.pieces(kind, document.text):
        try:
            found = shell.commands(piece.text, session=session, to_file=piece.file_offset)
        except RecursionError:  # constructs nested thousands deep: no script is written so
            found = [shell.Command([], 0, len(piece.text), folder, {}, "nested too deeply to read")]
        for command in found:
            command = _in_file(command, piece)
            read_pair, entry = _request(document, command, max_bytes)
            listed.append(entry)
            if read_pair is not None:
                pairs.append(read_pair)
    return pairs, listed


def split_command(words: list[Word]) -> tuple[str | None, str | None, list[Word]]:
    """The service, the operation and the other words (global options written before the service
    or between it and the operation among them, as the CLI takes them) of the words after ``aws``;
    None where a name is not written out."""
    before: list[Word] = []
    names: list[Word] = []
    index = 0
    while index < len(words) and len(names) < 2:
        if not words[index].text.startswith("--"):
            names.append(words[index])
            index += 1
            continue
        option = arguments.global_option(words[index].text)
        if option is None:
            return None, None, words
        before.extend(words[index:index + option[1]])
        index += option[1]
    if len(names) < 2 or any(word.unknown for word in names):
        return None, None, words
    return names[0].text, names[1].text, before + words[index:]


def _in_file(command: shell.Command, piece: sources.Piece) -> shell.Command:
    """The command with its offsets moved from the piece's text to the file's."""
    if piece.starts == (0,) and piece.file_starts == (0,):
        return command

    def moved(word: Word) -> Word:
        return Word(word.text, tuple(piece.file_offset(offset) for offset in word.offsets),
                    piece.file_offset(word.start), piece.file_offset(word.end))

    return command._replace(words=[moved(word) for word in command.words], start=piece.file_offset(command.start),
                            end=piece.file_offset(command.end))  # its written files are in the file's offsets already


def _request(document: Document, command: shell.Command, max_bytes: int) -> tuple[tuple[Document, str] | None, CommandRead]:
    line, end_line = document.position("", command.start)[0], document.position("", max(command.end - 1, command.start))[0]
    service, operation, rest = split_command(command.words[1:])

    def entry(status: str) -> CommandRead:
        return CommandRead(document.path, line, end_line, service, operation, status)

    written = document.text[command.start:command.end]
    if command.unreadable and (service == "sagemaker" or (service is None and sources.MARKER in written)) \
            and (operation is None or operation in operations.OPERATIONS):
        problem = Problem("command-unreadable", f"{' '.join(filter(None, ('aws', service, operation)))}: "
                          f"{command.unreadable}; the request it sends is not checked", offset=command.start)
        return (CommandDocument(document, {}, {}, command.start, [problem], parsed=False), operation), \
            entry(f"not read: {command.unreadable}")
    if service is None or operation is None:
        return None, entry("not read: the service or operation is not written out")
    if service != "sagemaker":
        return None, entry(f"skipped: not a SageMaker command ({service})")
    if operation not in operations.OPERATIONS:
        return None, entry("skipped: does not change a HyperPod cluster")
    built = arguments.build(operation, rest, directory=command.directory, max_bytes=max_bytes,
                            written=command.written)
    if built.no_request:
        return None, entry(f"skipped: {built.no_request} prints text and sends nothing")
    problems = [Problem(kind, message, offset=offset, fix=fix) for offset, message, fix, kind in built.problems]
    if built.unknown:
        shown = ", ".join(sorted({text for text, _ in built.unknown}))
        problems.append(Problem("unknown-value", f"not known until the command runs, so not checked: {shown} "
                                f"(give values with --var or --env-file)", offset=built.unknown[0][1]))
    if built.partial:
        problems.append(Problem("unknown-value", "some members are not known until the command runs (an unknown "
                                "expansion where options go, or an input document that cannot be read now), so "
                                "none is reported missing", offset=command.start))
    # What the CLI refuses is said once (PF021), not again as the members it then lacks.
    request_document = CommandDocument(document, built.request, built.origins, command.start, problems,
                                       partial=built.partial or any(p.kind == "cli-refuses" for p in built.problems))
    region = built.globals.get("region")
    request_document.region = region.text if region is not None and not region.unknown else None
    return (request_document, operation), entry("request")


class NotAGatedCommand(Exception):
    """A command line the gate cannot take (not a HyperPod cluster change): a usage error."""


def from_arguments(args: list[str], max_bytes: int) -> tuple[CommandDocument, str]:
    """The request of a command line given as arguments (``preflight aws sagemaker ...``), as one
    document named ``command line`` whose text is the line, quoted as a shell would take it."""
    import shlex

    pieces, words, offset = [], [], len("aws ")
    for arg in args:
        quoted = shlex.quote(arg)
        inner = offset + (1 if quoted != arg else 0)
        words.append(Word(arg, tuple(range(inner, inner + len(arg))), offset, offset + len(quoted)))
        pieces.append(quoted)
        offset += len(quoted) + 1
    source = Document(path="command line", text="aws " + " ".join(pieces))
    service, operation, rest = split_command(words)
    if service != "sagemaker" or operation not in operations.OPERATIONS:
        raise NotAGatedCommand(f"`aws {' '.join(shlex.quote(arg) for arg in args[:2])}`: preflight aws gates the "
                            f"SageMaker operations that change a HyperPod cluster ({', '.join(operations.OPERATIONS)}); "
                            "run anything else with aws itself")
    built = arguments.build(operation, rest, directory=os.getcwd(), max_bytes=max_bytes)
    if built.no_request:
        raise NotAGatedCommand(f"{built.no_request} prints text and sends nothing; run it with aws itself")
    problems = [Problem(kind, message, offset=offset, fix=fix) for offset, message, fix, kind in built.problems]
    document = CommandDocument(source, built.request, built.origins, 0, problems,
                               partial=built.partial or any(p.kind == "cli-refuses" for p in built.problems))
    document.globals = {name: (word.text if word is not None else None) for name, word in built.globals.items()}
    return document, operation
