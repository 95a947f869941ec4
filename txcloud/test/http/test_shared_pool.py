"""Tests of txcloud.http.shared_pool: each reactor's default pool, leased and closed."""

from __future__ import annotations

from functools import partial
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http import HTTPTransport
from txcloud.http.proxy import proxy_settings
from txcloud.http.shared_pool import (
    DEFAULT_SHARED_MAX_PER_HOST,
    MAX_SHARED_VALUES,
    close_default_pool,
    lease_default_pool,
)
from txcloud.http.tls import TLSOptions


def _count_closes(test: SynchronousTestCase, pool: Any) -> list[None]:
    closes: list[None] = []
    original = pool.closeCachedConnections

    def close() -> Deferred[None]:
        closes.append(None)
        result: Deferred[None] = original()
        return result

    test.patch(pool, "closeCachedConnections", close)
    return closes


class LeaseTests(SynchronousTestCase):
    def test_leases_on_one_reactor_share_one_persistent_pool(self) -> None:
        reactor = MemoryReactorClock()
        first, second = lease_default_pool(reactor), lease_default_pool(reactor)
        self.assertIs(first.pool, second.pool)
        self.assertEqual(
            (first.pool.persistent, first.pool.maxPersistentPerHost),
            (True, DEFAULT_SHARED_MAX_PER_HOST),
        )

    def test_each_reactor_has_its_own_pool(self) -> None:
        self.assertIsNot(
            lease_default_pool(MemoryReactorClock()).pool,
            lease_default_pool(MemoryReactorClock()).pool,
        )

    def test_pool_stays_open_while_another_lease_holds_it(self) -> None:
        reactor = MemoryReactorClock()
        first, second = lease_default_pool(reactor), lease_default_pool(reactor)
        closes = _count_closes(self, first.pool)
        self.successResultOf(first.release())
        self.assertEqual(closes, [])
        self.assertIs(lease_default_pool(reactor).pool, second.pool)

    def test_last_release_closes_the_pool_and_the_next_lease_gets_a_new_one(self) -> None:
        reactor = MemoryReactorClock()
        lease = lease_default_pool(reactor)
        closes = _count_closes(self, lease.pool)
        self.successResultOf(lease.release())
        self.assertEqual(len(closes), 1)
        self.assertIsNot(lease_default_pool(reactor).pool, lease.pool)

    def test_releasing_twice_counts_once(self) -> None:
        reactor = MemoryReactorClock()
        lease, other = lease_default_pool(reactor), lease_default_pool(reactor)
        closes = _count_closes(self, lease.pool)
        self.successResultOf(lease.release())
        self.successResultOf(lease.release())
        self.assertEqual(closes, [])
        self.successResultOf(other.release())
        self.assertEqual(len(closes), 1)


class CloseDefaultPoolTests(SynchronousTestCase):
    def test_closing_closes_the_pool_and_the_next_lease_gets_a_new_one(self) -> None:
        reactor = MemoryReactorClock()
        lease = lease_default_pool(reactor)
        closes = _count_closes(self, lease.pool)
        self.successResultOf(close_default_pool(reactor))
        self.assertEqual(len(closes), 1)
        self.assertIsNot(lease_default_pool(reactor).pool, lease.pool)

    def test_a_reactor_without_a_pool_closes_at_once(self) -> None:
        self.assertIsNone(self.successResultOf(close_default_pool(MemoryReactorClock())))

    def test_an_old_lease_released_late_leaves_the_new_pool_alone(self) -> None:
        reactor = MemoryReactorClock()
        old = lease_default_pool(reactor)
        self.successResultOf(close_default_pool(reactor))
        new = lease_default_pool(reactor)
        self.successResultOf(old.release())
        self.assertIs(lease_default_pool(reactor).pool, new.pool)


class TransportPoolTests(SynchronousTestCase):
    def test_transports_share_the_default_pool_until_the_last_closes(self) -> None:
        reactor = MemoryReactorClock()
        first, second = HTTPTransport(reactor=reactor), HTTPTransport(reactor=reactor)
        probe = lease_default_pool(reactor)
        closes = _count_closes(self, probe.pool)
        self.successResultOf(probe.release())
        self.successResultOf(first.close())
        self.assertEqual(closes, [])
        self.successResultOf(second.close())
        self.assertEqual(len(closes), 1)

    def test_a_pool_passed_in_is_never_closed_by_the_transport(self) -> None:
        reactor = MemoryReactorClock()
        pool = lease_default_pool(MemoryReactorClock()).pool
        closes = _count_closes(self, pool)
        transport = HTTPTransport(reactor=reactor, pool=pool)
        self.successResultOf(transport.close())
        self.assertEqual(closes, [])


class SharedAgentTests(SynchronousTestCase):
    """Transports of equal settings on the default pool share one agent."""

    def test_transports_of_equal_settings_share_one_agent_and_client(self) -> None:
        reactor = MemoryReactorClock()
        first, second = HTTPTransport(reactor=reactor), HTTPTransport(reactor=reactor)
        self.assertIs(first._agent, second._agent)
        self.assertIs(first._client, second._client)

    def test_other_tls_settings_timeouts_or_proxies_get_their_own_agent(self) -> None:
        reactor = MemoryReactorClock()
        plain = HTTPTransport(reactor=reactor)
        others = [
            HTTPTransport(reactor=reactor, tls=TLSOptions(verify=False)),
            HTTPTransport(reactor=reactor, timeout=5),
            HTTPTransport(reactor=reactor, proxy=proxy_settings("http://127.0.0.1:3128", {})),
        ]
        agents = {id(plain._agent), *(id(transport._agent) for transport in others)}
        self.assertEqual(len(agents), 4)

    def test_a_pool_passed_in_gets_an_agent_per_transport(self) -> None:
        reactor = MemoryReactorClock()
        pool = lease_default_pool(reactor).pool
        first = HTTPTransport(reactor=reactor, pool=pool)
        second = HTTPTransport(reactor=reactor, pool=pool)
        self.assertIsNot(first._agent, second._agent)

    def test_a_new_default_pool_gets_new_agents(self) -> None:
        reactor = MemoryReactorClock()
        first = HTTPTransport(reactor=reactor)
        self.successResultOf(first.close())
        second = HTTPTransport(reactor=reactor)
        self.assertIsNot(first._agent, second._agent)

    def test_shared_values_are_made_once_per_key_up_to_a_bound(self) -> None:
        lease = lease_default_pool(MemoryReactorClock())
        made: list[int] = []

        def make(n: int) -> int:
            made.append(n)
            return n

        self.assertEqual(lease.shared("a", lambda: make(1)), 1)
        self.assertEqual(lease.shared("a", lambda: make(2)), 1)
        for n in range(MAX_SHARED_VALUES):
            lease.shared(n, partial(make, n))
        made.clear()
        lease.shared("beyond", lambda: make(7))
        lease.shared("beyond", lambda: make(8))
        self.assertEqual(made, [7, 8])
