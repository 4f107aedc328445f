"""PF330-PF332: does the caller's policy set let it run this request?

What the request needs is derived from the request (preflight/iam/requirements.py); each need is
evaluated against the identity policies and the permissions boundary with IAM's semantics
(preflight/iam/evaluate.py), and within the organisation's SCPs and RCPs and the session policy
when they are given or read (preflight/iam/perimeter.py). Findings point at the request field that creates the need and name
the policy statements involved.
"""

from __future__ import annotations

from preflight.findings import Severity
from preflight.iam import catalog, requirements
from preflight.iam.evaluate import MAYBE, NO, Decision, Request, cluster_named_by_name, decide, principal_context
from preflight.registry import rule
from preflight.values import parse_arn


def _decisions(ctx) -> list[tuple[requirements.Requirement, Decision]]:
    if "decisions" not in ctx._cache:
        policies = ctx.policies
        principal = parse_arn(policies.principal)
        account = principal.account if principal else policies.account
        needs = requirements.derive(ctx, catalog.load(), account,
                                    _key_resolver(ctx.account) if ctx.account else None,
                                    _linked_role_reader(ctx.account) if ctx.account else None, ctx.region)
        identity = policies.statements()
        boundary = policies.statements(boundary=True) if policies.has_boundary else None
        caller, caller_absent = principal_context(policies.principal, policies.principal_tags)
        if account and not principal:
            caller["aws:principalaccount"] = (account,)
        requests = [Request(need.request.action, need.request.resource, {**caller, **need.request.context},
                            need.request.absent + caller_absent) for need in needs]
        if policies.perimeter is None:
            decisions = [decide(identity, boundary, request) for request in requests]
        else:
            from preflight.iam import perimeter  # read only when organisation or session policies are given

            decisions = [perimeter.decide(identity, boundary, policies.perimeter, request, policies.principal, account)
                         for request in requests]
        ctx._cache["decisions"] = list(zip(needs, decisions))
    return ctx._cache["decisions"]


def _key_resolver(account):
    """Key reference -> key ARN through the account (False: no such key; None: not known)."""
    from preflight.lookup import LookupFailed

    def resolve(reference):
        try:
            key = account.key(reference)
        except LookupFailed:
            return None
        return key.arn if key else False
    return resolve


def _linked_role_reader(account):
    """Whether HyperPod's service-linked role exists in the account (None: not known), read when a
    requirement asks: only a create makes the role, and the prefetch reads it for creates only."""
    from preflight.lookup import LookupFailed

    def exists() -> bool | None:
        try:
            return account.service_linked_role_exists()
        except LookupFailed:
            return None
    return exists


def _needed(need) -> str:
    return f"{need.request.action} on {need.request.resource}"


def _statement(statement) -> str:
    """Where a statement is, with its Sid when it has one."""
    sid = statement.data.get("Sid")
    return f"{statement.where()}" + (f" (Sid {sid})" if isinstance(sid, str) and sid else "")


def _why_not(ctx, need, decision: Decision) -> str:
    if decision.layer == "permissions boundary":
        return f"the permissions boundary does not allow {_needed(need)}"
    if decision.layer != "identity":  # an SCP level, or the session policy
        return f"not allowed by the {decision.layer}: {_why_not_here(ctx, need, decision)}"
    return _why_not_here(ctx, need, decision)


def _why_not_here(ctx, need, decision: Decision) -> str:
    action = need.request.action
    for near in decision.near:
        statement = near.statement
        if near.resource == NO:
            granted = ", ".join(r.text for r in statement.resources)
            element = "NotResource" if statement.not_resource else "Resource"
            named = [r.text for r in statement.resources if cluster_named_by_name(r.text)]
            why = (f"; a cluster ARN ends in the cluster's 12-character id, so {named[0]} never matches"
                   if named and need.request.resource.service == "sagemaker" else "")
            return f"{action} is granted only on {granted} ({statement.where(element)}){why}"
        if near.condition == NO:
            keys = ", ".join(sorted({c.key for c in statement.conditions}))
            return f"{action} is granted only under a condition on {keys} that does not hold " \
                   f"({statement.where('Condition')})"
    actions = catalog.load()
    for statement in ctx.policies.statements() if decision.layer == "identity" else ():
        for written in statement.actions:
            if actions.canonical(written.text) is None and actions.suggest(written.text) == action:
                return f"no statement allows {_needed(need)}; {written.text} ({written.pointer} in " \
                       f"{statement.root.document.path}) misspells it"
    return f"no statement allows {_needed(need)}"


@rule("PF330", "action-not-allowed", Severity.ERROR, kind="access")
def action_not_allowed(ctx):
    """The caller's policies do not allow an action this request needs.

    ## Why is this bad?
    The call fails with AccessDenied, or (for `iam:PassRole` and the AMI sharing actions) the
    cluster is created but its nodes cannot launch. Each need is derived from the request: the
    operation's action, `iam:PassRole` on every execution role, the EKS access-entry actions for an
    EKS orchestrator, the image and snapshot actions for a custom AMI, `sagemaker:AddTags` for tags.
    A need that applies only in some cases (the service-linked role, KMS keys, dependent actions
    without a known trigger) is a warning. With `--scp`, `--rcp` or `--session-policy` (or the
    organisation's policies read with `--live`), each of them must allow too: the finding names the
    level or the session policy that does not.

    ## Example
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "sagemaker:CreateCluster", "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/HyperPodExecution"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster", "InstanceGroups": [{"InstanceGroupName": "workers", "InstanceCount": 2,
     "InstanceType": "ml.c5.2xlarge", "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["sagemaker:CreateCluster", "iam:CreateServiceLinkedRole"], "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::444455556666:role/HyperPodExecution"}]}
    ```

    ## Source
    HyperPod custom AMI guide, required permissions; Service Authorization Reference, dependent actions.
    """
    for need, decision in _decisions(ctx):
        if decision.outcome == NO and not decision.denied_by:
            yield ctx.finding(need.pointer, f"{need.reason}; {_why_not(ctx, need, decision)}",
                              f"allow {_needed(need)}; required by {need.source}", severity=need.severity)


@rule("PF331", "action-explicitly-denied", Severity.ERROR, kind="access")
def action_explicitly_denied(ctx):
    """An action this request needs is explicitly denied by one of the caller's policies.

    ## Why is this bad?
    An explicit Deny overrides every Allow: the call fails with AccessDenied whatever else is granted.
    A Deny in an SCP, an RCP or the session policy counts alike; the finding names its file,
    statement and `Sid`.

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*"},
     {"Effect": "Deny", "Action": "sagemaker:CreateCluster", "Resource": "*"}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
     {"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*"},
     {"Effect": "Deny", "Action": "sagemaker:DeleteCluster", "Resource": "*"}]}
    ```

    ## Source
    IAM User Guide, "Policy evaluation logic".
    """
    for need, decision in _decisions(ctx):
        if decision.denied_by:
            where = _statement(decision.denied_by.statement)
            if decision.layer not in ("identity", "permissions boundary"):
                where += f" in the {decision.layer}"
            yield ctx.finding(need.pointer, f"{need.reason}; {_needed(need)} is denied by {where}",
                              "remove or narrow the Deny, or change the request", severity=need.severity)


@rule("PF332", "permission-undecided", Severity.WARNING, kind="access")
def permission_undecided(ctx):
    """Whether an action this request needs is allowed depends on what cannot be known offline.

    ## Why is this bad?
    A condition on a key the request does not supply (`aws:SourceIp`, `aws:PrincipalTag/...`), a
    policy variable, or a resource id the service has yet to assign decides it. preflight never
    takes that as a grant: it says what it could not decide.

    ## Example
    ```json
    {"ClusterName": "ml-cluster"}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["sagemaker:CreateCluster", "iam:CreateServiceLinkedRole"], "Resource": "*",
      "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}
    ```

    ## Use instead
    ```json
    {"ClusterName": "ml-cluster"}
    ```
    ```json policy
    {"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["sagemaker:CreateCluster", "iam:CreateServiceLinkedRole"], "Resource": "*"}]}
    ```

    ## Source
    IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition".
    """
    for need, decision in _decisions(ctx):
        if decision.outcome != MAYBE:
            continue
        reasons = []
        for match in decision.maybe:
            statement = match.statement
            if match.unknown_keys:
                reasons.append(f"{', '.join(sorted(set(match.unknown_keys)))} ({statement.where('Condition')})")
            elif match.resource == MAYBE:
                element = "NotResource" if statement.not_resource else "Resource"
                reasons.append(f"{' and '.join(match.unknown_resource)} ({statement.where(element)})")
        effect = "a Deny may apply, depending on" if any(m.statement.effect == "Deny" for m in decision.maybe) \
            and (decision.allowed_by or decision.layer != "identity") else "it depends on"
        yield ctx.finding(need.pointer, f"{need.reason}; {_needed(need)} cannot be decided offline: {effect} "
                          f"{'; '.join(reasons) or 'conditions preflight cannot evaluate'}",
                          "check with the account's policy simulator, or remove the dependency")

