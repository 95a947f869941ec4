"""
Persistent disks and their snapshots through the Compute Engine API v1
(``disks``, instances' ``attachDisk``/``detachDisk``, global
``snapshots``), with the names and arguments of Libcloud's GCE driver.

Every change is an operation; the methods wait until it is done (polled on
the driver's reactor, as for instances), so a new volume or snapshot is
``READY`` and attach, detach and destroy have happened when they fire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from twisted.internet.defer import Deferred

from txcloud.common.checks import check_positive_integer
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeImage, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.gce.api import GCEAPIDriver
from txcloud.compute.drivers.gce.parse import (
    check_name,
    check_zone,
    parse_snapshot,
    parse_volume,
)
from txcloud.errors import InvalidArgumentError

__all__ = ["ATTACH_MODES", "DISK_TYPES", "GCEVolumesMixin"]

#: The persistent disk types ``create_volume`` takes as ``ex_disk_type``.
DISK_TYPES = frozenset(
    {
        "pd-standard",
        "pd-balanced",
        "pd-ssd",
        "pd-extreme",
        "hyperdisk-balanced",
        "hyperdisk-extreme",
        "hyperdisk-ml",
        "hyperdisk-throughput",
    }
)

#: How ``attach_volume`` attaches a disk (``ex_mode``), with Libcloud's short names.
ATTACH_MODES = {
    "READ_WRITE": "READ_WRITE",
    "READ_ONLY": "READ_ONLY",
    "RW": "READ_WRITE",
    "RO": "READ_ONLY",
}


def _disk(volume: object) -> tuple[str, str]:
    """The zone and name of *volume*, checked."""
    if not isinstance(volume, StorageVolume):
        raise InvalidArgumentError(f"expected a StorageVolume, not {type(volume).__name__}")
    zone = check_zone(volume.extra.get("zone"), "the volume's zone")
    return zone, check_name(volume.name, "the volume's name")


def _snapshot_name(snapshot: object) -> str:
    if isinstance(snapshot, VolumeSnapshot):
        snapshot = snapshot.name
    return check_name(snapshot, "a snapshot or its name")


class GCEVolumesMixin(GCEAPIDriver):
    """The volume and snapshot methods of :class:`~txcloud.compute.drivers.gce.GCENodeDriver`."""

    # Volumes

    def list_volumes(
        self, ex_zone: NodeLocation | str | None = None
    ) -> Deferred[list[StorageVolume]]:
        """
        List the project's disks: of every zone (one ``aggregatedList``,
        paged), or of *ex_zone* only.

        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.StorageVolume`.
        :raises InvalidArgumentError: for a malformed zone, before any request.
        """
        zone = None if ex_zone is None else self._zone_name(ex_zone)
        return collect(self._volumes(zone))

    async def _volumes(self, zone: str | None) -> AsyncIterator[StorageVolume]:
        async for item in self._zoned("disks", zone):
            yield parse_volume(item, self)

    def create_volume(  # type: ignore[override]
        self,
        size: int | None,
        name: str,
        location: NodeLocation | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        image: NodeImage | str | None = None,
        ex_disk_type: str = "pd-standard",
        ex_description: str | None = None,
    ) -> Deferred[StorageVolume]:
        """
        Create a disk (``disks.insert``), wait for it, and fetch it.

        :param size: GiB, a positive integer; ``None`` takes the size of
            *snapshot* or *image*.
        :param name: the disk's name (RFC 1035: ``data-1``).
        :param location: its zone; the driver's ``datacenter`` by default.
        :param snapshot: a snapshot (or its name) to fill it from.
        :param image: an image (a :class:`~txcloud.compute.base.NodeImage`,
            a name in the project or a ``projects/...`` path) to fill it from.
        :param ex_disk_type: one of :data:`DISK_TYPES`.
        :param ex_description: its description.
        :returns: a Deferred firing with the new volume, ``AVAILABLE``.
        :raises InvalidArgumentError: for any bad argument, before any request.
        """
        zone = self._zone_name(location)
        body: dict[str, Any] = {"name": check_name(name)}
        if size is not None:
            body["sizeGb"] = str(check_positive_integer(size, "size", "GB"))
        elif snapshot is None and image is None:
            raise InvalidArgumentError("create_volume needs a size, a snapshot or an image", self)
        if snapshot is not None and image is not None:
            raise InvalidArgumentError("fill a volume from a snapshot or an image, not both", self)
        if ex_disk_type not in DISK_TYPES:
            raise InvalidArgumentError(
                f"ex_disk_type must be one of {sorted(DISK_TYPES)}, not {ex_disk_type!r}", self
            )
        body["type"] = f"zones/{zone}/diskTypes/{ex_disk_type}"
        if snapshot is not None:
            body["sourceSnapshot"] = f"global/snapshots/{_snapshot_name(snapshot)}"
        if image is not None:
            body["sourceImage"] = self._image_path(image)
        if ex_description is not None:
            body["description"] = str(ex_description)
        return Deferred.fromCoroutine(self._create_volume(zone, body))

    async def _create_volume(self, zone: str, body: dict[str, Any]) -> StorageVolume:
        await self._known_zone(zone)
        await self._finish(
            await self._call("POST", await self._url(f"/zones/{zone}/disks"), body=body)
        )
        return await self._get_volume(zone, body["name"])

    async def _get_volume(self, zone: str, name: str) -> StorageVolume:
        return parse_volume(
            await self._call("GET", await self._url(f"/zones/{zone}/disks/{name}")), self
        )

    def attach_volume(
        self,
        node: Node,
        volume: StorageVolume,
        device: str | None = None,
        ex_mode: str | None = None,
        ex_boot: bool = False,
        ex_auto_delete: bool = False,
    ) -> Deferred[bool]:
        """
        Attach *volume* to *node* (``instances.attachDisk``) and wait until done.

        :param device: the device name the guest sees under
            ``/dev/disk/by-id/google-<device>``; the volume's name by default
            (as in Libcloud).
        :param ex_mode: ``"READ_WRITE"`` (the default) or ``"READ_ONLY"``
            (``"RW"``/``"RO"`` too).
        :param ex_boot: attach it as the boot disk.
        :param ex_auto_delete: delete it with the instance.
        :returns: a Deferred firing with ``True``.
        :raises InvalidArgumentError: for bad arguments, or a volume in
            another zone than the node, before any request.
        """
        zone, disk = _disk(volume)
        path = self._node_path(node, "attachDisk")
        if node.extra.get("zone") != zone:
            raise InvalidArgumentError(
                f"the volume {disk!r} is in {zone}, the node {node.name!r} in "
                f"{node.extra.get('zone')}: a disk attaches only in its zone",
                self,
            )
        mode = "READ_WRITE" if ex_mode is None else ATTACH_MODES.get(str(ex_mode))
        if mode is None:
            raise InvalidArgumentError(f"ex_mode must be one of {sorted(ATTACH_MODES)}", self)
        body: dict[str, Any] = {
            "source": f"zones/{zone}/disks/{disk}",
            "type": "PERSISTENT",
            "deviceName": check_name(device if device is not None else disk, "device"),
            "mode": mode,
        }
        for key, argument, flag in (
            ("boot", "ex_boot", ex_boot),
            ("autoDelete", "ex_auto_delete", ex_auto_delete),
        ):
            if not isinstance(flag, bool):
                raise InvalidArgumentError(f"{argument} must be True or False", self)
            body[key] = flag
        return Deferred.fromCoroutine(self._change("POST", path, body=body))

    async def _change(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> bool:
        url = await self._url(path)
        await self._finish(await self._call(method, url, params=params, body=body))
        return True

    def detach_volume(self, volume: StorageVolume, ex_node: Node | None = None) -> Deferred[bool]:
        """
        Detach *volume* (``instances.detachDisk``) from *ex_node*, or from
        every instance it is attached to now, and wait until done.

        :returns: a Deferred firing with ``True``.
        """
        zone, disk = _disk(volume)
        nodes = None if ex_node is None else [self._node_path(ex_node)]
        return Deferred.fromCoroutine(self._detach(zone, disk, nodes))

    async def _detach(self, zone: str, disk: str, nodes: list[str] | None) -> bool:
        if nodes is None:
            current = await self._get_volume(zone, disk)
            nodes = [self._instance_path(zone, user) for user in current.extra["users"]]
        for path in nodes:
            instance = await self._call("GET", await self._url(path))
            for device in _devices_of(instance, zone, disk):
                await self._change("POST", f"{path}/detachDisk", params={"deviceName": device})
        return True

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """Delete a detached *volume* (``disks.delete``); fires with ``True`` once done."""
        zone, disk = _disk(volume)
        return Deferred.fromCoroutine(self._change("DELETE", f"/zones/{zone}/disks/{disk}"))

    # Snapshots

    def list_snapshots(self) -> Deferred[list[VolumeSnapshot]]:
        """List the project's snapshots (global ``snapshots``, paged)."""
        return collect(self._snapshots())

    async def _snapshots(self) -> AsyncIterator[VolumeSnapshot]:
        async for item in self._items(await self._url("/global/snapshots")):
            yield parse_snapshot(item, self)

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """The snapshots made from *volume* (by its id, as Libcloud matches them)."""
        _disk(volume)
        return collect(self._snapshots_of(volume.id))

    async def _snapshots_of(self, disk_id: str) -> AsyncIterator[VolumeSnapshot]:
        async for snapshot in self._snapshots():
            if snapshot.extra.get("sourceDiskId") == disk_id:
                yield snapshot

    def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None
    ) -> Deferred[VolumeSnapshot]:
        """
        Snapshot *volume* (``disks.createSnapshot``), wait for it, and fetch it.

        :param name: the snapshot's name; Compute Engine needs one, so it is
            ``<volume name>-<unix time>`` (the driver's clock) when ``None``.
        :returns: a Deferred firing with the snapshot, ``AVAILABLE``.
        """
        zone, disk = _disk(volume)
        if name is None:
            name = f"{disk}-{int(self.reactor.seconds())}"
        body = {"name": check_name(name)}
        path = f"/zones/{zone}/disks/{disk}/createSnapshot"
        return Deferred.fromCoroutine(self._create_snapshot(path, body))

    async def _create_snapshot(self, path: str, body: dict[str, Any]) -> VolumeSnapshot:
        await self._change("POST", path, body=body)
        url = await self._url(f"/global/snapshots/{body['name']}")
        return parse_snapshot(await self._call("GET", url), self)

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Delete *snapshot* (``snapshots.delete``); fires with ``True`` once done."""
        path = f"/global/snapshots/{_snapshot_name(snapshot)}"
        return Deferred.fromCoroutine(self._change("DELETE", path))


def _devices_of(instance: dict[str, Any], zone: str, disk: str) -> list[str]:
    """The device names *instance* has the disk *zone*/*disk* attached as."""
    wanted = f"/zones/{zone}/disks/{disk}"
    return [
        attached["deviceName"]
        for attached in instance.get("disks") or []
        if isinstance(attached, dict)
        and isinstance(attached.get("source"), str)
        and attached["source"].endswith(wanted)
        and isinstance(attached.get("deviceName"), str)
    ]
