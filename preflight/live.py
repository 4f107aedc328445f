"""Live checks' preparation: read everything the requests name from the account, concurrently and
once, before the live rules look at it; and the caller's own policies for the IAM analysis."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

from preflight import documents
from preflight.account import Account
from preflight.lookup import LookupFailed
from preflight.values import parse_arn, real, strings

# The operations that act on an existing cluster, which must exist; the scheduler-config updates
# and deletions name only their config, whose cluster is read from it (DescribeClusterSchedulerConfig).
SCHEDULER_CONFIG_CHANGES = ("update-cluster-scheduler-config", "delete-cluster-scheduler-config")
EXTENSION_CHANGES = ("update-cluster-extension", "delete-cluster-extension")
UPDATES = ("update-cluster", "update-cluster-software", "delete-cluster", "batch-delete-cluster-nodes",
           "batch-add-cluster-nodes", "batch-reboot-cluster-nodes", "batch-replace-cluster-nodes",
           "move-cluster-nodes", "attach-cluster-node-volume", "detach-cluster-node-volume",
           "attach-cluster-node-network-interface", "start-cluster-health-check",
           "create-cluster-scheduler-config", "create-cluster-extension") + EXTENSION_CHANGES + SCHEDULER_CONFIG_CHANGES
# The changes that may remove a Slurm controller (PF463 reads which group runs it).
CONTROLLER_CHANGES = ("batch-delete-cluster-nodes", "batch-replace-cluster-nodes", "update-cluster")
WORKERS = 16  # concurrent lookups in the prefetch (bench/ compares with 1)


PROVISIONING_PARAMETERS = "provisioning_parameters.json"  # the Slurm lifecycle's own configuration


def lifecycle_configs(ctx) -> list[tuple[str, dict, str, str, str]]:
    """(group pointer, group, bucket, prefix, OnCreate key) of each group's lifecycle configuration."""
    found = []
    for pointer, group in ctx.instance_groups(("InstanceGroups",)):
        config = group.get("LifeCycleConfig")
        if not isinstance(config, dict):
            continue
        folder, script = s3_folder(config.get("SourceS3Uri")), real(config.get("OnCreate"))
        if folder and script:
            bucket, prefix = folder
            found.append((pointer, group, bucket, prefix, in_folder(prefix, script)))
    return found


def s3_folder(uri) -> tuple[str, str] | None:
    """(bucket, prefix without its slashes) of an ``s3://`` lifecycle URI; None for anything else."""
    uri = real(uri)
    if not uri or not uri.startswith("s3://"):
        return None
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    return bucket, prefix.strip("/")


def in_folder(prefix: str, name: str) -> str:
    """The key of a file named ``name`` in a lifecycle folder."""
    return f"{prefix}/{name}" if prefix else name


def lifecycle_objects(ctx) -> list[tuple[str, str, str]]:
    """(pointer, bucket, key) of each group's OnCreate script."""
    return [(f"{pointer}/LifeCycleConfig/OnCreate", bucket, key) for pointer, _, bucket, _, key in lifecycle_configs(ctx)]


def provisioning_parameters(ctx) -> list[tuple[str, str, str]]:
    """(pointer, bucket, key) of the Slurm provisioning_parameters.json beside each distinct
    lifecycle prefix (an EKS-orchestrated request has none)."""
    if eks_name(ctx):
        return []
    found = {}
    for pointer, _, bucket, prefix, _ in lifecycle_configs(ctx):
        found.setdefault((bucket, in_folder(prefix, PROVISIONING_PARAMETERS)), f"{pointer}/LifeCycleConfig/SourceS3Uri")
    return [(pointer, bucket, key) for (bucket, key), pointer in found.items()]


def controller_parameters(cluster) -> list[tuple[str, str]]:
    """(bucket, key) of the provisioning_parameters.json beside each group's lifecycle scripts in
    an existing cluster (DescribeCluster's LifeCycleConfig): where its Slurm controller is named."""
    configs = [record.get("LifeCycleConfig") for record in cluster.groups.values() if isinstance(record, dict)]
    folders = {s3_folder(config.get("SourceS3Uri")) for config in configs if isinstance(config, dict)}
    return sorted((bucket, in_folder(prefix, PROVISIONING_PARAMETERS)) for bucket, prefix in folders - {None})


# The files of its own folder an OnCreate script runs (`python3 -u lifecycle_script.py`, `bash x.sh`,
# `./x.sh`) or names as a bare file (provisioning_parameters.json, as the published Slurm base
# configuration hands it to lifecycle_script.py). Names holding a variable are not judged.
_RUNS = re.compile(r"^\s*(?:(?:sudo|exec|time)\s+)*(?:(?:python3?|bash|sh)\s+(?:-\S+\s+)*)?"
                   r"[\"']?((?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:py|sh))[\"']?(?:\s|;|$)")
_BARE_PARAMETERS = re.compile(rf"(?<![\w./-]){re.escape(PROVISIONING_PARAMETERS)}\b")
_CHANGES_FOLDER = re.compile(r"(?:^|[\s;&|(])(?:cd|pushd)(?:\s|$)")
_STOPS_AT_FAILURE = re.compile(r"^\s*set\s+-[a-zA-Z]*e|^\s*set\s+-o\s+errexit|\A#!\S*\s+-[a-zA-Z]*e", re.M)


def files_named_by(script: bytes | None) -> tuple[list[str], bool]:
    """(the files of its lifecycle folder an OnCreate script needs, whether it stops at the first
    failed command: ``set -e``), read from the script's first bytes. Nothing is judged in a script
    that changes folder; a file it tests for (``[ -f x.sh ]``), writes (``> x.sh``) or downloads
    (``aws s3 cp``, ``curl``, ``wget``), or runs with ``||``, is not needed."""
    text = (script or b"").decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    if any(_CHANGES_FOLDER.search(line) for line in lines):
        return [], False
    named = []
    for line in lines:
        run = _RUNS.match(line)
        if run and "||" not in line:
            named.append(run.group(1).removeprefix("./"))
        if _BARE_PARAMETERS.search(line):
            named.append(PROVISIONING_PARAMETERS)
    body = "\n".join(lines)
    needed = [name for name in dict.fromkeys(named) if not re.search(
        rf"-[efrs]\s+[\"']?(?:\./)?{re.escape(name)}\b|>\s*[\"']?(?:\./)?{re.escape(name)}\b"
        rf"|(?:s3\s+(?:cp|sync)|curl|wget)\b[^\n]*{re.escape(name)}", body)]
    return needed, bool(_STOPS_AT_FAILURE.search(text))


def on_create_folders(ctx) -> list[tuple[str, str, str, str]]:
    """(OnCreate pointer, bucket, prefix, OnCreate key) of each distinct OnCreate script that lies
    directly in its lifecycle prefix: the folder its relative names are read from."""
    found = {}
    for pointer, _, bucket, prefix, key in lifecycle_configs(ctx):
        if key.rpartition("/")[0] == prefix:
            found.setdefault((bucket, key), (f"{pointer}/LifeCycleConfig/OnCreate", prefix))
    return [(pointer, bucket, prefix, key) for (bucket, key), (pointer, prefix) in found.items()]


def network_ids(ctx) -> tuple[dict[str, str], dict[str, str]]:
    """(subnet id -> pointer, security group id -> pointer) across VpcConfig and OverrideVpcConfig."""
    subnets: dict[str, str] = {}
    groups: dict[str, str] = {}
    configs = [("/VpcConfig", ctx.value("/VpcConfig"))]
    configs += [(f"{p}/OverrideVpcConfig", g.get("OverrideVpcConfig")) for p, g in ctx.instance_groups()]
    for base, config in configs:
        if not isinstance(config, dict):
            continue
        for key, target in (("Subnets", subnets), ("SecurityGroupIds", groups)):
            values = config.get(key)
            for index, value in enumerate(values if isinstance(values, list) else []):
                if real(value):
                    target.setdefault(value, f"{base}/{key}/{index}")
    return subnets, groups


def cluster_name(ctx) -> str | None:
    """The cluster the request acts on, by name or ARN (operations.cluster_of), when usable."""
    from preflight.operations import cluster_of

    return real(cluster_of(ctx.request)) or None


def scheduler_config_id(ctx) -> str | None:
    """The scheduler config an update or deletion names (the only thing it names)."""
    return real(ctx.value("/ClusterSchedulerConfigId")) or None if ctx.operation in SCHEDULER_CONFIG_CHANGES else None


def extension_arns(ctx) -> tuple[str, str] | None:
    """(cluster ARN, extension ARN) an extension update or deletion names."""
    cluster, arn = real(ctx.value("/ClusterArn")), real(ctx.value("/ExtensionArn"))
    return (cluster, arn) if ctx.operation in EXTENSION_CHANGES and cluster and arn else None


def foreign_region(ctx) -> tuple[str, str] | None:
    """(region, pointer) of the first ARN in the request that names another region than the one
    checked, or None."""
    if "foreign-region" not in ctx._cache:
        written = getattr(ctx.document, "region", None)  # a command line's --region
        if written and written != ctx.account.region:
            ctx._cache["foreign-region"] = (written, "")
            return ctx._cache["foreign-region"]
        try:
            found = next(((arn.region, pointer) for pointer, value in strings(ctx.request)
                          if real(value) and (arn := parse_arn(value)) and arn.region
                          and arn.region != ctx.account.region), None)
        except RecursionError:  # PF001 reports a document nested too deeply
            found = None
        ctx._cache["foreign-region"] = found
    return ctx._cache["foreign-region"]


def eks_name(ctx) -> tuple[str, str] | None:
    orchestrator = ctx.value("/Orchestrator")
    eks = orchestrator.get("Eks") if isinstance(orchestrator, dict) else None
    arn = parse_arn(eks.get("ClusterArn")) if isinstance(eks, dict) else None
    return (arn.resource.partition("/")[2], "/Orchestrator/Eks/ClusterArn") if arn else None


def prefetch(account: Account, contexts, caller_policies: bool = False) -> None:
    """Read, concurrently, what every request names; failures are kept for the rules to report.
    Chains (image -> snapshots -> key, key -> key policy, caller -> its policies) run as one job
    each, so the whole read takes about as many round trips as the longest chain: the chains are
    started first, and a read several requests name is one job (a repeat would hold a worker
    waiting for the first one's answer while the reads queued behind it have not started)."""
    def attempt(call, *args):
        try:
            call(*args)
        except LookupFailed:
            pass

    def images_and_snapshots(ids):
        found = account.images(ids)
        snapshot_ids = sorted({s for image in found.values() if image for s in image.snapshot_ids})
        for snapshot in (account.snapshots(snapshot_ids) if snapshot_ids else {}).values():
            if snapshot and snapshot.kms_key_id:  # the AMI's key, compared with the root volume's
                account.key(snapshot.kms_key_id)

    def script_and_its_files(bucket, prefix, key):  # PF420: the files the OnCreate script needs
        for name in files_named_by(account.object_head(bucket, key).head)[0]:
            read = account.small_object if name == PROVISIONING_PARAMETERS else account.object_head
            attempt(read, bucket, in_folder(prefix, name))

    def key_and_policy(reference):
        key = account.key(reference)
        if key and key.manager == "CUSTOMER":
            account.key_policy(key.arn)

    def cluster_and_controller(name):
        cluster = account.cluster(name)
        if cluster and cluster.orchestrator != "Eks":
            for bucket, key in controller_parameters(cluster):
                attempt(account.small_object, bucket, key)

    def security_groups_and_types(ids, instance_types):  # PF432: EFA matters where a group lacks its rules
        found = account.security_groups(ids)
        if instance_types and any(g and not (g.self_ingress and g.self_egress) for g in found.values()):
            account.instance_types(instance_types)

    def subnets_and_endpoints(ids):  # PF434: a subnet without a default route may still reach S3
        for vpc in sorted({s.vpc for s in account.subnets(ids).values() if s and not s.egress}):
            account.vpc_endpoints(vpc)

    def scheduler_config_and_cluster(identifier):  # the plan names the config's cluster
        config = account.scheduler_config(identifier)
        if config and config.cluster_arn:
            account.cluster(config.cluster_arn)
            account.cluster_nodes(config.cluster_arn)

    jobs, images, subnets, groups, types = [], set(), set(), set(), set()
    for ctx in contexts:
        if foreign_region(ctx):  # PF402 says so; nothing of it is looked up in this region
            continue
        images.update(ctx.custom_images())
        jobs += [(account.role, role) for _, role in ctx.roles() if parse_arn(role)]
        for pointer, group in ctx.instance_groups():
            if real(group.get("InstanceType")):
                types.add(group["InstanceType"])
            if parse_arn(group.get("TrainingPlanArn")):  # PF464
                jobs.append((account.training_plan, group["TrainingPlanArn"]))
            keyed = [config["VolumeKmsKeyId"] for _, config in ctx.ebs_configs(pointer, group)
                     if real(config.get("VolumeKmsKeyId"))]
            jobs += [(key_and_policy, reference) for reference in keyed]
            if keyed and parse_arn(group.get("ExecutionRole")):  # PF217 reads the role's own policies
                jobs.append((account.identity_policies, group["ExecutionRole"]))
        for _, group, bucket, _, key in lifecycle_configs(ctx):
            jobs += [(account.object_head, bucket, key), (account.bucket_policy, bucket)]
            if parse_arn(group.get("ExecutionRole")):  # PF422 judges what the role may read
                jobs.append((account.identity_policies, group["ExecutionRole"]))
        jobs += [(account.small_object, bucket, key) for _, bucket, key in provisioning_parameters(ctx)]
        jobs += [(script_and_its_files, bucket, prefix, key) for _, bucket, prefix, key in on_create_folders(ctx)]
        found_subnets, found_groups = network_ids(ctx)
        subnets.update(found_subnets)
        groups.update(found_groups)
        eks = eks_name(ctx)
        if eks:
            jobs.append((account.eks_cluster, eks[0]))
            if ctx.operation == "create-cluster":  # PF441: whether another HyperPod cluster holds it
                jobs.append((account.clusters_on_eks, ctx.value(eks[1])))
        if ctx.operation == "create-cluster":  # PF330: whether the creation must make the service-linked role
            jobs.append((account.service_linked_role_exists,))
        name = cluster_name(ctx)
        if name:  # changes need it; a create must not find it
            controller = ctx.operation in CONTROLLER_CHANGES and (ctx.operation != "update-cluster"
                                                                  or ctx.value("/InstanceGroupsToDelete"))
            # PF463 reads which group runs the Slurm controller, beside the cluster
            jobs.append((cluster_and_controller, name) if controller else (account.cluster, name))
            if ctx.operation in UPDATES:  # the plan and the node checks
                jobs.append((account.cluster_nodes, name))
        if scheduler_config_id(ctx):
            jobs.append((scheduler_config_and_cluster, scheduler_config_id(ctx)))
        if extension_arns(ctx):
            jobs.append((account.cluster_extension, *extension_arns(ctx)))
        target = real(ctx.value("/TargetClusterArn")) if ctx.operation == "move-cluster-nodes" else None
        if target:  # PF472 reads the cluster the nodes move to
            jobs.append((account.cluster, target))
    jobs += [(account.offered_zones, t) for t in sorted(types)]
    if types:
        jobs.append((account.cluster_quotas,))
    chains = [(account.caller_policies,) if caller_policies else (account.caller,)]  # the longest first
    if groups:
        chains.append((security_groups_and_types, tuple(sorted(groups)), tuple(sorted(types))))
    if images:
        chains.append((images_and_snapshots, tuple(sorted(images))))
    if subnets:  # and their route tables
        chains.append((subnets_and_endpoints, tuple(sorted(subnets))))
    chains += [job for job in jobs if job[0] in (account.identity_policies, key_and_policy, script_and_its_files,
                                                 scheduler_config_and_cluster, cluster_and_controller,
                                                 account.clusters_on_eks)]
    scripts = {(job[1], job[3]) for job in chains if job[0] == script_and_its_files}  # their chain reads them
    jobs = [job for job in jobs if not (job[0] == account.object_head and job[1:] in scripts)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda job: attempt(*job), dict.fromkeys(chains + jobs)))


def prepare(account: Account, contexts, policies):
    """Prefetch what the requests name; without given policies, read the caller's. Returns the
    policy set to evaluate and the notes on what could not be verified."""
    want_caller = policies is None and bool(contexts)
    prefetch(account, contexts, caller_policies=want_caller)
    if not want_caller:
        return policies, []
    policies, failure = caller_policy_set(account)
    return policies, [failure] if failure else []


def caller_policy_set(account: Account):
    """(the caller's identity policies read from IAM as a policy set, None) or, when they cannot be
    read, (None, what could not be verified)."""
    try:
        caller = account.caller()
        details = account.caller_policies()
    except LookupFailed as failure:
        return None, f"the caller's permissions were not verified: {failure.lookup} failed: {failure.reason}"
    return policy_set_of(caller.arn, details), None


def policy_set_of(arn: str, details: dict):
    """The policy set of a principal from its authorization details as read from IAM."""
    from preflight.iam import policy as iam_policy

    document = documents.parse(f"iam:{arn}.json", json.dumps(details, indent=1))
    return iam_policy.collect([document], arn)
