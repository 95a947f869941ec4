"""
The embedded storage driver: containers are folders under a base folder,
objects are files in them (``/`` in an object name makes sub-folders).

It follows Libcloud's ``LocalStorageDriver`` with these differences:
``Object.hash`` is the MD5 hex digest of the content (cached while a file's
size, mtime and inode are unchanged); every write goes to a temporary file
renamed into place, so readers never see a partial object; names that would
leave the base folder (``..``, absolute paths, symbolic links pointing
outside) are refused; and all file work runs in the reactor's thread pool.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import stat as stat_module
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from twisted.internet.defer import Deferred

from txcloud.common.base import DEFAULT_TIMEOUT
from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidObjectNameError,
    ObjectDoesNotExistError,
)
from txcloud.storage.base import (
    Container,
    Object,
    ProgressCallback,
    StorageDriver,
    check_prefix,
    refuse_unexpected_arguments,
)
from txcloud.storage.transfer import files
from txcloud.storage.transfer.files import run_blocking
from txcloud.storage.transfer.ranged import check_range
from txcloud.storage.types import Provider

__all__ = ["LocalStorageDriver"]

#: ``extra["content_type"]`` of objects whose name suggests no type.
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# One object found on disk: its name, its path and its stat.
_Entry = tuple[str, str, os.stat_result]


class LocalStorageDriver(StorageDriver):
    """
    Storage in a local folder, for tests, demos and the ``txcloud`` defaults.

    :param key: the base folder; it must exist.
    :param reactor: the reactor whose thread pool does the file work.
    :raises InvalidArgumentError: if *key* is not a directory.
    """

    name = "Local Storage"
    type = Provider.LOCAL
    hash_is_md5 = True

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(key, secret, secure, host, port, reactor=reactor, timeout=timeout)
        if not os.path.isdir(key):
            raise InvalidArgumentError(f"The base path is not a directory: {key}", self)
        self.base_path = key
        self._disk = _Disk(os.path.realpath(key), self)
        self._digests = _DigestCache()

    # Containers

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """Yield every container (each folder under the base folder), sorted by name."""
        for name, stat in await run_blocking(self.reactor, self._disk.list_containers):
            yield self._container(name, stat)

    def get_container(self, container_name: str) -> Deferred[Container]:
        """
        Fetch one container.

        :returns: a Deferred firing with the :class:`Container`; it fails with
            ``ContainerDoesNotExistError`` or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._get_container(container_name))

    async def _get_container(self, container_name: str) -> Container:
        self._check_container_name(container_name)
        stat = await run_blocking(self.reactor, self._disk.stat_container, container_name)
        return self._container(container_name, stat)

    def create_container(self, container_name: str) -> Deferred[Container]:
        """
        Create a container (a folder under the base folder).

        :returns: a Deferred firing with the new :class:`Container`; it fails
            with ``ContainerAlreadyExistsError`` or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._create_container(container_name))

    async def _create_container(self, container_name: str) -> Container:
        self._check_container_name(container_name)
        stat = await run_blocking(self.reactor, self._disk.create_container, container_name)
        return self._container(container_name, stat)

    def delete_container(self, container: Container) -> Deferred[bool]:
        """
        Delete a container that holds no object (empty sub-folders go with it).

        :returns: a Deferred firing with ``True``; it fails with
            ``ContainerIsNotEmptyError`` or ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_container(container))

    async def _delete_container(self, container: Container) -> bool:
        self._check_container_name(container.name)
        path = await run_blocking(self.reactor, self._disk.delete_container, container.name)
        self._digests.forget_under(path)
        return True

    # Objects

    async def iterate_container_objects(
        self, container: Container, prefix: str | None = None
    ) -> AsyncIterator[Object]:
        """
        Yield the objects of *container* whose names start with *prefix*, sorted by name.

        Names use ``/`` between sub-folders.  Files are hashed lazily, one at a
        time, and only when they changed since they were last hashed.
        """
        self._check_container_name(container.name)
        check_prefix(prefix)
        entries = await run_blocking(self.reactor, self._disk.list_objects, container.name, prefix)
        for name, path, stat in entries:
            try:
                obj = await self._object(container, name, path, stat)
            except FileNotFoundError:
                # Deleted since the folder was listed.
                continue
            yield obj

    def get_object(self, container_name: str, object_name: str) -> Deferred[Object]:
        """
        Fetch one object's metadata (hashing its content if it changed).

        :returns: a Deferred firing with the :class:`Object`; it fails with
            ``ObjectDoesNotExistError``, ``ContainerDoesNotExistError``,
            ``InvalidObjectNameError`` or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._get_object(container_name, object_name))

    async def _get_object(self, container_name: str, object_name: str) -> Object:
        self._check_container_name(container_name)
        parts = self._object_parts(object_name)
        container_stat, path, stat = await run_blocking(
            self.reactor, self._disk.stat_object, container_name, parts
        )
        container = self._container(container_name, container_stat)
        try:
            return await self._object(container, object_name, path, stat)
        except FileNotFoundError:
            raise self._no_such_object(object_name) from None

    def upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        verify_hash: bool = True,
        *,
        ex_progress: ProgressCallback | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Copy the file at *file_path* into *container* as *object_name*, atomically.

        :param extra: accepted for compatibility; local files keep no metadata.
        :param verify_hash: accepted for compatibility: the hash is computed
            from the very bytes written, so there is nothing else to compare.
        :param ex_progress: called with the number of bytes copied so far.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        return Deferred.fromCoroutine(
            self._store(
                container,
                object_name,
                lambda: files.read_file_chunks(self.reactor, file_path),
                ex_progress,
                kwargs,
            )
        )

    def upload_object_via_stream(
        self,
        iterator: Iterable[bytes] | AsyncIterator[bytes],
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        *,
        ex_progress: ProgressCallback | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Store the chunks of *iterator* (sync or async) as *object_name*, atomically.

        If the iterator raises, no object and no temporary file remain and the
        Deferred fails with the iterator's exception.

        :param extra: accepted for compatibility; local files keep no metadata.
        :param ex_progress: called with the number of bytes stored so far.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        return Deferred.fromCoroutine(
            self._store(
                container,
                object_name,
                lambda: files.as_chunk_stream(iterator),
                ex_progress,
                kwargs,
            )
        )

    async def _store(
        self,
        container: Container,
        object_name: str,
        open_chunks: Callable[[], AsyncIterable[bytes]],
        progress: ProgressCallback | None,
        unexpected: dict[str, Any],
    ) -> Object:
        refuse_unexpected_arguments(self, unexpected)
        self._check_container_name(container.name)
        parts = self._object_parts(object_name)
        chunks = open_chunks()
        path = await run_blocking(self.reactor, self._disk.prepare_object, container.name, parts)
        try:
            stat, md5 = await files.write_atomically(
                self.reactor, chunks, path, overwrite_existing=True, progress=progress
            )
        except Exception:
            await run_blocking(self.reactor, self._disk.remove_empty_folders, container.name, parts)
            raise
        self._digests.put(path, stat, md5)
        return self._make_object(container, object_name, stat, md5)

    async def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """
        Yield bytes ``[start_bytes, end_bytes)`` of *obj*, at most *chunk_size* at a time.

        :raises InvalidArgumentError: if the range is empty or goes past the
            end of the object.
        """
        check_range(start_bytes, end_bytes)
        size = files.chunk_size_or_default(chunk_size)
        self._check_container_name(obj.container.name)
        parts = self._object_parts(obj.name)
        _, path, stat = await run_blocking(
            self.reactor, self._disk.stat_object, obj.container.name, parts
        )
        if start_bytes > stat.st_size or (end_bytes is not None and end_bytes > stat.st_size):
            raise InvalidArgumentError(
                f"Range [{start_bytes}, {end_bytes}) goes past the end of {obj.name!r} "
                f"({stat.st_size} bytes)",
                self,
            )
        chunks = files.read_file_chunks(self.reactor, path, start_bytes, end_bytes, size)
        try:
            async with files.closing_iterator(chunks) as stream:
                async for chunk in stream:
                    yield chunk
        except FileNotFoundError:
            raise self._no_such_object(obj.name) from None

    def delete_object(self, obj: Object) -> Deferred[bool]:
        """
        Delete *obj*, then the sub-folders its removal left empty.

        :returns: a Deferred firing with ``True``; it fails with
            ``ObjectDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_object(obj))

    async def _delete_object(self, obj: Object) -> bool:
        self._check_container_name(obj.container.name)
        parts = self._object_parts(obj.name)
        path = await run_blocking(self.reactor, self._disk.delete_object, obj.container.name, parts)
        self._digests.forget(path)
        return True

    # Names and models

    def _check_container_name(self, container_name: str) -> None:
        if (
            not isinstance(container_name, str)
            or container_name in ("", ".", "..")
            or any(character in container_name for character in "/\\\0")
        ):
            raise InvalidContainerNameError(
                f"Invalid container name {container_name!r}: it must be one folder name "
                "without '/', '\\' or NUL, and not '.' or '..'",
                self,
                container_name=str(container_name),
            )

    def _object_parts(self, object_name: str) -> list[str]:
        """The folder names and file name of *object_name*, refused if it could escape."""
        parts = object_name.split("/") if isinstance(object_name, str) else [""]
        # Windows separators ("\\") would split a part into folders there.
        separators = [s for s in (os.sep, os.altsep) if s and s != "/"]
        if any(
            part in ("", ".", "..") or "\0" in part or any(s in part for s in separators)
            for part in parts
        ) or files.is_temporary_name(parts[-1]):
            raise InvalidObjectNameError(
                f"Invalid object name {object_name!r}: it must be a relative path of "
                "non-empty parts separated by '/', without '.', '..' or NUL",
                self,
                object_name=str(object_name),
            )
        return parts

    def _no_such_object(self, object_name: str) -> ObjectDoesNotExistError:
        return ObjectDoesNotExistError(
            f"Object {object_name!r} does not exist", self, object_name=object_name
        )

    def _container(self, name: str, stat: os.stat_result) -> Container:
        return Container(name=name, extra=_times(stat), driver=self)

    async def _object(
        self, container: Container, name: str, path: str, stat: os.stat_result
    ) -> Object:
        cached = self._digests.get(path, stat)
        if cached is not None:
            return self._make_object(container, name, stat, cached)
        # The stat taken while hashing describes the hashed content.
        stat, md5 = await run_blocking(self.reactor, files.stat_and_md5, path)
        self._digests.put(path, stat, md5)
        return self._make_object(container, name, stat, md5)

    def _make_object(
        self, container: Container, name: str, stat: os.stat_result, md5: str
    ) -> Object:
        extra = _times(stat)
        extra["content_type"] = mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE
        return Object(
            name=name,
            size=stat.st_size,
            hash=md5,
            extra=extra,
            meta_data={},
            container=container,
            driver=self,
        )


def _times(stat: os.stat_result) -> dict[str, Any]:
    # Libcloud's keys and values (seconds since the epoch, as floats).
    return {
        "creation_time": stat.st_ctime,
        "access_time": stat.st_atime,
        "modify_time": stat.st_mtime,
    }


class _DigestCache:
    """MD5 digests of files, reused while a file's size, mtime and inode are unchanged."""

    def __init__(self) -> None:
        # One entry per path, so a changed file replaces its stale digest.
        self._entries: dict[str, tuple[tuple[int, int, int], str]] = {}

    @staticmethod
    def _signature(stat: os.stat_result) -> tuple[int, int, int]:
        return (stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def get(self, path: str, stat: os.stat_result) -> str | None:
        entry = self._entries.get(path)
        if entry is None or entry[0] != self._signature(stat):
            return None
        return entry[1]

    def put(self, path: str, stat: os.stat_result, md5: str) -> None:
        self._entries[path] = (self._signature(stat), md5)

    def forget(self, path: str) -> None:
        self._entries.pop(path, None)

    def forget_under(self, folder: str) -> None:
        inside = folder + os.sep
        for path in [path for path in self._entries if path.startswith(inside)]:
            del self._entries[path]


class _Disk:
    """
    The blocking file-system side of :class:`LocalStorageDriver`.

    Every method runs in a thread; names reach it already checked.

    :param root: the real path of the base folder.
    :param driver: named in the errors raised.
    """

    def __init__(self, root: str, driver: LocalStorageDriver) -> None:
        self._root = root
        self._driver = driver

    def _inside_root(self, path: str) -> bool:
        # realpath resolves the symbolic links of the parts that exist.
        real = os.path.realpath(path)
        return os.path.commonpath([real, self._root]) == self._root

    def _container_path(self, container_name: str) -> str:
        path = os.path.join(self._root, container_name)
        if not self._inside_root(path):
            raise InvalidContainerNameError(
                f"Container {container_name!r} is a link leaving the base folder",
                self._driver,
                container_name=container_name,
            )
        return path

    def _object_path(self, container_name: str, parts: list[str]) -> str:
        path = os.path.join(self._container_path(container_name), *parts)
        if not self._inside_root(path):
            raise InvalidObjectNameError(
                f"Object {'/'.join(parts)!r} leads through a link leaving the base folder",
                self._driver,
                object_name="/".join(parts),
            )
        return path

    def list_containers(self) -> list[tuple[str, os.stat_result]]:
        found = []
        with os.scandir(self._root) as entries:
            for entry in entries:
                if entry.is_dir() and self._inside_root(entry.path):
                    stat = _stat_or_none(entry.path)
                    if stat is not None:
                        found.append((entry.name, stat))
        return sorted(found, key=lambda item: item[0])

    def stat_container(self, container_name: str) -> os.stat_result:
        path = self._container_path(container_name)
        stat = _stat_or_none(path)
        if stat is None or not stat_module.S_ISDIR(stat.st_mode):
            raise ContainerDoesNotExistError(
                f"Container {container_name!r} does not exist",
                self._driver,
                container_name=container_name,
            )
        return stat

    def create_container(self, container_name: str) -> os.stat_result:
        path = self._container_path(container_name)
        try:
            os.mkdir(path)
        except FileExistsError:
            raise ContainerAlreadyExistsError(
                f"Container {container_name!r} already exists",
                self._driver,
                container_name=container_name,
            ) from None
        return os.stat(path)

    def delete_container(self, container_name: str) -> str:
        self.stat_container(container_name)
        path = os.path.join(self._root, container_name)
        if next(self._files_under(path, ""), None) is not None:
            raise ContainerIsNotEmptyError(
                f"Container {container_name!r} is not empty",
                self._driver,
                container_name=container_name,
            )
        shutil.rmtree(path)
        return path

    def list_objects(self, container_name: str, prefix: str | None) -> list[_Entry]:
        self.stat_container(container_name)
        # Only the folder named by the prefix's complete parts can hold matches.
        folders = prefix.split("/")[:-1] if prefix else []
        if any(part in ("", ".", "..") for part in folders):
            return []
        start = os.path.join(self._container_path(container_name), *folders)
        name_prefix = "".join(f"{part}/" for part in folders)
        found = [
            entry
            for entry in self._files_under(start, name_prefix)
            if prefix is None or entry[0].startswith(prefix)
        ]
        return sorted(found, key=lambda entry: entry[0])

    def _files_under(self, folder: str, name_prefix: str) -> Iterator[_Entry]:
        try:
            with os.scandir(folder) as scanned:
                entries = list(scanned)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            name = name_prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from self._files_under(entry.path, f"{name}/")
            elif files.is_temporary_name(entry.name):
                continue
            elif entry.is_symlink() and not self._inside_root(entry.path):
                continue
            else:
                stat = _stat_or_none(entry.path)
                # Links to folders are not walked, as in Libcloud; fifos and
                # devices are not objects.
                if stat is not None and stat_module.S_ISREG(stat.st_mode):
                    yield name, entry.path, stat

    def stat_object(
        self, container_name: str, parts: list[str]
    ) -> tuple[os.stat_result, str, os.stat_result]:
        container_stat = self.stat_container(container_name)
        path = self._object_path(container_name, parts)
        stat = _stat_or_none(path)
        if stat is None or not stat_module.S_ISREG(stat.st_mode):
            raise self._driver._no_such_object("/".join(parts))
        return container_stat, path, stat

    def prepare_object(self, container_name: str, parts: list[str]) -> str:
        """Make the object's sub-folders; the path is checked first, so none is made outside."""
        self.stat_container(container_name)
        path = self._object_path(container_name, parts)
        name = "/".join(parts)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidObjectNameError(
                f"Object {name!r} needs a folder where an object of that name exists",
                self._driver,
                object_name=name,
            ) from None
        if os.path.isdir(path):
            raise InvalidObjectNameError(
                f"Object {name!r} would replace the folder of other objects",
                self._driver,
                object_name=name,
            )
        return path

    def delete_object(self, container_name: str, parts: list[str]) -> str:
        path = self._object_path(container_name, parts)
        if os.path.isdir(path):
            raise self._driver._no_such_object("/".join(parts))
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            raise self._driver._no_such_object("/".join(parts)) from None
        self.remove_empty_folders(container_name, parts)
        return path

    def remove_empty_folders(self, container_name: str, parts: list[str]) -> None:
        """Remove the object's sub-folders that are empty, deepest first, as Libcloud does."""
        container_path = self._container_path(container_name)
        for depth in range(len(parts) - 1, 0, -1):
            try:
                os.rmdir(os.path.join(container_path, *parts[:depth]))
            except OSError:
                # Not empty (or not ours to remove): the folders above hold it.
                return


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
