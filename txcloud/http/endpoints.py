"""
Where an HTTP transport connects: one TCP (or TCP+TLS) endpoint per
scheme, host and port, made once and reused for every request.

Twisted's ``Agent`` builds a new ``HostnameEndpoint`` (and IDNA-encodes
the host again) for every request; a driver sends all its requests to one
or a few hosts, so keeping the endpoints saves that work on each call.

With proxy settings, an HTTPS URL that goes through a proxy gets a
:class:`~txcloud.http.tunnel.TunnelEndpoint` wrapped in TLS: the session is
verified against the URL's host, not the proxy's.

Every TCP connection made reads up to :data:`SOCKET_READ_SIZE` bytes per
system call, instead of Twisted's 64 KiB: a large download then costs a
third of the calls, and of the Python work each chunk of data goes through
on its way.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.web.error import SchemeNotSupported
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from txcloud.http.proxy import ProxySettings, ProxyURL
from txcloud.http.tunnel import TunnelEndpoint

__all__ = ["SOCKET_READ_SIZE", "CachingEndpointFactory", "LargeReadEndpoint"]

#: Endpoints kept per factory; S3 virtual-host buckets make one host each.
DEFAULT_MAX_ENDPOINTS = 64

#: Bytes a connection reads per ``recv`` at most; also what it buffers for
#: sending before it pauses a body producer.  Below the 256 KiB chunks file
#: uploads write, so each chunk pauses its producer and is sent as written,
#: never joined to the next (a copy); larger (512 KiB) reads cost uploads of
#: 1 MiB chunks more in fresh memory than they saved downloads.
SOCKET_READ_SIZE = 192 * 1024


@implementer(IStreamClientEndpoint)
class LargeReadEndpoint:
    """
    Connects with *endpoint*, then has the TCP transport read up to
    :data:`SOCKET_READ_SIZE` bytes per system call.  A transport that has no
    such setting (not a Twisted TCP connection) is left as it is.

    :param endpoint: an ``IStreamClientEndpoint`` making TCP connections.
    """

    def __init__(self, endpoint: Any) -> None:
        #: The endpoint connecting.
        self.endpoint = endpoint

    def connect(self, protocol_factory: Any) -> Deferred[Any]:
        """Connect; fires with the protocol, as *endpoint* does."""
        connecting: Deferred[Any] = self.endpoint.connect(protocol_factory)
        return connecting.addCallback(_enlarge_reads)


def _enlarge_reads(protocol: Any) -> Any:
    transport = getattr(protocol, "transport", None)
    # Twisted's FileDescriptor reads it per instance: the recv() size and the
    # write buffer's pause mark.  The send() size (SEND_LIMIT) stays 128 KiB:
    # a larger one would copy what is left of a partly sent buffer more often.
    if transport is not None and hasattr(transport, "bufferSize"):
        transport.bufferSize = SOCKET_READ_SIZE
    return protocol


@implementer(IAgentEndpointFactory)
class CachingEndpointFactory:
    """
    Endpoints for ``http`` and ``https`` URLs, as Twisted's ``Agent`` makes
    them (TLS settings from *policy*), kept per ``(scheme, host, port)``.

    :param reactor: the reactor to connect with.
    :param policy: the :class:`~twisted.web.iweb.IPolicyForHTTPS` that makes
        the TLS connection settings for each HTTPS host.
    :param connect_timeout: seconds to wait for a connection.
    :param max_endpoints: endpoints kept; the least recently used goes first.
    :param proxies: where HTTPS URLs go through a ``CONNECT`` tunnel;
        ``None`` connects directly.  (HTTP URLs sent to a proxy never ask
        for an endpoint: they are sent to :meth:`endpoint_for_proxy`.)
    """

    def __init__(
        self,
        reactor: Any,
        policy: Any,
        connect_timeout: float,
        max_endpoints: int = DEFAULT_MAX_ENDPOINTS,
        proxies: ProxySettings | None = None,
    ) -> None:
        self._reactor = reactor
        self._policy = policy
        self._connect_timeout = connect_timeout
        self._max_endpoints = max_endpoints
        self._proxies = proxies
        self._endpoints: OrderedDict[tuple[bytes, bytes, int], Any] = OrderedDict()
        self._proxy_endpoints: dict[ProxyURL, LargeReadEndpoint] = {}

    def endpointForURI(self, uri: Any) -> Any:
        """
        The endpoint for *uri*; see
        :meth:`~twisted.web.iweb.IAgentEndpointFactory.endpointForURI`.

        :raises SchemeNotSupported: for a scheme other than http or https.
        """
        key = (uri.scheme, uri.host, uri.port)
        endpoint = self._endpoints.get(key)
        if endpoint is not None:
            self._endpoints.move_to_end(key)
            return endpoint
        endpoint = self._make(uri)
        self._endpoints[key] = endpoint
        if len(self._endpoints) > self._max_endpoints:
            self._endpoints.popitem(last=False)
        return endpoint

    def _make(self, uri: Any) -> Any:
        if uri.scheme not in (b"http", b"https"):
            raise SchemeNotSupported(f"unsupported scheme: {uri.scheme!r}")
        try:
            host = uri.host.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"the host {uri.host!r} of a URI must be ASCII") from None
        if uri.scheme == b"http":
            return self._tcp(host, uri.port)
        proxy = None if self._proxies is None else self._proxies.proxy_for("https", host, uri.port)
        endpoint: Any
        if proxy is None:
            endpoint = self._tcp(host, uri.port)
        else:
            endpoint = TunnelEndpoint(
                self._reactor,
                self.endpoint_for_proxy(proxy),
                host,
                uri.port,
                proxy_address=proxy.address,
                authorization=proxy.authorization,
                timeout=self._connect_timeout,
            )
        return wrapClientTLS(self._policy.creatorForNetloc(uri.host, uri.port), endpoint)

    def endpoint_for_proxy(self, proxy: ProxyURL) -> LargeReadEndpoint:
        """
        The endpoint connecting to *proxy* (one per proxy, kept).

        :param proxy: the proxy.
        """
        endpoint = self._proxy_endpoints.get(proxy)
        if endpoint is None:
            endpoint = self._proxy_endpoints[proxy] = self._tcp(proxy.host, proxy.port)
        return endpoint

    def _tcp(self, host: str, port: int) -> LargeReadEndpoint:
        return LargeReadEndpoint(
            HostnameEndpoint(self._reactor, host, port, timeout=self._connect_timeout)
        )
