"""The AWS CLI's own reading of command lines, as the reference for preflight/commandline/arguments.py.

Run as a separate process (``python tests/awscli_reference.py MODEL_DIR``), because importing
``awscli`` redirects every later ``import botocore`` in the process to the copy it bundles. It reads
one JSON object a line, ``{"args": [...], "cwd": "..."}`` (the words after ``aws``), runs awscli's
CLIDriver on them in-process, and answers one JSON line: ``{"request": {...}}`` with the parameters
the CLI hands to botocore (caught before any request is made: nothing leaves the machine), or
``{"refused": "message", "rc": N}``, or ``{"no_request": true}`` when it printed something else
(a skeleton, help) and succeeded.

MODEL_DIR holds ``sagemaker/<api-version>/service-2.json`` from the botocore that preflight's schemas
were generated from, so that both read the same model; the CLI finds it through AWS_DATA_PATH.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys


class _Captured(Exception):
    pass


def main() -> int:
    # The suite's embedded AWS puts AWS_ENDPOINT_URL in the environment, with which the CLI builds no
    # endpoint from the region: the reference starts from no AWS setting of its caller.
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_DATA_PATH=sys.argv[1], AWS_PAGER="")
    # Answers go out on a copy of stdout; the CLI's own output (help runs a pager process) goes nowhere.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    from awscli.clidriver import create_clidriver

    driver = create_clidriver()
    captured: dict = {}

    def capture(params, **_):
        captured["request"] = params
        raise _Captured()

    driver.session.register("provide-client-params.sagemaker", capture)
    # Global options (--region, --output ...) are set on the session: each command starts from none.
    initial = dict(driver.session._session_instance_vars)
    for line in sys.stdin:
        job = json.loads(line)
        captured.clear()
        driver.session._session_instance_vars = dict(initial)
        os.chdir(job["cwd"])
        errors, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(out):
            try:
                rc = driver.main(job["args"])
            except SystemExit as stop:
                rc = stop.code
        if "request" in captured:
            answer = {"request": captured["request"]}
        elif rc == 0:
            answer = {"no_request": True}
        else:
            answer = {"refused": errors.getvalue()[-2000:], "rc": rc}
        print(json.dumps(answer, default=repr), file=answers, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
