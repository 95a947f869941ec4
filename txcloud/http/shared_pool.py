"""
The default connection pool of each reactor, shared by every transport
built on that reactor without a pool of its own, so thousands of drivers of
one endpoint reuse a few connections instead of opening a pool each.

Each transport holds a :class:`PoolLease`; when the last lease of a pool is
released (the last driver using it closes) its idle connections are
closed and the reactor's next transport gets a new pool, so a program (or a
trial test) that closes its drivers leaves no connection behind.
:func:`close_default_pool` closes a reactor's pool without waiting for its
drivers, for programs that do not close them.

Connections are filed in the pool under their TLS settings and proxy route
as well as their host (see :class:`~txcloud.http.pool.KeyedPool`), so
drivers with different trust settings never share a connection.

What transports of equal settings build over the pool (their agent and
endpoints) is made once per pool too (:meth:`PoolLease.shared`): four
thousand drivers of one endpoint hold one agent, not four thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from twisted.internet.defer import Deferred, succeed

from txcloud.http.pool import ConnectionPool, close_pool, new_pool

__all__ = [
    "DEFAULT_SHARED_MAX_PER_HOST",
    "MAX_SHARED_VALUES",
    "PoolLease",
    "close_default_pool",
    "lease_default_pool",
]

_V = TypeVar("_V")

#: Values :meth:`PoolLease.shared` keeps per pool (kinds of settings).
MAX_SHARED_VALUES = 256

#: Idle connections the default pool keeps per host and trust settings:
#: enough for a fan-out of hundreds of calls to one endpoint to reuse its
#: connections in the next wave instead of making new TLS handshakes.
DEFAULT_SHARED_MAX_PER_HOST = 64


class _Shared:
    """A reactor's default pool, how many transports hold it, and what they share."""

    __slots__ = ("leases", "pool", "values")

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self.leases = 0
        self.values: dict[Hashable, Any] = {}


_pools: WeakKeyDictionary[Any, _Shared] = WeakKeyDictionary()


class PoolLease:
    """
    One transport's hold on its reactor's default pool.

    :ivar pool: the pool, usable until :meth:`release`.
    """

    __slots__ = ("_reactor", "_shared", "pool")

    def __init__(self, reactor: Any, shared: _Shared) -> None:
        self._reactor = reactor
        self._shared: _Shared | None = shared
        self.pool = shared.pool
        shared.leases += 1

    def shared(self, key: Hashable, make: Callable[[], _V]) -> _V:
        """
        The value made by *make* for *key*, made once for every lease on
        this pool (and dropped with the pool).

        :param key: what the value depends on besides the pool (hashable
            settings).
        :param make: builds the value the first time.
        """
        shared = self._shared
        if shared is None:
            return make()
        try:
            value: _V = shared.values[key]
        except KeyError:
            value = make()
            # Settings come in a few kinds; a program that makes endless
            # new ones gets a value each time rather than a growing cache.
            if len(shared.values) < MAX_SHARED_VALUES:
                shared.values[key] = value
        return value

    def release(self) -> Deferred[None]:
        """
        Give the pool back; the last lease closes its idle connections.
        Releasing twice does nothing more.

        :returns: a Deferred firing once the pool's idle connections are
            closed (at once when other leases remain).
        """
        shared, self._shared = self._shared, None
        if shared is None:
            return succeed(None)
        shared.leases -= 1
        if shared.leases > 0:
            return succeed(None)
        if _pools.get(self._reactor) is shared:
            del _pools[self._reactor]
        return close_pool(shared.pool)


def lease_default_pool(reactor: Any) -> PoolLease:
    """
    A lease on *reactor*'s default pool, made on first use.

    :param reactor: the reactor the pool's connections run on.
    """
    shared = _pools.get(reactor)
    if shared is None:
        shared = _pools[reactor] = _Shared(new_pool(reactor, DEFAULT_SHARED_MAX_PER_HOST))
    return PoolLease(reactor, shared)


def close_default_pool(reactor: Any = None) -> Deferred[None]:
    """
    Close the idle connections of *reactor*'s default pool now, whether or
    not drivers still use it; transports made later get a new pool.
    Drivers still holding the old pool keep working (they open connections
    as needed); closing every driver makes this call unnecessary.

    :param reactor: the reactor; the global one when ``None``.
    :returns: a Deferred firing once the connections are closed.
    """
    if reactor is None:
        from twisted.internet import reactor
    shared = _pools.pop(reactor, None)
    return close_pool(None if shared is None else shared.pool)
