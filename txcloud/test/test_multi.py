"""Tests for txcloud.multi: fan-out across drivers with limits and timeouts."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any, cast

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import Clock, deferLater
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from txcloud import multi
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.container.base import Container, ContainerDriver, ContainerImage
from txcloud.container.types import ContainerState
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from txcloud.multi import FanOutResult, fan_out
from txcloud.storage.base import Container as Bucket
from txcloud.storage.base import StorageDriver


class ControlledCalls:
    """A fan-out call whose answers the test gives, counting calls in flight."""

    def __init__(self) -> None:
        self.pending: dict[Any, Deferred[Any]] = {}
        self.started: list[Any] = []
        self.cancelled: list[Any] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, target: Any) -> Deferred[Any]:
        self.started.append(target)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        d: Deferred[Any] = Deferred(lambda _: self.cancelled.append(target))
        d.addBoth(self._ended)
        self.pending[target] = d
        return d

    def _ended(self, result: Any) -> Any:
        self.in_flight -= 1
        return result

    def answer(self, target: Any, value: Any = None) -> None:
        self.pending.pop(target).callback(f"answer {target}" if value is None else value)

    def fail(self, target: Any, error: Exception) -> None:
        self.pending.pop(target).errback(error)


class FanOutTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()

    def result_of(self, d: Deferred[FanOutResult[Any, Any]]) -> FanOutResult[Any, Any]:
        return self.successResultOf(d)

    def sleep(self, seconds: float) -> Deferred[None]:
        # Clock provides IReactorTime, which mypy cannot see without zope's plugin.
        return deferLater(cast(IReactorTime, self.clock), seconds)

    def timeout_error(self, result: FanOutResult[Any, Any], target: Any) -> RequestTimeoutError:
        error = result.failures[target].value
        if not isinstance(error, RequestTimeoutError):
            self.fail(f"{target!r} failed with {error!r}, not a RequestTimeoutError")
        return error


class FanOutResultTests(FanOutTestCase):
    def test_five_drivers_answer_and_the_failing_target_fails(self) -> None:
        drivers = [DummyNodeDriver("key", region=f"r{n}", reactor=self.clock) for n in range(5)]
        broken = DummyNodeDriver(
            "key", region="broken", reactor=self.clock, ex_fail_with=InvalidCredsError("no")
        )
        result = self.result_of(fan_out(lambda d: d.list_nodes(), [*drivers, broken]))
        self.assertEqual(list(result.results), drivers)
        self.assertEqual([len(nodes) for nodes in result.results.values()], [2] * 5)
        self.assertEqual(list(result.failures), [broken])
        self.assertIsInstance(result.failures[broken].value, InvalidCredsError)
        self.assertFalse(result.ok)

    def test_ok_when_every_target_answers(self) -> None:
        result = self.result_of(fan_out(lambda n: n * 2, [1, 2, 3]))
        self.assertEqual(
            (result.results, result.failures, result.ok), ({1: 2, 2: 4, 3: 6}, {}, True)
        )

    def test_no_targets_give_an_empty_result(self) -> None:
        result = self.result_of(fan_out(lambda n: n, []))
        self.assertEqual((result.results, result.failures, result.ok), ({}, {}, True))

    def test_results_follow_the_targets_not_the_answers(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b", "c", "d"])
        for target in ["d", "b", "c", "a"]:
            calls.answer(target)
        self.assertEqual(list(self.result_of(d).results), ["a", "b", "c", "d"])

    def test_failures_follow_the_targets(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b", "c"])
        calls.fail("c", ValueError("c"))
        calls.answer("b")
        calls.fail("a", ValueError("a"))
        self.assertEqual(list(self.result_of(d).failures), ["a", "c"])

    def test_fires_only_once_every_target_answered(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b"])
        calls.fail("a", ServiceUnavailableError())
        self.assertNoResult(d)
        calls.answer("b")
        result = self.result_of(d)
        self.assertEqual(result.results, {"b": "answer b"})

    def test_coroutine_calls_are_awaited(self) -> None:
        async def call(target: int) -> int:
            await self.sleep(target)
            return target * 10

        d = fan_out(call, [1, 2])
        self.clock.advance(1)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.result_of(d).results, {1: 10, 2: 20})

    def test_plain_values_are_results(self) -> None:
        self.assertEqual(self.result_of(fan_out(str, [1])).results, {1: "1"})

    def test_synchronous_exceptions_are_captured_per_target(self) -> None:
        def call(target: int) -> int:
            if target == 2:
                raise KeyError("boom")
            return target

        result = self.result_of(fan_out(call, [1, 2, 3]))
        self.assertEqual(result.results, {1: 1, 3: 3})
        self.assertIsInstance(result.failures[2].value, KeyError)

    def test_failing_coroutine_is_captured(self) -> None:
        async def call(target: str) -> str:
            raise ServiceUnavailableError(target)

        result = self.result_of(fan_out(call, ["x"]))
        self.assertIsInstance(result.failures["x"].value, ServiceUnavailableError)

    def test_failures_are_logged_with_the_target(self) -> None:
        broken = DummyNodeDriver(
            "key", "secret-do-not-log", ex_fail_with=ServiceUnavailableError("maintenance")
        )
        with capturedLogs() as events:
            self.result_of(fan_out(lambda d: d.list_nodes(), [broken]))
        [event] = events
        message = formatEvent(event)
        self.assertIn(repr(broken), message)
        self.assertIn("maintenance", message)
        self.assertNotIn("secret-do-not-log", message)

    def test_successes_are_not_logged(self) -> None:
        with capturedLogs() as events:
            self.result_of(fan_out(lambda n: n, [1, 2]))
        self.assertEqual(list(events), [])


class ConcurrencyTests(FanOutTestCase):
    def test_at_most_two_calls_in_flight_with_concurrency_two(self) -> None:
        calls = ControlledCalls()
        targets = list(range(7))
        d = fan_out(calls, targets, concurrency=2)
        while calls.pending:
            self.assertLessEqual(calls.in_flight, 2)
            calls.answer(min(calls.pending))
        self.assertEqual(calls.most_in_flight, 2)
        self.assertEqual(list(self.result_of(d).results), targets)

    def test_a_call_starts_only_when_another_ends(self) -> None:
        calls = ControlledCalls()
        fan_out(calls, ["a", "b", "c"], concurrency=2)
        self.assertEqual(calls.started, ["a", "b"])
        calls.fail("b", ValueError())
        self.assertEqual(calls.started, ["a", "b", "c"])

    def test_failures_free_their_slot(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b", "c"], concurrency=1)
        calls.fail("a", ValueError())
        calls.fail("b", ValueError())
        calls.answer("c")
        self.assertEqual(list(self.result_of(d).failures), ["a", "b"])

    def test_default_concurrency_is_ten(self) -> None:
        calls = ControlledCalls()
        fan_out(calls, range(25))
        self.assertEqual((multi.DEFAULT_CONCURRENCY, calls.in_flight), (10, 10))

    def test_many_targets_answering_at_once_do_not_recurse(self) -> None:
        first: Deferred[int] = Deferred()

        def call(target: int) -> Deferred[int]:
            return first if target == 0 else succeed(target)

        d = fan_out(call, range(5000), concurrency=1)
        first.callback(0)
        self.assertEqual(len(self.result_of(d).results), 5000)

    def test_waiting_targets_hold_no_deferred(self) -> None:
        # Thousands of targets waiting for a slot must not each hold a
        # Deferred (the collector would walk them all through the fan-out).
        calls = ControlledCalls()
        gc.collect()
        before = _deferreds()
        d = fan_out(calls, range(5000), concurrency=2)
        gc.collect()
        self.assertLess(_deferreds() - before, 20)
        while calls.pending:
            calls.answer(min(calls.pending))
        self.assertEqual(len(self.result_of(d).results), 5000)


def _deferreds() -> int:
    return sum(isinstance(thing, Deferred) for thing in gc.get_objects())


class TimeoutTests(FanOutTestCase):
    def test_slow_target_times_out_and_the_others_are_kept(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["fast", "slow"], timeout=5, reactor=self.clock)
        calls.answer("fast")
        self.clock.advance(4.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        result = self.result_of(d)
        self.assertEqual(result.results, {"fast": "answer fast"})
        self.timeout_error(result, "slow")
        self.assertEqual(calls.cancelled, ["slow"])

    def test_timeout_error_names_the_target_and_the_timeout(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["slow"], timeout=5, reactor=self.clock)
        self.clock.advance(5)
        error = self.timeout_error(self.result_of(d), "slow")
        self.assertIn("'slow'", error.message)
        self.assertIn("5", error.message)

    def test_timeout_error_names_a_driver_target(self) -> None:
        driver = DummyNodeDriver("key", reactor=self.clock, ex_latency=10)
        d = fan_out(lambda d: d.list_nodes(), [driver], timeout=5, reactor=self.clock)
        self.clock.advance(5)
        error = self.timeout_error(self.result_of(d), driver)
        self.assertEqual(error.driver_name, "Dummy Node Provider")

    def test_timeout_counts_from_the_start_of_each_call(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b"], concurrency=1, timeout=5, reactor=self.clock)
        self.clock.advance(4)
        calls.answer("a")
        self.clock.advance(4)
        calls.answer("b")
        self.assertEqual(self.result_of(d).failures, {})

    def test_answers_in_time_leave_no_delayed_calls(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b"], timeout=5, reactor=self.clock)
        calls.answer("a")
        calls.answer("b")
        self.result_of(d)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_timed_out_coroutine_is_cancelled(self) -> None:
        finished: list[str] = []

        async def call(target: str) -> str:
            await self.sleep(60)
            finished.append(target)
            return target

        d = fan_out(call, ["x"], timeout=1, reactor=self.clock)
        self.clock.advance(1)
        self.timeout_error(self.result_of(d), "x")
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(finished, [])


class ArgumentTests(FanOutTestCase):
    def assertRefused(self, targets: Any, **kwargs: Any) -> None:
        calls = ControlledCalls()
        self.assertRaises(InvalidArgumentError, fan_out, calls, targets, **kwargs)
        self.assertEqual(calls.started, [])

    def test_repeated_targets_are_refused(self) -> None:
        self.assertRefused(["a", "b", "a"])

    def test_unhashable_targets_are_refused(self) -> None:
        self.assertRefused([["a"], ["b"]])

    def test_concurrency_below_one_is_refused(self) -> None:
        self.assertRefused(["a"], concurrency=0)

    def test_fractional_concurrency_is_refused(self) -> None:
        self.assertRefused(["a"], concurrency=1.5)

    def test_zero_timeout_is_refused(self) -> None:
        self.assertRefused(["a"], timeout=0, reactor=self.clock)

    def test_negative_timeout_is_refused(self) -> None:
        self.assertRefused(["a"], timeout=-1, reactor=self.clock)


class CancellationTests(FanOutTestCase):
    def test_cancelling_cancels_calls_in_flight_and_starts_no_more(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b", "c", "d"], concurrency=2)
        calls.answer("a")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(calls.cancelled, ["b", "c"])
        self.assertEqual(calls.started, ["a", "b", "c"])

    def test_cancelling_removes_the_timeouts(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b"], timeout=5, reactor=self.clock)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_cancelling_is_not_logged_as_target_failures(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, ["a", "b"])
        with capturedLogs() as events:
            d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(list(events), [])

    def test_cancelling_after_the_result_changes_nothing(self) -> None:
        d = fan_out(lambda n: n, [1])
        d.cancel()
        self.assertEqual(self.result_of(d).results, {1: 1})

    def test_cancelling_many_queued_targets_does_not_recurse(self) -> None:
        calls = ControlledCalls()
        d = fan_out(calls, range(5000), concurrency=10)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(len(calls.started), 10)


class FakeStorageDriver(StorageDriver):
    name = "Fake Storage"
    type = "fake-storage"

    def iterate_containers(self) -> AsyncIterator[Bucket]:
        return self._containers()

    async def _containers(self) -> AsyncIterator[Bucket]:
        for name in ("logs", "backups"):
            yield Bucket(name, {}, self)


class FakeContainerDriver(ContainerDriver):
    name = "Fake Containers"
    type = "fake-containers"

    def list_containers(
        self, image: ContainerImage | None = None, all: bool = True, **kwargs: Any
    ) -> Deferred[list[Container]]:
        image = ContainerImage("i1", "nginx", "library/nginx", "1", self)
        return succeed([Container("c1", "web", image, ContainerState.RUNNING, [], self)])


class HelperTests(FanOutTestCase):
    def test_list_nodes_lists_every_region(self) -> None:
        drivers = [
            DummyNodeDriver("key", region=region, reactor=self.clock)
            for region in ("eu-1", "us-1", "ap-1")
        ]
        result = self.result_of(multi.list_nodes(drivers))
        self.assertEqual(
            {
                driver.region: [node.name for node in nodes]
                for driver, nodes in result.results.items()
            },
            {
                "eu-1": ["dummy-eu-1-1", "dummy-eu-1-2"],
                "us-1": ["dummy-us-1-1", "dummy-us-1-2"],
                "ap-1": ["dummy-ap-1-1", "dummy-ap-1-2"],
            },
        )
        ids = [node.id for nodes in result.results.values() for node in nodes]
        self.assertEqual(len(set(ids)), 6)

    def test_list_nodes_keeps_answers_when_a_region_fails(self) -> None:
        good = DummyNodeDriver("key", region="eu-1", reactor=self.clock)
        bad = DummyNodeDriver(
            "key", region="us-1", reactor=self.clock, ex_fail_with=ServiceUnavailableError()
        )
        result = self.result_of(multi.list_nodes([good, bad]))
        self.assertEqual((list(result.results), list(result.failures)), ([good], [bad]))

    def test_list_nodes_takes_timeouts_from_the_drivers_reactor(self) -> None:
        slow = DummyNodeDriver("key", region="eu-1", reactor=self.clock, ex_latency=10)
        d = multi.list_nodes([slow], timeout=5)
        self.clock.advance(5)
        self.timeout_error(self.result_of(d), slow)

    def test_list_nodes_passes_the_concurrency_on(self) -> None:
        drivers = [
            DummyNodeDriver("key", region=f"r{n}", reactor=self.clock, ex_latency=1)
            for n in range(4)
        ]
        d = multi.list_nodes(drivers, concurrency=2)
        self.clock.advance(1)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(len(self.result_of(d).results), 4)

    def test_list_containers_lists_storage_and_container_drivers(self) -> None:
        storage, containers = FakeStorageDriver(), FakeContainerDriver()
        result = self.result_of(multi.list_containers([storage, containers]))
        self.assertEqual(
            {driver.name: [c.name for c in found] for driver, found in result.results.items()},
            {"Fake Storage": ["logs", "backups"], "Fake Containers": ["web"]},
        )
