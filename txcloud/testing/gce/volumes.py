"""
Persistent disks and snapshots of :class:`~txcloud.testing.gce.FakeGCE`:
what it keeps, their JSON, and the endpoints of ``disks``, instances'
``attachDisk``/``detachDisk`` and global ``snapshots``.

As the API reference describes them: a disk lives in one zone and attaches
only to instances of that zone, read-write to one instance at a time; its
``users`` are those instances; it cannot be deleted while it has any
(``resourceInUseByAnotherResource``); a disk is ``CREATING`` and a
snapshot ``CREATING`` until their operation is done, then ``READY``;
snapshots are global, and deleting one is a global operation.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing._tokens import json_reply
from txcloud.testing.gce.answers import aggregated_reply, invalid, listing_reply, not_found
from txcloud.testing.gce.models import FakeInstance, FakeOperation, FakeZone, link, rfc3339

__all__ = ["DISK_TYPES", "VOLUME_ROUTES", "FakeDisk", "FakeSnapshot", "VolumeEndpoints"]

#: The disk types every zone of the fake offers.
DISK_TYPES = frozenset({"pd-standard", "pd-balanced", "pd-ssd", "pd-extreme"})

# A disk as a full URL or a partial one: "zones/Z/disks/D", "projects/P/zones/...".
_DISK_SOURCE = re.compile(r"(?:^|/)zones/([^/]+)/disks/([^/]+)\Z")

#: ``(pattern, method, endpoint's name)``, for the fake's routing.
VOLUME_ROUTES = [
    (r"^/aggregated/disks\Z", "GET", "_aggregated_disks"),
    (r"^/zones/([^/]+)/disks\Z", "GET", "_list_disks"),
    (r"^/zones/([^/]+)/disks\Z", "POST", "_insert_disk"),
    (r"^/zones/([^/]+)/disks/([^/]+)\Z", "GET", "_get_disk"),
    (r"^/zones/([^/]+)/disks/([^/]+)\Z", "DELETE", "_delete_disk"),
    (r"^/zones/([^/]+)/disks/([^/]+)/createSnapshot\Z", "POST", "_create_snapshot"),
    (r"^/zones/([^/]+)/instances/([^/]+)/attachDisk\Z", "POST", "_attach_disk"),
    (r"^/zones/([^/]+)/instances/([^/]+)/detachDisk\Z", "POST", "_detach_disk"),
    (r"^/global/snapshots\Z", "GET", "_list_snapshots"),
    (r"^/global/snapshots/([^/]+)\Z", "GET", "_get_snapshot"),
    (r"^/global/snapshots/([^/]+)\Z", "DELETE", "_delete_snapshot"),
    (r"^/global/operations/([^/]+)\Z", "GET", "_get_global_operation"),
]


def _status(ready_at: float, now: float) -> str:
    return "READY" if now >= ready_at else "CREATING"


@attrs.define
class FakeDisk:
    """A persistent disk; ``users`` are the names of the instances it is attached to."""

    id: int
    name: str
    zone: str
    size_gb: int
    type: str
    created_at: float
    ready_at: float
    description: str = ""
    source_snapshot: FakeSnapshot | None = None
    source_image: str | None = None
    users: list[str] = attrs.field(factory=list)

    def resource(self, project: str, now: float) -> dict[str, Any]:
        """The disk as ``disks.get`` answers at time *now*."""
        document: dict[str, Any] = {
            "kind": "compute#disk",
            "id": str(self.id),
            "creationTimestamp": rfc3339(self.created_at),
            "name": self.name,
            "description": self.description,
            "sizeGb": str(self.size_gb),
            "zone": link(project, f"/zones/{self.zone}"),
            "status": _status(self.ready_at, now),
            "type": link(project, f"/zones/{self.zone}/diskTypes/{self.type}"),
            "physicalBlockSizeBytes": "4096",
            "selfLink": link(project, f"/zones/{self.zone}/disks/{self.name}"),
        }
        if self.users:
            document["users"] = [
                link(project, f"/zones/{self.zone}/instances/{user}") for user in self.users
            ]
        if self.source_snapshot is not None:
            document["sourceSnapshot"] = self.source_snapshot.resource(project, now)["selfLink"]
            document["sourceSnapshotId"] = str(self.source_snapshot.id)
        if self.source_image is not None:
            document["sourceImage"] = self.source_image
        return document


@attrs.define
class FakeSnapshot:
    """A snapshot of a disk, global to the project."""

    id: int
    name: str
    disk_zone: str
    disk_name: str
    disk_id: int
    disk_size_gb: int
    created_at: float
    ready_at: float

    def resource(self, project: str, now: float) -> dict[str, Any]:
        """The snapshot as ``snapshots.get`` answers at time *now*."""
        status = _status(self.ready_at, now)
        return {
            "kind": "compute#snapshot",
            "id": str(self.id),
            "creationTimestamp": rfc3339(self.created_at),
            "name": self.name,
            "description": "",
            "status": status,
            "sourceDisk": link(project, f"/zones/{self.disk_zone}/disks/{self.disk_name}"),
            "sourceDiskId": str(self.disk_id),
            "diskSizeGb": str(self.disk_size_gb),
            "storageBytes": str(self.disk_size_gb * 52_428_800) if status == "READY" else "0",
            "storageBytesStatus": "UP_TO_DATE" if status == "READY" else "UPDATING",
            "storageLocations": [self.disk_zone.rsplit("-", 2)[0]],
            "selfLink": link(project, f"/global/snapshots/{self.name}"),
        }


def _body(received: Received) -> dict[str, Any]:
    try:
        body = received.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received.")
    return body


class VolumeEndpoints:
    """The disk and snapshot endpoints; mixed into the fake, which holds the state."""

    project: str
    clock: Any
    disks: dict[tuple[str, str], FakeDisk]
    snapshots: dict[str, FakeSnapshot]
    operations: dict[str, FakeOperation]
    zones: dict[str, FakeZone]
    operation_seconds: float

    if TYPE_CHECKING:
        # What the fake that mixes this in provides.
        def _new_id(self) -> int: ...

        def _zone(self, name: str) -> FakeZone: ...

        def _instance(self, zone: str, name: str) -> FakeInstance: ...

        def _operation(
            self,
            kind: str,
            zone: str | None,
            target: str,
            target_id: int,
            target_kind: str = "instances",
        ) -> tuple[FakeOperation, bool]: ...

        def _reply_operation(self, operation: FakeOperation) -> Reply: ...

    # Seeding

    def add_disk(
        self,
        name: str,
        zone: str = "us-central1-a",
        size_gb: int = 10,
        disk_type: str = "pd-standard",
    ) -> FakeDisk:
        """Add a ready, detached disk to a known zone."""
        if zone not in self.zones:
            raise ValueError("add the disk's zone first")
        now = self.clock.seconds()
        disk = FakeDisk(self._new_id(), name, zone, size_gb, disk_type, now, now)
        self.disks[(zone, name)] = disk
        return disk

    def add_snapshot(self, disk: FakeDisk, name: str) -> FakeSnapshot:
        """Snapshot *disk* (ready at once)."""
        now = self.clock.seconds()
        snapshot = FakeSnapshot(
            self._new_id(), name, disk.zone, disk.name, disk.id, disk.size_gb, now, now
        )
        self.snapshots[name] = snapshot
        return snapshot

    def add_boot_disk(self, instance: FakeInstance) -> FakeDisk:
        """The boot disk of *instance*, named as it is and attached to it."""
        disk = self.add_disk(instance.name, instance.zone, instance.disk_size_gb)
        disk.source_image = instance.source_image
        disk.users.append(instance.name)
        return disk

    def release_disks(self, zone: str, instance: str) -> None:
        """Delete the boot disk of *instance* (deleted with it) and detach the others."""
        self.disks.pop((zone, instance), None)
        for disk in self.disks.values():
            if disk.zone == zone and instance in disk.users:
                disk.users.remove(instance)

    # Disks

    def _disk(self, zone: str, name: str) -> FakeDisk:
        self._zone(zone)
        disk = self.disks.get((zone, name))
        if disk is None:
            raise not_found(f"projects/{self.project}/zones/{zone}/disks/{name}")
        return disk

    def _aggregated_disks(self, received: Received) -> Reply:
        now = self.clock.seconds()
        scoped = [
            (zone, disk.resource(self.project, now))
            for zone in self.zones
            for (where, _), disk in sorted(self.disks.items())
            if where == zone
        ]
        kind, path = "compute#diskAggregatedList", "/aggregated/disks"
        return aggregated_reply(received, kind, "disks", self.zones, scoped, self.project, path)

    def _list_disks(self, received: Received, zone: str) -> Reply:
        self._zone(zone)
        now = self.clock.seconds()
        items = [
            disk.resource(self.project, now)
            for (where, _), disk in sorted(self.disks.items())
            if where == zone
        ]
        path = f"/zones/{zone}/disks"
        return listing_reply(received, "compute#diskList", items, self.project, path)

    def _get_disk(self, received: Received, zone: str, name: str) -> Reply:
        return json_reply(self._disk(zone, name).resource(self.project, self.clock.seconds()))

    def _insert_disk(self, received: Received, zone: str) -> Reply:
        self._zone(zone)
        body = _body(received)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("Invalid value for field 'resource.name': ''.")
        if (zone, name) in self.disks:
            raise Refused(
                409,
                "alreadyExists",
                f"The resource 'projects/{self.project}/zones/{zone}/disks/{name}' already exists",
            )
        disk_type = str(body.get("type") or "pd-standard").rsplit("/", 1)[-1]
        if disk_type not in DISK_TYPES:
            raise invalid(f"Invalid value for field 'resource.type': '{body.get('type')}'.")
        snapshot = self._source_snapshot(body.get("sourceSnapshot"))
        smallest = snapshot.disk_size_gb if snapshot else 1
        size = body.get("sizeGb", str(smallest))
        if not str(size).isdigit() or int(size) < smallest:
            raise invalid(
                f"Invalid value for field 'resource.sizeGb': '{size}'. Requested disk size "
                "cannot be smaller than the snapshot size or 1 GB."
            )
        disk = FakeDisk(
            id=self._new_id(),
            name=name,
            zone=zone,
            size_gb=int(size),
            type=disk_type,
            created_at=self.clock.seconds(),
            ready_at=self.clock.seconds() + self.operation_seconds,
            description=str(body.get("description") or ""),
            source_snapshot=snapshot,
            source_image=body.get("sourceImage"),
        )
        operation, proceed = self._operation("insert", zone, name, disk.id, "disks")
        if proceed:
            self.disks[(zone, name)] = disk
        return self._reply_operation(operation)

    def _source_snapshot(self, source: object) -> FakeSnapshot | None:
        if source is None:
            return None
        name = str(source).rsplit("/", 1)[-1]
        if name not in self.snapshots:
            raise not_found(f"projects/{self.project}/global/snapshots/{name}")
        return self.snapshots[name]

    def _delete_disk(self, received: Received, zone: str, name: str) -> Reply:
        disk = self._disk(zone, name)
        if disk.users:
            raise Refused(
                400,
                "resourceInUseByAnotherResource",
                f"The disk resource 'projects/{self.project}/zones/{zone}/disks/{name}' is "
                f"already being used by 'projects/{self.project}/zones/{zone}/instances/"
                f"{disk.users[0]}'",
            )
        operation, proceed = self._operation("delete", zone, name, disk.id, "disks")
        if proceed:
            del self.disks[(zone, name)]
        return self._reply_operation(operation)

    # Attaching

    def _attach_disk(self, received: Received, zone: str, name: str) -> Reply:
        instance = self._instance(zone, name)
        body = _body(received)
        source = str(body.get("source") or "")
        found = _DISK_SOURCE.search(source)
        where, disk_name = found.groups() if found else ("", "")
        if where != zone:
            raise invalid(
                f"Invalid value for field 'resource.source': '{source}'. "
                "Disk must be in the same zone as the instance."
            )
        disk = self._disk(zone, disk_name)
        mode = body.get("mode") or "READ_WRITE"
        if disk.users and (mode == "READ_WRITE" or name in disk.users):
            raise Refused(
                400,
                "resourceInUseByAnotherResource",
                f"The disk resource '{source}' is already being used by "
                f"'projects/{self.project}/zones/{zone}/instances/{disk.users[0]}'",
            )
        device = body.get("deviceName") or f"persistent-disk-{len(instance.attached) + 1}"
        if any(entry["deviceName"] == device for entry in instance.attached):
            raise invalid(f"Invalid value for field 'resource.deviceName': '{device}'.")
        operation, proceed = self._operation("attachDisk", zone, name, instance.id)
        if proceed:
            disk.users.append(name)
            instance.attached.append(
                {
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": mode,
                    "source": link(self.project, f"/zones/{zone}/disks/{disk.name}"),
                    "deviceName": device,
                    "index": len(instance.attached) + 1,
                    "boot": bool(body.get("boot")),
                    "autoDelete": bool(body.get("autoDelete")),
                    "interface": "SCSI",
                    "diskSizeGb": str(disk.size_gb),
                }
            )
        return self._reply_operation(operation)

    def _detach_disk(self, received: Received, zone: str, name: str) -> Reply:
        instance = self._instance(zone, name)
        device = received.arg("deviceName")
        entry = next((e for e in instance.attached if e["deviceName"] == device), None)
        if entry is None:
            raise invalid(f"No attached disk found with device name '{device}'")
        operation, proceed = self._operation("detachDisk", zone, name, instance.id)
        if proceed:
            instance.attached.remove(entry)
            disk = self.disks.get((zone, entry["source"].rsplit("/", 1)[-1]))
            if disk is not None and name in disk.users:
                disk.users.remove(name)
        return self._reply_operation(operation)

    # Snapshots

    def _create_snapshot(self, received: Received, zone: str, name: str) -> Reply:
        disk = self._disk(zone, name)
        snapshot_name = _body(received).get("name")
        if not isinstance(snapshot_name, str) or not snapshot_name:
            raise invalid("Invalid value for field 'resource.name': ''.")
        if snapshot_name in self.snapshots:
            raise Refused(
                409,
                "alreadyExists",
                f"The resource 'projects/{self.project}/global/snapshots/{snapshot_name}' "
                "already exists",
            )
        operation, proceed = self._operation("createSnapshot", zone, name, disk.id, "disks")
        if proceed:
            snapshot = self.add_snapshot(disk, snapshot_name)
            snapshot.ready_at = operation.done_at
        return self._reply_operation(operation)

    def _snapshot(self, name: str) -> FakeSnapshot:
        snapshot = self.snapshots.get(name)
        if snapshot is None:
            raise not_found(f"projects/{self.project}/global/snapshots/{name}")
        return snapshot

    def _list_snapshots(self, received: Received) -> Reply:
        now = self.clock.seconds()
        items = [s.resource(self.project, now) for _, s in sorted(self.snapshots.items())]
        kind, path = "compute#snapshotList", "/global/snapshots"
        return listing_reply(received, kind, items, self.project, path)

    def _get_snapshot(self, received: Received, name: str) -> Reply:
        return json_reply(self._snapshot(name).resource(self.project, self.clock.seconds()))

    def _delete_snapshot(self, received: Received, name: str) -> Reply:
        snapshot = self._snapshot(name)
        operation, proceed = self._operation("delete", None, name, snapshot.id, "snapshots")
        if proceed:
            del self.snapshots[name]
        return self._reply_operation(operation)

    def _get_global_operation(self, received: Received, name: str) -> Reply:
        operation = self.operations.get(name)
        if operation is None or operation.zone is not None:
            raise not_found(f"projects/{self.project}/global/operations/{name}")
        return json_reply(operation.resource(self.project, self.clock.seconds()))
