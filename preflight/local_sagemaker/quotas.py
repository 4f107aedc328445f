"""Service Quotas' ListServiceQuotas, which moto lacks: SageMaker's cluster-usage quota of each
instance type, as seeded in QUOTAS (the account state's ``cluster_quotas``); other services have none.
"""

from __future__ import annotations

import json

QUOTAS: dict[tuple[str, str], dict[str, float]] = {}  # (account, region) -> instance type -> quota


def list_service_quotas(self) -> str:
    params = json.loads(self.body)
    quotas = [] if params.get("ServiceCode") != "sagemaker" else [
        {"ServiceCode": "sagemaker", "ServiceName": "Amazon SageMaker", "QuotaCode": f"L-LOCAL{i:04d}",
         "QuotaName": f"{instance_type} for cluster usage", "Value": value, "Unit": "None", "Adjustable": True}
        for i, (instance_type, value) in enumerate(sorted(QUOTAS.get((self.current_account, self.region), {}).items()))]
    return json.dumps({"Quotas": quotas})
