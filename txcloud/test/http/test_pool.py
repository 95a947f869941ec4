"""Tests of txcloud.http.pool: shared connection pools, made and closed."""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http.pool import close_pool, new_pool
from txcloud.test.http._support import CountingPool


class NewPoolTests(SynchronousTestCase):
    def test_pool_is_persistent_with_the_given_idle_limit(self) -> None:
        pool = new_pool(MemoryReactorClock(), max_per_host=3)
        self.assertEqual((pool.persistent, pool.maxPersistentPerHost), (True, 3))


class ClosePoolTests(SynchronousTestCase):
    def test_no_pool_is_closed_at_once(self) -> None:
        self.assertIsNone(self.successResultOf(close_pool(None)))

    def test_a_pool_closes_its_idle_connections(self) -> None:
        pool = CountingPool(MemoryReactorClock())
        self.assertIsNone(self.successResultOf(close_pool(pool)))
        self.assertEqual(pool.closes, 1)
