"""The one failure a live lookup reports: kept apart from ``preflight.account``'s records so that
the engine can name it without loading them on the offline path."""


class LookupFailed(Exception):
    """A lookup that could not answer (no credentials, AccessDenied, throttling past the retries,
    a timeout, an endpoint that is down, an answer not in the API's shape): the rule could not verify."""

    def __init__(self, lookup: str, reason: str):
        super().__init__(f"{lookup}: {reason}")
        self.lookup = lookup
        self.reason = reason
