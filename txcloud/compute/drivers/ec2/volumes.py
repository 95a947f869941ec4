"""
EBS volumes and snapshots, with Libcloud's names and arguments.

EC2 creates, attaches, detaches and snapshots in the background: the calls
fire once EC2 has accepted them, and
:meth:`~txcloud.compute.base.NodeDriver.wait_until_volume` and
:meth:`~txcloud.compute.base.NodeDriver.wait_until_snapshot` wait for the
end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree
from twisted.internet.defer import Deferred

from txcloud.common.checks import check_positive_integer
from txcloud.common.paging import collect
from txcloud.compute.base import Node, NodeLocation, StorageVolume, VolumeSnapshot
from txcloud.compute.drivers.ec2.api import EC2QueryDriver
from txcloud.compute.drivers.ec2.parse import parse_snapshot, parse_volume
from txcloud.compute.drivers.ec2.query import (
    Params,
    check_text,
    filter_params,
    indexed,
    tag_specification,
)
from txcloud.errors import InvalidArgumentError, VolumeNotFoundError

__all__ = ["DEVICE_NAME", "VOLUME_TYPES", "EC2VolumesMixin"]

_T = TypeVar("_T")
_Parse = Callable[[etree._Element, Any], _T]

#: EBS volume types CreateVolume takes.
VOLUME_TYPES = frozenset({"standard", "gp2", "gp3", "io1", "io2", "st1", "sc1"})

#: The volume types whose IOPS are chosen (``ex_iops``).
_IOPS_TYPES = frozenset({"gp3", "io1", "io2"})

#: Device names EC2 accepts for an attached volume: ``/dev/sdf``,
#: ``/dev/xvdf``, ``/dev/xvdba``, ``/dev/hdb``, ``/dev/sdf1``...
DEVICE_NAME = re.compile(r"/dev/(sd[a-z]|xvd[a-z]{1,2}|hd[a-z])([1-9][0-9]?)?")


def _volume_id(volume: object) -> str:
    if not isinstance(volume, StorageVolume):
        raise InvalidArgumentError(f"expected a StorageVolume, not {type(volume).__name__}")
    return check_text(volume.id, "the volume's id")


def _snapshot_id(snapshot: object) -> str:
    if isinstance(snapshot, VolumeSnapshot):
        snapshot = snapshot.id
    return check_text(snapshot, "a snapshot or its id")


class EC2VolumesMixin(EC2QueryDriver):
    """The volume and snapshot methods of :class:`~txcloud.compute.drivers.ec2.EC2NodeDriver`."""

    # Volumes

    def list_volumes(self, node: Node | None = None) -> Deferred[list[StorageVolume]]:
        """
        List this region's volumes (DescribeVolumes).

        :param node: only the volumes attached to this node.
        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.StorageVolume`.
        """
        params: Params = {}
        if node is not None:
            if not isinstance(node, Node):
                raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}", self)
            params = filter_params({"attachment.instance-id": node.id})
        return collect(self._iterate("DescribeVolumes", params, "volumeSet", parse_volume))

    def create_volume(  # type: ignore[override]
        self,
        size: int,
        name: str,
        location: NodeLocation | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        ex_volume_type: str = "standard",
        ex_iops: int | None = None,
        ex_encrypted: bool = False,
        ex_kms_key_id: str | None = None,
    ) -> Deferred[StorageVolume]:
        """
        Create a volume (CreateVolume) named by a ``Name`` tag.

        :param size: GiB, a positive integer.
        :param name: the volume's name.
        :param location: its availability zone (EC2 needs one), from
            :meth:`list_locations`.
        :param snapshot: a snapshot (or its id) to fill it from.
        :param ex_volume_type: one of :data:`VOLUME_TYPES`.
        :param ex_iops: provisioned IOPS (``gp3``, ``io1`` and ``io2`` only).
        :param ex_encrypted: encrypt it.
        :param ex_kms_key_id: the KMS key to encrypt it with (needs
            *ex_encrypted*).
        :returns: a Deferred firing with the new volume, ``CREATING`` at first.
        :raises InvalidArgumentError: for any bad argument, before sending.
        """
        params: Params = {"Size": str(check_positive_integer(size, "size", "GiB"))}
        params["AvailabilityZone"] = self._volume_zone(location)
        if ex_volume_type not in VOLUME_TYPES:
            raise InvalidArgumentError(
                f"ex_volume_type must be one of {sorted(VOLUME_TYPES)}, not {ex_volume_type!r}",
                self,
            )
        params["VolumeType"] = ex_volume_type
        if ex_iops is not None:
            if ex_volume_type not in _IOPS_TYPES:
                raise InvalidArgumentError(f"ex_iops needs a volume type of {sorted(_IOPS_TYPES)}")
            params["Iops"] = str(check_positive_integer(ex_iops, "ex_iops"))
        if snapshot is not None:
            params["SnapshotId"] = _snapshot_id(snapshot)
        if ex_encrypted:
            params["Encrypted"] = "true"
        if ex_kms_key_id is not None:
            if not ex_encrypted:
                raise InvalidArgumentError("ex_kms_key_id needs ex_encrypted=True", self)
            params["KmsKeyId"] = check_text(ex_kms_key_id, "ex_kms_key_id")
        params.update(tag_specification(1, "volume", {"Name": check_text(name, "name")}))
        return Deferred.fromCoroutine(self._create("CreateVolume", params, parse_volume))

    def _volume_zone(self, location: object) -> str:
        if location is None:
            raise InvalidArgumentError(
                "EC2 volumes need a location: an availability zone from list_locations()", self
            )
        zone: str = self._zone(location)  # type: ignore[attr-defined]
        return zone

    async def _create(self, action: str, params: Params, parse: _Parse[_T]) -> _T:
        root = await self._call(action, params, idempotent=False)
        return parse(root, self)

    def attach_volume(
        self, node: Node, volume: StorageVolume, device: str | None = None
    ) -> Deferred[bool]:
        """
        Attach *volume* to *node* as *device* (AttachVolume).

        :param device: required by EC2: ``/dev/sdf`` to ``/dev/sdp`` are the
            names AWS recommends (see :data:`DEVICE_NAME`).
        :returns: a Deferred firing with ``True`` once EC2 accepted it.
        :raises InvalidArgumentError: for a missing or malformed *device*.
        """
        if not isinstance(node, Node):
            raise InvalidArgumentError(f"expected a Node, not {type(node).__name__}", self)
        if device is None:
            raise InvalidArgumentError("EC2 needs a device name, such as '/dev/sdf'", self)
        if not isinstance(device, str) or not DEVICE_NAME.fullmatch(device):
            raise InvalidArgumentError(f"EC2 does not accept the device name {device!r}", self)
        params = {
            "VolumeId": _volume_id(volume),
            "InstanceId": check_text(node.id, "the node's id"),
            "Device": device,
        }
        return Deferred.fromCoroutine(self._accepted("AttachVolume", params))

    async def _accepted(self, action: str, params: Params) -> bool:
        await self._call(action, params, idempotent=False)
        return True

    def detach_volume(self, volume: StorageVolume, ex_force: bool = False) -> Deferred[bool]:
        """
        Detach *volume* from its node (DetachVolume).

        :param ex_force: force it (data not flushed may be lost).
        :returns: a Deferred firing with ``True`` once EC2 accepted it.
        """
        params = {"VolumeId": _volume_id(volume)}
        # EC2 finds the instance itself; naming it (when the volume says)
        # also suits servers that need it, such as moto.
        instance_id = volume.extra.get("instance_id")
        if instance_id:
            params["InstanceId"] = check_text(instance_id, "the volume's instance id")
        if ex_force:
            params["Force"] = "true"
        return Deferred.fromCoroutine(self._accepted("DetachVolume", params))

    def destroy_volume(self, volume: StorageVolume) -> Deferred[bool]:
        """Delete a detached *volume* (DeleteVolume); fires with ``True``."""
        params = {"VolumeId": _volume_id(volume)}
        return Deferred.fromCoroutine(self._accepted("DeleteVolume", params))

    def _fetch_volume(self, volume_id: str) -> Deferred[StorageVolume | None]:
        return Deferred.fromCoroutine(
            self._fetch_one("DescribeVolumes", "VolumeId", volume_id, "volumeSet", parse_volume)
        )

    async def _fetch_one(
        self, action: str, key: str, resource_id: str, list_name: str, parse: _Parse[_T]
    ) -> _T | None:
        try:
            async for found in self._iterate(action, indexed(key, [resource_id]), list_name, parse):
                return found
        except VolumeNotFoundError:
            pass
        return None

    # Snapshots

    def list_snapshots(
        self, snapshot: VolumeSnapshot | str | None = None, owner: str | None = None
    ) -> Deferred[list[VolumeSnapshot]]:
        """
        List snapshots (DescribeSnapshots), as Libcloud's EC2 driver does.

        :param snapshot: only this one.
        :param owner: ``"self"``, ``"amazon"`` or an account id; without it
            EC2 lists every snapshot the account may use, public ones too.
        :returns: a Deferred firing with a list of
            :class:`~txcloud.compute.base.VolumeSnapshot`.
        """
        params: Params = {}
        if snapshot is not None:
            params.update(indexed("SnapshotId", [_snapshot_id(snapshot)]))
        if owner is not None:
            params.update(indexed("Owner", [check_text(owner, "owner")]))
        return collect(self._iterate("DescribeSnapshots", params, "snapshotSet", parse_snapshot))

    def list_volume_snapshots(self, volume: StorageVolume) -> Deferred[list[VolumeSnapshot]]:
        """List the snapshots of *volume*; fires with a list of snapshots."""
        params = filter_params({"volume-id": _volume_id(volume)})
        return collect(self._iterate("DescribeSnapshots", params, "snapshotSet", parse_snapshot))

    def create_volume_snapshot(
        self, volume: StorageVolume, name: str | None = None, ex_description: str | None = None
    ) -> Deferred[VolumeSnapshot]:
        """
        Snapshot *volume* (CreateSnapshot), named by a ``Name`` tag.

        :param ex_description: the snapshot's description.
        :returns: a Deferred firing with the snapshot, ``CREATING`` at first.
        """
        params = {"VolumeId": _volume_id(volume)}
        if ex_description is not None:
            params["Description"] = check_text(ex_description, "ex_description")
        if name is not None:
            params.update(tag_specification(1, "snapshot", {"Name": check_text(name, "name")}))
        return Deferred.fromCoroutine(self._create("CreateSnapshot", params, parse_snapshot))

    def destroy_volume_snapshot(self, snapshot: VolumeSnapshot) -> Deferred[bool]:
        """Delete *snapshot* (DeleteSnapshot); fires with ``True``."""
        params = {"SnapshotId": _snapshot_id(snapshot)}
        return Deferred.fromCoroutine(self._accepted("DeleteSnapshot", params))

    def _fetch_snapshot(self, snapshot_id: str) -> Deferred[VolumeSnapshot | None]:
        return Deferred.fromCoroutine(
            self._fetch_one(
                "DescribeSnapshots", "SnapshotId", snapshot_id, "snapshotSet", parse_snapshot
            )
        )
