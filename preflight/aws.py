"""The only module that talks to AWS (boto3, imported here and only when --live or apply asks).

BotoAccount reads, and never writes: each distinct resource is read once per run (memoised,
safe under the concurrent prefetch), batched where the API batches. botocore's standard retry
mode with connect and read timeouts applies to every call; what still fails becomes
``LookupFailed`` naming the call and the reason. ``send`` is the one call that changes anything.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from urllib.parse import unquote

import boto3
import botocore.config
import botocore.exceptions

from preflight.account import (Caller, ClusterState, EksCluster, Image, Key, LookupFailed, Node, ObjectHead, Role,
                               SecurityGroup, Snapshot, Subnet)

NOT_FOUND = {
    "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound",
    "InvalidSnapshotID.Malformed", "NotFoundException", "NoSuchEntity", "NoSuchKey", "NoSuchBucket", "404",
    "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "InvalidGroup.NotFound", "InvalidGroupId.Malformed",
    "ResourceNotFoundException", "ResourceNotFound", "NoSuchBucketPolicy",
}
SMALL_OBJECT_LIMIT = 256 * 1024  # a lifecycle configuration file read whole (provisioning_parameters.json)
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
          "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch", "403"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "SlowDown", "RequestThrottled"}


class ConfigurationError(Exception):
    """The AWS settings cannot be used (no region, unknown profile): a usage error."""


class BotoAccount:
    def __init__(self, profile: str | None = None, region: str | None = None, timeout: float = 10.0):
        try:
            # AWS_REGION is the standard variable too (the SDKs read it; this boto3 reads AWS_DEFAULT_REGION).
            session = boto3.session.Session(profile_name=profile, region_name=region or os.environ.get("AWS_REGION"))
        except botocore.exceptions.ProfileNotFound as err:
            raise ConfigurationError(str(err)) from None
        if not session.region_name:
            raise ConfigurationError("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION")
        self.region = session.region_name
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 4)  # the standard variable, honoured here too
        config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                        connect_timeout=timeout, read_timeout=timeout)
        # Clients are made up front: sessions are not thread-safe, clients are.
        self._clients = {name: session.client(name, config=config)
                         for name in ("sts", "ec2", "kms", "iam", "s3", "eks", "sagemaker", "service-quotas")}
        # Creates and updates are not idempotent: exactly one attempt, then look before retrying.
        self._sender = session.client("sagemaker", config=botocore.config.Config(
            retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=timeout, read_timeout=timeout))
        self.calls: Counter = Counter()  # (service, operation) -> calls made, for tests and bench/
        self._memo: dict = {}
        self._locks: dict = {}
        self._guard = threading.Lock()

    def client(self, service: str):
        """The botocore client for a service (the tests attach botocore's Stubber to one where
        the local endpoint lacks an operation)."""
        return self._clients[service]

    # ----- plumbing --------------------------------------------------------------------------

    def _call(self, service: str, operation: str, **params):
        """One API call; None if AWS says the resource does not exist; LookupFailed otherwise."""
        lookup = f"{service}:{''.join(part.capitalize() for part in operation.split('_'))}"
        self.calls[(service, operation)] += 1
        try:
            return getattr(self._clients[service], operation)(**params)
        except botocore.exceptions.NoCredentialsError:
            raise LookupFailed(lookup, "no AWS credentials found") from None
        except botocore.exceptions.ClientError as err:
            error = err.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = " ".join(str(error.get("Message") or code).split())
            if "<html" in message.lower() or not message:  # an HTML error page says nothing more
                message = f"HTTP {status}"
            if code in NOT_FOUND or (status == 404 and code not in DENIED) or (
                    code == "ValidationException" and "not find" in message.lower()):  # SageMaker's "not found"
                return None
            if code in DENIED or status == 403:
                raise LookupFailed(lookup, f"access denied ({code}: {message})") from None
            if code in THROTTLED:
                raise LookupFailed(lookup, f"throttled, still after retries ({code})") from None
            raise LookupFailed(lookup, message if code in ("", str(status)) else f"{code}: {message}") from None
        except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError) as err:
            raise LookupFailed(lookup, f"timed out ({type(err).__name__})") from None
        except botocore.exceptions.EndpointConnectionError as err:
            raise LookupFailed(lookup, f"endpoint unreachable ({err.kwargs.get('endpoint_url', '')})") from None
        except botocore.exceptions.BotoCoreError as err:
            raise LookupFailed(lookup, str(err)) from None

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

    def caller(self) -> Caller:
        def compute():
            answer = self._call("sts", "get_caller_identity")
            arn = answer["Arn"]
            if ":assumed-role/" in arn:  # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION -> the role
                partition = arn.split(":")[1]
                role = self._call("iam", "get_role", RoleName=arn.split("/")[1])
                arn = role["Role"]["Arn"] if role else f"arn:{partition}:iam::{answer['Account']}:role/{arn.split('/')[1]}"
            return Caller(arn, answer["Account"])
        return self._once(("caller",), compute)

    def images(self, ids: list[str]) -> dict[str, Image | None]:
        def fetch(batch):
            answer = self._call("ec2", "describe_images", ImageIds=batch)
            if answer is None:
                return None
            return {i["ImageId"]: Image(
                i["ImageId"], i.get("State", ""), i.get("OwnerId", ""), _tags(i),
                tuple(m["Ebs"]["SnapshotId"] for m in i.get("BlockDeviceMappings", [])
                      if "Ebs" in m and m["Ebs"].get("SnapshotId"))) for i in answer.get("Images", [])}
        return self._batch("image", ids, fetch)

    def snapshots(self, ids: list[str]) -> dict[str, Snapshot | None]:
        def fetch(batch):
            answer = self._call("ec2", "describe_snapshots", SnapshotIds=batch)
            if answer is None:
                return None
            return {s["SnapshotId"]: Snapshot(s["SnapshotId"], bool(s.get("Encrypted")), s.get("KmsKeyId"), _tags(s))
                    for s in answer.get("Snapshots", [])}
        return self._batch("snapshot", ids, fetch)

    def key(self, reference: str) -> Key | None:
        def compute():
            answer = self._call("kms", "describe_key", KeyId=reference)
            if answer is None:
                return None
            meta = answer["KeyMetadata"]
            return Key(meta["Arn"], meta.get("KeyState", ""), meta.get("KeyManager", ""))
        return self._once(("key", reference), compute)

    def key_policy(self, key_arn: str) -> dict | None:
        def compute():
            answer = self._call("kms", "get_key_policy", KeyId=key_arn, PolicyName="default")
            return _document(answer["Policy"]) if answer else None
        return self._once(("key-policy", key_arn), compute)

    def role(self, arn: str) -> Role | None:
        def compute():
            answer = self._call("iam", "get_role", RoleName=arn.rsplit("/", 1)[-1])
            if answer is None or answer["Role"]["Arn"] != arn:
                return None
            return Role(arn, _document(answer["Role"].get("AssumeRolePolicyDocument")),
                        (answer["Role"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"))
        return self._once(("role", arn), compute)

    def object_head(self, bucket: str, key: str) -> ObjectHead:
        def compute():
            bucket_head = self._call("s3", "head_bucket", Bucket=bucket)
            if bucket_head is None:
                return ObjectHead(False, None)
            region = bucket_head.get("BucketRegion") or bucket_head.get("ResponseMetadata", {}).get(
                "HTTPHeaders", {}).get("x-amz-bucket-region")
            answer = self._call("s3", "get_object", Bucket=bucket, Key=key, Range="bytes=0-4095")
            return ObjectHead(True, answer["Body"].read() if answer else None, region)
        return self._once(("object", bucket, key), compute)

    def subnets(self, ids: list[str]) -> dict[str, Subnet | None]:
        def fetch(batch):
            answer = self._call("ec2", "describe_subnets", SubnetIds=batch)
            if answer is None:
                return None
            subnets = answer.get("Subnets", [])
            tables = (self._call("ec2", "describe_route_tables", Filters=[
                {"Name": "vpc-id", "Values": sorted({s["VpcId"] for s in subnets})}]) or {}).get("RouteTables", [])
            return {s["SubnetId"]: Subnet(s["SubnetId"], s["VpcId"], s.get("AvailabilityZone", ""),
                                          _public(s, tables)) for s in subnets}
        return self._batch("subnet", ids, fetch)

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup | None]:
        def fetch(batch):
            answer = self._call("ec2", "describe_security_groups", GroupIds=batch)
            if answer is None:
                return None
            return {g["GroupId"]: SecurityGroup(g["GroupId"], g.get("VpcId", ""),
                                                _self_rule(g, g.get("IpPermissions", [])),
                                                _self_rule(g, g.get("IpPermissionsEgress", [])))
                    for g in answer.get("SecurityGroups", [])}
        return self._batch("security-group", ids, fetch)

    def eks_cluster(self, name: str) -> EksCluster | None:
        def compute():
            answer = self._call("eks", "describe_cluster", name=name)
            if answer is None:
                return None
            cluster = answer["cluster"]
            return EksCluster(cluster.get("arn", ""), cluster.get("status", ""),
                              (cluster.get("accessConfig") or {}).get("authenticationMode"),
                              (cluster.get("resourcesVpcConfig") or {}).get("vpcId"))
        return self._once(("eks", name), compute)

    def cluster(self, name: str, fresh: bool = False) -> ClusterState | None:
        """The cluster's state; ``fresh`` reads it again (after a send) instead of the run's memo."""
        def compute():
            answer = self._call("sagemaker", "describe_cluster", ClusterName=name)
            if answer is None:
                return None
            groups = {g.get("InstanceGroupName"): g for g in answer.get("InstanceGroups", [])}
            return ClusterState(answer.get("ClusterArn", ""), answer.get("ClusterStatus", ""), groups,
                                answer.get("FailureMessage") or None)
        return compute() if fresh else self._once(("cluster", name), compute)

    def cluster_nodes(self, name: str, fresh: bool = False) -> list[Node] | None:
        """Every node of the cluster (ListClusterNodes, all pages); None when it does not exist."""
        def compute():
            nodes, token = [], None
            while True:
                page = self._call("sagemaker", "list_cluster_nodes", ClusterName=name,
                                  **({"NextToken": token} if token else {}))
                if page is None:
                    return None
                nodes += [Node(n.get("InstanceId", ""), n.get("InstanceGroupName", ""),
                               (n.get("InstanceStatus") or {}).get("Status", ""), n.get("InstanceType", ""),
                               n.get("NodeLogicalId")) for n in page.get("ClusterNodeSummaries", [])]
                token = page.get("NextToken")
                if not token:
                    return nodes
        return compute() if fresh else self._once(("cluster-nodes", name), compute)

    def cluster_events(self, name: str) -> list[dict]:
        """The cluster's recent events (ListClusterEvents, one page, oldest first); read fresh each time."""
        answer = self._call("sagemaker", "list_cluster_events", ClusterName=name, SortOrder="Ascending",
                            MaxResults=100) or {}
        return answer.get("Events", [])

    def bucket_policy(self, bucket: str) -> dict | None:
        def compute():
            answer = self._call("s3", "get_bucket_policy", Bucket=bucket)
            return _document(answer["Policy"]) if answer else None
        return self._once(("bucket-policy", bucket), compute)

    def small_object(self, bucket: str, key: str) -> bytes | None:
        """A small object read whole; LookupFailed when it is larger than SMALL_OBJECT_LIMIT."""
        def compute():
            answer = self._call("s3", "get_object", Bucket=bucket, Key=key, Range=f"bytes=0-{SMALL_OBJECT_LIMIT}")
            if answer is None:
                return None
            body = answer["Body"].read()
            if len(body) > SMALL_OBJECT_LIMIT:
                raise LookupFailed("s3:GetObject", f"s3://{bucket}/{key} is larger than {SMALL_OBJECT_LIMIT} bytes")
            return body
        return self._once(("small-object", bucket, key), compute)

    def offered_zones(self, instance_type: str) -> set[str]:
        ec2_type = instance_type.removeprefix("ml.")

        def compute():
            answer = self._call("ec2", "describe_instance_type_offerings", LocationType="availability-zone",
                                Filters=[{"Name": "instance-type", "Values": [ec2_type]}]) or {}
            return {o["Location"] for o in answer.get("InstanceTypeOfferings", [])}
        return self._once(("offerings", ec2_type), compute)

    def cluster_quotas(self) -> dict[str, float]:
        """Instance type -> the account's quota "<type> for cluster usage" (Service Quotas)."""
        def compute():
            quotas: dict[str, float] = {}
            token = None
            while True:
                page = self._call("service-quotas", "list_service_quotas", ServiceCode="sagemaker",
                                  **({"NextToken": token} if token else {})) or {}
                for quota in page.get("Quotas", []):
                    name = quota.get("QuotaName", "")
                    if name.endswith(" for cluster usage"):
                        quotas[name.removesuffix(" for cluster usage")] = quota.get("Value", 0)
                token = page.get("NextToken")
                if not token:
                    return quotas
        return self._once(("cluster-quotas",), compute)

    def identity_policies(self, principal_arn: str) -> dict:
        """The principal's policies in the shape of get-account-authorization-details."""
        return self._once(("policies", principal_arn), lambda: _authorization_details(self, principal_arn))

    # ----- the one write ---------------------------------------------------------------------

    def send(self, operation: str, request: dict) -> dict:
        """Call the HyperPod operation with the validated request. Raises botocore's errors."""
        method = operation.replace("-", "_")
        self.calls[("sagemaker", method)] += 1
        answer = getattr(self._sender, method)(**request)
        answer.pop("ResponseMetadata", None)
        return answer


def _tags(record: dict) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in record.get("Tags", []) if "Key" in t}


def _document(value) -> dict:
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value or {}


def _public(subnet: dict, tables: list[dict]) -> bool:
    explicit = [t for t in tables if any(a.get("SubnetId") == subnet["SubnetId"] for a in t.get("Associations", []))]
    chosen = explicit or [t for t in tables if t.get("VpcId") == subnet["VpcId"]
                          and any(a.get("Main") for a in t.get("Associations", []))]
    return any(r.get("GatewayId", "").startswith("igw-") and r.get("DestinationCidrBlock") == "0.0.0.0/0"
               for t in chosen for r in t.get("Routes", []))


def _self_rule(group: dict, permissions: list[dict]) -> bool:
    return any(p.get("IpProtocol") == "-1" and any(pair.get("GroupId") == group["GroupId"]
                                                   for pair in p.get("UserIdGroupPairs", []))
               for p in permissions)


def _authorization_details(account: BotoAccount, arn: str) -> dict:
    """Read a user's or role's inline, attached, group and boundary policies; independent calls
    run concurrently (four round trips for a user without groups)."""
    from concurrent.futures import ThreadPoolExecutor

    kind = "role" if ":role/" in arn else "user"
    name = arn.rsplit("/", 1)[-1]
    call = account._call
    pool = ThreadPoolExecutor(max_workers=8)

    def managed(policy_arn: str) -> dict | None:
        policy = call("iam", "get_policy", PolicyArn=policy_arn)
        if policy is None:
            return None
        version_id = policy["Policy"]["DefaultVersionId"]
        version = call("iam", "get_policy_version", PolicyArn=policy_arn, VersionId=version_id)
        return {"PolicyName": policy["Policy"]["PolicyName"], "Arn": policy_arn,
                "PolicyVersionList": [{"VersionId": version_id, "IsDefaultVersion": True,
                                       "Document": _document(version["PolicyVersion"]["Document"])}]}

    def inline(list_operation, get_operation, **who):
        names = (call("iam", list_operation, **who) or {}).get("PolicyNames", [])
        answers = pool.map(lambda n: call("iam", get_operation, PolicyName=n, **who), names)
        return [{"PolicyName": n, "PolicyDocument": _document(a["PolicyDocument"])} for n, a in zip(names, answers)]

    def attached(operation, **who):
        return (call("iam", operation, **who) or {}).get("AttachedPolicies", [])

    with pool:
        if kind == "role":
            who = {"RoleName": name}
            role, inline_list, attached_list = (f.result() for f in [
                pool.submit(account.role, arn),
                pool.submit(inline, "list_role_policies", "get_role_policy", **who),
                pool.submit(attached, "list_attached_role_policies", **who)])
            boundary = role.boundary_arn if role else None
            entry = {"Arn": arn, "RolePolicyList": inline_list, "AttachedManagedPolicies": attached_list}
            groups = []
        else:
            who = {"UserName": name}
            record, inline_list, attached_list, group_list = (f.result() for f in [
                pool.submit(call, "iam", "get_user", **who),
                pool.submit(inline, "list_user_policies", "get_user_policy", **who),
                pool.submit(attached, "list_attached_user_policies", **who),
                pool.submit(call, "iam", "list_groups_for_user", **who)])
            boundary = ((record or {}).get("User", {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            groups = [g["GroupName"] for g in (group_list or {}).get("Groups", [])]
            entry = {"Arn": arn, "UserPolicyList": inline_list, "AttachedManagedPolicies": attached_list,
                     "GroupList": groups}
        group_details = [{"GroupName": g,
                          "GroupPolicyList": inline("list_group_policies", "get_group_policy", GroupName=g),
                          "AttachedManagedPolicies": attached("list_attached_group_policies", GroupName=g)}
                         for g in groups]
        arns = {p["PolicyArn"] for p in attached_list} | {p["PolicyArn"] for g in group_details
                                                         for p in g["AttachedManagedPolicies"]}
        if boundary:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
            arns.add(boundary)
        policies = [p for p in pool.map(managed, sorted(arns)) if p]
    return {"RoleDetailList" if kind == "role" else "UserDetailList": [entry], "GroupDetailList": group_details,
            "Policies": policies}
