"""An embedded local AWS for the live checks' tests and demo: moto's server on a free loopback
port, seeded from an account-state file (fixtures/account/*.json).

    python -m preflight.local [--state FILE] -- preflight check --live fixtures/seed/corrected/*.json

runs the command with AWS_ENDPOINT_URL and test credentials pointing at the seeded server.

Where moto lacks a behaviour, its in-process state is seeded directly, never preflight's code:
resource ids are fixed by re-keying moto's EC2 and KMS stores (so requests can name them; not
the VPC's, which requests never name and moto's network ACLs are keyed by),
snapshots are encrypted by setting them in moto's backend (its snapshots are always plain),
FSx file systems get the VPC, lifecycle and network interface moto's records lack,
EKS clusters get the access config and VPC id moto does not keep, and the managed VPC CNI add-on
moto has no add-ons for (a state's ``vpc_cni`` version, served by DescribeAddon), and existing HyperPod
clusters keep the ImageId moto drops (preflight/local_sagemaker/ adds the cluster operations
moto lacks, status that settles after ``settle_seconds``, and seeded Service Quotas); an AMI with several volumes, an AMI owned by another
account and an AWS managed key are also set in moto's stores, which cannot make them; so is a bucket
of another account (a bucket's ``account``), and S3 answers as the owner of a bucket matters to it
(``ExpectedBucketOwner``, GetBucketPolicy only to the owner's account), which moto ignores. The state's
scheduler configs and cluster extensions are made through the API, then re-keyed to the ids it
names (``local_sagemaker.rekey``).

The state's ``organization`` (``id``, ``management_account``, ``ous`` of ``{name, parent}``, ``account_ou``,
``policies`` of ``{type: SCP|RCP, name, document, targets, replaces_full_access}``, ``readable``) is
made in moto's Organizations store of the management account; the state's account joins it as a
member under ``account_ou``. moto answers a member account's ListParents and ListPoliciesForTarget
from the member's own, empty store, where AWS answers a delegated administrator and refuses other
members: a readable organisation (the default) shares the management account's store with the
member, an unreadable one refuses those calls with AWS's AccessDeniedException.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import subprocess
import sys
import uuid

# Installed as package data (preflight/fixtures/), or the repository's fixtures/ in a checkout.
DEFAULT_STATE = next(path for path in (
    pathlib.Path(__file__).resolve().parent / "fixtures" / "account" / "hyperpod.json",
    pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "account" / "hyperpod.json") if path.exists())
# moto's default Kubernetes version (1.19) left EKS support years ago: a state's EKS cluster that
# names none (`kubernetes_version`) runs one HyperPod supports.
SEEDED_KUBERNETES_VERSION = "1.32"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class StateError(Exception):
    """An account-state file that cannot be used: named with the member at fault (a usage error)."""


def _read_state(path: pathlib.Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateError(f"{path}: no such account-state file") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise StateError(f"{path}: not a readable JSON account state ({err})") from None
    if not isinstance(state, dict):
        raise StateError(f"{path}: an account state is a JSON object")
    state.setdefault("base_dir", str(path.parent))
    return state


def _referenced_files(state: dict, shown: str) -> dict[str, str]:
    """The text of every file the state names (policies), by its name as written; a relative name is
    read from the state file's folder. A missing or unreadable one is a StateError naming its member."""
    base_dir = pathlib.Path(state.get("base_dir", DEFAULT_STATE.parent))
    named = [(f"caller_policies[{i}]", name) for i, name in enumerate(state.get("caller_policies", []))]
    for i, role in enumerate(state.get("roles", [])):
        named += [(f"roles[{i}].policies[{j}]", name) for j, name in enumerate(role.get("policies", []))]
    named += [(f"buckets[{i}].policy", bucket["policy"]) for i, bucket in enumerate(state.get("buckets", []))
              if bucket.get("policy")]
    organization = state.get("organization") or {}
    named += [(f"organization.policies[{i}].document", policy["document"])
              for i, policy in enumerate(organization.get("policies", [])) if isinstance(policy.get("document"), str)]
    texts = {}
    for member, name in named:
        if not isinstance(name, str):
            raise StateError(f"{shown}: {member}: expected a file name, found {type(name).__name__}")
        try:
            texts[name] = (base_dir / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StateError(f"{shown}: {member}: {name}: no such file (a relative name is read from the state "
                             f"file's folder, {base_dir})") from None
        except (OSError, UnicodeDecodeError) as err:
            raise StateError(f"{shown}: {member}: {name}: cannot be read ({err})") from None
    return texts


class LocalAws:
    """A seeded moto server: ``with LocalAws(state) as aws: aws.env`` gives the environment to use."""

    def __init__(self, state: dict | str | pathlib.Path = DEFAULT_STATE, settle_seconds: float | None = None):
        """``settle_seconds``: how long a cluster change stays Creating/Updating before InService
        (default: the state's ``settle_seconds``, else 0). A state that cannot be used raises
        StateError naming the file and member, before anything starts."""
        shown = "the account state" if isinstance(state, dict) else str(state)
        if not isinstance(state, dict):
            state = _read_state(pathlib.Path(state))
        for key in ("account", "region"):
            if not isinstance(state.get(key), str):
                raise StateError(f"{shown}: {key}: required, a string")
        self.state = state
        self.files = _referenced_files(state, shown)  # read now: a missing one fails before the server starts
        self.account = state["account"]
        self.region = state["region"]
        self.settle_seconds = state.get("settle_seconds", 0) if settle_seconds is None else settle_seconds

    def __enter__(self) -> "LocalAws":
        # moto reads its account id when imported; set it, and credentials, before that.
        os.environ["MOTO_ACCOUNT_ID"] = self.account
        for key, value in CREDENTIALS.items():
            os.environ.setdefault(key, value)
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request, and a traceback for each operation moto has not implemented
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **CREDENTIALS,
                    "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region,
                    "AWS_DEFAULT_REGION": self.region, "MOTO_ACCOUNT_ID": self.account}
        self.ids: dict[str, str] = {}
        from preflight import local_sagemaker

        local_sagemaker.install(self.settle_seconds, self.state.get("cluster_failures"))
        local_sagemaker.QUOTAS[(self.account, self.region)] = dict(self.state.get("cluster_quotas", {}))
        local_sagemaker.PLANS[(self.account, self.region)] = list(self.state.get("training_plans", []))
        _install_bucket_owners()
        _install_eks_addons()
        seed(self)
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


def _rekey(store: dict, old: str, new: str):
    record = store.pop(old)
    record.id = new
    store[new] = record
    return record


def seed(aws: LocalAws) -> None:
    from moto.ec2.models import ec2_backends
    from moto.eks.models import eks_backends
    from moto.kms.models import kms_backends
    from moto.sagemaker.models import sagemaker_backends

    state, account, region = aws.state, aws.account, aws.region
    ec2, iam, kms, s3 = (aws.client(s) for s in ("ec2", "iam", "kms", "s3"))
    ec2_store = ec2_backends[account][region]

    vpc = ec2.create_vpc(CidrBlock=state["vpc"]["cidr"])["Vpc"]["VpcId"]  # requests never name the VPC
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    for subnet in state.get("subnets", []):
        created = ec2.create_subnet(VpcId=vpc, CidrBlock=subnet["cidr"], AvailabilityZone=subnet["zone"])["Subnet"]
        _rekey(ec2_store.subnets[subnet["zone"]], created["SubnetId"], subnet["id"])
        if subnet.get("public"):
            table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["id"])
    nat = None
    for subnet in [s for s in state.get("subnets", []) if s.get("nat")]:  # 0.0.0.0/0 to a NAT gateway
        if nat is None:  # one, in a public subnet when there is one
            home = next((s["id"] for s in state["subnets"] if s.get("public")), subnet["id"])
            address = ec2.allocate_address(Domain="vpc")["AllocationId"]
            nat = ec2.create_nat_gateway(SubnetId=home, AllocationId=address)["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["id"])
    if state.get("vpc_endpoints"):  # gateway endpoints (s3, dynamodb) on every route table of the VPC
        tables = [t["RouteTableId"] for t in ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]]
        for service in state["vpc_endpoints"]:
            ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.{service}",
                                    VpcEndpointType="Gateway", RouteTableIds=tables)
    for group in state.get("security_groups", []):
        created = ec2.create_security_group(GroupName=group["name"], Description=group["name"], VpcId=vpc)["GroupId"]
        record = _rekey(ec2_store.groups[vpc], created, group["id"])
        record.group_id = group["id"] if hasattr(record, "group_id") else None
        ec2.revoke_security_group_egress(GroupId=group["id"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        if group.get("self_rules"):
            pair = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group["id"]}]}]
            ec2.authorize_security_group_ingress(GroupId=group["id"], IpPermissions=pair)
            ec2.authorize_security_group_egress(GroupId=group["id"], IpPermissions=pair)

    _seed_file_systems(aws, ec2, vpc)

    key_store = kms_backends[account][region].keys
    for key in state.get("keys", []):
        created = kms.create_key(Description=key["id"])["KeyMetadata"]["KeyId"]
        record = _rekey(key_store, created, key["id"])
        record.arn = f"arn:aws:kms:{region}:{account}:key/{key['id']}"
        record.key_manager = key.get("manager", "CUSTOMER")  # moto creates customer managed keys only
        for alias in key.get("aliases", []):
            kms.create_alias(AliasName=alias, TargetKeyId=key["id"])

    base_image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=base_image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for image in state.get("images", []):
        created = ec2.create_image(InstanceId=instance, Name=image["name"])["ImageId"]
        record = _rekey(ec2_store.amis, created, image["id"])
        if image.get("tags"):
            ec2.create_tags(Resources=[image["id"]], Tags=[{"Key": k, "Value": v} for k, v in image["tags"].items()])
        snapshot_id = ec2.describe_images(ImageIds=[image["id"]])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        if image.get("snapshot_tags"):
            ec2.create_tags(Resources=[snapshot_id], Tags=[{"Key": k, "Value": v} for k, v in image["snapshot_tags"].items()])
        if image.get("owner"):
            record.owner_id = image["owner"]
        if image.get("extra_volumes"):  # moto's AMIs have one volume: give this one more mappings
            extra = [ec2.create_snapshot(VolumeId=ec2.create_volume(Size=15, AvailabilityZone=region + "a")["VolumeId"])
                     ["SnapshotId"] for _ in range(image["extra_volumes"])]
            if image.get("snapshot_tags"):
                ec2.create_tags(Resources=extra, Tags=[{"Key": k, "Value": v} for k, v in image["snapshot_tags"].items()])
            mappings = type(record).block_device_mappings.fget(record) + [
                {"DeviceName": f"/dev/sd{chr(ord('b') + i)}", "Ebs": {"SnapshotId": s, "VolumeSize": 15}}
                for i, s in enumerate(extra)]
            record.__class__ = type("AmiWithVolumes", (type(record),), {"block_device_mappings": property(
                lambda self, mappings=mappings: mappings)})
        if image.get("encrypted_with"):  # moto's snapshots are always unencrypted
            snapshot = ec2_store.snapshots[snapshot_id]
            snapshot.encrypted = True
            snapshot.kms_key_id = f"arn:aws:kms:{region}:{account}:key/{image['encrypted_with']}"
        aws.ids[image["id"]] = record.id

    trust = {"sagemaker.amazonaws.com": "sagemaker.amazonaws.com"}
    for role in state.get("roles", []):
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Service": trust.get(role["trusts"], role["trusts"])}, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=role["name"], AssumeRolePolicyDocument=json.dumps(document),
                        Path=role.get("path", "/"))  # a service-linked role's path names its service
        for index, policy_file in enumerate(role.get("policies", [])):
            iam.put_role_policy(RoleName=role["name"], PolicyName=f"{role['name']}-{index}",
                                PolicyDocument=aws.files[policy_file])

    # moto answers GetCallerIdentity as user "moto": give that user the caller's policies.
    iam.create_user(UserName="moto")
    for index, policy_file in enumerate(state.get("caller_policies", [])):
        document = aws.files[policy_file]
        arn = iam.create_policy(PolicyName=f"caller-{index}", PolicyDocument=document)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="moto", PolicyArn=arn)

    for bucket in state.get("buckets", []):
        # us-east-1 is the one region whose buckets are created without a location constraint
        where = bucket.get("region", region)
        if bucket.get("account", account) != account:  # moto's API makes buckets in its one account
            _seed_foreign_bucket(aws, bucket, where)
            continue
        s3.create_bucket(Bucket=bucket["name"], **({} if where == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": where}}))
        if bucket.get("policy"):
            s3.put_bucket_policy(Bucket=bucket["name"], Policy=aws.files[bucket["policy"]])
        encrypted = bucket.get("kms_keys", {})  # object -> the id of the KMS key S3 encrypts it with
        for key, body in bucket.get("objects", {}).items():
            s3.put_object(Bucket=bucket["name"], Key=key, Body=body.encode(), **({
                "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": f"arn:aws:kms:{region}:{account}:key/{encrypted[key]}"}
                if key in encrypted else {}))

    eks = aws.client("eks")
    subnet_ids = [s["id"] for s in state.get("subnets", [])]
    for cluster in state.get("eks_clusters", []):
        eks.create_cluster(name=cluster["name"], roleArn=f"arn:aws:iam::{account}:role/eks",
                           resourcesVpcConfig={"subnetIds": subnet_ids},
                           version=cluster.get("kubernetes_version", SEEDED_KUBERNETES_VERSION))
        record = eks_backends[account][region].clusters[cluster["name"]]
        record.resources_vpc_config = {**record.resources_vpc_config,
                                       "vpcId": cluster.get("vpc_id", vpc)}  # moto keeps no vpcId
        record.access_config = {"authenticationMode": cluster["authentication_mode"]}  # nor the access config
        record.vpc_cni = cluster.get("vpc_cni")  # nor add-ons: absent, the VPC CNI is self-managed

    if state.get("organization"):
        _seed_organization(aws, state["organization"])

    sagemaker = aws.client("sagemaker")
    bucket = state["buckets"][0]["name"] if state.get("buckets") else "sagemaker-lifecycle"
    for cluster in state.get("hyperpod_clusters", []):
        groups = [{"InstanceGroupName": g["name"], "InstanceType": g.get("instance_type", "ml.c5.2xlarge"),
                   "InstanceCount": g.get("count", 1), "ThreadsPerCore": 1, "ImageId": g["image"],
                   "ExecutionRole": f"arn:aws:iam::{account}:role/HyperPodExecutionRole",
                   "LifeCycleConfig": {"SourceS3Uri": f"s3://{bucket}/{g.get('lifecycle', '')}",
                                       "OnCreate": g.get("on_create", "on_create_noop.sh")},
                   **({"MinInstanceCount": g["min_count"]} if "min_count" in g else {}),
                   **({"OverrideVpcConfig": g["override_vpc_config"]} if "override_vpc_config" in g else {})}
                  for g in cluster["groups"]]
        sagemaker.create_cluster(ClusterName=cluster["name"], InstanceGroups=groups,
                                 VpcConfig={"SecurityGroupIds": [state["security_groups"][0]["id"]],
                                            "Subnets": subnet_ids[:1]},
                                 **({"NodeProvisioningMode": cluster["provisioning_mode"]}
                                    if "provisioning_mode" in cluster else {}),
                                 **({"Orchestrator": {"Eks": {"ClusterArn": f"arn:aws:eks:{region}:{account}:cluster/"
                                                                          f"{cluster['eks']}"}}}
                                    if "eks" in cluster else {}))
        seeded = sagemaker_backends[account][region].clusters[cluster["name"]]
        seeded._settles_at = 0  # exists already: settled
        if "created" in cluster:  # a cluster made long ago (moto's is the time of the seeding)
            seeded.creation_time = _utc(cluster["created"]).replace(tzinfo=None)  # moto keeps naive UTC
        if any("node_status" in group for group in cluster["groups"]):
            from preflight.local_sagemaker.common import settle

            settle(seeded)  # InService first, then the nodes held in a status of their own
        for group in cluster["groups"]:
            for node in seeded.nodes.values():
                if node.instance_group_name != group["name"]:
                    continue
                if "node_status" in group:  # (DeepHealthCheckInProgress)
                    node.status = group["node_status"]
                if "software_updated" in group:
                    node.last_software_update = _utc(group["software_updated"])
        if cluster.get("status", "InService") != "InService":  # held in that status: it never settles
            seeded._settles_at, seeded.status = None, cluster["status"]
            seeded.failure_message = cluster.get("failure", "")
    from preflight.local_sagemaker import rekey

    for config in state.get("scheduler_configs", []):  # made through the API, then given the state's id
        cluster_arn = sagemaker.describe_cluster(ClusterName=config["cluster"])["ClusterArn"]
        made = sagemaker.create_cluster_scheduler_config(Name=config["name"], ClusterArn=cluster_arn,
                                                         SchedulerConfig=config["scheduler_config"])
        rekey(account, region, "scheduler_configs", made["ClusterSchedulerConfigId"], config["id"])
    for extension in state.get("cluster_extensions", []):
        cluster_arn = sagemaker.describe_cluster(ClusterName=extension["cluster"])["ClusterArn"]
        made = sagemaker.create_cluster_extension(ClusterArn=cluster_arn, ExtensionName=extension["name"],
                                                  ExtensionVersion=extension["version"])["ExtensionArn"]
        rekey(account, region, "extensions", made, made.rsplit("/", 1)[0] + "/" + extension["id"])


def _seed_foreign_bucket(aws: LocalAws, bucket: dict, region: str) -> None:
    """A bucket of another account (``account``), with its policy and objects, made in that
    account's store."""
    from moto.s3.models import s3_backends

    store = s3_backends[bucket["account"]]["aws"]
    store.create_bucket(bucket["name"], region)
    if bucket.get("policy"):
        store.put_bucket_policy(bucket["name"], aws.files[bucket["policy"]].encode())
    for key, body in bucket.get("objects", {}).items():
        store.put_object(bucket["name"], key, body.encode())


def _install_bucket_owners() -> None:
    """moto answers every account alike for every bucket; S3 does not, where the owner matters:
    a request whose ``ExpectedBucketOwner`` is not the bucket's account is refused with 403
    (Amazon S3 User Guide, "Verifying bucket ownership with bucket owner condition"; HeadBucket,
    the call preflight makes with it), and GetBucketPolicy is refused with 405 MethodNotAllowed
    to every account but the owner's (S3 API Reference, GetBucketPolicy)."""
    from moto.s3.exceptions import MethodNotAllowed
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    if getattr(S3Response, "owners_enforced", False):
        return
    head_bucket, get_bucket_policy = S3Response.head_bucket, S3Response.get_bucket_policy

    def owner(response) -> str | None:
        found = s3_backends.bucket_accounts.get(response.bucket_name)
        return found[1] if found else None

    def head(self):
        expected = self.headers.get("x-amz-expected-bucket-owner")
        if expected and owner(self) not in (None, expected):
            return 403, {}, ""
        return head_bucket(self)

    def policy(self):
        if owner(self) not in (None, self.current_account):
            raise MethodNotAllowed()
        return get_bucket_policy(self)
    S3Response.head_bucket, S3Response.get_bucket_policy, S3Response.owners_enforced = head, policy, True


def _install_eks_addons() -> None:
    """moto's EKS has no add-ons (no route, no DescribeAddon): serve DescribeAddon for the one
    add-on preflight reads, the VPC CNI, from the version seeded on moto's cluster record (its
    ``vpc_cni``), in the API's shape; any other add-on, a cluster without a managed VPC CNI or an
    unknown cluster is EKS's ResourceNotFoundException (404)."""
    from moto.core.responses import ActionResult
    from moto.eks import urls
    from moto.eks.exceptions import ResourceNotFoundException
    from moto.eks.responses import EKSResponse

    if hasattr(EKSResponse, "describe_addon"):
        return
    # Read when the server makes its EKS application, on the first EKS request (the seeding's).
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$"] = urls.response.dispatch

    def describe_addon(self):
        name, addon = self._get_param("clusterName") or self._get_param("name"), self._get_param("addonName")
        cluster = self.eks_backend.clusters.get(name)
        version = getattr(cluster, "vpc_cni", None) if addon == "vpc-cni" else None
        if version is None:
            raise ResourceNotFoundException(clusterName=name, nodegroupName=None, fargateProfileName=None,
                                            addonName=addon, message=f"No addon: {addon} found in cluster: {name}")
        return ActionResult({"addon": {
            "addonName": addon, "clusterName": name, "status": "ACTIVE", "addonVersion": version,
            "addonArn": f"{cluster.arn.replace(':cluster/', ':addon/')}/{addon}/{uuid.uuid5(uuid.NAMESPACE_URL, cluster.arn)}",
            "createdAt": cluster.created_at, "modifiedAt": cluster.created_at, "health": {"issues": []},
            "owner": "aws", "publisher": "eks"}})
    EKSResponse.describe_addon = describe_addon


def _seed_organization(aws: LocalAws, spec: dict) -> None:
    from moto.organizations import utils
    from moto.organizations.exceptions import OrganizationsClientError
    from moto.organizations.models import OrganizationsBackend, organizations_backends

    management = spec.get("management_account", aws.account)
    backend = organizations_backends[management]["aws"]
    backend.create_organization(region=aws.region, FeatureSet="ALL")
    if spec.get("id"):  # moto draws a random id; a state that names one gets it, before anything embeds it
        backend.org.id = spec["id"]
    targets = {"root": backend.org.root_id}
    for unit in spec.get("ous", []):
        targets[unit["name"]] = backend.create_organizational_unit(
            ParentId=targets[unit.get("parent", "root")], Name=unit["name"])["OrganizationalUnit"]["Id"]
    if aws.account != management:
        made = backend.create_account(AccountName="hyperpod", Email="hyperpod@example.com")["CreateAccountStatus"]
        member = next(a for a in backend.accounts if a.id == made["AccountId"])
        organizations_backends.master_accounts.pop(member.id)
        member.id = aws.account
        organizations_backends.master_accounts[aws.account] = (management, "aws")
        member.parent_id = targets[spec.get("account_ou", "root")]
        if spec.get("readable", True):
            organizations_backends[aws.account]["aws"] = backend
        else:
            class Refusing(OrganizationsBackend):
                def _refuse(self, *args, **kwargs):
                    raise OrganizationsClientError("AccessDeniedException",
                                                   "You don't have permissions to access this resource.")
                list_parents = list_policies_for_target = describe_policy = list_roots = _refuse
            organizations_backends[aws.account]["aws"].__class__ = Refusing
    targets["account"] = aws.account
    kinds = {"SCP": "SERVICE_CONTROL_POLICY", "RCP": "RESOURCE_CONTROL_POLICY"}
    for kind in sorted({policy["type"] for policy in spec.get("policies", [])}):  # as the organisation's admin does
        backend.enable_policy_type(RootId=targets["root"], PolicyType=kinds[kind])
    for policy in spec.get("policies", []):
        document = policy["document"]
        content = aws.files[document] if isinstance(document, str) else json.dumps(document)
        made = backend.create_policy(Content=content, Description=policy["name"], Name=policy["name"],
                                     Type=kinds[policy["type"]])["Policy"]["PolicySummary"]["Id"]
        for target in policy["targets"]:
            if policy.get("replaces_full_access"):  # an allow list in FullAWSAccess's place
                backend.detach_policy(PolicyId=utils.DEFAULT_SCP_POLICY_ID, TargetId=targets[target])
            backend.attach_policy(PolicyId=made, TargetId=targets[target])


def _seed_file_systems(aws: LocalAws, ec2, vpc: str) -> None:
    """The state's ``fsx_file_systems`` (``id``, ``type``, ``mount_name``, ``subnet``, optional
    ``security_groups``, ``lifecycle`` and ``vpc``): made through moto's FSx, then given the state's
    id and what moto's records lack (the VPC, the lifecycle, a network interface in the subnet
    carrying the security groups, as FSx gives each file system)."""
    from moto.fsx.models import fsx_backends

    fsx, store = aws.client("fsx"), fsx_backends[aws.account][aws.region].file_systems
    for spec in aws.state.get("fsx_file_systems", []):
        groups = spec.get("security_groups", [aws.state["security_groups"][0]["id"]])
        lustre = {"MountName": spec["mount_name"]} if spec.get("mount_name") else None
        made = fsx.create_file_system(FileSystemType=spec.get("type", "LUSTRE"), StorageCapacity=1200,
                                      SubnetIds=[spec["subnet"]], SecurityGroupIds=groups)["FileSystem"]["FileSystemId"]
        record = store.pop(made)
        record.file_system_id = spec["id"]
        record.dns_name = f"{spec['id']}.fsx.{aws.region}.amazonaws.com"
        record.resource_arn = f"arn:aws:fsx:{aws.region}:{aws.account}:file-system/{spec['id']}"
        record.lustre_configuration = lustre
        interface = ec2.create_network_interface(SubnetId=spec["subnet"], Groups=groups)["NetworkInterface"]
        extra = {"VpcId": spec.get("vpc", vpc), "Lifecycle": spec.get("lifecycle", "AVAILABLE"),
                 "NetworkInterfaceIds": [interface["NetworkInterfaceId"]]}
        record.__class__ = type("FileSystemAsFsxGivesIt", (type(record),), {
            "to_dict": lambda self, extra=extra, base=type(record).to_dict: {**base(self), **extra}})
        store[spec["id"]] = record


def _utc(written: str):
    """An ISO 8601 time of the state file, in UTC."""
    from datetime import datetime, timezone

    return datetime.fromisoformat(written.replace("Z", "+00:00")).astimezone(timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", default=str(DEFAULT_STATE), help="account-state file to seed")
    parser.add_argument("--settle", type=float, default=None, metavar="SECONDS",
                        help="how long a cluster change stays Creating/Updating before InService "
                             "(default: the state's settle_seconds, else 0)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run after --")
    try:
        local = LocalAws(args.state, args.settle)
    except StateError as err:
        parser.error(str(err))  # exit 2, named: never a traceback
    with local as aws:
        print(f"local AWS at {aws.endpoint} (account {aws.account}, {aws.region}), seeded from {args.state}",
              file=sys.stderr)
        return subprocess.run(command, env=aws.env).returncode


if __name__ == "__main__":
    sys.exit(main())
