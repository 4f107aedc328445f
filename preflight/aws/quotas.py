"""Service Quotas: the account's HyperPod instance quotas ("<type> for cluster usage")."""

from __future__ import annotations

from preflight.aws.calls import Calls, listed, number, text

SUFFIX = " for cluster usage"


class Quotas:
    def __init__(self, calls: Calls):
        self._calls = calls

    def cluster_quotas(self) -> dict[str, float]:
        """Instance type -> the account's quota "<type> for cluster usage"."""
        def page(answer):
            quotas = [(text(q["QuotaName"]).removesuffix(SUFFIX), number(q["Value"]))
                      for q in listed(answer, "Quotas", needed=True) if text(q["QuotaName"]).endswith(SUFFIX)]
            return quotas

        return self._calls.once(("cluster-quotas",), lambda: dict(self._calls.pages(
            "service-quotas", "list_service_quotas", page, key=lambda quota: quota[0], ServiceCode="sagemaker") or []))
