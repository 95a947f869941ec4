"""
Downloading an object to a local file, for every provider.

Small objects come with one streaming GET.  Objects of at least
``TransferConfig.download_threshold`` bytes come as parallel ranged GETs
(``range_size`` bytes each, ``download_concurrency`` at once), each written
at its offset of the temporary file.  In both cases memory stays bounded:
each stream queues a few chunks, and writes and hashing run in the reactor's
thread pool, in order per stream, while the reactor goes on receiving.

The data is checked before the file is moved into place, with the algorithm
the driver's :class:`~txcloud.storage.transfer.digest.ExpectedDigest` names
(CRC32 where the provider keeps one: several times cheaper than MD5): the
digest of the whole content is computed as the data streams (for ranges, by
re-reading the file as soon as a contiguous prefix is complete), and the
digests of parts (multipart ETags, composite checksums) as each part streams
(ranges are then cut on part boundaries).  On any failure or cancellation
the temporary file is removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from txcloud.errors import InvalidArgumentError, MalformedResponseError, ObjectHashMismatchError
from txcloud.storage.transfer.config import MiB, TransferConfig
from txcloud.storage.transfer.digest import (
    ExpectedDigest,
    PartHasher,
    hash_file_range,
    new_hash,
)
from txcloud.storage.transfer.fanout import BoundedFanout, SerialLane
from txcloud.storage.transfer.files import (
    AtomicFileWriter,
    closing_iterator,
    destination_file,
    run_blocking,
)

if TYPE_CHECKING:
    from txcloud.storage.base import Object, ProgressCallback, StorageDriver

__all__ = [
    "FETCH_CHUNK_SIZE",
    "RangeFetcher",
    "byte_range",
    "check_range",
    "download_object",
    "download_to_file",
    "plan_ranges",
    "read_range",
]

#: Streams bytes ``[start, end)`` of an object (``end`` ``None``: to its end).
RangeFetcher = Callable[[int, int | None], AsyncIterable[bytes]]

#: Bytes per chunk asked of a driver's stream by default.
FETCH_CHUNK_SIZE = 1 * MiB

# Bytes of a stream written and hashed by one thread-pool call.
_BATCH_SIZE = 1 * MiB

# Batches of one stream queued for writing (and for hashing): enough to keep
# the threads busy while the reactor receives the next ones.
_WRITE_DEPTH = 4

# Bytes of one stream written between two flushes to the disk.
_SYNC_EVERY = 16 * MiB


def check_range(start_bytes: int, end_bytes: int | None) -> None:
    """
    Refuse a byte range before any request is sent.

    Ranges are Libcloud's: *start_bytes* inclusive, *end_bytes* exclusive.

    :raises InvalidArgumentError: if the range is negative or empty.
    """
    if start_bytes < 0:
        raise InvalidArgumentError(f"start_bytes must be >= 0, not {start_bytes}")
    if end_bytes is not None and end_bytes <= start_bytes:
        raise InvalidArgumentError(
            f"end_bytes ({end_bytes}) must be greater than start_bytes ({start_bytes})"
        )


def byte_range(start: int, end: int | None) -> str | None:
    """
    The ``Range`` header value for bytes ``[start, end)``, or ``None`` when
    that is the whole object.
    """
    if start == 0 and end is None:
        return None
    return f"bytes={start}-{'' if end is None else end - 1}"


async def read_range(
    response: Any, start: int, end: int | None, chunk_size: int | None, max_queued: int
) -> AsyncIterator[bytes]:
    """
    Yield bytes ``[start, end)`` of an object from the answer to a ranged GET.

    A server that ignored the range answers 200 with the whole object; the
    range is then cut out here, so callers see the same bytes either way.

    :param response: the :class:`~txcloud.http.Response`, body unread.
    :param chunk_size: bytes per chunk, or ``None`` for chunks as they arrive.
    :param max_queued: bytes queued unread before the connection is paused.
    """
    ignored = byte_range(start, end) is not None and response.status == 200
    skip, remaining = (start, None if end is None else end - start) if ignored else (0, None)
    async with response.iter_body(chunk_size, max_queued=max_queued) as chunks:
        async for chunk in chunks:
            if skip:
                dropped = min(skip, len(chunk))
                chunk, skip = chunk[dropped:], skip - dropped
            if remaining is not None:
                chunk, remaining = chunk[:remaining], remaining - min(remaining, len(chunk))
            if chunk:
                yield chunk
            if remaining == 0:
                return


def plan_ranges(
    start: int, end: int, config: TransferConfig | None, expected: ExpectedDigest | None = None
) -> list[tuple[int, int]] | None:
    """
    Cut bytes ``[start, end)`` into ranged GETs.

    :returns: the ``(start, end)`` ranges, or ``None`` for one streaming GET
        (no *config*, a span under its ``download_threshold``, or one GET at
        a time anyway).
    """
    length = end - start
    if config is None or length < config.download_threshold or config.download_concurrency < 2:
        return None
    size = config.range_size
    if expected is not None and expected.needs_parts and expected.part_size is not None:
        # Whole parts per range: each part's digest is then computed in one stream.
        size = max(1, round(size / expected.part_size)) * expected.part_size
    if size >= length:
        return None
    return [(offset, min(offset + size, end)) for offset in range(start, end, size)]


class _StreamHashes:
    """
    The digests one stream needs: of everything it carries (*whole*) and of
    each part it carries, for a stream starting at *start* in the object.
    """

    def __init__(self, expected: ExpectedDigest, start: int, whole: bool) -> None:
        self._whole = new_hash(expected.algorithm) if whole else None
        self._parts = None
        if expected.needs_parts and expected.part_size is not None:
            self._parts = PartHasher(expected.algorithm, start, expected.part_size)

    def update(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            if self._whole is not None:
                self._whole.update(chunk)
            if self._parts is not None:
                self._parts.update(chunk)

    def results(self) -> tuple[bytes | None, list[bytes]]:
        whole = None if self._whole is None else self._whole.digest()
        return whole, ([] if self._parts is None else self._parts.digests())


#: Digests of the whole span (or ``None``) and of the parts, from one stream.
_Digests = tuple[bytes | None, list[bytes]]


class _ChunkSink:
    """
    Takes the chunks of one stream as they arrive and gathers them into
    batches of about ``_BATCH_SIZE`` bytes (without copying them), each
    written at its offset of the file and, given hashes to compute, hashed
    while the bytes are hot in the cache, by one thread-pool call per
    batch, in order.
    """

    def __init__(
        self, reactor: Any, writer: AtomicFileWriter, offset: int, hashes: _StreamHashes | None
    ) -> None:
        self._writer = writer
        self._offset = offset
        self._hashes = hashes
        self._batch: list[bytes] = []
        self._batched = 0
        self._unsynced = 0
        self._lane = SerialLane(reactor, _WRITE_DEPTH)

    async def put(self, chunk: bytes) -> None:
        """Take *chunk*; waits while the lane is full."""
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= _BATCH_SIZE:
            await self._flush()

    async def _flush(self) -> None:
        batch, offset, size = self._batch, self._offset, self._batched
        self._batch, self._offset, self._batched = [], offset + size, 0
        self._unsynced += size
        # Written back while the download goes on, rather than all at the
        # commit's fsync.
        sync = self._unsynced >= _SYNC_EVERY
        if sync:
            self._unsynced = 0
        await self._lane.submit(self._write_and_hash, offset, batch, sync)

    def _write_and_hash(self, offset: int, batch: list[bytes], sync: bool) -> None:
        # In a worker thread: one hand-over per batch.
        self._writer.write_at(offset, batch)
        if self._hashes is not None:
            self._hashes.update(batch)
        if sync:
            self._writer.sync()

    async def settle(self) -> None:
        """Wait for the queued work to end, whatever its outcome."""
        await self._lane.settle()

    async def finish(self) -> _Digests:
        """
        Write and hash what is left, and wait for the queued work.

        :returns: the digests computed.
        :raises: the first write or hashing failure.
        """
        if self._batch:
            await self._flush()
        await self.settle()
        self._lane.raise_failure()
        return (None, []) if self._hashes is None else self._hashes.results()


class _PrefixHasher:
    """
    The digest of a file written in ranges that finish out of order: whenever
    the written prefix grows, the new bytes are read back and hashed in the
    thread pool (in order), so hashing overlaps the download.
    """

    def __init__(self, reactor: Any, writer: AtomicFileWriter, algorithm: str) -> None:
        self._writer = writer
        self._digest = new_hash(algorithm)
        self._finished: dict[int, int] = {}
        self._prefix = 0
        self._lane = SerialLane(reactor, _WRITE_DEPTH)

    def range_done(self, offset: int, end: int) -> None:
        """Record that file bytes ``[offset, end)`` are written."""
        self._finished[offset] = end
        start = self._prefix
        while self._prefix in self._finished:
            self._prefix = self._finished.pop(self._prefix)
        if self._prefix > start:
            self._lane.queue(self._hash, start, self._prefix)

    def _hash(self, start: int, end: int) -> None:
        path = self._writer.temporary_path
        if path is None:
            raise RuntimeError("the download was abandoned")
        hash_file_range(self._digest, path, start, end - start)

    async def digest(self) -> bytes:
        """The digest of the whole file, once every range is done and hashed."""
        await self._lane.settle()
        self._lane.raise_failure()
        raw: bytes = self._digest.digest()
        return raw


class _Progress:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self.received = 0

    def add(self, count: int) -> None:
        self.received += count
        if self._callback is not None:
            self._callback(self.received)


async def _stream_into(
    fetch: RangeFetcher,
    reactor: Any,
    writer: AtomicFileWriter,
    start: int,
    end: int | None,
    file_offset: int,
    hashes: _StreamHashes | None,
    progress: _Progress,
) -> _Digests:
    out = _ChunkSink(reactor, writer, file_offset, hashes)
    received = 0
    try:
        async with closing_iterator(fetch(start, end)) as chunks:
            async for chunk in chunks:
                if not chunk:
                    continue
                await out.put(chunk)
                received += len(chunk)
                progress.add(len(chunk))
    except Exception:
        # Let the queued writes end before the temporary file is removed.
        await out.settle()
        raise
    digests = await out.finish()
    if end is not None and received != end - start:
        raise MalformedResponseError(
            f"expected {end - start} bytes from offset {start}, received {received}"
        )
    return digests


async def download_object(
    driver: StorageDriver,
    obj: Object,
    destination_path: str,
    *,
    overwrite_existing: bool = False,
    byte_range: tuple[int, int | None] | None = None,
    progress: ProgressCallback | None = None,
    config: TransferConfig | None = None,
    expected: ExpectedDigest | None = None,
    fetch: RangeFetcher | None = None,
) -> bool:
    """
    Download *obj*, or bytes ``[start, end)`` of it, to *destination_path*,
    atomically; see :func:`download_to_file`.
    """
    if byte_range is not None:
        check_range(*byte_range)
    destination_path = destination_file(destination_path, obj.name, overwrite_existing)
    if fetch is None:
        fetch = _driver_fetcher(driver, obj)
    if expected is None and byte_range is None and driver.hash_is_md5 and obj.hash:
        expected = ExpectedDigest.md5(obj.hash)
    expected = None if byte_range is not None or expected is None else expected.for_size(obj.size)
    start, end = byte_range if byte_range is not None else (0, None)
    ranges = plan_ranges(start, obj.size if end is None else end, config, expected)
    writer = AtomicFileWriter(destination_path, overwrite_existing)
    received = _Progress(progress)
    reactor = driver.reactor
    try:
        await run_blocking(reactor, writer.open)
        if ranges is None:
            hashes = None if expected is None else _StreamHashes(expected, 0, expected.needs_whole)
            whole, parts = await _stream_into(
                fetch, reactor, writer, start, end, 0, hashes, received
            )
        else:
            whole, parts = await _download_ranges(
                fetch, reactor, writer, ranges, config, expected, received
            )
        if expected is not None and not expected.matches(whole, parts):
            raise ObjectHashMismatchError(
                f"the downloaded data does not match the object's {expected.algorithm} "
                f"checksum ({expected.label})",
                driver,
                object_name=obj.name,
            )
        await run_blocking(reactor, writer.commit)
    except Exception:
        await run_blocking(reactor, writer.abort)
        raise
    return True


async def _download_ranges(
    fetch: RangeFetcher,
    reactor: Any,
    writer: AtomicFileWriter,
    ranges: list[tuple[int, int]],
    config: TransferConfig | None,
    expected: ExpectedDigest | None,
    progress: _Progress,
) -> _Digests:
    assert config is not None
    base = ranges[0][0]
    whole = None
    if expected is not None and expected.needs_whole:
        whole = _PrefixHasher(reactor, writer, expected.algorithm)

    async def one(start: int, end: int) -> _Digests:
        hashes = None
        if expected is not None and expected.needs_parts:
            hashes = _StreamHashes(expected, start, whole=False)
        offset = start - base
        digests = await _stream_into(fetch, reactor, writer, start, end, offset, hashes, progress)
        if whole is not None:
            whole.range_done(start - base, end - base)
        return digests

    fanout: BoundedFanout[_Digests] = BoundedFanout(config.download_concurrency)
    try:
        for key, (start, end) in enumerate(ranges):
            await fanout.reserve()
            fanout.start(key, one(start, end))
        per_range = await fanout.results()
        whole_digest = None if whole is None else await whole.digest()
    except Exception:
        await fanout.cancel()
        raise
    return whole_digest, [digest for _, digests in per_range for digest in digests]


def _driver_fetcher(driver: StorageDriver, obj: Object) -> RangeFetcher:
    def fetch(start: int, end: int | None) -> AsyncIterable[bytes]:
        if start == 0 and end is None:
            return driver.download_object_as_stream(obj, chunk_size=FETCH_CHUNK_SIZE)
        return driver.download_object_range_as_stream(obj, start, end, chunk_size=FETCH_CHUNK_SIZE)

    return fetch


def download_to_file(
    driver: StorageDriver,
    obj: Object,
    destination_path: str,
    overwrite_existing: bool = False,
    byte_range: tuple[int, int | None] | None = None,
    progress: ProgressCallback | None = None,
    *,
    config: TransferConfig | None = None,
    expected: ExpectedDigest | None = None,
    fetch: RangeFetcher | None = None,
) -> Deferred[bool]:
    """
    Download *obj* (or bytes ``[start, end)`` of it) to a file, atomically.

    The data is checked against *expected* before the file is moved into
    place; by default, when the whole object is downloaded from a driver
    whose ``hash_is_md5`` is true, against ``obj.hash``.  See
    :mod:`txcloud.storage.transfer.ranged` for how large objects are fetched
    in parallel ranges.

    :param byte_range: ``(start_bytes, end_bytes)``, Libcloud's semantics;
        ``None`` downloads the whole object.
    :param progress: called with the number of bytes received so far.
    :param config: when given, objects above its ``download_threshold`` are
        fetched in parallel ranges; otherwise with one streaming GET.
    :param expected: what the whole object must hash to.
    :param fetch: how to stream a range of the object; by default the
        driver's ``download_object_range_as_stream``.
    :returns: a Deferred firing with ``True``; it fails with
        ``InvalidArgumentError`` (before any request) if the destination
        exists and *overwrite_existing* is false, and with
        ``ObjectHashMismatchError`` if the content does not match.
    """
    return Deferred.fromCoroutine(
        download_object(
            driver,
            obj,
            destination_path,
            overwrite_existing=overwrite_existing,
            byte_range=byte_range,
            progress=progress,
            config=config,
            expected=expected,
            fetch=fetch,
        )
    )
