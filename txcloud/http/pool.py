"""
Connection pools that several drivers share, so one fan-out over many
regions of a provider reuses connections instead of opening a pool each.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.web.client import HTTPConnectionPool

__all__ = ["DEFAULT_MAX_PER_HOST", "ConnectionPool", "close_pool", "new_pool"]

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
