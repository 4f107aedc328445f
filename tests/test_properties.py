"""Properties: no input crashes the checker; schema-drawn requests pass; single mutations are caught;
the run-time validator agrees with jsonschema, the reference implementation."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from preflight import documents, engine, pointers, validation
from preflight.operations import OPERATIONS
from strategies import ANY_JSON, requests

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPS = list(OPERATIONS)

# jsonschema counts 2.0 as an integer; AWS (botocore) does not, and neither does preflight.
_STRICT_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
StrictValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_STRICT_TYPES)
REFERENCE = {op: StrictValidator(validation.load(op)) for op in OPS}


def check(value_or_text, operation: str, name: str = "request.json"):
    text = value_or_text if isinstance(value_or_text, str) else json.dumps(value_or_text)
    report = engine.run([(documents.parse(name, text), operation)])
    for finding in report.findings:
        assert finding.line >= 1 and finding.column >= 1
        assert finding.pointer == "" or finding.pointer.startswith("/")
    return report


@SETTINGS
@given(ANY_JSON, st.sampled_from(OPS))
def test_arbitrary_json_never_crashes(value, operation):
    check(value, operation)


@SETTINGS
@given(st.text(max_size=200), st.sampled_from(OPS), st.sampled_from(["r.json", "r.yaml"]))
def test_arbitrary_text_never_crashes(text, operation, name):
    report = check(text, operation, name)
    assert all(f.file == name for f in report.findings)


@pytest.mark.parametrize("operation", OPS)
def test_schema_drawn_requests_pass_the_schema_rules(operation):
    @SETTINGS
    @given(requests(operation))
    def run(request):
        assert REFERENCE[operation].is_valid(request), "the strategy drew an invalid request"
        assert validation.validate(operation, request) == []
        schema_rules = {f.rule for f in check(request, operation).findings if f.rule.startswith("PF10")}
        assert not schema_rules

    run()


def _leaves(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, path + (index,))


def _mutants(node):
    """Values that no schema here accepts in place of ``node``."""
    if isinstance(node, bool):
        return ["true", 1]
    if isinstance(node, int):
        return [str(node), float(node) + 0.5, 10**7]
    if isinstance(node, str):
        return [7, None, "x" * 3000]
    if isinstance(node, list):
        return ["not a list", [None] * 1, [{}]]
    return [[], "not an object", {**node, "NotAMember": 1}]


@pytest.mark.parametrize("operation", OPS)
def test_single_mutations_are_caught_and_agree_with_jsonschema(operation):
    @SETTINGS
    @given(requests(operation), st.data())
    def run(request, data):
        leaves = list(_leaves(request))
        path, node = data.draw(st.sampled_from(leaves))
        mutant = data.draw(st.sampled_from(_mutants(node)))
        mutated = copy.deepcopy(request)
        if path:
            parent = mutated
            for token in path[:-1]:
                parent = parent[token]
            parent[path[-1]] = mutant
        else:
            mutated = mutant
        violations = validation.validate(operation, mutated)
        assume(not _ends_a_string_with_newline(mutated))
        reference_valid = REFERENCE[operation].is_valid(mutated)
        assert bool(violations) == (not reference_valid)
        # A mutation that the reference accepts (a long string where the model allows it) is fine;
        # one that it rejects must be reported at or below the mutated place.
        if violations:
            where = pointers.pointer(*path)
            assert any(v.pointer.startswith(where) for v in violations)
        check(mutated, operation)

    run()


def _ends_a_string_with_newline(value) -> bool:
    """The one documented difference: jsonschema's `$` (Python's) also matches before a final newline."""
    for _, node in _leaves(value):
        texts = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        if any(isinstance(text, str) and text.endswith("\n") for text in texts):
            return True
    return False


@pytest.mark.parametrize("operation", OPS)
def test_arbitrary_json_validity_agrees_with_jsonschema(operation):
    @SETTINGS
    @given(ANY_JSON)
    def run(value):
        assume(not _ends_a_string_with_newline(value))
        assert (validation.validate(operation, value) == []) == REFERENCE[operation].is_valid(value)

    run()
