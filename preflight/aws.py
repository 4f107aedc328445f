"""The only module that talks to AWS (boto3, imported here and only when --live or apply asks).

BotoAccount reads, and never writes: each distinct resource is read once per run (memoised,
safe under the concurrent prefetch), batched where the API batches. botocore's standard retry
mode with connect and read timeouts applies to every call; what still fails becomes
``LookupFailed`` naming the call and the reason. ``send`` is the one call that changes anything.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers
import botocore.session

from preflight.account import (Caller, ClusterState, Delivery, EksCluster, Extension, Image, Key, Node, ObjectHead,
                               Role, SchedulerConfig, SecurityGroup, Snapshot, Subnet)
from preflight.lookup import LookupFailed

NOT_FOUND = {
    "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound",
    "InvalidSnapshotID.Malformed", "NotFoundException", "NoSuchEntity", "NoSuchKey", "NoSuchBucket",
    "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "InvalidGroup.NotFound", "InvalidGroupId.Malformed",
    "ResourceNotFoundException", "ResourceNotFound", "NoSuchBucketPolicy",
}
LISTED_POLICIES = 100  # one ListPolicies page (IAM's default size): ~40 KiB, ~8 ms to parse; 1000: ~390 KiB, ~140 ms
SMALL_OBJECT_LIMIT = 256 * 1024  # a lifecycle configuration file read whole (provisioning_parameters.json)
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
          "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch", "403"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "SlowDown", "RequestThrottled"}


@dataclass(frozen=True)
class ClientFailure:
    code: str  # AWS's error code, or the HTTP status when the answer carried none
    status: int | None
    message: str
    aws_code: bool  # the answer named an AWS error code (not an HTML page or a bare status)

    @property
    def reason(self) -> str:
        if self.code in DENIED or self.status == 403:
            return f"access denied ({self.code}: {self.message})"
        if self.code in THROTTLED:
            return f"throttled, still after retries ({self.code})"
        return f"{self.code}: {self.message}" if self.aws_code else self.message


def client_error(err) -> ClientFailure:
    """What a botocore ClientError says, without echoing a body that is not an AWS error."""
    error = err.response.get("Error") or {}
    status = (err.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = str(error.get("Code") or status or "")
    aws_code = bool(code) and not code.isdigit()
    message = " ".join(str(error.get("Message") or "").split())
    if not aws_code or "<" in message:  # an HTML or XML page: its text says nothing to rely on
        message = f"HTTP {status} without an AWS error code" if not aws_code else f"HTTP {status}"
    return ClientFailure(code, status, without_userinfo(message[:300]), aws_code)


def transport_failure(err: BaseException) -> str:
    """Why a call got no usable answer: a timeout, no connection, a reset, an unreadable answer."""
    if isinstance(err, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found"
    if isinstance(err, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)):
        return f"timed out ({type(err).__name__})"
    if isinstance(err, botocore.exceptions.EndpointConnectionError):
        return f"endpoint unreachable ({without_userinfo(str(err.kwargs.get('endpoint_url', '')))})"
    if isinstance(err, botocore.parsers.ResponseParserError):  # its text holds the raw body
        return "the answer could not be read (not in the API's format)"
    if isinstance(err, (botocore.exceptions.ConnectionClosedError, ConnectionError)):
        return f"the connection was closed before the answer was complete ({type(err).__name__})"
    return f"the call failed ({type(err).__name__})"


def _settings_refused(err: BaseException) -> str:
    """Why botocore would not make a client (a setting it refuses)."""
    return f"the AWS settings cannot be used: {without_userinfo(str(err))}"


def _short(err: BaseException) -> str:
    return without_userinfo(str(err))[:80]


class ConfigurationError(Exception):
    """The AWS settings cannot be used (no region, unknown profile): a usage error."""


REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def without_userinfo(text: str) -> str:
    """``text`` with any ``user:password@`` taken out of the URLs in it."""
    return USERINFO.sub("", text)


def _settings(region: str | None) -> tuple[str | None, int]:
    """The region as given (and where from) and AWS_MAX_ATTEMPTS, checked before boto3 sees them."""
    given = [(region, "--region"), (os.environ.get("AWS_REGION"), "AWS_REGION"),
             (os.environ.get("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION")]
    region, source = next(((value, where) for value, where in given if value), (None, None))
    if region is not None and not REGION.fullmatch(region):
        raise ConfigurationError(f"{source} {region!r} is not an AWS region name (such as us-east-1)")
    attempts = os.environ.get("AWS_MAX_ATTEMPTS") or "4"
    if not attempts.isdigit() or int(attempts) < 1:
        raise ConfigurationError(f"AWS_MAX_ATTEMPTS {attempts!r} is not a whole number of at least 1")
    for name, value in os.environ.items():
        if name == "AWS_ENDPOINT_URL" or name.startswith("AWS_ENDPOINT_URL_"):
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigurationError(f"{name} {without_userinfo(value)!r} is not an http(s) URL")
    return region, int(attempts)


_LOADER = None


def _botocore_session():
    """A botocore session whose service models are loaded once per process (a run makes one
    account; the tests and bench/ make many)."""
    global _LOADER
    session = botocore.session.Session()
    if _LOADER is None:
        _LOADER = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _LOADER)
    return session


class BotoAccount:
    def __init__(self, profile: str | None = None, region: str | None = None, timeout: float = 10.0):
        region, attempts = _settings(region)
        try:
            # AWS_REGION is the standard variable too (the SDKs read it; this boto3 reads AWS_DEFAULT_REGION).
            session = boto3.session.Session(profile_name=profile, region_name=region, botocore_session=_botocore_session())
        except botocore.exceptions.ProfileNotFound as err:
            raise ConfigurationError(str(err)) from None
        if not session.region_name:
            raise ConfigurationError("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
        if not REGION.fullmatch(session.region_name):
            raise ConfigurationError(f"the profile's region {session.region_name!r} is not an AWS region name")
        self.region = session.region_name
        self._session = session
        self._configs = {
            "lookup": botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                             connect_timeout=timeout, read_timeout=timeout),
            # Creates and updates are not idempotent: exactly one attempt, then look before retrying.
            "send": botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                           connect_timeout=timeout, read_timeout=timeout)}
        self._clients: dict = {}
        self._client_lock = threading.Lock()
        try:
            self._client("sts")  # now: a setting botocore refuses is a usage error before anything is checked
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            raise ConfigurationError(_settings_refused(err)) from None
        self.calls: Counter = Counter()  # (service, operation) -> calls made, for tests and bench/
        self._memo: dict = {}
        self._locks: dict = {}
        self._guard = threading.Lock()

    def _client(self, service: str, purpose: str = "lookup"):
        """The service's client, made on first use: making one costs 10 to 200 ms of CPU (EC2's
        model is the largest), so the others are made while the first calls are in flight, and a
        check never makes the sender. One at a time: sessions are not thread-safe, clients are."""
        with self._client_lock:
            if (service, purpose) not in self._clients:
                self._clients[service, purpose] = self._session.client(service, config=self._configs[purpose])
            return self._clients[service, purpose]

    # ----- plumbing --------------------------------------------------------------------------

    def _call(self, service: str, operation: str, build=None, **params):
        """One API call and, inside the same guard, the reading of its answer: ``build(answer)``
        (by default the answer itself), or None when AWS says with an error code that the
        resource does not exist. Every other outcome, including an answer that lacks a member
        ``build`` needs, raises LookupFailed naming the call."""
        lookup = f"{service}:{''.join(part.capitalize() for part in operation.split('_'))}"
        self.calls[(service, operation)] += 1
        try:
            client = self._client(service)
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            raise LookupFailed(lookup, _settings_refused(err)) from None
        try:
            answer = getattr(client, operation)(**params)
            return build(answer) if build else answer
        except botocore.exceptions.ClientError as err:
            failure = client_error(err)
            # An AWS "not found" code is a verified absence; a bare 404 (an HTML page, a proxy) is
            # not, except for S3's HEAD requests, whose answers never have a body to carry a code.
            if failure.code in NOT_FOUND or (failure.code == "404" and operation.startswith("head_")) or (
                    failure.code == "ValidationException" and "not find" in failure.message.lower()):
                return None
            raise LookupFailed(lookup, failure.reason) from None
        except botocore.exceptions.BotoCoreError as err:
            raise LookupFailed(lookup, transport_failure(err)) from None
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            raise LookupFailed(lookup, f"the answer lacks what the API returns ({type(err).__name__}: "
                                       f"{_short(err)})") from None
        except Exception as err:  # noqa: BLE001 - whatever else breaks a call is a failed lookup
            raise LookupFailed(lookup, transport_failure(err)) from None

    def _once(self, key, compute):
        """Memoise ``compute()`` under ``key``; concurrent callers of one key wait for one call."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                try:
                    self._memo[key] = ("ok", compute())
                except LookupFailed as err:
                    self._memo[key] = ("failed", err)
        outcome, value = self._memo[key]
        if outcome == "failed":
            raise value
        return value

    def _batch(self, kind: str, ids: list[str], fetch) -> dict:
        """Fetch the ids not read yet in one call (``fetch(ids) -> {id: record}``); when the batch
        is refused because one id does not exist, read them one by one."""
        with self._guard:  # one batch at a time per kind of resource
            lock = self._locks.setdefault((kind, "batch"), threading.Lock())
        with lock:
            missing = sorted({i for i in ids if (kind, i) not in self._memo})
            if missing:
                try:
                    found = fetch(missing)
                    if found is None and len(missing) > 1:
                        found = {}
                        for one in missing:
                            found.update(fetch([one]) or {})
                    outcome = {one: ("ok", (found or {}).get(one)) for one in missing}
                except LookupFailed as failure:  # remembered too: a failed read is not repeated
                    outcome = {one: ("failed", failure) for one in missing}
                for one, result in outcome.items():
                    self._memo.setdefault((kind, one), result)
        return {i: self._once((kind, i), lambda: None) for i in ids}

    # ----- lookups ---------------------------------------------------------------------------

    def _identity(self) -> tuple[str, str]:
        """(the caller's ARN as STS gives it, its account)."""
        return self._once(("identity",), lambda: self._call(
            "sts", "get_caller_identity", lambda a: (_text(a["Arn"]), _text(a["Account"]))))

    def caller(self) -> Caller:
        def compute():
            arn, account = self._identity()
            if ":assumed-role/" in arn:  # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION -> the role, with its path
                name = _principal(arn)[1]
                role = self._role_named(name)
                arn = role.arn if role else f"arn:{arn.split(':')[1]}:iam::{account}:role/{name}"
            return Caller(arn, account)
        return self._once(("caller",), compute)

    def caller_policies(self) -> dict:
        """The caller's identity policies (``identity_policies`` of ``caller().arn``), read by the
        name STS gives: an assumed role's lists start beside the GetRole that gives its path."""
        def compute():
            kind, name = _principal(self._identity()[0])
            return _authorization_details(self, kind, name, None)
        return self._once(("caller-policies",), compute)

    def images(self, ids: list[str]) -> dict[str, Image | None]:
        def build(answer):
            return {i["ImageId"]: Image(
                _text(i["ImageId"]), _text(i["State"]), _text(i["OwnerId"]), _tags(i),
                tuple(_text(m["Ebs"]["SnapshotId"]) for m in _list(i, "BlockDeviceMappings")
                      if "Ebs" in m and m["Ebs"].get("SnapshotId"))) for i in _list(answer, "Images", needed=True)}
        return self._batch("image", ids, lambda batch: self._call("ec2", "describe_images", build, ImageIds=batch))

    def snapshots(self, ids: list[str]) -> dict[str, Snapshot | None]:
        def build(answer):
            return {s["SnapshotId"]: Snapshot(_text(s["SnapshotId"]), _flag(s["Encrypted"]), s.get("KmsKeyId"), _tags(s))
                    for s in _list(answer, "Snapshots", needed=True)}
        return self._batch("snapshot", ids,
                           lambda batch: self._call("ec2", "describe_snapshots", build, SnapshotIds=batch))

    def key(self, reference: str) -> Key | None:
        def build(answer):
            meta = answer["KeyMetadata"]
            return Key(_text(meta["Arn"]), _text(meta["KeyState"]), _text(meta["KeyManager"]))
        return self._once(("key", reference), lambda: self._call("kms", "describe_key", build, KeyId=reference))

    def key_policy(self, key_arn: str) -> dict | None:
        return self._once(("key-policy", key_arn), lambda: self._call(
            "kms", "get_key_policy", lambda a: _document(a["Policy"]), KeyId=key_arn, PolicyName="default"))

    def role(self, arn: str) -> Role | None:
        role = self._role_named(arn.rsplit("/", 1)[-1])
        return role if role and role.arn == arn else None

    def _role_named(self, name: str) -> Role | None:
        """The role of that name, whatever its path (GetRole reads by name): the caller's, an
        execution role's and its policies' reads share this one call."""
        def build(answer):
            role = answer["Role"]
            return Role(_text(role["Arn"]), _document(role["AssumeRolePolicyDocument"]),
                        (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"), tuple(_tags(role).items()))
        return self._once(("role", name), lambda: self._call("iam", "get_role", build, RoleName=name))

    def object_head(self, bucket: str, key: str) -> ObjectHead:
        def compute():
            # S3 always names the bucket's region and the object's ETag: a 200 without them (an empty
            # or HTML page from something in between) is not S3 saying that they exist.
            region = self._call("s3", "head_bucket", lambda a: _text(a["BucketRegion"]), Bucket=bucket)
            if region is None:
                return ObjectHead(False, None)
            # The body is read inside the call's guard: a reset while reading it is a failed lookup.
            head = self._call("s3", "get_object", _object_head, Bucket=bucket, Key=key, Range="bytes=0-4095")
            return ObjectHead(True, head, region)
        return self._once(("object", bucket, key), compute)

    def subnets(self, ids: list[str]) -> dict[str, Subnet | None]:
        def fetch(batch):
            subnets = self._call("ec2", "describe_subnets", lambda a: [
                (_text(s["SubnetId"]), _text(s["VpcId"]), _text(s["AvailabilityZone"]))
                for s in _list(a, "Subnets", needed=True)], SubnetIds=batch)
            if subnets is None:
                return None
            vpcs = sorted({vpc for _, vpc, _ in subnets})
            public = self._call("ec2", "describe_route_tables", lambda a: {
                subnet: _public(subnet, vpc, _list(a, "RouteTables", needed=True)) for subnet, vpc, _ in subnets},
                Filters=[{"Name": "vpc-id", "Values": vpcs}]) or {}
            return {subnet: Subnet(subnet, vpc, zone, public.get(subnet, False)) for subnet, vpc, zone in subnets}
        return self._batch("subnet", ids, fetch)

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup | None]:
        def build(answer):
            return {g["GroupId"]: SecurityGroup(_text(g["GroupId"]), _text(g["VpcId"]),
                                                _self_rule(g, _list(g, "IpPermissions")),
                                                _self_rule(g, _list(g, "IpPermissionsEgress")))
                    for g in _list(answer, "SecurityGroups", needed=True)}
        return self._batch("security-group", ids,
                           lambda batch: self._call("ec2", "describe_security_groups", build, GroupIds=batch))

    def eks_cluster(self, name: str) -> EksCluster | None:
        def build(answer):
            cluster = answer["cluster"]
            return EksCluster(_text(cluster["arn"]), _text(cluster["status"]),
                              (cluster.get("accessConfig") or {}).get("authenticationMode"),
                              (cluster.get("resourcesVpcConfig") or {}).get("vpcId"))
        return self._once(("eks", name), lambda: self._call("eks", "describe_cluster", build, name=name))

    def cluster(self, name: str, fresh: bool = False) -> ClusterState | None:
        """The cluster's state; ``fresh`` reads it again (after a send) instead of the run's memo.
        An answer without the cluster's ARN, status and groups is no answer (not "no groups")."""
        def build(answer):
            groups = {_text(g["InstanceGroupName"]): g for g in _list(answer, "InstanceGroups", needed=True)}
            orchestrator = answer.get("Orchestrator") or {}
            if not isinstance(orchestrator, dict):
                raise TypeError("Orchestrator is not an object")
            return ClusterState(_text(answer["ClusterArn"]), _text(answer["ClusterStatus"]), groups,
                                answer.get("FailureMessage") or None, next(iter(orchestrator), None),
                                answer.get("NodeProvisioningMode") or None)

        def compute():
            return self._call("sagemaker", "describe_cluster", build, ClusterName=name)
        return compute() if fresh else self._once(("cluster", name), compute)

    def cluster_nodes(self, name: str, fresh: bool = False) -> list[Node] | None:
        """Every node of the cluster (ListClusterNodes, all pages); None when it does not exist."""
        def page(answer):
            nodes = [Node(_text(n["InstanceId"]), _text(n["InstanceGroupName"]),
                          (n.get("InstanceStatus") or {}).get("Status", ""), n.get("InstanceType", ""),
                          n.get("NodeLogicalId")) for n in _list(answer, "ClusterNodeSummaries", needed=True)]
            return nodes, answer.get("NextToken")

        def compute():
            nodes, token = [], None
            while True:
                found = self._call("sagemaker", "list_cluster_nodes", page, ClusterName=name,
                                   **({"NextToken": token} if token else {}))
                if found is None:
                    return None
                nodes += found[0]
                token = found[1]
                if not token:
                    return nodes
        return compute() if fresh else self._once(("cluster-nodes", name), compute)

    def cluster_events(self, name: str) -> list[dict]:
        """The cluster's recent events (ListClusterEvents, one page, oldest first); read fresh each time."""
        return self._call("sagemaker", "list_cluster_events", lambda a: _list(a, "Events"), ClusterName=name,
                          SortOrder="Ascending", MaxResults=100) or []

    def scheduler_config(self, config_id: str, fresh: bool = False) -> SchedulerConfig | None:
        """A cluster policy by its id; ``fresh`` reads it again (``apply --wait``)."""
        def build(answer):
            return SchedulerConfig(_text(answer["ClusterSchedulerConfigId"]), _text(answer["ClusterSchedulerConfigArn"]),
                                   _text(answer["Name"]), answer.get("ClusterArn"),
                                   _whole(answer["ClusterSchedulerConfigVersion"]), _text(answer["Status"]),
                                   answer.get("FailureReason") or None)

        def compute():
            return self._call("sagemaker", "describe_cluster_scheduler_config", build, ClusterSchedulerConfigId=config_id)
        return compute() if fresh else self._once(("scheduler-config", config_id), compute)

    def cluster_extension(self, cluster: str, arn: str, fresh: bool = False) -> Extension | None:
        """An extension of the cluster (by ARN); None once it is gone."""
        def build(answer):
            details = answer["ExtensionDetails"]
            issues = (answer.get("Health") or {}).get("Issues") or []
            failure = "; ".join(f"{i.get('Code')}: {i.get('Message')} ({i.get('NodeCount')} nodes)" for i in issues)
            return Extension(_text(details["ExtensionArn"]), _text(details["ExtensionName"]),
                             _text(details["ExtensionVersion"]), _text(details["Status"]), failure or None)

        def compute():
            return self._call("sagemaker", "describe_cluster_extension", build, ClusterArn=cluster, ExtensionArn=arn)
        return compute() if fresh else self._once(("extension", cluster, arn), compute)

    def bucket_policy(self, bucket: str) -> dict | None:
        return self._once(("bucket-policy", bucket), lambda: self._call(
            "s3", "get_bucket_policy", lambda a: _document(a["Policy"]), Bucket=bucket))

    def small_object(self, bucket: str, key: str) -> bytes | None:
        """A small object read whole; LookupFailed when it is larger than SMALL_OBJECT_LIMIT."""
        def compute():
            body = self._call("s3", "get_object", _object_head, Bucket=bucket, Key=key,
                              Range=f"bytes=0-{SMALL_OBJECT_LIMIT}")
            if body is not None and len(body) > SMALL_OBJECT_LIMIT:
                raise LookupFailed("s3:GetObject", f"s3://{bucket}/{key} is larger than {SMALL_OBJECT_LIMIT} bytes")
            return body
        return self._once(("small-object", bucket, key), compute)

    def offered_zones(self, instance_type: str) -> set[str]:
        ec2_type = instance_type.removeprefix("ml.")

        def compute():
            return self._call("ec2", "describe_instance_type_offerings", lambda a: {
                _text(o["Location"]) for o in _list(a, "InstanceTypeOfferings", needed=True)},
                LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [ec2_type]}]) or set()
        return self._once(("offerings", ec2_type), compute)

    def cluster_quotas(self) -> dict[str, float]:
        """Instance type -> the account's quota "<type> for cluster usage" (Service Quotas)."""
        def build(page):
            quotas = {_text(q["QuotaName"]).removesuffix(" for cluster usage"): _number(q["Value"])
                      for q in _list(page, "Quotas", needed=True) if _text(q["QuotaName"]).endswith(" for cluster usage")}
            return quotas, page.get("NextToken")

        def compute():
            quotas: dict[str, float] = {}
            token = None
            for _ in range(100):  # pages; an endpoint that keeps answering with a token is not followed forever
                found = self._call("service-quotas", "list_service_quotas", build, ServiceCode="sagemaker",
                                   **({"NextToken": token} if token else {}))
                if found is None:
                    return quotas
                page, token = found
                quotas.update(page)
                if not token:
                    return quotas
            raise LookupFailed("service-quotas:ListServiceQuotas", "the answer pages never end")
        return self._once(("cluster-quotas",), compute)

    def identity_policies(self, principal_arn: str) -> dict:
        """The principal's policies in the shape of get-account-authorization-details."""
        return self._once(("policies", principal_arn),
                          lambda: _authorization_details(self, *_principal(principal_arn), principal_arn))

    def _listed_policy_versions(self) -> dict[str, tuple[str, str]]:
        """Policy ARN -> (default version id, name) from one page of ListPolicies (OnlyAttached),
        read once per run beside the principals' own lists, so that a managed policy they name goes
        straight to GetPolicyVersion instead of GetPolicy first. One page of LISTED_POLICIES (about
        40 KiB): in a bigger account the policies beyond it are read by GetPolicy, as they would
        be anyway. A failed listing is no answer, not a failed check: GetPolicy reads each then."""
        def build(answer):
            return {_text(p["Arn"]): (_text(p["DefaultVersionId"]), _text(p["PolicyName"]))
                    for p in _list(answer, "Policies", needed=True)}

        def compute():
            try:
                return self._call("iam", "list_policies", build, OnlyAttached=True, MaxItems=LISTED_POLICIES) or {}
            except LookupFailed:
                return {}
        return self._once(("policy-listing",), compute)

    def _managed_policy(self, arn: str) -> dict | None:
        """A managed policy with its default version's document, in the shape of
        get-account-authorization-details' Policies; None when it does not exist."""
        def compute():
            policy = self._listed_policy_versions().get(arn) or self._call(
                "iam", "get_policy", lambda a: (_text(a["Policy"]["DefaultVersionId"]), _text(a["Policy"]["PolicyName"])),
                PolicyArn=arn)
            if policy is None:
                return None
            version_id, name = policy
            document = self._call("iam", "get_policy_version", lambda a: _document(a["PolicyVersion"]["Document"]),
                                  PolicyArn=arn, VersionId=version_id)
            if document is None:
                return None
            return {"PolicyName": name, "Arn": arn,
                    "PolicyVersionList": [{"VersionId": version_id, "IsDefaultVersion": True, "Document": document}]}
        return self._once(("managed-policy", arn), compute)

    # ----- the one write ---------------------------------------------------------------------

    def send(self, operation: str, request: dict) -> Delivery:
        """Call the HyperPod operation once with the validated request, and say what the answer
        proves: "sent" (an answer in the operation's shape), "refused" (a 4xx with an AWS error
        code: no effect), "not-delivered" (no connection was made, or botocore refused the request
        before sending it) or "unknown" (a timeout, a 5xx, throttling, a reset, an unreadable answer)."""
        method = operation.replace("-", "_")
        self.calls[("sagemaker", method)] += 1
        try:
            sender = self._client("sagemaker", "send")
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            return Delivery("not-delivered", reason=_settings_refused(err))
        try:
            answer = getattr(sender, method)(**request)
        except botocore.exceptions.ClientError as err:
            failure = client_error(err)
            proven = failure.aws_code and 400 <= (failure.status or 0) < 500 and failure.code not in THROTTLED
            return Delivery("refused" if proven else "unknown", code=failure.code, reason=failure.reason)
        except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.ParamValidationError, botocore.exceptions.NoCredentialsError) as err:
            if isinstance(err, botocore.exceptions.ParamValidationError):
                return Delivery("not-delivered", reason="botocore refused the request before sending it")
            return Delivery("not-delivered", reason=transport_failure(err))
        except Exception as err:  # noqa: BLE001 - the request may have reached the service
            return Delivery("unknown", reason=transport_failure(err))
        shape = sender.meta.service_model.operation_model(sender.meta.method_to_api_mapping[method])
        missing = [m for m in shape.output_shape.required_members if m not in answer] if shape.output_shape else []
        if missing:
            return Delivery("unknown", reason=f"the answer could not be read (no {', '.join(missing)} in it)")
        answer.pop("ResponseMetadata", None)
        return Delivery("sent", response=answer)


def _text(value) -> str:
    """A member that must be a string; anything else is an answer not in the API's shape."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, found {type(value).__name__}")
    return value


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, found {type(value).__name__}")
    return value


def _whole(value) -> int:
    """A member that must be an integer (a bool is not one)."""
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _list(record: dict, member: str, needed: bool = False) -> list:
    """A list member of an answer: one the API always returns must be there (an empty or foreign
    answer is not "none"); an optional one may be absent."""
    value = record[member] if needed else record.get(member, [])
    if not isinstance(value, list):
        raise TypeError(f"{member} is not a list")
    return value


def _object_head(answer: dict) -> bytes:
    """The body of a ranged GetObject, read whole; an answer without S3's ETag, or shorter than
    the range it says it holds, is not the object."""
    _text(answer["ETag"])
    body = answer["Body"].read()
    found = re.fullmatch(r"bytes (\d+)-(\d+)/\d+", answer.get("ContentRange") or "")
    if found and len(body) != int(found[2]) - int(found[1]) + 1:
        raise ValueError(f"{len(body)} bytes where the answer announced {found[0]}")
    return body


def _tags(record: dict) -> dict[str, str]:
    return {_text(t["Key"]): _text(t.get("Value", "")) for t in _list(record, "Tags")}


def _document(value) -> dict:
    """A policy document as IAM and KMS return it (URL-encoded JSON text, or already decoded)."""
    document = json.loads(unquote(value)) if isinstance(value, str) else value
    if not isinstance(document, dict):
        raise TypeError("the policy document is not a JSON object")
    return document


def _public(subnet: str, vpc: str, tables: list[dict]) -> bool:
    explicit = [t for t in tables if any(a.get("SubnetId") == subnet for a in _list(t, "Associations"))]
    chosen = explicit or [t for t in tables if t.get("VpcId") == vpc
                          and any(a.get("Main") for a in _list(t, "Associations"))]
    return any(str(r.get("GatewayId", "")).startswith("igw-") and r.get("DestinationCidrBlock") == "0.0.0.0/0"
               for t in chosen for r in _list(t, "Routes"))


def _self_rule(group: dict, permissions: list[dict]) -> bool:
    return any(p.get("IpProtocol") == "-1" and any(pair.get("GroupId") == group["GroupId"]
                                                   for pair in _list(p, "UserIdGroupPairs"))
               for p in permissions)


def _principal(arn: str) -> tuple[str, str]:
    """("role" or "user", name) of a user's or role's ARN, or of an assumed role's session (its role)."""
    if ":assumed-role/" in arn:
        return "role", arn.split("/")[1]
    return "role" if ":role/" in arn else "user", arn.rsplit("/", 1)[-1]


def _authorization_details(account: BotoAccount, kind: str, name: str, arn: str | None) -> dict:
    """Read a user's or role's inline, attached, group and boundary policies, and its tags (for
    ``${aws:PrincipalTag/...}`` and conditions on them). Each read starts as
    soon as what it needs is known: the principal's record and lists at once (by the name in the
    ARN), each policy's document as soon as its list answers; a role's chain is two round trips,
    a user's three with groups (a managed policy the listing of attached policies did not give
    costs one more, for GetPolicy). No pooled task waits for another: only this thread waits.
    ``arn`` None: the caller's, whose ARN (an assumed role's path) is known only from its record."""
    from concurrent.futures import ThreadPoolExecutor

    call = account._call

    def names(answer):
        return [_text(n) for n in _list(answer, "PolicyNames", needed=True)]

    def attached(answer):
        return [_text(p["PolicyArn"]) for p in _list(answer, "AttachedPolicies", needed=True)]

    def role_record():
        role = account._role_named(name)  # the caller's, whatever its path; a role named by ARN must be that one
        return (role.boundary_arn, dict(role.tags)) if role and (arn is None or role.arn == arn) else (None, {})

    def user_record(answer):
        user = answer["User"]
        return (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"), _tags(user)

    with ThreadPoolExecutor(max_workers=8) as pool:
        pool.submit(account._listed_policy_versions)  # started now, used by the managed reads
        if kind == "role":
            who = {"RoleName": name}
            record = pool.submit(role_record)
            groups = None
        else:
            who = {"UserName": name}
            record = pool.submit(call, "iam", "get_user", user_record, **who)
            groups = pool.submit(call, "iam", "list_groups_for_user", lambda a: [
                _text(g["GroupName"]) for g in _list(a, "Groups", needed=True)], **who)
        own_inline = pool.submit(call, "iam", f"list_{kind}_policies", names, **who)
        own_attached = pool.submit(call, "iam", f"list_attached_{kind}_policies", attached, **who)

        managed: dict = {}

        def read_managed(policy_arns):
            for policy_arn in policy_arns or []:
                if policy_arn not in managed:
                    managed[policy_arn] = pool.submit(account._managed_policy, policy_arn)
            return policy_arns or []

        def read_inline(policy_names, operation, **owner):
            return [(n, pool.submit(call, "iam", operation, lambda a: _document(a["PolicyDocument"]), PolicyName=n,
                                    **owner)) for n in policy_names or []]

        attached_list = read_managed(own_attached.result())
        group_names = (groups.result() or []) if groups else []
        group_lists = [(g, pool.submit(call, "iam", "list_group_policies", names, GroupName=g),
                        pool.submit(call, "iam", "list_attached_group_policies", attached, GroupName=g))
                       for g in group_names]
        boundary, tags = record.result()
        read_managed([boundary] if boundary else [])
        inline_list = read_inline(own_inline.result(), f"get_{kind}_policy", **who)
        group_reads = [(g, read_inline(inline.result(), "get_group_policy", GroupName=g),
                        read_managed(attached_to.result())) for g, inline, attached_to in group_lists]

        def documents(reads, member):
            return [{"PolicyName": n, member: d} for n, d in ((n, f.result()) for n, f in reads) if d is not None]

        # GetUser and GetRole give every tag: the principal's tags are known, none included
        entry = {"Arn": arn or account.caller().arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                 f"{kind.capitalize()}PolicyList": documents(inline_list, "PolicyDocument"),
                 "AttachedManagedPolicies": [{"PolicyArn": a} for a in attached_list]}
        group_details = [{"GroupName": g, "GroupPolicyList": documents(inline, "PolicyDocument"),
                          "AttachedManagedPolicies": [{"PolicyArn": a} for a in attached_to]}
                         for g, inline, attached_to in group_reads]
        if kind == "user":
            entry["GroupList"] = group_names
        if boundary:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        policies = [policy for _, future in sorted(managed.items()) if (policy := future.result())]
    return {"RoleDetailList" if kind == "role" else "UserDetailList": [entry], "GroupDetailList": group_details,
            "Policies": policies}
