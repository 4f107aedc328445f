"""The files of a folder that ``preflight check FOLDER`` reads, told apart by name and content.

Chosen: request files named for an operation (``prod.create-cluster.json``) or matched by the
configuration's ``[operations]``; CloudFormation templates and Terraform plans that hold a
HyperPod cluster; Terraform sources; shell scripts, Markdown and CI workflows that hold an
``aws ... sagemaker`` command. Left out: what git ignores (``.gitignore``, read by git itself
when the folder is in a work tree), hidden folders, the configuration's ``exclude`` globs, JSON
Schemas, and files larger than the size limit.
"""

from __future__ import annotations

import os
import subprocess

from preflight import operations
from preflight.commandline import sources

REQUEST_SUFFIXES = (".json", ".yaml", ".yml")
TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
TERRAFORM_SUFFIXES = (".tf", ".tf.json")
# Folders that hold others' files: dependencies, environments, caches.
NOT_OURS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
# What a template or plan holding a HyperPod cluster must contain (read before parsing).
CLUSTER_RESOURCES = ("AWS::SageMaker::Cluster", "sagemaker_cluster")


def files_in(folder: str, config, max_bytes: int) -> list[str]:
    """The files under ``folder`` that preflight reads, sorted."""
    chosen = []
    for path in _candidates(folder):
        if any(config.matches_file(pattern, path) for pattern in config.exclude):
            continue
        if _chosen(path, config, max_bytes):
            chosen.append(path)
    return sorted(chosen)


def _candidates(folder: str) -> list[str]:
    """Every file under ``folder`` that git does not ignore (all files outside a work tree)."""
    try:
        listed = subprocess.run(["git", "-C", folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        listed = None
    if listed is not None:
        paths = [os.path.join(folder, name) for name in os.fsdecode(listed).split("\0") if name]
        return [path for path in paths if not _hidden(os.path.relpath(path, folder)) and os.path.isfile(path)]
    found = []
    for root, folders, names in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith(".") and name not in NOT_OURS)
        found.extend(os.path.join(root, name) for name in names)
    return found


def _hidden(relative: str) -> bool:
    parts = relative.replace(os.sep, "/").split("/")
    return any(part.startswith(".") or part in NOT_OURS for part in parts[:-1]) and not _workflow_folder(parts)


def _workflow_folder(parts: list[str]) -> bool:
    return len(parts) >= 3 and parts[-3:-1] == [".github", "workflows"]


def _chosen(path: str, config, max_bytes: int) -> bool:
    name = os.path.basename(path).lower()
    if name.endswith(".schema.json"):
        return False
    if name.endswith(REQUEST_SUFFIXES) and (operations.infer(name, exact=True) or config.operation_for(path)):
        return True
    reads_commands = sources.may_hold_commands(path)
    if not (reads_commands or name.endswith(TEMPLATE_SUFFIXES + TERRAFORM_SUFFIXES)):
        return False
    try:
        if os.path.getsize(path) > max_bytes:
            return False
        with open(path, "rb") as handle:
            text = handle.read(max_bytes).decode("utf-8", "replace")
    except OSError:
        return False
    if reads_commands and sources.kind(path, text):
        return sources.MARKER in text
    return name.endswith(TEMPLATE_SUFFIXES + TERRAFORM_SUFFIXES) and any(marker in text for marker in CLUSTER_RESOURCES)
