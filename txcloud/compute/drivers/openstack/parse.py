"""
Turn Nova, Glance and Cinder JSON objects (servers, flavors, images, key
pairs, volumes, snapshots) into txcloud's models.

States and ``extra`` keys follow Libcloud's OpenStack driver, so code
reading ``node.extra["flavorId"]`` carries over; each function notes what
it adds.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network
from typing import Any

from txcloud.common.json_fields import json_field as _field
from txcloud.common.timestamps import parse_rfc3339 as parse_time
from txcloud.compute.base import (
    KeyPair,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    StorageVolume,
    VolumeSnapshot,
)
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState

__all__ = [
    "NODE_STATES",
    "SNAPSHOT_STATES",
    "VOLUME_STATES",
    "parse_image",
    "parse_key_pair",
    "parse_location",
    "parse_node",
    "parse_size",
    "parse_snapshot",
    "parse_time",
    "parse_volume",
    "split_addresses",
]

#: Nova server ``status`` values as Libcloud maps them; any other is UNKNOWN.
NODE_STATES: dict[str, NodeState] = {
    "BUILD": NodeState.PENDING,
    "REBUILD": NodeState.PENDING,
    "ACTIVE": NodeState.RUNNING,
    "SUSPENDED": NodeState.SUSPENDED,
    "SHUTOFF": NodeState.STOPPED,
    "DELETED": NodeState.TERMINATED,
    "QUEUE_RESIZE": NodeState.PENDING,
    "PREP_RESIZE": NodeState.PENDING,
    "VERIFY_RESIZE": NodeState.RUNNING,
    "PASSWORD": NodeState.PENDING,
    "RESCUE": NodeState.PENDING,
    "REBOOT": NodeState.REBOOTING,
    "RESIZE": NodeState.RECONFIGURING,
    "HARD_REBOOT": NodeState.REBOOTING,
    "SHARE_IP": NodeState.PENDING,
    "SHARE_IP_NO_CONFIG": NodeState.PENDING,
    "DELETE_IP": NodeState.PENDING,
    "ERROR": NodeState.ERROR,
    "UNKNOWN": NodeState.UNKNOWN,
}

# IPv4 ranges that are not reachable from the internet: a fixed address in
# one of them is private, any other fixed IPv4 address (a provider network's)
# public.
_PRIVATE_V4 = tuple(
    ip_network(block)
    for block in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "127.0.0.0/8",
    )
)
# Network names that mean the internet when an address carries no type.
_PUBLIC_NETWORKS = ("public", "internet")


def _is_public(address: str, kind: Any, network: str) -> bool:
    if kind == "floating":
        return True
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, IPv4Address):
        return not any(parsed in block for block in _PRIVATE_V4)
    # IPv6: Nova's type says it, else the network's name.
    return kind is None and network in _PUBLIC_NETWORKS


def split_addresses(addresses: Any) -> tuple[list[str], list[str]]:
    """
    A server's ``addresses`` (``{network: [{"addr", "version",
    "OS-EXT-IPS:type"}]}``) as ``(public, private)`` lists: floating
    addresses are public; fixed IPv4 ones are public unless in a private
    range (10/8, 172.16/12, 192.168/16, 100.64/10, link-local); fixed IPv6
    ones are private.
    """
    public: list[str] = []
    private: list[str] = []
    if not isinstance(addresses, dict):
        return public, private
    for network, entries in addresses.items():
        for entry in entries if isinstance(entries, list) else []:
            address = entry.get("addr") if isinstance(entry, dict) else None
            if not isinstance(address, str):
                continue
            kind = entry.get("OS-EXT-IPS:type")
            target = public if _is_public(address, kind, str(network)) else private
            if address not in target:
                target.append(address)
    return public, private


def _self_link(links: Any) -> str | None:
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "self":
            href = link.get("href")
            return href if isinstance(href, str) else None
    return None


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else None


def parse_node(data: Any, driver: Any) -> Node:
    """
    A Nova server as a :class:`~txcloud.compute.base.Node`.

    ``extra`` holds Libcloud's keys (``addresses``, ``hostId``,
    ``access_ip``, ``access_ipv6``, ``tenantId``, ``userId``, ``imageId``,
    ``flavorId``, ``flavor_details``, ``uri``, ``metadata``, ``created``,
    ``updated``, ``key_name``, ``disk_config``, ``config_drive``,
    ``availability_zone``, ``volumes_attached``, ``task_state``,
    ``vm_state``, ``power_state``, ``progress``, ``fault``) and ``status``,
    Nova's own.
    """
    node_id = _field(data, "id", str, "server")
    name = _field(data, "name", str, "server")
    status = data.get("status")
    public, private = split_addresses(data.get("addresses"))
    flavor = data.get("flavor")
    extra = {
        "addresses": data.get("addresses") or {},
        "hostId": data.get("hostId"),
        "access_ip": data.get("accessIPv4") or None,
        "access_ipv6": data.get("accessIPv6") or None,
        "tenantId": data.get("tenant_id") or data.get("tenantId"),
        "userId": data.get("user_id"),
        "imageId": _id_of(data.get("image")),
        "flavorId": _id_of(flavor),
        "flavor_details": flavor if isinstance(flavor, dict) else None,
        "uri": _self_link(data.get("links")),
        "metadata": data.get("metadata") or {},
        "created": data.get("created"),
        "updated": data.get("updated"),
        "key_name": data.get("key_name"),
        "disk_config": data.get("OS-DCF:diskConfig"),
        "config_drive": data.get("config_drive") in (True, "True", "true"),
        "availability_zone": data.get("OS-EXT-AZ:availability_zone"),
        "volumes_attached": data.get("os-extended-volumes:volumes_attached"),
        "task_state": data.get("OS-EXT-STS:task_state"),
        "vm_state": data.get("OS-EXT-STS:vm_state"),
        "power_state": data.get("OS-EXT-STS:power_state"),
        "progress": data.get("progress"),
        "fault": data.get("fault"),
        "status": status,
    }
    return Node(
        id=node_id,
        name=name,
        state=NODE_STATES.get(status, NodeState.UNKNOWN)
        if isinstance(status, str)
        else NodeState.UNKNOWN,
        public_ips=public,
        private_ips=private,
        driver=driver,
        created_at=parse_time(data.get("created")),
        extra=extra,
    )


def _number(value: Any) -> int:
    # Nova writes a flavor without swap as "" (older versions) or 0.
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_size(data: Any, driver: Any) -> NodeSize:
    """
    A Nova flavor as a :class:`~txcloud.compute.base.NodeSize`: ``ram`` in
    MiB, ``disk`` in GiB, no bandwidth or price.  ``extra`` holds
    ``vcpus``, ``ephemeral_disk`` and ``swap`` (attributes of Libcloud's
    ``OpenStackNodeSize``), ``disabled``, ``is_public``,
    ``rxtx_factor``, ``description`` and the ``extra_specs`` when Nova
    lists them.
    """
    flavor_id = str(_field(data, "id", (str, int), "flavor"))
    return NodeSize(
        id=flavor_id,
        name=data.get("name") or flavor_id,
        ram=_number(data.get("ram")),
        disk=_number(data.get("disk")),
        bandwidth=None,
        price=None,
        driver=driver,
        extra={
            "vcpus": _number(data.get("vcpus")),
            "ephemeral_disk": data.get("OS-FLV-EXT-DATA:ephemeral"),
            "swap": _number(data.get("swap")),
            "disabled": data.get("OS-FLV-DISABLED:disabled"),
            "is_public": data.get("os-flavor-access:is_public"),
            "rxtx_factor": data.get("rxtx_factor"),
            "description": data.get("description"),
            "extra_specs": data.get("extra_specs", {}),
        },
    )


#: Glance v2 image fields copied into ``NodeImage.extra`` unchanged.
_IMAGE_EXTRA = (
    "status",
    "visibility",
    "size",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
    "created_at",
    "updated_at",
    "tags",
    "owner",
    "checksum",
    "protected",
    "os_distro",
    "os_type",
)


def parse_image(data: Any, driver: Any) -> NodeImage:
    """
    A Glance v2 image as a :class:`~txcloud.compute.base.NodeImage`;
    ``extra`` holds its ``status``, ``visibility``, ``size``,
    ``disk_format``, ``container_format``, ``min_disk``, ``min_ram``,
    ``created_at``, ``updated_at``, ``tags``, ``owner``, ``checksum``,
    ``protected``, ``os_distro`` and ``os_type``.
    """
    image_id = _field(data, "id", str, "image")
    return NodeImage(
        id=image_id,
        name=data.get("name") or "",
        driver=driver,
        extra={key: data.get(key) for key in _IMAGE_EXTRA},
    )


def parse_key_pair(data: Any, driver: Any) -> KeyPair:
    """
    A Nova key pair as a :class:`~txcloud.compute.base.KeyPair`, with its
    ``private_key`` when Nova made the key; ``extra`` holds ``type`` and
    ``user_id``.
    """
    return KeyPair(
        name=_field(data, "name", str, "key pair"),
        public_key=data.get("public_key"),
        fingerprint=data.get("fingerprint"),
        driver=driver,
        private_key=data.get("private_key"),
        extra={"type": data.get("type"), "user_id": data.get("user_id")},
    )


def parse_location(region: str, url: str, interface: str, driver: Any) -> NodeLocation:
    """
    A compute region of the service catalog as a
    :class:`~txcloud.compute.base.NodeLocation` (id and name the region;
    OpenStack says nothing of countries); ``extra`` holds the compute
    ``url`` and its ``interface``.
    """
    return NodeLocation(
        id=region,
        name=region,
        country="",
        driver=driver,
        extra={"url": url, "interface": interface},
    )


#: Cinder volume ``status`` values: Libcloud's map, and for the statuses it
#: leaves UNKNOWN the nearest state txcloud has (``detaching`` is INUSE,
#: as the volume stays attached until Cinder says ``available``;
#: ``reserved`` is ATTACHING; ``extending`` and ``maintenance`` UPDATING;
#: ``retyping`` MIGRATING; ``downloading`` (from an image) CREATING;
#: ``uploading`` (to an image) BACKUP); any other is UNKNOWN.
VOLUME_STATES: dict[str, StorageVolumeState] = {
    "creating": StorageVolumeState.CREATING,
    "available": StorageVolumeState.AVAILABLE,
    "attaching": StorageVolumeState.ATTACHING,
    "in-use": StorageVolumeState.INUSE,
    "deleting": StorageVolumeState.DELETING,
    "error": StorageVolumeState.ERROR,
    "error_deleting": StorageVolumeState.ERROR,
    "backing-up": StorageVolumeState.BACKUP,
    "restoring-backup": StorageVolumeState.BACKUP,
    "error_backing-up": StorageVolumeState.ERROR,
    "error_restoring": StorageVolumeState.ERROR,
    "error_extending": StorageVolumeState.ERROR,
    "detaching": StorageVolumeState.INUSE,
    "reserved": StorageVolumeState.ATTACHING,
    "extending": StorageVolumeState.UPDATING,
    "maintenance": StorageVolumeState.UPDATING,
    "retyping": StorageVolumeState.MIGRATING,
    "downloading": StorageVolumeState.CREATING,
    "uploading": StorageVolumeState.BACKUP,
}

#: Cinder snapshot ``status`` values as Libcloud maps them (and
#: ``error_deleting`` as ERROR, ``unmanaging`` as DELETING); any other is UNKNOWN.
SNAPSHOT_STATES: dict[str, VolumeSnapshotState] = {
    "creating": VolumeSnapshotState.CREATING,
    "available": VolumeSnapshotState.AVAILABLE,
    "deleting": VolumeSnapshotState.DELETING,
    "error": VolumeSnapshotState.ERROR,
    "restoring": VolumeSnapshotState.RESTORING,
    "error_restoring": VolumeSnapshotState.ERROR,
    "error_deleting": VolumeSnapshotState.ERROR,
    "unmanaging": VolumeSnapshotState.DELETING,
}


def parse_volume(data: Any, driver: Any) -> StorageVolume:
    """
    A Cinder volume as a :class:`~txcloud.compute.base.StorageVolume` (size
    in GiB, state from :data:`VOLUME_STATES`).  ``extra`` holds Libcloud's
    keys: ``description``, ``attachments`` (Cinder's, each with
    ``server_id``, ``device`` and ``attachment_id``), ``state`` (Cinder's
    status), ``snapshot_id``, ``location`` (the availability zone),
    ``volume_type``, ``metadata`` and ``created_at``.
    """
    volume_id = _field(data, "id", str, "volume")
    status = data.get("status")
    attachments = data.get("attachments")
    return StorageVolume(
        id=volume_id,
        name=data.get("name") or "",
        size=_field(data, "size", int, "volume"),
        driver=driver,
        state=VOLUME_STATES.get(status, StorageVolumeState.UNKNOWN)
        if isinstance(status, str)
        else StorageVolumeState.UNKNOWN,
        extra={
            "description": data.get("description"),
            "attachments": [a for a in attachments or [] if isinstance(a, dict)],
            "state": status,
            "snapshot_id": data.get("snapshot_id"),
            "location": data.get("availability_zone"),
            "volume_type": data.get("volume_type"),
            "metadata": data.get("metadata") or {},
            "created_at": data.get("created_at"),
        },
    )


def parse_snapshot(data: Any, driver: Any) -> VolumeSnapshot:
    """
    A Cinder snapshot as a :class:`~txcloud.compute.base.VolumeSnapshot`
    (size in GiB, state from :data:`SNAPSHOT_STATES`).  ``extra`` holds
    Libcloud's keys: ``volume_id``, ``name``, ``created`` (Cinder's text),
    ``description`` and ``status``.
    """
    snapshot_id = _field(data, "id", str, "snapshot")
    status = data.get("status")
    return VolumeSnapshot(
        id=snapshot_id,
        driver=driver,
        size=_field(data, "size", int, "snapshot"),
        extra={
            "volume_id": data.get("volume_id"),
            "name": data.get("name"),
            "created": data.get("created_at"),
            "description": data.get("description"),
            "status": status,
        },
        created=parse_time(data.get("created_at")),
        state=SNAPSHOT_STATES.get(status, VolumeSnapshotState.UNKNOWN)
        if isinstance(status, str)
        else VolumeSnapshotState.UNKNOWN,
        name=data.get("name"),
    )
