"""
The Docker engine's streamed answers: the JSON progress lines of image
pulls, pushes and imports, and container logs (the bytes as written when the
container has a TTY, else frames with 8-byte headers saying which stream
each came from).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import attrs

from txcloud.errors import MalformedResponseError, TxCloudError
from txcloud.http import BodyStream, Response

__all__ = ["LogDecoder", "LogStream", "Progress", "follow_progress"]

#: The longest progress line accepted; the engine's are a few hundred bytes.
MAX_LINE = 1024 * 1024

#: Stream numbers in a multiplexed log frame's header.
STDOUT = 1
STDERR = 2
_HEADER = 8


@attrs.frozen
class Progress:
    """
    What a finished progress stream said.

    :ivar status: its last ``status`` line (an import's says the new image's id).
    :ivar aux: its ``aux`` documents (a push's gives ``Tag``, ``Digest``, ``Size``).
    """

    status: str | None = None
    aux: tuple[Mapping[str, Any], ...] = ()


def _lines(buffer: bytearray, chunk: bytes) -> Iterator[bytes]:
    buffer += chunk
    while True:
        end = buffer.find(b"\n")
        if end < 0:
            break
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        yield line
    if len(buffer) > MAX_LINE:
        raise MalformedResponseError(f"a Docker progress line is longer than {MAX_LINE} bytes")


async def follow_progress(response: Response, error_for: Callable[[str], TxCloudError]) -> Progress:
    """
    Read a progress stream (one JSON document a line) to its end.

    :param error_for: the error to raise for the message of an ``error`` line
        (the engine reports a failure that way once it has answered 200).
    :returns: the :class:`Progress` seen.
    :raises MalformedResponseError: for a line that is not a JSON object.
    """
    status: str | None = None
    aux: list[Mapping[str, Any]] = []
    buffer = bytearray()

    def handle(line: bytes) -> None:
        nonlocal status
        if not line.strip():
            return
        try:
            document = json.loads(line)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise MalformedResponseError("the Docker engine sent a progress line that is not JSON")
        detail = document.get("errorDetail")
        if document.get("error") or detail:
            message = detail.get("message") if isinstance(detail, dict) else None
            raise error_for(str(message or document.get("error")))
        if isinstance(document.get("status"), str):
            status = document["status"]
        if isinstance(document.get("aux"), dict):
            aux.append(document["aux"])

    async with response.iter_body() as chunks:
        async for chunk in chunks:
            for line in _lines(buffer, chunk):
                handle(line)
    handle(bytes(buffer))
    return Progress(status, tuple(aux))


def _decoder() -> codecs.IncrementalDecoder:
    # Logs are whatever the program wrote: never fail on bad UTF-8.
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


class LogDecoder:
    """
    Turns a container's log bytes into text, taking multiplexed frames apart
    (and keeping the streams asked for) when *multiplexed*.

    :param multiplexed: whether the bytes come in frames (a container
        without a TTY).
    """

    def __init__(self, multiplexed: bool) -> None:
        self._multiplexed = multiplexed
        self._pending = bytearray()
        self._decoders: dict[int, codecs.IncrementalDecoder] = {}

    def _text(self, stream: int, data: bytes, final: bool = False) -> str:
        decoder = self._decoders.get(stream)
        if decoder is None:
            decoder = self._decoders[stream] = _decoder()
        return decoder.decode(data, final)

    def feed(self, data: bytes) -> str:
        """The text of *data*; a frame or character cut in two waits for the rest."""
        if not self._multiplexed:
            return self._text(STDOUT, data)
        self._pending += data
        parts: list[str] = []
        while len(self._pending) >= _HEADER:
            size = int.from_bytes(self._pending[4:_HEADER], "big")
            if len(self._pending) < _HEADER + size:
                break
            stream = self._pending[0]
            payload = bytes(self._pending[_HEADER : _HEADER + size])
            del self._pending[: _HEADER + size]
            parts.append(self._text(stream, payload))
        return "".join(parts)

    def finish(self) -> str:
        """
        The text still held back, once the log has ended.

        :raises MalformedResponseError: if the log ended inside a frame.
        """
        if self._pending:
            raise MalformedResponseError("the Docker engine's log stream ended inside a frame")
        return "".join(self._text(stream, b"", True) for stream in sorted(self._decoders))


#: Starts a log request: fires with the response and whether it is multiplexed.
LogOpener = Callable[[], Awaitable[tuple[Response, bool]]]


class LogStream:
    """
    A container's log as text, chunk by chunk as the engine sends it: an
    async iterator of ``str``.

    The request is sent when the first chunk is asked for.  Leaving the
    iteration early does not close the connection by itself: use
    ``async with`` or call :meth:`aclose`.
    """

    def __init__(self, open_log: LogOpener) -> None:
        self._open = open_log
        self._body: BodyStream | None = None
        self._decoder: LogDecoder | None = None
        self._closed = False

    def __aiter__(self) -> LogStream:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        if self._body is None:
            response, multiplexed = await self._open()
            self._body = response.iter_body()
            self._decoder = LogDecoder(multiplexed)
        assert self._decoder is not None
        async for chunk in self._body:
            text = self._decoder.feed(chunk)
            if text:
                return text
        self._closed = True
        rest = self._decoder.finish()
        if rest:
            return rest
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop reading; closes the connection if the log has not ended."""
        self._closed = True
        if self._body is not None:
            await self._body.aclose()

    async def __aenter__(self) -> LogStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
