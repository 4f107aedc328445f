"""A shell word as the command receives it, with the way back to the file it was written in."""

from __future__ import annotations

from typing import NamedTuple

from preflight.values import Unresolved

# An expansion whose value is not known (``$NAME``, ``${NAME}``, ``$(...)`` without --var) stands in a
# word's text as UNKNOWN_START + the expansion as written + UNKNOWN_END: private-use characters, which
# no shell word or AWS value holds, so a value read out of JSON or shorthand still shows where it is.
UNKNOWN_START, UNKNOWN_END = "\ue000", "\ue001"


class Word(NamedTuple):
    """One argument: its ``text`` after quote removal, escapes and known expansions, and for each
    character of ``text`` the offset in the source file it came from (``offsets``, same length;
    an unknown expansion's characters all carry the offset of its ``$``). ``start``/``end``: the
    word's span as written, quotes included."""

    text: str
    offsets: tuple[int, ...]
    start: int
    end: int

    @property
    def unknown(self) -> bool:
        return UNKNOWN_START in self.text

    def offset(self, index: int) -> int:
        """The source offset of ``text[index]`` (the word's end for the end of its text)."""
        return self.offsets[index] if index < len(self.offsets) else self.end


def argument(text: str, start: int = 0) -> Word:
    """A word given directly on a command line (``preflight aws ...``): no quotes, nothing unknown."""
    return Word(text, tuple(range(start, start + len(text))), start, start + len(text))


def known(value: str) -> str | Unresolved:
    """A string value read from a word: as is, or ``Unresolved`` (never checked, never a false
    error) with the expansions as written when it holds an unknown one."""
    if UNKNOWN_START not in value:
        return value
    return Unresolved(value.replace(UNKNOWN_START, "").replace(UNKNOWN_END, ""))
