"""The bundled AWS data is a snapshot; the installed botocore may be newer.

A botocore installed next to preflight (the AWS CLI v1 or the ``live`` extra bring one) is
located and its SageMaker model read as a file: botocore is never imported on the offline path.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
import re
from dataclasses import dataclass

from preflight import model


@dataclass(frozen=True)
class Installed:
    version: str
    model_path: pathlib.Path


@functools.lru_cache(maxsize=None)
def installed_botocore() -> Installed | None:
    """The installed botocore's version and SageMaker model file, or None."""
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
    path = package.joinpath(*model.MODEL_PATH)
    return Installed(found.group(1), path) if found and path.is_file() else None
