"""The import layers of pyproject.toml's contract hold, and no module imports itself in a circle.

Both read the package as installed, preflight.rules inside it: the repository keeps rules/ at its
top (pyproject.toml maps it into the package), where a graph of preflight/ alone would miss it.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

GRAPH = """
import json, grimp
graph = grimp.build_graph("preflight", cache_dir=None)
print(json.dumps({module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}))
"""


def _source_folder(package: str) -> pathlib.Path:
    return pathlib.Path(importlib.util.find_spec(package).origin).parent


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory) -> pathlib.Path:
    """A folder holding preflight as installed, its files linked from where they are."""
    root = tmp_path_factory.mktemp("installed")
    package = root / "preflight"
    package.mkdir()
    for entry in _source_folder("preflight").iterdir():
        if entry.name not in ("__pycache__", "rules"):
            (package / entry.name).symlink_to(entry)
    (package / "rules").symlink_to(_source_folder("preflight.rules"))
    return root


def test_import_contract_is_kept(installed_layout):
    lint_imports = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent))
    if not lint_imports:
        pytest.fail("lint-imports is not installed in this environment: install the test extra")
    # Run from the layout: lint-imports puts its working directory first on the import path.
    result = subprocess.run([lint_imports, str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
                            cwd=installed_layout, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def import_graph(layout: pathlib.Path) -> dict[str, set[str]]:
    """Each module of the package and the modules it imports, function-level imports included."""
    result = subprocess.run([sys.executable, "-c", GRAPH], cwd=layout, capture_output=True, text=True,
                            timeout=120, check=True)
    return {module: set(imported) for module, imported in json.loads(result.stdout).items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for imported in graph[stack.pop()] - seen:
            seen.add(imported)
            stack.append(imported)
    return seen


def circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module: modules that import one another."""
    reach = {module: _reachable(graph, module) for module in graph}
    return sorted({tuple(sorted({module} | {other for other in reach[module] if module in reach[other]}))
                   for module in graph if module in reach[module]})


def test_no_import_circles(installed_layout):
    graph = import_graph(installed_layout)
    assert "preflight.rules.request" in graph  # the installed package, not preflight/ alone
    assert circles(graph) == []


def test_circles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert circles(graph) == [("a", "b", "c")]
