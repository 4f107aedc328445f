"""IAM policy evaluation, three-valued: a statement applies YES, NO, or MAYBE when the answer
depends on something preflight cannot know offline (a condition key the request does not supply,
a resource id the service has yet to assign). MAYBE is never taken as a grant.

Semantics follow the IAM policy evaluation logic: an explicit Deny wins; otherwise some Allow must
apply; a permissions boundary must allow too. Actions and condition keys compare case-insensitively,
ARNs and string values case-sensitively (but for the *IgnoreCase operators).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from preflight.iam import catalog
from preflight.iam.glob import glob_matches
from preflight.iam.policy import Condition, Statement

NO, MAYBE, YES = 0, 1, 2

NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike",
           "numericnotequals", "datenotequals", "notipaddress"}
STRING_OPERATORS = {"stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
                    "stringlike", "stringnotlike", "arnequals", "arnlike", "arnnotequals", "arnnotlike"}
NUMERIC_OPERATORS = {"numericequals", "numericnotequals", "numericlessthan", "numericlessthanequals",
                     "numericgreaterthan", "numericgreaterthanequals"}
DATE_OPERATORS = {o.replace("numeric", "date") for o in NUMERIC_OPERATORS}
OPERATORS = STRING_OPERATORS | NUMERIC_OPERATORS | DATE_OPERATORS | {
    "bool", "binaryequals", "ipaddress", "notipaddress", "null"}
SET_QUALIFIERS = ("forallvalues:", "foranyvalue:")


HOLE, ID_CHAR, STAR, ONE = "hole", "id-char", "star", "one"  # ARN and pattern tokens besides literal characters
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
VARIABLE = r"\$\{\s*([^,{}]+?)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}"  # compiled when a policy holds ${
VARIABLE_VERSION = "2012-10-17"  # policies of the 2008-10-17 grammar read ${...} as plain text
# Keys of the call itself: what preflight builds a request from says all of them, so those not given are absent.
CALL_KEYS = ("aws:requesttag/", "aws:tagkeys")


class Resource(NamedTuple):
    """An ARN, or ``*``, where the tail may be unknown offline (``cluster/`` + an id yet to be
    assigned) and region or account may be unknown (None)."""

    partition: str = "aws"
    service: str = ""
    region: str | None = None
    account: str | None = None
    path: str = ""
    open_tail: bool = False  # the path continues with something unknown
    tail_id_length: int = 0  # the unknown tail is an id of this many [a-z0-9] characters (0: anything)
    tail_name: str = "the resource id, not known before the call"

    @classmethod
    def any(cls) -> "Resource":
        return cls(path="*", service="*")

    @classmethod
    def new_cluster(cls, partition: str, region: str | None, account: str | None) -> "Resource":
        """A HyperPod cluster's ARN ends in the 12-character id the service assigns, not in its name."""
        return cls(partition, "sagemaker", region, account, "cluster/", True, 12,
                   "the cluster id the service assigns")

    @property
    def is_any(self) -> bool:
        return self.service == "*"

    def tokens(self) -> list:
        """The ARN as literal characters and tokens for what is unknown."""
        def text(value):
            return list(value)
        tail = ([ID_CHAR] * self.tail_id_length if self.tail_id_length else [HOLE]) if self.open_tail else []
        return (text(f"arn:{self.partition}:{self.service}:") + ([HOLE] if self.region is None else text(self.region))
                + [":"] + ([HOLE] if self.account is None else text(self.account)) + [":"] + text(self.path) + tail)

    def unknowns(self) -> list[tuple[str, int]]:
        """(what, index of its token in ``tokens()``) for each unknown part."""
        found, index = [], len(f"arn:{self.partition}:{self.service}:")
        if self.region is None:
            found.append(("the region", index))
        index += 1 if self.region is None else len(self.region)
        index += 1
        if self.account is None:
            found.append(("the account", index))
        index += (1 if self.account is None else len(self.account)) + 1 + len(self.path)
        if self.open_tail:
            found.append((self.tail_name, index))
        return found

    def __str__(self) -> str:
        if self.is_any:
            return "*"
        return (f"arn:{self.partition}:{self.service}:{self.region if self.region is not None else '<region>'}:"
                f"{self.account if self.account is not None else '<account>'}:{self.path}"
                f"{'<id>' if self.open_tail else ''}")


class Request:
    """What one API call (or dependent action) asks IAM: an action, a resource and a context.
    Keys in ``context`` are present, and aws:ResourceAccount where the resource's ARN names its
    account; keys starting with an ``absent`` prefix are known to be absent;
    so are another service's keys (but for the global ones) and the call's own keys (``CALL_KEYS``)
    when not given; any other key is unknown offline. Plain classes and named tuples here, not
    dataclasses: a dataclass costs its creation at import, on every policy check."""

    def __init__(self, action: str, resource: Resource, context: dict[str, tuple[str, ...]] | None = None,
                 absent: tuple[str, ...] = ()):
        self.action, self.resource, self.absent = action, resource, absent
        self.context = {} if context is None else context

    def lookup(self, key: str):
        key = key.lower()
        if key in self.context:
            return self.context[key]
        if key == "aws:resourceaccount" and self.resource.account:  # the account its ARN names
            return (self.resource.account,)
        if any(key.startswith(prefix) for prefix in self.absent + CALL_KEYS):
            return ()
        if key.partition(":")[0] not in ("aws", self.action.partition(":")[0].lower()) and not _global(key):
            return ()  # another service's key; its session keys (ec2:SourceInstanceArn) may be in any request
        return None


@functools.lru_cache(maxsize=1024)
def _global(key: str) -> bool:
    return catalog.load().global_key_type(key) is not None


def principal_context(arn: str | None, tags: dict[str, str] | None) -> tuple[dict, tuple[str, ...]]:
    """(context, absent prefixes) that the principal making the call gives every request: its
    name, ARN and account, and its tags when they are known (IAM User Guide, "AWS global condition
    context keys"). The caller is an IAM principal, never a service principal. A role's sessions
    have no aws:username; for an STS session ARN the role's path, and so aws:PrincipalArn, is
    unknown."""
    context: dict[str, tuple[str, ...]] = {"aws:principalisawsservice": ("false",)}
    absent: list[str] = []
    parts = (arn or "").split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        service, account, resource = parts[2], parts[4], parts[5]
        context["aws:principalaccount"] = (account,)
        kind, _, name = resource.partition("/")
        if service == "iam" and kind == "user":
            context.update({"aws:username": (name.rpartition("/")[2],), "aws:principalarn": (arn,),
                            "aws:principaltype": ("User",)})
        elif service == "iam" and kind == "role" or service == "sts" and kind == "assumed-role":
            absent.append("aws:username")
            context["aws:principaltype"] = ("AssumedRole",)
            if service == "iam":
                context["aws:principalarn"] = (arn,)
    if tags is not None:
        context.update({f"aws:principaltag/{key.lower()}": (value,) for key, value in tags.items()})
        absent.append("aws:principaltag/")
    return context, tuple(absent)


def as_principal(request: Request, arn: str, organization: str | None = None) -> Request:
    """The request as the IAM principal ``arn`` makes it (a role HyperPod uses, judged against a
    resource policy): its principal keys and, when the id of its account's organisation is known,
    aws:PrincipalOrgID, and aws:ResourceOrgID for a resource in the principal's own account."""
    context, absent = principal_context(arn, None)
    if organization:
        context["aws:principalorgid"] = (organization,)
        if request.lookup("aws:resourceaccount") == context.get("aws:principalaccount"):
            context["aws:resourceorgid"] = (organization,)
    return Request(request.action, request.resource, {**context, **request.context}, request.absent + absent)


# ----- matching -----------------------------------------------------------------------------

def match_action(patterns, action: str) -> bool:
    return any(glob_matches(p.text, action) for p in patterns)


def substitute(text: str, request: Request | None, version: object = VARIABLE_VERSION):
    """A policy string with its ``${...}`` variables replaced, as tokens: literal characters,
    STAR and ONE for the wildcards, and for a variable whose value is unknown offline the tuple
    ("unknown", its name). None when a variable has no value and no default: the string matches
    nothing (IAM User Guide, "Policy variables with no value")."""
    tokens: list = []
    position = 0
    while position < len(text):
        variable = version == VARIABLE_VERSION and text.startswith("${", position)
        found = re.compile(VARIABLE).match(text, position) if variable else None
        if not found:
            char = text[position]
            tokens.append(STAR if char == "*" else ONE if char == "?" else char)
            position += 1
            continue
        name, default = found.group(1), found.group(2)
        position = found.end()
        if name in ("*", "?", "$"):
            tokens.append(name)
            continue
        values = request.lookup(name) if request is not None else None
        if values is None:
            tokens.append(("unknown", name))
        elif len(values) == 1:
            tokens.extend(values[0])
        elif default is not None:
            tokens.extend(default.replace("''", "'"))
        else:
            return None
    return tokens


@functools.lru_cache(maxsize=4096)
def _plain(pattern: str) -> list:
    """The tokens of a pattern without variables (shared: callers do not change them)."""
    return substitute(pattern, None)


def _single(token) -> bool:
    return token not in (STAR, HOLE) and not isinstance(token, tuple)


def _compatible(pattern_token, arn_token) -> bool:
    if pattern_token == ONE:
        return True
    if arn_token == ID_CHAR:
        return pattern_token in ID_CHARS
    return pattern_token == arn_token


@functools.lru_cache(maxsize=4096)
def _overlap(pattern: tuple, arn: tuple) -> bool:
    """Whether some value of the unknowns makes the pattern match the ARN: the intersection of two
    wildcard languages, walked over pairs of positions. A whole-ARN glob: ``*`` spans colons (IAM
    User Guide, "IAM JSON policy elements: Resource", wildcards in resource ARNs)."""
    seen, todo = set(), [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(pattern) and j == len(arn):
            return True
        p = pattern[i] if i < len(pattern) else None
        a = arn[j] if j < len(arn) else None
        if p is not None and not _single(p):  # a pattern wildcard, or a variable standing for anything
            todo.append((i + 1, j))
            if a is not None:
                todo.append((i, j + 1))
        if a == HOLE:
            todo.append((i, j + 1))
            if p is not None and _single(p):
                todo.append((i + 1, j))
        if p is not None and a is not None and _single(p) and a != HOLE and _compatible(p, a):
            todo.append((i + 1, j + 1))
    return False


SAMPLES = ({HOLE: "\x01", ID_CHAR: "q"}, {HOLE: "\x02:/\x03\x04", ID_CHAR: "7"})


@functools.lru_cache(maxsize=4096)
def _regex(pattern: tuple) -> re.Pattern:
    return re.compile("".join(".*" if t == STAR else "." if t == ONE else re.escape(t) for t in pattern), re.S)


def _always(pattern: list, arn: list) -> bool:
    """Whether the pattern matches the ARN whatever its unknowns are: tried with two unlikely fills
    of different lengths (a pattern that matches both has a wildcard where each unknown is)."""
    compiled = _regex(tuple(pattern))
    return all(compiled.fullmatch("".join(fill.get(t, t) for t in arn)) for fill in SAMPLES)


def resource_verdict(pattern: str, request: Request, version: object = VARIABLE_VERSION) -> tuple[int, list[str]]:
    """(YES/NO/MAYBE, what is unknown) for one Resource/NotResource pattern against the request's resource."""
    resource = request.resource
    tokens = substitute(pattern, request, version) if "${" in pattern else _plain(pattern)
    if tokens is None:
        return NO, []
    if tokens == [STAR]:  # matches every resource, whatever is unknown of it
        return YES, []
    variables = [t[1] for t in tokens if isinstance(t, tuple)]
    arn = ["*"] if resource.is_any else resource.tokens()
    if not variables and all(isinstance(t, str) and len(t) == 1 for t in arn):  # all known: one match
        if all(len(t) == 1 for t in tokens):  # no wildcard: compared, not compiled
            return (YES if tokens == arn else NO), []
        return (YES if _regex(tuple(tokens)).fullmatch("".join(arn)) else NO), []
    if not _overlap(tuple(tokens), tuple(arn)):
        return NO, []
    if not variables and _always(tokens, arn):
        return YES, []
    unknown = [f"the policy variable ${{{name}}}" for name in variables]
    for what, index in ([] if resource.is_any else resource.unknowns()):
        for fill in SAMPLES:
            filled = arn[:index] + list(fill[arn[index]]) + arn[index + 1:]
            if not _overlap(tuple(tokens), tuple(filled)):
                unknown.append(what)
                break
    return MAYBE, unknown or [resource.tail_name]


CLUSTER_BY_NAME = r"arn:[^:]*:sagemaker:[^:]*:[^:]*:cluster/(?![a-z0-9]{12}$)[^*?$]*"  # compiled on first use


def cluster_named_by_name(pattern: str) -> bool:
    """A policy resource naming a HyperPod cluster by something other than its 12-character id
    (``...:cluster/llm-train-prod``): cluster ARNs end in the id, so it never matches a cluster."""
    return bool(re.fullmatch(CLUSTER_BY_NAME, pattern))


def match_resource(pattern: str, resource: Resource, request: Request | None = None,
                   version: object = VARIABLE_VERSION) -> int:
    return resource_verdict(pattern, request or Request("", resource), version)[0]


def _literal(tokens: list) -> str:
    return "".join("*" if t == STAR else "?" if t == ONE else t for t in tokens)


def _match_value(operator: str, context_value: str, policy_value: list) -> bool:
    """``policy_value`` as tokens (``substitute``): wildcards count only for the *Like and Arn* operators."""
    if operator in ("stringequals", "stringnotequals", "binaryequals"):
        return context_value == _literal(policy_value)
    if operator in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return context_value.casefold() == _literal(policy_value).casefold()
    if operator == "bool":
        return context_value.lower() == _literal(policy_value).lower()
    regex = "".join(".*" if t == STAR else "." if t == ONE else re.escape(t) for t in policy_value)
    return bool(re.fullmatch(regex, context_value, re.S))  # *Like and Arn*


def match_condition(condition: Condition, request: Request, version: object = VARIABLE_VERSION) -> int:
    operator = condition.operator.lower()
    qualifier = next((q for q in SET_QUALIFIERS if operator.startswith(q)), "")
    operator = operator[len(qualifier):]
    if_exists = operator.endswith("ifexists")
    if if_exists:
        operator = operator[: -len("ifexists")]
    if operator not in OPERATORS:
        return NO  # malformed: IAM rejects the policy; PF308 says so
    values = request.lookup(condition.key)
    if operator == "null":
        if values is None:
            return MAYBE
        wants_absent = any(v.lower() == "true" for v in condition.values)
        return YES if (not values) == wants_absent else NO
    if values is None:
        return MAYBE
    negated = operator in NEGATED
    if not values:  # the key is absent from the request
        if if_exists or qualifier == "forallvalues:":
            return YES  # ForAllValues over no values is vacuously true
        if qualifier == "foranyvalue:":
            return NO
        return YES if negated else NO
    if operator not in STRING_OPERATORS and operator != "bool":
        return MAYBE  # numbers, dates and addresses are never known offline
    if not qualifier and len(values) > 1:
        return MAYBE  # a multivalued key without a set operator: PF310 says to add one
    policy_values = [substitute(v, request, version) for v in condition.values]
    if any(isinstance(t, tuple) for tokens in policy_values if tokens for t in tokens):
        return MAYBE  # a policy variable whose value is unknown offline
    policy_values = [tokens for tokens in policy_values if tokens is not None]  # no value: matches nothing
    hits = [any(_match_value(operator, value, p) for p in policy_values) for value in values]
    if negated:
        hits = [not hit for hit in hits]
    if qualifier == "forallvalues:":
        return YES if all(hits) else NO
    return YES if any(hits) else NO


class StatementMatch(NamedTuple):
    statement: Statement
    action: bool
    resource: int
    condition: int
    unknown_keys: list[str]
    unknown_resource: list[str]  # what the resource verdict depends on

    @property
    def result(self) -> int:
        return NO if not self.action else min(self.resource, self.condition)


def policy_version(statement: Statement) -> object:
    data = statement.root.data
    return data.get("Version") if isinstance(data, dict) else None


def match_statement(statement: Statement, request: Request) -> StatementMatch:
    action = match_action(statement.actions, request.action)
    if statement.not_action:
        action = not action and bool(statement.actions)
    if not action:  # the statement is not about this action: nothing else about it matters
        return StatementMatch(statement, False, NO, NO, [], [])
    version = policy_version(statement)
    resource, unknown_resource = NO, []
    for written in statement.resources:
        verdict, unknown = resource_verdict(written.text, request, version)
        resource = max(resource, verdict)
        if verdict == MAYBE:
            unknown_resource += [u for u in unknown if u not in unknown_resource]
    if statement.not_resource:
        resource = YES - resource if statement.resources else NO
    condition, unknown = YES, []
    for test in statement.conditions:
        outcome = match_condition(test, request, version)
        if outcome == MAYBE:
            unknown.append(test.key)
        condition = min(condition, outcome)
    return StatementMatch(statement, action, resource, condition, unknown, unknown_resource)


# ----- decisions ----------------------------------------------------------------------------

class Decision:
    def __init__(self, outcome: int, denied_by: StatementMatch | None = None, allowed_by: StatementMatch | None = None,
                 maybe: list[StatementMatch] | None = None, near: list[StatementMatch] | None = None,
                 layer: str = "identity"):
        self.outcome = outcome  # YES allowed, NO not allowed, MAYBE undecided
        self.denied_by, self.allowed_by = denied_by, allowed_by
        self.maybe = [] if maybe is None else maybe  # matches that could go either way
        self.near = [] if near is None else near  # Allows for the action that miss resource or condition
        self.layer = layer  # which layer decided: identity policies or the permissions boundary


def decide_layer(statements: list[Statement], request: Request, layer: str) -> Decision:
    matches = [match_statement(s, request) for s in statements]
    denies = [m for m in matches if m.statement.effect == "Deny" and m.result > NO]
    allows = [m for m in matches if m.statement.effect == "Allow" and m.result > NO]
    sure_deny = next((m for m in denies if m.result == YES), None)
    if sure_deny:
        return Decision(NO, denied_by=sure_deny, layer=layer)
    sure_allow = next((m for m in allows if m.result == YES), None)
    maybe = [m for m in denies + allows if m.result == MAYBE]
    near = [m for m in matches if m.statement.effect == "Allow" and m.action and m.result == NO]
    if sure_allow and not denies:
        return Decision(YES, allowed_by=sure_allow, layer=layer)
    if not allows:
        return Decision(NO, near=near, layer=layer)
    return Decision(MAYBE, allowed_by=sure_allow, maybe=maybe, near=near, layer=layer)


def decide(identity: list[Statement], boundary: list[Statement] | None, request: Request) -> Decision:
    """Identity policies, then the permissions boundary (if any): both must allow."""
    first = decide_layer(identity, request, "identity")
    if boundary is None or first.denied_by:
        return first
    second = decide_layer(boundary, request, "permissions boundary")
    if second.denied_by or second.outcome == NO:
        return second
    return first if first.outcome <= second.outcome else second
