"""Training plans (reserved capacity for a cluster's instance groups): DescribeTrainingPlan and
ListTrainingPlans, which moto lacks, answered from PLANS (the account state's ``training_plans``).
Not modelled: buying a plan (SearchTrainingPlanOfferings, CreateTrainingPlan), its capacity being
used by the groups that name it (AvailableInstanceCount stays the plan's whole count).
"""

from __future__ import annotations

import json

from preflight.local_sagemaker.common import result, sagemaker_errors

PLANS: dict[tuple[str, str], list[dict]] = {}  # (account, region) -> the state's training plans


def _view(account: str, region: str, plan: dict) -> dict:
    count = plan.get("count", 1)
    return {"TrainingPlanArn": f"arn:aws:sagemaker:{region}:{account}:training-plan/{plan['name']}",
            "TrainingPlanName": plan["name"], "Status": plan.get("status", "Active"), "DurationHours": 24,
            "TotalInstanceCount": count, "AvailableInstanceCount": count, "InUseInstanceCount": 0,
            "TargetResources": plan.get("targets", ["hyperpod-cluster"]),
            "ReservedCapacitySummaries": [{
                "ReservedCapacityArn": f"arn:aws:sagemaker:{region}:{account}:reserved-capacity/{plan['name']}-1",
                "InstanceType": plan["instance_type"], "TotalInstanceCount": count,
                "Status": plan.get("status", "Active"), "AvailabilityZone": plan["zone"]}]}


def _plans(self) -> list[dict]:
    return [_view(self.current_account, self.region, plan) for plan in PLANS.get((self.current_account, self.region), [])]


def describe_training_plan(self):
    name = json.loads(self.body).get("TrainingPlanName")
    found = next((plan for plan in _plans(self) if plan["TrainingPlanName"] == name), None)
    if found is None:
        raise sagemaker_errors().ResourceNotFound(message=f"Training plan {name} not found.")
    return result(found)


def list_training_plans(self):
    return result({"TrainingPlanSummaries": [{key: plan[key] for key in (
        "TrainingPlanArn", "TrainingPlanName", "Status", "TotalInstanceCount", "AvailableInstanceCount",
        "InUseInstanceCount", "TargetResources", "ReservedCapacitySummaries")} for plan in _plans(self)]})


HANDLERS = {"describe_training_plan": describe_training_plan, "list_training_plans": list_training_plans}
