"""No false errors from stale data: a newer installed botocore's model decides, and a finding that
stale data could explain says how old the data is."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from preflight import drift, model, validation

REQUEST = {"ClusterName": "ml-cluster", "InstanceGroups": [{
    "InstanceGroupName": "workers", "InstanceCount": 1, "InstanceType": "ml.c5.2xlarge",
    "ExecutionRole": "arn:aws:iam::444455556666:role/HyperPodExecution",
    "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lc/", "OnCreate": "on_create.sh"},
    "FuturePlacement": "spread"}]}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "sagemaker:FrobnicateCluster", "sagemaker:MoveClusterNodes", "sagemaker:BatchRebootClusterNodes"]}]}


@pytest.fixture(scope="module")
def newer_botocore(tmp_path_factory):
    """A botocore 99.0.0 on PYTHONPATH whose SageMaker model is the installed one plus a member
    (ClusterInstanceGroupSpecification.FuturePlacement) and an operation (FrobnicateCluster)."""
    installed = drift.installed_botocore()
    if installed is None:
        pytest.skip("botocore is not installed: the test extra brings it")
    data = model.read(installed.model_path)
    data["shapes"]["ClusterInstanceGroupSpecification"]["members"]["FuturePlacement"] = {"shape": "String"}
    data["shapes"].setdefault("String", {"type": "string"})
    data["operations"]["FrobnicateCluster"] = {"name": "FrobnicateCluster"}
    site = tmp_path_factory.mktemp("site")
    package = site / "botocore"
    package.joinpath(*model.MODEL_PATH).parent.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('botocore is read as files, never imported')\n"
                                         "__version__ = '99.0.0'\n")
    package.joinpath(*model.MODEL_PATH).write_bytes(gzip.compress(json.dumps(data).encode()))
    return {**os.environ, "PYTHONPATH": str(site)}


def _files(tmp_path):
    request = tmp_path / "prod.create-cluster.json"
    request.write_text(json.dumps(REQUEST))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    return str(request), str(policy)


def test_newer_installed_model_decides(run_cli, tmp_path, newer_botocore):
    request, policy = _files(tmp_path)
    result = run_cli("check", "--format", "json", "--policy", policy, request, env=newer_botocore)
    findings = json.loads(result.stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "PF102"], findings
    unknown = {f["message"].split()[0]: f["severity"] for f in findings if f["rule"] == "PF306"}
    assert unknown == {"sagemaker:FrobnicateCluster": "info", "sagemaker:MoveClusterNodes": "info"}, findings
    assert "99.0.0" in run_cli("--version", env=newer_botocore).stdout


def test_without_a_newer_model_findings_say_how_old_the_data_is(run_cli, tmp_path):
    if drift.newer_botocore():
        pytest.skip("a botocore newer than the bundled model is installed here")
    request, policy = _files(tmp_path)
    result = run_cli("check", "--format", "json", "--policy", policy, request)
    findings = json.loads(result.stdout)["findings"]
    source = validation.source()
    [member] = [f for f in findings if f["rule"] == "PF102"]
    assert f"botocore {source['botocore']}, {source['date']}" in member["message"]
    assert "pip install -U botocore" in member["fix"]
    severities = {f["message"].split()[0]: f["severity"] for f in findings if f["rule"] == "PF306"}
    # MoveClusterNodes is an operation of the bundled model; FrobnicateCluster is in no model.
    assert severities == {"sagemaker:FrobnicateCluster": "error", "sagemaker:MoveClusterNodes": "info"}, findings


def test_a_clean_request_never_reads_a_model(tmp_path):
    drift.newer_botocore.cache_clear()
    clean = dict(REQUEST, InstanceGroups=[{k: v for k, v in REQUEST["InstanceGroups"][0].items()
                                           if k != "FuturePlacement"}])
    assert validation.validate("create-cluster", clean) == []
    assert drift.newer_botocore.cache_info().currsize == 0


def test_known_actions_get_no_did_you_mean():
    from preflight.iam import catalog

    actions = catalog.load()
    for action in ("sagemaker:BatchRebootClusterNodes", "sagemaker:batchreplaceclusternodes"):
        assert actions.canonical(action) and actions.suggest(action) is None
    assert actions.suggest("sagemaker:DescribeCluterNode") == "sagemaker:DescribeClusterNode"


def test_operation_names_read_as_far_as_the_shapes_agree_with_the_whole_model():
    installed = drift.installed_botocore()
    if installed is None:
        pytest.skip("botocore is not installed: the test extra brings it")
    models = sorted((installed.package / "data").glob("*/*/service-2.json.gz"))
    assert len(models) > 300  # every installed model: rest-json, query, ec2 and json layouts alike
    for path in models:
        assert model.operation_names(path) == frozenset(model.read(path)["operations"]), path


def test_operation_names_stop_at_the_shapes(tmp_path):
    """What follows "shapes" is never read: here it is cut off, which a whole read refuses."""
    whole = gzip.compress(b'{"operations": {"ListClusters": {"name": "ListClusters"}}, "shapes": {"S": '
                          + os.urandom(300_000).hex().encode() + b'"}}')
    path = tmp_path / "service-2.json.gz"
    path.write_bytes(whole[:len(whole) // 2])
    assert model.operation_names(path) == {"ListClusters"}
    with pytest.raises(EOFError):
        model.read(path)


@pytest.mark.parametrize("layout", ["shapes first", "operations cut short", "operations not objects"])
def test_operation_names_of_an_unusual_model_come_from_the_whole_of_it(tmp_path, layout):
    noise = os.urandom(200_000).hex()  # beyond the first block read, so that reading stops inside operations
    operations = {"DescribeCluster": {"name": "DescribeCluster", "documentation": noise, "shapes": {},
                                      "more": noise}, "ListClusters": {"name": "ListClusters"}}
    text = json.dumps({"shapes first": {"shapes": {"S": {"type": "string"}}, "operations": operations},
                       "operations cut short": {"operations": operations, "shapes": {}},
                       "operations not objects": {"operations": {"DescribeCluster": 1}, "shapes": {}}}[layout])
    path = tmp_path / "service-2.json.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert model.operation_names(path) == frozenset(json.loads(text)["operations"])


def test_an_unreadable_model_is_a_value_error_that_drift_takes_as_no_model(tmp_path):
    path = tmp_path / "service-2.json.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"not deflate data" * 10)
    with pytest.raises(ValueError, match="not a gzip stream"):
        model.operation_names(path)
