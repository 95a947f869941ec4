"""The storage driver registry: ``get_driver(Provider.LOCAL)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from txcloud.common.registry import DriverRegistry
from txcloud.storage.types import Provider

if TYPE_CHECKING:
    from txcloud.storage.base import StorageDriver

__all__ = ["DRIVERS", "get_driver", "set_driver"]

DRIVERS: DriverRegistry[StorageDriver] = DriverRegistry(
    "storage",
    {
        Provider.LOCAL: ("txcloud.storage.drivers.local", "LocalStorageDriver"),
        Provider.S3: ("txcloud.storage.drivers.s3", "S3StorageDriver"),
        Provider.AZURE_BLOBS: ("txcloud.storage.drivers.azure_blobs", "AzureBlobsStorageDriver"),
        Provider.GOOGLE_STORAGE: ("txcloud.storage.drivers.google_storage", "GoogleStorageDriver"),
    },
)

get_driver = DRIVERS.get_driver
set_driver = DRIVERS.set_driver
