"""IAM policy evaluation, three-valued: a statement applies YES, NO, or MAYBE when the answer
depends on something preflight cannot know offline (a condition key the request does not supply,
a resource id the service has yet to assign). MAYBE is never taken as a grant.

Semantics follow the IAM policy evaluation logic: an explicit Deny wins; otherwise some Allow must
apply; a permissions boundary must allow too. Actions and condition keys compare case-insensitively,
ARNs and string values case-sensitively (but for the *IgnoreCase operators).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from preflight.iam.glob import glob_regex
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


@dataclass(frozen=True)
class Resource:
    """An ARN, or ``*``, where the tail may be unknown offline (``cluster/`` + an id yet to be
    assigned) and region or account may be unknown (None)."""

    partition: str = "aws"
    service: str = ""
    region: str | None = None
    account: str | None = None
    path: str = ""
    open_tail: bool = False  # the path continues with something unknown

    @classmethod
    def any(cls) -> "Resource":
        return cls(path="*", service="*")

    @property
    def is_any(self) -> bool:
        return self.service == "*"

    def __str__(self) -> str:
        if self.is_any:
            return "*"
        return (f"arn:{self.partition}:{self.service}:{self.region if self.region is not None else '<region>'}:"
                f"{self.account if self.account is not None else '<account>'}:{self.path}"
                f"{'<id>' if self.open_tail else ''}")


@dataclass
class Request:
    """What one API call (or dependent action) asks IAM: an action, a resource and a context.
    Keys in ``context`` are present; keys starting with an ``absent`` prefix are known to be absent;
    any other key is unknown offline."""

    action: str
    resource: Resource
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    absent: tuple[str, ...] = ()

    def lookup(self, key: str):
        key = key.lower()
        if key in self.context:
            return self.context[key]
        if any(key.startswith(prefix) for prefix in self.absent):
            return ()
        return None


# ----- matching -----------------------------------------------------------------------------

def match_action(patterns, action: str) -> bool:
    return any(glob_regex(p.text, ignore_case=True).fullmatch(action) for p in patterns)


def _match_field(pattern: str, known: str, open_tail: bool) -> int:
    regex = glob_regex(pattern)
    if not open_tail:
        return YES if regex.fullmatch(known) else NO
    # Whatever the unknown tail is: two unlikely samples of different lengths stand for "anything".
    if regex.fullmatch(known + "\x01") and regex.fullmatch(known + "\x01\x02/\x03:"):
        return YES
    literal = pattern.split("*")[0].split("?")[0]
    return MAYBE if literal.startswith(known) or known.startswith(literal) else NO


def match_resource(pattern: str, resource: Resource) -> int:
    if pattern == "*":
        return YES
    if resource.is_any:
        return NO  # an action that takes only "*" is granted only by Resource "*" (or a pure wildcard)
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return NO
    fields = [(resource.partition, False), (resource.service, False),
              (resource.region or "", resource.region is None), (resource.account or "", resource.account is None),
              (resource.path, resource.open_tail)]
    result = YES
    for pattern_field, (known, unknown) in zip(parts[1:], fields):
        result = min(result, _match_field(pattern_field, known, unknown))
        if result == NO:
            break
    return result


def _match_value(operator: str, context_value: str, policy_value: str) -> bool:
    if operator in ("stringequals", "stringnotequals", "binaryequals"):
        return context_value == policy_value
    if operator in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return context_value.casefold() == policy_value.casefold()
    if operator == "bool":
        return context_value.lower() == policy_value.lower()
    return bool(glob_regex(policy_value).fullmatch(context_value))  # *Like and Arn*


def match_condition(condition: Condition, request: Request) -> int:
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
    if values is None or any("${" in v for v in condition.values):
        return MAYBE
    negated = operator in NEGATED
    if not values:  # the key is absent from the request
        if if_exists or qualifier == "forallvalues:":
            return YES
        if qualifier == "foranyvalue:":
            return NO
        return YES if negated else NO
    if operator not in STRING_OPERATORS and operator != "bool":
        return MAYBE  # numbers, dates and addresses are never known offline
    hits = [any(_match_value(operator, value, p) for p in condition.values) for value in values]
    if negated:
        hits = [not hit for hit in hits]
    if qualifier == "forallvalues:":
        return YES if all(hits) else NO
    return YES if any(hits) else NO


@dataclass
class StatementMatch:
    statement: Statement
    action: bool
    resource: int
    condition: int
    unknown_keys: list[str]

    @property
    def result(self) -> int:
        return NO if not self.action else min(self.resource, self.condition)


def match_statement(statement: Statement, request: Request) -> StatementMatch:
    action = match_action(statement.actions, request.action)
    if statement.not_action:
        action = not action and bool(statement.actions)
    resource = max((match_resource(r.text, request.resource) for r in statement.resources), default=NO)
    if statement.not_resource:
        resource = YES - resource if statement.resources else NO
    condition, unknown = YES, []
    for test in statement.conditions:
        outcome = match_condition(test, request)
        if outcome == MAYBE:
            unknown.append(test.key)
        condition = min(condition, outcome)
    return StatementMatch(statement, action, resource, condition, unknown)


# ----- decisions ----------------------------------------------------------------------------

@dataclass
class Decision:
    outcome: int  # YES allowed, NO not allowed, MAYBE undecided
    denied_by: StatementMatch | None = None
    allowed_by: StatementMatch | None = None
    maybe: list[StatementMatch] = field(default_factory=list)  # matches that could go either way
    near: list[StatementMatch] = field(default_factory=list)  # Allows for the action that miss resource or condition
    layer: str = "identity"  # which layer decided: identity policies or the permissions boundary


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
