"""What the cold path skips must be what it would not have found: the placeholder patterns, the
output escaping and the condition-key templates are compiled only for the values that may match,
and the answers are those of the patterns run over every value."""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from preflight import values
from preflight.formats import escape
from preflight.iam import catalog

# Pieces near what the patterns and their marks look for, in both cases and with the letters that
# case-insensitive matching takes for ASCII ones (the long s, the Kelvin sign, the dotless i).
PIECES = st.sampled_from(["<", ">", "<x>", "$", "${A}", "$ABC", "{{", "}}", "{{id}}", "replace", "REPLACE_", "Change",
                          "me", "ME", "TODO", "todo", "FIXME", "TBD", "your", "YOUR-", "your_x", "xxx", "XXX", "ſ",
                          "\u212a", "ı", "é", "-", "_", ":", "/", "a", "Z", "0", " ", "arn:aws:iam::1:role/"])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=8).map("".join)


def _first_placeholder(value: str) -> str | None:
    """The placeholder every pattern searched in order finds: the built-in ones, then a project's."""
    for pattern in [re.compile(text) for text, _ in values.BUILTIN_PLACEHOLDERS] + values.PLACEHOLDERS:
        found = pattern.search(value)
        if found:
            return found.group(0)
    return None


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_a_value_without_the_marks_holds_no_builtin_placeholder(value):
    assert values.placeholder(value) == _first_placeholder(value)


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXT, st.text()))
def test_escaped_text_holds_no_unsafe_character(text):
    shown = escape.untrusted(text)
    assert re.search(escape._UNSAFE, shown) is None
    if text.isascii() and text.isprintable() and not text.lstrip().startswith(":"):
        assert shown == text


TEMPLATES = ["aws:PrincipalTag/${TagKey}", "aws:RequestTag/${TagKey}", "ec2:ResourceTag/${TagKey}",
             "s3:ExistingObjectTag/<key>", "aws:SourceIp", "ec2:Attribute/${AttributeName}"]
KEYS = st.builds(lambda head, tail: head + tail,
                 st.sampled_from(["aws:PrincipalTag/", "AWS:principaltag/", "aws:RequestTag", "ec2:resourcetag/",
                                  "s3:ExistingObjectTag/", "aws:SourceIp", "aws:ſourceIp", "ec2:Attribute/", "e",
                                  ""]),
                 st.text(max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TEMPLATES), KEYS)
def test_condition_keys_match_as_their_templates_regex_does(template, key):
    assert catalog.key_matches(template, key) == bool(catalog._key_regex(template).fullmatch(key))


def test_python_m_preflight_is_the_command():
    result = subprocess.run([sys.executable, "-m", "preflight", "explain", "PF110"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PF110 ")
