"""
What the DigitalOcean fake keeps (regions, sizes, images, SSH keys,
droplets) and the JSON objects the API shows for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import attrs

__all__ = [
    "FakeDroplet",
    "FakeImage",
    "FakeKey",
    "FakeRegion",
    "FakeSize",
    "fingerprint",
    "iso_time",
]

_KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)


def iso_time(seconds: float) -> str:
    """POSIX *seconds* as the API writes times: ``"2020-07-21T18:37:44Z"``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(public_key: str) -> str:
    """
    The MD5 fingerprint DigitalOcean names a key by (``"3b:16:e4:..."``).

    :raises ValueError: for anything but an OpenSSH public key of a known type.
    """
    parts = public_key.split()
    if len(parts) < 2 or parts[0] not in _KEY_TYPES:
        raise ValueError("not an OpenSSH public key of a supported type")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise ValueError("the key's data is not base64") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def offered(regions: list[str] | None, slug: str) -> bool:
    """Whether a region list (``None``: every region) includes *slug*."""
    return regions is None or slug in regions


@attrs.define
class FakeRegion:
    """A region; the sizes offered there are those whose ``regions`` include it."""

    slug: str
    name: str
    available: bool = True
    features: list[str] = attrs.field(
        factory=lambda: ["backups", "ipv6", "metadata", "install_agent", "storage"]
    )

    def to_json(self, sizes: Iterable[FakeSize]) -> dict[str, Any]:
        """The API's region object, listing those of *sizes* offered here."""
        return {
            "name": self.name,
            "slug": self.slug,
            "features": list(self.features),
            "available": self.available,
            "sizes": [size.slug for size in sizes if offered(size.regions, self.slug)],
        }


@attrs.define
class FakeSize:
    """A droplet size; ``regions=None`` offers it in every region."""

    slug: str
    memory: int
    vcpus: int
    disk: int
    transfer: float
    price_monthly: float
    regions: list[str] | None = None
    available: bool = True
    description: str = "Basic"

    def to_json(self, region_slugs: Iterable[str]) -> dict[str, Any]:
        """The API's size object, listing those of *region_slugs* that offer it."""
        return {
            "slug": self.slug,
            "memory": self.memory,
            "vcpus": self.vcpus,
            "disk": self.disk,
            "transfer": self.transfer,
            "price_monthly": self.price_monthly,
            # DigitalOcean bills a month as 672 hours at most.
            "price_hourly": round(self.price_monthly / 672, 5),
            "regions": [slug for slug in region_slugs if offered(self.regions, slug)],
            "available": self.available,
            "description": self.description,
        }


@attrs.define
class FakeImage:
    """
    An image: ``kind`` is ``"distribution"`` or ``"application"`` for public
    images, ``"private"`` for the account's own; ``regions=None`` means
    every region.
    """

    id: int
    name: str
    slug: str | None
    distribution: str
    kind: str
    created_at: float
    regions: list[str] | None = None
    tags: list[str] = attrs.field(factory=list)

    def to_json(self, region_slugs: Iterable[str]) -> dict[str, Any]:
        """The API's image object, listing those of *region_slugs* that have it."""
        return {
            "id": self.id,
            "name": self.name,
            "type": "snapshot" if self.kind == "private" else "base",
            "distribution": self.distribution,
            "slug": self.slug,
            "public": self.kind != "private",
            "regions": [slug for slug in region_slugs if offered(self.regions, slug)],
            "created_at": iso_time(self.created_at),
            "min_disk_size": 10,
            "size_gigabytes": 2.5,
            "description": "",
            "tags": list(self.tags),
            "status": "available",
            "error_message": "",
        }


@attrs.define
class FakeKey:
    """An uploaded public SSH key."""

    id: int
    name: str
    public_key: str
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        """The API's ``ssh_key`` object."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "name": self.name,
        }


@attrs.define
class FakeDroplet:
    """
    A droplet; ``status`` is ``new``, ``active``, ``off`` or ``archive``,
    and a ``new`` one shows itself ``active`` from ``active_at`` on.
    """

    id: int
    name: str
    region: str
    size: str
    image: int
    status: str
    created_at: float
    public_ip: str
    private_ip: str
    active_at: float = 0.0
    tags: list[str] = attrs.field(factory=list)
    ssh_keys: list[int] = attrs.field(factory=list)
    user_data: str | None = None
    features: list[str] = attrs.field(factory=lambda: ["private_networking"])
    vpc_uuid: str = "5a4981aa-9653-4bd1-bef5-d6bff52042e4"

    def refresh(self, now: float) -> None:
        """Finish booting if the time has come."""
        if self.status == "new" and now >= self.active_at:
            self.status = "active"

    def networks(self) -> dict[str, list[dict[str, Any]]]:
        """The API's ``networks`` object: no addresses until booted."""
        if self.status == "new":
            return {"v4": [], "v6": []}
        private = {
            "ip_address": self.private_ip,
            "netmask": "255.255.240.0",
            "gateway": "10.108.0.1",
            "type": "private",
        }
        public = {
            "ip_address": self.public_ip,
            "netmask": "255.255.255.0",
            "gateway": self.public_ip.rsplit(".", 1)[0] + ".1",
            "type": "public",
        }
        return {"v4": [private, public], "v6": []}

    def to_json(
        self, size: dict[str, Any], image: dict[str, Any], region: dict[str, Any]
    ) -> dict[str, Any]:
        """The API's droplet object, given those of its size, image and region."""
        return {
            "id": self.id,
            "name": self.name,
            "memory": size["memory"],
            "vcpus": size["vcpus"],
            "disk": size["disk"],
            "locked": False,
            "status": self.status,
            "kernel": None,
            "created_at": iso_time(self.created_at),
            "features": list(self.features),
            "backup_ids": [],
            "next_backup_window": None,
            "snapshot_ids": [],
            "image": image,
            "volume_ids": [],
            "size": size,
            "size_slug": self.size,
            "networks": self.networks(),
            "region": region,
            "tags": list(self.tags),
            "vpc_uuid": self.vpc_uuid,
        }
