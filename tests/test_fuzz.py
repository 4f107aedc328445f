"""Fuzzing the CLI end to end: hostile requests, policies, authorization-details files,
CloudFormation templates, Terraform plans and sources, shell templates with env files, aws command
lines in scripts and Markdown, configurations and baselines never make an exception escape, never forge a line of output, and only documented exit
codes occur (0, 1, 2 offline; 4 would be a defect). A bounded budget here; bench/fuzz_campaign.py runs the long campaign (bench/FUZZ.md)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import DOCUMENTED_EXITS, FORMATS, PRINCIPAL, authorization_details, baselines, cloudformation_templates, \
    command_line_files, configurations, policy_documents, request_documents, run_check, shell_templates, \
    terraform_plans, terraform_sources

BUDGET = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@BUDGET
@given(request_documents(), st.sampled_from(FORMATS))
def test_hostile_requests(document, output):
    code, stderr = run_check([document], output=output)
    assert code in DOCUMENTED_EXITS, stderr


@BUDGET
@given(request_documents(), st.lists(policy_documents(), min_size=1, max_size=2), st.sampled_from(FORMATS))
def test_hostile_policies(document, policies, output):
    code, stderr = run_check([document], policies, output=output)
    assert code in DOCUMENTED_EXITS, stderr


@BUDGET
@given(request_documents(), authorization_details(), st.sampled_from(FORMATS))
def test_hostile_authorization_details(document, details, output):
    code, stderr = run_check([document], [details], principal=PRINCIPAL, output=output)
    assert code in DOCUMENTED_EXITS, stderr


SMALL = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@SMALL
@given(shell_templates(), st.sampled_from(FORMATS))
def test_hostile_shell_templates(files, output):
    template, env_file = files
    code, stderr = run_check([template], output=output, options=[("--env-file", env_file)])
    assert code in DOCUMENTED_EXITS, stderr


@SMALL
@given(request_documents(), configurations(), st.sampled_from(FORMATS))
def test_hostile_configurations(document, configuration, output):
    code, stderr = run_check([document], output=output, options=[("--config", configuration)])
    assert code in DOCUMENTED_EXITS, stderr


@SMALL
@given(baselines(), st.sampled_from(FORMATS))
def test_hostile_baselines(baseline, output):
    request = ("f.delete-cluster.json", b'{"ClusterName": "c", "Extra": 1}')
    code, stderr = run_check([request], output=output, options=[("--baseline", baseline)])
    assert code in DOCUMENTED_EXITS, stderr


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(request_documents(), authorization_details())
def test_hostile_files_through_the_installed_command(document, details):
    """The same, as a user runs it: a real process, its real stdout."""
    import pathlib
    import subprocess
    import tempfile

    from conftest import preflight_command

    with tempfile.TemporaryDirectory() as folder:
        request, policy = pathlib.Path(folder) / document[0], pathlib.Path(folder) / f"details-{details[0]}"
        request.write_bytes(document[1])
        policy.write_bytes(details[1])
        result = subprocess.run(preflight_command() + ["check", str(request), "--policy", str(policy),
                                                       "--principal", PRINCIPAL], capture_output=True, timeout=120)
    assert result.returncode in DOCUMENTED_EXITS, result.stderr
    assert b"Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("files", [cloudformation_templates, terraform_plans, terraform_sources, command_line_files],
                         ids=lambda files: files.__name__)
@SMALL
@given(data=st.data(), output=st.sampled_from(FORMATS))
def test_hostile_files_of_one_kind(files, data, output):
    """A template, a plan, a Terraform source or a file of command lines, checked on its own."""
    code, stderr = run_check([data.draw(files())], output=output)
    assert code in DOCUMENTED_EXITS, stderr
