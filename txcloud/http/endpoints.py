"""
Where an HTTP transport connects: one TCP (or TCP+TLS) endpoint per
scheme, host and port, made once and reused for every request.

Twisted's ``Agent`` builds a new ``HostnameEndpoint`` (and IDNA-encodes
the host again) for every request; a driver sends all its requests to one
or a few hosts, so keeping the endpoints saves that work on each call.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.web.error import SchemeNotSupported
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

__all__ = ["CachingEndpointFactory"]

#: Endpoints kept per factory; S3 virtual-host buckets make one host each.
DEFAULT_MAX_ENDPOINTS = 64


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
    """

    def __init__(
        self,
        reactor: Any,
        policy: Any,
        connect_timeout: float,
        max_endpoints: int = DEFAULT_MAX_ENDPOINTS,
    ) -> None:
        self._reactor = reactor
        self._policy = policy
        self._connect_timeout = connect_timeout
        self._max_endpoints = max_endpoints
        self._endpoints: OrderedDict[tuple[bytes, bytes, int], Any] = OrderedDict()

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
        timeout = self._connect_timeout
        endpoint: Any = HostnameEndpoint(self._reactor, host, uri.port, timeout=timeout)
        if uri.scheme == b"http":
            return endpoint
        return wrapClientTLS(self._policy.creatorForNetloc(uri.host, uri.port), endpoint)
