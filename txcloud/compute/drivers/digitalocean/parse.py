"""
Turn DigitalOcean API v2 JSON objects (droplets, sizes, images, regions, SSH
keys) into txcloud's models.

Fields and ``extra`` keys follow Libcloud's DigitalOcean driver, so code
reading ``node.extra["size_slug"]`` carries over; the additions are noted
on each function.
"""

from __future__ import annotations

from typing import Any

from txcloud.common.json_fields import json_field as _field
from txcloud.common.timestamps import parse_rfc3339 as parse_time
from txcloud.compute.base import (
    KeyPair,
    Node,
    NodeImage,
    NodeLocation,
    NodeSize,
    StorageVolume,
    VolumeSnapshot,
)
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState

__all__ = [
    "NODE_STATES",
    "REGION_COUNTRIES",
    "parse_image",
    "parse_key_pair",
    "parse_location",
    "parse_node",
    "parse_size",
    "parse_snapshot",
    "parse_time",
    "parse_volume",
    "region_country",
]

#: Droplet ``status`` values as Libcloud maps them; any other is UNKNOWN.
NODE_STATES: dict[str, NodeState] = {
    "new": NodeState.PENDING,
    "active": NodeState.RUNNING,
    "off": NodeState.STOPPED,
    "archive": NodeState.TERMINATED,
}

#: The country (ISO 3166-1 alpha-2) of each data-centre prefix of region slugs.
REGION_COUNTRIES: dict[str, str] = {
    "ams": "NL",
    "atl": "US",
    "blr": "IN",
    "fra": "DE",
    "lon": "GB",
    "nyc": "US",
    "sfo": "US",
    "sgp": "SG",
    "syd": "AU",
    "tor": "CA",
}

# Droplet fields copied into Node.extra unchanged (Libcloud's list).
_NODE_EXTRA = (
    "memory",
    "vcpus",
    "disk",
    "image",
    "size",
    "size_slug",
    "locked",
    "created_at",
    "networks",
    "kernel",
    "backup_ids",
    "snapshot_ids",
    "features",
    "tags",
)


def region_country(slug: str) -> str:
    """The country code of region *slug* (``"ams3"`` -> ``"NL"``), ``""`` if unknown."""
    return REGION_COUNTRIES.get(slug[:3], "")


def _text_id(data: Any, what: str) -> str:
    return str(_field(data, "id", (int, str), what))


def _addresses(networks: Any, kind: str) -> list[str]:
    if not isinstance(networks, dict) or not isinstance(networks.get("v4"), list):
        return []
    return [
        net["ip_address"]
        for net in networks["v4"]
        if isinstance(net, dict)
        and net.get("type") == kind
        and isinstance(net.get("ip_address"), str)
    ]


def parse_node(data: Any, driver: Any) -> Node:
    """
    A droplet as a :class:`~txcloud.compute.base.Node`.

    ``public_ips`` and ``private_ips`` are its IPv4 addresses of each type
    (IPv6 ones stay in ``extra["networks"]``).  ``extra`` holds Libcloud's
    keys (``memory``, ``vcpus``, ``disk``, ``image``, ``size``,
    ``size_slug``, ``locked``, ``created_at``, ``networks``, ``kernel``,
    ``backup_ids``, ``snapshot_ids``, ``features``, ``tags``, and
    ``region``: the region's name) plus ``region_slug``, ``status`` (as
    DigitalOcean spells it) and ``vpc_uuid``.
    """
    node_id = _text_id(data, "droplet")
    name = _field(data, "name", str, "droplet")
    status = data.get("status")
    region = data.get("region") if isinstance(data.get("region"), dict) else {}
    extra = {key: data[key] for key in _NODE_EXTRA if key in data}
    extra.update(
        region=region.get("name"),
        region_slug=region.get("slug"),
        status=status,
        vpc_uuid=data.get("vpc_uuid"),
    )
    image = data.get("image")
    size = data.get("size")
    return Node(
        id=node_id,
        name=name,
        state=NODE_STATES.get(status, NodeState.UNKNOWN)
        if isinstance(status, str)
        else NodeState.UNKNOWN,
        public_ips=_addresses(data.get("networks"), "public"),
        private_ips=_addresses(data.get("networks"), "private"),
        driver=driver,
        size=parse_size(size, driver) if isinstance(size, dict) and size else None,
        image=parse_image(image, driver) if isinstance(image, dict) and image else None,
        created_at=parse_time(data.get("created_at")),
        extra=extra,
    )


def parse_size(data: Any, driver: Any) -> NodeSize:
    """
    A size as a :class:`~txcloud.compute.base.NodeSize`: id and name are its
    slug, ``ram`` MiB, ``disk`` GB, ``bandwidth`` the monthly transfer in TB
    and ``price`` the hourly price in USD.  ``extra`` holds ``vcpus``,
    ``regions`` and ``price_monthly`` (Libcloud's) plus ``available`` and
    ``description``.
    """
    slug = _field(data, "slug", str, "size")
    return NodeSize(
        id=slug,
        name=slug,
        ram=data.get("memory"),
        disk=data.get("disk"),
        bandwidth=data.get("transfer"),
        price=data.get("price_hourly"),
        driver=driver,
        extra={
            "vcpus": data.get("vcpus"),
            "regions": data.get("regions", []),
            "price_monthly": data.get("price_monthly"),
            "available": data.get("available"),
            "description": data.get("description"),
        },
    )


def parse_image(data: Any, driver: Any) -> NodeImage:
    """
    An image as a :class:`~txcloud.compute.base.NodeImage` whose id is the
    numeric id as text.  ``extra`` holds ``distribution``, ``public``,
    ``slug``, ``regions``, ``min_disk_size`` and ``created_at`` (Libcloud's)
    plus ``type``, ``size_gigabytes``, ``description`` and ``status``.
    """
    return NodeImage(
        id=_text_id(data, "image"),
        name=data.get("name") or "",
        driver=driver,
        extra={
            key: data.get(key)
            for key in (
                "distribution",
                "public",
                "slug",
                "regions",
                "min_disk_size",
                "created_at",
                "type",
                "size_gigabytes",
                "description",
                "status",
            )
        },
    )


def parse_location(data: Any, driver: Any) -> NodeLocation:
    """
    A region as a :class:`~txcloud.compute.base.NodeLocation` whose id is
    the slug and country the code from :func:`region_country`.  ``extra``
    holds ``features``, ``sizes`` and ``available`` (Libcloud's ``extra``
    is the bare feature list; here it is ``extra["features"]``).
    """
    slug = _field(data, "slug", str, "region")
    return NodeLocation(
        id=slug,
        name=data.get("name") or slug,
        country=region_country(slug),
        driver=driver,
        extra={
            "features": data.get("features", []),
            "sizes": data.get("sizes", []),
            "available": data.get("available"),
        },
    )


def parse_key_pair(data: Any, driver: Any) -> KeyPair:
    """
    An SSH key as a :class:`~txcloud.compute.base.KeyPair` (no private key:
    DigitalOcean keeps public keys only); ``extra["id"]`` is its numeric id.
    """
    return KeyPair(
        name=_field(data, "name", str, "SSH key"),
        public_key=data.get("public_key"),
        fingerprint=data.get("fingerprint"),
        driver=driver,
        extra={"id": _field(data, "id", int, "SSH key")},
    )


def parse_volume(data: Any, driver: Any) -> StorageVolume:
    """
    A block-storage volume as a :class:`~txcloud.compute.base.StorageVolume`
    (size in GiB).  ``extra`` holds Libcloud's ``created_at``,
    ``droplet_ids``, ``region`` (the region object) and ``region_id`` (its
    slug), plus ``description``, ``filesystem_type``, ``filesystem_label``
    and ``tags``.  DigitalOcean gives volumes no state: a volume attached to
    a droplet is ``INUSE``, any other ``AVAILABLE``.
    """
    region = data.get("region") if isinstance(data, dict) else None
    droplet_ids = data.get("droplet_ids") if isinstance(data, dict) else None
    droplet_ids = droplet_ids if isinstance(droplet_ids, list) else []
    return StorageVolume(
        id=_text_id(data, "volume"),
        name=data.get("name") or "",
        size=_field(data, "size_gigabytes", int, "volume"),
        driver=driver,
        state=StorageVolumeState.INUSE if droplet_ids else StorageVolumeState.AVAILABLE,
        extra={
            "created_at": data.get("created_at"),
            "droplet_ids": droplet_ids,
            "region": region,
            "region_id": region.get("slug") if isinstance(region, dict) else None,
            "description": data.get("description"),
            "filesystem_type": data.get("filesystem_type"),
            "filesystem_label": data.get("filesystem_label"),
            "tags": data.get("tags") or [],
        },
    )


def parse_snapshot(data: Any, driver: Any) -> VolumeSnapshot:
    """
    A snapshot (of a volume or a droplet) as a
    :class:`~txcloud.compute.base.VolumeSnapshot`, ``AVAILABLE`` (DigitalOcean
    lists finished snapshots only).  ``extra`` holds Libcloud's
    ``created_at``, ``resource_id``, ``regions`` and ``min_disk_size``, plus
    ``resource_type`` and ``tags``.
    """
    size = data.get("size_gigabytes") if isinstance(data, dict) else None
    return VolumeSnapshot(
        id=_text_id(data, "snapshot"),
        driver=driver,
        size=int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None,
        extra={
            "created_at": data.get("created_at"),
            "resource_id": data.get("resource_id"),
            "resource_type": data.get("resource_type"),
            "regions": data.get("regions") or [],
            "min_disk_size": data.get("min_disk_size"),
            "tags": data.get("tags") or [],
        },
        created=parse_time(data.get("created_at")),
        state=VolumeSnapshotState.AVAILABLE,
        name=data.get("name"),
    )
