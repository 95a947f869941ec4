"""
A ``CONNECT`` tunnel through an HTTP proxy, as a Twisted client endpoint.

:class:`TunnelEndpoint` connects to the proxy, asks it to ``CONNECT`` to
the target's host and port, and once the proxy answers 2xx hands the
connection to the protocol being connected: from then on the bytes travel
between that protocol and the target.  Wrapped with
:func:`~twisted.internet.endpoints.wrapClientTLS`, the TLS session runs
end to end with the target, verified against the target's name; the
proxy sees only the host and port::

    tunnel = TunnelEndpoint(reactor, HostnameEndpoint(reactor, "proxy", 3128),
                            "s3.amazonaws.com", 443, proxy_address="proxy:3128")
    endpoint = wrapClientTLS(optionsForClientTLS("s3.amazonaws.com"), tunnel)
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import HostnameAddress
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, ConnectingCancelledError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

__all__ = ["MAX_REPLY", "TunnelEndpoint", "TunnelError"]

#: Bytes of the proxy's reply (status line and headers) accepted.
MAX_REPLY = 64 * 1024


class TunnelError(ConnectError):
    """
    The proxy did not open the tunnel.

    :ivar proxy: ``host:port`` of the proxy.
    :ivar status: the status it answered ``CONNECT`` with, if it answered.
    :ivar timed_out: it did not answer within the timeout.
    """

    def __init__(
        self, proxy: str, reason: str, status: int | None = None, timed_out: bool = False
    ) -> None:
        super().__init__(string=f"the proxy {proxy} {reason}")
        self.proxy = proxy
        self.status = status
        self.timed_out = timed_out


def _status_of(reply: bytes) -> tuple[int, str] | None:
    """``(status, reason)`` from the reply's status line, or ``None`` if it is not HTTP."""
    line = reply.split(b"\r\n", 1)[0].decode("latin-1")
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        return None
    return int(code), reason.strip()


class _TunnelProtocol(Protocol):
    """
    Sends ``CONNECT``, reads the proxy's reply, then relays the connection's
    events to the protocol the caller asked for.
    """

    def __init__(self, tunnel: _Tunnel) -> None:
        self._tunnel = tunnel
        self._reply = b""
        self._inner: Any | None = None

    def connectionMade(self) -> None:
        self._tunnel.connected(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.dataReceived(data)
            return
        self._reply += data
        end = self._reply.find(b"\r\n\r\n")
        if end < 0:
            if len(self._reply) > MAX_REPLY:
                self._refuse("answered CONNECT with an over-long reply")
            return
        head, rest = self._reply[:end], self._reply[end + 4 :]
        self._reply = b""
        status = _status_of(head)
        if status is None:
            self._refuse("answered CONNECT with something that is not HTTP")
        elif not 200 <= status[0] < 300:
            code, reason = status
            self._refuse(f"refused CONNECT: {code} {reason}".rstrip(), code)
        else:
            self._inner = self._tunnel.opened(self.transport)
            # Whatever followed the reply is the target's (a TLS record).
            if rest and self._inner is not None:
                self._inner.dataReceived(rest)

    def _refuse(self, reason: str, status: int | None = None) -> None:
        self._tunnel.failed(TunnelError(self._tunnel.proxy, reason, status))
        self._tunnel.abort()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._inner is not None:
            self._inner.connectionLost(reason)
        else:
            self._tunnel.failed(
                TunnelError(self._tunnel.proxy, "closed the connection before opening the tunnel")
            )


class _Tunnel:
    """One connection attempt: the Deferred, the timer, and the protocol asked for."""

    def __init__(self, endpoint: TunnelEndpoint, factory: Any, request: bytes) -> None:
        self.proxy = endpoint.proxy_address
        self.request = request
        self._endpoint = endpoint
        self._factory = factory
        self._transport: Any = None
        self._connecting: Deferred[Any] | None = None
        self._timer: Any = None
        self.result: Deferred[Any] = Deferred(self._cancel)

    def start(self) -> None:
        factory = Factory.forProtocol(lambda: _TunnelProtocol(self))
        connecting = self._endpoint.proxy_endpoint.connect(factory)
        if self._transport is None:
            self._connecting = connecting
        connecting.addErrback(self.failed)

    def connected(self, transport: Any) -> None:
        self._connecting = None
        self._transport = transport
        self._timer = self._endpoint.reactor.callLater(self._endpoint.timeout, self._expire)
        transport.write(self.request)

    def _expire(self) -> None:
        self._timer = None
        reason = f"did not answer CONNECT within {self._endpoint.timeout:g}s"
        self.failed(TunnelError(self.proxy, reason, timed_out=True))
        self.abort()

    def opened(self, transport: Any) -> Any | None:
        self._stop_timer()
        target = HostnameAddress(self._endpoint.host.encode("ascii"), self._endpoint.port)
        inner = self._factory.buildProtocol(target)
        if inner is None:
            self.failed(ConnectError(string="the protocol factory refused the connection"))
            transport.loseConnection()
            return None
        inner.makeConnection(transport)
        if not self.result.called:
            self.result.callback(inner)
        return inner

    def failed(self, reason: Failure | BaseException) -> None:
        self._stop_timer()
        if not self.result.called:
            self.result.errback(reason)

    def abort(self) -> None:
        """Drop the connection to the proxy."""
        self._transport.abortConnection()

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _cancel(self, result: Deferred[Any]) -> None:
        if self._connecting is not None:
            # The connection to the proxy is still being made: it fails the
            # Deferred with ConnectingCancelledError.
            self._connecting.cancel()
            return
        self._stop_timer()
        result.errback(ConnectingCancelledError(self._transport.getPeer()))
        self.abort()


@implementer(IStreamClientEndpoint)
class TunnelEndpoint:
    """
    Connects to *host* and *port* through the proxy's ``CONNECT`` method.

    :param reactor: the reactor, for the timeout.
    :param proxy_endpoint: an endpoint connecting to the proxy.
    :param host: the target's host name or IP address.
    :param port: the target's port.
    :param proxy_address: the proxy's ``host:port``, named in errors.
    :param authorization: the ``Proxy-Authorization`` value to send, if any.
    :param timeout: seconds to wait for the proxy's answer to ``CONNECT``.

    :meth:`connect` fails with :class:`TunnelError` when the proxy answers
    anything but 2xx, closes the connection before answering, or does not
    answer within *timeout*; and as *proxy_endpoint* fails when the proxy
    cannot be reached.  Cancelling it aborts the attempt with
    :class:`~twisted.internet.error.ConnectingCancelledError`.
    """

    def __init__(
        self,
        reactor: Any,
        proxy_endpoint: Any,
        host: str,
        port: int,
        *,
        proxy_address: str,
        authorization: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.reactor = reactor
        self.proxy_endpoint = proxy_endpoint
        self.host = host
        self.port = port
        self.proxy_address = proxy_address
        self.timeout = timeout
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if authorization is not None:
            lines.append(f"Proxy-Authorization: {authorization}")
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """
        Open a tunnel and connect *protocolFactory*'s protocol through it;
        see :meth:`~twisted.internet.interfaces.IStreamClientEndpoint.connect`.
        """
        tunnel = _Tunnel(self, protocolFactory, self._request)
        tunnel.start()
        return tunnel.result

    def __repr__(self) -> str:
        return f"<TunnelEndpoint {self.host}:{self.port} via {self.proxy_address}>"
