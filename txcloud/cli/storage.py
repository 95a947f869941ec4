"""
``txcloud ls`` and ``txcloud cp``: list and copy storage objects.

A remote location is written ``TARGET:CONTAINER/OBJECT``; ``TARGET`` is a
storage target's name (or ``name@region``) and may be left empty
(``:CONTAINER/OBJECT``) for the first storage target.  Anything else is a
local path (write ``./a:b`` for a local file whose name has a colon).
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

import attrs

from txcloud.cli.context import Context
from txcloud.cli.progress import ProgressBar
from txcloud.errors import (
    ContainerDoesNotExistError,
    InvalidArgumentError,
    ObjectDoesNotExistError,
)
from txcloud.storage.transfer import check_destination

__all__ = ["RemotePath", "copy", "list_storage", "parse_remote"]

# A target label never holds "/" or ":", so "dir/a:b" and "/tmp/a:b" stay local.
_REMOTE = re.compile(r"(?P<target>[A-Za-z0-9_.@-]*):(?P<path>.*)\Z", re.DOTALL)


@attrs.frozen
class RemotePath:
    """
    A parsed ``[TARGET:]CONTAINER[/PATH]``.

    :ivar target: the target's name, or ``None`` for the first storage target.
    :ivar container: the container's name; empty when none was given.
    :ivar path: what follows the container's ``/``: an object name or prefix.
    """

    target: str | None
    container: str
    path: str

    def __str__(self) -> str:
        location = f"{self.container}/{self.path}" if self.path else self.container
        return f"{self.target or ''}:{location}"


def parse_remote(argument: str) -> RemotePath | None:
    """
    Read ``TARGET:CONTAINER/PATH``.

    :returns: the remote path, or ``None`` if *argument* has no ``TARGET:``
        part (a local path, to ``cp``).
    """
    match = _REMOTE.match(argument)
    return None if match is None else _remote(match["target"] or None, match["path"])


def _remote(target: str | None, location: str) -> RemotePath:
    container, _, path = location.partition("/")
    return RemotePath(target, container, path)


async def list_storage(context: Context, argument: str | None) -> int:
    """
    Print the containers of a target (``TARGET:`` or nothing), or the objects
    of a container (``[TARGET:]CONTAINER[/PREFIX]``: size, hash, name), as
    they arrive.

    :returns: the exit code, 0.
    """
    remote = parse_remote(argument) if argument else None
    if remote is None:
        remote = _remote(None, argument or "")
    driver = context.driver(context.storage_target(remote.target))
    if not remote.container:
        async for container in driver.iterate_containers():
            context.print(container.name)
        return 0
    container = await driver.get_container(remote.container)
    async for obj in driver.iterate_container_objects(container, prefix=remote.path or None):
        context.print(f"{obj.size:>12}  {obj.hash or '-':<32}  {obj.name}")
    return 0


async def copy(
    context: Context,
    source: str,
    destination: str,
    *,
    overwrite: bool,
    create_container: bool,
    progress: bool,
) -> int:
    """
    Upload a local file to ``TARGET:CONTAINER/OBJECT`` or download one to a local path.

    :param overwrite: replace an existing object or file instead of failing.
    :param create_container: create the upload's container if it is missing.
    :param progress: show a progress bar on stderr.
    :returns: the exit code, 0.
    :raises InvalidArgumentError: for two local or two remote locations, a
        missing source file, or an existing destination without *overwrite*.
    """
    remote_source = parse_remote(source)
    remote_destination = parse_remote(destination)
    if remote_destination is not None and remote_source is None:
        await _upload(context, source, remote_destination, overwrite, create_container, progress)
    elif remote_source is not None and remote_destination is None:
        await _download(context, remote_source, destination, overwrite, progress)
    else:
        raise InvalidArgumentError(
            "cp copies between a local path and TARGET:CONTAINER/OBJECT; "
            f"got {source!r} and {destination!r}"
        )
    return 0


def _progress_bar(
    context: Context, label: str, total: int | None, wanted: bool
) -> ProgressBar | None:
    if not wanted:
        return None
    return ProgressBar(context.stderr, context.reactor, label, total)


async def _container(driver: Any, remote: RemotePath, create: bool) -> Any:
    try:
        return await driver.get_container(remote.container)
    except ContainerDoesNotExistError as e:
        if not create:
            raise ContainerDoesNotExistError(
                f"No container {remote.container!r}; --create-container creates it",
                driver,
                container_name=remote.container,
            ) from e
    return await driver.create_container(remote.container)


async def _upload(
    context: Context,
    file_path: str,
    remote: RemotePath,
    overwrite: bool,
    create_container: bool,
    progress: bool,
) -> None:
    if not remote.container:
        raise InvalidArgumentError(f"{remote} names no container: use TARGET:CONTAINER/OBJECT")
    if not os.path.isfile(file_path):
        raise InvalidArgumentError(f"{file_path!r} is not a file")
    object_name = remote.path
    if not object_name or object_name.endswith("/"):
        object_name += os.path.basename(file_path)
    target = context.storage_target(remote.target)
    driver = context.driver(target)
    container = await _container(driver, remote, create_container)
    if not overwrite:
        try:
            await driver.get_object(container.name, object_name)
        except ObjectDoesNotExistError:
            pass
        else:
            raise InvalidArgumentError(
                f"{target.label}:{container.name}/{object_name} exists; --overwrite replaces it"
            )
    bar = _progress_bar(context, object_name, os.path.getsize(file_path), progress)
    kwargs = {} if bar is None else {"ex_progress": bar.update}
    try:
        await driver.upload_object(file_path, container, object_name, **kwargs)
    finally:
        if bar is not None:
            bar.finish()


async def _download(
    context: Context, remote: RemotePath, destination: str, overwrite: bool, progress: bool
) -> None:
    if not remote.container or not remote.path or remote.path.endswith("/"):
        raise InvalidArgumentError(f"{remote} names no object: use TARGET:CONTAINER/OBJECT")
    if os.path.isdir(destination) or destination.endswith(("/", os.sep)):
        destination = os.path.join(destination, posixpath.basename(remote.path))
    check_destination(destination, overwrite)
    driver = context.driver(context.storage_target(remote.target))
    obj = await driver.get_object(remote.container, remote.path)
    bar = _progress_bar(context, remote.path, obj.size, progress)
    kwargs = {} if bar is None else {"ex_progress": bar.update}
    try:
        await driver.download_object(obj, destination, overwrite_existing=overwrite, **kwargs)
    finally:
        if bar is not None:
            bar.finish()
