"""
Request bodies: :class:`~twisted.web.iweb.IBodyProducer` implementations that
stream bytes, files and (sync or async) iterators with bounded memory, and
:class:`RequestBody`, which turns what a driver passes as a body into a
fresh producer for every attempt.

Producers push chunks until the consumer pauses them, wait for
``resumeProducing``, and stop (closing their file or iterator) on
``stopProducing``; the Deferred returned by ``startProducing`` fires when
everything was written, fails with the source's exception if reading it
failed, and never fires once production was stopped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import IO, Any, Union, cast

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred, fail, succeed
from twisted.python.failure import Failure
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from zope.interface import implementer

from txcloud.errors import InvalidArgumentError

#: Bytes read from a file or buffered per write, unless told otherwise.
DEFAULT_CHUNK_SIZE = 64 * 1024

_Chunk = bytes | bytearray | memoryview

#: What a :class:`~txcloud.http.Request` accepts as its body (see
#: :class:`RequestBody`).  Any ``IBodyProducer`` provider is accepted; only
#: txcloud's are named here, since zope interfaces are not types to mypy.
BodyLike = Union[
    None,
    bytes,
    bytearray,
    memoryview,
    "os.PathLike[str]",
    "_PumpingProducer",
    IO[bytes],
    Iterable[_Chunk],
    AsyncIterable[_Chunk],
    Callable[[], Any],
]

#: An ``IBodyProducer`` provider.
Producer = Any


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise InvalidArgumentError(
        f"a request body iterator must yield bytes, not {type(chunk).__name__}"
    )


@implementer(IBodyProducer)
class _PumpingProducer:
    """
    Writes the chunks of a source to the consumer while it is not paused.

    Subclasses provide :meth:`_next_chunk` (the next chunk, ``None`` at the
    end, or a Deferred of either) and :meth:`_close`.
    """

    length: int | object = UNKNOWN_LENGTH

    def __init__(self) -> None:
        self._paused: Deferred[None] | None = None
        self._waiting: Deferred[Any] | None = None
        self._stopped = False
        self._finished: Deferred[None] | None = None

    def startProducing(self, consumer: Any) -> Deferred[None]:
        if self._finished is not None:
            raise RuntimeError(f"{self!r} can only be started once")
        self._finished = Deferred()
        ensureDeferred(self._pump(consumer)).addErrback(self._pump_failed)
        return self._finished

    async def _pump(self, consumer: Any) -> None:
        try:
            while not self._stopped:
                if self._paused is not None:
                    await self._wait(self._paused)
                    continue
                chunk = self._next_chunk()
                if isinstance(chunk, Deferred):
                    chunk = await self._wait(chunk)
                if chunk is None or self._stopped:
                    break
                consumer.write(_as_bytes(chunk))
        finally:
            self._close()
        if not self._stopped and self._finished is not None:
            self._finished.callback(None)

    async def _wait(self, waiting: Deferred[Any]) -> Any:
        self._waiting = waiting
        try:
            return await waiting
        finally:
            self._waiting = None

    def _pump_failed(self, failure: Failure) -> None:
        # After stopProducing the consumer is gone: the result is dropped.
        if not self._stopped and self._finished is not None:
            self._finished.errback(failure)

    def pauseProducing(self) -> None:
        if self._paused is None:
            self._paused = Deferred()

    def resumeProducing(self) -> None:
        paused, self._paused = self._paused, None
        if paused is not None:
            paused.callback(None)

    def stopProducing(self) -> None:
        self._stopped = True
        if self._waiting is not None:
            self._waiting.cancel()

    def _next_chunk(self) -> _Chunk | Deferred[_Chunk | None] | None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class BytesProducer(_PumpingProducer):
    """
    Produce a bytes string, in chunks of at most *chunk_size*.

    :param data: the body.
    :param chunk_size: the largest write.
    """

    def __init__(self, data: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._offset = 0
        self._chunk_size = chunk_size
        self.length = len(data)

    def startProducing(self, consumer: Any) -> Deferred[None]:
        if self._finished is not None:
            raise RuntimeError(f"{self!r} can only be started once")
        if len(self._view) > self._chunk_size:
            return super().startProducing(consumer)
        # A body that fits in one write (most API calls) is written at once:
        # there is nothing to pause or stop between chunks.
        try:
            if self._view:
                consumer.write(bytes(self._view))
        except Exception:
            self._finished = fail()
        else:
            self._finished = succeed(None)
        finally:
            self._close()
        return self._finished

    def _next_chunk(self) -> _Chunk | None:
        if self._offset >= len(self._view):
            return None
        chunk = self._view[self._offset : self._offset + self._chunk_size]
        self._offset += len(chunk)
        return chunk

    def _close(self) -> None:
        self._view.release()

    def __repr__(self) -> str:
        return f"<BytesProducer length={self.length}>"


class FileProducer(_PumpingProducer):
    """
    Produce a file, or the part of it from *offset* for *length* bytes,
    reading *chunk_size* bytes at a time.

    The file is opened when production starts and closed when it ends, so a
    producer that is never started holds no file handle.

    :param path: the file to send.
    :param offset: where to start reading.
    :param length: how many bytes to send; the rest of the file by default.
    :param chunk_size: bytes read per step.
    :raises InvalidArgumentError: if the file does not exist or is shorter
        than ``offset + length``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__()
        self._path = os.fspath(path)
        try:
            size = os.stat(self._path).st_size
        except OSError as e:
            raise InvalidArgumentError(f"cannot read {self._path!r}: {e.strerror}") from None
        if offset < 0 or offset > size:
            raise InvalidArgumentError(f"offset {offset} is outside {self._path!r} ({size} bytes)")
        if length is None:
            length = size - offset
        if length < 0 or offset + length > size:
            raise InvalidArgumentError(
                f"{self._path!r} has no {length} bytes from offset {offset} ({size} bytes)"
            )
        if chunk_size <= 0:
            raise InvalidArgumentError("chunk_size must be positive")
        self._offset = offset
        self._remaining = length
        self._chunk_size = chunk_size
        self._file: IO[bytes] | None = None
        self.length = length

    def _next_chunk(self) -> _Chunk | None:
        if self._remaining == 0:
            return None
        if self._file is None:
            self._file = open(self._path, "rb")
            self._file.seek(self._offset)
        chunk = self._file.read(min(self._chunk_size, self._remaining))
        if not chunk:
            raise OSError(f"{self._path!r} ended {self._remaining} bytes early")
        self._remaining -= len(chunk)
        return chunk

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __repr__(self) -> str:
        return f"<FileProducer {self._path!r} length={self.length}>"


class IteratorProducer(_PumpingProducer):
    """
    Produce the chunks of a sync or async iterable of bytes.

    Without *length* the body goes out with chunked transfer encoding.  If
    the iterable raises, the request fails with that exception.

    :param chunks: an iterable or async iterable of bytes.
    :param length: the total size, when known in advance.
    """

    def __init__(
        self, chunks: Iterable[_Chunk] | AsyncIterable[_Chunk], *, length: int | None = None
    ) -> None:
        super().__init__()
        self._sync: Iterator[_Chunk] | None = None
        self._async: AsyncIterator[_Chunk] | None = None
        if isinstance(chunks, AsyncIterable):
            self._async = aiter(chunks)
        else:
            self._sync = iter(chunks)
        if length is not None:
            self.length = length

    def _next_chunk(self) -> _Chunk | Deferred[_Chunk | None] | None:
        if self._sync is not None:
            return next(self._sync, None)
        assert self._async is not None
        return ensureDeferred(self._anext(self._async))

    @staticmethod
    async def _anext(chunks: AsyncIterator[_Chunk]) -> _Chunk | None:
        try:
            return await anext(chunks)
        except StopAsyncIteration:
            return None

    def _close(self) -> None:
        close = getattr(self._sync, "close", None)
        if close is not None:
            close()
        aclose = getattr(self._async, "aclose", None)
        if aclose is not None:
            # A cancelled async generator may still be running its cleanup.
            ensureDeferred(aclose()).addErrback(lambda f: f.trap(CancelledError, RuntimeError))

    def __repr__(self) -> str:
        return "<IteratorProducer>"


class RequestBody:
    """
    A request's body, normalised: it makes a new producer for each attempt
    and knows whether it can make more than one.

    Accepted bodies:

    * ``None`` or empty bytes: no body;
    * bytes: replayable;
    * a path (:class:`os.PathLike`): the file, streamed; replayable;
    * a zero-argument callable returning any of the other forms: called once
      per attempt, so it is replayable (``lambda: FileProducer(path)``);
    * an :class:`~twisted.web.iweb.IBodyProducer`, a binary file object, or
      a sync or async iterable of bytes: sent once, so the request is not
      retried.

    Use :meth:`of` to build one; a body never shows its content in ``repr``.
    """

    def __init__(
        self, make: Callable[[], Producer | None] | None, *, replayable: bool, kind: str
    ) -> None:
        self._make = make
        self.replayable = replayable
        self._kind = kind
        self._used = False

    @classmethod
    def of(cls, body: BodyLike | RequestBody) -> RequestBody:
        """
        Normalise *body*.

        :raises InvalidArgumentError: for text (encode it first) or anything
            else that is not one of the accepted bodies.
        """
        if isinstance(body, RequestBody):
            return body
        if body is None:
            return cls(None, replayable=True, kind="empty")
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            return cls(
                (lambda: BytesProducer(data)) if data else None,
                replayable=True,
                kind=f"{len(data)} bytes",
            )
        if isinstance(body, os.PathLike):
            FileProducer(body)  # Refuse a missing file before any request.
            return cls(lambda: FileProducer(body), replayable=True, kind="file")
        if IBodyProducer.providedBy(body):
            return cls(lambda: body, replayable=False, kind="producer")
        read = getattr(body, "read", None)
        if callable(read):
            # A file object is read from its current position, so only once.
            return cls(
                lambda: IteratorProducer(iter(partial(read, DEFAULT_CHUNK_SIZE), b"")),
                replayable=False,
                kind="file object",
            )
        if isinstance(body, (str, Mapping)):
            raise InvalidArgumentError(
                f"a request body cannot be a {type(body).__name__}: encode it to bytes first"
            )
        if isinstance(body, (Iterable, AsyncIterable)):
            # bytes were handled above; mypy cannot narrow them out.
            chunks = cast("Iterable[_Chunk] | AsyncIterable[_Chunk]", body)
            return cls(lambda: IteratorProducer(chunks), replayable=False, kind="iterator")
        if callable(body):
            return cls(lambda: _from_factory(body), replayable=True, kind="factory")
        raise InvalidArgumentError(f"unsupported request body type: {type(body).__name__}")

    def producer(self) -> Producer | None:
        """
        A producer for one attempt, or ``None`` for an empty body.

        :raises InvalidArgumentError: when a body that can be sent only once
            is asked for a second time.
        """
        if not self.replayable and self._used:
            raise InvalidArgumentError(f"this {self._kind} body was already sent")
        self._used = True
        return None if self._make is None else self._make()

    def __repr__(self) -> str:
        return f"<RequestBody {self._kind}>"


def _from_factory(factory: Callable[[], Any]) -> Producer | None:
    made = factory()
    if callable(made) and not IBodyProducer.providedBy(made):
        raise InvalidArgumentError("a body factory must return a body, not another callable")
    return RequestBody.of(made).producer()
