"""Properties of the IAM evaluator: wildcards, case, set operators, Deny precedence, monotonicity."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from preflight import documents
from preflight.iam.evaluate import MAYBE, NO, YES, Request, Resource, decide, match_action, match_condition, \
    match_resource
from preflight.iam.glob import glob_regex
from preflight.iam.policy import Condition, Located, PolicyRoot, statements_of

TEXT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="*?"), max_size=12)
VALUES = st.lists(st.sampled_from(["ml.c5.2xlarge", "ml.p5.48xlarge", "ml.g5.xlarge", "ML.C5.2XLARGE"]),
                  max_size=3, unique=True)


@given(TEXT)
def test_literal_glob_matches_only_itself(text):
    assert glob_regex(text).fullmatch(text)
    assert not glob_regex(text).fullmatch(text + "x")
    assert glob_regex("*").fullmatch(text)
    assert glob_regex("?" * len(text)).fullmatch(text)
    if text:
        assert not glob_regex("?" * (len(text) + 1)).fullmatch(text)


@given(TEXT, TEXT)
def test_star_spans_any_infix(head, tail):
    assert glob_regex(f"{head}*{tail}").fullmatch(f"{head}anything:/at-all{tail}")


@given(st.sampled_from(["sagemaker:CreateCluster", "iam:PassRole", "ec2:DescribeImages"]), st.data())
def test_actions_compare_case_insensitively(action, data):
    written = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in action)
    assert match_action([Located(written, "")], action)


@given(st.sampled_from(["HyperPodExecution", "Admin", "role-with-Case"]))
def test_arns_compare_case_sensitively(name):
    resource = Resource("aws", "iam", "", "444455556666", f"role/{name}")
    assert match_resource(f"arn:aws:iam::444455556666:role/{name}", resource) == YES
    assert match_resource(f"arn:aws:iam::444455556666:role/{name.swapcase()}", resource) == NO


def _condition(operator, values, key="sagemaker:InstanceTypes"):
    return Condition(operator, key, tuple(values), "")


def _request(values):
    if values is None:
        return Request("sagemaker:CreateCluster", Resource.any(), absent=("sagemaker:instancetypes",))
    return Request("sagemaker:CreateCluster", Resource.any(), {"sagemaker:instancetypes": tuple(values)})


@given(VALUES, VALUES)
def test_set_operators_follow_set_semantics(policy_values, context_values):
    request = _request(context_values)
    context, allowed = set(context_values), set(policy_values)
    all_values = match_condition(_condition("ForAllValues:StringEquals", policy_values), request)
    any_value = match_condition(_condition("ForAnyValue:StringEquals", policy_values), request)
    if context:
        assert all_values == (YES if context <= allowed else NO)
        assert any_value == (YES if context & allowed else NO)
    else:  # an empty list is an absent key
        assert (all_values, any_value) == (YES, NO)
    ignore_case = match_condition(_condition("ForAnyValue:StringEqualsIgnoreCase", policy_values), request)
    folded = {v.casefold() for v in allowed}
    assert ignore_case == (YES if context and {v.casefold() for v in context} & folded else NO)


@given(VALUES)
def test_absent_keys(policy_values):
    request = _request(None)
    assert match_condition(_condition("StringEquals", policy_values), request) == NO
    assert match_condition(_condition("StringNotEquals", policy_values), request) == YES
    assert match_condition(_condition("StringEqualsIfExists", policy_values), request) == YES
    assert match_condition(_condition("Null", ["true"]), request) == YES
    assert match_condition(_condition("Null", ["false"]), request) == NO


@given(VALUES)
def test_unknown_keys_are_never_decided(policy_values):
    request = _request(["ml.c5.2xlarge"])
    unknown = _condition("StringEquals", policy_values, key="aws:PrincipalTag/team")
    assert match_condition(unknown, request) == MAYBE


ACTIONS = st.sampled_from(["sagemaker:CreateCluster", "sagemaker:*", "sagemaker:Create*", "iam:PassRole", "*",
                           "SAGEMAKER:createcluster", "ec2:Describe*"])
RESOURCES = st.sampled_from(["*", "arn:aws:sagemaker:*:*:cluster/*", "arn:aws:sagemaker:us-east-1:*:cluster/*",
                             "arn:aws:sagemaker:eu-west-1:*:cluster/*", "arn:aws:iam::*:role/*"])
STATEMENTS = st.fixed_dictionaries({"Effect": st.sampled_from(["Allow", "Deny"]), "Action": st.lists(ACTIONS, min_size=1, max_size=2),
                                    "Resource": st.lists(RESOURCES, min_size=1, max_size=2)})
CLUSTER_REQUEST = Request("sagemaker:CreateCluster",
                          Resource("aws", "sagemaker", "us-east-1", "444455556666", "cluster/", open_tail=True))


def _statements(raw):
    text = json.dumps({"Version": "2012-10-17", "Statement": raw})
    return statements_of(PolicyRoot(documents.parse("p.json", text), "", "p.json", json.loads(text)))


@settings(max_examples=200)
@given(st.lists(STATEMENTS, max_size=5), STATEMENTS)
def test_adding_an_allow_never_removes_access_and_a_deny_never_adds_it(raw, extra):
    before = decide(_statements(raw), None, CLUSTER_REQUEST).outcome
    after = decide(_statements(raw + [extra]), None, CLUSTER_REQUEST).outcome
    if extra["Effect"] == "Allow":
        assert after >= before
    else:
        assert after <= before


@settings(max_examples=200)
@given(st.lists(STATEMENTS, max_size=5))
def test_a_matching_deny_always_wins(raw):
    deny = {"Effect": "Deny", "Action": "sagemaker:CreateCluster", "Resource": "*"}
    decision = decide(_statements(raw + [deny]), None, CLUSTER_REQUEST)
    assert decision.outcome == NO and decision.denied_by is not None


@given(st.lists(STATEMENTS, max_size=4))
def test_boundary_only_narrows(raw):
    identity = _statements(raw)
    alone = decide(identity, None, CLUSTER_REQUEST).outcome
    bounded = decide(identity, _statements([{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]), CLUSTER_REQUEST)
    assert bounded.outcome <= alone and bounded.outcome == NO
    open_boundary = decide(identity, _statements([{"Effect": "Allow", "Action": "*", "Resource": "*"}]), CLUSTER_REQUEST)
    assert open_boundary.outcome == alone
