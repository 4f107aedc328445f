"""EKS: the cluster a HyperPod cluster is orchestrated by."""

from __future__ import annotations

from preflight.account import EksCluster
from preflight.aws.calls import Calls, text


class Eks:
    def __init__(self, calls: Calls):
        self._calls = calls

    def eks_cluster(self, name: str) -> EksCluster | None:
        def build(answer):
            cluster = answer["cluster"]
            return EksCluster(text(cluster["arn"]), text(cluster["status"]),
                              (cluster.get("accessConfig") or {}).get("authenticationMode"),
                              (cluster.get("resourcesVpcConfig") or {}).get("vpcId"),
                              cluster.get("version") if isinstance(cluster.get("version"), str) else None)
        return self._calls.once(("eks", name), lambda: self._calls.call("eks", "describe_cluster", build, name=name))
