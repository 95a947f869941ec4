"""
Block-storage volumes and their snapshots through DigitalOcean's API v2
(``/v2/volumes``, ``/v2/snapshots``), with Libcloud's names and arguments.

Attaching and detaching are actions DigitalOcean carries out in the
background; :meth:`~txcloud.compute.base.NodeDriver.wait_until_volume`
waits for their end.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.internet.defer import Deferred

from txcloud.common.checks import check_volume_size
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.digitalocean.api import DigitalOceanAPIDriver
from txcloud.compute.drivers.digitalocean.parse import parse_snapshot, parse_volume
from txcloud.errors import InvalidArgumentError, VolumeNotFoundError

__all__ = ["MAX_VOLUME_SIZE", "DigitalOceanVolumesMixin"]

#: The largest volume DigitalOcean makes, in GiB.
MAX_VOLUME_SIZE = 16 * 1024

# Volume names: lower-case letters, digits and dashes, from a letter.
_VOLUME_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_SNAPSHOT_TYPES = ("droplet", "volume")


def _volume_id(volume: object) -> str:
    if not isinstance(volume, StorageVolume):
        raise InvalidArgumentError(f"expected a StorageVolume, not {type(volume).__name__}")
    if not isinstance(volume.id, str) or not volume.id or "/" in volume.id:
        raise InvalidArgumentError(f"not a volume id: {volume.id!r}")
    return volume.id


def _snapshot_id(snapshot: object) -> str:
    if isinstance(snapshot, VolumeSnapshot):
        snapshot = snapshot.id
    if not isinstance(snapshot, str) or not snapshot or "/" in snapshot:
        raise InvalidArgumentError(f"expected a VolumeSnapshot or its id, not {snapshot!r}")
    return snapshot


def _tags(tags: object) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise InvalidArgumentError("ex_tags must be a list of strings")
    if not all(isinstance(tag, str) and tag for tag in tags):
        raise InvalidArgumentError("ex_tags must be a list of non-empty strings")
    return list(tags)


class DigitalOceanVolumesMixin(DigitalOceanAPIDriver):
    """The volume and snapshot methods of the DigitalOcean driver."""

    def list_volumes(self) -> Deferred[list[StorageVolume]]:
        """List the account's volumes, every region's; fires with a list of volumes."""
        return collect(self._parsed("/v2/volumes", "volumes", {}, parse_volume))

    def create_volume(  # type: ignore[override]
        self,
        size: int,
        name: str,
        location: NodeLocation | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        ex_description: str | None = None,
        ex_filesystem_type: str | None = None,
        ex_filesystem_label: str | None = None,
        ex_tags: list[str] | None = None,
    ) -> Deferred[StorageVolume]:
        """
        Create a volume.

        :param size: GiB, an integer in 1..16384.
        :param name: lower-case letters, digits and dashes, from a letter.
        :param location: its region (a location or a slug); the driver's
            ``region`` by default.  Needed unless *snapshot* is given.
        :param snapshot: a volume snapshot to fill it from.
        :param ex_description: its description.
        :param ex_filesystem_type: ``"ext4"`` or ``"xfs"`` to format it.
        :param ex_filesystem_label: the filesystem's label.
        :param ex_tags: tags.
        :returns: a Deferred firing with the new volume.
        :raises InvalidArgumentError: for any bad argument, before sending.
        """
        body: dict[str, Any] = {"size_gigabytes": check_volume_size(size, MAX_VOLUME_SIZE)}
        if not isinstance(name, str) or not _VOLUME_NAME.match(name):
            raise InvalidArgumentError(
                f"name must be lower-case letters, digits and dashes from a letter: {name!r}"
            )
        body["name"] = name
        region = self._region_of(location)
        if snapshot is not None:
            body["snapshot_id"] = _snapshot_id(snapshot)
        elif region is None:
            raise InvalidArgumentError("create_volume needs a location or a snapshot", self)
        if region is not None:
            body["region"] = region
        if ex_description is not None:
            body["description"] = str(ex_description)
        if ex_filesystem_type is not None:
            if ex_filesystem_type not in ("ext4", "xfs"):
                raise InvalidArgumentError("ex_filesystem_type must be 'ext4' or 'xfs'", self)
            body["filesystem_type"] = ex_filesystem_type
        if ex_filesystem_label is not None:
            body["filesystem_label"] = str(ex_filesystem_label)
        if ex_tags is not None:
            body["tags"] = _tags(ex_tags)
        return Deferred.fromCoroutine(self._created("/v2/volumes", body, "volume", parse_volume))

    async def _created(self, path: str, body: dict[str, Any], key: str, parse: Any) -> Any:
        document = await self._call("POST", path, body=body)
        return parse(self._object(document, key, f"POST {path}"), self)

    def attach_volume(
        self, node: Node, volume: StorageVolume, device: str | None = None
    ) -> Deferred[bool]:
        """
        Attach *volume* to *node* (a droplet of its region).

        :param device: ignored: DigitalOcean names the device
            (``/dev/disk/by-id/scsi-0DO_Volume_<name>``).
        :returns: a Deferred firing with ``True`` once the action is accepted.
        """
        if not isinstance(node, Node) or not str(node.id).isdigit():
            raise InvalidArgumentError(f"expected a droplet's Node, not {node!r}", self)
        action = {"type": "attach", "droplet_id": int(node.id)}
        region = volume.extra.get("region_id") if isinstance(volume, StorageVolume) else None
        if region:
            action["region"] = region
        return Deferred.fromCoroutine(self._volume_actions(_volume_id(volume), [action]))

    async def _volume_actions(self, volume_id: str, actions: list[dict[str, Any]]) -> bool:
        path = f"/v2/volumes/{volume_id}/actions"
        for action in actions:
            document = await self._call("POST", path, body=action)
            self._object(document, "action", f"POST {path}")
        return True

    def detach_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """
        Detach *volume* from the droplets it is attached to (as it is now,
        not as *volume* last saw it).

        :returns: a Deferred firing with ``True`` once the actions are accepted.
        """
        return Deferred.fromCoroutine(self._detach(_volume_id(volume)))

    async def _detach(self, volume_id: str) -> bool:
        current = parse_volume(await self._get_object(f"/v2/volumes/{volume_id}", "volume"), self)
        actions = [
            {"type": "detach", "droplet_id": droplet_id, "region": current.extra["region_id"]}
            for droplet_id in current.extra["droplet_ids"]
        ]
        return await self._volume_actions(volume_id, actions)

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """Delete a detached *volume*; fires with ``True``."""
        return Deferred.fromCoroutine(self._delete(f"/v2/volumes/{_volume_id(volume)}"))

    def _fetch_volume(self, volume_id: str) -> Deferred[StorageVolume | None]:
        return Deferred.fromCoroutine(
            self._fetch(f"/v2/volumes/{volume_id}", "volume", parse_volume)
        )

    async def _fetch(self, path: str, key: str, parse: Any) -> Any:
        try:
            return parse(await self._get_object(path, key), self)
        except VolumeNotFoundError:
            return None

    # Snapshots

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """List the snapshots of *volume*; fires with a list of snapshots."""
        path = f"/v2/volumes/{_volume_id(volume)}/snapshots"
        return collect(self._parsed(path, "snapshots", {}, parse_snapshot))

    def list_snapshots(self, ex_resource_type: str | None = None) -> Deferred[list[VolumeSnapshot]]:
        """
        List the account's snapshots, of volumes and of droplets.

        :param ex_resource_type: ``"volume"`` or ``"droplet"``: only those.
        :returns: a Deferred firing with a list of snapshots.
        """
        params = {}
        if ex_resource_type is not None:
            if ex_resource_type not in _SNAPSHOT_TYPES:
                raise InvalidArgumentError(
                    f"ex_resource_type must be one of {_SNAPSHOT_TYPES}, not {ex_resource_type!r}"
                )
            params["resource_type"] = ex_resource_type
        return collect(self._parsed("/v2/snapshots", "snapshots", params, parse_snapshot))

    def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None, ex_tags: list[str] | None = None
    ) -> Deferred[VolumeSnapshot]:
        """
        Snapshot *volume*.

        :param name: the snapshot's name; DigitalOcean needs one, so it is
            ``<volume name>-<unix time>`` (the driver's clock) when ``None``.
        :param ex_tags: tags.
        :returns: a Deferred firing with the snapshot.
        """
        volume_id = _volume_id(volume)
        if name is None:
            name = f"{volume.name}-{int(self.reactor.seconds())}"
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError("name must be a non-empty string", self)
        body: dict[str, Any] = {"name": name}
        if ex_tags is not None:
            body["tags"] = _tags(ex_tags)
        path = f"/v2/volumes/{volume_id}/snapshots"
        return Deferred.fromCoroutine(self._created(path, body, "snapshot", parse_snapshot))

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Delete *snapshot*; fires with ``True``."""
        return Deferred.fromCoroutine(self._delete(f"/v2/snapshots/{_snapshot_id(snapshot)}"))

    def _fetch_snapshot(self, snapshot_id: str) -> Deferred[VolumeSnapshot | None]:
        return Deferred.fromCoroutine(
            self._fetch(f"/v2/snapshots/{snapshot_id}", "snapshot", parse_snapshot)
        )
