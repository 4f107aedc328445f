"""The policies that limit what the caller's own policies grant: the organisation's service control
policies (SCPs) and resource control policies (RCPs), and the session policy of a role session.
None of them grants anything; each must allow what the identity policies allow, and an explicit
Deny in any of them wins (IAM User Guide, "Policy evaluation logic").

- SCPs are given per level of the path from the organisation's root down to the account, root
  first. Within a level any attached policy may allow; across levels every level must (AWS
  Organizations User Guide, "SCP evaluation"): a level whose policies allow only some actions (an
  allow list without ``FullAWSAccess``) restricts the account below it. The management account's
  principals and service-linked roles are outside SCPs.
- RCPs apply to the actions of the services AWS lists for them (``RCP_SERVICES``) on resources in
  the accounts they are attached to, whoever calls; ``RCPFullAWSAccess`` is attached at every
  level and cannot be detached, so only their Deny statements decide (AWS Organizations User
  Guide, "Resource control policies", "RCP evaluation"). They do not apply to the management
  account's resources, nor to service-linked roles' calls.
- A session policy allows at most what it says, for the session it was passed to.

The files are read only when given: nothing here loads on a plain policy check.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from preflight.documents import Document
from preflight.iam.evaluate import MAYBE, NO, YES, Decision, Request, StatementMatch, decide as decide_identity, \
    decide_layer, match_statement
from preflight.iam.policy import PolicyError, PolicyRoot, Statement, repeated_sids, statement_list, \
    statements_of

# AWS Organizations User Guide, "Resource control policies (RCPs)", list of AWS services that support
# RCPs: S3, STS, KMS, SQS and Secrets Manager since their launch; ECR and OpenSearch Serverless since
# June 2025; Cognito and CloudWatch Logs since January 2026. Service prefixes of the Service
# Authorization Reference.
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-idp",
                          "cognito-identity", "logs"})
POLICY_FILES = (".json", ".yaml", ".yml")
SERVICE_LINKED_ROLES = ":role/aws-service-role/"  # IAM User Guide, "Using service-linked roles": their path


class Level(NamedTuple):
    """The policies attached at one level of the organisation (the root, an OU, the account)."""

    path: str  # the folder or file given, or where it was read from
    roots: tuple[PolicyRoot, ...]

    def statements(self) -> list[Statement]:
        return [s for root in self.roots for s in statements_of(root)]


class Perimeter:
    """The SCP and RCP levels (root first), the session policy and what is known of the caller's
    place in the organisation."""

    def __init__(self, scps: list[Level] | None = None, rcps: list[Level] | None = None,
                 session: Level | None = None, management_account: bool = False,
                 organization_id: str | None = None):
        self.scps = [] if scps is None else scps
        self.rcps = [] if rcps is None else rcps
        self.session = session
        self.management_account = management_account
        self.organization_id = organization_id

    def in_organization(self, organization_id: str | None) -> "Perimeter":
        """This perimeter, in the organisation of that id."""
        return Perimeter(self.scps, self.rcps, self.session, self.management_account, organization_id)

    def context(self, resource_account: str | None, caller_account: str | None) -> dict[str, tuple[str, ...]]:
        """The organisation's condition keys this perimeter knows: the caller is in the organisation
        (its SCPs are evaluated), and so is a resource in the caller's account."""
        if not self.organization_id:
            return {}
        found = {"aws:principalorgid": (self.organization_id,)}
        if resource_account and resource_account == caller_account:
            found["aws:resourceorgid"] = (self.organization_id,)
        return found


# ----- reading ------------------------------------------------------------------------------

def read_level(path: str, read) -> Level:
    """One level: a folder holding every policy attached there (its .json and .yaml files), or one
    policy file. ``read(path)`` loads a file (documents.read with the run's limits)."""
    if os.path.isdir(path):
        names = sorted(name for name in os.listdir(path) if name.lower().endswith(POLICY_FILES))
        if not names:
            raise PolicyError(f"{path}: a folder without policy files ({', '.join(POLICY_FILES)})")
        documents = [read(os.path.join(path, name)) for name in names]
    else:
        documents = [read(path)]
    return Level(path, tuple(policy_root(document) for document in documents))


def policy_root(document: Document) -> PolicyRoot:
    """The policy of an organisation or session policy file: a policy document, or what ``aws
    organizations describe-policy`` prints (its ``Content`` is the document as a string). A file
    that is not a usable policy is a usage error naming the file and the place."""
    if not document.parsed:
        problem = document.problems[0]
        line, column = document.position(problem.pointer, problem.offset)
        raise PolicyError(f"{document.path}:{line}:{column}: {problem.message}")
    data, pointer, name = document.data, "", None
    described = data.get("Policy") if isinstance(data, dict) else None
    if isinstance(described, dict) and isinstance(described.get("Content"), str):
        summary = described.get("PolicySummary")
        name = summary.get("Name") if isinstance(summary, dict) else None
        pointer = "/Policy/Content"
        try:
            data = json.loads(described["Content"])
        except ValueError as err:
            raise PolicyError(f"{document.path} {pointer}: the policy content is not JSON ({err})") from None
    root = PolicyRoot(document, pointer, name or document.path, data)
    if not isinstance(data, dict) or not isinstance(data.get("Statement"), (dict, list)):
        raise PolicyError(f"{document.path} {pointer or '/'}: not a policy document (a JSON object with Statement)")
    check_grammar(root)
    return root


def check_grammar(root: PolicyRoot) -> None:
    """What IAM and Organizations refuse before any evaluation: a statement that is not an object,
    and two statements with one ``Sid`` (IAM JSON policy element reference, "Sid": unique within
    the policy)."""
    for pointer, raw in statement_list(root):
        if not isinstance(raw, dict):
            raise PolicyError(f"{root.document.path} {pointer}: a statement must be a JSON object")
    repeated = repeated_sids(root)
    if repeated:
        pointer, sid, first = repeated[0]
        raise PolicyError(f"{root.document.path} {pointer}/Sid: Sid {sid!r} is also the Sid of {first}; "
                          "Sids must be unique within a policy")


def load(scp_paths: list[str], rcp_paths: list[str], session_path: str | None, management_account: bool,
         read, organization_id: str | None = None) -> Perimeter:
    return Perimeter([read_level(path, read) for path in scp_paths], [read_level(path, read) for path in rcp_paths],
                     Level(session_path, (policy_root(read(session_path)),)) if session_path else None,
                     management_account, organization_id)


# ----- evaluation ---------------------------------------------------------------------------

def service_linked(principal: str | None) -> bool:
    return bool(principal) and SERVICE_LINKED_ROLES in principal


def resource_account(request: Request) -> str | None:
    """The account that owns the resource (aws:ResourceAccount: its ARN's, or given)."""
    found = request.lookup("aws:resourceaccount")
    return found[0] if found and len(found) == 1 else None


def layers(perimeter: Perimeter, request: Request, principal: str | None, caller_account: str | None):
    """(label, statements, deny_only, applies) of each layer that limits this request; ``applies``
    MAYBE where it depends on an account not known offline."""
    found = []
    if not (perimeter.management_account or service_linked(principal)):
        found += [(f"SCPs at {level.path}", level.statements(), False, YES)
                  for level in perimeter.scps]
    service = request.action.partition(":")[0].lower()
    if perimeter.rcps and service in RCP_SERVICES and not service_linked(principal):
        owner = resource_account(request)
        applies = MAYBE if owner is None or caller_account is None else YES if owner == caller_account else NO
        if perimeter.management_account and applies != NO:
            applies = NO if applies == YES else MAYBE
        if applies != NO:
            found += [(f"RCPs at {level.path}", level.statements(), True, applies)
                      for level in perimeter.rcps]
    if perimeter.session is not None:
        found.append((f"session policy {perimeter.session.path}", perimeter.session.statements(), False, YES))
    return found


def _decide_guard(statements: list[Statement], request: Request, label: str, deny_only: bool, applies: int) -> Decision:
    if deny_only:  # RCPFullAWSAccess allows everything at every level: only the Denies decide
        matches = [match_statement(s, request) for s in statements if s.effect == "Deny"]
        sure = next((m for m in matches if m.result == YES), None)
        maybe = [m for m in matches if m.result == MAYBE]
        decision = Decision(NO, denied_by=sure, layer=label) if sure else \
            Decision(MAYBE if maybe else YES, maybe=maybe, layer=label)
    else:
        decision = decide_layer(statements, request, label)
    if decision.denied_by and applies == MAYBE:
        match = decision.denied_by
        return Decision(MAYBE, maybe=[StatementMatch(match.statement, True, match.resource, MAYBE,
                                                     ["the resource's account (aws:ResourceAccount)"], [])],
                        layer=label)
    return decision


def decide(identity: list[Statement], boundary: list[Statement] | None, perimeter: Perimeter,
           request: Request, principal: str | None = None, caller_account: str | None = None) -> Decision:
    """The identity policies and permissions boundary (evaluate.decide), then every layer of the
    perimeter: an explicit Deny in any of them wins; otherwise each must allow, and the least
    certain answer is the answer."""
    known = perimeter.context(resource_account(request), caller_account)
    if known:
        request = Request(request.action, request.resource, {**known, **request.context}, request.absent)
    first = decide_identity(identity, boundary, request)
    if first.denied_by:
        return first
    worst = first
    for label, statements, deny_only, applies in layers(perimeter, request, principal, caller_account):
        decision = _decide_guard(statements, request, label, deny_only, applies)
        if decision.denied_by:
            return decision
        if decision.outcome < worst.outcome:
            worst = decision
        elif decision.outcome == MAYBE and worst.outcome == MAYBE:
            worst.maybe = worst.maybe + decision.maybe
    return worst

