"""SageMaker: the HyperPod cluster a request changes, its nodes and events, its scheduler configs
and extensions; and the one call that changes anything, ``send``.

``fresh`` reads again instead of the run's memo (after a send, and while ``apply --wait`` follows it).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions

from preflight.account import ClusterState, Delivery, Extension, Node, SchedulerConfig, TrainingPlan
from preflight.aws.calls import (THROTTLED, Calls, Overran, client_error, listed, nonconforming, output_shape,
                                 settings_refused, text, transport_failure, whole)
from preflight.lookup import LookupFailed

MAX_CLUSTERS = 100  # a region's HyperPod clusters described one by one to find an EKS cluster's
DESCRIBED_TOGETHER = 16  # ... at once: a region's clusters are usually fewer, so their reads take one round trip
# Errors that may come after the service applied the request (it timed out or failed while
# answering): an AWS error code says nothing about whether the change was made.
MAYBE_APPLIED = {"RequestTimeout", "RequestTimeoutException", "InternalFailure", "InternalError",
                 "InternalServerError", "InternalServerException", "InternalServiceError", "ServiceUnavailable",
                 "ServiceUnavailableException"}
MAYBE_APPLIED_STATUS = {408, 429}


class SageMaker:
    def __init__(self, calls: Calls):
        self._calls = calls

    def _read(self, key: tuple, compute, fresh: bool):
        return compute() if fresh else self._calls.once(key, compute)

    def cluster(self, name: str, fresh: bool = False) -> ClusterState | None:
        """The cluster's state. An answer without its ARN, status and groups is no answer (not "no groups")."""
        def build(answer):
            groups = {text(g["InstanceGroupName"]): g for g in listed(answer, "InstanceGroups", needed=True)}
            orchestrator = answer.get("Orchestrator") or {}
            if not isinstance(orchestrator, dict):
                raise TypeError("Orchestrator is not an object")
            eks = orchestrator.get("Eks") if isinstance(orchestrator.get("Eks"), dict) else {}
            return ClusterState(text(answer["ClusterArn"]), text(answer["ClusterStatus"]), groups,
                                answer.get("FailureMessage") or None, next(iter(orchestrator), None),
                                answer.get("NodeProvisioningMode") or None, eks.get("ClusterArn"),
                                answer.get("CreationTime"))
        return self._read(("cluster", name), lambda: self._calls.call(
            "sagemaker", "describe_cluster", build, ClusterName=name), fresh)

    def clusters_on_eks(self, eks_arn: str) -> dict[str, str]:
        """Name -> status of every HyperPod cluster of the region (any status, Deleting and Failed
        included) that the EKS cluster orchestrates: ListClusters, then each one's DescribeCluster,
        read together. More than MAX_CLUSTERS clusters are not read one by one: a failed lookup."""
        def page(answer):
            return [text(c["ClusterName"]) for c in listed(answer, "ClusterSummaries", needed=True)]

        def compute():
            names = self._calls.pages("sagemaker", "list_clusters", page) or []
            if len(names) > MAX_CLUSTERS:
                raise LookupFailed("sagemaker:ListClusters", f"{len(names)} clusters, more than the {MAX_CLUSTERS} "
                                   "read one by one to find the EKS cluster's")
            with ThreadPoolExecutor(max_workers=min(len(names), DESCRIBED_TOGETHER) or 1) as pool:
                found = dict(zip(names, pool.map(self.cluster, names)))
            return {name: cluster.status for name, cluster in found.items() if cluster and cluster.eks_arn == eks_arn}
        return self._calls.once(("clusters-on-eks", eks_arn), compute)

    def cluster_nodes(self, name: str, fresh: bool = False) -> list[Node] | None:
        """Every node of the cluster (ListClusterNodes, all pages); None when it does not exist."""
        def page(answer):
            nodes = [Node(text(n["InstanceId"]), text(n["InstanceGroupName"]),
                          (n.get("InstanceStatus") or {}).get("Status", ""), n.get("InstanceType", ""),
                          n.get("NodeLogicalId"), n.get("LastSoftwareUpdateTime"))
                     for n in listed(answer, "ClusterNodeSummaries", needed=True)]
            return nodes
        return self._read(("cluster-nodes", name), lambda: self._calls.pages(
            "sagemaker", "list_cluster_nodes", page, key=lambda node: node.id, ClusterName=name), fresh)

    def cluster_events(self, name: str) -> list[dict]:
        """The cluster's events (ListClusterEvents, every page, oldest first); read fresh each time."""
        return self._calls.pages("sagemaker", "list_cluster_events", lambda a: listed(a, "Events"),
                                 key=lambda event: text(event["EventId"]),
                                 ClusterName=name, SortOrder="Ascending", MaxResults=100) or []

    def scheduler_config(self, config_id: str, fresh: bool = False) -> SchedulerConfig | None:
        """A cluster policy by its id."""
        def build(answer):
            return SchedulerConfig(text(answer["ClusterSchedulerConfigId"]), text(answer["ClusterSchedulerConfigArn"]),
                                   text(answer["Name"]), answer.get("ClusterArn"),
                                   whole(answer["ClusterSchedulerConfigVersion"]), text(answer["Status"]),
                                   answer.get("FailureReason") or None)
        return self._read(("scheduler-config", config_id), lambda: self._calls.call(
            "sagemaker", "describe_cluster_scheduler_config", build, ClusterSchedulerConfigId=config_id), fresh)

    def cluster_extension(self, cluster: str, arn: str, fresh: bool = False) -> Extension | None:
        """An extension of the cluster (by ARN); None once it is gone."""
        def build(answer):
            details = answer["ExtensionDetails"]
            issues = (answer.get("Health") or {}).get("Issues") or []
            failure = "; ".join(f"{i.get('Code')}: {i.get('Message')} ({i.get('NodeCount')} nodes)" for i in issues)
            return Extension(text(details["ExtensionArn"]), text(details["ExtensionName"]),
                             text(details["ExtensionVersion"]), text(details["Status"]), failure or None)
        return self._read(("extension", cluster, arn), lambda: self._calls.call(
            "sagemaker", "describe_cluster_extension", build, ClusterArn=cluster, ExtensionArn=arn), fresh)

    def training_plan(self, arn: str) -> TrainingPlan | None:
        """A training plan by its ARN (DescribeTrainingPlan reads it by name, the ARN's last part)."""
        return self._calls.once(("training-plan", arn), lambda: self._calls.call(
            "sagemaker", "describe_training_plan", _plan, TrainingPlanName=arn.rsplit("/", 1)[-1]))

    def training_plans(self) -> list[TrainingPlan]:
        """Every training plan of the region (ListTrainingPlans, all pages)."""
        def page(answer):
            return [_plan(p) for p in listed(answer, "TrainingPlanSummaries", needed=True)]
        return self._calls.once(("training-plans",), lambda: self._calls.pages(
            "sagemaker", "list_training_plans", page, key=lambda plan: plan.arn) or [])

    def send(self, operation: str, request: dict) -> Delivery:
        """Call the HyperPod operation once with the validated request, and say what the answer
        proves: "sent" (an answer in the operation's shape; one whose members are not of the model's
        types or forms is sent, with the reason it was not understood), "refused" (a 4xx with an AWS
        error code that does not say the request timed out: no effect), "not-delivered" (no
        connection was made, botocore refused the request before sending it, or --deadline had
        passed) or "unknown" (a timeout, a 5xx, throttling, a reset, an unreadable answer).
        ``--timeout`` bounds the whole call: a trickled answer is a timeout."""
        method = operation.replace("-", "_")
        self._calls.counted[("sagemaker", method)] += 1
        try:
            sender = self._calls.client("sagemaker", "send")
        except (ValueError, botocore.exceptions.BotoCoreError) as err:
            return Delivery("not-delivered", reason=settings_refused(err))
        attempt = getattr(sender, method)
        try:
            answer = self._calls.bounded(lambda: attempt(**request))
        except Overran as err:
            return Delivery("unknown" if err.started else "not-delivered", reason=str(err))
        except botocore.exceptions.ClientError as err:
            failure = client_error(err)
            proven = (failure.aws_code and 400 <= (failure.status or 0) < 500 and failure.code not in THROTTLED
                      and failure.code not in MAYBE_APPLIED and failure.status not in MAYBE_APPLIED_STATUS)
            return Delivery("refused" if proven else "unknown", code=failure.code, reason=failure.reason)
        except botocore.exceptions.ParamValidationError:
            return Delivery("not-delivered", reason="botocore refused the request before sending it")
        except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.NoCredentialsError) as err:
            return Delivery("not-delivered", reason=transport_failure(err))
        except Exception as err:  # noqa: BLE001 - the request may have reached the service
            return Delivery("unknown", reason=transport_failure(err))
        shape = output_shape(sender, method)
        missing = [m for m in shape.required_members if m not in answer] if shape else []
        if missing:
            return Delivery("unknown", reason=f"the answer could not be read (no {', '.join(missing)} in it)")
        answer.pop("ResponseMetadata", None)
        problem = nonconforming(shape, answer, patterns=True)
        if problem:  # the service took it (a 200 in the operation's shape), but what it says cannot be used
            return Delivery("sent", reason=problem)
        return Delivery("sent", response=answer)


def _plan(record: dict) -> TrainingPlan:
    """A DescribeTrainingPlan answer, or one summary of ListTrainingPlans."""
    available = record.get("AvailableInstanceCount")
    return TrainingPlan(text(record["TrainingPlanArn"]), text(record["Status"]),
                        tuple(text(t) for t in listed(record, "TargetResources")),
                        tuple((text(c["InstanceType"]), text(c["AvailabilityZone"]), whole(c["TotalInstanceCount"]))
                              for c in listed(record, "ReservedCapacitySummaries")),
                        None if available is None else whole(available))
