"""
Downloads to files for the HTTP storage drivers (S3, Azure Blobs, Google
Cloud Storage), written once: each driver says how to check an object's
name, what its content must hash to, and how to fetch a range pinned to the
version being downloaded; :class:`TransferDownloads` does the rest with the
shared engine (parallel ranges or one streaming GET, atomic files,
verification, progress).  Uploads likewise: a driver says where an upload's
data goes, and :class:`TransferUploads` sends a file or a stream there.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from txcloud.storage.base import (
    Container,
    Object,
    ProgressCallback,
    refuse_unexpected_arguments,
)
from txcloud.storage.transfer import files
from txcloud.storage.transfer.config import MiB, TransferConfig
from txcloud.storage.transfer.digest import ExpectedDigest
from txcloud.storage.transfer.multipart import MultipartTarget, upload_file, upload_stream
from txcloud.storage.transfer.ranged import (
    RangeFetcher,
    byte_range,
    check_range,
    download_to_file,
    read_range,
)

__all__ = ["STREAM_QUEUE_BYTES", "TransferDownloads", "TransferUploads"]

#: Bytes of a download queued unread before its connection is paused.
STREAM_QUEUE_BYTES = 2 * MiB


class TransferDownloads:
    """
    ``download_object``, ``download_object_range`` and
    ``download_object_range_as_stream`` for HTTP storage drivers.

    Subclasses (listed before :class:`~txcloud.storage.base.StorageDriver`)
    set :attr:`transfer_config` and give :meth:`_check_object_names`,
    :meth:`_expected_digest`, :meth:`_version_pin` and :meth:`_get_object_bytes`.
    """

    #: Part, range and concurrency settings; per-call ``ex_*`` arguments adjust it.
    transfer_config: TransferConfig

    def _transfer_config_for(
        self, unexpected: Mapping[str, Any], **overrides: Any
    ) -> TransferConfig:
        """The driver's settings with this call's overrides; refuses unknown arguments."""
        refuse_unexpected_arguments(self, unexpected)
        return self.transfer_config.with_overrides(**overrides)

    def _check_object_names(self, obj: Object) -> None:
        """Refuse *obj*'s container or object name before any request."""
        raise NotImplementedError

    async def _expected_digest(self, obj: Object) -> ExpectedDigest | None:
        """What *obj*'s content must hash to, or ``None`` when nothing can be checked."""
        raise NotImplementedError

    def _version_pin(self, obj: Object) -> str | None:
        """What pins a GET to this version of *obj* (an ETag, a generation), if anything."""
        raise NotImplementedError

    async def _get_object_bytes(self, obj: Object, wanted: str | None, pin: str | None) -> Any:
        """
        Send one GET of *obj*'s content, as stored (no content decoding).

        :param wanted: the ``Range`` value (see
            :func:`~txcloud.storage.transfer.ranged.byte_range`), or ``None``
            for the whole object.
        :param pin: what :meth:`_version_pin` gave, or ``None``.
        :returns: the :class:`~txcloud.http.Response`, body unread.
        """
        raise NotImplementedError

    async def _stream(
        self,
        obj: Object,
        start: int,
        end: int | None,
        chunk_size: int | None,
        pin: str | None,
    ) -> AsyncIterator[bytes]:
        # One GET of bytes [start, end); chunks of chunk_size, or as they arrive.
        response = await self._get_object_bytes(obj, byte_range(start, end), pin)
        async with files.closing_iterator(
            read_range(response, start, end, chunk_size, STREAM_QUEUE_BYTES)
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    def _pinned_fetcher(self, obj: Object) -> RangeFetcher:
        pin = self._version_pin(obj)

        def fetch(start: int, end: int | None) -> AsyncIterator[bytes]:
            # Chunks as they arrive: the engine batches them without copies.
            return self._stream(obj, start, end, None, pin)

        return fetch

    async def download_object_range_as_stream(
        self,
        obj: Object,
        start_bytes: int,
        end_bytes: int | None = None,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """
        Yield bytes ``[start_bytes, end_bytes)`` of *obj*, ``chunk_size`` at
        a time (1 MiB by default), exactly as stored (no content decoding).
        """
        check_range(start_bytes, end_bytes)
        size = files.chunk_size_or_default(chunk_size)
        self._check_object_names(obj)
        async with files.closing_iterator(
            self._stream(obj, start_bytes, end_bytes, size, None)
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    def download_object(
        self,
        obj: Object,
        destination_path: str,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
        *,
        ex_progress: ProgressCallback | None = None,
        ex_verify_hash: bool = True,
        ex_download_threshold: int | None = None,
        ex_range_size: int | None = None,
        ex_download_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[bool]:
        """
        Download *obj* to *destination_path*, atomically.

        Objects of at least the download threshold come in parallel ranged
        GETs written at their offsets, smaller ones in one streaming GET;
        every GET is pinned to the version being downloaded, so a concurrent
        overwrite fails the download instead of mixing versions.  The data
        is checked against the checksum the provider keeps (see the driver's
        ``_expected_digest``) before the file appears.

        A *destination_path* ending with a path separator names a folder to
        save the object in under its name, as in Libcloud (see
        :func:`~txcloud.storage.transfer.files.destination_file`).

        :param ex_progress: called with the bytes received so far.
        :param ex_verify_hash: ``False`` skips the check.
        :param ex_download_threshold: overrides the driver's, for this call.
        :param ex_range_size: overrides the driver's, for this call.
        :param ex_download_concurrency: overrides the driver's, for this call.
        :returns: a Deferred firing with ``True``; it fails with
            ``ObjectHashMismatchError`` on a mismatch.  No partial file is
            ever left.
        """
        config = self._transfer_config_for(
            kwargs,
            download_threshold=ex_download_threshold,
            range_size=ex_range_size,
            download_concurrency=ex_download_concurrency,
        )
        return Deferred.fromCoroutine(
            self._download(
                obj, destination_path, overwrite_existing, None, ex_progress, ex_verify_hash, config
            )
        )

    def download_object_range(
        self,
        obj: Object,
        destination_path: str,
        start_bytes: int,
        end_bytes: int | None = None,
        overwrite_existing: bool = False,
        delete_on_failure: bool = True,
        *,
        ex_progress: ProgressCallback | None = None,
        ex_download_threshold: int | None = None,
        ex_range_size: int | None = None,
        ex_download_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[bool]:
        """
        Download bytes ``[start_bytes, end_bytes)`` of *obj* to a file,
        atomically (in parallel ranges when the span is large enough).
        """
        config = self._transfer_config_for(
            kwargs,
            download_threshold=ex_download_threshold,
            range_size=ex_range_size,
            download_concurrency=ex_download_concurrency,
        )
        span = (start_bytes, end_bytes)
        return Deferred.fromCoroutine(
            self._download(
                obj, destination_path, overwrite_existing, span, ex_progress, False, config
            )
        )

    async def _download(
        self,
        obj: Object,
        destination_path: str,
        overwrite_existing: bool,
        byte_range: tuple[int, int | None] | None,
        progress: ProgressCallback | None,
        verify: bool,
        config: TransferConfig,
    ) -> bool:
        if byte_range is not None:
            check_range(*byte_range)
        destination_path = files.destination_file(destination_path, obj.name, overwrite_existing)
        self._check_object_names(obj)
        expected = await self._expected_digest(obj) if verify else None
        # The engine checks an MD5 ``hash`` by itself: without verification, none.
        target = obj if verify else attrs.evolve(obj, hash=None)
        result: bool = await download_to_file(
            self,  # type: ignore[arg-type]  # a StorageDriver, through the subclass
            target,
            destination_path,
            overwrite_existing,
            byte_range,
            progress,
            config=config,
            expected=expected,
            fetch=self._pinned_fetcher(obj),
        )
        return result


@attrs.frozen
class UploadArguments:
    """What an ``upload_object`` or ``upload_object_via_stream`` call asked for."""

    container: Container
    object_name: str
    extra: dict[str, Any] | None
    verify_hash: bool
    progress: ProgressCallback | None


class TransferUploads:
    """
    The sending side of ``upload_object`` and ``upload_object_via_stream``
    for HTTP storage drivers.

    Subclasses (listed before :class:`~txcloud.storage.base.StorageDriver`)
    give :meth:`_upload_target`, and may give :meth:`_stream_chunks`; their
    public methods compute the call's
    :class:`~txcloud.storage.transfer.config.TransferConfig` and hand over to
    :meth:`_upload_file` or :meth:`_upload_stream`.
    """

    reactor: Any

    def _upload_target(
        self, upload: UploadArguments, file_path: str | None, config: TransferConfig, **options: Any
    ) -> tuple[MultipartTarget, TransferConfig]:
        """
        Refuse bad names and options, then say where an upload's data goes.

        :param file_path: the file uploaded, or ``None`` for a stream.
        :param config: this call's transfer settings.
        :param options: the driver's own per-call options.
        :returns: the target and the settings to send with (the driver may
            adjust them to the target).
        """
        raise NotImplementedError

    def _stream_chunks(
        self, target: MultipartTarget, chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """What the engine reads of a stream uploaded to *target*: its chunks, by default."""
        return chunks

    def _upload_file(
        self, file_path: str, upload: UploadArguments, config: TransferConfig, **options: Any
    ) -> Deferred[Object]:
        async def send() -> Object:
            target, settings = self._upload_target(upload, file_path, config, **options)
            return await upload_file(self.reactor, target, file_path, settings, upload.progress)

        return Deferred.fromCoroutine(send())

    def _upload_stream(
        self,
        iterator: Iterable[bytes] | AsyncIterable[bytes],
        upload: UploadArguments,
        config: TransferConfig,
        **options: Any,
    ) -> Deferred[Object]:
        async def send() -> Object:
            target, settings = self._upload_target(upload, None, config, **options)
            chunks = self._stream_chunks(target, files.as_chunk_stream(iterator))
            return await upload_stream(self.reactor, target, chunks, settings, upload.progress)

        return Deferred.fromCoroutine(send())
