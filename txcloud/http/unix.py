"""
HTTP over a Unix socket, as the Docker engine serves it on
``/var/run/docker.sock``: an :class:`~twisted.web.iweb.IAgent` that sends
every request to one socket whatever host its URL names, for
:class:`~txcloud.http.HTTPTransport`'s ``agent=`` argument::

    agent = UNIXSocketAgent("/var/run/docker.sock", reactor=reactor)
    transport = HTTPTransport(reactor=reactor, agent=agent, ...)
    await transport.send(Request("GET", "http://docker/v1.41/containers/json"))
    ...
    await transport.close()
    await agent.close()
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import UNIXClientEndpoint
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IAgentEndpointFactory, IBodyProducer, IResponse
from zope.interface import implementer

from txcloud.errors import InvalidArgumentError
from txcloud.http.pool import DEFAULT_MAX_PER_HOST, close_pool, new_pool

__all__ = ["UNIXSocketAgent"]

#: The longest socket path Linux accepts (``sun_path`` holds 108 bytes with the NUL).
MAX_SOCKET_PATH = 107


@implementer(IAgentEndpointFactory)
class _SocketEndpoints:
    """Every ``http`` URL leads to the same socket (an ``IStreamClientEndpoint``)."""

    def __init__(self, reactor: Any, path: str, connect_timeout: float) -> None:
        self._reactor = reactor
        self._path = path
        self._connect_timeout = connect_timeout

    def endpointForURI(self, uri: Any) -> Any:
        # Over a local socket, an https URL would silently go out in clear.
        if uri.scheme != b"http":
            raise SchemeNotSupported(f"only http:// URLs go over a Unix socket, not {uri.scheme!r}")
        return UNIXClientEndpoint(self._reactor, self._path, timeout=self._connect_timeout)


@implementer(IAgent)
class UNIXSocketAgent:
    """
    Sends HTTP requests over the Unix socket at *path*, keeping connections
    open between requests.

    :param path: the socket's file system path.
    :param reactor: the reactor to connect with; the global one when ``None``.
    :param connect_timeout: seconds to wait for a connection.
    :param pool: the connection pool to use; by default the agent makes its
        own persistent pool, which :meth:`close` closes.  A pool keys
        connections by the URL's host, so agents of different sockets must
        not share one.
    :param max_per_host: idle connections the agent's own pool keeps.
    :raises InvalidArgumentError: for a path that is empty, not text, or
        longer than a socket path may be.
    """

    def __init__(
        self,
        path: str,
        *,
        reactor: Any = None,
        connect_timeout: float = 30.0,
        pool: HTTPConnectionPool | None = None,
        max_per_host: int = DEFAULT_MAX_PER_HOST,
    ) -> None:
        if not isinstance(path, str) or not path:
            raise InvalidArgumentError(f"a Unix socket path must be non-empty text, not {path!r}")
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise InvalidArgumentError(
                f"a Unix socket path may be at most {MAX_SOCKET_PATH} bytes long: {path!r}"
            )
        if not connect_timeout > 0:
            raise InvalidArgumentError(f"connect_timeout must be positive, not {connect_timeout!r}")
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.path = path
        self._own_pool: HTTPConnectionPool | None = None
        if pool is None:
            pool = self._own_pool = new_pool(reactor, max_per_host)
        self._agent = Agent.usingEndpointFactory(
            reactor, _SocketEndpoints(reactor, path, connect_timeout), pool=pool
        )

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[IResponse]:
        """
        Send a request; see :meth:`twisted.web.iweb.IAgent.request`.  The
        URL's host only fills the ``Host`` header.
        """
        return self._agent.request(method, uri, headers, bodyProducer)

    def close(self) -> Deferred[None]:
        """
        Close the idle connections of the pool this agent made.

        :returns: a Deferred firing once they are closed.
        """
        return close_pool(self._own_pool)

    def __repr__(self) -> str:
        return f"<UNIXSocketAgent path={self.path!r}>"
