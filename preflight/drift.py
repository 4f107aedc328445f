"""The bundled AWS data is a snapshot; what may be newer than it.

A botocore installed next to preflight (the AWS CLI v1 or the ``live`` extra bring one) is
located and its service models read as files: botocore is never imported on the offline path.
When its SageMaker model is newer than the one the bundled schemas came from, requests are
validated against it instead; an IAM action that a SageMaker (or, installed, any) service model
has as an operation is reported as the catalog being behind, not as unknown. Nothing here runs on
a clean request: only a finding that stale data could explain looks further.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import pathlib
import re
from typing import NamedTuple

from preflight import model, schema

REFRESH = "pip install -U botocore where preflight runs (its newer model is then read), or a newer preflight"


class Installed(NamedTuple):
    version: str
    package: pathlib.Path

    @property
    def model_path(self) -> pathlib.Path:
        return self.package.joinpath(*model.MODEL_PATH)


@functools.lru_cache(maxsize=None)
def installed_botocore() -> Installed | None:
    """The installed botocore's version and directory, or None."""
    try:
        spec = importlib.util.find_spec("botocore")  # locates the package; does not import it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations or not spec.origin:
        return None
    package = pathlib.Path(spec.origin).parent
    try:
        found = re.search(r"""^__version__\s*=\s*['"]([0-9][0-9.]*)['"]""",
                          (package / "__init__.py").read_text(errors="replace"), re.M)
    except OSError:
        return None
    return Installed(found.group(1), package) if found else None


@functools.lru_cache(maxsize=None)
def newer_botocore() -> Installed | None:
    """The installed botocore when its SageMaker model is newer than the bundled one."""
    installed = installed_botocore()
    if installed is None or not installed.model_path.is_file():
        return None
    if model.version_key(installed.version) <= model.version_key(schema.source()["botocore"]):
        return None
    return installed


@functools.lru_cache(maxsize=None)
def _newer_model() -> dict | None:
    installed = newer_botocore()
    try:
        return model.read(installed.model_path) if installed else None
    except (OSError, ValueError, EOFError):
        return None  # an unreadable model is as good as none: the bundled one stands


@functools.lru_cache(maxsize=None)
def newer_schema(api_name: str) -> dict | None:
    """The operation's schema from the newer installed model, or None."""
    data = _newer_model()
    if data is None or api_name not in data.get("operations", {}):
        return None
    try:
        return model.schema(data, api_name)
    except (model.ModelError, KeyError, TypeError):
        return None


def newer_note() -> str:
    return f"checked against the SageMaker model of the installed botocore {newer_botocore().version}"


def data_note() -> str:
    """How current the bundled model is, for a finding that a newer model might not make."""
    source = schema.source()
    return f"SageMaker model of botocore {source['botocore']}, {source['date']}"


@functools.lru_cache(maxsize=None)
def _bundled_operations() -> frozenset[str]:
    text = (schema.FOLDER / "model-operations.json").read_text()
    return frozenset(name.lower() for name in json.loads(text))


def _installed_operations(prefix: str) -> frozenset[str]:
    """Operation names (lower case) of the installed botocore's model for a service whose IAM prefix
    is its model directory's name, newest API version; empty when there is none."""
    installed = installed_botocore()
    if installed is None or not re.fullmatch(r"[a-z0-9-]+", prefix):
        return frozenset()
    folder = installed.package / "data" / prefix
    versions = sorted(p for p in folder.glob("*/service-2.json.gz")) if folder.is_dir() else []
    try:
        names = model.operation_names(versions[-1]) if versions else frozenset()
    except (OSError, ValueError, EOFError):
        return frozenset()
    return frozenset(name.lower() for name in names)


def api_operation(action: str) -> str | None:
    """Where an IAM action that the catalog lacks is an API operation: the bundled SageMaker model,
    or an installed botocore's model of its service; None when neither has it."""
    prefix, _, name = action.lower().partition(":")
    if prefix == "sagemaker":  # an installed model no newer than the bundled one has no other operation
        if name in _bundled_operations():
            return data_note()
        if newer_botocore() is None:
            return None
    if name in _installed_operations(prefix):
        return f"the {prefix} model of the installed botocore {installed_botocore().version}"
    return None
