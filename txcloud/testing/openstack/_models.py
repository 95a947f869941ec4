"""
What the OpenStack fake keeps: users, projects and application
credentials (Keystone), servers, flavors and key pairs (Nova), images
(Glance), and their JSON as the API references show it.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

__all__ = [
    "FakeAppCredential",
    "FakeFlavor",
    "FakeImage",
    "FakeKeyPair",
    "FakeServer",
    "FakeUser",
    "iso_time",
]


def iso_time(seconds: float, fraction: bool = False) -> str:
    """*seconds* (POSIX) as ``2024-05-01T10:00:00Z`` (with microseconds if *fraction*)."""
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if fraction:
        text += f".{int(seconds % 1 * 1_000_000):06d}"
    return text + "Z"


@attrs.define
class FakeUser:
    """A Keystone user and the projects (names) it may scope tokens to."""

    id: str
    name: str
    password: str = attrs.field(repr=False)
    projects: list[str]
    domain: str = "Default"


@attrs.define
class FakeAppCredential:
    """An application credential: a secret that stands for a user in one project."""

    id: str
    name: str
    secret: str = attrs.field(repr=False)
    user: str
    project: str


@attrs.define
class FakeFlavor:
    """A Nova flavor."""

    id: str
    name: str
    ram: int
    vcpus: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    public: bool = True

    def to_json(self, base: str) -> dict[str, Any]:
        """The flavor as ``GET /flavors/detail`` shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "ram": self.ram,
            "vcpus": self.vcpus,
            "disk": self.disk,
            "OS-FLV-EXT-DATA:ephemeral": self.ephemeral,
            # Nova writes no swap as "" at microversion 2.1.
            "swap": self.swap or "",
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": self.public,
            "rxtx_factor": 1.0,
            "links": [{"rel": "self", "href": f"{base}/flavors/{self.id}"}],
        }


@attrs.define
class FakeImage:
    """A Glance image."""

    id: str
    name: str
    created: float
    status: str = "active"
    visibility: str = "public"
    owner: str = ""
    size: int = 2361393152
    min_disk: int = 0
    min_ram: int = 0
    tags: list[str] = attrs.field(factory=list)
    os_distro: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The image as ``GET /v2/images`` shows it."""
        document: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "visibility": self.visibility,
            "protected": False,
            "owner": self.owner,
            "size": self.size,
            "virtual_size": None,
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_disk": self.min_disk,
            "min_ram": self.min_ram,
            "checksum": "ee1eca47dc88f4879d8a229cc70a07c6",
            "os_hash_algo": "sha512",
            "created_at": iso_time(self.created),
            "updated_at": iso_time(self.created),
            "tags": list(self.tags),
            "self": f"/v2/images/{self.id}",
            "file": f"/v2/images/{self.id}/file",
            "schema": "/v2/schemas/image",
        }
        if self.os_distro is not None:
            document["os_distro"] = self.os_distro
        return document


@attrs.define
class FakeKeyPair:
    """A Nova key pair (public half only: Nova hands the private half out once)."""

    name: str
    public_key: str
    fingerprint: str
    user_id: str
    created: float

    def to_json(self, detail: bool = True) -> dict[str, Any]:
        """The key pair as Nova shows it (fewer fields in listings)."""
        document: dict[str, Any] = {
            "name": self.name,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "type": "ssh",
        }
        if detail:
            document.update(
                user_id=self.user_id,
                created_at=iso_time(self.created),
                deleted=False,
                deleted_at=None,
                updated_at=None,
                id=1,
            )
        return document


@attrs.define
class FakeServer:
    """A Nova server in one region."""

    id: str
    name: str
    region: str
    flavor: str
    image: str
    status: str
    project_id: str
    user_id: str
    created: float
    zone: str = "nova"
    key_name: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    fixed_ip: str = "10.0.0.2"
    floating_ip: str | None = None
    active_at: float | None = None
    user_data: str | None = None
    security_groups: list[str] = attrs.field(factory=lambda: ["default"])

    def refresh(self, now: float) -> None:
        """Finish booting once the clock has passed :attr:`active_at`."""
        if self.status == "BUILD" and self.active_at is not None and now >= self.active_at:
            self.status = "ACTIVE"

    def to_json(self, base: str) -> dict[str, Any]:
        """The server as ``GET /servers/detail`` shows it at microversion 2.1."""
        addresses = [
            {
                "addr": self.fixed_ip,
                "version": 4,
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:4c:2c:30",
            }
        ]
        if self.floating_ip is not None:
            addresses.append(
                {
                    "addr": self.floating_ip,
                    "version": 4,
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:4c:2c:30",
                }
            )
        power = {"ACTIVE": 1, "SHUTOFF": 4}.get(self.status, 0)
        vm_state = {"ACTIVE": "active", "SHUTOFF": "stopped", "BUILD": "building"}
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "tenant_id": self.project_id,
            "user_id": self.user_id,
            "metadata": dict(self.metadata),
            "hostId": "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6",
            "image": {"id": self.image, "links": [{"rel": "bookmark", "href": "#"}]},
            "flavor": {"id": self.flavor, "links": [{"rel": "bookmark", "href": "#"}]},
            "created": iso_time(self.created),
            "updated": iso_time(self.created),
            "addresses": {"private": addresses},
            "accessIPv4": "",
            "accessIPv6": "",
            "links": [{"rel": "self", "href": f"{base}/servers/{self.id}"}],
            "OS-DCF:diskConfig": "AUTO",
            "OS-EXT-AZ:availability_zone": self.zone,
            "config_drive": "",
            "key_name": self.key_name,
            "OS-SRV-USG:launched_at": None,
            "OS-SRV-USG:terminated_at": None,
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:vm_state": vm_state.get(self.status, "error"),
            "OS-EXT-STS:power_state": power,
            "os-extended-volumes:volumes_attached": [],
            "security_groups": [{"name": name} for name in self.security_groups],
            "progress": 100 if self.status == "ACTIVE" else 0,
        }
