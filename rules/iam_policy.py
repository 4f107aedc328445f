"""PF301-PF324: the caller's identity policies themselves: grammar, action names, and the
HyperPod custom AMI guide's and field experience's rules for HyperPod administrators."""

from __future__ import annotations

import datetime
import re

from preflight.findings import Severity
from preflight.iam import catalog
from preflight.iam.evaluate import NO, OPERATORS, SET_QUALIFIERS, Request, Resource, cluster_named_by_name, \
    match_action, match_condition
from preflight.iam.glob import has_wildcard
from preflight.iam.policy import statement_list, statements_of
from preflight.pointers import escape
from preflight.registry import rule
from preflight.validation import closest
from preflight.values import placeholder

VERSIONS = ("2012-10-17", "2008-10-17")
POLICY_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
ADMINISTRATOR_ACTIONS = (
    "iam:PassRole", "sagemaker:CreateCluster", "sagemaker:DeleteCluster", "sagemaker:DescribeCluster",
    "sagemaker:DescribeClusterNode", "sagemaker:ListClusterNodes", "sagemaker:ListClusters",
    "sagemaker:UpdateCluster", "sagemaker:UpdateClusterSoftware", "sagemaker:BatchDeleteClusterNodes",
    "eks:DescribeCluster", "eks:CreateAccessEntry", "eks:DescribeAccessEntry", "eks:DeleteAccessEntry",
    "eks:AssociateAccessPolicy", "iam:CreateServiceLinkedRole", "ec2:DescribeImages", "ec2:DescribeSnapshots",
    "ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute")
SHARING_ACTIONS = ("ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute")
CLUSTER_CHANGES = ("sagemaker:CreateCluster", "sagemaker:UpdateCluster", "sagemaker:DeleteCluster",
                   "sagemaker:UpdateClusterSoftware", "sagemaker:BatchDeleteClusterNodes")
# Compiled on first use (re caches them): only some conditions need them.
RESOURCE_TAG_KEY = r"(?i)[a-z0-9-]+:ResourceTag/"


def _raw_statements(ctx):
    for root in ctx.roots:
        yield from ((pointer, raw) for pointer, raw in statement_list(root) if isinstance(raw, dict))


def _statements(ctx):
    for root in ctx.roots:
        yield from statements_of(root)


@rule("PF301", "malformed-policy", Severity.ERROR, kind="policy")
def malformed_policy(ctx):
    """A policy document whose structure IAM rejects: no `Statement`, unknown keys, a `Principal`.

    ## Why is this bad?
    IAM refuses to save the policy, or (for a file meant as one) preflight cannot tell what it grants.
    Identity policies take no `Principal`: that element belongs to resource and trust policies.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statements": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Grammar of the IAM JSON policy language".
    """
    for root in ctx.roots:
        data = root.data
        if not isinstance(data, dict):
            yield ctx.finding(root.pointer, f"{root.name} is not a policy document (a JSON object with Statement)")
            continue
        for key in data:
            if key not in POLICY_KEYS:
                hint = closest(key, POLICY_KEYS)
                yield ctx.finding(f"{root.pointer}/{escape(str(key))}", f"{key!r} is not a policy element", hint)
        statements = data.get("Statement")
        if "Statement" not in data:
            yield ctx.finding(root.pointer, "the policy has no Statement")
        elif not isinstance(statements, (dict, list)) or statements == []:
            yield ctx.finding(f"{root.pointer}/Statement", "Statement must be an object or a non-empty list")
        for pointer, raw in statement_list(root):
            if not isinstance(raw, dict):
                yield ctx.finding(pointer, "a statement must be an object")
                continue
            for key in raw:
                if key in ("Principal", "NotPrincipal"):
                    yield ctx.finding(f"{pointer}/{key}", f"{key} in an identity policy",
                                      "remove it: identity policies apply to the identity they are attached to")
                elif key not in STATEMENT_KEYS:
                    yield ctx.finding(f"{pointer}/{escape(str(key))}", f"{key!r} is not a statement element",
                                      closest(key, STATEMENT_KEYS))


@rule("PF302", "policy-version", Severity.ERROR, kind="policy")
def policy_version(ctx):
    """A missing or unknown policy `Version`.

    ## Why is this bad?
    Without `"Version": "2012-10-17"` IAM reads the policy under the 2008 grammar, where policy
    variables such as `${aws:username}` are plain text (a warning); any other value is rejected.
    In a YAML file an unquoted `Version: 2012-10-17` may be read as a date (a warning: quote it);
    CloudFormation reads it as the text, so a template's is fine.

    ## Example
    ```json
    {"Version": "2012-10-18", "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Version".
    """
    for root in ctx.roots:
        if not isinstance(root.data, dict):
            continue
        version = root.data.get("Version")
        if version is None:
            yield ctx.finding(root.pointer, "no Version: IAM applies the 2008-10-17 grammar",
                              'add "Version": "2012-10-17"', severity=Severity.WARNING)
        elif isinstance(version, datetime.date) and version.isoformat() in VERSIONS:
            # A YAML file's unquoted date: CloudFormation and YAML 1.2 tools keep the text, others a date.
            yield ctx.finding(f"{root.pointer}/Version", f"Version {version.isoformat()} is unquoted, so YAML may "
                              "read it as a date, not the text IAM requires", f'quote it: "{version.isoformat()}"',
                              severity=Severity.WARNING)
        elif version not in VERSIONS:
            shown = version.isoformat() if isinstance(version, datetime.date) else repr(version)
            yield ctx.finding(f"{root.pointer}/Version", f"Version {shown} is not 2012-10-17 or 2008-10-17",
                              'use "Version": "2012-10-17"')


@rule("PF303", "invalid-effect", Severity.ERROR, kind="policy")
def invalid_effect(ctx):
    """A statement whose `Effect` is not exactly `Allow` or `Deny`.

    ## Why is this bad?
    The value is case-sensitive; IAM rejects `allow`, and a missing Effect.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Effect".
    """
    for pointer, raw in _raw_statements(ctx):
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            fix = f"write {effect.capitalize()}" if isinstance(effect, str) and effect.capitalize() in ("Allow", "Deny") else \
                "Effect is Allow or Deny"
            where = f"{pointer}/Effect" if "Effect" in raw else pointer
            yield ctx.finding(where, f"Effect {effect!r} is not Allow or Deny" if "Effect" in raw
                              else "the statement has no Effect", fix)


def _element_problems(raw, pointer, names, what):
    present = [n for n in names if n in raw]
    if len(present) != 1:
        message = f"both {names[0]} and {names[1]}" if present else f"neither {names[0]} nor {names[1]}"
        yield pointer if present == [] else f"{pointer}/{present[1]}", f"the statement has {message}", \
            f"give exactly one of {names[0]} or {names[1]}"
        return
    value = raw[present[0]]
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        yield f"{pointer}/{present[0]}", f"{present[0]} is an empty list", f"list at least one {what}"
    for index, item in enumerate(items):
        at = f"{pointer}/{present[0]}" + (f"/{index}" if isinstance(value, list) else "")
        if not isinstance(item, str):
            yield at, f"{present[0]} holds {item!r}, not a string", None


@rule("PF304", "malformed-action-element", Severity.ERROR, kind="policy")
def malformed_action_element(ctx):
    """A statement without exactly one of `Action`/`NotAction`, or with an action that is not `service:name`.

    ## Why is this bad?
    IAM rejects the statement; an action without its service prefix matches nothing.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "CreateCluster", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Action", "NotAction".
    """
    for pointer, raw in _raw_statements(ctx):
        for at, message, fix in _element_problems(raw, pointer, ("Action", "NotAction"), "action"):
            yield ctx.finding(at, message, fix)
    for statement in _statements(ctx):
        for action in statement.actions:
            if action.text != "*" and ":" not in action.text:
                yield ctx.finding(action.pointer, f"action {action.text!r} has no service prefix",
                                  "write it as service:Action, such as sagemaker:CreateCluster")


@rule("PF305", "malformed-resource-element", Severity.ERROR, kind="policy")
def malformed_resource_element(ctx):
    """A statement without exactly one of `Resource`/`NotResource`, or a resource that is not `*` or an ARN.

    ## Why is this bad?
    Identity policy statements need a resource; a value that is not an ARN
    (`arn:partition:service:region:account:resource`) matches nothing. An IAM ARN has no region.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam:us-east-1:444455556666:role/HyperPodExecution"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Resource"; IAM identifiers, "IAM ARNs".
    """
    for pointer, raw in _raw_statements(ctx):
        for at, message, fix in _element_problems(raw, pointer, ("Resource", "NotResource"), "resource"):
            yield ctx.finding(at, message, fix)
    for statement in _statements(ctx):
        for resource in statement.resources:
            text = resource.text
            parts = text.split(":", 5)
            if text == "*":
                continue
            if parts[0] != "arn" or len(parts) != 6 and not text.endswith("*"):  # arn:aws:s3:::* spans colons
                yield ctx.finding(resource.pointer, f"resource {text!r} is neither * nor an ARN",
                                  "write arn:partition:service:region:account:resource")
            elif parts[2] == "iam" and parts[3] not in ("", "*"):
                yield ctx.finding(resource.pointer, f"IAM ARN {text} has region {parts[3]!r}; IAM ARNs have none",
                                  f"write arn:{parts[1]}:iam::{parts[4]}:{parts[5]}")


@rule("PF306", "unknown-action", Severity.ERROR, kind="policy")
def unknown_action(ctx):
    """An action or service prefix that the Service Authorization Reference does not know.

    ## Why is this bad?
    IAM accepts the policy but the misspelt action grants nothing. The HyperPod custom AMI guide's own policy
    writes `sagemaker:DescribeCluterNode`, so its holder cannot describe cluster nodes.
    Actions compare case-insensitively, so `sagemaker:describeclusternode` is fine.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DescribeCluterNode", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DescribeClusterNode", "Resource": "*"}]}
    ```

    ## Source
    AWS Service Authorization Reference (the catalog's date is in the JSON output); HyperPod custom AMI guide's policy.
    """
    actions = catalog.load()
    for statement in _statements(ctx):
        for action in statement.actions:
            prefix, _, name = action.text.partition(":")
            if not name or has_wildcard(action.text):
                continue
            if actions.service(prefix) is None and not has_wildcard(prefix):
                suggestion = actions.suggest(action.text)
                yield ctx.finding(action.pointer, f"unknown service prefix {prefix!r} in {action.text}",
                                  f"did you mean {suggestion}?" if suggestion else None)
            elif actions.canonical(action.text) is None:
                from preflight import drift  # the installed models are read only for an unknown action

                operation = drift.api_operation(action.text)
                if operation:  # the catalog is behind the service, not the policy wrong
                    yield ctx.finding(action.pointer, f"{action.text} is not in the IAM catalog of {actions.date}, "
                                      f"but it is an API operation in the {operation}: the catalog is behind",
                                      "nothing to fix if the action is meant; a newer preflight knows it",
                                      severity=Severity.INFO)
                    continue
                suggestion = actions.suggest(action.text)
                yield ctx.finding(action.pointer, f"{action.text} is not an action of {prefix} "
                                  f"(IAM catalog of {actions.date})",
                                  f"did you mean {suggestion}?" if suggestion else None)


@rule("PF307", "wildcard-matches-nothing", Severity.WARNING, kind="policy")
def wildcard_matches_nothing(ctx):
    """An action pattern with `*` or `?` that matches no action in the catalog.

    ## Why is this bad?
    The pattern grants nothing, which is rarely what was meant: `sagemaker:*Clusters*` misses
    `ListClusters`' siblings, and a misspelt prefix matches nothing at all.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*Clsuter*", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*Cluster*", "Resource": "*"}]}
    ```

    ## Source
    AWS Service Authorization Reference.
    """
    actions = catalog.load()
    for statement in _statements(ctx):
        for action in statement.actions:
            if action.text != "*" and ":" in action.text and has_wildcard(action.text) \
                    and not actions.expand(action.text):
                yield ctx.finding(action.pointer, f"{action.text} matches no action")


def _value_type_problem(operator: str, values) -> str | None:
    items = values if isinstance(values, list) else [values]
    if not items:
        return "an empty list of values"
    base = operator.lower()
    base = next((base[len(q):] for q in SET_QUALIFIERS if base.startswith(q)), base).removesuffix("ifexists")
    for item in items:
        if not isinstance(item, (str, int, float, bool)):
            return f"the value {item!r} is not a string, number or boolean"
        text = str(item).lower()
        if "${" in str(item):
            continue  # a policy variable: its value is the request's
        if base in ("bool", "null") and text not in ("true", "false"):
            return f"{operator} takes true or false, not {item!r}"
        if base.startswith("numeric") and not re.fullmatch(r"-?\d+(\.\d+)?", str(item)):
            return f"{operator} takes numbers, not {item!r}"
        if base.startswith("date") and not (re.fullmatch(DATE, str(item)) or re.fullmatch(r"\d+", str(item))):
            return f"{operator} takes an ISO 8601 date (2026-01-31T00:00:00Z) or epoch seconds, not {item!r}"
        if base in ("ipaddress", "notipaddress") and not _is_network(str(item)):
            return f"{operator} takes an IPv4 or IPv6 address or CIDR range, not {item!r}"
        if base.startswith("arn") and not (str(item) == "*" or str(item).startswith("arn:")):
            return f"{operator} takes ARNs (arn:partition:service:region:account:resource), not {item!r}"
        if base == "binaryequals" and not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", str(item)):
            return f"{operator} takes base64-encoded values, not {item!r}"
    return None


DATE = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"


def _is_network(text: str) -> bool:
    import ipaddress  # only when a policy has an address condition

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


@rule("PF308", "malformed-condition", Severity.ERROR, kind="policy")
def malformed_condition(ctx):
    """A `Condition` with an unknown operator, or values of the wrong kind for their operator.

    ## Why is this bad?
    IAM rejects unknown operators (`StringEqual`); `Bool` and `Null` take `true`/`false`, numeric
    operators take numbers, date operators ISO 8601 dates or epoch seconds, `IpAddress` addresses
    or CIDR ranges, `Arn*` ARNs and `BinaryEquals` base64. A value of the wrong kind never matches.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:ModifyImageAttribute", "Resource": "*",
     "Condition": {"StringEqual": {"ec2:ResourceTag/AllowSharing": "true"}}}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:ModifyImageAttribute", "Resource": "*",
     "Condition": {"StringEquals": {"ec2:ResourceTag/AllowSharing": "true"}}}]}
    ```

    ## Source
    IAM JSON policy element reference, "Condition operators" (string, numeric, date, Boolean,
    binary, IP address and ARN condition operators).
    """
    for pointer, raw in _raw_statements(ctx):
        if "Condition" not in raw:
            continue
        block = raw["Condition"]
        if not isinstance(block, dict):
            yield ctx.finding(f"{pointer}/Condition", "Condition must be an object of operators")
            continue
        for operator, tests in block.items():
            at = f"{pointer}/Condition/{escape(str(operator))}"
            lowered = str(operator).lower()
            lowered = next((lowered[len(q):] for q in SET_QUALIFIERS if lowered.startswith(q)), lowered)
            if lowered.removesuffix("ifexists") not in OPERATORS:
                yield ctx.finding(at, f"unknown condition operator {operator!r}",
                                  closest(str(operator).split(":")[-1], _operator_names()))
                continue
            if not isinstance(tests, dict) or not tests:
                yield ctx.finding(at, f"{operator} must map condition keys to values")
                continue
            for key, values in tests.items():
                problem = _value_type_problem(str(operator), values)
                if problem:
                    yield ctx.finding(f"{at}/{escape(str(key))}", f"{key}: {problem}")


def _operator_names():
    names = ("StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase StringLike "
             "StringNotLike ArnEquals ArnLike ArnNotEquals ArnNotLike NumericEquals NumericNotEquals "
             "NumericLessThan NumericLessThanEquals NumericGreaterThan NumericGreaterThanEquals DateEquals "
             "DateNotEquals DateLessThan DateLessThanEquals DateGreaterThan DateGreaterThanEquals Bool "
             "BinaryEquals IpAddress NotIpAddress Null")
    return names.split()


@rule("PF309", "duplicate-sid", Severity.ERROR, kind="policy")
def duplicate_sid(ctx):
    """Two statements of one policy with the same `Sid`, or a `Sid` with characters IAM refuses.

    ## Why is this bad?
    Statement ids must be unique within a policy, and identity policies accept only ASCII letters
    and digits in them.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [
     {"Sid": "Admin", "Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"},
     {"Sid": "Admin", "Effect": "Allow", "Action": "sagemaker:DescribeCluster", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [
     {"Sid": "List", "Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"},
     {"Sid": "Describe", "Effect": "Allow", "Action": "sagemaker:DescribeCluster", "Resource": "*"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Sid".
    """
    for root in ctx.roots:
        seen: dict[str, str] = {}
        for pointer, raw in statement_list(root):
            sid = raw.get("Sid") if isinstance(raw, dict) else None
            if sid is None:
                continue
            if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]*", sid):
                yield ctx.finding(f"{pointer}/Sid", f"Sid {sid!r} may hold only ASCII letters and digits")
            elif sid in seen:
                yield ctx.finding(f"{pointer}/Sid", f"Sid {sid!r} is already used at {seen[sid]}",
                                  "give each statement its own Sid")
            else:
                seen[sid] = pointer


def _single_valued(key: str) -> bool:
    """A key the reference types as one value (not ``ArrayOf...``); an unknown key is not judged."""
    kind = catalog.load().key_type(key)
    return kind is not None and not kind.startswith("ArrayOf")


@rule("PF310", "set-operator-misuse", Severity.WARNING, kind="policy")
def set_operator_misuse(ctx):
    """A multivalued condition key without `ForAllValues`/`ForAnyValue`, or a set operator on a single-valued key.

    ## Why is this bad?
    `sagemaker:InstanceTypes`, `aws:TagKeys` and the like carry one value per item of the request;
    a condition on them must say whether all or any of them must match. `ForAnyValue:StringEquals`
    on a single-valued key such as `aws:RequestTag/team` is read, and `ForAllValues` on one that
    is absent is always true, which in an Allow grants more than meant. preflight decides a bare
    condition on a multivalued key only when the request gives it one value, and says so otherwise.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*",
     "Condition": {"StringEquals": {"sagemaker:InstanceTypes": ["ml.c5.2xlarge", "ml.g5.xlarge"]}}}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*",
     "Condition": {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.c5.2xlarge", "ml.g5.xlarge"]}}}]}
    ```

    ## Source
    IAM User Guide, "Set operators for multivalued context keys" and "Single-valued vs. multivalued context keys";
    which keys are multivalued: their `ArrayOf...` types in the Service Authorization Reference
    (global keys and each service's, in the catalog; its date is in `preflight --version`).
    """
    for statement in _statements(ctx):
        for condition in statement.conditions:
            operator = condition.operator.lower()
            qualifier = next((q for q in SET_QUALIFIERS if operator.startswith(q)), "")
            base = operator[len(qualifier):].removesuffix("ifexists")
            if base == "null" or base not in OPERATORS:
                continue
            if not qualifier and catalog.load().multivalued(condition.key):
                yield ctx.finding(condition.pointer, f"{condition.key} is multivalued; {condition.operator} "
                                  "does not say whether all or any of its values must match",
                                  f"write ForAllValues:{condition.operator} or ForAnyValue:{condition.operator}")
            elif qualifier and _single_valued(condition.key):
                written = condition.operator[len(qualifier):]
                yield ctx.finding(condition.pointer, f"{condition.key} is single-valued; "
                                  f"{condition.operator.split(':')[0]} belongs to multivalued keys",
                                  f"write {written}" + (" (ForAllValues is true when the key is absent)"
                                                        if qualifier == "forallvalues:" else ""))


@rule("PF311", "cluster-arn-by-name", Severity.WARNING, kind="policy")
def cluster_arn_by_name(ctx):
    """A policy resource that names a HyperPod cluster by its name: it never matches the cluster.

    ## Why is this bad?
    A cluster's ARN ends in the 12-character id the service assigns at creation
    (`arn:aws:sagemaker:us-east-1:444455556666:cluster/a1b2c3d4e5f6`), not in the name given to
    `CreateCluster`; `...:cluster/llm-train-prod` grants (or denies) nothing on that cluster.
    Name the id once the cluster exists, or use `cluster/*` with a tag condition.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DescribeCluster",
     "Resource": "arn:aws:sagemaker:us-east-1:444455556666:cluster/llm-train-prod"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DescribeCluster",
     "Resource": "arn:aws:sagemaker:us-east-1:444455556666:cluster/a1b2c3d4e5f6"}]}
    ```

    ## Source
    botocore service model, `ClusterArn` pattern (`...:cluster/[a-z0-9]{12}`); Service Authorization
    Reference, SageMaker resource type `cluster`.
    """
    for statement in _statements(ctx):
        for resource in statement.resources:
            if cluster_named_by_name(resource.text):
                yield ctx.finding(resource.pointer, f"{resource.text} names a cluster by name; cluster ARNs end in "
                                  "the cluster's 12-character id, so it never matches",
                                  "use the cluster's id (DescribeCluster's ClusterArn), or cluster/* with a tag condition")


@rule("PF312", "placeholder-in-policy", Severity.ERROR, kind="policy")
def placeholder_in_policy(ctx):
    """A placeholder such as `<your-cluster-name>` left in a policy's resource or condition value.

    ## Why is this bad?
    IAM takes it literally: the statement matches no real resource or value, so an Allow grants
    nothing and a Deny protects nothing. IAM policy variables (`${aws:username}`) are not placeholders.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam::444455556666:role/<your-execution-role>"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    IAM JSON policy element reference, "Resource" and "Condition".
    """
    for statement in _statements(ctx):
        written = [(r.pointer, r.text) for r in statement.resources]
        written += [(c.pointer, v) for c in statement.conditions for v in c.values]
        for pointer, text in written:
            found = placeholder(text)
            if found:
                yield ctx.finding(pointer, f"placeholder {found} left in {text}", "replace it with the real value")


@rule("PF318", "condition-key-not-supported", Severity.WARNING, kind="policy")
def condition_key_not_supported(ctx):
    """A service condition key that an action of its statement does not support.

    ## Why is this bad?
    A request for an action never carries a key that the action does not support, so a condition
    on it (other than `...IfExists` or `Null`) never holds for that action: an Allow grants nothing
    and a Deny does not apply. A `ForAllValues:` condition is the opposite: an absent key satisfies
    it, so it always holds and restricts nothing for that action (an Allow grants it unconditionally,
    a Deny always denies it). Global keys (`aws:...`, and session keys such as
    `ec2:SourceInstanceArn`) may be in every action's request and are never reported;
    nor are actions that only the older catalog source lists, whose key data may be incomplete.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:DeleteCluster",
     "Resource": "*", "Condition": {"StringEquals": {"sagemaker:InstanceTypes": "ml.c5.2xlarge"}}}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateCluster",
     "Resource": "*", "Condition": {"StringEquals": {"sagemaker:InstanceTypes": "ml.c5.2xlarge"}}}]}
    ```

    ## Source
    AWS Service Authorization Reference, condition keys per action and per resource type (the
    catalog's date is in `preflight --version`); IAM User Guide, "IAM JSON policy elements: Condition".
    """
    actions = catalog.load()
    for statement in _statements(ctx):
        if statement.not_action:
            continue
        named = [found for found in (actions.canonical(a.text) for a in statement.actions
                                     if not has_wildcard(a.text)) if found]
        for condition in statement.conditions:
            key, operator = condition.key, condition.operator.lower()
            if ":" not in key or actions.global_key_type(key) or operator.endswith("ifexists") or operator == "null":
                continue
            if actions.key_type(key) is None:
                continue  # PF319: no action supports a key the reference does not list
            unsupported = [action for action in named if (keys := actions.condition_keys(action)) is not None
                           and not any(catalog.key_matches(template, key) for template in keys)
                           and not (re.match(RESOURCE_TAG_KEY, key) and not actions.resource_types(action))]  # PF321
            if unsupported:
                vacuous = operator.startswith("forallvalues:")  # an absent key satisfies it
                yield ctx.finding(condition.pointer,
                                  f"{', '.join(unsupported)} {'does' if len(unsupported) == 1 else 'do'} not support "
                                  f"the condition key {key} (Service Authorization Reference of {actions.date}): "
                                  f"the condition {'always' if vacuous else 'never'} holds for "
                                  f"{'it' if len(unsupported) == 1 else 'them'}{', restricting nothing' if vacuous else ''}",
                                  "move those actions to a statement without this condition"
                                  + ("" if vacuous else ", or use the operator's IfExists form"))


@rule("PF319", "unknown-condition-key", Severity.WARNING, kind="policy")
def unknown_condition_key(ctx):
    """A condition key that neither the global condition keys nor its service's keys include.

    ## Why is this bad?
    A request never carries a key nobody defines (`aws:RequestedRegions`, `sagemaker:InstanceType`
    for `sagemaker:InstanceTypes`), so a condition on it never holds (an Allow grants nothing, a
    Deny guards nothing) or, with `StringNotEquals`, `...IfExists` or `ForAllValues`, always
    holds (a Deny then denies everything), silently. A warning, not an error: the key may be newer than the catalog,
    whose date the message gives (`scripts/refresh` updates it). Keys of services the catalog does
    not know are left alone (PF306/PF307 speak of those).

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegions": "us-east-1"}}}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}]}
    ```

    ## Source
    IAM User Guide, "AWS global condition context keys"; AWS Service Authorization Reference,
    condition keys of each service (both in the catalog, dated in `preflight --version`).
    """
    actions = catalog.load()
    for statement in _statements(ctx):
        for condition in statement.conditions:
            key = condition.key
            prefix = key.partition(":")[0].lower()
            if ":" not in key or (prefix != "aws" and actions.service(prefix) is None) or actions.key_type(key):
                continue
            known = list(actions.metadata()["global_conditions"])
            if prefix != "aws":
                known += list(actions.service(prefix).conditions)
            effect = "never holds" if _needs_key(condition) else "always holds"  # the key is never in a request
            yield ctx.finding(condition.pointer,
                              f"no condition key {key} is defined (the global keys"
                              f"{'' if prefix == 'aws' else f' and {prefix} keys'} of {actions.date}): "
                              f"{condition.operator} on it {effect}", closest(key, known))


@rule("PF320", "sharing-without-tag-condition", Severity.WARNING, kind="policy")
def sharing_without_tag_condition(ctx):
    """`ec2:ModifyImageAttribute` or `ec2:ModifySnapshotAttribute` allowed without the `AllowSharing` tag condition.

    ## Why is this bad?
    These actions share AMIs and snapshots with other accounts. The HyperPod custom AMI guide restricts them to
    images and snapshots tagged `AllowSharing=true`; without the condition the holder can share any image.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
     "Action": ["ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute"], "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
     "Action": ["ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute"], "Resource": "*",
     "Condition": {"StringEquals": {"ec2:ResourceTag/AllowSharing": "true"}}}]}
    ```

    ## Source
    HyperPod custom AMI guide, the tag-restricted policy.
    """
    for statement in _statements(ctx):
        if statement.effect != "Allow" or statement.not_action or statement.root.boundary:
            continue  # a permissions boundary grants nothing: it only caps
        shared = [a for a in SHARING_ACTIONS if match_action(statement.actions, a)]
        tagged = any(c.key.lower().endswith(":resourcetag/allowsharing") for c in statement.conditions)
        if shared and not tagged:
            yield ctx.finding(f"{statement.pointer}/Action",
                              f"{' and '.join(shared)} allowed on any image, not only those tagged AllowSharing=true",
                              'add "Condition": {"StringEquals": {"ec2:ResourceTag/AllowSharing": "true"}}')


@rule("PF321", "tag-condition-never-matches", Severity.ERROR, kind="policy")
def tag_condition_never_matches(ctx):
    """A List/Describe action in a statement conditioned on a resource tag: it is never granted.

    ## Why is this bad?
    Actions such as `ec2:DescribeImages` act on no particular resource, so no resource tag is in
    their request context; a `StringEquals` on `ec2:ResourceTag/...` is then false and the
    statement never grants them. Put them in a statement without the tag condition.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
     "Action": ["ec2:DescribeImages", "ec2:ModifyImageAttribute"], "Resource": "*",
     "Condition": {"StringEquals": {"ec2:ResourceTag/AllowSharing": "true"}}}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"},
     {"Effect": "Allow", "Action": "ec2:ModifyImageAttribute", "Resource": "*",
      "Condition": {"StringEquals": {"ec2:ResourceTag/AllowSharing": "true"}}}]}
    ```

    ## Source
    AWS Service Authorization Reference (actions with no resource types); IAM condition evaluation.
    """
    actions = catalog.load()
    for statement in _statements(ctx):
        if statement.effect != "Allow" or statement.not_action:
            continue
        tag_tests = [c for c in statement.conditions if re.match(RESOURCE_TAG_KEY, c.key) and _needs_key(c)]
        if not tag_tests:
            continue
        for action in statement.actions:
            found = None if has_wildcard(action.text) else actions.canonical(action.text)
            if found and not actions.resource_types(found):
                yield ctx.finding(action.pointer, f"{found} acts on no resource, so the condition on "
                                  f"{tag_tests[0].key} never holds and it is never granted",
                                  "move it to a statement without the resource-tag condition")


def _needs_key(condition) -> bool:
    """Whether a condition fails when its key is absent from the request (StringEquals does, IfExists does not)."""
    return match_condition(condition, Request("", Resource.any(), absent=(condition.key.lower(),))) == NO


@rule("PF322", "passrole-on-any-role", Severity.WARNING, kind="policy")
def passrole_on_any_role(ctx):
    """`iam:PassRole` on every role, next to permission to create or update HyperPod clusters.

    ## Why is this bad?
    Instance groups run their lifecycle scripts with the execution role they are given; a holder who
    may pass any role can give a cluster the account's most powerful role. Name the execution roles,
    or at least restrict `iam:PassedToService` to `sagemaker.amazonaws.com`.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
     {"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::444455556666:role/HyperPodExecution"},
     {"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}
    ```

    ## Source
    IAM User Guide, "Grant a user permissions to pass a role to an AWS service"; HyperPod custom AMI guide.
    """
    statements = ctx.policies.statements()  # a permissions boundary grants nothing: it only caps
    changes = any(s.effect == "Allow" and not s.not_action and
                  (match_action(s.actions, "sagemaker:CreateCluster") or match_action(s.actions, "sagemaker:UpdateCluster"))
                  for s in statements)
    if not changes:
        return
    for statement in _statements(ctx):
        if statement.effect != "Allow" or statement.not_action or statement.not_resource or statement.root.boundary \
                or not match_action(statement.actions, "iam:PassRole"):
            continue
        limited = any(c.key.lower() == "iam:passedtoservice" for c in statement.conditions)
        for resource in statement.resources:
            if not limited and (resource.text == "*" or resource.text.endswith(":role/*")):
                yield ctx.finding(resource.pointer, f"iam:PassRole on {resource.text}: any role can be given to a cluster",
                                  "name the execution roles, or add a condition on iam:PassedToService")


@rule("PF323", "administrator-actions-missing", Severity.INFO, kind="policy-set")
def administrator_actions_missing(ctx):
    """Cluster administrator policies that do not allow every action of the HyperPod administrator set.

    ## Why is this bad?
    Not wrong in itself (a narrower role may be intended), but the guide lists these as the minimum
    for administering HyperPod clusters with custom AMIs; a missing one fails the day it is needed.
    Reported when policies are checked alone and they allow creating, updating or deleting clusters
    (an administrator's policies, not an execution role's); with a request, what that request needs
    is checked.

    ## Example
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sagemaker:*", "eks:*", "ec2:*", "iam:*"], "Resource": "*"}]}
    ```

    ## Source
    HyperPod custom AMI guide, "Permisos necesarios para las operaciones de clúster".
    """
    allowed = [s for s in ctx.policies.statements() if s.effect == "Allow" and s.actions]
    if not any(match_action(s.actions, a) != s.not_action for s in allowed for a in CLUSTER_CHANGES):
        return  # not a cluster administrator's policy (an execution role's, SSM's, a Lambda's): nothing to compare
    missing = [a for a in ADMINISTRATOR_ACTIONS
               if not any(match_action(s.actions, a) != s.not_action for s in allowed if s.actions)]
    if missing:
        root = ctx.policies.roots[0]
        yield ctx.finding(root.pointer, f"{len(missing)} of the guide's {len(ADMINISTRATOR_ACTIONS)} administrator "
                          f"actions are never allowed: {', '.join(missing)}", document=root.document)


@rule("PF324", "attached-policy-missing", Severity.ERROR, kind="policy")
def attached_policy_missing(ctx):
    """A managed policy attached to the principal is not in the authorization-details file.

    ## Why is this bad?
    What that policy allows or denies cannot be known, so no verdict on the principal's
    permissions can be trusted. Fetch the details with both local and AWS managed policies.

    ## Example
    ```json
    {"RoleDetailList": [{"Arn": "arn:aws:iam::444455556666:role/Admin", "RolePolicyList": [],
      "AttachedManagedPolicies": [{"PolicyName": "HyperPodAdmin", "PolicyArn": "arn:aws:iam::444455556666:policy/HyperPodAdmin"}]}],
     "Policies": []}
    ```

    ## Use instead
    ```json
    {"RoleDetailList": [{"Arn": "arn:aws:iam::444455556666:role/Admin", "RolePolicyList": [],
      "AttachedManagedPolicies": [{"PolicyName": "HyperPodAdmin", "PolicyArn": "arn:aws:iam::444455556666:policy/HyperPodAdmin"}]}],
     "Policies": [{"PolicyName": "HyperPodAdmin", "Arn": "arn:aws:iam::444455556666:policy/HyperPodAdmin",
      "PolicyVersionList": [{"IsDefaultVersion": true, "Document": {"Version": "2012-10-17",
       "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListClusters", "Resource": "*"}]}}]}]}
    ```

    ## Source
    IAM API reference, `GetAccountAuthorizationDetails`.
    """
    for document, pointer, what in ctx.policies.missing:
        if document is ctx.document:
            yield ctx.finding(pointer, what, "run aws iam get-account-authorization-details without a --filter")
