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


# The node operations that start new instances: each runs its group's lifecycle scripts, as at creation.
PROVISIONS = ("batch-replace-cluster-nodes", "batch-add-cluster-nodes")


def lifecycle_configs(ctx) -> list[tuple[str, dict, str, str, str]]:
    """(group pointer, group, bucket, prefix, OnCreate key) of each group's lifecycle configuration:
    the request's groups, or for a node operation that starts new instances, the cluster's groups
    (DescribeCluster) those instances join, at the place of the first node or group naming each."""
    found = []
    groups = ctx.instance_groups(("InstanceGroups",)) if ctx.operation not in PROVISIONS else provisioned_groups(ctx)
    for pointer, group in groups:
        config = group.get("LifeCycleConfig")
        if not isinstance(config, dict):
            continue
        folder, script = s3_folder(config.get("SourceS3Uri")), real(config.get("OnCreate"))
        if folder and script:
            bucket, prefix = folder
            found.append((pointer, group, bucket, prefix, in_folder(prefix, script)))
    return found


def provisioned_groups(ctx) -> list[tuple[str, dict]]:
    """(pointer, DescribeCluster's group record) of each group of the cluster whose nodes a
    replacement replaces (NodeIds, NodeLogicalIds, read from ListClusterNodes) or which nodes are
    added to (NodesToAdd)."""
    name = cluster_name(ctx)
    cluster = ctx.account.cluster(name) if name else None
    if cluster is None:
        return []
    named: dict[str, str] = {}
    specs = ctx.value("/NodesToAdd")
    for index, spec in enumerate(specs if isinstance(specs, list) else []):
        if isinstance(spec, dict) and isinstance(spec.get("InstanceGroupName"), str):
            named.setdefault(spec["InstanceGroupName"], f"/NodesToAdd/{index}/InstanceGroupName")
    for member, key in (("NodeIds", "id"), ("NodeLogicalIds", "logical_id")):
        ids = ctx.value(f"/{member}")
        if isinstance(ids, list) and ids:
            groups = {getattr(node, key): node.group for node in ctx.account.cluster_nodes(name) or []}
            for index, node_id in enumerate(ids):
                if isinstance(node_id, str) and node_id in groups:
                    named.setdefault(groups[node_id], f"/{member}/{index}")
    return [(pointer, cluster.groups[group]) for group, pointer in named.items()
            if isinstance(cluster.groups.get(group), dict)]


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


_FSX_DNS = re.compile(r"(fs-[0-9a-f]{8,17})\.fsx\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\.?")


def fsx_named(body: bytes | None) -> tuple[str, str | None] | None:
    """(fsx_dns_name, fsx_mountname) a Slurm provisioning_parameters.json names, when it names a
    file system; None for a file that is not a JSON object (PF423 says so)."""
    try:
        parameters = json.loads(body) if body is not None else None
    except ValueError:
        return None
    if not isinstance(parameters, dict) or not real(parameters.get("fsx_dns_name")):
        return None
    mount = parameters.get("fsx_mountname")
    return parameters["fsx_dns_name"], mount if isinstance(mount, str) else None


def file_system_id(dns_name: str, region: str) -> str | None:
    """The id of the FSx file system an ``fs-....fsx.<region>.amazonaws.com`` name stands for, in
    the region checked; None for any other name (an address, a name of its own, another region)."""
    found = _FSX_DNS.fullmatch(dns_name.strip().lower())
    return found[1] if found and found[2] == region else None


def fsx_mounts(ctx) -> list[tuple[str, str, str, str, str | None, list[str]]]:
    """(pointer, provisioning_parameters.json's S3 URI, fsx_dns_name, file system id, fsx_mountname,
    the request's groups that run that lifecycle folder) of each file system a Slurm lifecycle of the
    request mounts, where its name is the region's FSx DNS name."""
    mounts = []
    for pointer, bucket, key in provisioning_parameters(ctx):
        named = fsx_named(ctx.account.small_object(bucket, key))
        found = file_system_id(named[0], ctx.account.region) if named else None
        if not found:
            continue
        groups = [group["InstanceGroupName"] for _, group, group_bucket, prefix, _ in lifecycle_configs(ctx)
                  if (group_bucket, in_folder(prefix, PROVISIONING_PARAMETERS)) == (bucket, key)
                  and isinstance(group.get("InstanceGroupName"), str)]
        mounts.append((pointer, f"s3://{bucket}/{key}", named[0], found, named[1], groups))
    return mounts


def controller_parameters(cluster) -> list[tuple[str, str]]:
    """(bucket, key) of the provisioning_parameters.json beside each group's lifecycle scripts in
    an existing cluster (DescribeCluster's LifeCycleConfig): where its Slurm controller is named."""
    configs = [record.get("LifeCycleConfig") for record in cluster.groups.values() if isinstance(record, dict)]
    folders = {s3_folder(config.get("SourceS3Uri")) for config in configs if isinstance(config, dict)}
    return sorted((bucket, in_folder(prefix, PROVISIONING_PARAMETERS)) for bucket, prefix in folders - {None})


# The files of its own folder an OnCreate script runs (`python3 -u lifecycle_script.py`, `bash x.sh`,
# `./x.sh`, also as the test of `if ! bash x.sh; then ... exit 1`) or names as a bare file
# (provisioning_parameters.json, as the published Slurm base configuration hands it to
# lifecycle_script.py). Names holding a variable are not judged.
_RUNS = re.compile(r"^\s*(?P<negated>if\s+!\s+)?(?:(?:sudo|exec|time|nohup)\s+|stdbuf\s+(?:-\S+\s+)*)*"
                   r"(?:(?:python3?|bash|sh)\s+(?:-\S+\s+)*)?"
                   r"[\"']?((?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:py|sh))[\"']?(?:\s|;|$)")
_BARE_PARAMETERS = re.compile(rf"(?<![\w./-]){re.escape(PROVISIONING_PARAMETERS)}\b")
_CHANGES_FOLDER = re.compile(r"(?:^|[\s;&|(])(?:cd|pushd)(?:\s|$)")
_STOPS_AT_FAILURE = re.compile(r"^\s*set\s+-[a-zA-Z]*e|^\s*set\s+-o\s+errexit|\A#!\S*\s+-[a-zA-Z]*e", re.M)
_EXITS_WITH_FAILURE = re.compile(r"^\s*exit\s+[1-9]")
_BRANCH_ENDS = re.compile(r"^\s*(?:fi|else|elif)\b")
SCRIPT = re.compile(r"(?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:py|sh)")  # a script named relative to its folder


def files_named_by(script: bytes | None) -> list[tuple[str, bool]]:
    """(file, whether the script fails without it) of each file of its lifecycle folder a shell
    script needs, read from its text: it fails when it stops at the first failed command
    (``set -e``) or when the file is run as the test of ``if ! ...; then`` whose branch exits with a
    failure. Nothing is judged in a script that changes folder; a file it tests for (``[ -f x.sh ]``),
    writes (``> x.sh``) or downloads (``aws s3 cp``, ``curl``, ``wget``), or runs with ``||`` or as
    another test, is not needed."""
    text = (script or b"").decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    if any(_CHANGES_FOLDER.search(line) for line in lines):
        return []
    stops = bool(_STOPS_AT_FAILURE.search(text))
    named: dict[str, bool] = {}
    for index, line in enumerate(lines):
        run = _RUNS.match(line)
        if run and "||" not in line:
            certain = stops
            if run["negated"]:
                branch = []
                for after in lines[index + 1:]:
                    if _BRANCH_ENDS.match(after):
                        break
                    branch.append(after)
                certain = any(_EXITS_WITH_FAILURE.match(after) for after in branch)
            elif line.lstrip().startswith("if "):  # the test of another kind of branch
                continue
            name = run.group(2).removeprefix("./")
            named[name] = named.get(name, False) or certain
        if _BARE_PARAMETERS.search(line):
            named.setdefault(PROVISIONING_PARAMETERS, stops)
    body = "\n".join(lines)
    return [(name, certain) for name, certain in named.items() if not re.search(
        rf"-[efrs]\s+[\"']?(?:\./)?{re.escape(name)}\b|>\s*[\"']?(?:\./)?{re.escape(name)}\b"
        rf"|(?:s3\s+(?:cp|sync)|curl|wget)\b[^\n]*{re.escape(name)}", body)]


# An `if` that chooses by the node's Slurm role or the workload manager: some node of the cluster
# takes each branch (the published lifecycle_script.py's `if node_type == SlurmNodeType.HEAD_NODE`).
_ROLE_TESTS = re.compile(r"node_type|workload_manager|__name__")
# Calls that run what they are given (subprocess.run, os.system, ExecuteBashScript), and calls that
# test for a file or write it.
_RUNNERS = re.compile(r"run|call|popen|system|exec|spawn|script|bash", re.I)
_TESTS = {"exists", "isfile", "access", "open", "remove", "unlink", "write_text"}


def files_run_by_python(source: bytes | None) -> list[tuple[str, bool]]:
    """(file, whether every node's run reaches it) of each file of its lifecycle folder a Python
    lifecycle script runs: a relative ``.sh`` or ``.py`` name handed as text or in a list to a call
    that runs it (``ExecuteBashScript("./utils/motd.sh")``, ``subprocess.run(["python3",
    "setup_sssd.py"])``, ``os.system``; not ``print``).
    A call inside an ``if`` (other than one choosing by the node's Slurm role), a loop or a ``try``
    may not be reached; a name the script tests for (``os.path.exists``) is not needed; a script
    that does not parse, or changes folder (``os.chdir``), is not judged."""
    import ast

    try:
        tree = ast.parse((source or b"").decode("utf-8", errors="replace"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    guarded, found = set(), {}

    def visit(node, reached: bool):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "chdir":
                raise LookupError  # relative names no longer mean the lifecycle folder
            texts = [a for arg in node.args for a in (arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg])
                     if isinstance(a, ast.Constant) and isinstance(a.value, str) and SCRIPT.fullmatch(a.value)]
            for text in texts:
                script = text.value.removeprefix("./")
                if name in _TESTS:
                    guarded.add(script)
                elif _RUNNERS.search(name):
                    found[script] = found.get(script, False) or reached
        if isinstance(node, ast.If):
            visit(node.test, reached)
            chosen = reached and bool(_ROLE_TESTS.search(ast.unparse(node.test)))
            for child in node.body + node.orelse:
                visit(child, chosen)
            return
        conditional = isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.Try, ast.ExceptHandler, ast.IfExp,
                                        ast.BoolOp, ast.comprehension, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, reached and not conditional)

    try:
        visit(tree, True)
    except (LookupError, RecursionError):
        return []
    return [(name, reached) for name, reached in found.items() if name not in guarded]


def lifecycle_chain(account: Account, bucket: str, prefix: str, key: str):
    """What an OnCreate script lying directly in its prefix needs, followed one step further:
    (the script that needs it, the file, whether the run fails without it, whether it exists) for
    each file the OnCreate script names, then for each file a script among those runs. Each file
    is read once; the OnCreate script's first 4 KB, the scripts it runs whole (up to
    SMALL_OBJECT_LIMIT), the files they run by their first bytes."""
    found = []
    for name, certain in files_named_by(account.object_head(bucket, key).head):
        path = in_folder(prefix, name)
        if name == PROVISIONING_PARAMETERS:
            found.append((key, name, certain, account.small_object(bucket, path) is not None))
            continue
        body = account.small_object(bucket, path)
        found.append((key, name, certain, body is not None))
        if body is None:
            continue
        inner = files_run_by_python(body) if name.endswith(".py") else files_named_by(body)
        for inner_name, inner_certain in inner:
            if inner_name != PROVISIONING_PARAMETERS:
                exists = account.object_head(bucket, in_folder(prefix, inner_name)).head is not None
                found.append((path, inner_name, certain and inner_certain, exists))
    return found


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


def emptied_groups(ctx) -> list[tuple[str, object]]:
    """(pointer, name) of each instance group an update scales to 0 nodes (PF463: a controller
    group keeps one)."""
    if ctx.operation != "update-cluster":
        return []
    return [(pointer, group.get("InstanceGroupName")) for pointer, group in ctx.instance_groups()
            if group.get("InstanceCount") == 0 and group.get("InstanceCount") is not False]


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


def prefetch(account: Account, contexts, caller_policies: bool = False, organization: bool = False) -> None:
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

    def script_and_its_key(bucket, key):  # PF427: the KMS key the script is encrypted with
        head = account.object_head(bucket, key)
        if head.kms_key:
            key_and_policy(head.kms_key)

    def own_bucket_policy(bucket):  # PF422: another account's bucket policy is refused to this one
        if account.bucket_in_caller_account(bucket) is not False:  # known before the object is read
            account.bucket_policy(bucket)

    def script_and_its_files(bucket, prefix, key):  # PF420: the files the OnCreate script needs, and theirs
        attempt(script_and_its_key, bucket, key)
        lifecycle_chain(account, bucket, prefix, key)

    def parameters_and_file_system(bucket, key):  # PF426, PF435: the file system the lifecycle mounts
        named = fsx_named(account.small_object(bucket, key))
        found = file_system_id(named[0], account.region) if named else None
        system = account.file_system(found) if found else None
        if system:
            account.subnets(list(system.subnets))
            groups = account.interface_groups(list(system.network_interfaces))
            account.security_groups(sorted({g for ids in groups.values() if ids for g in ids}))

    def new_nodes_lifecycle(ctx):  # PF420, PF421, PF424: the lifecycle the new instances of a node operation run
        for _, _, bucket, _, key in lifecycle_configs(ctx):
            attempt(account.object_head, bucket, key)
        for _, bucket, prefix, key in on_create_folders(ctx):
            attempt(lifecycle_chain, account, bucket, prefix, key)

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
        if ctx.operation in PROVISIONS:  # known once the cluster and its nodes are read
            jobs.append((new_nodes_lifecycle, ctx))
        else:
            for _, group, bucket, _, key in lifecycle_configs(ctx):
                jobs += [(script_and_its_key, bucket, key), (own_bucket_policy, bucket)]
                if parse_arn(group.get("ExecutionRole")):  # PF422 judges what the role may read
                    jobs.append((account.identity_policies, group["ExecutionRole"]))
            jobs += [(parameters_and_file_system, bucket, key) for _, bucket, key in provisioning_parameters(ctx)]
            jobs += [(script_and_its_files, bucket, prefix, key) for _, bucket, prefix, key in on_create_folders(ctx)]
        found_subnets, found_groups = network_ids(ctx)
        subnets.update(found_subnets)
        groups.update(found_groups)
        eks = eks_name(ctx)
        if eks:
            jobs.append((account.eks_cluster, eks[0]))
            if ctx.operation == "create-cluster":  # PF441: whether another HyperPod cluster holds it; PF443: its VPC CNI
                jobs += [(account.clusters_on_eks, ctx.value(eks[1])), (account.vpc_cni_version, eks[0])]
        if ctx.operation == "create-cluster":  # PF330: whether the creation must make the service-linked role
            jobs.append((account.service_linked_role_exists,))
        name = cluster_name(ctx)
        if name:  # changes need it; a create must not find it
            controller = ctx.operation in CONTROLLER_CHANGES and (ctx.operation != "update-cluster"
                                                                  or ctx.value("/InstanceGroupsToDelete")
                                                                  or emptied_groups(ctx))
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
    if types and any(ctx.operation in ("create-cluster", "update-cluster") for ctx in contexts):  # PF466
        jobs.append((account.training_plans,))
    if types:
        jobs.append((account.cluster_quotas,))
    chains = [(account.caller_policies,) if caller_policies else (account.caller,)]  # the longest first
    if organization:  # the path to the root, then each level's policies
        chains.append((organization_chain, account))
    if groups:
        chains.append((security_groups_and_types, tuple(sorted(groups)), tuple(sorted(types))))
    if images:
        chains.append((images_and_snapshots, tuple(sorted(images))))
    if subnets:  # and their route tables
        chains.append((subnets_and_endpoints, tuple(sorted(subnets))))
    chains += [job for job in jobs if job[0] in (account.identity_policies, key_and_policy, script_and_its_files,
                                                 scheduler_config_and_cluster, cluster_and_controller,
                                                 account.clusters_on_eks, parameters_and_file_system,
                                                 new_nodes_lifecycle, script_and_its_key)]
    scripts = {(job[1], job[3]) for job in chains if job[0] == script_and_its_files}  # their chain reads them
    chains = [job for job in chains if not (job[0] == script_and_its_key and job[1:] in scripts)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda job: attempt(*job), dict.fromkeys(chains + jobs)))


def organization_chain(account: Account) -> None:
    account.organization_policies(account.caller().account)


def prepare(account: Account, contexts, policies, perimeter=None):
    """Prefetch what the requests name; without given policies, read the caller's; without given
    SCPs and RCPs, read the organisation's. Returns the policy set to evaluate, the perimeter
    around it, and the notes: (what could not be verified or was not read, its severity; None:
    the rule's own)."""
    want_caller = policies is None and bool(contexts)
    want_organization = bool(contexts) and not (perimeter and (perimeter.scps or perimeter.rcps))
    prefetch(account, contexts, caller_policies=want_caller, organization=want_organization)
    notes = []
    if want_caller:
        policies, failure = caller_policy_set(account)
        notes += [(failure, None)] if failure else []
    given = perimeter.organization_id if perimeter else None
    if want_organization:
        perimeter, note = organization_perimeter(account, perimeter)
        notes += [note] if note else []
    elif contexts:  # the SCPs and RCPs given as files: the organisation's id is still read
        perimeter = read_organization(account, perimeter)
    if contexts:
        read = perimeter.organization_id if perimeter else None
        if given and read != given:
            notes.append((f"--organization {given} is not the caller's organisation: AWS Organizations names "
                          + (read if read else "none"), None))
    return policies, perimeter, notes


def organization_perimeter(account: Account, given):
    """The perimeter with the organisation's SCPs and RCPs as read from AWS Organizations (and the
    given session policy), and a note when they could not be read: info when the caller may not
    read them (a member account), a warning otherwise. An account in no organisation has none.
    The organisation's id is read (DescribeOrganization, which member accounts may call too)
    rather than taken from --organization (``prepare`` says when they differ)."""
    from preflight.findings import Severity
    from preflight.iam import perimeter
    from preflight.iam.policy import PolicyError

    try:
        caller = account.caller()
        found = account.organization_policies(caller.account)
    except LookupFailed as failure:
        denied = failure.reason.startswith("access denied")
        note = (f"the organisation's SCPs and RCPs were not read ({failure.lookup} failed: {failure.reason})"
                + ("; only the management account and a delegated administrator may read them: give them "
                   "with --scp and --rcp" if denied else ""), Severity.INFO if denied else None)
        return read_organization(account, given), note
    if found is None:  # verified: no SCP or RCP applies, nothing to say
        return _in_organization(given, None), None

    def levels(attached):
        return [perimeter.Level(f"organizations:{target}", tuple(
            perimeter.policy_root(documents.parse(f"organizations:{target}/{name}.json", content))
            for name, content in policies)) for target, policies in attached]
    try:
        read = perimeter.Perimeter(levels(found.scps), levels(found.rcps), given.session if given else None,
                                   found.management_account == caller.account, found.id)
    except PolicyError as err:
        return _in_organization(given, found.id), (f"the organisation's policies could not be used: {err}", None)
    return read, None


def read_organization(account: Account, given):
    """The given perimeter in the caller's organisation as DescribeOrganization names it; where
    that cannot be read, --organization (if given) stands."""
    try:
        return _in_organization(given, account.organization_id())
    except LookupFailed:
        return given


def _in_organization(given, organization: str | None):
    """The given perimeter (or none) in the organisation AWS Organizations names (None: in none)."""
    from preflight.iam.perimeter import Perimeter

    if given is None:
        return Perimeter(organization_id=organization) if organization else None
    return given.in_organization(organization)


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
