"""
Security groups: list them with their rules, create and delete them, and
allow traffic in (the ``ex_`` methods Libcloud's EC2 driver has).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from twisted.internet.defer import Deferred

from txcloud.common.paging import collect
from txcloud.compute.drivers.ec2.api import EC2QueryDriver
from txcloud.compute.drivers.ec2.models import EC2SecurityGroup
from txcloud.compute.drivers.ec2.parse import parse_security_group
from txcloud.compute.drivers.ec2.query import (
    Params,
    check_text,
    selection_params,
    text_list,
)
from txcloud.errors import InvalidArgumentError, MalformedResponseError
from txcloud.http import findtext_local

__all__ = ["EC2SecurityGroupsMixin"]


def _port(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= 65535:
        raise InvalidArgumentError(f"{what} must be an integer in -1..65535, not {value!r}")
    return str(value)


def _group_key(group: object) -> Params:
    # Security group names may not start with "sg-", so ids are told apart.
    if isinstance(group, EC2SecurityGroup):
        return {"GroupId": check_text(group.id, "the security group's id")}
    value = check_text(group, "a security group id or name")
    return {"GroupId": value} if value.startswith("sg-") else {"GroupName": value}


class EC2SecurityGroupsMixin(EC2QueryDriver):
    """The security group methods of :class:`~txcloud.compute.drivers.ec2.EC2NodeDriver`."""

    def ex_get_security_groups(
        self,
        group_ids: Iterable[str] | None = None,
        group_names: Iterable[str] | None = None,
        filters: Mapping[str, str | Iterable[str]] | None = None,
    ) -> Deferred[list[EC2SecurityGroup]]:
        """
        List security groups with their rules (DescribeSecurityGroups).

        :param group_ids: only these ids.
        :param group_names: only these names.
        :param filters: EC2 filters, ``{"vpc-id": "vpc-0123"}``.
        :returns: a Deferred firing with a list of :class:`EC2SecurityGroup`.
        """
        lists = [("GroupId", group_ids, "group_ids"), ("GroupName", group_names, "group_names")]
        params = selection_params(lists, filters)
        return collect(
            self._iterate(
                "DescribeSecurityGroups", params, "securityGroupInfo", parse_security_group
            )
        )

    def ex_list_security_groups(self) -> Deferred[list[str]]:
        """List the names of this region's security groups (as Libcloud does)."""
        return self.ex_get_security_groups().addCallback(
            lambda groups: [group.name for group in groups]
        )

    def ex_create_security_group(
        self, name: str, description: str, vpc_id: str | None = None
    ) -> Deferred[dict[str, str]]:
        """
        Create a security group.

        :param vpc_id: its VPC; the region's default VPC when ``None``.
        :returns: a Deferred firing with ``{"group_id": "sg-..."}``.
        """
        group_name = check_text(name, "name")
        if group_name.lower().startswith("sg-"):
            raise InvalidArgumentError("security group names may not start with 'sg-'", self)
        params = {
            "GroupName": group_name,
            "GroupDescription": check_text(description, "description"),
        }
        if vpc_id is not None:
            params["VpcId"] = check_text(vpc_id, "vpc_id")
        return Deferred.fromCoroutine(self._create_security_group(params))

    async def _create_security_group(self, params: Params) -> dict[str, str]:
        root = await self._call("CreateSecurityGroup", params, idempotent=False)
        group_id = findtext_local(root, "groupId")
        if not group_id:
            raise MalformedResponseError("CreateSecurityGroup answered without groupId", self)
        return {"group_id": group_id}

    def ex_delete_security_group(self, group: EC2SecurityGroup | str) -> Deferred[bool]:
        """
        Delete a security group, given as an :class:`EC2SecurityGroup`, its
        id (``"sg-..."``) or its name (default VPC only).
        """
        return Deferred.fromCoroutine(
            self._call_returning("DeleteSecurityGroup", _group_key(group))
        )

    def ex_authorize_security_group_ingress(
        self,
        id: EC2SecurityGroup | str,
        from_port: int,
        to_port: int,
        cidr_ips: Iterable[str] | None = None,
        group_pairs: Iterable[Mapping[str, str]] | None = None,
        protocol: str = "tcp",
        description: str | None = None,
    ) -> Deferred[bool]:
        """
        Allow traffic into a security group (AuthorizeSecurityGroupIngress).

        :param id: the group, its id or its name.
        :param from_port: first port (ICMP: the type; ``-1`` for all).
        :param to_port: last port (ICMP: the code; ``-1`` for all).
        :param cidr_ips: IPv4 or IPv6 ranges to allow (``"203.0.113.0/24"``).
        :param group_pairs: groups to allow, dicts with ``group_id`` or
            ``group_name`` and optionally ``user_id``.
        :param protocol: ``"tcp"``, ``"udp"``, ``"icmp"``, ``"-1"`` (all) or a number.
        :param description: a description for each range or group.
        :returns: a Deferred firing with ``True`` once EC2 added the rule.
        :raises InvalidArgumentError: for bad ports, ranges or groups, or
            neither ranges nor groups.
        """
        root = "IpPermissions.1"
        params = _group_key(id)
        params.update(
            {
                f"{root}.IpProtocol": check_text(protocol, "protocol"),
                f"{root}.FromPort": _port(from_port, "from_port"),
                f"{root}.ToPort": _port(to_port, "to_port"),
            }
        )
        if description is not None:
            check_text(description, "description")
        sources = self._cidr_params(root, cidr_ips, description)
        sources.update(self._pair_params(root, group_pairs, description))
        if not sources:
            raise InvalidArgumentError("give cidr_ips or group_pairs to allow", self)
        params.update(sources)
        return Deferred.fromCoroutine(self._call_returning("AuthorizeSecurityGroupIngress", params))

    def _cidr_params(self, root: str, cidr_ips: object, description: str | None) -> Params:
        params: Params = {}
        if cidr_ips is None:
            return params
        counts = {4: 0, 6: 0}
        for cidr in text_list(cidr_ips, "cidr_ips"):
            try:
                version = ipaddress.ip_network(cidr, strict=False).version
            except ValueError:
                raise InvalidArgumentError(f"not an IP range: {cidr!r}", self) from None
            counts[version] += 1
            prefix = (
                f"{root}.IpRanges.{counts[4]}.CidrIp"
                if version == 4
                else f"{root}.Ipv6Ranges.{counts[6]}.CidrIpv6"
            )
            params[prefix] = cidr
            if description is not None:
                params[prefix.rsplit(".", 1)[0] + ".Description"] = description
        return params

    def _pair_params(self, root: str, group_pairs: object, description: str | None) -> Params:
        params: Params = {}
        if group_pairs is None:
            return params
        if not isinstance(group_pairs, (list, tuple)) or not group_pairs:
            raise InvalidArgumentError("group_pairs must be a non-empty list of dicts", self)
        names = {"group_id": "GroupId", "group_name": "GroupName", "user_id": "UserId"}
        for number, pair in enumerate(group_pairs, 1):
            if not isinstance(pair, Mapping) or not (
                pair.get("group_id") or pair.get("group_name")
            ):
                raise InvalidArgumentError("each group pair needs a group_id or group_name", self)
            unknown = set(pair) - set(names)
            if unknown:
                raise InvalidArgumentError(f"unknown group pair keys: {sorted(unknown)}", self)
            prefix = f"{root}.Groups.{number}"
            for key, value in pair.items():
                params[f"{prefix}.{names[key]}"] = check_text(value, key)
            if description is not None:
                params[f"{prefix}.Description"] = description
        return params
