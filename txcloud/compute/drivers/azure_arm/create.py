"""
What :meth:`~txcloud.compute.drivers.azure_arm.AzureNodeDriver.create_node`
sends: the bodies of the public address, the network interface and the
virtual machine, built (and every argument checked) before any request.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import attrs

from txcloud.compute.base import NodeImage, NodeSize
from txcloud.compute.drivers.azure_arm.resources import check_name
from txcloud.errors import InvalidArgumentError

__all__ = ["STORAGE_ACCOUNT_TYPES", "VirtualMachineSpec", "parse_urn"]

#: The kinds of managed disk an OS disk may be.
STORAGE_ACCOUNT_TYPES = frozenset(
    {"Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"}
)

# Linux user names Azure accepts: a letter or "_" first, at most 64 characters.
_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}$")
_PUBLIC_KEY = re.compile(r"^(ssh|ecdsa)-[\w@.-]+ [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$")
# Azure's size names: "Standard_D2s_v5", "Basic_A0".
_SIZE = re.compile(r"^[A-Za-z]+_[A-Za-z0-9_-]+$")
# Custom data is at most 64 KiB once base64-encoded.
_MAX_CUSTOM_DATA = 65535


def parse_urn(image: NodeImage | str) -> dict[str, str]:
    """
    The image reference of a marketplace image or its URN
    (``publisher:offer:sku:version``; the version may be ``latest``).

    :raises InvalidArgumentError: for anything else.
    """
    urn = image.id if isinstance(image, NodeImage) else image
    parts = urn.split(":") if isinstance(urn, str) else []
    if len(parts) != 4 or not all(part and "/" not in part for part in parts):
        raise InvalidArgumentError(
            f"image must be a marketplace image or its URN 'publisher:offer:sku:version', "
            f"not {urn!r}"
        )
    return dict(zip(("publisher", "offer", "sku", "version"), parts, strict=True))


def _size(size: NodeSize | str) -> str:
    name = size.id if isinstance(size, NodeSize) else size
    if not isinstance(name, str) or not _SIZE.match(name):
        raise InvalidArgumentError(f"size must be a VM size such as 'Standard_B1s', not {name!r}")
    return name


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in tags.items()
    ):
        raise InvalidArgumentError("ex_tags must map names to strings")
    return dict(tags)


@attrs.frozen(repr=False)
class VirtualMachineSpec:
    """A checked request for a virtual machine; ``repr`` shows no password."""

    name: str
    size: str
    image: dict[str, str]
    location: str
    os_profile: dict[str, Any]
    os_disk: dict[str, Any]
    tags: dict[str, str]

    @classmethod
    def build(
        cls,
        *,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: str,
        user_name: str,
        ssh_public_key: str | None,
        admin_password: str | None,
        os_disk_size: int | None,
        storage_account_type: str,
        tags: Mapping[str, str] | None,
        customdata: str | None,
    ) -> VirtualMachineSpec:
        """
        Check every argument of ``create_node`` and build the specification.

        :raises InvalidArgumentError: for the first bad argument.
        """
        check_name(name, "name")
        if not isinstance(user_name, str) or not _USER.match(user_name):
            raise InvalidArgumentError(
                f"ex_user_name: {user_name!r} is not a valid Linux user name"
            )
        profile: dict[str, Any] = {"computerName": name[:64], "adminUsername": user_name}
        if (ssh_public_key is None) == (admin_password is None):
            raise InvalidArgumentError("give one of ex_ssh_public_key and ex_admin_password")
        if ssh_public_key is not None:
            key = ssh_public_key.strip() if isinstance(ssh_public_key, str) else ""
            if not _PUBLIC_KEY.match(key):
                raise InvalidArgumentError("ex_ssh_public_key is not an OpenSSH public key")
            profile["linuxConfiguration"] = {
                "disablePasswordAuthentication": True,
                "ssh": {
                    "publicKeys": [
                        {"path": f"/home/{user_name}/.ssh/authorized_keys", "keyData": key}
                    ]
                },
            }
        elif not isinstance(admin_password, str) or not 12 <= len(admin_password) <= 72:
            # The password is not shown.
            raise InvalidArgumentError("ex_admin_password must be 12 to 72 characters")
        else:
            profile["adminPassword"] = admin_password
        if customdata is not None:
            if not isinstance(customdata, str):
                raise InvalidArgumentError("ex_customdata must be a string")
            encoded = base64.b64encode(customdata.encode("utf-8")).decode("ascii")
            if len(encoded) > _MAX_CUSTOM_DATA:
                raise InvalidArgumentError("ex_customdata is over 64 KiB once base64-encoded")
            profile["customData"] = encoded
        if storage_account_type not in STORAGE_ACCOUNT_TYPES:
            raise InvalidArgumentError(
                f"ex_storage_account_type must be one of {sorted(STORAGE_ACCOUNT_TYPES)}, "
                f"not {storage_account_type!r}"
            )
        os_disk: dict[str, Any] = {
            "name": f"{name}-osdisk",
            "createOption": "FromImage",
            "managedDisk": {"storageAccountType": storage_account_type},
        }
        if os_disk_size is not None:
            if (
                isinstance(os_disk_size, bool)
                or not isinstance(os_disk_size, int)
                or not (1 <= os_disk_size <= 4095)
            ):
                raise InvalidArgumentError(
                    f"ex_os_disk_size must be 1 to 4095 GiB, not {os_disk_size!r}"
                )
            os_disk["diskSizeGB"] = os_disk_size
        return cls(name, _size(size), parse_urn(image), location, profile, os_disk, _tags(tags))

    def public_ip(self) -> dict[str, Any]:
        """The body of the static public address."""
        return {
            "location": self.location,
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"},
        }

    def interface(self, subnet_id: str, public_ip_id: str | None) -> dict[str, Any]:
        """The body of the network interface in *subnet_id*."""
        configuration: dict[str, Any] = {
            "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": subnet_id},
        }
        if public_ip_id is not None:
            configuration["publicIPAddress"] = {"id": public_ip_id}
        return {
            "location": self.location,
            "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": configuration}]
            },
        }

    def virtual_machine(self, interface_id: str) -> dict[str, Any]:
        """The body of the virtual machine using the interface *interface_id*."""
        return {
            "location": self.location,
            "tags": self.tags,
            "properties": {
                "hardwareProfile": {"vmSize": self.size},
                "storageProfile": {"imageReference": self.image, "osDisk": self.os_disk},
                "osProfile": self.os_profile,
                "networkProfile": {
                    "networkInterfaces": [{"id": interface_id, "properties": {"primary": True}}]
                },
            },
        }

    def __repr__(self) -> str:
        return f"<VirtualMachineSpec {self.name} {self.size} in {self.location}>"
