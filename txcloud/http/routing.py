"""
An agent that sends each request by the route its proxy settings give:

* directly, for URLs the settings leave alone (``NO_PROXY``, metadata
  endpoints);
* ``https://`` through a ``CONNECT`` tunnel, which the endpoint factory
  builds (:class:`~txcloud.http.endpoints.CachingEndpointFactory`);
* ``http://`` to the proxy itself, with the absolute URL as the request
  target, as Twisted's :class:`~twisted.web.client.ProxyAgent` sends it,
  and the proxy's credentials in ``Proxy-Authorization``.

Connections to a proxy are reused while it says it keeps them open
(``Connection: keep-alive``, as Squid does; see
:mod:`txcloud.http.keep_alive`).  A proxy whose answer does not say so gets
one connection per request from then on: tinyproxy, for one, answers
HTTP/1.1 without ``Connection: close`` and then either closes the
connection or passes the next request on raw, so a reused connection may
swallow a request.

Connections stay in the one pool, filed under their route as well as their
target, so drivers sharing a pool never reuse each other's connections
through another proxy (or through none), while those of the same proxy
share them.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import partial
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.client import URI, Agent, HTTPConnectionPool, ProxyAgent
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IBodyProducer, IResponse
from zope.interface import implementer

from txcloud.http.endpoints import CachingEndpointFactory
from txcloud.http.keep_alive import KeepAliveWatchingEndpoint
from txcloud.http.pool import KeyedPool
from txcloud.http.proxy import ProxySettings, ProxyURL

__all__ = ["ProxyingAgent"]


@implementer(IAgent)
class ProxyingAgent:
    """
    Sends requests directly, through tunnels or to the proxy, as *proxies* say.

    :param reactor: the reactor to connect with.
    :param endpoints: the endpoint factory; it makes the tunnels, so it
        must have been given the same *proxies*.
    :param pool: the connection pool.
    :param proxies: the proxy settings.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        endpoints: CachingEndpointFactory,
        pool: HTTPConnectionPool | KeyedPool,
        proxies: ProxySettings,
    ) -> None:
        self._reactor = reactor
        self._endpoints = endpoints
        self._pool = pool
        self._proxies = proxies
        self._direct = Agent.usingEndpointFactory(
            reactor, endpoints, pool=KeyedPool(pool, self._direct_key)
        )
        self._forwarders: dict[tuple[ProxyURL, bool], ProxyAgent] = {}
        # Proxies found not to keep connections open.
        self._closing: set[ProxyURL] = set()

    def _direct_key(self, key: tuple[bytes, bytes, int]) -> Hashable:
        scheme, host, port = key
        tunnel = self._proxies.proxy_for(scheme.decode("ascii"), host.decode("ascii"), port)
        return key if tunnel is None else (key, tunnel)

    def _forwarder(self, proxy: ProxyURL) -> ProxyAgent:
        keep_alive = proxy not in self._closing
        agent = self._forwarders.get((proxy, keep_alive))
        if agent is None:
            # Every request to one proxy may use any connection to it; once
            # the proxy is found to close them, the pooled ones are left alone.
            key = ("http-proxy", proxy, keep_alive)
            pool = KeyedPool(self._pool, lambda _: key, persistent=keep_alive)
            endpoint: Any = self._endpoints.endpoint_for_proxy(proxy)
            if keep_alive:
                endpoint = KeepAliveWatchingEndpoint(endpoint, partial(self._told, proxy))
            agent = ProxyAgent(endpoint, self._reactor, pool)
            self._forwarders[(proxy, keep_alive)] = agent
        return agent

    def _told(self, proxy: ProxyURL, keeps_alive: bool) -> None:
        if not keeps_alive and proxy not in self._closing:
            self._closing.add(proxy)
            self.log.info(
                "The proxy {proxy} does not say it keeps connections open: "
                "one connection per request from now on",
                proxy=proxy.address,
            )

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[IResponse]:
        """Send a request; see :meth:`twisted.web.iweb.IAgent.request`."""
        proxy = None
        if uri.startswith(b"http://"):
            parsed = URI.fromBytes(uri)
            proxy = self._proxies.proxy_for("http", parsed.host.decode("ascii"), parsed.port)
        if proxy is None:
            return self._direct.request(method, uri, headers, bodyProducer)
        if proxy.authorization is not None:
            headers = Headers() if headers is None else headers.copy()
            headers.setRawHeaders(b"Proxy-Authorization", [proxy.authorization.encode("ascii")])
        return self._forwarder(proxy).request(method, uri, headers, bodyProducer)

    def __repr__(self) -> str:
        return f"<ProxyingAgent {self._proxies!r}>"
