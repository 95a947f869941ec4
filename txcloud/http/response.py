"""
A response whose status and headers have arrived and whose body is read on
demand: whole (:meth:`Response.content`, ``json``, ``xml``) or chunk by
chunk (:meth:`Response.iter_body`) with backpressure.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from lxml import etree
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import UNKNOWN_LENGTH

from txcloud.errors import InvalidArgumentError, MalformedResponseError, RequestTimeoutError
from txcloud.http.errors import connection_error
from txcloud.http.headers import HeaderMap
from txcloud.http.redact import redact_url
from txcloud.http.request import Request
from txcloud.http.xml import parse_xml

#: Bytes a streamed body queues before the connection is paused.
DEFAULT_MAX_QUEUED = 256 * 1024


class _BodyReceiver(Protocol):
    """
    Queues the chunks of a response body until they are read, pausing the
    connection while more than *max_queued* bytes wait and resuming it once
    the reader has drained the queue to half that.

    While it waits for the server (not while paused), the connection is
    aborted with :class:`~txcloud.errors.RequestTimeoutError` after
    *idle_timeout* seconds without data.
    """

    # The response's transport: an IPushProducer for its connection.
    transport: Any

    def __init__(
        self,
        request: Request,
        driver: str | None,
        clock: Any,
        idle_timeout: float | None,
        max_queued: int,
    ) -> None:
        self._request = request
        self._driver = driver
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._max_queued = max_queued
        self._chunks: deque[bytes] = deque()
        self._queued = 0
        self._paused = False
        self._done = False
        self._error: BaseException | None = None
        self._waiter: Deferred[None] | None = None
        self._idle: Any = None

    @property
    def done(self) -> bool:
        """Whether the body ended, failed or was abandoned."""
        return self._done

    def connectionMade(self) -> None:
        self._arm_idle()

    def dataReceived(self, data: bytes) -> None:
        if self._done:
            return
        self._chunks.append(data)
        self._queued += len(data)
        if self._queued > self._max_queued:
            # Pause even if already paused: the Response resumes the
            # transport after handing over the data it buffered.
            self._paused = True
            self._disarm_idle()
            self.transport.pauseProducing()
        else:
            self._arm_idle()
        self._wake()

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self._disarm_idle()
        if not self._done:
            self._done = True
            # PotentialDataLoss: a body delimited by closing the connection.
            if not reason.check(ResponseDone, PotentialDataLoss):
                assert reason.value is not None
                self._error = connection_error(reason.value, self._request, self._driver)
        self._wake()

    async def read(self) -> bytes | None:
        """The next chunk, or ``None`` at the end of the body."""
        while not self._chunks:
            if self._done:
                if self._error is not None:
                    raise self._error
                return None
            self._waiter = Deferred(lambda _: self.abort(CancelledError()))
            await self._waiter
        chunk = self._chunks.popleft()
        self._queued -= len(chunk)
        if self._paused and self._queued <= self._max_queued // 2:
            self._paused = False
            self._arm_idle()
            self.transport.resumeProducing()
        return chunk

    def abort(self, error: BaseException | None) -> None:
        """
        Stop receiving and close the connection, unless the body already
        ended; later reads raise *error*, or end if it is ``None``.
        """
        if self._done:
            return
        self._done = True
        self._error = error
        self._chunks.clear()
        self._disarm_idle()
        # Closing the response's transport closes the connection: a half-read
        # connection cannot go back to the pool.
        self.transport.stopProducing()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.callback(None)

    def _arm_idle(self) -> None:
        if self._idle_timeout is None or self._done or self._paused:
            return
        if self._idle is not None and self._idle.active():
            self._idle.reset(self._idle_timeout)
        else:
            self._idle = self._clock.callLater(self._idle_timeout, self._idle_expired)

    def _disarm_idle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _idle_expired(self) -> None:
        self._idle = None
        self.abort(
            RequestTimeoutError(
                f"no data for {self._idle_timeout:g}s while reading the body of "
                f"{self._request.method} {redact_url(self._request.full_url)}",
                self._driver,
            )
        )


class BodyStream:
    """
    The chunks of a response body, as an async iterator (``async for chunk
    in response.iter_body()``) with backpressure: the connection is paused
    while the reader falls behind.

    Leaving the iteration early does not close the connection by itself: use
    ``async with response.iter_body() as chunks`` or call :meth:`aclose`.
    Cancelling a read (the Deferred of the coroutine awaiting it) closes the
    connection too.
    """

    def __init__(self, receiver: _BodyReceiver, chunk_size: int | None) -> None:
        self._receiver = receiver
        self._chunk_size = chunk_size
        self._parts: list[bytes] = []
        self._buffered = 0

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        if self._chunk_size is None:
            chunk = await self._receiver.read()
            if chunk is None:
                raise StopAsyncIteration
            return chunk
        while self._buffered < self._chunk_size:
            chunk = await self._receiver.read()
            if chunk is None:
                break
            self._parts.append(chunk)
            self._buffered += len(chunk)
        if not self._buffered:
            raise StopAsyncIteration
        data = b"".join(self._parts)
        chunk, rest = data[: self._chunk_size], data[self._chunk_size :]
        self._parts = [rest] if rest else []
        self._buffered = len(rest)
        return chunk

    async def aclose(self) -> None:
        """Stop reading; closes the connection if the body has not ended."""
        self._receiver.abort(None)

    async def __aenter__(self) -> BodyStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise MalformedResponseError(f"malformed JSON in {what}: {e}") from None


class Response:
    """
    A response to a :class:`~txcloud.http.Request`, its body not read yet.

    The body can be read once: whole, with :meth:`content` (which keeps it,
    so :meth:`json` and :meth:`xml` may follow), or streamed with
    :meth:`iter_body`.  Until it is read the connection stays busy, so a
    caller that does not want the body calls :meth:`close`.

    :ivar status: the HTTP status.
    :ivar reason: the status phrase.
    :ivar headers: the response headers (case-insensitive).
    :ivar request: the request as sent (signed); its ``repr`` is redacted.
    """

    def __init__(
        self,
        raw: Any,
        request: Request,
        *,
        clock: Any,
        timeout: float | None,
        driver: str | None = None,
    ) -> None:
        self.status: int = raw.code
        self.reason: str = raw.phrase.decode("latin-1")
        self.headers = HeaderMap.from_twisted(raw.headers)
        self.request = request
        self._raw = raw
        self._clock = clock
        self._timeout = timeout
        self._driver = driver
        self._receiver: _BodyReceiver | None = None
        self._content: bytes | None = None

    @property
    def length(self) -> int | None:
        """The body's length, when the server announced it."""
        length = self._raw.length
        return None if length is UNKNOWN_LENGTH else int(length)

    def _receive(self, max_queued: int = DEFAULT_MAX_QUEUED) -> _BodyReceiver:
        if self._receiver is not None:
            raise RuntimeError(f"the body of {self!r} is already read or being read")
        self._receiver = _BodyReceiver(
            self.request, self._driver, self._clock, self._timeout, max_queued
        )
        self._raw.deliverBody(self._receiver)
        return self._receiver

    def iter_body(
        self, chunk_size: int | None = None, *, max_queued: int = DEFAULT_MAX_QUEUED
    ) -> BodyStream:
        """
        Stream the body.

        :param chunk_size: yield chunks of exactly this many bytes (the last
            one may be shorter); by default, chunks as they arrive.
        :param max_queued: bytes received but not yet read before the
            connection is paused.
        :returns: an async iterator of bytes; a read fails with
            :class:`~txcloud.errors.NetworkError` if the connection is lost
            and :class:`~txcloud.errors.RequestTimeoutError` if the server
            stalls for the timeout.
        :raises InvalidArgumentError: for a size that is not positive.
        :raises RuntimeError: if the body is already read or being read.
        """
        for name, value in (("chunk_size", chunk_size), ("max_queued", max_queued)):
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise InvalidArgumentError(f"{name} must be a positive integer, not {value!r}")
        return BodyStream(self._receive(max_queued), chunk_size)

    def content(self) -> Deferred[bytes]:
        """
        Read the whole body.

        :returns: a Deferred firing with the bytes; a second call fires with
            the same bytes.
        """
        if self._content is not None:
            return succeed(self._content)
        return Deferred.fromCoroutine(self._read_all())

    async def _read_all(self) -> bytes:
        self._content = b"".join([chunk async for chunk in self.iter_body()])
        return self._content

    def json(self) -> Deferred[Any]:
        """
        Read the body as JSON.

        :returns: a Deferred firing with the decoded document, or failing
            with :class:`~txcloud.errors.MalformedResponseError`.
        """
        return self.content().addCallback(_parse_json, self._describe())

    def json_object(self, not_an_object: str) -> Deferred[dict[str, Any]]:
        """
        Read the body as a JSON object, as most JSON APIs answer.

        :param not_an_object: the error's message for any other document.
        :returns: a Deferred firing with the object (a dict), or failing with
            :class:`~txcloud.errors.MalformedResponseError`.
        """
        return self.json().addCallback(self._object, not_an_object)

    def _object(self, document: Any, not_an_object: str) -> dict[str, Any]:
        if not isinstance(document, dict):
            raise MalformedResponseError(not_an_object, self._driver)
        return document

    def xml(self) -> Deferred[etree._Element]:
        """
        Read the body as XML with :func:`~txcloud.http.xml.parse_xml`.

        :returns: a Deferred firing with the root element, or failing with
            :class:`~txcloud.errors.MalformedResponseError`.
        """
        return self.content().addCallback(parse_xml)

    async def read_at_most(self, limit: int) -> bytes:
        """
        Read the first *limit* bytes of the body and close the connection if
        more follow (used to keep error bodies small).
        """
        receiver = self._receive()
        parts: list[bytes] = []
        size = 0
        while size < limit:
            chunk = await receiver.read()
            if chunk is None:
                break
            parts.append(chunk)
            size += len(chunk)
        receiver.abort(None)
        return b"".join(parts)[:limit]

    def close(self) -> None:
        """
        Give up on the body: close the connection unless it was all read.  A
        read in progress fails with
        :class:`~twisted.internet.defer.CancelledError`.
        """
        receiver = self._receiver if self._receiver is not None else self._receive()
        receiver.abort(CancelledError())

    def _describe(self) -> str:
        return (
            f"the {self.status} response to "
            f"{self.request.method} {redact_url(self.request.full_url)}"
        )

    def __repr__(self) -> str:
        return (
            f"<Response {self.status} {self.reason} for "
            f"{self.request.method} {redact_url(self.request.full_url)}>"
        )
