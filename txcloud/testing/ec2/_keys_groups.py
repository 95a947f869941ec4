"""
The key pair and security group calls of the EC2 fake: DescribeKeyPairs,
CreateKeyPair, ImportKeyPair, DeleteKeyPair, DescribeSecurityGroups,
CreateSecurityGroup, DeleteSecurityGroup and AuthorizeSecurityGroupIngress.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from txcloud.testing._http import Refused, Reply
from txcloud.testing.ec2._keys import KEY_TYPES, NewKey, generate, parse_public_key
from txcloud.testing.ec2._models import (
    FakeKeyPair,
    FakeRegion,
    FakeRule,
    FakeSecurityGroup,
    resource_id,
    tag_set,
)
from txcloud.testing.ec2._query import (
    EC2Call,
    check_filters,
    invalid,
    item_set,
    matches_filters,
    numbered,
)

__all__ = ["KeyAndGroupActions", "store_key_pair", "store_security_group"]

# Protocol numbers EC2 shows by name.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def store_key_pair(region: FakeRegion, name: str, key: NewKey, when: float) -> FakeKeyPair:
    """Keep a new key pair (its public half) in *region*."""
    key_pair = FakeKeyPair(
        resource_id("key", region.name, name, when),
        name,
        key.fingerprint,
        key.key_type,
        key.public_key,
        when,
    )
    region.key_pairs[name] = key_pair
    return key_pair


def store_security_group(
    region: FakeRegion, name: str, description: str, number: int
) -> FakeSecurityGroup:
    """Keep a new security group in *region*'s default VPC, allowing all traffic out."""
    group = FakeSecurityGroup(
        resource_id("sg", region.name, name, number),
        name,
        description,
        region.vpc_id,
        egress=[FakeRule("-1", None, None, cidrs={"0.0.0.0/0": None})],
    )
    region.security_groups[group.id] = group
    return group


def _group_not_found(region: FakeRegion, ref: str) -> Refused:
    where = "" if ref.startswith("sg-") else f" in default VPC '{region.vpc_id}'"
    return invalid(f"The security group '{ref}' does not exist{where}", "InvalidGroup.NotFound")


def _ports(protocol: str, spec: dict[str, Any]) -> tuple[int | None, int | None]:
    if protocol == "-1":
        return None, None
    low, high = (-1, 255) if protocol in ("icmp", "icmpv6") else (0, 65535)
    ports = []
    for name in ("FromPort", "ToPort"):
        text = spec.get(name)
        try:
            value = int(text) if isinstance(text, str) else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise invalid(f"Invalid value '{text}' for {name.lower()}. It must be {low}..{high}.")
        ports.append(value)
    if protocol in ("tcp", "udp") and ports[0] > ports[1]:
        raise invalid(f"Invalid TCP/UDP port range {ports[0]}..{ports[1]}")
    return ports[0], ports[1]


def _ranges(spec: dict[str, Any], key: str, field: str, version: int) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for entry in numbered(spec.get(key) or {}):
        cidr = entry.get(field) if isinstance(entry, dict) else None
        try:
            network = ipaddress.ip_network(cidr or "", strict=False)
        except ValueError:
            network = None
        if network is None or network.version != version:
            raise invalid(f"CIDR block {cidr} is malformed")
        found[cidr or ""] = entry.get("Description")
    return found


def _same_ports(group: FakeSecurityGroup, rule: FakeRule) -> FakeRule | None:
    """The ingress permission of *group* for the protocol and ports of *rule*."""
    ports = (rule.protocol, rule.from_port, rule.to_port)
    return next((r for r in group.ingress if (r.protocol, r.from_port, r.to_port) == ports), None)


class KeyAndGroupActions:
    """The key pair and security group calls of :class:`~txcloud.testing.ec2.FakeEC2`."""

    clock: Any
    default_page_size: int | None

    # Provided by the fake this is part of.

    def _next(self) -> int:
        raise NotImplementedError

    # Key pairs

    def _describe_key_pairs(self, call: EC2Call) -> Reply:
        region = call.region
        names = call.params.strings("KeyName")
        ids = call.params.strings("KeyPairId")
        for name in names:
            if name not in region.key_pairs:
                raise invalid(f"The key pair '{name}' does not exist", "InvalidKeyPair.NotFound")
        known_ids = {key.id for key in region.key_pairs.values()}
        for key_id in ids:
            if key_id not in known_ids:
                raise invalid(
                    f"The key pair ID '{key_id}' does not exist", "InvalidKeyPair.NotFound"
                )
        filters = call.params.filters()
        check_filters(filters, FakeKeyPair.FILTERS, tags=True)
        found = [
            key
            for key in region.key_pairs.values()
            if (not names or key.name in names)
            and (not ids or key.id in ids)
            and matches_filters(filters, key.filter_values)
        ]
        with_public = call.params.flag("IncludePublicKey")
        return call.answer(item_set("keySet", (key.item(with_public) for key in found)))

    def _new_key_name(self, call: EC2Call) -> str:
        name = call.params.required("KeyName")
        if len(name) > 255 or not name.isascii():
            raise invalid(f"Key name '{name}' must be 1 to 255 ASCII characters")
        if name in call.region.key_pairs:
            raise invalid(f"The keypair '{name}' already exists.", "InvalidKeyPair.Duplicate")
        return name

    def _create_key_pair(self, call: EC2Call) -> Reply:
        name = self._new_key_name(call)
        key_type = call.params.get("KeyType") or "rsa"
        if key_type not in KEY_TYPES:
            raise invalid(f"Invalid value '{key_type}' for KeyType.")
        tags = call.params.tags_for("key-pair")
        key = generate(key_type)
        key_pair = store_key_pair(call.region, name, key, self.clock.seconds())
        key_pair.tags = tags
        return call.answer(
            ("keyName", name),
            ("keyFingerprint", key.fingerprint),
            ("keyMaterial", key.private_key),
            ("keyPairId", key_pair.id),
            tag_set(tags),
        )

    def _import_key_pair(self, call: EC2Call) -> Reply:
        name = self._new_key_name(call)
        material = call.params.required("PublicKeyMaterial")
        try:
            key = parse_public_key(base64.b64decode(material, validate=True).decode("ascii"))
        except (binascii.Error, ValueError):
            raise invalid(
                "Key is not in valid OpenSSH public key format", "InvalidKey.Format"
            ) from None
        key_pair = store_key_pair(call.region, name, key, self.clock.seconds())
        key_pair.tags = call.params.tags_for("key-pair")
        return call.answer(
            ("keyFingerprint", key.fingerprint),
            ("keyName", name),
            ("keyPairId", key_pair.id),
            tag_set(key_pair.tags),
        )

    def _delete_key_pair(self, call: EC2Call) -> Reply:
        region = call.region
        name = call.params.get("KeyName")
        key_id = call.params.get("KeyPairId")
        if name is None and key_id is None:
            raise invalid("The request must contain the parameter KeyName", "MissingParameter")
        found = region.key_pairs.get(name or "") or next(
            (key for key in region.key_pairs.values() if key.id == key_id), None
        )
        # EC2 deletes what is not there without a complaint.
        if found is not None:
            del region.key_pairs[found.name]
        return call.answer(("return", True), ("keyPairId", found.id if found else None))

    # Security groups

    def _group(self, call: EC2Call) -> FakeSecurityGroup:
        """The group ``GroupId`` or ``GroupName`` names."""
        region = call.region
        group_id, name = call.params.get("GroupId"), call.params.get("GroupName")
        if group_id is not None:
            found = region.security_groups.get(group_id)
            if found is None:
                raise _group_not_found(region, group_id)
            return found
        if name is None:
            raise invalid("The request must contain the parameter GroupId", "MissingParameter")
        named = region.group_named(name)
        if named is None:
            raise _group_not_found(region, name)
        return named

    def _describe_security_groups(self, call: EC2Call) -> Reply:
        region = call.region
        groups = list(region.security_groups.values())
        ids = call.params.strings("GroupId")
        names = call.params.strings("GroupName")
        for ref in ids:
            if ref not in region.security_groups:
                raise _group_not_found(region, ref)
        for ref in names:
            if region.group_named(ref) is None:
                raise _group_not_found(region, ref)
        filters = call.params.filters()
        check_filters(filters, FakeSecurityGroup.FILTERS, tags=True)
        found = [
            group
            for group in groups
            if (not ids or group.id in ids)
            and (not names or group.name in names)
            and matches_filters(filters, group.filter_values)
        ]
        page, token = call.params.page(call.action, found, self.default_page_size)
        group_names = region.group_names()
        return call.answer(
            item_set("securityGroupInfo", (group.item(group_names) for group in page)),
            ("nextToken", token),
        )

    def _create_security_group(self, call: EC2Call) -> Reply:
        region = call.region
        name = call.params.required("GroupName")
        description = call.params.required("GroupDescription")
        if name.lower().startswith("sg-"):
            raise invalid("Group names may not be in the format sg-*")
        vpc_id = call.params.get("VpcId") or region.vpc_id
        if vpc_id != region.vpc_id:
            raise invalid(f"The vpc ID '{vpc_id}' does not exist", "InvalidVpcID.NotFound")
        if region.group_named(name) is not None:
            raise invalid(
                f"The security group '{name}' already exists for VPC '{vpc_id}'",
                "InvalidGroup.Duplicate",
            )
        tags = call.params.tags_for("security-group")
        group = store_security_group(region, name, description, self._next())
        group.tags = tags
        return call.answer(("return", True), ("groupId", group.id), tag_set(tags))

    def _delete_security_group(self, call: EC2Call) -> Reply:
        region = call.region
        group = self._group(call)
        if group.name == "default":
            raise invalid(
                f'the specified group: "{group.id}" name: "default" cannot be deleted by a user',
                "CannotDelete",
            )
        users = [
            instance
            for instance in region.instances.values()
            if group.id in instance.security_groups and instance.state != "terminated"
        ]
        referring = [
            other
            for other in region.security_groups.values()
            if other is not group
            and any(group.id in rule.groups for rule in other.ingress + other.egress)
        ]
        if users or referring:
            raise invalid(f"resource {group.id} has a dependent object", "DependencyViolation")
        del region.security_groups[group.id]
        return call.answer(("return", True), ("groupId", group.id))

    def _authorize_security_group_ingress(self, call: EC2Call) -> Reply:
        group = self._group(call)
        wanted = [self._rule(call, spec) for spec in call.params.structures("IpPermissions")]
        if not wanted:
            raise invalid(
                "The request must contain the parameter IpPermissions", "MissingParameter"
            )
        for rule in wanted:
            existing = _same_ports(group, rule)
            if existing is None:
                continue
            repeated = (
                set(existing.cidrs) & set(rule.cidrs)
                or set(existing.cidrs_v6) & set(rule.cidrs_v6)
                or set(existing.groups) & set(rule.groups)
            )
            if repeated:
                raise invalid(
                    f'the specified rule "peer: {sorted(repeated)[0]}, {rule.protocol.upper()}, '
                    f'from port: {rule.from_port}, to port: {rule.to_port}, ALLOW" already exists',
                    "InvalidPermission.Duplicate",
                )
        for rule in wanted:
            existing = _same_ports(group, rule)
            if existing is None:
                group.ingress.append(rule)
            else:
                existing.cidrs.update(rule.cidrs)
                existing.cidrs_v6.update(rule.cidrs_v6)
                existing.groups.update(rule.groups)
        return call.answer(("return", True))

    def _rule(self, call: EC2Call, spec: dict[str, Any]) -> FakeRule:
        protocol = str(spec.get("IpProtocol") or "").lower()
        protocol = _PROTOCOL_NAMES.get(protocol, protocol)
        if protocol not in ("tcp", "udp", "icmp", "icmpv6", "-1") and not (
            protocol.isdigit() and int(protocol) <= 255
        ):
            raise invalid(f"Invalid value '{spec.get('IpProtocol')}' for IP protocol.")
        from_port, to_port = _ports(protocol, spec)
        groups: dict[str, str | None] = {}
        for pair in numbered(spec.get("Groups") or {}):
            if not isinstance(pair, dict):
                continue
            ref = pair.get("GroupId") or pair.get("GroupName") or ""
            found = call.region.security_groups.get(ref) or call.region.group_named(ref)
            if found is None:
                raise _group_not_found(call.region, ref)
            groups[found.id] = pair.get("Description")
        rule = FakeRule(
            protocol,
            from_port,
            to_port,
            cidrs=_ranges(spec, "IpRanges", "CidrIp", 4),
            cidrs_v6=_ranges(spec, "Ipv6Ranges", "CidrIpv6", 6),
            groups=groups,
        )
        if not (rule.cidrs or rule.cidrs_v6 or rule.groups):
            raise invalid("Each permission needs an IP range or a group", "MissingParameter")
        return rule
