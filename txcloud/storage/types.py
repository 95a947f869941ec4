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
    "ContainerAlreadyExistsError",
    "ContainerDoesNotExistError",
    # Re-exported where Libcloud users look for them.
    "ContainerError",
    "ContainerIsNotEmptyError",
    "InvalidContainerNameError",
    "ObjectDoesNotExistError",
    "ObjectError",
    "ObjectHashMismatchError",
    "Provider",
]


class Provider(str, Enum):
    """Storage providers txcloud knows."""

    LOCAL = "local"
    S3 = "s3"
    GOOGLE_STORAGE = "google_storage"
    AZURE_BLOBS = "azure_blobs"

    def __str__(self) -> str:
        return self.value
