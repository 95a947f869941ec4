"""Tests of txcloud.common.driver_cache: one driver per key, closed together."""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txcloud.common.driver_cache import DriverCache
from txcloud.errors import NetworkError


class _Driver:
    """Counts its closes; fails them with *error* when given one."""

    def __init__(self, key: str, error: Exception | None = None) -> None:
        self.key = key
        self.error = error
        self.closes = 0

    def close(self) -> Deferred[None]:
        self.closes += 1
        if self.error is not None:
            raise self.error
        return succeed(None)


class DriverCacheTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.built: list[str] = []
        self.errors: dict[str, Exception] = {}

    def build(self, key: str) -> _Driver:
        self.built.append(key)
        return _Driver(key, self.errors.get(key))

    def test_each_key_is_built_once(self) -> None:
        cache: DriverCache[str] = DriverCache(self.build)
        first = cache.get("a")
        self.assertIs(cache.get("a"), first)
        cache.get("b")
        self.assertEqual(self.built, ["a", "b"])

    def test_close_closes_every_driver_and_forgets_them(self) -> None:
        cache: DriverCache[str] = DriverCache(self.build)
        drivers = [cache.get("a"), cache.get("b")]
        self.assertIsNone(self.successResultOf(cache.close()))
        self.assertEqual([driver.closes for driver in drivers], [1, 1])
        self.assertIsNot(cache.get("a"), drivers[0])

    def test_a_failing_close_is_reported_and_the_others_still_close(self) -> None:
        self.errors["a"] = NetworkError("gone")
        cache: DriverCache[str] = DriverCache(self.build)
        drivers = [cache.get("a"), cache.get("b")]
        reported: list[tuple[str, Failure]] = []
        self.assertIsNone(
            self.successResultOf(cache.close(lambda key, f: reported.append((key, f))))
        )
        self.assertEqual(drivers[1].closes, 1)
        self.assertEqual([key for key, _ in reported], ["a"])
        self.assertIsInstance(reported[0][1].value, NetworkError)

    def test_a_failing_close_is_dropped_without_on_error(self) -> None:
        self.errors["a"] = NetworkError("gone")
        cache: DriverCache[str] = DriverCache(self.build)
        cache.get("a")
        self.assertIsNone(self.successResultOf(cache.close()))
        self.assertEqual(self.flushLoggedErrors(NetworkError), [])
