"""The one escaping of untrusted text for every output format.

File names, policy actions, request values and AWS answers reach the output. Control characters
(C0, DEL, C1 such as U+009B CSI), line and paragraph separators, bidirectional overrides and
isolates, and lone surrogates are shown as ``\\uXXXX`` so that no input can forge a line, move
the cursor, colour the terminal or reorder what a reviewer reads, and every string can be encoded.
Formats with their own quoting (JSON, XML) apply it on top of this.
"""

from __future__ import annotations

import math
import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def untrusted(text: str) -> str:
    """``text`` with every character that could forge or hide output shown as ``\\uXXXX``."""
    return _UNSAFE.sub(_shown, text) if _UNSAFE.search(text) else text


def plain_data(value: object) -> object:
    """A copy of parsed or answered data that any format can print: strings (and keys) escaped,
    non-finite numbers and YAML's dates and bytes as strings, anything else as its text."""
    if isinstance(value, str):
        return untrusted(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {untrusted(str(k)): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return untrusted(bytes(value).decode("utf-8", "backslashreplace"))
    return untrusted(str(value))


def escaped(finding):
    """The finding with its file, pointer, message and fix escaped, as every format prints it."""
    return finding._replace(file=untrusted(finding.file), pointer=untrusted(finding.pointer),
                            message=untrusted(finding.message),
                            fix=None if finding.fix is None else untrusted(finding.fix))


def escaped_report(report):
    """The report as every format prints it: findings, file names, usage errors and metadata
    escaped (formats start from this, and add their own quoting on top)."""
    import copy

    shown = copy.copy(report)
    shown.findings, shown.suppressed = [escaped(f) for f in report.findings], [escaped(f) for f in report.suppressed]
    shown.files, shown.errors = [untrusted(f) for f in report.files], [untrusted(e) for e in report.errors]
    shown.metadata = plain_data(report.metadata)
    shown.commands = [plain_data(command._asdict()) for command in report.commands]
    return shown
