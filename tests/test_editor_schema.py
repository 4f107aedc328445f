"""`preflight schema OPERATION`: the request schema with the AWS documentation, for editors."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, ROOT

jsonschema = pytest.importorskip("jsonschema")


def test_schema_command_prints_a_documented_valid_schema(run_cli):
    result = run_cli("schema", "create-cluster")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    group = schema["$defs"]["ClusterInstanceGroupSpecification"]["properties"]
    assert group["InstanceType"]["description"] == "Specifies the instance type of the instance group."
    assert "custom AMI" in group["ImageId"]["description"]
    assert schema["description"].startswith("Creates")
    request = json.loads((FIXTURES / "seed/corrected/01-standard.create-cluster.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(request)  # descriptions change nothing


def test_schema_command_refuses_an_unknown_operation(run_cli):
    result = run_cli("schema", "create-clusters")
    assert result.returncode == 2


def test_validation_does_not_load_the_documentation():
    from preflight import validation

    assert "description" not in json.dumps(validation.load("create-cluster"))


def test_shipped_documentation_is_what_the_generator_writes(tmp_path):
    """docs.json is generated with the schemas, from the same recorded botocore release."""
    from preflight import drift, validation

    installed = drift.installed_botocore()
    source = validation.source()
    if installed is None or installed.version != source["botocore"]:
        pytest.skip(f"needs botocore {source['botocore']} installed to regenerate")
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "scripts/generate_schemas.py"), "--date", source["date"],
                    "--out", str(tmp_path)], check=True, capture_output=True)
    shipped = ROOT / "preflight/schema/docs.json"
    assert (tmp_path / "docs.json").read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
