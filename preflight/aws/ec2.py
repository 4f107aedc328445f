"""EC2: the AMIs and their snapshots, the subnets with their route tables, security groups and their
rules, network interfaces' groups, and which zones offer an instance type."""

from __future__ import annotations

from preflight.account import Image, InstanceType, Permission, SecurityGroup, Snapshot, Subnet, VpcEndpoint
from preflight.aws.calls import Calls, flag, listed, tags, text, whole


class Ec2:
    def __init__(self, calls: Calls):
        self._calls = calls

    def images(self, ids: list[str]) -> dict[str, Image | None]:
        def page(answer):
            return [(text(i["ImageId"]), Image(
                text(i["ImageId"]), text(i["State"]), text(i["OwnerId"]), tags(i),
                tuple(text(m["Ebs"]["SnapshotId"]) for m in listed(i, "BlockDeviceMappings")
                      if "Ebs" in m and m["Ebs"].get("SnapshotId")))) for i in listed(answer, "Images", needed=True)]
        return self._calls.batch("image", ids,
                                 lambda batch: self._calls.by_id("ec2", "describe_images", page, ImageIds=batch))

    def snapshots(self, ids: list[str]) -> dict[str, Snapshot | None]:
        def page(answer):
            return [(text(s["SnapshotId"]), Snapshot(text(s["SnapshotId"]), flag(s["Encrypted"]), s.get("KmsKeyId"),
                                                     tags(s))) for s in listed(answer, "Snapshots", needed=True)]
        return self._calls.batch("snapshot", ids, lambda batch: self._calls.by_id(
            "ec2", "describe_snapshots", page, SnapshotIds=batch))

    def subnets(self, ids: list[str]) -> dict[str, Subnet | None]:
        def fetch(batch):
            found = self._calls.by_id("ec2", "describe_subnets", lambda a: [
                (text(s["SubnetId"]), (text(s["VpcId"]), text(s["AvailabilityZone"]), s.get("CidrBlock"),
                 None if s.get("AvailableIpAddressCount") is None else whole(s["AvailableIpAddressCount"])))
                for s in listed(a, "Subnets", needed=True)], SubnetIds=batch)
            if found is None:
                return None
            subnets = [(subnet, *record) for subnet, record in found.items()]
            vpcs = sorted({vpc for _, vpc, _, _, _ in subnets})
            tables = self._calls.pages("ec2", "describe_route_tables", lambda a: listed(a, "RouteTables", needed=True),
                                       key=lambda table: table.get("RouteTableId"),
                                       Filters=[{"Name": "vpc-id", "Values": vpcs}]) or []
            routes = {subnet: _routes(subnet, vpc, tables) for subnet, vpc, _, _, _ in subnets}
            return {subnet: Subnet(subnet, vpc, zone, *routes.get(subnet, (False, False, None)), cidr=cidr,
                                   free_addresses=free) for subnet, vpc, zone, cidr, free in subnets}
        return self._calls.batch("subnet", ids, fetch)

    def vpc_endpoints(self, vpc: str) -> list[VpcEndpoint]:
        """The VPC's endpoints (every page), each by its service's own name (``s3``, not
        ``com.amazonaws.us-east-1.s3``)."""
        def page(answer):
            return [VpcEndpoint(text(e["VpcEndpointId"]), text(e["ServiceName"]).split(".", 3)[-1],
                                text(e["VpcEndpointType"]), text(e["State"]),
                                tuple(text(t) for t in listed(e, "RouteTableIds")))
                    for e in listed(answer, "VpcEndpoints", needed=True)]
        return self._calls.once(("vpc-endpoints", vpc), lambda: self._calls.pages(
            "ec2", "describe_vpc_endpoints", page, key=lambda endpoint: endpoint.id,
            Filters=[{"Name": "vpc-id", "Values": [vpc]}]) or [])

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup | None]:
        def page(answer):
            return [(text(g["GroupId"]), SecurityGroup(text(g["GroupId"]), text(g["VpcId"]),
                                                       _self_rule(g, listed(g, "IpPermissions")),
                                                       _self_rule(g, listed(g, "IpPermissionsEgress")),
                                                       _permissions(listed(g, "IpPermissions")),
                                                       _permissions(listed(g, "IpPermissionsEgress"))))
                    for g in listed(answer, "SecurityGroups", needed=True)]
        return self._calls.batch("security-group", ids, lambda batch: self._calls.by_id(
            "ec2", "describe_security_groups", page, GroupIds=batch))

    def interface_groups(self, ids: list[str]) -> dict[str, tuple[str, ...] | None]:
        """The security groups of each network interface (an FSx file system's)."""
        def page(answer):
            return [(text(i["NetworkInterfaceId"]), tuple(text(g["GroupId"]) for g in listed(i, "Groups")))
                    for i in listed(answer, "NetworkInterfaces", needed=True)]
        return self._calls.batch("network-interface", ids, lambda batch: self._calls.by_id(
            "ec2", "describe_network_interfaces", page, NetworkInterfaceIds=batch))

    def instance_types(self, names: list[str]) -> dict[str, InstanceType | None]:
        """EC2's record of each type, by the request's name (``ml.`` prefix and all)."""
        def page(answer):
            return [(f"ml.{text(t['InstanceType'])}", InstanceType(text(t["InstanceType"]), flag(
                (t.get("NetworkInfo") or {}).get("EfaSupported", False))))
                for t in listed(answer, "InstanceTypes", needed=True)]
        return self._calls.batch("instance-type", names, lambda batch: self._calls.by_id(
            "ec2", "describe_instance_types", page, InstanceTypes=[n.removeprefix("ml.") for n in batch]))

    def offered_zones(self, instance_type: str) -> set[str]:
        ec2_type = instance_type.removeprefix("ml.")

        def compute():
            return set(self._calls.pages("ec2", "describe_instance_type_offerings", lambda a: [
                text(o["Location"]) for o in listed(a, "InstanceTypeOfferings", needed=True)],
                LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [ec2_type]}]) or ())
        return self._calls.once(("offerings", ec2_type), compute)


def _routes(subnet: str, vpc: str, tables: list[dict]) -> tuple[bool, bool, str | None]:
    """(public, egress, route table) of a subnet: its own route table's default route (else the
    VPC's main table's) goes to an internet gateway, or to another target that gives a node without
    a public address a way out (a NAT gateway or instance, a transit gateway...); a blackhole route
    goes nowhere."""
    explicit = [t for t in tables if any(a.get("SubnetId") == subnet for a in listed(t, "Associations"))]
    chosen = explicit or [t for t in tables if t.get("VpcId") == vpc
                          and any(a.get("Main") for a in listed(t, "Associations"))]
    default = [r for t in chosen for r in listed(t, "Routes")
               if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("State", "active") == "active"]
    public = any(str(r.get("GatewayId", "")).startswith("igw-") for r in default)
    egress = any(not str(r.get("GatewayId", "")).startswith("igw-") for r in default)
    return public, egress, text(chosen[0]["RouteTableId"]) if chosen else None


def _self_rule(group: dict, permissions: list[dict]) -> bool:
    """Whether the permissions allow all traffic from (or to) the group itself."""
    return any(p.get("IpProtocol") == "-1" and any(pair.get("GroupId") == group["GroupId"]
                                                   for pair in listed(p, "UserIdGroupPairs"))
               for p in permissions)


def _permissions(permissions: list[dict]) -> tuple[Permission, ...]:
    def port(value):
        return None if value is None else whole(value)
    return tuple(Permission(text(p["IpProtocol"]), port(p.get("FromPort")), port(p.get("ToPort")),
                            tuple(text(pair["GroupId"]) for pair in listed(p, "UserIdGroupPairs") if "GroupId" in pair),
                            tuple(text(r["CidrIp"]) for r in listed(p, "IpRanges")))
                 for p in permissions)
