"""The compute driver registry: ``get_driver(Provider.EC2)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from txcloud.common.registry import DriverRegistry
from txcloud.compute.types import Provider

if TYPE_CHECKING:
    from txcloud.compute.base import NodeDriver

__all__ = ["DRIVERS", "get_driver", "set_driver"]

DRIVERS: DriverRegistry[NodeDriver] = DriverRegistry(
    "compute",
    {
        Provider.DUMMY: ("txcloud.compute.drivers.dummy", "DummyNodeDriver"),
        Provider.EC2: ("txcloud.compute.drivers.ec2", "EC2NodeDriver"),
        Provider.DIGITAL_OCEAN: (
            "txcloud.compute.drivers.digitalocean",
            "DigitalOceanNodeDriver",
        ),
        Provider.GCE: ("txcloud.compute.drivers.gce", "GCENodeDriver"),
        Provider.AZURE_ARM: ("txcloud.compute.drivers.azure_arm", "AzureNodeDriver"),
        Provider.OPENSTACK: ("txcloud.compute.drivers.openstack", "OpenStackNodeDriver"),
    },
)

get_driver = DRIVERS.get_driver
set_driver = DRIVERS.set_driver
