"""
What the fake's subscription offers before anything is created: locations,
VM sizes and a small marketplace, shaped as Azure's API reference shows them.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["FakeSize", "Marketplace", "default_locations", "default_marketplace", "default_sizes"]


@attrs.frozen
class FakeSize:
    """A VM size, as ``vmSizes`` lists it."""

    name: str
    cores: int
    memory_mb: int
    resource_disk_mb: int = 0
    max_data_disks: int = 4

    def to_json(self) -> dict[str, Any]:
        """The API's VM size object."""
        return {
            "name": self.name,
            "numberOfCores": self.cores,
            "osDiskSizeInMB": 1047552,
            "resourceDiskSizeInMB": self.resource_disk_mb,
            "memoryInMB": self.memory_mb,
            "maxDataDiskCount": self.max_data_disks,
        }


#: publisher -> offer -> SKU -> versions.
Marketplace = dict[str, dict[str, dict[str, list[str]]]]


def default_locations() -> dict[str, dict[str, Any]]:
    """Four physical regions and one logical one, by name."""
    found: dict[str, dict[str, Any]] = {}
    for name, display, geography, kind in (
        ("westeurope", "West Europe", "Europe", "Physical"),
        ("northeurope", "North Europe", "Europe", "Physical"),
        ("eastus", "East US", "United States", "Physical"),
        ("westus2", "West US 2", "United States", "Physical"),
        ("europe", "Europe", "Europe", "Logical"),
    ):
        found[name] = {
            "name": name,
            "displayName": display,
            "regionalDisplayName": f"({geography}) {display}",
            "metadata": {
                "regionType": kind,
                "geography": geography,
                "regionCategory": "Recommended",
            },
        }
    return found


def default_sizes() -> list[FakeSize]:
    """Four sizes, offered in every location."""
    return [
        FakeSize("Standard_B1s", 1, 1024, 4096, 2),
        FakeSize("Standard_B2s", 2, 4096, 8192, 4),
        FakeSize("Standard_D2s_v5", 2, 8192, 0, 4),
        FakeSize("Standard_D4s_v5", 4, 16384, 0, 8),
    ]


def default_marketplace() -> Marketplace:
    """Ubuntu, Debian and Windows Server images, and a publisher without images."""
    return {
        "Canonical": {
            "ubuntu-24_04-lts": {
                "server": ["24.04.202411030", "24.04.202412010"],
                "server-arm64": ["24.04.202412010"],
            }
        },
        "Debian": {"debian-12": {"12": ["0.20241201.1920"], "12-gen2": ["0.20241201.1920"]}},
        "MicrosoftWindowsServer": {
            "WindowsServer": {"2022-datacenter-azure-edition": ["20348.2849.241106"]}
        },
        "contoso-empty": {},
    }
