"""
Turn EC2 Query API responses into txcloud's models, whatever namespace the
document uses (AWS writes ``.../2016-11-15/``, moto leaves the trailing
slash out): elements are matched by local name only.

``extra`` keys follow Libcloud's EC2 driver where it has one, so code
reading ``node.extra["instance_type"]`` carries over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, TypeVar

from lxml import etree

from txcloud.compute.base import (
    KeyPair,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    StorageVolume,
    VolumeSnapshot,
)
from txcloud.compute.drivers.ec2.models import EC2SecurityGroup
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import MalformedResponseError

__all__ = [
    "NODE_STATES",
    "SNAPSHOT_STATES",
    "VOLUME_STATES",
    "Fields",
    "parse_image",
    "parse_key_pair",
    "parse_location",
    "parse_node",
    "parse_security_group",
    "parse_size",
    "parse_snapshot",
    "parse_tags",
    "parse_time",
    "parse_volume",
]

_T = TypeVar("_T")

#: EC2 instance states (``instanceState/name``) as Libcloud maps them, plus
#: ``stopping``, which Libcloud leaves unknown.
NODE_STATES: dict[str, NodeState] = {
    "pending": NodeState.PENDING,
    "running": NodeState.RUNNING,
    "shutting-down": NodeState.UNKNOWN,
    "terminated": NodeState.TERMINATED,
    "stopping": NodeState.STOPPING,
    "stopped": NodeState.STOPPED,
}

#: EC2 volume states (``status``) as Libcloud maps them.
VOLUME_STATES: dict[str, StorageVolumeState] = {
    "creating": StorageVolumeState.CREATING,
    "available": StorageVolumeState.AVAILABLE,
    "in-use": StorageVolumeState.INUSE,
    "deleting": StorageVolumeState.DELETING,
    "deleted": StorageVolumeState.DELETED,
    "error": StorageVolumeState.ERROR,
}

#: EC2 snapshot states (``status``) as Libcloud maps them.
SNAPSHOT_STATES: dict[str, VolumeSnapshotState] = {
    "pending": VolumeSnapshotState.CREATING,
    "completed": VolumeSnapshotState.AVAILABLE,
    "error": VolumeSnapshotState.ERROR,
    "recoverable": VolumeSnapshotState.ERROR,
    "recovering": VolumeSnapshotState.RESTORING,
}

# Node extra key -> path below the instance element (Libcloud's names).
_NODE_TEXT = {
    "availability": "placement/availabilityZone",
    "architecture": "architecture",
    "client_token": "clientToken",
    "dns_name": "dnsName",
    "hypervisor": "hypervisor",
    "iam_profile": "iamInstanceProfile/id",
    "image_id": "imageId",
    "instance_id": "instanceId",
    "instance_lifecycle": "instanceLifecycle",
    "instance_tenancy": "placement/tenancy",
    "instance_type": "instanceType",
    "key_name": "keyName",
    "launch_time": "launchTime",
    "kernel_id": "kernelId",
    "monitoring": "monitoring/state",
    "platform": "platform",
    "private_dns": "privateDnsName",
    "ramdisk_id": "ramdiskId",
    "root_device_type": "rootDeviceType",
    "root_device_name": "rootDeviceName",
    "reason": "reason",
    "source_dest_check": "sourceDestCheck",
    "status": "instanceState/name",
    "subnet_id": "subnetId",
    "virtualization_type": "virtualizationType",
    "ebs_optimized": "ebsOptimized",
    "vpc_id": "vpcId",
}

_IMAGE_TEXT = {
    "state": "imageState",
    "owner_id": "imageOwnerId",
    "owner_alias": "imageOwnerAlias",
    "is_public": "isPublic",
    "architecture": "architecture",
    "image_type": "imageType",
    "image_location": "imageLocation",
    "platform": "platform",
    "description": "description",
    "root_device_type": "rootDeviceType",
    "root_device_name": "rootDeviceName",
    "virtualization_type": "virtualizationType",
    "hypervisor": "hypervisor",
    "kernel_id": "kernelId",
    "ramdisk_id": "ramdiskId",
    "ena_support": "enaSupport",
    "sriov_net_support": "sriovNetSupport",
    "boot_mode": "bootMode",
}


def _local(tag: str) -> str:
    # "{namespace}name" -> "name"; cheaper than etree.QName on hot paths.
    return tag.rpartition("}")[2]


class Fields:
    """
    The children of one element by local name (the first of each name),
    indexed once so that reading many fields costs one pass; nested
    elements reached by a path are indexed once too.
    """

    __slots__ = ("_children", "_nested")

    def __init__(self, element: etree._Element | None) -> None:
        # Read backwards so that the first child of each name is the one kept.
        self._children: dict[str, etree._Element] = (
            {}
            if element is None
            else {
                _local(child.tag): child
                for child in reversed(element)
                if isinstance(child.tag, str)
            }
        )
        self._nested: dict[str, Fields | None] | None = None

    def _fields_of(self, name: str) -> Fields | None:
        nested = self._nested
        if nested is None:
            nested = self._nested = {}
        if name not in nested:
            child = self._children.get(name)
            nested[name] = None if child is None else Fields(child)
        return nested[name]

    def find(self, path: str) -> etree._Element | None:
        """The element at *path* (``"placement/availabilityZone"``), or ``None``."""
        if "/" not in path:
            return self._children.get(path)
        name, _, rest = path.partition("/")
        nested = self._fields_of(name)
        return None if nested is None else nested.find(rest)

    def text(self, path: str) -> str | None:
        """The text at *path* (``""`` for an empty element), or ``None`` when absent."""
        found = self._children.get(path) if "/" not in path else self.find(path)
        return None if found is None else (found.text or "")

    def items(self, path: str) -> list[etree._Element]:
        """The ``item`` children of the list element at *path*."""
        found = self.find(path)
        if found is None:
            return []
        return [
            child for child in found if isinstance(child.tag, str) and _local(child.tag) == "item"
        ]

    def required(self, path: str, what: str) -> str:
        """
        The non-empty text at *path*.

        :raises MalformedResponseError: when it is missing or empty.
        """
        value = self.text(path)
        if not value:
            raise MalformedResponseError(f"EC2 returned {what} without {path}")
        return value


def _number(text: str | None, kind: Callable[[str], _T], what: str) -> _T | None:
    if text is None or text == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise MalformedResponseError(f"EC2 returned a bad {what}: {text!r}") from None


def _flag(text: str | None) -> bool | None:
    if text is None or text == "":
        return None
    return text.strip().lower() == "true"


def parse_time(text: str | None) -> datetime | None:
    """An EC2 timestamp (``2024-05-01T12:30:00.000Z``) as an aware datetime, or ``None``."""
    if not text:
        return None
    return _parse_time(text)


# A listing repeats the same few timestamps (launch and attach times).
@lru_cache(maxsize=1024)
def _parse_time(text: str) -> datetime:
    # Python 3.10's fromisoformat takes neither "Z" nor every fraction width.
    value = text.strip().replace("Z", "+00:00")
    seconds, dot, rest = value.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{seconds}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedResponseError(f"EC2 returned a bad timestamp: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_tags(fields: Fields) -> dict[str, str]:
    """The ``tagSet`` of a resource as a dict."""
    tags: dict[str, str] = {}
    for item in fields.items("tagSet"):
        tag = Fields(item)
        key = tag.text("key")
        if key:
            tags[key] = tag.text("value") or ""
    return tags


def _groups(items: list[etree._Element]) -> list[dict[str, str | None]]:
    groups = []
    for item in items:
        group = Fields(item)
        groups.append({"group_id": group.text("groupId"), "group_name": group.text("groupName")})
    return groups


def _instance_groups(fields: Fields, reservation: Fields | None) -> list[dict[str, str | None]]:
    # VPC instances list their groups; EC2-Classic reservations held them;
    # moto names them only on the network interfaces.
    groups = _groups(fields.items("groupSet"))
    if not groups and reservation is not None:
        groups = _groups(reservation.items("groupSet"))
    if not groups:
        for interface in fields.items("networkInterfaceSet"):
            for group in _groups(Fields(interface).items("groupSet")):
                if group not in groups:
                    groups.append(group)
    return groups


def _ebs(fields: Fields) -> dict[str, Any]:
    return {
        "volume_id": fields.text("volumeId"),
        "snapshot_id": fields.text("snapshotId"),
        "volume_size": _number(fields.text("volumeSize"), int, "volume size"),
        "volume_type": fields.text("volumeType"),
        "iops": _number(fields.text("iops"), int, "IOPS"),
        "status": fields.text("status"),
        "attach_time": parse_time(fields.text("attachTime")),
        "delete": fields.text("deleteOnTermination"),
    }


def _block_devices(fields: Fields) -> list[dict[str, Any]]:
    devices = []
    for item in fields.items("blockDeviceMapping"):
        device = Fields(item)
        ebs = device.find("ebs")
        devices.append(
            {
                "device_name": device.text("deviceName"),
                "virtual_name": device.text("virtualName"),
                "ebs": None if ebs is None else _ebs(Fields(ebs)),
            }
        )
    return devices


def _interfaces(fields: Fields) -> list[dict[str, Any]]:
    interfaces = []
    for item in fields.items("networkInterfaceSet"):
        interface = Fields(item)
        interfaces.append(
            {
                "id": interface.text("networkInterfaceId"),
                "subnet_id": interface.text("subnetId"),
                "vpc_id": interface.text("vpcId"),
                "private_ip": interface.text("privateIpAddress"),
                "public_ip": interface.text("association/publicIp"),
                "mac_address": interface.text("macAddress"),
                "status": interface.text("status"),
                "description": interface.text("description"),
            }
        )
    return interfaces


def parse_node(item: etree._Element, driver: Any, reservation: Fields | None = None) -> Node:
    """
    A :class:`Node` from an ``instancesSet/item`` element.

    :param reservation: the fields of the enclosing reservation, whose
        security groups apply when the instance names none.
    """
    fields = Fields(item)
    node_id = fields.required("instanceId", "an instance")
    tags = parse_tags(fields)
    extra: dict[str, Any] = {key: fields.text(path) for key, path in _NODE_TEXT.items()}
    groups = _instance_groups(fields, reservation)
    extra.update(
        launch_index=_number(fields.text("amiLaunchIndex"), int, "launch index"),
        block_device_mapping=_block_devices(fields),
        groups=groups,
        security_groups=[group["group_name"] for group in groups if group["group_name"]],
        security_group_ids=[group["group_id"] for group in groups if group["group_id"]],
        network_interfaces=_interfaces(fields),
        product_codes=[
            Fields(code).text("productCode") or "" for code in fields.items("productCodes")
        ],
        tags=tags,
    )
    public_ip = fields.text("ipAddress")
    private_ip = fields.text("privateIpAddress")
    return Node(
        id=node_id,
        name=tags.get("Name", node_id),
        state=NODE_STATES.get(extra["status"] or "", NodeState.UNKNOWN),
        public_ips=[public_ip] if public_ip else [],
        private_ips=[private_ip] if private_ip else [],
        driver=driver,
        created_at=parse_time(fields.text("launchTime")),
        extra=extra,
    )


def parse_size(item: etree._Element, driver: Any) -> NodeSize:
    """
    A :class:`NodeSize` from an ``instanceTypeSet/item`` element: RAM in
    MiB, disk in GB of instance storage (0 for EBS-only types), no price or
    bandwidth (EC2 does not say).
    """
    fields = Fields(item)
    instance_type = fields.required("instanceType", "an instance type")
    ram = _number(fields.text("memoryInfo/sizeInMiB"), int, "memory size")
    disk = _number(fields.text("instanceStorageInfo/totalSizeInGB"), int, "storage size")
    processor = Fields(fields.find("processorInfo"))
    cpus = Fields(fields.find("vCpuInfo"))
    extra = {
        "vcpus": _number(cpus.text("defaultVCpus"), int, "vCPU count"),
        "cores": _number(cpus.text("defaultCores"), int, "core count"),
        "threads_per_core": _number(cpus.text("defaultThreadsPerCore"), int, "thread count"),
        "architectures": [arch.text or "" for arch in processor.items("supportedArchitectures")],
        "clock_speed_ghz": _number(
            processor.text("sustainedClockSpeedInGhz"), float, "clock speed"
        ),
        "network_performance": fields.text("networkInfo/networkPerformance"),
        "current_generation": _flag(fields.text("currentGeneration")),
        "free_tier_eligible": _flag(fields.text("freeTierEligible")),
        "bare_metal": _flag(fields.text("bareMetal")),
        "hypervisor": fields.text("hypervisor"),
        "instance_storage_supported": _flag(fields.text("instanceStorageSupported")),
    }
    return NodeSize(
        id=instance_type,
        name=instance_type,
        ram=ram or 0,
        disk=disk or 0,
        bandwidth=None,
        price=None,
        driver=driver,
        extra=extra,
    )


def parse_image(item: etree._Element, driver: Any) -> NodeImage:
    """A :class:`NodeImage` from an ``imagesSet/item`` element."""
    fields = Fields(item)
    image_id = fields.required("imageId", "an image")
    extra: dict[str, Any] = {key: fields.text(path) for key, path in _IMAGE_TEXT.items()}
    extra.update(
        creation_date=parse_time(fields.text("creationDate")),
        block_device_mapping=_block_devices(fields),
        billing_products=[
            Fields(product).text("billingProduct") or ""
            for product in fields.items("billingProducts")
        ],
        tags=parse_tags(fields),
    )
    return NodeImage(id=image_id, name=fields.text("name") or image_id, driver=driver, extra=extra)


def parse_location(item: etree._Element, driver: Any, country: str) -> NodeLocation:
    """
    A :class:`NodeLocation` for an availability zone
    (``availabilityZoneInfo/item``); its id and name are the zone's name.
    """
    fields = Fields(item)
    zone = fields.required("zoneName", "an availability zone")
    return NodeLocation(
        id=zone,
        name=zone,
        country=country,
        driver=driver,
        extra={
            "availability_zone": zone,
            "zone_id": fields.text("zoneId"),
            "zone_state": fields.text("zoneState"),
            "zone_type": fields.text("zoneType"),
            "region_name": fields.text("regionName"),
        },
    )


def parse_key_pair(element: etree._Element, driver: Any, public_key: str | None = None) -> KeyPair:
    """
    A :class:`KeyPair` from a ``keySet/item`` element or a CreateKeyPair /
    ImportKeyPair response; ``private_key`` is set only by CreateKeyPair.
    """
    fields = Fields(element)
    fingerprint = fields.text("keyFingerprint")
    return KeyPair(
        name=fields.required("keyName", "a key pair"),
        public_key=fields.text("publicKey") or public_key,
        fingerprint=fingerprint.strip() if fingerprint else None,
        driver=driver,
        private_key=fields.text("keyMaterial") or None,
        extra={
            "key_pair_id": fields.text("keyPairId"),
            "key_type": fields.text("keyType"),
            "create_time": parse_time(fields.text("createTime")),
            "tags": parse_tags(fields),
        },
    )


def _rule(item: etree._Element) -> dict[str, Any]:
    fields = Fields(item)
    return {
        "protocol": fields.text("ipProtocol"),
        "from_port": _number(fields.text("fromPort"), int, "port"),
        "to_port": _number(fields.text("toPort"), int, "port"),
        "cidr_ips": [Fields(r).text("cidrIp") or "" for r in fields.items("ipRanges")],
        "cidr_ipv6s": [Fields(r).text("cidrIpv6") or "" for r in fields.items("ipv6Ranges")],
        "group_pairs": [
            {
                "group_id": pair.text("groupId"),
                "group_name": pair.text("groupName"),
                "user_id": pair.text("userId"),
            }
            for pair in map(Fields, fields.items("groups"))
        ],
    }


def parse_security_group(item: etree._Element, driver: Any) -> EC2SecurityGroup:
    """An :class:`EC2SecurityGroup` from a ``securityGroupInfo/item`` element."""
    fields = Fields(item)
    return EC2SecurityGroup(
        id=fields.required("groupId", "a security group"),
        name=fields.text("groupName") or "",
        driver=driver,
        ingress_rules=[_rule(rule) for rule in fields.items("ipPermissions")],
        egress_rules=[_rule(rule) for rule in fields.items("ipPermissionsEgress")],
        extra={
            "description": fields.text("groupDescription"),
            "vpc_id": fields.text("vpcId"),
            "owner_id": fields.text("ownerId"),
            "tags": parse_tags(fields),
        },
    )


def parse_volume(element: etree._Element, driver: Any) -> StorageVolume:
    """
    A :class:`StorageVolume` from a ``volumeSet/item`` element or a
    CreateVolume answer; named by its ``Name`` tag (its id without one),
    with Libcloud's ``extra`` keys and, once attached, where.
    """
    fields = Fields(element)
    volume_id = fields.required("volumeId", "a volume")
    size = _number(fields.text("size"), int, "volume size") or 0
    status = fields.text("status") or ""
    tags = parse_tags(fields)
    extra: dict[str, Any] = {
        "availability_zone": fields.text("availabilityZone"),
        "create_time": parse_time(fields.text("createTime")),
        "encrypted": _flag(fields.text("encrypted")),
        "iops": _number(fields.text("iops"), int, "IOPS"),
        "kms_key_id": fields.text("kmsKeyId"),
        "size": size,
        "snapshot_id": fields.text("snapshotId") or None,
        "state": status,
        "volume_type": fields.text("volumeType"),
        "tags": tags,
    }
    attachments = fields.items("attachmentSet")
    if attachments:
        attachment = Fields(attachments[0])
        extra.update(
            instance_id=attachment.text("instanceId"),
            device=attachment.text("device"),
            attach_time=parse_time(attachment.text("attachTime")),
            attachment_status=attachment.text("status"),
        )
    return StorageVolume(
        id=volume_id,
        name=tags.get("Name", volume_id),
        size=size,
        driver=driver,
        state=VOLUME_STATES.get(status, StorageVolumeState.UNKNOWN),
        extra=extra,
    )


def parse_snapshot(element: etree._Element, driver: Any) -> VolumeSnapshot:
    """
    A :class:`VolumeSnapshot` from a ``snapshotSet/item`` element or a
    CreateSnapshot answer; named by its ``Name`` tag (``None`` without one).
    """
    fields = Fields(element)
    snapshot_id = fields.required("snapshotId", "a snapshot")
    status = fields.text("status") or ""
    size = _number(fields.text("volumeSize"), int, "snapshot size")
    created = parse_time(fields.text("startTime"))
    tags = parse_tags(fields)
    extra: dict[str, Any] = {
        "volume_id": fields.text("volumeId"),
        "state": status,
        "description": fields.text("description"),
        "progress": fields.text("progress"),
        "start_time": created,
        "owner_id": fields.text("ownerId"),
        "owner_alias": fields.text("ownerAlias"),
        "volume_size": size,
        "encrypted": _flag(fields.text("encrypted")),
        "kms_key_id": fields.text("kmsKeyId"),
        "tags": tags,
    }
    return VolumeSnapshot(
        id=snapshot_id,
        driver=driver,
        size=size,
        extra=extra,
        created=created,
        state=SNAPSHOT_STATES.get(status, VolumeSnapshotState.UNKNOWN),
        name=tags.get("Name"),
    )
