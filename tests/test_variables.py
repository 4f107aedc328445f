"""Shell-variable templates (`--var`, `--env-file`, `--var-from-env`): substituted before parsing,
an unset variable is a finding that names it, and positions stay those of the file as written."""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from conftest import FIXTURES
from preflight.documents import LoadError

HEREDOC = FIXTURES / "iac" / "cluster-config.create-cluster.json"


def findings(result):
    return [(f["rule"], f["line"], f["column"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def test_variables_substituted_and_the_unset_one_named(run_cli, tmp_path):
    env = tmp_path / "env_vars"
    env.write_text("# written by the setup script\nexport BUCKET=sagemaker-lifecycle-444455556666\n"
                   "ROLE='arn:aws:iam::444455556666:role/HyperPodExecutionRole'\n")
    result = run_cli("check", "--format", "json", "--env-file", str(env), "--var", "SUBNET_ID=subnet-0123456789abcdef0",
                     str(HEREDOC))
    assert result.returncode == 1, result.stderr
    assert findings(result) == [("PF011", 28, 29, "$SECURITY_GROUP has no value: the file was written from a shell template")]


def test_positions_are_those_of_the_file_as_written(run_cli):
    # The role's value is longer than ${ROLE}; the typo'd instance type after it on a later line and
    # the IAM ARN region error inside it must still land where the file has them.
    result = run_cli("check", "--format", "json", "--var", "BUCKET=sagemaker-lifecycle-444455556666",
                     "--var", "ROLE=arn:aws:iam:us-east-1:444455556666:role/HyperPodExecutionRole",
                     "--var", "SECURITY_GROUP=sg-0123456789abcdef0", "--var", "SUBNET_ID=subnet-0123456789abcdef0",
                     str(HEREDOC))
    lines = HEREDOC.read_text().splitlines()
    found = findings(result)
    assert {rule for rule, *_ in found} == {"PF106", "PF111"}
    for rule, line, column, _ in found:
        assert lines[line - 1][column - 1:].startswith('"ExecutionRole"'), (rule, line, column)


def test_from_environment_and_var_wins(run_cli):
    import os

    env = {**os.environ, "BUCKET": "sagemaker-lifecycle-444455556666", "ROLE": "not-a-role",
           "SECURITY_GROUP": "sg-0123456789abcdef0", "SUBNET_ID": "subnet-0123456789abcdef0"}
    result = run_cli("check", "--format", "json", "--var-from-env",
                     "--var", "ROLE=arn:aws:iam::444455556666:role/HyperPodExecutionRole", str(HEREDOC), env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_variable_options_nothing_is_substituted(run_cli):
    result = run_cli("check", "--format", "json", str(HEREDOC))
    assert "PF011" not in {rule for rule, *_ in findings(result)}


def test_unreadable_env_file_and_bad_line_are_usage_errors(run_cli, tmp_path):
    assert run_cli("check", "--env-file", str(tmp_path / "absent"), str(HEREDOC)).returncode == 2
    bad = tmp_path / "bad.env"
    bad.write_text("BUCKET\n")
    result = run_cli("check", "--env-file", str(bad), str(HEREDOC))
    assert result.returncode == 2 and "bad.env:1: expected KEY=VALUE" in result.stderr


def test_env_file_values_expand_earlier_variables_as_sourcing_does(tmp_path):
    from preflight.iac.variables import read_env_file

    env = tmp_path / "env_input"
    env.write_text("export PREFIX=aws-do-hyperpod-eks\nexport HYPERPOD_NAME=${PREFIX}-smhp\nSTACK=\"$PREFIX-cfn\"\n"
                   "KEPT='${PREFIX}'\nLATER=${UNKNOWN:-fallback}/${NOT_SET}\n")
    assert read_env_file(str(env)) == {"PREFIX": "aws-do-hyperpod-eks", "HYPERPOD_NAME": "aws-do-hyperpod-eks-smhp",
                                       "STACK": "aws-do-hyperpod-eks-cfn", "KEPT": "${PREFIX}",
                                       "LATER": "fallback/${NOT_SET}"}


def test_env_file_values_that_run_a_command_are_known_only_when_sourced(tmp_path):
    # haozhx23/eks-smhp-250225 1_env_vars: `$(echo $EKS_CLUSTER_ARN | awk ...)` was read as the value
    # "$(echo", and the cluster name built from it failed ClusterName's pattern (a false PF106)
    from preflight.iac.variables import read_env_file

    env = tmp_path / "1_env_vars"
    env.write_text("export ARN=arn:aws:eks:us-east-1:444455556666:cluster/eks\n"
                   "export EKS_NAME=$(echo $ARN | awk -F/ '{print $NF}')\n"
                   'export ACCOUNT="`aws sts get-caller-identity --query Account --output text`"\n'
                   "export HP_NAME=${EKS_NAME}-hp\nexport LITERAL='$(not run)'\nexport PRICE=\\$(5)\n")
    assert read_env_file(str(env)) == {"ARN": "arn:aws:eks:us-east-1:444455556666:cluster/eks",
                                       "LITERAL": "$(not run)", "PRICE": "$(5)"}
    assert read_env_file(str(env), given={"EKS_NAME": "eks"})["HP_NAME"] == "eks-hp"


def test_a_value_set_by_a_command_is_an_unset_variable_until_given(run_cli, tmp_path):
    env = tmp_path / "env_vars"
    env.write_text("export BUCKET=sagemaker-$(aws sts get-caller-identity --query Account --output text)\n"
                   "export ROLE=arn:aws:iam::444455556666:role/HyperPodExecutionRole\n"
                   "export SECURITY_GROUP=sg-0123456789abcdef0\nexport SUBNET_ID=subnet-0123456789abcdef0\n")
    result = run_cli("check", "--format", "json", "--env-file", str(env), str(HEREDOC))
    assert {rule for rule, *_ in findings(result)} == {"PF011"}
    assert all("${BUCKET}" in message for *_, message in findings(result))
    result = run_cli("check", "--format", "json", "--env-file", str(env), "--var", "BUCKET=sagemaker-lifecycle",
                     str(HEREDOC))
    assert result.returncode == 0, result.stdout


def test_an_arn_with_an_unset_variable_names_no_resource():
    from preflight import documents
    from preflight.iac.variables import substituted
    from preflight.values import Unresolved, parse_arn

    document = substituted(documents.parse("r.create-cluster.json",
                                           '{"ClusterRole": "arn:aws:iam::444455556666:role/${ROLE_NAME}"}'), {})
    role = document.data["ClusterRole"]
    assert isinstance(role, Unresolved) and parse_arn(role) is None


def test_env_file_quotes_read_as_bash_reads_them(tmp_path):
    from preflight.iac.variables import read_env_file

    env = tmp_path / "env_input"
    env.write_text('export CHECKS="[\\"InstanceStress\\", \\"InstanceConnectivity\\"]"\n'
                   "PRICE=\"\\$5 \\`x\\` a\\\\b c\\d\"\nRAW='a\\\"b $PRICE'\nMIXED=\"$RAW\"-'x'\\ y # a comment\n")
    assert read_env_file(str(env)) == {"CHECKS": '["InstanceStress", "InstanceConnectivity"]',
                                       "PRICE": "$5 `x` a\\b c\\d", "RAW": 'a\\"b $PRICE',
                                       "MIXED": 'a\\"b $PRICE-x y'}
    env.write_text("ROLE='arn:aws:iam::444455556666:role/x\n")
    with pytest.raises(LoadError, match="env_input:1: a quote is not closed"):
        read_env_file(str(env))


_SAFE = "aZ09 _-./:,{}[]#=%@+*"  # no character that starts an expansion, a quote or an escape
_ESCAPES = st.one_of(
    st.sampled_from(list('\\"$`')).map(lambda char: "\\" + char),  # the escapes bash drops in double quotes
    st.sampled_from(list("anx{#' ")).map(lambda char: "\\" + char))  # a backslash bash keeps there


def _parts(*double_extra):
    """One part of a value: single-quoted, double-quoted (with escapes and ``double_extra``), or
    unquoted (with a backslash-escaped character)."""
    double = st.lists(st.one_of(st.text(alphabet=_SAFE + "'", min_size=1, max_size=4), _ESCAPES, *double_extra),
                      max_size=5)
    return st.one_of(
        st.text(alphabet=_SAFE.replace(" ", "").replace("#", "") + '"\\$`', max_size=5).map(lambda text: f"'{text}'"),
        double.map(lambda tokens: '"' + "".join(tokens) + '"'),
        st.text(alphabet="aZ09_-./:,=%@+", min_size=1, max_size=4),
        st.sampled_from(list("\\\"'$` a")).map(lambda char: "\\" + char))


@settings(max_examples=60, deadline=None)
@given(first=_parts(), parts=st.lists(_parts(st.just("${A}")), min_size=1, max_size=4))
def test_env_file_value_is_what_bash_sources(tmp_path_factory, first, parts):
    """Each value as `bash -c 'source FILE; printf %s "$X"'` prints it (``${A}`` naming the line before)."""
    from preflight.iac.variables import read_env_file

    env = tmp_path_factory.mktemp("env") / "env_vars"
    env.write_text(f"A={first}\nexport X={''.join(parts)}\n")
    sourced = subprocess.run(["bash", "-c", 'source "$0"; printf %s "$X"', str(env)], capture_output=True,
                             text=True, check=True).stdout
    assert read_env_file(str(env))["X"] == sourced
