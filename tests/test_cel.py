"""preflight.cel against cel-python: where preflight.cel parses a condition, cel-python parses it to
the same tree; where preflight.cel gives true or false, cel-python gives the same. Conditions and
requests are generated, errors and mismatched types included; the documented examples are decided
without cel-python."""

from __future__ import annotations

import json
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from preflight import cel
from preflight.guardrails import _sum

celpy = pytest.importorskip("celpy", reason="the comparison needs cel-python (the guardrails extra)")
ENVIRONMENT = celpy.Environment()
EXAMPLES = [g["condition"] for g in tomllib.loads((FIXTURES / "guardrails/examples.toml").read_text())["guardrail"]]
CLEAN = json.loads((FIXTURES / "seed/corrected/02-customer-managed-key.create-cluster.json").read_text())
SLOW = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(node) -> tuple:
    if isinstance(node, cel.Node):
        return node.data, [shape(child) for child in node.children]
    return node.type, str(node)


def celpy_value(condition: str, variables: dict):
    """cel-python's result: a bool, or None for an error or a value that is not a bool."""
    try:
        result = ENVIRONMENT.program(ENVIRONMENT.compile(condition), functions={"sum": _sum}).evaluate(
            {name: celpy.json_to_cel(value) for name, value in variables.items()})
    except (celpy.CELEvalError, RecursionError, TypeError, ValueError):
        return None
    return bool(result) if isinstance(result, celpy.celtypes.BoolType) else None


def assert_same(condition: str, variables: dict) -> bool:
    """Whether preflight.cel decided; when it did, cel-python agrees."""
    try:
        tree = cel.parse(condition)
    except cel.Unsupported:
        return False
    assert shape(tree) == shape(cel.from_lark(ENVIRONMENT.compile(condition))), condition
    try:
        ours = cel.evaluate(tree, variables)
    except cel.Unsupported:
        return False
    assert celpy_value(condition, variables) is ours, (condition, variables)
    return True


# ----- generated conditions ------------------------------------------------------------------

NAMES = st.sampled_from(["A", "B", "L", "n", "s", "Tags", "Key"])
STRINGS = st.sampled_from(["", "a", "b", "team", "x y", "é", "'", '"'])
INTS = st.one_of(st.integers(0, 20), st.sampled_from([-1, 9223372036854775807]))
LITERALS = st.one_of(INTS.map(str), st.sampled_from(["true", "false", "00"]),
                     STRINGS.map(lambda s: f'"{s}"' if "'" in s else f"'{s}'"))
# A member path from the request, or from a macro's item v (an unknown name outside a macro).
PATHS = st.tuples(st.sampled_from(["request", "request", "request", "v"]), st.lists(NAMES, max_size=3)) \
    .map(lambda p: p[0] + "".join(f".{name}" for name in p[1]))
LISTS = st.lists(LITERALS, max_size=3).map(lambda items: f"[{', '.join(items)}]")


def conditions():
    """Conditions that are mostly well typed on the generated requests, and some that are not."""
    atoms = st.one_of(
        st.sampled_from(["true", "false"]), PATHS, PATHS.map(lambda p: f"has({p})"),
        st.tuples(st.one_of(PATHS, PATHS.map(lambda p: f"{p}[0]"), PATHS.map(lambda p: f'{p}["A"]'),
                            PATHS.map(lambda p: f"sum({p})"), PATHS.map(lambda p: f"sum({p}.map(v, v.n))")),
                  st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), LITERALS).map(" ".join),
        st.tuples(st.one_of(PATHS, LITERALS), st.just("in"), st.one_of(PATHS, LISTS)).map(" ".join))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["||", "&&"]), inner).map(" ".join),
            inner.map(lambda x: f"!{x}"), inner.map(lambda x: f"({x})"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
            st.tuples(PATHS, st.sampled_from(["all", "exists", "exists_one"]), inner)
            .map(lambda m: f"{m[0]}.{m[1]}(v, {m[2]})"),
            st.tuples(PATHS, st.sampled_from(["map", "filter"]), inner)
            .map(lambda m: f"{m[0]}.{m[1]}(v, {m[2]}).all(w, w)"))
    return st.recursive(atoms, extend, max_leaves=6)


SCALARS = st.one_of(INTS, STRINGS, st.booleans(), st.sampled_from([None, 1.5]))
ITEMS = st.dictionaries(NAMES, st.one_of(SCALARS, st.lists(SCALARS, max_size=3)), max_size=4)
REQUEST = st.dictionaries(NAMES, st.one_of(SCALARS, st.lists(st.one_of(SCALARS, ITEMS), max_size=3), ITEMS), max_size=6)


@SLOW
@given(conditions(), REQUEST)
def test_generated_conditions_agree_with_cel_python(condition, request):
    assert_same(condition, {"request": request, "operation": "create-cluster", "region": "us-east-1"})


@SLOW
@given(st.text(alphabet=" \t\n.,()[]{}!?:|&=<>+-*/%\"'\\_0123456789aeinrstuxAT", max_size=24))
def test_every_text_preflight_parses_cel_python_parses_alike(text):
    try:
        tree = cel.parse(text)
    except cel.Unsupported:
        return
    assert shape(tree) == shape(cel.from_lark(ENVIRONMENT.compile(text))), text


@pytest.mark.parametrize("text", ["a || b && c", "a == b in c", "!!x", "x[0].y['z']", "a ? b : c ? d : e",
                                  "f()", "x.m(1, 2)", "[]", "  a\n&&\tb", "request.InstanceGroup.size() > 0"])
def test_trees_are_cel_python_trees(text):
    assert shape(cel.parse(text)) == shape(cel.from_lark(ENVIRONMENT.compile(text)))


@pytest.mark.parametrize("text", ["-1", "1.5", "16u", "0x10", "r'x'", "b'x'", "'''x'''", "null", "x // c", "a + b",
                                  "{'a': 1}", ".x", "'a\\nb'", "x.as", "in == 1", "[1,]", "a.", ""])
def test_what_preflight_does_not_parse_is_left_to_cel_python(text):
    with pytest.raises(cel.Unsupported):
        cel.parse(text)


# ----- the documented examples ---------------------------------------------------------------

def _broken(change) -> dict:
    request = json.loads(json.dumps(CLEAN))
    change(request)
    return request


REQUESTS = [
    CLEAN,
    dict(CLEAN, Tags=[{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}], NodeRecovery="Automatic"),
    _broken(lambda r: r["InstanceGroups"][0].update(InstanceType="ml.t3.medium", InstanceCount=17)),
    _broken(lambda r: r["InstanceGroups"][0].pop("InstanceStorageConfigs")),
    _broken(lambda r: r["InstanceGroups"][0]["InstanceStorageConfigs"][1]["EbsVolumeConfig"].pop("VolumeKmsKeyId")),
]


@pytest.mark.parametrize("condition", EXAMPLES)
@pytest.mark.parametrize("request_index", range(len(REQUESTS)))
def test_examples_are_decided_without_cel_python_and_alike(condition, request_index):
    variables = {"request": REQUESTS[request_index], "operation": "create-cluster", "region": "us-east-1",
                 "images": {}, "keys": {}}
    assert assert_same(condition, variables), condition


def test_an_error_or_a_value_that_is_not_a_boolean_is_left_to_cel_python():
    variables = {"request": {"A": "many", "L": [1, 2]}}
    for condition in ("request.A <= 16", "request.B", "sum(request.L)", "request.L.map(v, v.x) == []"):
        with pytest.raises(cel.Unsupported):
            cel.evaluate(cel.parse(condition), variables)


def test_an_int_cel_python_cannot_hold_is_left_to_it():
    with pytest.raises(cel.Unsupported):
        cel.evaluate(cel.parse("true"), {"request": {"A": [2 ** 63]}})
