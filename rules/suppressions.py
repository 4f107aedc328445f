"""PF5xx: what the project's suppressions themselves say; reported by preflight.triage."""

from __future__ import annotations

from preflight.findings import Severity
from preflight.registry import rule


@rule("PF500", "unused-suppression", Severity.WARNING, kind="engine")
def unused_suppression(ctx):
    """A suppression (configuration entry or inline comment) that matched no finding.

    ## Why is this bad?
    A suppression outlives the problem it hid: when the finding is fixed or the rule, file or
    pointer is misspelt, the entry keeps saying something is accepted that no longer exists, and a
    later, different finding at that place would be hidden unseen. Remove it, or correct it.
    A configuration entry is judged only by a run that checked a file it names, or when no file
    it names exists any more: a run of some files (a pre-commit hook's) says nothing of the others.

    ## Source
    preflight's suppressions: every one names a rule, a place and a reason, and must keep matching.
    """
    return ()


@rule("PF501", "expired-suppression", Severity.WARNING, kind="engine")
def expired_suppression(ctx):
    """A configuration suppression whose `expires` date has passed: its findings are reported again.

    ## Why is this bad?
    The team accepted the findings until that date. After it they count again, so that an
    exception agreed for a while does not become permanent by being forgotten. Fix the findings,
    or renew the entry with a new date and reason.

    ## Source
    preflight's suppressions (`expires` in a `[[suppress]]` entry).
    """
    return ()


@rule("PF502", "suppression-without-reason", Severity.WARNING, kind="engine")
def suppression_without_reason(ctx):
    """An inline `# preflight: ignore RULE` comment without `-- reason`: it suppresses nothing.

    ## Why is this bad?
    A gate's exceptions must say why, so that a reviewer can judge them and the next reader knows
    whether they still hold. Write `# preflight: ignore PF124 -- the bucket policy grants the role`.

    ## Source
    preflight's suppressions.
    """
    return ()
