"""
Managed disks and their snapshots (Microsoft.Compute ``disks`` and
``snapshots``), with the names and arguments of Libcloud's
``AzureNodeDriver``.

Disks are attached and detached by updating the machine's
``storageProfile.dataDisks``.  Every call waits for Azure's long-running
operation to end, so a created volume is ``AVAILABLE`` and an attached one
``INUSE`` when its Deferred fires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred

from txcloud.common.checks import check_volume_size
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.azure_arm.api import DISKS_API_VERSION, AzureAPIDriver
from txcloud.compute.drivers.azure_arm.parse import parse_snapshot, parse_volume
from txcloud.compute.drivers.azure_arm.resources import (
    COMPUTE,
    ResourceId,
    check_name,
    check_resource_group,
)
from txcloud.errors import InvalidArgumentError, ResourceConflictError, VolumeNotFoundError

__all__ = ["DATA_DISK_OPTIONS", "MAX_LUN", "MAX_VOLUME_SIZE", "SKU_NAMES", "AzureVolumesMixin"]

_T = TypeVar("_T")

#: The storage kinds (``sku.name``) a managed disk may have.
SKU_NAMES = frozenset(
    {
        "Standard_LRS",
        "StandardSSD_LRS",
        "StandardSSD_ZRS",
        "Premium_LRS",
        "Premium_ZRS",
        "PremiumV2_LRS",
        "UltraSSD_LRS",
    }
)

#: The highest logical unit number of a data disk.
MAX_LUN = 63

#: The data disk properties ``attach_volume`` takes as keywords, and their values.
DATA_DISK_OPTIONS: dict[str, tuple[object, ...]] = {
    "caching": ("None", "ReadOnly", "ReadWrite"),
    "deleteOption": ("Delete", "Detach"),
    "writeAcceleratorEnabled": (True, False),
}

#: The largest managed disk, in GiB (an Ultra or Premium SSD v2 disk).
MAX_VOLUME_SIZE = 65536
_DISKS = "disks"
_SNAPSHOTS = "snapshots"


def _lun(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LUN:
        raise InvalidArgumentError(f"ex_lun must be an integer in 0..{MAX_LUN}, not {value!r}")
    return value


def _tags(tags: object) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(
        isinstance(key, str) and key and isinstance(value, str) for key, value in tags.items()
    ):
        raise InvalidArgumentError(f"ex_tags must map names to strings, not {tags!r}")
    return dict(tags)


def _disk_options(options: Mapping[str, object]) -> dict[str, object]:
    for key, value in options.items():
        allowed = DATA_DISK_OPTIONS.get(key)
        if allowed is None:
            raise InvalidArgumentError(
                f"attach_volume takes {sorted(DATA_DISK_OPTIONS)} as keywords, not {key!r}"
            )
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            raise InvalidArgumentError(f"{key} must be one of {list(allowed)}, not {value!r}")
    return dict(options)


def _used_luns(data_disks: list[Any]) -> set[object]:
    return {disk.get("lun") for disk in data_disks if isinstance(disk, dict)}


def _holds(entry: Any, volume: StorageVolume) -> bool:
    """Whether the data disk *entry* of a machine is *volume*."""
    if not isinstance(entry, dict):
        return False
    managed = entry.get("managedDisk")
    if isinstance(managed, dict) and isinstance(managed.get("id"), str):
        return bool(managed["id"].lower() == volume.id.lower())
    return bool(entry.get("vhd")) and entry.get("name") == volume.name


class AzureVolumesMixin(AzureAPIDriver):
    """
    The volume and snapshot methods of
    :class:`~txcloud.compute.drivers.azure_arm.AzureNodeDriver`.
    """

    def _disk(self, volume: object) -> ResourceId:
        if not isinstance(volume, StorageVolume):
            raise InvalidArgumentError(f"expected a StorageVolume, not {type(volume).__name__}")
        return self._own(volume.id, _DISKS, "the volume's id")

    def _listed(
        self, resource_group: str | None, kind: str, parse: Callable[[Any, Any], _T]
    ) -> Deferred[list[_T]]:
        path = f"{self._group_path(resource_group)}/providers/{COMPUTE}/{kind}"

        async def parsed() -> AsyncIterator[_T]:
            async for item in self._items(path, DISKS_API_VERSION):
                yield parse(item, self)

        return collect(parsed())

    async def _put(
        self, resource: ResourceId, body: dict[str, Any], parse: Callable[[Any, Any], _T]
    ) -> _T:
        """Create *resource* (refused if it exists: a PUT would change it) and read it back."""
        try:
            await self._get(resource.path, DISKS_API_VERSION)
        except VolumeNotFoundError:
            pass
        else:
            raise ResourceConflictError(
                f"{resource.type} {resource.name!r} already exists in {resource.resource_group}",
                self,
            )
        await self._operation("PUT", resource.path, DISKS_API_VERSION, body)
        return parse(await self._get(resource.path, DISKS_API_VERSION), self)

    async def _delete(self, resource: ResourceId) -> bool:
        await self._operation("DELETE", resource.path, DISKS_API_VERSION)
        return True

    async def _fetched(self, resource: ResourceId, parse: Callable[[Any, Any], _T]) -> _T | None:
        try:
            return parse(await self._get(resource.path, DISKS_API_VERSION), self)
        except VolumeNotFoundError:
            return None

    # Volumes

    def list_volumes(self, ex_resource_group: str | None = None) -> Deferred[list[StorageVolume]]:
        """
        List the subscription's managed disks (or one resource group's),
        OS disks included.

        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.StorageVolume`.
        :raises InvalidArgumentError: for a malformed resource group name.
        """
        return self._listed(ex_resource_group, _DISKS, parse_volume)

    def create_volume(  # type: ignore[override]
        self,
        size: int,
        name: str,
        location: NodeLocation | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        ex_resource_group: str | None = None,
        ex_sku_name: str | None = None,
        ex_tags: dict[str, str] | None = None,
        ex_zone: str | None = None,
    ) -> Deferred[StorageVolume]:
        """
        Create a managed disk, empty or copied from a snapshot.

        :param size: GiB, an integer in 1..65536 (at least the snapshot's).
        :param name: the disk's name.
        :param location: its region; the driver's ``region`` by default.
        :param snapshot: a snapshot (or its resource id) to copy.
        :param ex_resource_group: the resource group to create it in (required).
        :param ex_sku_name: its kind, one of :data:`SKU_NAMES`
            (Azure's default, ``Standard_LRS``, when ``None``).
        :param ex_tags: tags.
        :param ex_zone: the availability zone (``"1"``...) to pin it to.
        :returns: a Deferred firing with the new volume once Azure made it,
            or failing with :class:`~txcloud.errors.ResourceConflictError`
            when the name is taken.
        :raises InvalidArgumentError: for any bad argument, before any request.
        """
        if ex_resource_group is None:
            raise InvalidArgumentError("Azure disks need ex_resource_group", self)
        disk = self._resource(
            check_resource_group(ex_resource_group), COMPUTE, _DISKS, check_name(name, "name")
        )
        properties: dict[str, Any] = {"diskSizeGB": check_volume_size(size, MAX_VOLUME_SIZE)}
        if snapshot is None:
            properties["creationData"] = {"createOption": "Empty"}
        else:
            source = snapshot.id if isinstance(snapshot, VolumeSnapshot) else snapshot
            properties["creationData"] = {
                "createOption": "Copy",
                "sourceResourceId": self._own(source, _SNAPSHOTS, "snapshot").path,
            }
        body: dict[str, Any] = {
            "location": self._location(location),
            "tags": _tags(ex_tags),
            "properties": properties,
        }
        if ex_sku_name is not None:
            if ex_sku_name not in SKU_NAMES:
                raise InvalidArgumentError(
                    f"ex_sku_name must be one of {sorted(SKU_NAMES)}, not {ex_sku_name!r}", self
                )
            body["sku"] = {"name": ex_sku_name}
        if ex_zone is not None:
            if not isinstance(ex_zone, str) or ex_zone not in ("1", "2", "3"):
                raise InvalidArgumentError(f"ex_zone must be '1', '2' or '3', not {ex_zone!r}")
            body["zones"] = [ex_zone]
        return Deferred.fromCoroutine(self._put(disk, body, parse_volume))

    def attach_volume(  # type: ignore[override]
        self,
        node: Node,
        volume: StorageVolume,
        ex_lun: int | None = None,
        ex_vhd_uri: str | None = None,
        ex_vhd_create: bool = False,
        **ex_kwargs: object,
    ) -> Deferred[bool]:
        """
        Attach *volume* to *node* as a data disk (an update of the machine's
        ``storageProfile.dataDisks``).

        :param ex_lun: its logical unit number, 0..63; the lowest free one
            when ``None``.
        :param ex_vhd_uri: attach an unmanaged disk, the VHD blob at this
            ``https://`` URL, instead of the managed disk *volume* names
            (*volume* gives its name and size).
        :param ex_vhd_create: create that blob, empty.
        :param ex_kwargs: more properties of the data disk, from
            :data:`DATA_DISK_OPTIONS` (``caching="ReadOnly"``...).
        :returns: a Deferred firing with ``True`` once the machine is updated.
        :raises InvalidArgumentError: for any bad argument, before any request.
        """
        vm = self._vm_id(node)
        entry: dict[str, Any] = {"createOption": "Attach"}
        if ex_vhd_uri is None:
            entry["managedDisk"] = {"id": self._disk(volume).path}
        else:
            if not isinstance(volume, StorageVolume):
                raise InvalidArgumentError(f"expected a StorageVolume, not {volume!r}", self)
            if not isinstance(ex_vhd_uri, str) or urlsplit(ex_vhd_uri).scheme != "https":
                raise InvalidArgumentError(f"ex_vhd_uri must be an https:// URL: {ex_vhd_uri!r}")
            entry = {
                "name": check_name(volume.name, "the volume's name"),
                "diskSizeGB": check_volume_size(volume.size, MAX_VOLUME_SIZE),
                "createOption": "Empty" if ex_vhd_create is True else "Attach",
                "vhd": {"uri": ex_vhd_uri},
            }
        lun = None if ex_lun is None else _lun(ex_lun)
        entry.update(_disk_options(ex_kwargs))
        return Deferred.fromCoroutine(self._attach(vm, entry, lun))

    async def _attach(self, vm: ResourceId, entry: dict[str, Any], lun: int | None) -> bool:
        data_disks = await self._data_disks(vm)
        if lun is None:
            used = _used_luns(data_disks)
            lun = next((n for n in range(MAX_LUN + 1) if n not in used), None)
            if lun is None:
                raise ResourceConflictError(f"{vm.name} has no free LUN left", self)
        await self._update_data_disks(vm, [*data_disks, {**entry, "lun": lun}])
        return True

    async def _data_disks(self, vm: ResourceId) -> list[Any]:
        data = await self._get(vm.path, self.compute_api_version)
        found = data.get("properties", {}).get("storageProfile", {}).get("dataDisks")
        return found if isinstance(found, list) else []

    async def _update_data_disks(self, vm: ResourceId, data_disks: list[Any]) -> None:
        body = {"properties": {"storageProfile": {"dataDisks": data_disks}}}
        await self._operation("PATCH", vm.path, self.compute_api_version, body)

    def detach_volume(self, volume: StorageVolume, ex_node: Node | None = None) -> Deferred[bool]:
        """
        Detach *volume* from the machine holding it: *ex_node*, or the one
        the disk names (``managedBy``) when ``None``.  An unmanaged (VHD)
        data disk needs *ex_node*; it is found by the volume's name.

        :returns: a Deferred firing with ``True`` once the machine is
            updated, or failing with :class:`~txcloud.errors.ResourceConflictError`
            when the volume is not attached to it.
        """
        if not isinstance(volume, StorageVolume):
            raise InvalidArgumentError(f"expected a StorageVolume, not {volume!r}", self)
        if ex_node is None:
            return Deferred.fromCoroutine(self._detach_held(volume, self._disk(volume)))
        return Deferred.fromCoroutine(self._detach(volume, self._vm_id(ex_node)))

    async def _detach_held(self, volume: StorageVolume, disk: ResourceId) -> bool:
        holder = (await self._get(disk.path, DISKS_API_VERSION)).get("managedBy")
        if not isinstance(holder, str) or not holder:
            raise ResourceConflictError(f"volume {volume.name!r} is not attached", self)
        return await self._detach(volume, self._own(holder, "virtualMachines", "managedBy"))

    async def _detach(self, volume: StorageVolume, vm: ResourceId) -> bool:
        data_disks = await self._data_disks(vm)
        kept = [entry for entry in data_disks if not _holds(entry, volume)]
        if len(kept) == len(data_disks):
            raise ResourceConflictError(
                f"volume {volume.name!r} is not attached to {vm.name}", self
            )
        await self._update_data_disks(vm, kept)
        return True

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """
        Delete a detached managed disk; fires with ``True`` once it is gone
        (Azure refuses an attached one: :class:`~txcloud.errors.ResourceConflictError`).
        """
        return Deferred.fromCoroutine(self._delete(self._disk(volume)))

    def _fetch_volume(self, volume_id: str) -> Deferred[StorageVolume | None]:
        disk = self._own(volume_id, _DISKS, "volume id")
        return Deferred.fromCoroutine(self._fetched(disk, parse_volume))

    # Snapshots

    def list_snapshots(
        self, ex_resource_group: str | None = None
    ) -> Deferred[list[VolumeSnapshot]]:
        """
        List the subscription's snapshots (or one resource group's).

        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.VolumeSnapshot`.
        :raises InvalidArgumentError: for a malformed resource group name.
        """
        return self._listed(ex_resource_group, _SNAPSHOTS, parse_snapshot)

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """List the subscription's snapshots of *volume*; fires with a list of snapshots."""
        disk_id = self._disk(volume).path.lower()
        return self.list_snapshots().addCallback(
            lambda snapshots: [
                snapshot
                for snapshot in snapshots
                if (snapshot.extra["volume_id"] or "").lower() == disk_id
            ]
        )

    def create_volume_snapshot(
        self,
        volume: StorageVolume,
        name: str | None = None,
        location: NodeLocation | str | None = None,
        ex_resource_group: str | None = None,
        ex_tags: dict[str, str] | None = None,
        ex_incremental: bool = False,
    ) -> Deferred[VolumeSnapshot]:
        """
        Snapshot a managed disk.

        :param name: the snapshot's name; ``<volume name>-<unix time>`` (the
            driver's clock) when ``None``.
        :param location: its region: the volume's by default (Azure copies
            within a region).
        :param ex_resource_group: where to create it; the volume's by default.
        :param ex_tags: tags.
        :param ex_incremental: keep only the changes since the disk's last
            incremental snapshot.
        :returns: a Deferred firing with the snapshot once Azure made it.
        :raises InvalidArgumentError: for any bad argument, before any request.
        """
        disk = self._disk(volume)
        if name is None:
            name = f"{volume.name}-{int(self.reactor.seconds())}"
        group = disk.resource_group if ex_resource_group is None else ex_resource_group
        snapshot = self._resource(
            check_resource_group(group), COMPUTE, _SNAPSHOTS, check_name(name, "name")
        )
        if location is None:
            location = volume.extra.get("location") or None
        if not isinstance(ex_incremental, bool):
            raise InvalidArgumentError(f"ex_incremental must be True or False: {ex_incremental!r}")
        body = {
            "location": self._location(location),
            "tags": _tags(ex_tags),
            "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": disk.path},
                "incremental": ex_incremental,
            },
        }
        return Deferred.fromCoroutine(self._put(snapshot, body, parse_snapshot))

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Delete *snapshot*; fires with ``True`` once it is gone."""
        if not isinstance(snapshot, VolumeSnapshot):
            raise InvalidArgumentError(f"expected a VolumeSnapshot, not {snapshot!r}", self)
        return Deferred.fromCoroutine(
            self._delete(self._own(snapshot.id, _SNAPSHOTS, "the snapshot's id"))
        )

    def _fetch_snapshot(self, snapshot_id: str) -> Deferred[VolumeSnapshot | None]:
        snapshot = self._own(snapshot_id, _SNAPSHOTS, "snapshot id")
        return Deferred.fromCoroutine(self._fetched(snapshot, parse_snapshot))
