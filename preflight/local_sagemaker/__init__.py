"""The embedded local AWS's HyperPod: the cluster operations moto's SageMaker lacks, over moto's own
cluster state (``moto.sagemaker.models.Cluster`` and ``ClusterNode``), plus seeded Service Quotas.

moto's (5.2.x): CreateCluster, DescribeCluster, ListClusters, DeleteCluster, ListClusterNodes,
DescribeClusterNode, and the cluster and node records themselves.

Ours, because moto answers them with an HTML 500 or not at all, by what they serve (each module
says what of the service it models):

- ``clusters``: UpdateCluster, UpdateClusterSoftware, ListClusterEvents, and what is fixed in
  moto's CreateCluster (a group without ``ThreadsPerCore``, the ``ImageId``, ``Orchestrator`` and
  ``NodeProvisioningMode`` it drops, node ids);
- ``nodes``: BatchDeleteClusterNodes, BatchAddClusterNodes, BatchRebootClusterNodes,
  BatchReplaceClusterNodes, MoveClusterNodes, AttachClusterNodeVolume, DetachClusterNodeVolume,
  AttachClusterNodeNetworkInterface, StartClusterHealthCheck;
- ``scheduler_configs``: Create/Update/Delete/DescribeClusterSchedulerConfig,
  ListClusterSchedulerConfigs, and ``extensions``: Create/Update/Delete/DescribeClusterExtension,
  ListClusterExtensions, ListClusterExtensionVersions, both kept beside moto's clusters on its
  SageMaker backend;
- ``training_plans``: DescribeTrainingPlan and ListTrainingPlans, from the state's plans;
- ``quotas``: Service Quotas' ListServiceQuotas;
- ``common``: what they share, among it how a change settles (``settle_seconds``, ``failures``).

Not modelled: capacity, lifecycle scripts actually running, rollbacks, client tokens,
ResourceLimitExceeded; what else each module leaves out, its docstring says.
"""

from __future__ import annotations

from preflight.local_sagemaker import clusters, extensions, nodes, quotas, scheduler_configs, training_plans
# SETTINGS and QUOTAS are set through the package (by preflight.local and the tests)
from preflight.local_sagemaker.common import SETTINGS, backend_records
from preflight.local_sagemaker.quotas import QUOTAS
from preflight.local_sagemaker.training_plans import PLANS

_INSTALLED = False


def install(settle_seconds: float = 0.0, failures: dict | None = None) -> None:
    """Add the operations to moto's response classes (once per process) and set the behaviour."""
    global _INSTALLED
    SETTINGS["settle_seconds"] = float(settle_seconds)
    SETTINGS["failures"] = dict(failures or {})
    if _INSTALLED:
        return
    from moto.sagemaker.responses import SageMakerResponse
    from moto.servicequotas.responses import ServiceQuotasResponse

    clusters.fix_moto()
    for module in (clusters, nodes, scheduler_configs, extensions, training_plans):
        for name, handler in module.HANDLERS.items():
            setattr(SageMakerResponse, name, handler)
    ServiceQuotasResponse.list_service_quotas = quotas.list_service_quotas
    _INSTALLED = True


def rekey(account: str, region: str, kind: str, old: str, new: str) -> None:
    """Give a scheduler config (``kind`` scheduler_configs, by id) or an extension (extensions, by
    ARN) made through the API the id a state file names, so that requests can name it."""
    from moto.sagemaker.models import sagemaker_backends

    records = backend_records(sagemaker_backends[account][region], kind)
    record = records.pop(old)
    old_id, new_id = old.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]
    for key, value in record.items():
        if isinstance(value, str) and value.endswith(old_id):
            record[key] = value[:-len(old_id)] + new_id
    records[new] = record
