"""
Storage models and the :class:`StorageDriver` base class.

Names follow Libcloud's ``libcloud.storage.base``.  Methods that do I/O
return Deferreds; ``iterate_*`` and ``*_as_stream`` return async iterators
that fetch lazily (drive them from a coroutine wrapped in
``Deferred.fromCoroutine``).  ``list_*`` collects the matching iterator, and
downloads to a file go through the engine in :mod:`txcloud.storage.transfer`, so a driver
only implements the primitive operations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from txcloud.common.base import BaseDriver
from txcloud.common.models import Model
from txcloud.common.paging import collect
from txcloud.errors import ContainerError, InvalidArgumentError, ObjectError, TxCloudError
from txcloud.storage.transfer.ranged import download_to_file

__all__ = ["Container", "Object", "ProgressCallback", "StorageDriver"]

#: Called with the number of bytes transferred so far.
ProgressCallback = Callable[[int], None]


@attrs.define(eq=False, repr=False)
class Container(Model):
    """A storage container (a bucket)."""

    _identity = ("name",)
    _shown = ("name",)

    name: str
    extra: dict[str, Any]
    driver: StorageDriver

    def iterate_objects(self, prefix: str | None = None) -> AsyncIterator[Object]:
        """See :meth:`StorageDriver.iterate_container_objects`."""
        return self.driver.iterate_container_objects(self, prefix=prefix)

    def list_objects(self, prefix: str | None = None) -> Deferred[list[Object]]:
        """See :meth:`StorageDriver.list_container_objects`."""
        return self.driver.list_container_objects(self, prefix=prefix)

    def get_object(self, object_name: str) -> Deferred[Object]:
        """See :meth:`StorageDriver.get_object`."""
        return self.driver.get_object(self.name, object_name)

    def upload_object(
        self,
        file_path: str,
        object_name: str,
        extra: dict[str, Any] | None = None,
        verify_hash: bool = True,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """See :meth:`StorageDriver.upload_object`."""
        return self.driver.upload_object(
            file_path, self, object_name, extra=extra, verify_hash=verify_hash, **kwargs
        )

    def upload_object_via_stream(
        self, iterator: Any, object_name: str, extra: dict[str, Any] | None = None, **kwargs: Any
    ) -> Deferred[Object]:
        """See :meth:`StorageDriver.upload_object_via_stream`."""
        return self.driver.upload_object_via_stream(
            iterator, self, object_name, extra=extra, **kwargs
        )

    def delete(self) -> Deferred[bool]:
        """See :meth:`StorageDriver.delete_container`."""
        return self.driver.delete_container(self)


@attrs.define(eq=False, repr=False)
class Object(Model):
    """A stored object; ``hash`` is what the provider reports (an ETag or MD5)."""

    _identity = ("name",)
    _shown = ("name", "size", "hash")

    name: str
    size: int
    hash: str | None
    extra: dict[str, Any]
    meta_data: dict[str, str]
    container: Container
    driver: StorageDriver

    def _key(self) -> tuple[Any, ...]:
        return (*super()._key(), self.container.name)

    def download(
        self,
        destination_path: str,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
        **kwargs: Any,
    ) -> Deferred[bool]:
        """See :meth:`StorageDriver.download_object`."""
        return self.driver.download_object(
            self, destination_path, overwrite_existing, delete_on_failure, **kwargs
        )

    def as_stream(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """See :meth:`StorageDriver.download_object_as_stream`."""
        return self.driver.download_object_as_stream(self, chunk_size=chunk_size)

    def download_range(
        self,
        destination_path: str,
        start_bytes: int,
        end_bytes: int | None = None,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
    ) -> Deferred[bool]:
        """See :meth:`StorageDriver.download_object_range`."""
        return self.driver.download_object_range(
            self, destination_path, start_bytes, end_bytes, overwrite_existing, delete_on_failure
        )

    def range_as_stream(
        self, start_bytes: int, end_bytes: int | None = None, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]:
        """See :meth:`StorageDriver.download_object_range_as_stream`."""
        return self.driver.download_object_range_as_stream(
            self, start_bytes, end_bytes, chunk_size=chunk_size
        )

    def delete(self) -> Deferred[bool]:
        """See :meth:`StorageDriver.delete_object`."""
        return self.driver.delete_object(self)


def check_prefix(prefix: object) -> None:
    """
    Refuse a listing's *prefix* before any request.

    :raises InvalidArgumentError: unless it is a string or ``None``.
    """
    if prefix is not None and not isinstance(prefix, str):
        raise InvalidArgumentError(f"prefix must be a string, not {type(prefix).__name__}")


def check_page_size(ex_page_size: int | None, maximum: int) -> int:
    """
    The page size a listing asks for: *ex_page_size*, or *maximum* when ``None``.

    :raises InvalidArgumentError: unless it is an integer from 1 to *maximum*.
    """
    page_size = maximum if ex_page_size is None else ex_page_size
    # bool is an int subclass, but True is no page size.
    if (
        not isinstance(page_size, int)
        or isinstance(page_size, bool)
        or not 1 <= page_size <= maximum
    ):
        raise InvalidArgumentError(f"ex_page_size must be 1 to {maximum}, not {ex_page_size!r}")
    return page_size


def name_error(
    error: TxCloudError, container_name: str | None, object_name: str | None
) -> TxCloudError:
    """
    *error*, naming the container and object it is about when it is a
    :class:`~txcloud.errors.ContainerError` or an :class:`~txcloud.errors.ObjectError`.
    """
    if isinstance(error, ContainerError):
        error.container_name = container_name
    if isinstance(error, ObjectError):
        error.object_name = object_name
    return error


def refuse_unexpected_arguments(driver: Any, unexpected: Mapping[str, Any]) -> None:
    """
    Refuse keyword arguments a driver's method does not know.

    :param unexpected: the method's leftover ``**kwargs``.
    :raises InvalidArgumentError: naming them, when there are any.
    """
    if unexpected:
        name = getattr(driver, "name", type(driver).__name__)
        raise InvalidArgumentError(
            f"Unexpected arguments for {name}: {', '.join(sorted(unexpected))}", driver
        )


class StorageDriver(BaseDriver):
    """
    Base class of storage drivers.

    A driver implements the primitives (``iterate_containers``,
    ``get_container``, ``create_container``, ``delete_container``,
    ``iterate_container_objects``, ``get_object``, ``upload_object``,
    ``upload_object_via_stream``, ``download_object_range_as_stream``,
    ``delete_object``); this class builds the rest on them.
    """

    #: Whether ``Object.hash`` is the MD5 hex digest of the content, so
    #: downloads can be checked against it.
    hash_is_md5: bool = False

    # Containers

    def iterate_containers(self) -> AsyncIterator[Container]:
        """Yield every container, fetching pages lazily."""
        raise NotImplementedError(f"{self.name} cannot list containers")

    def list_containers(self) -> Deferred[list[Container]]:
        """List every container; fires with a list of :class:`Container`."""
        return collect(self.iterate_containers())

    def get_container(self, container_name: str) -> Deferred[Container]:
        """Fetch one container; fails with ``ContainerDoesNotExistError``."""
        raise NotImplementedError(f"{self.name} cannot get containers")

    def create_container(self, container_name: str) -> Deferred[Container]:
        """Create a container; fails with ``ContainerAlreadyExistsError``."""
        raise NotImplementedError(f"{self.name} cannot create containers")

    def delete_container(self, container: Container) -> Deferred[bool]:
        """Delete an empty container; fails with ``ContainerIsNotEmptyError``."""
        raise NotImplementedError(f"{self.name} cannot delete containers")

    # Objects

    def iterate_container_objects(
        self, container: Container, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """Yield the objects of *container* whose names start with *prefix*."""
        raise NotImplementedError(f"{self.name} cannot list objects")

    def list_container_objects(
        self, container: Container, prefix: str | None = None
    ) -> Deferred[list[Object]]:
        """List the objects of *container*; fires with a list of :class:`Object`."""
        return collect(self.iterate_container_objects(container, prefix=prefix))

    def get_object(self, container_name: str, object_name: str) -> Deferred[Object]:
        """Fetch one object's metadata; fails with ``ObjectDoesNotExistError``."""
        raise NotImplementedError(f"{self.name} cannot get objects")

    def upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        verify_hash: bool = True,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the file at *file_path* as *object_name* in *container*.

        :param extra: ``{"meta_data": {...}, "content_type": "..."}``.
        :param verify_hash: check the provider's checksum against the data.
        :param ex_progress: optional callable given the bytes sent so far.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        raise NotImplementedError(f"{self.name} cannot upload objects")

    def upload_object_via_stream(
        self,
        iterator: Iterable[bytes] | AsyncIterator[bytes],
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the chunks of *iterator* (sync or async) without knowing their size.

        If the iterator raises, nothing is left behind and the Deferred fails
        with its exception.
        """
        raise NotImplementedError(f"{self.name} cannot upload streams")

    def download_object(
        self,
        obj: Object,
        destination_path: str,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
        **kwargs: Any,
    ) -> Deferred[bool]:
        """
        Download *obj* to *destination_path*, atomically.

        The data goes to a temporary file beside the destination and is
        renamed into place only when complete (and, where the provider's hash
        is an MD5, verified), so a failure never leaves a partial file.  A
        *destination_path* ending with a path separator names a folder to
        save the object in under its name, as in Libcloud.

        :param overwrite_existing: replace an existing file instead of failing.
        :param delete_on_failure: kept for Libcloud compatibility; partial
            data is always removed.
        :param ex_progress: optional callable given the bytes received so far.
        :returns: a Deferred firing with ``True``.
        """
        return download_to_file(
            self,
            obj,
            destination_path,
            overwrite_existing=overwrite_existing,
            progress=kwargs.get("ex_progress"),
        )

    def download_object_range(
        self,
        obj: Object,
        destination_path: str,
        start_bytes: int,
        end_bytes: int | None = None,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
        **kwargs: Any,
    ) -> Deferred[bool]:
        """
        Download bytes ``[start_bytes, end_bytes)`` of *obj* to a file, atomically.

        A bad range fails the Deferred with ``InvalidArgumentError`` before
        any request; *ex_progress* is as for :meth:`download_object`.
        """
        return download_to_file(
            self,
            obj,
            destination_path,
            overwrite_existing=overwrite_existing,
            byte_range=(start_bytes, end_bytes),
            progress=kwargs.get("ex_progress"),
        )

    def download_object_as_stream(
        self, obj: Object, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]:
        """Yield the content of *obj* chunk by chunk, never all of it at once."""
        return self.download_object_range_as_stream(obj, 0, None, chunk_size=chunk_size)

    def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield bytes ``[start_bytes, end_bytes)`` of *obj* chunk by chunk."""
        raise NotImplementedError(f"{self.name} cannot download objects")

    def delete_object(self, obj: Object) -> Deferred[bool]:
        """Delete *obj*; fires with ``True``, fails with ``ObjectDoesNotExistError``."""
        raise NotImplementedError(f"{self.name} cannot delete objects")
