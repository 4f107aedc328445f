"""Run the rules over documents and collect a report. The whole flow:

    documents (documents.read) -> rules (registry) -> findings -> report -> format -> exit code
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from preflight import pointers, schema, validation
from preflight.lookup import LookupFailed
from preflight.documents import Document
from preflight.findings import Finding, Report, Severity
from preflight.values import real
from preflight.registry import Rule, all_rules

if TYPE_CHECKING:  # the IAM and live modules load only when policies or the account are checked
    from preflight.account import Account
    from preflight.iam.perimeter import Perimeter
    from preflight.iam.policy import PolicyRoot, PolicySet

INSTANCE_GROUP_LISTS = ("InstanceGroups", "RestrictedInstanceGroups")


class Context:
    """What a rule sees: one document, the operation it is for (None for a policy file), the
    caller's policy set when one was given, the id of the caller's organisation when known, and
    helpers to point into the document."""

    def __init__(self, document: Document, operation: str | None, policies: PolicySet | None = None,
                 account: Account | None = None, region: str | None = None, organization: str | None = None):
        self.document, self.operation, self.policies, self.account = document, operation, policies, account
        self.organization = organization  # --organization, or read from AWS Organizations
        self.region = account.region if account is not None else region  # where the call is made, when known
        self.rule: Rule | None = None  # the rule running, whose findings ctx.finding makes
        self._cache: dict = {}

    @property
    def request(self):
        return self.document.data

    @property
    def partial(self) -> bool:
        """Whether a member may be in what is not known (a command line's options behind an unknown
        expansion, an unknown or refused --cli-input-json): rules on absent members stay silent."""
        return getattr(self.document, "partial", False)

    def finding(self, pointer: str, message: str, fix: str | None = None, *, offset: int | None = None,
                severity: Severity | None = None, document: Document | None = None) -> Finding:
        """A finding of the running rule at ``pointer`` in this document (or in ``document``)."""
        document = document or self.document
        line, column = document.position(pointer, offset)
        return Finding(self.rule.id, severity or self.rule.severity, document.path,
                       pointer if offset is not None else document.located(pointer),
                       message, fix, line, column)

    @property
    def roots(self) -> list[PolicyRoot]:
        """The policy documents inside this file."""
        return [root for root in self.policies.roots if root.document is self.document] if self.policies else []

    def violations(self) -> list[validation.Violation]:
        """The schema violations of this request, computed once for all the schema rules."""
        if "violations" not in self._cache:
            found = validation.validate(self.operation, self.request)
            if self.partial:
                found = [violation for violation in found if violation.kind != "required"]
            self._cache["violations"] = found
        return self._cache["violations"]

    def value(self, pointer: str):
        """The value at a pointer, or None where the path does not exist."""
        return pointers.value_at(self.request, pointer)

    def instance_groups(self, lists: Iterable[str] = INSTANCE_GROUP_LISTS) -> Iterator[tuple[str, dict]]:
        """(pointer, group) for each instance group object; a lone object given instead of the
        list is taken as the list's only group, as the schema rules read it."""
        if not isinstance(self.request, dict):
            return
        for key in lists:
            groups = self.request.get(key)
            if isinstance(groups, dict):
                yield f"/{key}", groups
            elif isinstance(groups, list):
                for index, group in enumerate(groups):
                    if isinstance(group, dict):
                        yield f"/{key}/{index}", group

    def roles(self) -> Iterator[tuple[str, str]]:
        """(pointer, value) of every IAM role the request hands to the service."""
        for pointer, group in self.instance_groups():
            if isinstance(group.get("ExecutionRole"), str):
                yield f"{pointer}/ExecutionRole", group["ExecutionRole"]
        if isinstance(self.request, dict) and isinstance(self.request.get("ClusterRole"), str):
            yield "/ClusterRole", self.request["ClusterRole"]

    def custom_images(self) -> dict[str, str]:
        """Custom AMI id -> the first pointer naming it (``default`` is HyperPod's own image)."""
        images: dict[str, str] = {}
        named = [(f"{pointer}/ImageId", group.get("ImageId")) for pointer, group in self.instance_groups()]
        for pointer, image in named + [("/ImageId", self.value("/ImageId"))]:
            if real(image) and image != "default":
                images.setdefault(image, pointer)
        return images

    def ebs_configs(self, group_pointer: str, group: dict) -> Iterator[tuple[str, dict]]:
        """(pointer, EbsVolumeConfig) for each EBS storage config of a group."""
        configs = group.get("InstanceStorageConfigs")
        if isinstance(configs, dict):
            configs, base = [configs], [f"{group_pointer}/InstanceStorageConfigs"]
        elif isinstance(configs, list):
            base = [f"{group_pointer}/InstanceStorageConfigs/{i}" for i in range(len(configs))]
        else:
            return
        for pointer, config in zip(base, configs):
            if isinstance(config, dict) and isinstance(config.get("EbsVolumeConfig"), dict):
                yield f"{pointer}/EbsVolumeConfig", config["EbsVolumeConfig"]


def run(requests: Iterable[tuple[Document, str]], policies: PolicySet | None = None,
        account: Account | None = None, rules: dict[str, Rule] | None = None,
        linted: Iterable[Document] = (), guardrails: dict[str, Rule] | None = None,
        region: str | None = None, perimeter: Perimeter | None = None, caller_account: str | None = None) -> Report:
    """Check each (request document, operation) pair, the policy files when given, and the account
    when given (read-only), with every applicable rule and the project's guardrails. ``linted``
    policies (a template's IAM resources) are linted like policy files, not taken as the caller's.
    ``region`` is where the requests will be sent when no account says it (``--region`` offline).
    ``perimeter`` (SCPs, RCPs, a session policy) limits the caller's policies, whether given or
    read from IAM."""
    requests = list(requests)
    report = Report(metadata={"schema": schema.source()})
    notes: list[tuple] = []  # (what live preparation could not verify or read, severity), said on every request
    given_policies = policies  # the caller's policies read from IAM are evaluated, not linted
    if account is not None:
        from preflight import live

        contexts = [Context(document, operation, account=account) for document, operation in requests
                    if document.parsed and operation]
        policies, perimeter, notes = live.prepare(account, contexts, policies, perimeter)
    if policies is not None:
        policies.perimeter = perimeter
        policies.account = policies.account or caller_account
    linted = list(linted)
    rules = all_rules(iam=policies is not None or bool(linted), live=account is not None) if rules is None else rules
    if guardrails:
        rules = {**rules, **guardrails}
        report.rules = dict(guardrails)
    request_kinds = ("document", "request") + (("access",) if policies else ()) + (("live",) if account else ())
    for document, operation in requests:
        if document.path not in report.files:  # a template's requests share its file
            report.files.append(document.path)
        context = Context(document, operation, policies, account, region,
                          perimeter.organization_id if perimeter else None)
        # A template itself (operation None) is checked as a file; its requests as requests.
        report.findings.extend(check(context, rules, request_kinds if operation else ("document",)))
        if account is not None and document.parsed and operation:
            from preflight import plan

            try:
                found = plan.of(context)
            except LookupFailed:  # PF400/PF401 already say what could not be read
                found = None
            if found:
                report.plans.append(found)
        for note, severity in notes:
            context.rule = rules["PF401"]
            report.findings.append(context.finding("", note, severity=severity))
    if policies is not None:
        from preflight.iam import catalog

        report.metadata["iam_catalog"] = catalog.load().metadata()
    if given_policies is not None:
        for document in policies.files:
            report.files.append(document.path)
            report.findings.extend(check(Context(document, None, policies), rules, ("document", "policy")))
        if policies.roots and not requests:
            # Set-wide policy lint (the administrator set) only when the policies are checked alone.
            first = policies.roots[0].document
            report.findings.extend(check(Context(first, None, policies), rules, ("policy-set",)))
    if linted:
        from preflight.iam import policy as iam_policy

        template_policies = iam_policy.collect(linted, None)
        for document in linted:
            report.findings.extend(check(Context(document, None, template_policies), rules, ("document", "policy")))
    report.findings.sort(key=Finding.sort_key)
    return report


def check(context: Context, rules: dict[str, Rule], kinds: tuple[str, ...]) -> list[Finding]:
    findings: list[Finding] = []
    if "live" in kinds and context.document.parsed:
        from preflight import live

        if live.foreign_region(context):  # said once (PF402), not as one "does not exist" per resource
            rules = {rule_id: r for rule_id, r in rules.items() if r.kind != "live" or rule_id == "PF402"}
    unverified: dict[tuple, Finding] = {}
    for rule in rules.values():
        if rule.kind not in kinds or (rule.kind != "document" and not context.document.parsed):
            continue
        if context.operation is not None and context.operation not in rule.operations:
            continue
        context.rule = rule
        try:
            findings.extend(rule.check(context))
        except RecursionError:
            context.rule = rules["PF001"]
            findings.append(context.finding("", "nested too deeply to check"))
            break
        except LookupFailed as failure:
            # Fail closed: say what could not be verified; once per failed lookup and severity.
            context.rule = rules["PF400" if rule.required else "PF401"]
            key = (context.rule.id, failure.lookup, failure.reason)
            if key not in unverified:
                unverified[key] = context.finding("", f"could not verify {rule.id} {rule.name}: "
                                                      f"{failure.lookup} failed: {failure.reason}")
    return findings + list(unverified.values())
