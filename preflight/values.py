"""Small readers of request values shared by the rules: placeholders, ARNs, every string in a tree."""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from preflight.pointers import escape

# Placeholders left in a value for someone to fill in, as documentation and templates write them.
# Searched in order, the built-in ones first, then a project's, appended to PLACEHOLDERS (compiled,
# each matching the placeholder text itself). None of them matches an IAM policy variable
# (`${aws:username}`, `${*}`: they hold a colon or a single special character) or a CloudFormation
# pseudo parameter (`${AWS::Region}`). Each built-in one comes with what it needs in an ASCII value,
# lower-cased: a value without its marks, as most are, is not searched with it, and a run compiles
# only the patterns it searches.
BUILTIN_PLACEHOLDERS = (
    # <exampleClusterName>, <arn:aws:iam::...>, <你的集群名字>; not <...>
    (r"<(?=[^<>]*[^\W_])[^<>\s][^<>]*>", ("<",)),
    (r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", ("${",)),  # ${BUCKET}: a shell or template variable never expanded
    (r"(?<![\w$:])\$[A-Z][A-Z0-9_]{2,}\b", ("$",)),  # $SUBNET_ID (after a colon it is a qualifier: :$LATEST)
    (r"\{\{[^{}]+\}\}", ("{{",)),  # {{account-id}}
    (r"(?<![A-Za-z0-9])(?:(?i:replace|change)[_-]?(?i:me)|TODO|FIXME|TBD)(?![A-Za-z0-9])",
     ("replace", "change", "todo", "fixme", "tbd")),
    (r"(?<![A-Za-z0-9_])REPLACE_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9])", ("replace_",)),  # REPLACE_BUCKET
    (r"(?i)(?<![a-z0-9])your[_-][a-z0-9][a-z0-9_-]*", ("your",)),  # your-bucket-name, YOUR_ACCOUNT_ID
    (r"(?i)(?<![a-z0-9])x{3,}(?![a-z0-9])", ("xxx",)),  # sg-xxx, subnet-xxxxxxxxxxxx, role/xxxx
)
PLACEHOLDERS: list = []  # a project's placeholder-patterns (LinearPattern)
ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|)?:([^\s<>\"]+)")
KMS_KEY_ID = r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"  # compiled on first use


def add_placeholder_patterns(patterns: list[str]) -> None:
    """Count values matching these regular expressions (a project's ``placeholder-patterns``) as
    placeholders too, matched in linear time (``linear_pattern``)."""
    PLACEHOLDERS.extend(linear_pattern(pattern) for pattern in patterns)


class LinearPattern:
    """A regular expression matched by RE2, in time linear in the value whatever the pattern: a
    project's pattern such as ``(a+)+$`` would backtrack for ever in Python's ``re`` on a hostile
    value. RE2 reads UTF-8, so a lone surrogate (which a JSON file may hold) is matched as U+FFFD."""

    def __init__(self, compiled):
        self.compiled = compiled

    def search(self, value: str):
        try:
            return self.compiled.search(value)
        except UnicodeEncodeError:
            return self.compiled.search(value.encode("utf-8", "replace").decode("utf-8"))


def linear_pattern(pattern: str) -> LinearPattern:
    """``pattern`` compiled by RE2 (google-re2); ValueError with RE2's reason when it is not one RE2
    takes (a backreference, a lookaround: what makes matching other than linear)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # the reason goes into the error, not to stderr
    try:
        return LinearPattern(re2.compile(pattern, options))
    except re2.error as err:
        reason = err.args[0] if err.args else err
        raise ValueError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)) from None


class Unresolved(str):
    """A value known only when the template is deployed (a CloudFormation ``Ref`` to a resource,
    an attribute, the account id; Terraform's "known after apply"). It is present, so nothing
    reports it missing, and like a placeholder it is never checked: no false alarm on it. Its text
    is the expression, as the template writes it."""


def has_unresolved(value) -> bool:
    """Whether a value, or anything inside it, is known only at deployment."""
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(has_unresolved(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unresolved(item) for item in value)
    return False


def placeholder(value: object) -> str | None:
    """The first placeholder text in a string value, if it has one (``BUILTIN_PLACEHOLDERS``, then
    ``PLACEHOLDERS``); an unresolved value counts as one."""
    if isinstance(value, Unresolved):
        return str(value)
    if isinstance(value, str):
        lowered, ascii_ = value.lower(), value.isascii()
        for pattern, marks in BUILTIN_PLACEHOLDERS:
            found = re.search(pattern, value) if not ascii_ or any(mark in lowered for mark in marks) else None
            if found:
                return found.group(0)
        for linear in PLACEHOLDERS:
            found = linear.search(value)
            if found:
                return found.group(0)
    return None


def string(value) -> str | None:
    """A value the request gives as a string, else None: a name or id a hostile request writes as
    an object or a list must not be looked up (it cannot be hashed) or matched."""
    return value if isinstance(value, str) else None


def real(value) -> str | None:
    """A string value worth acting on: non-empty and not holding a placeholder."""
    return value if isinstance(value, str) and value and not placeholder(value) else None


def unwrapped(value: str) -> str:
    """A value with a surrounding placeholder's brackets removed: ``<s3://bucket>`` -> ``s3://bucket``."""
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def text(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def arns_in(value: object) -> Iterator[Arn]:
    """Every ARN written inside a string (also inside a placeholder)."""
    if isinstance(value, str):
        for found in ARN.finditer(value):
            yield Arn(*(group or "" for group in found.groups()))


def parse_arn(value: object) -> Arn | None:
    """The ARN that is the whole of ``value`` (placeholder brackets aside), else None; an
    unresolved value (``arn:...:role/${ROLE}``) names no resource yet."""
    if not isinstance(value, str) or isinstance(value, Unresolved):
        return None
    found = ARN.fullmatch(unwrapped(value))
    return Arn(*(group or "" for group in found.groups())) if found else None


def strings(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, string) for every string value in a JSON tree; unresolved values are not strings yet."""
    if isinstance(node, Unresolved):
        return
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}/{index}")
