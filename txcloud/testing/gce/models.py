"""
What the Compute Engine fake keeps (zones, machine types, images,
instances, zone operations) and each one's JSON, shaped as the Compute
Engine API v1 reference describes its resources.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import attrs

__all__ = [
    "FakeImage",
    "FakeInstance",
    "FakeMachineType",
    "FakeOperation",
    "FakeZone",
    "link",
    "rfc3339",
]

#: The base of the resource URLs the fake writes (``selfLink``...).
API_ROOT = "https://www.googleapis.com/compute/v1"


def rfc3339(seconds: float) -> str:
    """POSIX *seconds* as Google writes times: ``2024-05-01T09:30:00.000-00:00``."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}-00:00"


def link(project: str, path: str) -> str:
    """The URL of the resource at *path* (``/zones/...``) of *project*."""
    return f"{API_ROOT}/projects/{project}{path}"


@attrs.define
class FakeZone:
    """A zone; ``status`` is ``UP`` or ``DOWN``."""

    id: int
    name: str
    status: str = "UP"

    @property
    def region(self) -> str:
        """The zone's region (``us-central1`` for ``us-central1-a``)."""
        return self.name.rsplit("-", 1)[0]

    def resource(self, project: str) -> dict[str, Any]:
        """The zone as ``zones.get`` answers."""
        return {
            "kind": "compute#zone",
            "id": str(self.id),
            "creationTimestamp": "2015-01-01T00:00:00.000-00:00",
            "name": self.name,
            "description": self.name,
            "status": self.status,
            "region": link(project, f"/regions/{self.region}"),
            "selfLink": link(project, f"/zones/{self.name}"),
            "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"],
            "supportsPzs": False,
        }


@attrs.define
class FakeMachineType:
    """A machine type, offered in every zone."""

    id: int
    name: str
    cpus: int
    memory_mb: int
    shared_cpu: bool = False

    def resource(self, project: str, zone: str) -> dict[str, Any]:
        """The machine type in *zone*, as ``machineTypes.get`` answers."""
        return {
            "kind": "compute#machineType",
            "id": str(self.id),
            "creationTimestamp": "2015-01-01T00:00:00.000-00:00",
            "name": self.name,
            "description": f"{self.cpus} vCPU, {self.memory_mb / 1024:g} GB RAM",
            "guestCpus": self.cpus,
            "memoryMb": self.memory_mb,
            "imageSpaceGb": 0,
            "maximumPersistentDisks": 128,
            "maximumPersistentDisksSizeGb": "263168",
            "zone": zone,
            "selfLink": link(project, f"/zones/{zone}/machineTypes/{self.name}"),
            "isSharedCpu": self.shared_cpu,
        }


@attrs.define
class FakeImage:
    """An image of a project; ``deprecated`` is ``None`` or a state (``DEPRECATED``...)."""

    id: int
    project: str
    name: str
    family: str | None = None
    disk_size_gb: int = 10
    deprecated: str | None = None

    def resource(self) -> dict[str, Any]:
        """The image as ``images.get`` answers."""
        self_link = link(self.project, f"/global/images/{self.name}")
        document: dict[str, Any] = {
            "kind": "compute#image",
            "id": str(self.id),
            "creationTimestamp": "2024-01-10T12:00:00.000-00:00",
            "name": self.name,
            "description": f"{self.family or self.name}, built for Compute Engine",
            "sourceType": "RAW",
            "status": "READY",
            "archiveSizeBytes": str(self.disk_size_gb * 100_000_000),
            "diskSizeGb": str(self.disk_size_gb),
            "architecture": "X86_64",
            "licenses": [link(self.project, f"/global/licenses/{self.family or self.name}")],
            "selfLink": self_link,
        }
        if self.family:
            document["family"] = self.family
        if self.deprecated:
            document["deprecated"] = {"state": self.deprecated}
        return document


@attrs.define
class FakeInstance:
    """
    An instance.  ``status`` moves along as the fake's clock passes
    ``changes`` (``(time, status)`` pairs, in order); ``attached`` holds
    the entries (``compute#attachedDisk``) of the disks attached after its
    boot disk.
    """

    id: int
    name: str
    zone: str
    machine_type: str
    status: str
    created_at: float
    network_ip: str
    nat_ip: str | None
    source_image: str
    disk_size_gb: int
    network: str = "default"
    tags: list[str] = attrs.field(factory=list)
    labels: dict[str, str] = attrs.field(factory=dict)
    metadata: list[dict[str, str]] = attrs.field(factory=list)
    changes: list[tuple[float, str]] = attrs.field(factory=list)
    attached: list[dict[str, Any]] = attrs.field(factory=list)

    def settle(self, now: float) -> None:
        """Apply the status changes due by *now*."""
        while self.changes and self.changes[0][0] <= now:
            self.status = self.changes.pop(0)[1]

    def resource(self, project: str) -> dict[str, Any]:
        """The instance as ``instances.get`` answers."""
        interface: dict[str, Any] = {
            "kind": "compute#networkInterface",
            "name": "nic0",
            "network": link(project, f"/global/networks/{self.network}"),
            "networkIP": self.network_ip,
            "stackType": "IPV4_ONLY",
        }
        if self.nat_ip is not None and self.status == "RUNNING":
            interface["accessConfigs"] = [
                {
                    "kind": "compute#accessConfig",
                    "type": "ONE_TO_ONE_NAT",
                    "name": "External NAT",
                    "natIP": self.nat_ip,
                    "networkTier": "PREMIUM",
                }
            ]
        elif self.nat_ip is not None:
            # A stopped instance keeps its access config but not the address.
            interface["accessConfigs"] = [
                {"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT"}
            ]
        return {
            "kind": "compute#instance",
            "id": str(self.id),
            "creationTimestamp": rfc3339(self.created_at),
            "name": self.name,
            "description": "",
            "tags": {"items": list(self.tags), "fingerprint": "42WmSpB8rSM="},
            "machineType": link(project, f"/zones/{self.zone}/machineTypes/{self.machine_type}"),
            "status": self.status,
            "zone": link(project, f"/zones/{self.zone}"),
            "canIpForward": False,
            "networkInterfaces": [interface],
            "disks": [
                {
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": "READ_WRITE",
                    "source": link(project, f"/zones/{self.zone}/disks/{self.name}"),
                    "deviceName": "persistent-disk-0",
                    "index": 0,
                    "boot": True,
                    "autoDelete": True,
                    "interface": "SCSI",
                    "diskSizeGb": str(self.disk_size_gb),
                },
                *self.attached,
            ],
            "metadata": {
                "kind": "compute#metadata",
                "fingerprint": "4ZQe3GqE2sE=",
                "items": list(self.metadata),
            },
            "labels": dict(self.labels),
            "scheduling": {
                "onHostMaintenance": "MIGRATE",
                "automaticRestart": True,
                "preemptible": False,
            },
            "cpuPlatform": "Intel Cascade Lake",
            "deletionProtection": False,
            "selfLink": link(project, f"/zones/{self.zone}/instances/{self.name}"),
        }


@attrs.define
class FakeOperation:
    """
    A zone operation, or a global one when ``zone`` is ``None``:
    ``RUNNING`` until the clock reaches ``done_at``, then ``DONE`` (with
    ``error`` if it failed).  Its target is the resource ``target`` of the
    collection ``target_kind`` (``instances``, ``disks``, ``snapshots``).
    """

    id: int
    name: str
    zone: str | None
    kind: str
    target: str
    target_id: int
    created_at: float
    done_at: float
    error: tuple[int, str, str] | None = None
    target_kind: str = "instances"

    def resource(self, project: str, now: float) -> dict[str, Any]:
        """The operation as ``zoneOperations.get`` or ``globalOperations.get`` answer at *now*."""
        done = now >= self.done_at
        scope = "/global" if self.zone is None else f"/zones/{self.zone}"
        document: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(self.id),
            "name": self.name,
            "operationType": self.kind,
            "targetLink": link(project, f"{scope}/{self.target_kind}/{self.target}"),
            "targetId": str(self.target_id),
            "status": "DONE" if done else "RUNNING",
            "user": "fake@fake-project.iam.gserviceaccount.com",
            "progress": 100 if done else 0,
            "insertTime": rfc3339(self.created_at),
            "startTime": rfc3339(self.created_at),
            "selfLink": link(project, f"{scope}/operations/{self.name}"),
        }
        if self.zone is not None:
            document["zone"] = link(project, scope)
        if done:
            document["endTime"] = rfc3339(max(self.done_at, self.created_at))
        if done and self.error is not None:
            status, code, message = self.error
            document["error"] = {"errors": [{"code": code, "message": message}]}
            document["httpErrorStatusCode"] = status
            document["httpErrorMessage"] = _REASON_PHRASES.get(status, "ERROR")
        return document


_REASON_PHRASES = {400: "BAD REQUEST", 403: "FORBIDDEN", 404: "NOT FOUND", 409: "CONFLICT"}
