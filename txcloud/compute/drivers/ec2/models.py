"""Models only EC2 has: security groups."""

from __future__ import annotations

from typing import Any

import attrs

from txcloud.common.models import Model

__all__ = ["EC2SecurityGroup"]


@attrs.define(eq=False, repr=False)
class EC2SecurityGroup(Model):
    """
    A security group: a stateful firewall attached to nodes.

    Each rule is a dict with Libcloud's keys: ``protocol`` (``"tcp"``,
    ``"udp"``, ``"icmp"``, ``"-1"`` for all...), ``from_port`` and
    ``to_port`` (ints, ``None`` for every port), ``cidr_ips`` (IPv4 ranges),
    ``cidr_ipv6s`` and ``group_pairs`` (dicts with ``group_id``,
    ``group_name`` and ``user_id``).  ``extra`` holds ``description``,
    ``vpc_id``, ``owner_id`` and ``tags``.
    """

    id: str
    name: str
    driver: Any
    ingress_rules: list[dict[str, Any]] = attrs.field(factory=list)
    egress_rules: list[dict[str, Any]] = attrs.field(factory=list)
    extra: dict[str, Any] = attrs.field(factory=dict)
