"""
The fake's Cinder (block-storage API v3): volumes and snapshots under
``/volume/REGION/v3/PROJECT_ID``, and Nova's volume attachments; its
refusals carry Cinder's bodies (``{"badRequest": {"code", "message"}}``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import attrs

from txcloud.testing._http import Received, Reply
from txcloud.testing.openstack._compute import NovaCall
from txcloud.testing.openstack._identity import Grant
from txcloud.testing.openstack._models import FakeImage, FakeServer, iso_time
from txcloud.testing.openstack._paging import json_answer, nova_error, page

__all__ = ["FakeSnapshot", "FakeVolume", "VolumeActions"]

_VOLUME_PATH = re.compile(r"^/volumes/([^/]+)$")
_SNAPSHOT_PATH = re.compile(r"^/snapshots/([^/]+)$")


@attrs.define
class FakeVolume:
    """
    A Cinder volume in one region; ``creating`` until :attr:`ready_at`,
    then ``available``, or ``in-use`` while attached to :attr:`server_id`.
    """

    id: str
    name: str
    size: int
    region: str
    project_id: str
    created: float
    zone: str = "nova"
    status: str = "available"
    volume_type: str = "lvmdriver-1"
    description: str | None = None
    snapshot_id: str | None = None
    image_id: str | None = None
    server_id: str | None = None
    device: str | None = None
    ready_at: float | None = None

    def refresh(self, now: float) -> None:
        """Finish creating once the clock has passed :attr:`ready_at`."""
        if self.status == "creating" and self.ready_at is not None and now >= self.ready_at:
            self.status = "available"

    def to_json(self) -> dict[str, Any]:
        """The volume as ``GET /volumes/detail`` shows it."""
        attachments = []
        if self.server_id is not None:
            attachments.append(
                {
                    "id": self.id,
                    "volume_id": self.id,
                    "server_id": self.server_id,
                    "attachment_id": str(uuid.uuid5(uuid.NAMESPACE_OID, self.server_id + self.id)),
                    "host_name": None,
                    "device": self.device,
                    "attached_at": iso_time(self.created),
                }
            )
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "status": self.status,
            "availability_zone": self.zone,
            "volume_type": self.volume_type,
            "description": self.description,
            "snapshot_id": self.snapshot_id,
            "source_volid": None,
            "bootable": "true" if self.image_id else "false",
            "encrypted": False,
            "multiattach": False,
            "metadata": {},
            "attachments": attachments,
            "os-vol-tenant-attr:tenant_id": self.project_id,
            "created_at": iso_time(self.created, fraction=True).removesuffix("Z"),
            "updated_at": None,
            "links": [{"rel": "self", "href": f"volumes/{self.id}"}],
        }


@attrs.define
class FakeSnapshot:
    """A Cinder snapshot of a volume; ``creating`` until :attr:`ready_at`."""

    id: str
    volume_id: str
    size: int
    region: str
    project_id: str
    created: float
    name: str | None = None
    description: str | None = None
    status: str = "available"
    ready_at: float | None = None

    def refresh(self, now: float) -> None:
        """Finish once the clock has passed :attr:`ready_at`."""
        if self.status == "creating" and self.ready_at is not None and now >= self.ready_at:
            self.status = "available"

    def to_json(self) -> dict[str, Any]:
        """The snapshot as ``GET /snapshots/detail`` shows it."""
        return {
            "id": self.id,
            "volume_id": self.volume_id,
            "size": self.size,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "metadata": {},
            "created_at": iso_time(self.created, fraction=True).removesuffix("Z"),
            "updated_at": None,
            "os-extended-snapshot-attributes:progress": "100%"
            if self.status == "available"
            else "0%",
            "os-extended-snapshot-attributes:project_id": self.project_id,
        }


class VolumeActions:
    """Cinder's part of :class:`~txcloud.testing.openstack.FakeOpenStack`."""

    clock: Any
    projects: dict[str, str]
    servers: dict[str, FakeServer]
    images: dict[str, FakeImage]
    zones: dict[str, bool]
    volumes: dict[str, FakeVolume]
    snapshots: dict[str, FakeSnapshot]
    volume_types: list[str]
    volume_seconds: float
    max_limit: int

    def _base(self, received: Received) -> str:
        raise NotImplementedError

    # Seeding

    def add_volume(
        self,
        name: str,
        size: int = 10,
        *,
        region: str = "RegionOne",
        project: str | None = None,
        status: str = "available",
    ) -> FakeVolume:
        """Add a volume of *size* GiB in *region*, owned by *project* (the first by default)."""
        project_id = self.projects[project] if project else next(iter(self.projects.values()))
        volume = FakeVolume(
            str(uuid.uuid4()), name, size, region, project_id, self.clock.seconds(), status=status
        )
        self.volumes[volume.id] = volume
        return volume

    # Serving

    def _cinder(self, received: Received, region: str, rest: str, grant: Grant) -> Reply:
        project_id = self.projects[grant.project]
        prefix = f"/{project_id}"
        if not (rest == prefix or rest.startswith(prefix + "/")):
            raise nova_error(404, "The resource could not be found.")
        path, method = rest.removeprefix(prefix) or "/", received.method
        now = self.clock.seconds()
        for volume in self.volumes.values():
            volume.refresh(now)
        for snapshot in self.snapshots.values():
            snapshot.refresh(now)
        if path in ("/volumes/detail", "/snapshots/detail") and method == "GET":
            return self._list(received, region, project_id, path.split("/")[1])
        if path == "/volumes" and method == "POST":
            return self._create_volume(received, region, project_id)
        if path == "/snapshots" and method == "POST":
            return self._create_snapshot(received, region, project_id)
        found = _VOLUME_PATH.match(path)
        if found is not None and method in ("GET", "DELETE"):
            volume = self._volume(found[1], region, project_id)
            if method == "GET":
                return json_answer({"volume": volume.to_json()})
            return self._delete_volume(volume)
        found = _SNAPSHOT_PATH.match(path)
        if found is not None and method in ("GET", "DELETE"):
            snapshot = self._snapshot(found[1], region, project_id)
            if method == "GET":
                return json_answer({"snapshot": snapshot.to_json()})
            del self.snapshots[snapshot.id]
            return json_answer(None, 202)
        raise nova_error(404, "The resource could not be found.")

    def _volume(self, volume_id: str, region: str, project_id: str) -> FakeVolume:
        found = self.volumes.get(volume_id)
        if found is None or (found.region, found.project_id) != (region, project_id):
            raise nova_error(404, f"Volume {volume_id} could not be found.")
        return found

    def _snapshot(self, snapshot_id: str, region: str, project_id: str) -> FakeSnapshot:
        found = self.snapshots.get(snapshot_id)
        if found is None or (found.region, found.project_id) != (region, project_id):
            raise nova_error(404, f"Snapshot {snapshot_id} could not be found.")
        return found

    def _list(self, received: Received, region: str, project_id: str, kind: str) -> Reply:
        items: list[Any] = [
            item
            for item in (self.volumes if kind == "volumes" else self.snapshots).values()
            if (item.region, item.project_id) == (region, project_id)
        ]
        volume_id = received.arg("volume_id")
        if kind == "snapshots" and volume_id is not None:
            items = [s for s in items if s.volume_id == volume_id]
        chosen, next_query = page(
            received,
            items,
            lambda item: item.id,
            default_limit=self.max_limit,
            max_limit=self.max_limit,
        )
        document: dict[str, Any] = {kind: [item.to_json() for item in chosen]}
        if next_query is not None:
            href = f"{self._base(received)}{received.path}?{next_query}"
            document[f"{kind}_links"] = [{"rel": "next", "href": href}]
        return json_answer(document)

    def _spec(self, received: Received, key: str) -> dict[str, Any]:
        try:
            spec = received.json().get(key)
        except (ValueError, AttributeError):
            spec = None
        if not isinstance(spec, dict):
            raise nova_error(400, f"Missing required element '{key}' in request body.")
        return spec

    def _create_volume(self, received: Received, region: str, project_id: str) -> Reply:
        spec = self._spec(received, "volume")
        size = spec.get("size")
        snapshot = None
        if spec.get("snapshot_id") is not None:
            snapshot = self._snapshot(str(spec["snapshot_id"]), region, project_id)
            if snapshot.status != "available":
                message = "Originating snapshot status must be one of 'available' values"
                raise nova_error(400, f"Invalid snapshot: {message}")
            size = size if size is not None else snapshot.size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise nova_error(
                400, f"Invalid input received: 'size' must be an integer greater than 0: {size}"
            )
        if snapshot is not None and size < snapshot.size:
            raise nova_error(
                400, "Invalid input received: Volume size cannot be lesser than the snapshot size"
            )
        zone = spec.get("availability_zone", "nova")
        if not self.zones.get(zone):
            raise nova_error(400, "Invalid input received: Availability zone is invalid")
        volume_type = spec.get("volume_type", self.volume_types[0])
        if volume_type not in self.volume_types:
            raise nova_error(404, f"Volume type with name {volume_type} could not be found.")
        image = spec.get("imageRef")
        if image is not None and image not in self.images:
            raise nova_error(400, "Invalid image identifier or unable to access requested image.")
        volume = FakeVolume(
            str(uuid.uuid4()),
            str(spec.get("name") or ""),
            size,
            region,
            project_id,
            self.clock.seconds(),
            zone=zone,
            status="creating",
            volume_type=volume_type,
            description=spec.get("description"),
            snapshot_id=snapshot.id if snapshot else None,
            image_id=image,
            ready_at=self.clock.seconds() + self.volume_seconds,
        )
        self.volumes[volume.id] = volume
        return json_answer({"volume": volume.to_json()}, 202)

    def _delete_volume(self, volume: FakeVolume) -> Reply:
        has_snapshots = any(s.volume_id == volume.id for s in self.snapshots.values())
        if volume.status not in ("available", "error") or has_snapshots:
            raise nova_error(
                400,
                "Invalid volume: Volume status must be available or error or error_restoring "
                "or error_extending or error_managing and must not be migrating, attached, "
                "belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                "from snapshots after volume transfer.",
            )
        del self.volumes[volume.id]
        return json_answer(None, 202)

    def _create_snapshot(self, received: Received, region: str, project_id: str) -> Reply:
        spec = self._spec(received, "snapshot")
        volume = self._volume(str(spec.get("volume_id")), region, project_id)
        force = spec.get("force", False)
        if volume.status != "available" and not (force is True and volume.status == "in-use"):
            raise nova_error(
                400,
                f"Invalid volume: Volume {volume.id} status must be available, but current "
                f"status is: {volume.status}.",
            )
        snapshot = FakeSnapshot(
            str(uuid.uuid4()),
            volume.id,
            volume.size,
            region,
            project_id,
            self.clock.seconds(),
            name=spec.get("name"),
            description=spec.get("description"),
            status="creating",
            ready_at=self.clock.seconds() + self.volume_seconds,
        )
        self.snapshots[snapshot.id] = snapshot
        return json_answer({"snapshot": snapshot.to_json()}, 202)

    # Nova's attachments

    def _attached_server(self, call: NovaCall) -> FakeServer:
        found = self.servers.get(call.groups[0])
        if found is None or found.region != call.region:
            raise nova_error(404, f"Instance {call.groups[0]} could not be found.")
        return found

    def _attach_volume(self, call: NovaCall) -> Reply:
        server = self._attached_server(call)
        spec = call.body().get("volumeAttachment")
        if not isinstance(spec, dict):
            raise nova_error(400, "Invalid input for field/attribute volumeAttachment.")
        volume = self._volume(
            str(spec.get("volumeId")), call.region, self.projects[call.grant.project]
        )
        volume.refresh(self.clock.seconds())
        if volume.status != "available":
            raise nova_error(400, f"Invalid volume: volume {volume.id} status must be available")
        used = {v.device for v in self.volumes.values() if v.server_id == server.id}
        device = spec.get("device") or next(
            f"/dev/vd{letter}"
            for letter in "bcdefghijklmnopqrstuvwxyz"
            if f"/dev/vd{letter}" not in used
        )
        volume.server_id, volume.device, volume.status = server.id, device, "in-use"
        attachment = {
            "id": volume.id,
            "volumeId": volume.id,
            "serverId": server.id,
            "device": device,
        }
        return json_answer({"volumeAttachment": attachment})

    def _detach_volume(self, call: NovaCall) -> Reply:
        server = self._attached_server(call)
        volume = self.volumes.get(call.groups[1])
        if volume is None or volume.server_id != server.id:
            raise nova_error(404, f"volume_id not found: {call.groups[1]}")
        volume.server_id, volume.device, volume.status = None, None, "available"
        return json_answer(None, 202)
