"""Constants of the storage service, with Libcloud's string values."""

from __future__ import annotations

from enum import Enum

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerError,
    ContainerIsNotEmptyError,
    InvalidContainerNameError,
    ObjectDoesNotExistError,
    ObjectError,
    ObjectHashMismatchError,
)

__all__ = [
    "Provider",
    # Re-exported where Libcloud users look for them.
    "ContainerError",
    "ContainerAlreadyExistsError",
    "ContainerDoesNotExistError",
    "ContainerIsNotEmptyError",
    "InvalidContainerNameError",
    "ObjectError",
    "ObjectDoesNotExistError",
    "ObjectHashMismatchError",
]


class Provider(str, Enum):
    """Storage providers txcloud knows."""

    LOCAL = "local"
    S3 = "s3"
    GOOGLE_STORAGE = "google_storage"
    AZURE_BLOBS = "azure_blobs"

    def __str__(self) -> str:
        return self.value
