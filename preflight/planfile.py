"""Reviewed plan files, as terraform's: ``preflight plan REQUEST --out PLAN.json`` records a request
and what it was checked against; ``preflight apply PLAN.json`` sends exactly that request, and only
while the account still shows what the plan saw.

A plan file is indented JSON, to be read and attached to a pull request:

    format, version   "preflight-plan", FORMAT_VERSION (and the preflight release that wrote it)
    planned_at        when the checks ran (UTC); older than ``plan-max-age`` (``--max-age``) it is refused
    file, operation   the request file planned, and its operation
    account, region   where it was checked (the caller's account), and where apply sends it
    request           the exact request apply sends; nothing is read from the working tree again
    changes           what it will do to the cluster (preflight/plan.py)
    findings          what the checks reported
    facts             each read of the account the checks made (``read``, ``of``) and what it showed,
                      member by member: numbers, booleans and AWS names (statuses, ids, ARNs, zones,
                      instance types) as they are, anything else (tag values, policies, scripts) as
                      a SHA-256 digest: the file copies no free text out of the account
    request_digest    SHA-256 of the request; ``digest`` of everything else: an edit is refused

The digests find edits made after planning; they are not a signature (whoever rewrites the file
can compute them again: the review of the plan file itself is what a pull request guards).
Apply runs every check again on the planned request, reading the account afresh, and compares each
planned fact with the new read: any member that differs is a PF480 finding naming it, and nothing
is sent. The caller's own identity and policies are not facts of the change: whoever applies is
checked as themselves (an administrator plans, a deployment role applies).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import re

from preflight import __version__, documents
from preflight.findings import Finding
from preflight.iac.derived import DerivedDocument
from preflight.lookup import LookupFailed
from preflight.pointers import escape

FORMAT, FORMAT_VERSION = "preflight-plan", 1
# The account facade's reads (preflight.account.Account) a plan records; the caller's are left out.
READS = ("images", "snapshots", "key", "key_policy", "role", "service_linked_role_exists", "object_head",
         "subnets", "security_groups", "vpc_endpoints", "eks_cluster", "vpc_cni_version", "cluster", "cluster_nodes",
         "scheduler_config", "cluster_extension", "bucket_policy", "small_object", "offered_zones",
         "instance_types", "cluster_quotas", "training_plan", "clusters_on_eks", "identity_policies")
BATCHES = ("images", "snapshots", "subnets", "security_groups", "instance_types")  # ids -> {id: record}
DEPTH = 3  # members are shown down to /groups/workers/CurrentCount; deeper ones are in their parent's digest
# Values safe to show as they are: AWS's status words, resource ids, ARNs, account ids, zones,
# instance types, dates and versions (Kubernetes' "1.31", an EKS add-on's "v1.18.2-eksbuild.1").
# Other text, and every value under a resource's tags but true and false (a tag can hold
# anything), is shown as its digest.
SHOWN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}|(?:arn:aws[a-z-]*|ami|snap|subnet|sg|vpc|vpce|rtb|i|kms):"
                   r"?[A-Za-z0-9:/._-]{1,200}|\d{12}|[a-z]{2}(?:-[a-z]+)+-\d+[a-z]?|ml\.[a-z0-9]+\.[a-z0-9]+"
                   r"|\d{4}-\d\d-\d\d(?:[T ][\d:.+Z-]*)?|v?\d{1,4}(?:\.\d{1,6}){1,3}(?:-[a-z]{1,20}\.\d{1,6})?")
TAGS = ("tags", "Tags")
FUTURE_SLACK = datetime.timedelta(minutes=5)  # clocks disagree a little; a plan from later than that is refused
# What must never be written into a file meant to be shared: credentials and private keys.
SECRETS = (("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
           ("an AWS secret access key", re.compile(r"(?i:aws_?secret)|(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])"
                                             r"(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")),
           ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
           ("a password or token", re.compile(r"(?i)\b(?:password|passwd|secret|token)\s*[=:]\s*\S")),
           ("a GitHub or Slack token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|xox[abposr]-[A-Za-z0-9-]{10,})")))


class PlanError(Exception):
    """A plan that cannot be written: a usage error."""


class RecordedAccount:
    """The account facade, keeping what each read showed (reads made afresh after a send aside)."""

    def __init__(self, account):
        self._account = account
        self.facts: dict[tuple, object] = {}  # (read, *arguments) -> record

    def __getattr__(self, name: str):
        found = getattr(self._account, name)
        if name not in READS:
            return found

        def read(*args, **options):
            result = found(*args, **options)
            if not options.get("fresh"):
                if name in BATCHES:
                    self.facts.update(((name, one), record) for one, record in result.items())
                else:
                    self.facts[(name, *args)] = result
            return result
        return read

    def read_again(self, key: tuple):
        name, *args = key
        if name in BATCHES:
            return getattr(self, name)([args[0]])[args[0]]
        return getattr(self, name)(*args)


def _plain(value):
    """A record as JSON data: dataclasses as objects, node lists by node id, bytes as their digest."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        if items and all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            return {i["id"]: i for i in items}
        return items
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, bytes):
        return _digest(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # a timestamp


def _digest(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


def _shown(value, tagged: bool):
    if value is None or isinstance(value, (bool, int, float)) or value in ({}, []):
        return value
    if isinstance(value, str) and (value in ("true", "false") or not tagged and SHOWN.fullmatch(value)
                                   or value.startswith("sha256:")):
        return value
    return _digest(value)


def members(value, pointer: str = "", depth: int = DEPTH, tagged: bool = False) -> dict[str, object]:
    """What a read showed, member by member (pointer -> value shown or digest)."""
    if isinstance(value, dict) and value and depth:
        items = value.items()
    elif isinstance(value, list) and value and depth:
        items = enumerate(value)
    else:
        return {pointer: _shown(value, tagged)}
    found: dict[str, object] = {}
    for key, item in items:
        found.update(members(item, f"{pointer}/{escape(str(key))}", depth - 1, tagged or key in TAGS))
    return found


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sealed(data: dict) -> str:
    return "sha256:" + hashlib.sha256(_canonical({k: v for k, v in data.items() if k != "digest"})).hexdigest()


def secret_in(request) -> tuple[str, str] | None:
    """(pointer, what it looks like) of the first request string that looks like a credential."""
    from preflight.values import strings

    for pointer, value in strings(request):
        for kind, pattern in SECRETS:
            if isinstance(value, str) and pattern.search(value):
                return pointer, kind
    return None


def write(path: str, document, operation: str, report, account: RecordedAccount,
          now: datetime.datetime) -> None:
    """Write the plan of one checked request; refuse (PlanError) one that holds what looks like a
    credential, since a plan file is meant to be shared and the request cannot be sent redacted."""
    found = secret_in(document.data)
    if found:
        raise PlanError(f"{path}: not written: {document.path} {found[0]} looks like {found[1]}; a plan file is "
                        "meant to be shared, and the request in it is sent as it is")
    try:
        caller = account.caller()
    except LookupFailed as failure:
        raise PlanError(f"{path}: not written: the account could not be read ({failure})") from None
    facts = [{"read": key[0], "of": list(key[1:]), "showed": members(_plain(record))}
             for key, record in sorted(account.facts.items(), key=lambda item: json.dumps(item[0]))]
    data = {"format": FORMAT, "version": FORMAT_VERSION, "preflight": __version__,
            "planned_at": now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "file": document.path, "operation": operation, "account": caller.account, "region": account.region,
            "request": document.data, "request_digest": _digest(document.data),
            "changes": [change["summary"] for plan in report.plans for change in plan["changes"]],
            "findings": [{"rule": f.rule, "severity": str(f.severity), "path": f.pointer, "line": f.line,
                          "message": f.message} for f in report.findings],
            "facts": facts}
    data["digest"] = _sealed(data)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    except OSError as err:
        raise PlanError(f"{path}: cannot write the plan: {err.strerror}") from None


class Plan:
    """A plan file as read back: its document (for the findings' places) and its members."""

    def __init__(self, document):
        self.document, self.data = document, document.data

    @property
    def operation(self) -> str:
        return self.data["operation"]

    @property
    def region(self) -> str:
        return self.data["region"]

    def request(self) -> DerivedDocument:
        """The planned request, its findings pointing into the plan file under /request."""
        return DerivedDocument(self.document.path, self.document.text, self.data["request"], parsed=True,
                               source=self.document, origins={"": "/request"})

    def refusals(self, now: datetime.datetime, oldest: datetime.timedelta, rules: dict) -> list[Finding]:
        """PF481 findings when the plan cannot be applied as it is: edited, of another version, too old."""
        from preflight.operations import OPERATIONS

        data = self.data
        if data.get("version") != FORMAT_VERSION:
            return [self._finding(rules["PF481"], "/version", f"plan format version {data.get('version')!r}; this "
                                  f"preflight reads version {FORMAT_VERSION}", "plan the request again")]
        shapes = {"planned_at": str, "file": str, "operation": str, "account": str, "region": str, "facts": list,
                  "request_digest": str, "digest": str}
        wrong = next((key for key, kind in shapes.items() if not isinstance(data.get(key), kind)), None)
        if wrong or data["operation"] not in OPERATIONS or "request" not in data:
            return [self._finding(rules["PF481"], "", f"not a complete plan: {wrong or 'operation or request'} "
                                  "is missing or malformed", "plan the request again")]
        if _digest(data["request"]) != data["request_digest"]:
            return [self._finding(rules["PF481"], "/request", "the request was edited after it was planned (it no "
                                  "longer matches request_digest)", "plan the edited request again, and review that plan")]
        if _sealed(data) != data["digest"]:
            return [self._finding(rules["PF481"], "/digest", "the plan was edited after it was written (it no longer "
                                  "matches its digest)", "plan the request again")]
        try:
            planned = datetime.datetime.strptime(data["planned_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return [self._finding(rules["PF481"], "/planned_at", f"planned_at {data['planned_at']!r} is not a "
                                  "UTC time such as 2026-12-03T09:30:00Z", "plan the request again")]
        if planned - now > FUTURE_SLACK:
            return [self._finding(rules["PF481"], "/planned_at", f"planned at {data['planned_at']}, later than now",
                                  "check this machine's clock, or plan the request again")]
        if now - planned > oldest:
            return [self._finding(rules["PF481"], "/planned_at", f"planned at {data['planned_at']}, "
                                  f"{_age(now - planned)} ago: older than the {_age(oldest)} a plan is applied within",
                                  "plan the request again (or raise plan-max-age, --max-age)")]
        return []

    def changes_since(self, account: RecordedAccount, rules: dict) -> list[Finding]:
        """PF481 when apply runs in another account; PF480 for each planned fact the account no
        longer shows; PF400 for one that could not be read again."""
        try:
            caller = account.caller()
        except LookupFailed:
            caller = None  # the checks' own PF400 says so
        if caller is not None and caller.account != self.data["account"]:
            return [self._finding(rules["PF481"], "/account", f"planned in account {self.data['account']}; "
                                  f"apply runs in account {caller.account}", "apply with the planned account's "
                                  "credentials, or plan in this account")]
        found = []
        for index, fact in enumerate(self.data["facts"]):
            if not (isinstance(fact, dict) and fact.get("read") in READS and isinstance(fact.get("showed"), dict)
                    and isinstance(fact.get("of"), list) and all(isinstance(one, str) for one in fact["of"])):
                found.append(self._finding(rules["PF481"], f"/facts/{index}", "a fact this preflight cannot read "
                                           "again", "plan the request again with this preflight"))
                continue
            key = (fact["read"], *fact["of"])
            try:
                record = account.facts[key] if key in account.facts else account.read_again(key)
            except LookupFailed as failure:
                found.append(self._finding(rules["PF400"], f"/facts/{index}", f"could not read {_named(fact)} again "
                                           f"to compare it with the plan: {failure}"))
                continue
            except TypeError:  # arguments that read takes no such number of
                found.append(self._finding(rules["PF481"], f"/facts/{index}", f"{_named(fact)}: not a read this "
                                           "preflight makes", "plan the request again with this preflight"))
                continue
            now_shows = members(_plain(record))
            differences = _differences(fact["showed"], now_shows)
            if differences:
                found.append(self._finding(
                    rules["PF480"], f"/facts/{index}", f"{_named(fact)} changed since the plan: "
                    + "; ".join(differences[:6]) + (f"; and {len(differences) - 6} more" if len(differences) > 6 else ""),
                    "review what changed, then plan the request again"))
        return found

    def _finding(self, rule, pointer: str, message: str, fix: str | None = None) -> Finding:
        line, column = self.document.position(pointer)
        return Finding(rule.id, rule.severity, self.document.path, pointer, message, fix, line, column)


def _named(fact: dict) -> str:
    return f"{fact['read']} {' '.join(str(one) for one in fact['of'])}".strip()


def _differences(before: dict, after: dict) -> list[str]:
    said = []
    for pointer in sorted(set(before) | set(after)):
        old, new = before.get(pointer, _ABSENT), after.get(pointer, _ABSENT)
        if old == new:
            continue
        where = pointer or "the record"
        if old is _ABSENT:
            said.append(f"{where} added ({_said(new)})")
        elif new is _ABSENT:
            said.append(f"{where} removed (was {_said(old)})")
        else:
            said.append(f"{where} {_said(old)} -> {_said(new)}")
    return said


_ABSENT = object()


def _said(value) -> str:
    from preflight.formats.escape import untrusted

    return "none" if value is None else untrusted(json.dumps(value, ensure_ascii=False))


def _age(delta: datetime.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0 or seconds >= size * 2:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def read(path: str, max_bytes: int) -> Plan | None:
    """The plan in ``path``, or None when the file is not a plan (a request, read as one)."""
    try:
        document = documents.read(path, max_bytes)
    except documents.LoadError:
        return None  # the request reader says why
    data = document.data
    return Plan(document) if document.parsed and isinstance(data, dict) and data.get("format") == FORMAT else None
