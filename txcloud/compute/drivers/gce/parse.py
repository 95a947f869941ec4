"""
Turn Compute Engine API v1 resources (instances, machine types, images,
zones, disks, snapshots) into txcloud's models, and check the names the driver sends.

Fields follow Libcloud's GCE driver where it has them (``node.size`` is the
machine type's name, ``NodeSize.ram`` its ``memoryMb``); ``extra`` holds the
resource's own fields, with URLs to other resources also given by name
(``extra["zone"]`` is ``"us-central1-a"``).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from txcloud.common.json_fields import json_object
from txcloud.common.timestamps import parse_rfc3339
from txcloud.compute.base import (
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    StorageVolume,
    VolumeSnapshot,
)
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import InvalidArgumentError, MalformedResponseError

__all__ = [
    "NODE_STATES",
    "SNAPSHOT_STATES",
    "VOLUME_STATES",
    "check_name",
    "check_project",
    "check_zone",
    "is_deprecated",
    "last_segment",
    "parse_image",
    "parse_location",
    "parse_node",
    "parse_size",
    "parse_snapshot",
    "parse_time",
    "parse_volume",
]

#: Instance ``status`` values as Libcloud maps them, with the statuses its
#: map lacks (``STOPPED``, ``SUSPENDING``, ``REPAIRING``); any other is UNKNOWN.
NODE_STATES: dict[str, NodeState] = {
    "PROVISIONING": NodeState.PENDING,
    "STAGING": NodeState.PENDING,
    "RUNNING": NodeState.RUNNING,
    "STOPPING": NodeState.PENDING,
    "SUSPENDING": NodeState.PENDING,
    "SUSPENDED": NodeState.SUSPENDED,
    "TERMINATED": NodeState.STOPPED,
    "STOPPED": NodeState.STOPPED,
    "REPAIRING": NodeState.ERROR,
}

#: Disk ``status`` values; a ``READY`` disk with ``users`` is INUSE.
VOLUME_STATES: dict[str, StorageVolumeState] = {
    "READY": StorageVolumeState.AVAILABLE,
    "CREATING": StorageVolumeState.CREATING,
    "RESTORING": StorageVolumeState.CREATING,
    "DELETING": StorageVolumeState.DELETING,
    "FAILED": StorageVolumeState.ERROR,
}

#: Snapshot ``status`` values.
SNAPSHOT_STATES: dict[str, VolumeSnapshotState] = {
    "READY": VolumeSnapshotState.AVAILABLE,
    "CREATING": VolumeSnapshotState.CREATING,
    "UPLOADING": VolumeSnapshotState.CREATING,
    "DELETING": VolumeSnapshotState.DELETING,
    "FAILED": VolumeSnapshotState.ERROR,
}

_S = TypeVar("_S")

# RFC 1035 labels, which Compute Engine requires of resource names.
_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?\Z")
# "us-central1-a", "europe-west4-b", "me-central2-c".
_ZONE = re.compile(r"^[a-z]+(?:-[a-z]+)+[0-9]+-[a-z]\Z")
# Project ids (6 to 30 characters), with the domain prefix of older projects.
_PROJECT = re.compile(r"^(?:[a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]\Z")


def _check(value: object, pattern: re.Pattern[str], what: str, shape: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidArgumentError(f"{what} must be {shape}, not {value!r}")
    return value


def check_name(value: object, what: str = "name") -> str:
    """*value* if it is a Compute Engine resource name (RFC 1035: ``web-1``)."""
    return _check(value, _NAME, what, "lower-case letters, digits and '-' (RFC 1035)")


def check_zone(value: object, what: str = "zone") -> str:
    """*value* if it is shaped like a zone name (``us-central1-a``)."""
    return _check(value, _ZONE, what, "a zone name such as 'us-central1-a'")


def check_project(value: object, what: str = "project") -> str:
    """*value* if it is a project id (``my-project-123``)."""
    return _check(value, _PROJECT, what, "a project id such as 'my-project-123'")


def last_segment(url: Any) -> str | None:
    """The last path segment of a resource URL (its name), or ``None``."""
    if not isinstance(url, str) or not url:
        return None
    return url.rstrip("/").rsplit("/", 1)[-1] or None


#: A time as the API writes it, or ``None`` for no or bad input.
parse_time = parse_rfc3339


def _text(data: Any, key: str, what: str) -> str:
    # Like json_text, but ids of int64 fields may come as numbers.
    value = json_object(data, what).get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"a {what} has no valid {key!r}")
    return value


def _number(value: Any) -> int:
    # int64 fields come as strings ("10"), int32 ones as numbers.
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def _addresses(interfaces: Any) -> tuple[list[str], list[str]]:
    public: list[str] = []
    private: list[str] = []
    for interface in interfaces if isinstance(interfaces, list) else []:
        if not isinstance(interface, dict):
            continue
        if isinstance(interface.get("networkIP"), str):
            private.append(interface["networkIP"])
        for config in interface.get("accessConfigs") or []:
            if isinstance(config, dict) and isinstance(config.get("natIP"), str):
                public.append(config["natIP"])
    return public, private


def _boot_disk(disks: Any) -> dict[str, Any] | None:
    for disk in disks if isinstance(disks, list) else []:
        if isinstance(disk, dict) and disk.get("boot"):
            return disk
    return None


def parse_node(data: Any, driver: Any) -> Node:
    """
    An instance as a :class:`~txcloud.compute.base.Node`.

    ``id`` is the instance's numeric id and ``size`` its machine type's
    name; ``public_ips`` are the ``natIP`` of its access configs and
    ``private_ips`` the ``networkIP`` of its interfaces.  ``extra`` holds
    ``zone`` and ``machineType`` by name, ``status``, ``selfLink``,
    ``description``, ``tags`` (the list), ``labels``, ``metadata``,
    ``networkInterfaces``, ``disks``, ``boot_disk`` (the boot disk's entry),
    ``serviceAccounts``, ``scheduling``, ``cpuPlatform``,
    ``deletionProtection`` and ``creationTimestamp``.
    """
    name = _text(data, "name", "instance")
    public, private = _addresses(data.get("networkInterfaces"))
    status = data.get("status")
    tags = data.get("tags")
    machine_type = last_segment(data.get("machineType"))
    extra = {
        key: data.get(key)
        for key in (
            "status",
            "selfLink",
            "description",
            "labels",
            "metadata",
            "networkInterfaces",
            "disks",
            "serviceAccounts",
            "scheduling",
            "cpuPlatform",
            "deletionProtection",
            "creationTimestamp",
        )
    }
    extra.update(
        zone=last_segment(data.get("zone")),
        machineType=machine_type,
        tags=list(tags.get("items") or []) if isinstance(tags, dict) else [],
        boot_disk=_boot_disk(data.get("disks")),
    )
    return Node(
        id=_text(data, "id", "instance"),
        name=name,
        state=NODE_STATES.get(status, NodeState.UNKNOWN)
        if isinstance(status, str)
        else NodeState.UNKNOWN,
        public_ips=public,
        private_ips=private,
        driver=driver,
        size=machine_type,
        created_at=parse_time(data.get("creationTimestamp")),
        extra=extra,
    )


def parse_size(data: Any, driver: Any) -> NodeSize:
    """
    A machine type as a :class:`~txcloud.compute.base.NodeSize`: ``ram``
    is ``memoryMb``, ``disk`` ``imageSpaceGb``; no bandwidth or price (the
    API gives neither).  ``extra`` holds ``zone``, ``guestCpus``,
    ``description``, ``isSharedCpu``, ``maximumPersistentDisks``,
    ``maximumPersistentDisksSizeGb``, ``selfLink`` and ``deprecated``.
    """
    extra = {
        key: data.get(key)
        for key in (
            "guestCpus",
            "description",
            "isSharedCpu",
            "maximumPersistentDisks",
            "maximumPersistentDisksSizeGb",
            "selfLink",
            "deprecated",
        )
    }
    extra["zone"] = last_segment(data.get("zone"))
    return NodeSize(
        id=_text(data, "id", "machine type"),
        name=_text(data, "name", "machine type"),
        ram=_number(data.get("memoryMb")),
        disk=_number(data.get("imageSpaceGb")),
        bandwidth=None,
        price=None,
        driver=driver,
        extra=extra,
    )


def is_deprecated(data: Any) -> bool:
    """Whether an image is deprecated, obsolete or deleted (``deprecated.state`` not ACTIVE)."""
    deprecated = data.get("deprecated") if isinstance(data, dict) else None
    state = deprecated.get("state") if isinstance(deprecated, dict) else None
    return isinstance(state, str) and state != "ACTIVE"


def parse_image(data: Any, driver: Any, project: str | None = None) -> NodeImage:
    """
    An image as a :class:`~txcloud.compute.base.NodeImage`.

    ``extra`` holds ``project`` (the project listed), ``family``,
    ``description``, ``status``, ``diskSizeGb`` (a number),
    ``archiveSizeBytes``, ``architecture``, ``licenses``,
    ``guestOsFeatures``, ``deprecated``, ``selfLink`` and ``creationTimestamp``.
    """
    extra = {
        key: data.get(key)
        for key in (
            "family",
            "description",
            "status",
            "archiveSizeBytes",
            "architecture",
            "licenses",
            "guestOsFeatures",
            "deprecated",
            "selfLink",
            "creationTimestamp",
        )
    }
    extra.update(project=project, diskSizeGb=_number(data.get("diskSizeGb")))
    return NodeImage(
        id=_text(data, "id", "image"),
        name=_text(data, "name", "image"),
        driver=driver,
        extra=extra,
    )


def parse_location(data: Any, driver: Any) -> NodeLocation:
    """
    A zone as a :class:`~txcloud.compute.base.NodeLocation` (``country`` is
    empty: the API does not give it).  ``extra`` holds ``region`` by name,
    ``status`` (``UP``/``DOWN``), ``description``, ``availableCpuPlatforms``,
    ``deprecated`` and ``selfLink``.
    """
    extra = {
        key: data.get(key)
        for key in ("status", "description", "availableCpuPlatforms", "deprecated", "selfLink")
    }
    extra["region"] = last_segment(data.get("region"))
    return NodeLocation(
        id=_text(data, "id", "zone"),
        name=_text(data, "name", "zone"),
        country="",
        driver=driver,
        extra=extra,
    )


def parse_volume(data: Any, driver: Any) -> StorageVolume:
    """
    A persistent disk as a :class:`~txcloud.compute.base.StorageVolume`
    (``size`` is ``sizeGb``; the state ``INUSE`` while it has ``users``).

    ``extra`` holds, as Libcloud's: ``zone``, ``type`` (the disk type's
    name), ``users`` (the instances' names) and ``sourceImage`` and
    ``sourceSnapshot`` by name, with ``status``, ``selfLink``,
    ``description``, ``sourceImageId``, ``sourceSnapshotId``, ``labels``,
    ``physicalBlockSizeBytes``, ``lastAttachTimestamp``,
    ``lastDetachTimestamp`` and ``creationTimestamp``.
    """
    name = _text(data, "name", "disk")
    users = [last_segment(user) for user in data.get("users") or []]
    state = _state(VOLUME_STATES, data.get("status"), StorageVolumeState.UNKNOWN)
    if state is StorageVolumeState.AVAILABLE and users:
        state = StorageVolumeState.INUSE
    extra = _fields(
        data,
        "status",
        "selfLink",
        "description",
        "sourceImageId",
        "sourceSnapshotId",
        "labels",
        "physicalBlockSizeBytes",
        "lastAttachTimestamp",
        "lastDetachTimestamp",
        "creationTimestamp",
    )
    extra.update(
        zone=last_segment(data.get("zone")),
        type=last_segment(data.get("type")),
        users=[user for user in users if user],
        sourceImage=last_segment(data.get("sourceImage")),
        sourceSnapshot=last_segment(data.get("sourceSnapshot")),
    )
    return StorageVolume(
        id=_text(data, "id", "disk"),
        name=name,
        size=_number(data.get("sizeGb")),
        driver=driver,
        state=state,
        extra=extra,
    )


def parse_snapshot(data: Any, driver: Any) -> VolumeSnapshot:
    """
    A snapshot as a :class:`~txcloud.compute.base.VolumeSnapshot` (``size``
    is ``diskSizeGb``, the source disk's size).

    ``extra`` holds, as Libcloud's: ``sourceDisk`` by name, its ``zone``
    (from the disk's URL), ``sourceDiskId``, ``status``, ``selfLink``,
    ``description``, ``storageBytes`` (a number), ``storageBytesStatus``,
    ``licenses``, ``labels``, ``storageLocations`` and ``creationTimestamp``.
    """
    name = _text(data, "name", "snapshot")
    source = data.get("sourceDisk")
    extra = _fields(
        data,
        "status",
        "selfLink",
        "description",
        "sourceDiskId",
        "storageBytesStatus",
        "licenses",
        "labels",
        "storageLocations",
        "creationTimestamp",
    )
    zone = re.search(r"/zones/([^/]+)/", source) if isinstance(source, str) else None
    extra.update(
        sourceDisk=last_segment(source),
        zone=zone.group(1) if zone else None,
        storageBytes=_number(data.get("storageBytes")),
    )
    return VolumeSnapshot(
        id=_text(data, "id", "snapshot"),
        driver=driver,
        size=_number(data.get("diskSizeGb")),
        extra=extra,
        created=parse_time(data.get("creationTimestamp")),
        state=_state(SNAPSHOT_STATES, data.get("status"), VolumeSnapshotState.UNKNOWN),
        name=name,
    )


def _fields(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: data.get(key) for key in keys}


def _state(states: dict[str, _S], status: Any, unknown: _S) -> _S:
    return states.get(status, unknown) if isinstance(status, str) else unknown
