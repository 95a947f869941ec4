"""
Whether an HTTP proxy keeps its client connections open: an endpoint that
reads the head of the first response on each connection it makes.

Twisted's HTTP client keeps the ``Connection`` header of a response to
itself, and an HTTP/1.1 response without ``Connection: close`` is taken to
leave the connection open.  Some proxies (tinyproxy) answer that way and
still close the connection, or pass the next request on raw; a proxy that
keeps connections says ``Connection: keep-alive`` (Squid does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from zope.interface import implementer

__all__ = ["KeepAliveWatchingEndpoint", "says_keep_alive"]

# Bytes of a response head read at most; a longer one counts as "no".
_MAX_HEAD = 64 * 1024


def says_keep_alive(head: bytes) -> bool:
    """
    Whether a response head (status line and headers) says
    ``Connection: keep-alive`` or ``Proxy-Connection: keep-alive``.
    """
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"connection", b"proxy-connection"):
            if b"keep-alive" in value.lower():
                return True
    return False


class _HeadReader(ProtocolWrapper):
    """Passes everything on, reading the head of the first response on the way."""

    def __init__(self, factory: Any, wrapped: Any) -> None:
        super().__init__(factory, wrapped)
        self._head: bytes | None = b""

    def dataReceived(self, data: bytes) -> None:
        if self._head is not None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end >= 0 or len(self._head) > _MAX_HEAD:
                head, self._head = self._head[: max(end, 0)], None
                # Told before the client sees the response, so before its
                # connection can go back to the pool.
                self.factory.tell(says_keep_alive(head))
        super().dataReceived(data)


class _Watching(WrappingFactory):
    protocol = _HeadReader

    def __init__(self, wrapped: Any, tell: Callable[[bool], None]) -> None:
        super().__init__(wrapped)
        self.tell = tell


@implementer(IStreamClientEndpoint)
class KeepAliveWatchingEndpoint:
    """
    Connects with *endpoint*, and calls *tell* with whether the first
    response on each connection said keep-alive (:func:`says_keep_alive`).
    """

    def __init__(self, endpoint: Any, tell: Callable[[bool], None]) -> None:
        self._endpoint = endpoint
        self._tell = tell

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect; see :meth:`~twisted.internet.interfaces.IStreamClientEndpoint.connect`."""
        connecting: Deferred[Any] = self._endpoint.connect(_Watching(protocolFactory, self._tell))
        return connecting.addCallback(lambda reader: reader.wrappedProtocol)
