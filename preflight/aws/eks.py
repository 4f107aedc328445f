"""EKS: the cluster a HyperPod cluster is orchestrated by, and its VPC CNI add-on."""

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

    def vpc_cni_version(self, name: str) -> str | None:
        """The version of the EKS cluster's managed ``vpc-cni`` add-on (``v1.18.3-eksbuild.1``); None
        when EKS manages no such add-on there: the VPC CNI is then a self-managed ``aws-node``
        DaemonSet, whose version the EKS API does not give (or the EKS cluster does not exist)."""
        return self._calls.once(("eks-vpc-cni", name), lambda: self._calls.call(
            "eks", "describe_addon", lambda answer: text(answer["addon"]["addonVersion"]),
            clusterName=name, addonName="vpc-cni"))
