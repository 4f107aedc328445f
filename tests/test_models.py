"""The compact service models (preflight/aws/models/, scripts/generate_models.py): every operation
preflight calls is in them, and they serve only the botocore release they were cut from."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT
from preflight import drift

botocore = pytest.importorskip("botocore")
import botocore.session  # noqa: E402

from preflight.aws import calls  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
import generate_models  # noqa: E402

RECORDED = json.loads((calls.MODELS / "source.json").read_text())


def client(session, service: str):
    return session.create_client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def whole_models(services) -> dict[str, dict]:
    """The installed botocore's models of ``services``, as it ships them."""
    installed = drift.installed_botocore()
    return {service: data for service, (_, data) in generate_models.from_installed(installed.package, services).items()}


@pytest.fixture
def recorded_release():
    if botocore.__version__ != RECORDED["botocore"]:
        pytest.skip(f"botocore {RECORDED['botocore']} (the models' release) is not installed; found {botocore.__version__}")


def test_every_operation_preflight_calls_is_a_method_of_a_client_made_from_the_compact_models(recorded_release):
    session = botocore.session.Session()
    assert str(calls.MODELS) in calls._loader(session).search_paths
    called = generate_models.reader_operations(whole_models(generate_models.services_called()))
    assert set(called) == set(RECORDED["services"])
    for service, operations in called.items():
        made = client(session, service)
        assert set(made.meta.service_model.operation_names) == operations, service  # nothing else either
        for operation in operations:
            assert callable(getattr(made, botocore.xform_name(operation))), f"{service}:{operation}"


def test_readers_name_each_operation_whole(tmp_path, monkeypatch):
    """An operation name made at run time would escape the generator: it refuses one."""
    (tmp_path / "made.py").write_text('def f(calls, kind):\n    return calls.call("iam", f"get_{kind}_policy")\n')
    monkeypatch.setattr(generate_models, "READERS", tmp_path)
    with pytest.raises(SystemExit, match="made.py:2: name the operation whole"):
        generate_models.reader_operations({"iam": {"operations": {}}})


def test_another_botocore_release_reads_its_own_models(monkeypatch):
    monkeypatch.setattr(botocore, "__version__", "1.0.0")
    session = botocore.session.Session()
    assert str(calls.MODELS) not in calls._loader(session).search_paths
    assert "AssumeRole" in client(session, "sts").meta.service_model.operation_names


def test_a_newer_api_version_than_the_compact_models_is_read_whole(tmp_path, recorded_release):
    """The loader takes the newest API version on any of its paths: a compact model serves only its own."""
    newer = whole_models({"sts"})["sts"]
    newer["metadata"] = {**newer["metadata"], "apiVersion": "2099-01-01"}
    (tmp_path / "sts" / "2099-01-01").mkdir(parents=True)
    (tmp_path / "sts" / "2099-01-01" / "service-2.json").write_text(json.dumps(newer))
    session = botocore.session.Session()
    session.set_config_variable("data_path", str(tmp_path))
    assert str(calls.MODELS) in calls._loader(session).search_paths
    model = client(session, "sts").meta.service_model
    assert model.api_version == "2099-01-01" and "AssumeRole" in model.operation_names
