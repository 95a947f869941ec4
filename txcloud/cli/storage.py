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
from collections.abc import Sequence
from typing import Any

import attrs

from txcloud.cli.context import Context
from txcloud.cli.progress import ProgressBar
from txcloud.errors import (
    ContainerDoesNotExistError,
    InvalidArgumentError,
    ObjectDoesNotExistError,
)
from txcloud.storage.copy import CopyProgress, copy_object, copy_prefix
from txcloud.storage.transfer.files import check_destination

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
    destinations: Sequence[str],
    *,
    recursive: bool = False,
    overwrite: bool,
    create_container: bool,
    progress: bool,
) -> int:
    """
    Copy between a local path and ``TARGET:CONTAINER/OBJECT``, or between targets.

    A local file goes to one remote destination; a remote object goes to a
    local path, or (streamed, never touching the disk) to one or more remote
    destinations.  With *recursive*, every object under the remote source's
    prefix goes to each remote destination, several at a time.

    :param overwrite: replace existing objects or files instead of failing.
    :param create_container: create missing destination containers.
    :param progress: show a progress bar on stderr.
    :returns: the exit code: 0, or 1 if some copies of a recursive copy failed.
    :raises InvalidArgumentError: for combinations that make no sense (two
        local paths, several local destinations), a missing source file, or
        an existing destination without *overwrite*.
    """
    remote_source = parse_remote(source)
    remotes = [parse_remote(destination) for destination in destinations]
    remote_destinations = [remote for remote in remotes if remote is not None]
    if remote_source is None:
        if recursive or len(destinations) != 1 or remotes[0] is None:
            raise InvalidArgumentError(
                "cp copies between a local path and TARGET:CONTAINER/OBJECT, or between "
                f"targets; a local file goes to one remote object, not {list(destinations)!r}"
            )
        await _upload(context, source, remotes[0], overwrite, create_container, progress)
        return 0
    if len(remote_destinations) != len(destinations):
        if recursive or len(destinations) != 1:
            raise InvalidArgumentError(
                "an object is downloaded to one local path; copies to several "
                "destinations, or --recursive ones, go between targets"
            )
        await _download(context, remote_source, destinations[0], overwrite, progress)
        return 0
    if recursive:
        return await _copy_tree(
            context, remote_source, remote_destinations, overwrite, create_container, progress
        )
    for remote in remote_destinations:
        await _copy_between(context, remote_source, remote, overwrite, create_container, progress)
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
        await _refuse_existing(driver, container, object_name, target.label)
    bar = _progress_bar(context, object_name, os.path.getsize(file_path), progress)
    kwargs = {} if bar is None else {"ex_progress": bar.update}
    try:
        await driver.upload_object(file_path, container, object_name, **kwargs)
    finally:
        if bar is not None:
            bar.finish()


async def _refuse_existing(driver: Any, container: Any, name: str, label: str) -> None:
    try:
        await driver.get_object(container.name, name)
    except ObjectDoesNotExistError:
        return
    raise InvalidArgumentError(f"{label}:{container.name}/{name} exists; --overwrite replaces it")


async def _copy_between(
    context: Context,
    source: RemotePath,
    destination: RemotePath,
    overwrite: bool,
    create_container: bool,
    progress: bool,
) -> None:
    if not source.container or not source.path or source.path.endswith("/"):
        raise InvalidArgumentError(f"{source} names no object: use TARGET:CONTAINER/OBJECT")
    if not destination.container:
        raise InvalidArgumentError(f"{destination} names no container")
    name = destination.path
    if not name or name.endswith("/"):
        name += posixpath.basename(source.path)
    source_driver = context.driver(context.storage_target(source.target))
    target = context.storage_target(destination.target)
    driver = context.driver(target)
    obj = await source_driver.get_object(source.container, source.path)
    container = await _container(driver, destination, create_container)
    if not overwrite:
        await _refuse_existing(driver, container, name, target.label)
    bar = _progress_bar(context, name, obj.size, progress)
    try:
        await copy_object(obj, container, name, progress=None if bar is None else bar.update)
    finally:
        if bar is not None:
            bar.finish()


async def _copy_tree(
    context: Context,
    source: RemotePath,
    destinations: list[RemotePath],
    overwrite: bool,
    create_container: bool,
    progress: bool,
) -> int:
    if not source.container:
        raise InvalidArgumentError(f"{source} names no container: use TARGET:CONTAINER/PREFIX")
    prefixes = {destination.path for destination in destinations}
    if len(prefixes) != 1:
        raise InvalidArgumentError("every destination of a recursive copy needs the same prefix")
    destination_prefix = prefixes.pop()
    source_driver = context.driver(context.storage_target(source.target))
    source_container = await source_driver.get_container(source.container)
    containers, labels = [], []
    for destination in destinations:
        target = context.storage_target(destination.target)
        containers.append(await _container(context.driver(target), destination, create_container))
        labels.append(f"{target.label}:{destination.container}")
    # One listing of the source, for the progress bar's total and the check
    # that nothing would be replaced (copy_prefix lists again as it copies).
    objects = [
        obj
        async for obj in source_driver.iterate_container_objects(
            source_container, prefix=source.path or None
        )
    ]
    if not overwrite:
        wanted = {destination_prefix + obj.name[len(source.path) :] for obj in objects}
        await _refuse_existing_tree(containers, destination_prefix, wanted)
    total = sum(obj.size for obj in objects) * len(containers)
    bar = _progress_bar(context, str(source), total, progress)
    try:
        outcome = await copy_prefix(
            source_container,
            source.path or None,
            containers,
            destination_prefix=destination_prefix,
            labels=labels,
            concurrency=context.config.defaults.concurrency,
            progress=None if bar is None else CopyProgress(bar.update),
        )
    finally:
        if bar is not None:
            bar.finish()
    for task in outcome.results:
        context.print(f"copied  {task}")
    for task, failure in outcome.failures.items():
        context.stderr.write(f"failed  {task}: {type(failure.value).__name__}: {failure.value}\n")
    return 1 if outcome.failures else 0


async def _refuse_existing_tree(
    destinations: list[Any], destination_prefix: str, wanted: set[str]
) -> None:
    # One listing per container, rather than one request per object.
    for container in destinations:
        existing = container.driver.iterate_container_objects(
            container, prefix=destination_prefix or None
        )
        async for obj in existing:
            if obj.name in wanted:
                raise InvalidArgumentError(
                    f"{container.driver.type}:{container.name}/{obj.name} exists; "
                    "--overwrite replaces it"
                )


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
