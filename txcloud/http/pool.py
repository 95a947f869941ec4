"""
Connection pools that several drivers share, so one fan-out over many
regions of a provider reuses connections instead of opening a pool each.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.web.client import HTTPConnectionPool

__all__ = ["DEFAULT_MAX_PER_HOST", "ConnectionPool", "KeyedPool", "close_pool", "new_pool"]

#: Idle persistent connections kept per host.
DEFAULT_MAX_PER_HOST = 10

#: The pool type drivers pass around as ``ex_pool``.
ConnectionPool = HTTPConnectionPool


def new_pool(reactor: Any = None, max_per_host: int = DEFAULT_MAX_PER_HOST) -> ConnectionPool:
    """
    A persistent connection pool for drivers to share (``ex_pool=``).

    :param reactor: the reactor its connections run on; the global one when
        ``None``.
    :param max_per_host: idle persistent connections kept per host.
    :returns: the pool; whoever made it closes it with
        ``closeCachedConnections()``.
    """
    if reactor is None:
        from twisted.internet import reactor
    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = max_per_host
    return pool


def close_pool(pool: ConnectionPool | None) -> Deferred[None]:
    """
    Close the idle connections of *pool*, when there is one.

    :param pool: a pool made with :func:`new_pool`, or ``None``.
    :returns: a Deferred firing once they are closed.
    """
    if pool is None:
        return succeed(None)
    result: Deferred[None] = pool.closeCachedConnections()
    return result


class KeyedPool:
    """
    A connection pool as an agent sees it, filing each connection under the
    key *key_for* makes of the agent's ``(scheme, host, port)``: agents
    sharing one pool then share only the connections whose keys match (the
    same TLS settings, the same proxy).  With *persistent* false,
    connections are closed after one request.

    :param pool: the pool holding the connections (or another view of it).
    :param key_for: the pool key of an agent's key.
    :param persistent: whether connections may be kept for another request.
    """

    __slots__ = ("_key_for", "_persistent", "_pool")

    def __init__(
        self,
        pool: ConnectionPool | KeyedPool,
        key_for: Callable[[Any], Hashable],
        persistent: bool = True,
    ) -> None:
        self._pool = pool
        self._key_for = key_for
        self._persistent = persistent

    @property
    def persistent(self) -> bool:
        """Whether the agent should ask to keep connections open."""
        return self._persistent and bool(self._pool.persistent)

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        """A connection for *key*, from the pool or new; see ``HTTPConnectionPool``."""
        result: Deferred[Any] = self._pool.getConnection(self._key_for(key), endpoint)
        return result
