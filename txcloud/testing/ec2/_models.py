"""
What the EC2 fake keeps, region by region (instances, images, key pairs,
security groups, availability zones) and the ``<item>`` elements the
Query API shows for each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

import attrs
from lxml import etree

from txcloud.testing.ec2._query import E, fields, item_set

__all__ = [
    "ACCOUNT_ID",
    "STATE_CODES",
    "FakeImage",
    "FakeInstance",
    "FakeInstanceType",
    "FakeKeyPair",
    "FakeRegion",
    "FakeRule",
    "FakeSecurityGroup",
    "Filters",
    "filter_values",
    "iso_time",
    "reservations",
    "resource_id",
]

_R = TypeVar("_R")

#: The account id of the fake's resources.
ACCOUNT_ID = "123456789012"

#: Instance states and the codes EC2 gives them.
STATE_CODES = {
    "pending": 0,
    "running": 16,
    "shutting-down": 32,
    "terminated": 48,
    "stopping": 64,
    "stopped": 80,
}


def iso_time(seconds: float) -> str:
    """A POSIX time as EC2 writes it: ``2024-05-01T12:30:00.000Z``."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def resource_id(prefix: str, *seed: object) -> str:
    """A resource id like EC2's (``i-0123456789abcdef0``), the same for the same seed."""
    digest = hashlib.sha256(":".join(map(str, seed)).encode()).hexdigest()
    return f"{prefix}-0{digest[:16]}"


def tag_set(tags: dict[str, str]) -> etree._Element:
    """A ``<tagSet>``."""
    return item_set(
        "tagSet", (fields(E.item(), [("key", k), ("value", v)]) for k, v in tags.items())
    )


#: The filters of one kind of resource, each with what gives a resource's values for it.
Filters = dict[str, Callable[[_R], list[str]]]


def filter_values(resource: Any, name: str, tags: dict[str, str]) -> list[str]:
    """
    *resource*'s values for filter *name*: one of its kind's ``FILTERS``,
    or a tag filter (``tag:Name``, ``tag-key``, ``tag-value``).
    """
    getter = type(resource).FILTERS.get(name)
    if getter is not None:
        values: list[str] = getter(resource)
        return values
    if name.startswith("tag:"):
        key = name[len("tag:") :]
        return [tags[key]] if key in tags else []
    return list(tags) if name == "tag-key" else list(tags.values())


@attrs.define
class FakeInstanceType:
    """An instance type: vCPUs, memory (MiB), architectures and instance storage (GB)."""

    name: str
    vcpus: int
    memory: int
    architectures: tuple[str, ...] = ("x86_64",)
    storage: int | None = None

    #: The filters of DescribeInstanceTypes, and an instance type's values for each.
    FILTERS: ClassVar[Filters[FakeInstanceType]] = {
        "instance-type": lambda kind: [kind.name],
        "vcpu-info.default-vcpus": lambda kind: [str(kind.vcpus)],
        "memory-info.size-in-mib": lambda kind: [str(kind.memory)],
        "processor-info.supported-architecture": lambda kind: list(kind.architectures),
        "current-generation": lambda kind: ["true"],
        "instance-storage-supported": lambda kind: ["true" if kind.storage else "false"],
    }

    def filter_values(self, name: str) -> list[str]:
        """Its values for a DescribeInstanceTypes filter."""
        return self.FILTERS[name](self)

    def item(self) -> etree._Element:
        """Its ``instanceTypeSet/item``."""
        processor = E.processorInfo(
            item_set("supportedArchitectures", (E.item(a) for a in self.architectures)),
            E.sustainedClockSpeedInGhz("3.1"),
        )
        cpus = fields(
            E.vCpuInfo(),
            [
                ("defaultVCpus", self.vcpus),
                ("defaultCores", max(self.vcpus // 2, 1)),
                ("defaultThreadsPerCore", 2 if self.vcpus > 1 else 1),
            ],
        )
        entries: list[Any] = [
            ("instanceType", self.name),
            ("currentGeneration", True),
            ("freeTierEligible", self.name == "t3.micro"),
            ("bareMetal", False),
            ("hypervisor", "nitro"),
            processor,
            cpus,
            E.memoryInfo(E.sizeInMiB(str(self.memory))),
            ("instanceStorageSupported", self.storage is not None),
        ]
        if self.storage is not None:
            entries.append(E.instanceStorageInfo(E.totalSizeInGB(str(self.storage))))
        entries.append(E.networkInfo(E.networkPerformance("Up to 5 Gigabit")))
        return fields(E.item(), entries)


@attrs.define
class FakeImage:
    """An AMI."""

    id: str
    name: str
    owner_id: str
    created: float
    owner_alias: str | None = None
    architecture: str = "x86_64"
    description: str = ""
    public: bool = True
    state: str = "available"
    platform: str | None = None
    tags: dict[str, str] = attrs.field(factory=dict)

    #: The filters of DescribeImages, and an image's values for each.
    FILTERS: ClassVar[Filters[FakeImage]] = {
        "image-id": lambda image: [image.id],
        "name": lambda image: [image.name],
        "owner-id": lambda image: [image.owner_id],
        "owner-alias": lambda image: [image.owner_alias] if image.owner_alias else [],
        "architecture": lambda image: [image.architecture],
        "state": lambda image: [image.state],
        "is-public": lambda image: ["true" if image.public else "false"],
        "description": lambda image: [image.description],
        "image-type": lambda image: ["machine"],
        "root-device-type": lambda image: ["ebs"],
        "virtualization-type": lambda image: ["hvm"],
    }

    def filter_values(self, name: str) -> list[str]:
        """Its values for a DescribeImages filter."""
        return filter_values(self, name, self.tags)

    def item(self) -> etree._Element:
        """Its ``imagesSet/item``."""
        return fields(
            E.item(),
            [
                ("imageId", self.id),
                ("imageLocation", f"{self.owner_alias or self.owner_id}/{self.name}"),
                ("imageState", self.state),
                ("imageOwnerId", self.owner_id),
                ("creationDate", iso_time(self.created)),
                ("isPublic", self.public),
                ("architecture", self.architecture),
                ("imageType", "machine"),
                ("platform", self.platform),
                ("imageOwnerAlias", self.owner_alias),
                ("name", self.name),
                ("description", self.description or None),
                ("rootDeviceType", "ebs"),
                ("rootDeviceName", "/dev/xvda"),
                item_set(
                    "blockDeviceMapping",
                    [
                        E.item(
                            E.deviceName("/dev/xvda"),
                            E.ebs(E.volumeSize("8"), E.deleteOnTermination("true")),
                        )
                    ],
                ),
                ("virtualizationType", "hvm"),
                ("hypervisor", "xen"),
                ("enaSupport", True),
                tag_set(self.tags),
            ],
        )


@attrs.define
class FakeKeyPair:
    """A key pair: EC2 keeps the public key only."""

    id: str
    name: str
    fingerprint: str
    key_type: str
    public_key: str
    created: float
    tags: dict[str, str] = attrs.field(factory=dict)

    #: The filters of DescribeKeyPairs, and a key pair's values for each.
    FILTERS: ClassVar[Filters[FakeKeyPair]] = {
        "key-name": lambda key: [key.name],
        "key-pair-id": lambda key: [key.id],
        "fingerprint": lambda key: [key.fingerprint],
        "key-type": lambda key: [key.key_type],
    }

    def filter_values(self, name: str) -> list[str]:
        """Its values for a DescribeKeyPairs filter."""
        return filter_values(self, name, self.tags)

    def item(self, with_public_key: bool) -> etree._Element:
        """Its ``keySet/item``."""
        return fields(
            E.item(),
            [
                ("keyPairId", self.id),
                ("keyName", self.name),
                ("keyFingerprint", self.fingerprint),
                ("keyType", self.key_type),
                tag_set(self.tags),
                ("publicKey", self.public_key if with_public_key else None),
                ("createTime", iso_time(self.created)),
            ],
        )


@attrs.define
class FakeRule:
    """
    One permission of a security group: a protocol and port range, and the
    sources (or destinations) it allows.

    :ivar cidrs: IPv4 ranges, each with its description.
    :ivar cidrs_v6: IPv6 ranges, each with its description.
    :ivar groups: security group ids, each with its description.
    """

    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: dict[str, str | None] = attrs.field(factory=dict)
    cidrs_v6: dict[str, str | None] = attrs.field(factory=dict)
    groups: dict[str, str | None] = attrs.field(factory=dict)

    def item(self, group_names: dict[str, str]) -> etree._Element:
        """Its ``ipPermissions/item``."""
        pairs = (
            fields(
                E.item(),
                [
                    ("userId", ACCOUNT_ID),
                    ("groupId", group_id),
                    ("groupName", group_names.get(group_id)),
                    ("description", description),
                ],
            )
            for group_id, description in self.groups.items()
        )
        v4 = (
            fields(E.item(), [("cidrIp", cidr), ("description", description)])
            for cidr, description in self.cidrs.items()
        )
        v6 = (
            fields(E.item(), [("cidrIpv6", cidr), ("description", description)])
            for cidr, description in self.cidrs_v6.items()
        )
        return fields(
            E.item(),
            [
                ("ipProtocol", self.protocol),
                ("fromPort", self.from_port),
                ("toPort", self.to_port),
                item_set("groups", pairs),
                item_set("ipRanges", v4),
                item_set("ipv6Ranges", v6),
                item_set("prefixListIds", []),
            ],
        )


@attrs.define
class FakeSecurityGroup:
    """A security group of a VPC."""

    id: str
    name: str
    description: str
    vpc_id: str
    ingress: list[FakeRule] = attrs.field(factory=list)
    egress: list[FakeRule] = attrs.field(factory=list)
    tags: dict[str, str] = attrs.field(factory=dict)

    #: The filters of DescribeSecurityGroups, and a group's values for each.
    FILTERS: ClassVar[Filters[FakeSecurityGroup]] = {
        "group-id": lambda group: [group.id],
        "group-name": lambda group: [group.name],
        "description": lambda group: [group.description],
        "vpc-id": lambda group: [group.vpc_id],
        "owner-id": lambda group: [ACCOUNT_ID],
    }

    def filter_values(self, name: str) -> list[str]:
        """Its values for a DescribeSecurityGroups filter."""
        return filter_values(self, name, self.tags)

    def item(self, group_names: dict[str, str]) -> etree._Element:
        """Its ``securityGroupInfo/item``."""
        return fields(
            E.item(),
            [
                ("ownerId", ACCOUNT_ID),
                ("groupId", self.id),
                ("groupName", self.name),
                ("groupDescription", self.description),
                ("vpcId", self.vpc_id),
                item_set("ipPermissions", (r.item(group_names) for r in self.ingress)),
                item_set("ipPermissionsEgress", (r.item(group_names) for r in self.egress)),
                tag_set(self.tags),
            ],
        )


@attrs.define
class FakeInstance:
    """
    An instance.  A state change under way (``pending`` to ``running``...)
    ends at :attr:`next_at` on the clock, in :attr:`next_state`.
    """

    id: str
    image_id: str
    instance_type: str
    zone: str
    subnet_id: str
    vpc_id: str
    private_ip: str
    reservation_id: str
    launch_time: float
    state: str = "running"
    public_ip: str | None = None
    tags: dict[str, str] = attrs.field(factory=dict)
    key_name: str | None = None
    security_groups: dict[str, str] = attrs.field(factory=dict)
    client_token: str = ""
    launch_index: int = 0
    user_data: bytes | None = None
    architecture: str = "x86_64"
    iam_profile: str | None = None
    ebs_optimized: bool = False
    placement_group: str | None = None
    shutdown_behavior: str = "stop"
    wants_public_ip: bool = True
    next_state: str | None = None
    next_at: float = 0.0
    ended_at: float | None = None

    def move(self, state: str, then: str | None, at: float) -> None:
        """Enter *state* now, and *then* (if any) at *at*."""
        self.state, self.next_state, self.next_at = state, then, at

    #: The filters of DescribeInstances, and an instance's values for each.
    FILTERS: ClassVar[Filters[FakeInstance]] = {
        "instance-id": lambda i: [i.id],
        "instance-state-name": lambda i: [i.state],
        "instance-state-code": lambda i: [str(STATE_CODES[i.state])],
        "instance-type": lambda i: [i.instance_type],
        "image-id": lambda i: [i.image_id],
        "key-name": lambda i: [i.key_name] if i.key_name else [],
        "availability-zone": lambda i: [i.zone],
        "vpc-id": lambda i: [i.vpc_id],
        "subnet-id": lambda i: [i.subnet_id],
        "private-ip-address": lambda i: [i.private_ip],
        "ip-address": lambda i: [i.public_ip] if i.public_ip else [],
        "reservation-id": lambda i: [i.reservation_id],
        "client-token": lambda i: [i.client_token],
        "architecture": lambda i: [i.architecture],
        "launch-index": lambda i: [str(i.launch_index)],
        "instance.group-id": lambda i: list(i.security_groups),
        "instance.group-name": lambda i: list(i.security_groups.values()),
    }

    def filter_values(self, name: str) -> list[str]:
        """Its values for a DescribeInstances filter."""
        return filter_values(self, name, self.tags)

    def state_element(self, name: str, state: str) -> etree._Element:
        """``<name><code/><name/></name>`` for *state*."""
        return E(name, E.code(str(STATE_CODES[state])), E.name(state))

    def item(self) -> etree._Element:
        """Its ``instancesSet/item``."""

        def groups() -> list[etree._Element]:
            return [
                fields(E.item(), [("groupId", group_id), ("groupName", name)])
                for group_id, name in self.security_groups.items()
            ]

        public_dns = (
            f"ec2-{self.public_ip.replace('.', '-')}.compute-1.amazonaws.com"
            if self.public_ip
            else ""
        )
        private_dns = f"ip-{self.private_ip.replace('.', '-')}.ec2.internal"
        stopped = self.state in ("stopped", "terminated")
        interface = fields(
            E.item(),
            [
                ("networkInterfaceId", resource_id("eni", self.id)),
                ("subnetId", self.subnet_id),
                ("vpcId", self.vpc_id),
                ("description", ""),
                ("ownerId", ACCOUNT_ID),
                ("status", "in-use"),
                ("macAddress", "0a:" + ":".join(self.id[-10:][i : i + 2] for i in (0, 2, 4, 6, 8))),
                ("privateIpAddress", self.private_ip),
                ("sourceDestCheck", True),
                item_set("groupSet", groups()),
            ],
        )
        if self.public_ip is not None:
            interface.append(E.association(E.publicIp(self.public_ip), E.ipOwnerId("amazon")))
        root_volume = E.item(
            E.deviceName("/dev/xvda"),
            fields(
                E.ebs(),
                [
                    ("volumeId", resource_id("vol", self.id)),
                    ("status", "attached"),
                    ("attachTime", iso_time(self.launch_time)),
                    ("deleteOnTermination", True),
                ],
            ),
        )
        placement = fields(
            E.placement(),
            [
                ("availabilityZone", self.zone),
                ("groupName", self.placement_group or ""),
                ("tenancy", "default"),
            ],
        )
        entries: list[Any] = [
            ("instanceId", self.id),
            ("imageId", self.image_id),
            self.state_element("instanceState", self.state),
            ("privateDnsName", private_dns),
            ("dnsName", public_dns),
            ("reason", "User initiated" if stopped else ""),
            ("keyName", self.key_name),
            ("amiLaunchIndex", self.launch_index),
            item_set("productCodes", []),
            ("instanceType", self.instance_type),
            ("launchTime", iso_time(self.launch_time)),
            placement,
            E.monitoring(E.state("disabled")),
            ("subnetId", self.subnet_id),
            ("vpcId", self.vpc_id),
            ("privateIpAddress", self.private_ip),
            ("ipAddress", self.public_ip),
            ("sourceDestCheck", True),
            item_set("groupSet", groups()),
            ("architecture", self.architecture),
            ("rootDeviceType", "ebs"),
            ("rootDeviceName", "/dev/xvda"),
            item_set("blockDeviceMapping", [root_volume] if self.state != "terminated" else []),
            ("virtualizationType", "hvm"),
            ("clientToken", self.client_token),
            tag_set(self.tags),
            ("hypervisor", "xen"),
            item_set("networkInterfaceSet", [interface] if self.state != "terminated" else []),
            ("ebsOptimized", self.ebs_optimized),
        ]
        if self.iam_profile is not None:
            arn = f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{self.iam_profile}"
            entries.append(E.iamInstanceProfile(E.arn(arn), E.id(resource_id("AIPA", arn))))
        return fields(E.item(), entries)


@attrs.define
class FakeRegion:
    """
    One region of the account: its zones, default VPC and subnets, and the
    resources created in it.

    :ivar name: the region's name.
    :ivar zones: its availability zones.
    :ivar vpc_id: its default VPC.
    :ivar subnets: the default subnet of each zone, by subnet id.
    :ivar instances: :class:`FakeInstance` by id, in launch order.
    :ivar images: :class:`FakeImage` by id.
    :ivar key_pairs: :class:`FakeKeyPair` by name.
    :ivar security_groups: :class:`FakeSecurityGroup` by id.
    :ivar client_tokens: the reservation each RunInstances client token made.
    """

    name: str
    zones: list[str]
    vpc_id: str
    subnets: dict[str, str]
    instances: dict[str, FakeInstance] = attrs.field(factory=dict)
    images: dict[str, FakeImage] = attrs.field(factory=dict)
    key_pairs: dict[str, FakeKeyPair] = attrs.field(factory=dict)
    security_groups: dict[str, FakeSecurityGroup] = attrs.field(factory=dict)
    client_tokens: dict[str, str] = attrs.field(factory=dict)

    def group_names(self) -> dict[str, str]:
        """Security group names by id."""
        return {group.id: group.name for group in self.security_groups.values()}

    def group_named(self, name: str) -> FakeSecurityGroup | None:
        """The default VPC's security group called *name*."""
        return next(
            (
                group
                for group in self.security_groups.values()
                if group.name == name and group.vpc_id == self.vpc_id
            ),
            None,
        )

    def reservation(self, reservation_id: str) -> list[FakeInstance]:
        """The instances launched together as *reservation_id*."""
        return [i for i in self.instances.values() if i.reservation_id == reservation_id]


def reservations(instances: Iterable[FakeInstance]) -> list[etree._Element]:
    """``reservationSet/item`` elements grouping *instances* by reservation, in order."""
    grouped: dict[str, list[FakeInstance]] = {}
    for instance in instances:
        grouped.setdefault(instance.reservation_id, []).append(instance)
    return [
        fields(
            E.item(),
            [
                ("reservationId", reservation_id),
                ("ownerId", ACCOUNT_ID),
                item_set("groupSet", []),
                item_set("instancesSet", (i.item() for i in members)),
            ],
        )
        for reservation_id, members in grouped.items()
    ]
