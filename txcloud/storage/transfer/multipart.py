"""
Uploading files and streams, in parts when they are large, for every provider.

The engine decides how data is cut, reads and hashes it off the reactor
thread, runs parts in parallel and cleans up; a provider supplies the few
requests it needs through a :class:`MultipartTarget` (S3: PutObject,
CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload; Azure: Put Blob, Put Block, Put Block List; GCS:
single upload, part objects, compose).

* A file below ``TransferConfig.multipart_threshold`` goes in one request
  with its CRC32 (and, for a provider that needs it, up to
  :data:`PREHASH_LIMIT`, its MD5; beyond, the MD5 is computed while the file
  is sent); a larger one in parts of ``part_size`` bytes,
  ``max_concurrency`` at once, each part streamed from the file by a fresh
  :class:`~txcloud.http.FileProducer` per attempt (so the transport can
  retry it) with the checksums its provider asks for
  (:attr:`MultipartTarget.part_checksums`) computed beforehand in the
  thread pool, in one pass over the part.
* A stream of unknown size is read into part buffers as it comes; one that
  ends within the first part goes in one request.  At most
  ``max_concurrency`` parts are held in memory, counting the one filling.
* Any failure or cancellation cancels the parts in flight, waits for them to
  stop, and then aborts the upload, so no part is left stored; the
  original error is raised.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from txcloud.errors import InvalidArgumentError
from txcloud.http import FileProducer
from txcloud.storage.transfer.config import TransferConfig
from txcloud.storage.transfer.digest import (
    CRC32,
    MD5,
    PartDigests,
    crc32_of_file_range,
    digests_of,
    digests_of_file_range,
    new_md5,
)
from txcloud.storage.transfer.fanout import BoundedFanout
from txcloud.storage.transfer.files import closing_iterator, run_blocking

if TYPE_CHECKING:
    from txcloud.storage.base import Object, ProgressCallback

__all__ = [
    "PREHASH_LIMIT",
    "HashedFileBody",
    "MD5Later",
    "MultipartTarget",
    "PartBody",
    "UploadedPart",
    "part_size_for",
    "upload_file",
    "upload_stream",
]

log = Logger()

#: A body the transport can send more than once: bytes, or a callable
#: making a fresh producer for each attempt.
PartBody = bytes | Callable[[], Any]

#: Fires with the MD5 digest of the bytes a request sent, once it is done.
MD5Later = Callable[[], Awaitable[bytes]]

#: Files up to this size have their MD5 computed before their single request,
#: so it goes with it (``Content-MD5``) and the provider checks it; larger
#: ones are hashed while they are sent and checked against the result.
PREHASH_LIMIT = 8 * 1024 * 1024


@attrs.frozen
class UploadedPart:
    """
    One stored part, as the provider needs it to assemble the object.

    :ivar number: the part's position, from 1.
    :ivar token: what the provider returned for it (an S3 ETag, an Azure
        block id...).
    :ivar digests: the checksums of the part's bytes.
    :ivar size: the part's length.
    """

    number: int
    token: str
    digests: PartDigests
    size: int

    @property
    def md5(self) -> bytes | None:
        """The MD5 digest of the part's bytes, when the provider needed it."""
        return self.digests.md5


class MultipartTarget(Protocol):
    """
    A provider's side of one upload, bound to its container, object name and
    options.  Each method sends one request (or a few) and raises typed
    errors; the digests given are what the method may send along
    (``Content-MD5``, CRC32 checksums) and check the provider's answer with.

    """

    #: The smallest part the provider accepts, except for the last one.
    min_part_size: int
    #: The largest part.
    max_part_size: int
    #: The most parts one upload may have.
    max_parts: int
    #: Whether the provider needs the MD5 of what is sent in one request (to
    #: send it, or to check its answer).
    needs_md5: bool
    #: The checksums computed for each part, in the thread pool before it is
    #: sent (:data:`~txcloud.storage.transfer.digest.MD5`,
    #: :data:`~txcloud.storage.transfer.digest.CRC32`,
    #: :data:`~txcloud.storage.transfer.digest.CRC32C`); possibly none.
    part_checksums: frozenset[str]

    def put_whole(
        self, body: PartBody, size: int, md5: bytes | MD5Later | None, crc32: int | None
    ) -> Awaitable[Object]:
        """
        Store the whole object with one request.

        *md5* is the digest, or, for a body hashed while it is sent, a
        callable to await it with once the request is done, or ``None``
        when :attr:`needs_md5` is false; *crc32* is known beforehand, or
        ``None`` for a target that does not need MD5s and whose
        :attr:`part_checksums` leave CRC32 out.
        """

    def start(self) -> Awaitable[str]:
        """Begin a multipart upload; returns its id."""

    def upload_part(
        self, upload_id: str, number: int, body: PartBody, size: int, digests: PartDigests
    ) -> Awaitable[str]:
        """Store one part; returns its token."""

    def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Awaitable[Object]:
        """Assemble the parts into the object (and check the result)."""

    def abort(self, upload_id: str) -> Awaitable[None]:
        """Discard the upload and every part stored for it."""


async def _part_digests(
    reactor: Any, checksums: frozenset[str], compute: Callable[..., PartDigests], *args: Any
) -> PartDigests:
    """*compute* (``*args``, *checksums*) in the thread pool; nothing at all for no checksums."""
    if not checksums:
        return PartDigests(None, None)
    return await run_blocking(reactor, compute, *args, checksums)


def part_size_for(size: int, config: TransferConfig, target: MultipartTarget) -> int:
    """
    The part size for *size* bytes: the configured one, raised to the
    provider's minimum and as far as needed to fit its part count.

    :raises InvalidArgumentError: if the object cannot fit the provider's
        limits.
    """
    part_size = max(config.part_size, target.min_part_size, math.ceil(size / target.max_parts))
    if part_size > target.max_part_size:
        raise InvalidArgumentError(
            f"{size} bytes do not fit in {target.max_parts} parts of at most "
            f"{target.max_part_size} bytes"
        )
    return part_size


class _Sent:
    """Bytes acknowledged by the provider, reported to a progress callback."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._total = 0

    def add(self, count: int) -> None:
        self._total += count
        if self._callback is not None:
            self._callback(self._total)


async def upload_file(
    reactor: Any,
    target: MultipartTarget,
    path: str,
    config: TransferConfig,
    progress: ProgressCallback | None = None,
) -> Object:
    """
    Upload the file at *path*: in one request below the multipart threshold,
    in parallel parts above it.

    :param progress: called with the bytes stored so far (per part).
    :returns: the stored object.
    :raises InvalidArgumentError: if the file cannot be read (before any
        request) or is too large for the provider.
    """
    try:
        size = (await run_blocking(reactor, os.stat, path)).st_size
    except OSError as e:
        raise InvalidArgumentError(f"cannot read {path!r}: {e.strerror}") from None
    sent = _Sent(progress)
    md5 = target.needs_md5
    checksums = target.part_checksums
    if size < config.multipart_threshold:
        if not md5:
            crc32 = None
            if CRC32 in checksums:
                crc32 = await run_blocking(reactor, crc32_of_file_range, path, 0, size)
            obj = await target.put_whole(_file_body(path, 0, size), size, None, crc32)
        elif size <= PREHASH_LIMIT:
            digests = await run_blocking(reactor, digests_of_file_range, path, 0, size)
            assert digests.crc32 is not None
            obj = await target.put_whole(
                _file_body(path, 0, size), size, digests.md5, digests.crc32
            )
        else:
            # MD5 costs several times what CRC32 does: only CRC32 gets a
            # pass over the file of its own.
            crc32 = await run_blocking(reactor, crc32_of_file_range, path, 0, size)
            body = HashedFileBody(reactor, path, 0, size)
            obj = await target.put_whole(body, size, body.md5, crc32)
        sent.add(size)
        return obj
    part_size = part_size_for(size, config, target)

    async def one(number: int, offset: int, length: int) -> UploadedPart:
        digests = await _part_digests(
            reactor, checksums, digests_of_file_range, path, offset, length
        )
        body = _file_body(path, offset, length)
        token = await target.upload_part(upload_id, number, body, length, digests)
        sent.add(length)
        return UploadedPart(number, token, digests, length)

    upload_id = await target.start()
    fanout: BoundedFanout[UploadedPart] = BoundedFanout(config.max_concurrency)
    try:
        for number, offset in enumerate(range(0, size, part_size), start=1):
            await fanout.reserve()
            fanout.start(number, one(number, offset, min(part_size, size - offset)))
        parts = await fanout.results()
        return await target.complete(upload_id, parts)
    except Exception:
        await fanout.cancel()
        await _abort(target, upload_id)
        raise


async def upload_stream(
    reactor: Any,
    target: MultipartTarget,
    chunks: AsyncIterable[bytes],
    config: TransferConfig,
    progress: ProgressCallback | None = None,
) -> Object:
    """
    Upload the bytes of *chunks* without knowing their total size.

    If the source raises, the parts in flight are cancelled, the upload is
    aborted and the source's exception is raised.

    :param progress: called with the bytes stored so far (per part).
    :returns: the stored object.
    """
    part_size = max(config.part_size, target.min_part_size)
    if part_size > target.max_part_size:
        raise InvalidArgumentError(f"part_size must be at most {target.max_part_size} bytes")
    sent = _Sent(progress)
    checksums = target.part_checksums
    async with closing_iterator(chunks) as stream:
        reader = _PartReader(stream, part_size)
        first, ended = await reader.next_part()
        if ended:
            whole = frozenset({CRC32, MD5} if target.needs_md5 else checksums & {CRC32})
            digests = await _part_digests(reactor, whole, digests_of, first)
            obj = await target.put_whole(first, len(first), digests.md5, digests.crc32)
            sent.add(len(first))
            return obj

        async def one(number: int, data: bytes) -> UploadedPart:
            digests = await _part_digests(reactor, checksums, digests_of, data)
            token = await target.upload_part(upload_id, number, data, len(data), digests)
            sent.add(len(data))
            return UploadedPart(number, token, digests, len(data))

        upload_id = await target.start()
        fanout: BoundedFanout[UploadedPart] = BoundedFanout(config.max_concurrency)
        try:
            # The first part holds a slot like every other buffered part.
            await fanout.reserve()
            number, data, first = 1, first, b""
            while True:
                fanout.start(number, one(number, data))
                if ended:
                    break
                await fanout.reserve()
                # Not empty: the reader read past the previous part.
                data, ended = await reader.next_part()
                number += 1
                if number > target.max_parts:
                    raise InvalidArgumentError(
                        f"the stream needs more than {target.max_parts} parts of "
                        f"{part_size} bytes: upload it with a larger part size"
                    )
            parts = await fanout.results()
            return await target.complete(upload_id, parts)
        except Exception:
            await fanout.cancel()
            await _abort(target, upload_id)
            raise


class _PartReader:
    """Cuts a stream of chunks into parts of *part_size* bytes (the last may be shorter)."""

    def __init__(self, stream: AsyncIterator[bytes], part_size: int) -> None:
        self._stream = stream
        self._part_size = part_size
        self._pending: list[bytes] = []
        self._buffered = 0
        self._exhausted = False

    async def next_part(self) -> tuple[bytes, bool]:
        """
        The next part, and whether the stream ended with it.

        One byte more than a part is read ahead, so a stream whose size is a
        multiple of the part size still ends with a full last part.
        """
        while self._buffered <= self._part_size and not self._exhausted:
            try:
                chunk = await anext(self._stream)
            except StopAsyncIteration:
                self._exhausted = True
                break
            if chunk:
                self._pending.append(chunk)
                self._buffered += len(chunk)
        part = self._cut()
        return part, self._exhausted and not self._pending

    def _cut(self) -> bytes:
        """
        The first *part_size* bytes of the pending chunks, copied once: only
        the chunk that straddles the boundary is split, so a part never
        exists twice while it is being made.
        """
        rest = b""
        excess = self._buffered - self._part_size
        if excess > 0:
            straddling = self._pending.pop()
            kept = len(straddling) - excess
            rest = straddling[kept:]
            if kept:
                self._pending.append(straddling[:kept])
        part = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = [rest] if rest else []
        self._buffered = len(rest)
        return part


@implementer(IBodyProducer)
class _HashingProducer:
    """
    Produces what *inner* produces and hashes it on the way, in the thread
    pool and in order.  While more than ``_HASH_BACKLOG`` chunks wait to be
    hashed, *inner* is paused, so memory stays bounded.
    """

    def __init__(self, reactor: Any, inner: Any) -> None:
        self.length = inner.length
        self._reactor = reactor
        self._inner = inner
        self._consumer: Any = None
        self._digest = new_md5()
        self._tail: Deferred[None] = succeed(None)
        self._backlog = 0
        self._paused_by_consumer = False
        self._paused_by_hashing = False
        self._failure: Failure | None = None

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self._consumer = consumer
        result: Deferred[None] = self._inner.startProducing(self)
        return result

    # The consumer side, for *inner*.

    def write(self, data: bytes) -> None:
        self._consumer.write(data)
        self._backlog += 1
        self._tail.addCallback(self._hash, data).addBoth(self._hashed)
        if self._backlog >= _HASH_BACKLOG and not self._paused_by_hashing:
            self._paused_by_hashing = True
            self._inner.pauseProducing()

    def _hash(self, _: None, data: bytes) -> Deferred[None]:
        return run_blocking(self._reactor, self._digest.update, data)

    def _hashed(self, result: Failure | None) -> None:
        self._backlog -= 1
        if isinstance(result, Failure) and self._failure is None:
            self._failure = result
        if self._paused_by_hashing and self._backlog <= _HASH_BACKLOG // 2:
            self._paused_by_hashing = False
            if not self._paused_by_consumer:
                self._inner.resumeProducing()

    # The producer side, for the consumer.

    def pauseProducing(self) -> None:
        self._paused_by_consumer = True
        self._inner.pauseProducing()

    def resumeProducing(self) -> None:
        self._paused_by_consumer = False
        if not self._paused_by_hashing:
            self._inner.resumeProducing()

    def stopProducing(self) -> None:
        self._inner.stopProducing()

    async def md5(self) -> bytes:
        """The digest of everything produced, once it is all hashed."""
        done: Deferred[None] = Deferred()
        self._tail.addCallback(lambda _: done.callback(None))
        await done
        if self._failure is not None:
            self._failure.raiseException()
        raw: bytes = self._digest.digest()
        return raw


# Chunks produced but not yet hashed before production pauses.
_HASH_BACKLOG = 8


class HashedFileBody:
    """
    A replayable body of bytes ``[offset, offset + length)`` of a file that
    is hashed as it is sent: call it for each attempt's producer, then await
    :meth:`md5` for the digest of what the last attempt sent.
    """

    def __init__(self, reactor: Any, path: str, offset: int, length: int) -> None:
        self._reactor = reactor
        self._path = path
        self._offset = offset
        self._length = length
        self._last: _HashingProducer | None = None

    def __call__(self) -> _HashingProducer:
        inner = FileProducer(
            self._path, offset=self._offset, length=self._length, chunk_size=_FILE_CHUNK
        )
        self._last = _HashingProducer(self._reactor, inner)
        return self._last

    async def md5(self) -> bytes:
        """The MD5 digest of the bytes the last attempt sent."""
        if self._last is None:
            raise RuntimeError("the body was never sent")
        return await self._last.md5()


def _file_body(path: str, offset: int, length: int) -> PartBody:
    if length == 0:
        return b""
    return lambda: FileProducer(path, offset=offset, length=length, chunk_size=_FILE_CHUNK)


# Bytes a FileProducer reads per step: fewer, larger writes to the socket.
# Above the connection's pause mark (txcloud.http's SOCKET_READ_SIZE), so
# each chunk is sent as it was read, without being joined to the next.
_FILE_CHUNK = 256 * 1024


async def _abort(target: MultipartTarget, upload_id: str) -> None:
    try:
        await target.abort(upload_id)
    except Exception as e:
        # The error that made us abort matters more; this one is logged.
        log.warn(
            "Could not abort multipart upload {upload_id}: {error}",
            upload_id=upload_id,
            error=str(e),
        )
