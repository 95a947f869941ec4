"""
Block-storage volumes and snapshots of :class:`~txcloud.testing.digitalocean.
FakeDigitalOcean`: what it keeps, their JSON, and the endpoints under
``/v2/volumes`` and ``/v2/snapshots``.

As DigitalOcean documents: a volume lives in one region and attaches to
droplets of that region; it cannot be deleted while attached; volume names
are lower-case letters, digits and dashes; attach and detach are actions
(``attach``, ``detach``) answered 202; snapshots are listed finished.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from txcloud.testing.digitalocean.models import FakeDroplet, iso_time
from txcloud.testing.digitalocean.serving import NOT_FOUND, Call, Refused

__all__ = ["VOLUME_ROUTES", "FakeSnapshot", "FakeVolume", "VolumeEndpoints"]

_VOLUME_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_MAX_SIZE = 16 * 1024


@attrs.define
class FakeVolume:
    """A volume: its droplets are listed by id."""

    id: str
    name: str
    size: int
    region: str
    created_at: float
    description: str = ""
    droplet_ids: list[int] = attrs.field(factory=list)
    filesystem_type: str = ""
    filesystem_label: str = ""
    tags: list[str] = attrs.field(factory=list)

    def to_json(self, region: dict[str, Any]) -> dict[str, Any]:
        """The API's volume object, with its *region* object."""
        return {
            "id": self.id,
            "region": region,
            "droplet_ids": list(self.droplet_ids),
            "name": self.name,
            "description": self.description,
            "size_gigabytes": self.size,
            "created_at": iso_time(self.created_at),
            "filesystem_type": self.filesystem_type,
            "filesystem_label": self.filesystem_label,
            "tags": list(self.tags),
        }


@attrs.define
class FakeSnapshot:
    """A snapshot of a volume (``resource_type`` ``"volume"``) or of a droplet."""

    id: str
    name: str
    resource_id: str
    resource_type: str
    regions: list[str]
    size: float
    min_disk_size: int
    created_at: float
    tags: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        """The API's snapshot object."""
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso_time(self.created_at),
            "regions": list(self.regions),
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "min_disk_size": self.min_disk_size,
            "size_gigabytes": self.size,
            "tags": list(self.tags),
        }


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise Refused(422, "tags must be a list of strings.")
    return list(value)


class VolumeEndpoints:
    """The volume and snapshot endpoints; mixed into the fake, which holds the state."""

    volumes: dict[str, FakeVolume]
    snapshots: dict[str, FakeSnapshot]
    regions: dict[str, Any]
    clock: Any

    if TYPE_CHECKING:
        # What the fake that mixes this in provides.
        def _new_id(self, kind: str) -> int: ...

        def _region_json(self, slug: str) -> dict[str, Any]: ...

        def _droplet(self, ref: str) -> FakeDroplet: ...

        def _record_action(
            self, kind: str, resource_id: int | None, resource_type: str, region: str
        ) -> dict[str, Any]: ...

    # Seeding

    def add_volume(
        self, name: str, size: int = 10, *, region: str = "nyc3", description: str = ""
    ) -> FakeVolume:
        """Add a detached volume to a known region."""
        if region not in self.regions:
            raise ValueError("add the volume's region first")
        volume_id = f"506f78a4-e098-11e5-ad9f-{self._new_id('volume'):012x}"
        volume = FakeVolume(volume_id, name, size, region, self.clock.seconds(), description)
        self.volumes[volume.id] = volume
        return volume

    def add_snapshot(
        self, volume: FakeVolume, name: str, tags: list[str] | None = None
    ) -> FakeSnapshot:
        """Snapshot *volume* (finished at once, as the API lists them)."""
        snapshot_id = f"8fa70202-873f-11e6-8b68-{self._new_id('snapshot'):012x}"
        snapshot = FakeSnapshot(
            id=snapshot_id,
            name=name,
            resource_id=volume.id,
            resource_type="volume",
            regions=[volume.region],
            size=0.0,
            min_disk_size=volume.size,
            created_at=self.clock.seconds(),
            tags=list(tags or []),
        )
        self.snapshots[snapshot.id] = snapshot
        return snapshot

    # Lookups

    def _volume_json(self, volume: FakeVolume) -> dict[str, Any]:
        return volume.to_json(self._region_json(volume.region))

    def _found_volume(self, ref: str) -> FakeVolume:
        volume = self.volumes.get(ref)
        if volume is None:
            raise Refused(404, NOT_FOUND)
        return volume

    def _found_snapshot(self, ref: str) -> FakeSnapshot:
        snapshot = self.snapshots.get(ref)
        if snapshot is None:
            raise Refused(404, NOT_FOUND)
        return snapshot

    # Endpoints

    def _list_volumes(self, call: Call) -> tuple[int, Any]:
        region, name = call.arg("region"), call.arg("name")
        volumes = [
            self._volume_json(volume)
            for volume in self.volumes.values()
            if (region is None or volume.region == region) and (name is None or volume.name == name)
        ]
        return 200, call.page("volumes", volumes)

    def _get_volume(self, call: Call) -> tuple[int, Any]:
        return 200, {"volume": self._volume_json(self._found_volume(call.groups[0]))}

    def _create_volume(self, call: Call) -> tuple[int, Any]:
        spec = call.json()
        size, name = spec.get("size_gigabytes"), spec.get("name")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_SIZE:
            raise Refused(422, f"size_gigabytes must be an integer in 1..{_MAX_SIZE}.")
        if not isinstance(name, str) or not _VOLUME_NAME.match(name):
            raise Refused(422, "Volume names are lower-case letters, digits and dashes.")
        region = spec.get("region")
        snapshot = None
        if spec.get("snapshot_id") is not None:
            snapshot = self._found_snapshot(str(spec["snapshot_id"]))
            region = region or snapshot.regions[0]
            if size < snapshot.min_disk_size:
                raise Refused(422, "The volume is smaller than the snapshot.")
        if region not in self.regions:
            raise Refused(422, "You specified an invalid region for the volume.")
        if any(v.name == name and v.region == region for v in self.volumes.values()):
            raise Refused(409, "A volume with that name already exists in the region.")
        volume = self.add_volume(
            name, size, region=region, description=str(spec.get("description") or "")
        )
        volume.filesystem_type = str(spec.get("filesystem_type") or "")
        volume.filesystem_label = str(spec.get("filesystem_label") or "")
        volume.tags = _tags(spec.get("tags"))
        return 201, {"volume": self._volume_json(volume)}

    def _delete_volume(self, call: Call) -> tuple[int, Any]:
        volume = self._found_volume(call.groups[0])
        if volume.droplet_ids:
            raise Refused(409, "Attached volumes cannot be deleted: detach it first.")
        del self.volumes[volume.id]
        return 204, None

    def _volume_action(self, call: Call) -> tuple[int, Any]:
        volume = self._found_volume(call.groups[0])
        spec = call.json()
        kind = spec.get("type")
        if kind not in ("attach", "detach"):
            raise Refused(422, f"The action type {kind!r} is not supported.")
        droplet = self._droplet(str(spec.get("droplet_id")))
        if spec.get("region") not in (None, volume.region) or droplet.region != volume.region:
            raise Refused(422, "The volume and the droplet must be in the same region.")
        if kind == "attach":
            if droplet.id in volume.droplet_ids:
                raise Refused(422, "The volume is already attached to this droplet.")
            volume.droplet_ids.append(droplet.id)
        else:
            if droplet.id not in volume.droplet_ids:
                raise Refused(422, "The volume is not attached to this droplet.")
            volume.droplet_ids.remove(droplet.id)
        action = self._record_action(f"{kind}_volume", None, "backend", volume.region)
        return 202, {"action": action}

    def _list_volume_snapshots(self, call: Call) -> tuple[int, Any]:
        volume = self._found_volume(call.groups[0])
        snapshots = [s.to_json() for s in self.snapshots.values() if s.resource_id == volume.id]
        return 200, call.page("snapshots", snapshots)

    def _create_volume_snapshot(self, call: Call) -> tuple[int, Any]:
        volume = self._found_volume(call.groups[0])
        spec = call.json()
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise Refused(422, "Name is required.")
        snapshot = self.add_snapshot(volume, name, _tags(spec.get("tags")))
        return 201, {"snapshot": snapshot.to_json()}

    def _list_snapshots(self, call: Call) -> tuple[int, Any]:
        kind = call.arg("resource_type")
        if kind not in (None, "droplet", "volume"):
            raise Refused(400, "resource_type must be 'droplet' or 'volume'.")
        snapshots = [
            s.to_json() for s in self.snapshots.values() if kind is None or s.resource_type == kind
        ]
        return 200, call.page("snapshots", snapshots)

    def _get_snapshot(self, call: Call) -> tuple[int, Any]:
        return 200, {"snapshot": self._found_snapshot(call.groups[0]).to_json()}

    def _delete_snapshot(self, call: Call) -> tuple[int, Any]:
        del self.snapshots[self._found_snapshot(call.groups[0]).id]
        return 204, None


#: (path, method, endpoint name) of the volume and snapshot endpoints.
VOLUME_ROUTES: tuple[tuple[str, str, str], ...] = (
    (r"^/v2/volumes$", "GET", "_list_volumes"),
    (r"^/v2/volumes$", "POST", "_create_volume"),
    (r"^/v2/volumes/([^/]+)$", "GET", "_get_volume"),
    (r"^/v2/volumes/([^/]+)$", "DELETE", "_delete_volume"),
    (r"^/v2/volumes/([^/]+)/actions$", "POST", "_volume_action"),
    (r"^/v2/volumes/([^/]+)/snapshots$", "GET", "_list_volume_snapshots"),
    (r"^/v2/volumes/([^/]+)/snapshots$", "POST", "_create_volume_snapshot"),
    (r"^/v2/snapshots$", "GET", "_list_snapshots"),
    (r"^/v2/snapshots/([^/]+)$", "GET", "_get_snapshot"),
    (r"^/v2/snapshots/([^/]+)$", "DELETE", "_delete_snapshot"),
)
