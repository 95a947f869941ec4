"""
Copy objects between storage containers of any providers, streaming.

The bytes go from the source's ``download_object_as_stream`` straight into
the destination's ``upload_object_via_stream``: nothing is written to disk
and memory stays bounded by the transport's back-pressure and the
destination's upload buffers.  :func:`copy_prefix` copies every object under
a prefix to several destinations at once, with :mod:`txcloud.multi`'s
concurrency limit, per-copy timeout and failure isolation::

    outcome = await copy_prefix(
        s3_bucket, "reports/2026/", [azure_container, gcs_bucket], concurrency=8
    )
    for task, failure in outcome.failures.items():
        print(task, failure.value)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from txcloud.errors import InvalidArgumentError
from txcloud.multi import DEFAULT_CONCURRENCY, FanOutResult, fan_out
from txcloud.storage.base import Container, Object

__all__ = ["CopyProgress", "CopyTask", "copy_object", "copy_prefix"]


@attrs.frozen
class CopyTask:
    """
    One copy of :func:`copy_prefix`: an object to one destination.

    :ivar source: the object's name in the source container.
    :ivar destination: the destination's label (``"PROVIDER:CONTAINER"``
        unless the caller named it).
    :ivar name: the object's name in the destination container.
    """

    source: str
    destination: str
    name: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.destination}/{self.name}"


class CopyProgress:
    """
    Adds up the bytes of many copies for one progress callback.

    :param report: called with the bytes copied so far, in all.
    """

    def __init__(self, report: Callable[[int], None]) -> None:
        self._report = report
        self._done: dict[object, int] = {}

    def callback_for(self, key: object) -> Callable[[int], None]:
        """The ``progress`` callback of one copy."""

        def update(done: int) -> None:
            self._done[key] = done
            self._report(sum(self._done.values()))

        return update


async def _counted(
    chunks: AsyncIterator[bytes], progress: Callable[[int], None] | None
) -> AsyncIterator[bytes]:
    done = 0
    async for chunk in chunks:
        done += len(chunk)
        if progress is not None:
            progress(done)
        yield chunk


def _upload_extra(obj: Object) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if obj.meta_data:
        extra["meta_data"] = dict(obj.meta_data)
    content_type = obj.extra.get("content_type")
    if content_type:
        extra["content_type"] = content_type
    return extra


def _label(container: Container) -> str:
    return f"{container.driver.type}:{container.name}"


def copy_object(
    source: Object,
    destination: Container,
    name: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    upload_options: Mapping[str, Any] | None = None,
) -> Deferred[Object]:
    """
    Stream *source* into *destination*, keeping its metadata and content type.

    Memory stays bounded by what the destination buffers for a stream upload
    (for S3-style stores: its part size times the parts in flight).

    :param name: the new object's name; the source's by default.
    :param progress: called with the bytes copied so far.
    :param upload_options: more keyword arguments of the destination's
        ``upload_object_via_stream`` (``ex_part_size``, ``ex_max_concurrency``).
    :returns: a Deferred firing with the new :class:`~txcloud.storage.base.Object`.
    """
    chunks = _counted(source.driver.download_object_as_stream(source), progress)
    return destination.driver.upload_object_via_stream(
        chunks,
        destination,
        name or source.name,
        extra=_upload_extra(source),
        **dict(upload_options or {}),
    )


def copy_prefix(
    source: Container,
    prefix: str | None,
    destinations: Sequence[Container],
    *,
    destination_prefix: str = "",
    labels: Sequence[str] | None = None,
    upload_options: Mapping[str, Any] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float | None = None,
    progress: CopyProgress | None = None,
    reactor: Any = None,
) -> Deferred[FanOutResult[CopyTask, Object]]:
    """
    Copy every object of *source* under *prefix* to each of *destinations*.

    Names keep what follows *prefix*, under *destination_prefix*.  The copies
    run at most *concurrency* at once, each within *timeout* seconds; one
    failing copy never stops the others.

    :param labels: what to call each destination in the result's tasks;
        ``"PROVIDER:CONTAINER"`` by default (give labels when two
        destinations would share one, such as two accounts' buckets of the
        same name).
    :param upload_options: passed to each copy's :func:`copy_object`; with
        *concurrency*, they bound the memory a copy of many large objects
        takes.
    :returns: a Deferred firing with a :class:`~txcloud.multi.FanOutResult`
        keyed by :class:`CopyTask`: the new objects and the failures.
    :raises InvalidArgumentError: for no destinations, a destination that is
        the source itself, or labels that are missing, extra or repeated.
    """
    if not destinations:
        raise InvalidArgumentError("copy_prefix needs at least one destination")
    for destination in destinations:
        if destination == source and not destination_prefix:
            raise InvalidArgumentError(f"cannot copy {_label(source)} onto itself")
    names = list(labels) if labels is not None else [_label(d) for d in destinations]
    if len(names) != len(destinations) or len(set(names)) != len(names):
        raise InvalidArgumentError(
            f"each destination needs its own label, got {names!r}: pass labels="
        )
    return Deferred.fromCoroutine(
        _copy_prefix(
            source,
            prefix,
            dict(zip(names, destinations, strict=True)),
            destination_prefix,
            upload_options,
            concurrency,
            timeout,
            progress,
            reactor,
        )
    )


async def _copy_prefix(
    source: Container,
    prefix: str | None,
    destinations: dict[str, Container],
    destination_prefix: str,
    upload_options: Mapping[str, Any] | None,
    concurrency: int,
    timeout: float | None,
    progress: CopyProgress | None,
    reactor: Any,
) -> FanOutResult[CopyTask, Object]:
    plan: dict[CopyTask, tuple[Object, Container]] = {}
    async for obj in source.driver.iterate_container_objects(source, prefix=prefix):
        name = destination_prefix + obj.name[len(prefix or "") :]
        for label, destination in destinations.items():
            plan[CopyTask(obj.name, label, name)] = (obj, destination)

    def copy(task: CopyTask) -> Deferred[Object]:
        obj, destination = plan[task]
        report = None if progress is None else progress.callback_for(task)
        return copy_object(
            obj, destination, task.name, progress=report, upload_options=upload_options
        )

    return await fan_out(
        copy,
        list(plan),
        concurrency=concurrency,
        timeout=timeout,
        reactor=reactor if reactor is not None else source.driver.reactor,
    )
