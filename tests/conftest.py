from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from hypothesis import settings

# The suite is a gate: it runs the same examples on every machine, so that it passes or fails on the
# code, not on a draw. Random exploration at larger budgets is bench/properties_campaign.py's job,
# which loads the "campaign" profile (PREFLIGHT_HYPOTHESIS_PROFILE).
settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("campaign", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("PREFLIGHT_HYPOTHESIS_PROFILE", "suite"))

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def preflight_command() -> list[str]:
    """The installed console script, as a user runs it."""
    found = shutil.which("preflight", path=str(pathlib.Path(sys.executable).parent))
    if not found:
        pytest.fail("the preflight command is not installed in this environment; see README")
    return [found]


@pytest.fixture
def run_cli():
    def run(*args: str, stdin: str | None = None, env: dict | None = None, cwd=None):
        return subprocess.run(preflight_command() + list(args), input=stdin, capture_output=True,
                              text=True, env=env, cwd=cwd or ROOT, timeout=120)
    return run


@pytest.fixture(autouse=True)
def _clusters_as_found(request):
    """A test that uses the embedded AWS leaves its HyperPod clusters as it found them: the clusters
    it creates are deleted when it ends, so that a later create on the same EKS cluster, or under the
    same name, does not meet them (PF441, PF454)."""
    if "local_aws" not in request.fixturenames:
        yield
        return
    sagemaker = request.getfixturevalue("local_aws").client("sagemaker")
    found = _cluster_names(sagemaker)
    yield
    for name in _cluster_names(sagemaker) - found:
        sagemaker.delete_cluster(ClusterName=name)


def _cluster_names(sagemaker) -> set[str]:
    return {c["ClusterName"] for page in sagemaker.get_paginator("list_clusters").paginate()
            for c in page["ClusterSummaries"]}


@pytest.fixture(scope="session")
def local_aws():
    """A moto server on a free loopback port, seeded from fixtures/account/hyperpod.json; the
    standard AWS environment variables point at it for the session."""
    pytest.importorskip("moto", reason="the live tests need the test extra (moto[server])")

    from preflight.local import LocalAws

    with LocalAws() as aws:
        saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        for key in list(saved):
            del os.environ[key]
        os.environ.update({k: v for k, v in aws.env.items() if k.startswith("AWS_")})
        try:
            yield aws
        finally:
            for key in [k for k in os.environ if k.startswith("AWS_")]:
                del os.environ[key]
            os.environ.update(saved)


@pytest.fixture
def settle(local_aws):
    """Cluster changes stay in progress for ``seconds`` while a test runs."""
    from preflight import local_sagemaker

    saved = local_sagemaker.SETTINGS["settle_seconds"]

    def set_to(seconds: float):
        local_sagemaker.SETTINGS["settle_seconds"] = seconds
    yield set_to
    local_sagemaker.SETTINGS["settle_seconds"] = saved
