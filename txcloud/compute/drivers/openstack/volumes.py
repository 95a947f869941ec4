"""
Block storage through Cinder (the block-storage API v3, found in the
catalog as ``block-storage`` or ``volumev3``), attached to servers through
Nova's ``os-volume_attachments``, with Libcloud's names and arguments.

Cinder creates, deletes and snapshots in the background, and Nova attaches
and detaches: the calls fire once the request is accepted, and
:meth:`~txcloud.compute.base.NodeDriver.wait_until_volume` and
:meth:`~txcloud.compute.base.NodeDriver.wait_until_snapshot` wait for the
end.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from txcloud.common.checks import check_positive_integer, check_text
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeImage, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.openstack.api import (
    OpenStackAPIDriver,
    check_server_id,
    check_uuid,
)
from txcloud.compute.drivers.openstack.parse import parse_snapshot, parse_volume
from txcloud.errors import InvalidArgumentError, VolumeNotFoundError

__all__ = ["DEVICE_NAME", "OpenStackVolumesMixin"]

_T = TypeVar("_T")

#: Device names Nova takes for an attached volume (``/dev/vdb``,
#: ``/dev/sdc``, ``/dev/xvdf``); ``"auto"`` or ``None`` let it choose.
DEVICE_NAME = re.compile(r"/dev/[a-z]{2,4}[a-z]")


def _volume_id(volume: object) -> str:
    if not isinstance(volume, StorageVolume):
        raise InvalidArgumentError(f"expected a StorageVolume, not {type(volume).__name__}")
    return check_uuid(volume.id, "the volume's id")


def _snapshot_id(snapshot: object) -> str:
    if isinstance(snapshot, VolumeSnapshot):
        snapshot = snapshot.id
    return check_uuid(snapshot, "the snapshot's id")


class OpenStackVolumesMixin(OpenStackAPIDriver):
    """The volume and snapshot methods of the OpenStack driver."""

    # Volumes

    def iterate_volumes(self) -> AsyncIterator[StorageVolume]:
        """The project's volumes in this region (``GET /volumes/detail``), a page at a time."""
        return self._parsed("volume", "/volumes/detail", "volumes", {}, parse_volume)

    def list_volumes(self) -> Deferred[list[StorageVolume]]:
        """List the volumes; fires with a list of :class:`~txcloud.compute.base.StorageVolume`."""
        return collect(self.iterate_volumes())

    def ex_get_volume(self, volumeId: str) -> Deferred[StorageVolume]:
        """
        One volume by id; fails with :class:`~txcloud.errors.VolumeNotFoundError`.
        """
        path = f"/volumes/{check_uuid(volumeId, 'volumeId')}"
        return Deferred.fromCoroutine(self._get_object("volume", path, "volume")).addCallback(
            parse_volume, self
        )

    def create_volume(  # type: ignore[override]
        self,
        size: int,
        name: str,
        location: NodeLocation | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        ex_volume_type: str | None = None,
        ex_image_ref: NodeImage | str | None = None,
    ) -> Deferred[StorageVolume]:
        """
        Create a volume (``POST /volumes``).

        :param size: GiB, a positive integer.
        :param name: its name.
        :param location: its availability zone (a name, or a location from
            :meth:`ex_list_availability_zones`); Cinder's default if ``None``.
        :param snapshot: a snapshot (or its id) to fill it from.
        :param ex_volume_type: a volume type of the cloud.
        :param ex_image_ref: an image (or its id) to make it bootable from.
        :returns: a Deferred firing with the new volume, ``CREATING`` at first.
        :raises InvalidArgumentError: for any bad argument, before sending.
        """
        volume: dict[str, Any] = {
            "size": check_positive_integer(size, "size", "GiB"),
            "name": check_text(name, "name"),
        }
        zone = location if isinstance(location, str) else self._zone(location, None)
        if zone is not None:
            volume["availability_zone"] = check_text(zone, "location")
        if snapshot is not None:
            volume["snapshot_id"] = _snapshot_id(snapshot)
        if ex_volume_type is not None:
            volume["volume_type"] = check_text(ex_volume_type, "ex_volume_type")
        if ex_image_ref is not None:
            image = ex_image_ref.id if isinstance(ex_image_ref, NodeImage) else ex_image_ref
            volume["imageRef"] = check_uuid(image, "ex_image_ref")
        return Deferred.fromCoroutine(
            self._created("/volumes", {"volume": volume}, "volume", parse_volume)
        )

    async def _created(
        self, path: str, body: dict[str, Any], key: str, parse: Callable[[Any, Any], _T]
    ) -> _T:
        document = await self._call("POST", "volume", path, body=body)
        return parse(self._object(document, key, f"POST {path}"), self)

    async def _accepted(self, method: str, service: str, path: str, **body: Any) -> bool:
        await self._call(method, service, path, body=body or None)
        return True

    def attach_volume(
        self, node: Node, volume: StorageVolume, device: str | None = "auto"
    ) -> Deferred[bool]:
        """
        Attach *volume* to *node* (``POST /servers/{id}/os-volume_attachments``).

        :param device: ``"auto"`` or ``None`` lets Nova name the device; else
            a name such as ``/dev/vdb`` (see :data:`DEVICE_NAME`).
        :returns: a Deferred firing with ``True`` once Nova accepted it.
        """
        attachment = {"volumeId": _volume_id(volume)}
        if device not in ("auto", None):
            if not isinstance(device, str) or not DEVICE_NAME.fullmatch(device):
                raise InvalidArgumentError(f"Nova does not take the device name {device!r}", self)
            attachment["device"] = device
        path = f"/servers/{check_server_id(node)}/os-volume_attachments"
        return Deferred.fromCoroutine(
            self._accepted("POST", "compute", path, volumeAttachment=attachment)
        )

    def detach_volume(self, volume: StorageVolume, ex_node: Node | None = None) -> Deferred[bool]:
        """
        Detach *volume* from the servers it is attached to now (read from
        Cinder first, not from *volume*, which may be older).

        :param ex_node: detach it from this server only.
        :returns: a Deferred firing with ``True`` once Nova accepted every
            detachment (also when there was none to make, as in Libcloud).
        """
        volume_id = _volume_id(volume)
        server_id = check_server_id(ex_node) if ex_node is not None else None
        return Deferred.fromCoroutine(self._detach(volume_id, server_id))

    async def _detach(self, volume_id: str, only_server: str | None) -> bool:
        current = parse_volume(
            await self._get_object("volume", f"/volumes/{volume_id}", "volume"), self
        )
        servers = {attachment.get("server_id") for attachment in current.extra["attachments"]}
        for server in sorted(s for s in servers if isinstance(s, str)):
            if only_server in (None, server):
                path = f"/servers/{server}/os-volume_attachments/{volume_id}"
                await self._accepted("DELETE", "compute", path)
        return True

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """
        Delete a detached *volume* without snapshots (``DELETE /volumes/{id}``);
        fires with ``True``.  Cinder refuses others:
        :class:`~txcloud.errors.InvalidRequestError`.
        """
        path = f"/volumes/{_volume_id(volume)}"
        return Deferred.fromCoroutine(self._accepted("DELETE", "volume", path))

    def _fetch_volume(self, volume_id: str) -> Deferred[StorageVolume | None]:
        return Deferred.fromCoroutine(self._fetch(f"/volumes/{volume_id}", "volume", parse_volume))

    async def _fetch(self, path: str, key: str, parse: Callable[[Any, Any], _T]) -> _T | None:
        try:
            return parse(await self._get_object("volume", path, key), self)
        except VolumeNotFoundError:
            return None

    # Snapshots

    def list_snapshots(self) -> Deferred[list[VolumeSnapshot]]:
        """List the project's snapshots (``GET /snapshots/detail``)."""
        return collect(self._parsed("volume", "/snapshots/detail", "snapshots", {}, parse_snapshot))

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """List the snapshots of *volume*; fires with a list of snapshots."""
        return Deferred.fromCoroutine(self._volume_snapshots(_volume_id(volume)))

    async def _volume_snapshots(self, volume_id: str) -> list[VolumeSnapshot]:
        params = {"volume_id": volume_id}
        found = self._parsed("volume", "/snapshots/detail", "snapshots", params, parse_snapshot)
        # A cloud may disable the filter (its resource_filters): check each.
        return [s async for s in found if s.extra["volume_id"] == volume_id]

    def create_volume_snapshot(
        self,
        volume: StorageVolume,
        name: str | None = None,
        ex_description: str | None = None,
        ex_force: bool = True,
    ) -> Deferred[VolumeSnapshot]:
        """
        Snapshot *volume* (``POST /snapshots``).

        :param ex_description: the snapshot's description.
        :param ex_force: snapshot a volume that is attached (``in-use``),
            as Libcloud does by default.
        :returns: a Deferred firing with the snapshot, ``CREATING`` at first.
        """
        snapshot: dict[str, Any] = {"volume_id": _volume_id(volume)}
        if not isinstance(ex_force, bool):
            raise InvalidArgumentError("ex_force must be True or False", self)
        snapshot["force"] = ex_force
        if name is not None:
            snapshot["name"] = check_text(name, "name")
        if ex_description is not None:
            snapshot["description"] = check_text(ex_description, "ex_description")
        return Deferred.fromCoroutine(
            self._created("/snapshots", {"snapshot": snapshot}, "snapshot", parse_snapshot)
        )

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Delete *snapshot* (``DELETE /snapshots/{id}``); fires with ``True``."""
        path = f"/snapshots/{_snapshot_id(snapshot)}"
        return Deferred.fromCoroutine(self._accepted("DELETE", "volume", path))

    def _fetch_snapshot(self, snapshot_id: str) -> Deferred[VolumeSnapshot | None]:
        return Deferred.fromCoroutine(
            self._fetch(f"/snapshots/{snapshot_id}", "snapshot", parse_snapshot)
        )
