"""PF480, PF481: a reviewed plan file applied (``preflight apply PLAN.json``, preflight/planfile.py).
Reported by the plan reader, not by a check of the request."""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule


@rule("PF480", "account-changed-since-plan", Severity.ERROR, kind="engine")
def account_changed_since_plan(ctx):
    """Something the plan was checked against reads differently now: the request is not sent.

    ## Why is this bad?
    A plan is reviewed as a whole: the request and the account it was checked against (the
    cluster's groups and counts, the AMI's tags and snapshots, the keys, the roles and their
    policies, the lifecycle scripts). When the account moved after the review, what was approved
    is no longer what would happen: a scale-up planned from 2 nodes lands on a group that has 4, an
    AMI's sharing tag was changed. Apply re-reads every fact the plan records and names each
    member that differs (`cluster ml-cluster changed since the plan: /groups/workers/CurrentCount
    2 -> 3`). Plan again, and review the new plan.

    ## Source
    preflight's plan files, after terraform's saved plans (`terraform apply PLAN` refuses a stale plan).
    """
    return ()


@rule("PF481", "plan-file-refused", Severity.ERROR, kind="engine")
def plan_file_refused(ctx):
    """A plan file edited after planning, too old, of another format version, or for another account.

    ## Why is this bad?
    Apply sends exactly the request in the plan, so the plan must be the one that was reviewed:
    its request and every other member match the digests written with it, it is younger than
    `plan-max-age` (`--max-age`, default 24h), and the credentials apply runs with are in the
    account it was planned in. The digests detect edits; they are not a signature.

    ## Source
    preflight's plan files.
    """
    return ()
