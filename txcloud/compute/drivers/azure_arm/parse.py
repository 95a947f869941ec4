"""
Turn Azure Resource Manager's JSON (virtual machines with their instance
view, network interfaces, public IP addresses, VM sizes, locations,
marketplace image versions, managed disks and snapshots) into txcloud's models.

A node's addresses come from the interfaces and addresses listed once for
the whole subscription (:class:`Addresses`), not from a request per node.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from txcloud.common.json_fields import json_object, json_text
from txcloud.common.timestamps import parse_rfc3339
from txcloud.compute.base import (
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    StorageVolume,
    VolumeSnapshot,
)
from txcloud.compute.drivers.azure_arm.regions import REGION_COUNTRIES
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState

__all__ = [
    "DISK_STATES",
    "POWER_STATES",
    "PROVISIONING_STATES",
    "SNAPSHOT_PROVISIONING_STATES",
    "VOLUME_PROVISIONING_STATES",
    "Addresses",
    "interface_ids",
    "node_state",
    "os_disk",
    "parse_image",
    "parse_location",
    "parse_node",
    "parse_size",
    "parse_snapshot",
    "parse_volume",
    "public_ip_ids",
    "snapshot_state",
    "volume_state",
]

#: Provisioning states that decide a node's state whatever its power
#: (Libcloud's reading of the instance view).
PROVISIONING_STATES: dict[str, NodeState] = {
    "creating": NodeState.PENDING,
    "deleting": NodeState.TERMINATED,
    "failed": NodeState.ERROR,
    "updating": NodeState.UPDATING,
}

#: Power states (``PowerState/...``) and the node states they mean; a
#: stopped machine still holds (and bills) its hardware: Libcloud calls it
#: paused, and a deallocated one stopped.
POWER_STATES: dict[str, NodeState] = {
    "running": NodeState.RUNNING,
    "starting": NodeState.STARTING,
    "stopping": NodeState.STOPPING,
    "stopped": NodeState.PAUSED,
    "deallocating": NodeState.PENDING,
    "deallocated": NodeState.STOPPED,
}


#: A managed disk's ``provisioningState`` (lower case) that decides its
#: state whatever its ``diskState``.
VOLUME_PROVISIONING_STATES: dict[str, StorageVolumeState] = {
    "creating": StorageVolumeState.CREATING,
    "updating": StorageVolumeState.UPDATING,
    "deleting": StorageVolumeState.DELETING,
    "failed": StorageVolumeState.ERROR,
}

#: A provisioned disk's ``diskState`` (lower case) and the volume state it
#: means: attached to a machine (running, deallocated or hibernated) is in
#: use; a disk being uploaded is still being created.
DISK_STATES: dict[str, StorageVolumeState] = {
    "unattached": StorageVolumeState.AVAILABLE,
    "attached": StorageVolumeState.INUSE,
    "reserved": StorageVolumeState.INUSE,
    "frozen": StorageVolumeState.INUSE,
    "activesasfrozen": StorageVolumeState.INUSE,
    "activesas": StorageVolumeState.AVAILABLE,
    "readytoupload": StorageVolumeState.CREATING,
    "activeupload": StorageVolumeState.CREATING,
}

#: A snapshot's ``provisioningState`` (lower case) and its state.
SNAPSHOT_PROVISIONING_STATES: dict[str, VolumeSnapshotState] = {
    "creating": VolumeSnapshotState.CREATING,
    "updating": VolumeSnapshotState.UPDATING,
    "deleting": VolumeSnapshotState.DELETING,
    "failed": VolumeSnapshotState.ERROR,
    "succeeded": VolumeSnapshotState.AVAILABLE,
}


def _dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _statuses(instance_view: dict[str, Any]) -> dict[str, str]:
    """``{"PowerState": "running", "ProvisioningState": "succeeded"}`` from the statuses."""
    found: dict[str, str] = {}
    for status in _list(instance_view, "statuses"):
        code = status.get("code") if isinstance(status, dict) else None
        if isinstance(code, str) and "/" in code:
            kind, _, value = code.partition("/")
            found.setdefault(kind, value.lower())
    return found


def node_state(instance_view: dict[str, Any], provisioning_state: str | None = None) -> NodeState:
    """
    A node's state from its instance view: a provisioning state that is
    not ``succeeded`` decides (creating, deleting, failed, updating), else
    the power state; UNKNOWN without either.
    """
    statuses = _statuses(instance_view)
    provisioning = statuses.get("ProvisioningState") or (provisioning_state or "").lower()
    # "failed/InternalOperationError": the reason follows the state.
    provisioning = provisioning.partition("/")[0]
    if provisioning in PROVISIONING_STATES:
        return PROVISIONING_STATES[provisioning]
    power = statuses.get("PowerState")
    if power is not None:
        return POWER_STATES.get(power, NodeState.UNKNOWN)
    return NodeState.RUNNING if provisioning == "succeeded" else NodeState.UNKNOWN


@attrs.define
class Addresses:
    """
    The private and public addresses of each network interface, from the
    subscription's interfaces and public IP addresses, listed once.

    :ivar private: interface id (lower case) to its private addresses.
    :ivar public: interface id (lower case) to its public addresses.
    """

    private: dict[str, list[str]] = attrs.field(factory=dict)
    public: dict[str, list[str]] = attrs.field(factory=dict)

    @classmethod
    def join(cls, interfaces: Iterable[Any], public_ips: Iterable[Any]) -> Addresses:
        """Match each interface's IP configurations with the public addresses they use."""
        public_by_id = {
            address["id"].lower(): _dict(address, "properties").get("ipAddress")
            for address in public_ips
            if isinstance(address, dict) and isinstance(address.get("id"), str)
        }
        found = cls()
        for interface in interfaces:
            if not isinstance(interface, dict) or not isinstance(interface.get("id"), str):
                continue
            key = interface["id"].lower()
            found.private[key] = [
                address
                for configuration in _ip_configurations(interface)
                if isinstance(address := configuration.get("privateIPAddress"), str)
            ]
            found.public[key] = [
                address
                for public_id in public_ip_ids(interface)
                if isinstance(address := public_by_id.get(public_id.lower()), str)
            ]
        return found

    def of(self, interface_ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """The public and the private addresses of the interfaces *interface_ids*."""
        public: list[str] = []
        private: list[str] = []
        for interface_id in interface_ids:
            public += self.public.get(interface_id.lower(), [])
            private += self.private.get(interface_id.lower(), [])
        return public, private


def _ip_configurations(interface: Any) -> list[dict[str, Any]]:
    return [
        _dict(configuration, "properties")
        for configuration in _list(_dict(interface, "properties"), "ipConfigurations")
    ]


def public_ip_ids(interface: Any) -> list[str]:
    """The ids of the public addresses a network interface uses."""
    return [
        public_id
        for configuration in _ip_configurations(interface)
        if isinstance(public_id := _dict(configuration, "publicIPAddress").get("id"), str)
    ]


def interface_ids(vm: dict[str, Any]) -> list[str]:
    """The ids of a virtual machine's network interfaces."""
    profile = _dict(_dict(vm, "properties"), "networkProfile")
    return [
        nic["id"]
        for nic in _list(profile, "networkInterfaces")
        if isinstance(nic, dict) and isinstance(nic.get("id"), str)
    ]


def os_disk(vm: Any) -> tuple[str | None, bool]:
    """
    A virtual machine's OS disk: the managed disk's id (``None`` for none),
    and whether it is an unmanaged VHD blob instead.
    """
    disk = _dict(_dict(_dict(vm, "properties"), "storageProfile"), "osDisk")
    disk_id = _dict(disk, "managedDisk").get("id")
    return (disk_id if isinstance(disk_id, str) else None), bool(_dict(disk, "vhd"))


def parse_node(data: Any, addresses: Addresses, driver: Any) -> Node:
    """
    A virtual machine (with its ``instanceView``) as a
    :class:`~txcloud.compute.base.Node` whose id is its resource id.

    ``extra`` holds Libcloud's keys (``properties``, ``location``, ``tags``)
    plus ``resource_group``, ``vm_size``, ``power_state``,
    ``provisioning_state`` and ``network_interfaces`` (their ids).
    """
    vm = json_object(data, "virtual machine")
    properties = _dict(vm, "properties")
    view = _dict(properties, "instanceView")
    nics = interface_ids(vm)
    public, private = addresses.of(nics)
    provisioning = properties.get("provisioningState")
    vm_id = json_text(vm, "id", "virtual machine")
    return Node(
        id=vm_id,
        name=json_text(vm, "name", "virtual machine"),
        state=node_state(view, provisioning if isinstance(provisioning, str) else None),
        public_ips=public,
        private_ips=private,
        driver=driver,
        created_at=parse_rfc3339(properties.get("timeCreated")),
        extra={
            "properties": properties,
            "location": vm.get("location"),
            "tags": vm.get("tags") or {},
            "resource_group": vm_id.split("/")[4] if vm_id.count("/") >= 4 else None,
            "vm_size": _dict(properties, "hardwareProfile").get("vmSize"),
            "power_state": _statuses(view).get("PowerState"),
            "provisioning_state": provisioning,
            "network_interfaces": nics,
        },
    )


def parse_size(data: Any, location: str | None, driver: Any) -> NodeSize:
    """
    A VM size as a :class:`~txcloud.compute.base.NodeSize`: id and name are
    its name (``"Standard_D2s_v5"``), ``ram`` MiB, ``disk`` the temporary
    disk in GiB; Azure prices nothing here (``price`` is ``None``).
    ``extra`` holds ``numberOfCores``, ``osDiskSizeInMB``,
    ``resourceDiskSizeInMB``, ``maxDataDiskCount`` and ``location``.
    """
    size = json_object(data, "VM size")
    name = json_text(size, "name", "VM size")
    disk = size.get("resourceDiskSizeInMB")
    return NodeSize(
        id=name,
        name=name,
        ram=size.get("memoryInMB") or 0,
        disk=disk // 1024 if isinstance(disk, int) else 0,
        bandwidth=None,
        price=None,
        driver=driver,
        extra={
            "numberOfCores": size.get("numberOfCores"),
            "osDiskSizeInMB": size.get("osDiskSizeInMB"),
            "resourceDiskSizeInMB": disk,
            "maxDataDiskCount": size.get("maxDataDiskCount"),
            "location": location,
        },
    )


def parse_location(data: Any, driver: Any) -> NodeLocation:
    """
    A location of the subscription as a
    :class:`~txcloud.compute.base.NodeLocation`: id is Azure's name
    (``"westeurope"``), name the display name, country an ISO code.
    ``extra`` holds ``regionalDisplayName`` and Azure's ``metadata``
    (``geography``, ``regionType``, ``pairedRegion``...).
    """
    location = json_object(data, "location")
    name = json_text(location, "name", "location")
    return NodeLocation(
        id=name,
        name=location.get("displayName") or name,
        country=REGION_COUNTRIES.get(name, ""),
        driver=driver,
        extra={
            "regionalDisplayName": location.get("regionalDisplayName"),
            "metadata": _dict(location, "metadata"),
        },
    )


def parse_image(
    publisher: str, offer: str, sku: str, version: str, location: str, driver: Any
) -> NodeImage:
    """
    A marketplace image version as a :class:`~txcloud.compute.base.NodeImage`
    whose id is its URN, ``publisher:offer:sku:version`` (as ``az`` writes
    it); ``extra`` holds the four parts and the location.
    """
    return NodeImage(
        id=f"{publisher}:{offer}:{sku}:{version}",
        name=f"{publisher} {offer} {sku} {version}",
        driver=driver,
        extra={
            "publisher": publisher,
            "offer": offer,
            "sku": sku,
            "version": version,
            "location": location,
        },
    )


def _resource_group(resource_id: str) -> str | None:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 else None


def _size(properties: dict[str, Any]) -> int | None:
    size = properties.get("diskSizeGB")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def volume_state(disk: dict[str, Any]) -> StorageVolumeState:
    """
    A managed disk's state: its provisioning state while not ``Succeeded``,
    then its ``diskState``; an ``ActiveSAS`` disk (being exported) is in use
    while a machine holds it (``managedBy``), else available.
    """
    properties = _dict(disk, "properties")
    provisioning = str(properties.get("provisioningState") or "").lower()
    if provisioning in VOLUME_PROVISIONING_STATES:
        return VOLUME_PROVISIONING_STATES[provisioning]
    disk_state = str(properties.get("diskState") or "").lower()
    if disk_state == "activesas" and disk.get("managedBy"):
        return StorageVolumeState.INUSE
    return DISK_STATES.get(disk_state, StorageVolumeState.UNKNOWN)


def parse_volume(data: Any, driver: Any) -> StorageVolume:
    """
    A managed disk as a :class:`~txcloud.compute.base.StorageVolume` whose id
    is its resource id and ``size`` its ``diskSizeGB``.

    ``extra`` holds the disk's JSON as Libcloud's does (``location``,
    ``tags``, ``sku``, ``managedBy``: the machine holding it or ``None``,
    ``zones``, ``properties``) plus ``resource_group``, ``sku_name``,
    ``disk_state`` and ``provisioning_state``.
    """
    disk = json_object(data, "managed disk")
    disk_id = json_text(disk, "id", "managed disk")
    properties = _dict(disk, "properties")
    return StorageVolume(
        id=disk_id,
        name=json_text(disk, "name", "managed disk"),
        size=_size(properties) or 0,
        driver=driver,
        state=volume_state(disk),
        extra={
            **disk,
            "tags": disk.get("tags") or {},
            "managedBy": disk.get("managedBy"),
            "resource_group": _resource_group(disk_id),
            "sku_name": _dict(disk, "sku").get("name"),
            "disk_state": properties.get("diskState"),
            "provisioning_state": properties.get("provisioningState"),
            "time_created": parse_rfc3339(properties.get("timeCreated")),
        },
    )


def snapshot_state(properties: dict[str, Any]) -> VolumeSnapshotState:
    """
    A snapshot's state from its provisioning state; a provisioned snapshot
    still being copied (``completionPercent`` under 100) or filled
    (``snapshotAccessState`` ``Pending``) is still being created.
    """
    state = SNAPSHOT_PROVISIONING_STATES.get(
        str(properties.get("provisioningState") or "").lower(), VolumeSnapshotState.UNKNOWN
    )
    percent = properties.get("completionPercent")
    copying = isinstance(percent, (int, float)) and percent < 100
    if state is VolumeSnapshotState.AVAILABLE and (
        copying or properties.get("snapshotAccessState") == "Pending"
    ):
        return VolumeSnapshotState.CREATING
    return state


def parse_snapshot(data: Any, driver: Any) -> VolumeSnapshot:
    """
    A snapshot as a :class:`~txcloud.compute.base.VolumeSnapshot` whose id
    is its resource id.

    ``extra`` holds the snapshot's JSON as Libcloud's does, plus
    ``resource_group``, ``source_id`` (what it was copied from),
    ``volume_id`` (that, when it is a managed disk), ``incremental`` and
    ``provisioning_state``.
    """
    snapshot = json_object(data, "snapshot")
    snapshot_id = json_text(snapshot, "id", "snapshot")
    properties = _dict(snapshot, "properties")
    creation = _dict(properties, "creationData")
    source = creation.get("sourceResourceId") or creation.get("sourceUri")
    source = source if isinstance(source, str) else None
    is_disk = source is not None and "/providers/microsoft.compute/disks/" in source.lower()
    return VolumeSnapshot(
        id=snapshot_id,
        name=json_text(snapshot, "name", "snapshot"),
        size=_size(properties),
        driver=driver,
        created=parse_rfc3339(properties.get("timeCreated")),
        state=snapshot_state(properties),
        extra={
            **snapshot,
            "tags": snapshot.get("tags") or {},
            "resource_group": _resource_group(snapshot_id),
            "source_id": source,
            "volume_id": source if is_disk else None,
            "incremental": bool(properties.get("incremental")),
            "provisioning_state": properties.get("provisioningState"),
        },
    )
