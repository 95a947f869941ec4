"""Tests of txcloud.service.refresher: refreshing every target on an interval, by a Clock."""

from __future__ import annotations

from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import InvalidArgumentError, ServiceUnavailableError
from txcloud.service.refresher import Refresher
from txcloud.service.snapshot import TargetError, TargetStatus
from txcloud.test.service.helpers import SECRET, WatchedDrivers, dummy_config


class RefresherTestCase(SynchronousTestCase):
    def start(self, *entries: str, defaults: str = "", interval: float = 10.0) -> Refresher:
        """Start a refresher of dummy targets on a Clock; stop it at the end."""
        self.clock = Clock()
        config = dummy_config(*entries, defaults=defaults)
        self.drivers = WatchedDrivers(config, self.clock)
        refresher = Refresher(config, interval, self.clock, self.drivers)
        refresher.startService()
        self.addCleanup(lambda: refresher.running and refresher.stopService())
        return refresher

    def status(self, refresher: Refresher, label: str) -> TargetStatus:
        return next(s for s in refresher.snapshot().targets if s.target.label == label)

    def times(self, refresher: Refresher) -> list[float | None]:
        return [status.fetched_at for status in refresher.snapshot().targets]


class ScheduleTests(RefresherTestCase):
    def test_first_refresh_is_at_start(self) -> None:
        refresher = self.start("a", "b")
        self.assertEqual(self.drivers.calls, [("a", 0.0), ("b", 0.0)])
        self.assertEqual(self.times(refresher), [0.0, 0.0])
        self.assertEqual(len(self.status(refresher, "a").items), 2)

    def test_next_refresh_comes_after_the_interval(self) -> None:
        refresher = self.start("a")
        self.clock.advance(9.5)
        self.assertEqual(self.times(refresher), [0.0])
        self.clock.advance(0.5)
        self.assertEqual(self.times(refresher), [10.0])
        self.clock.advance(10)
        self.assertEqual(self.drivers.calls, [("a", 0.0), ("a", 10.0), ("a", 20.0)])

    def test_each_driver_is_built_once(self) -> None:
        self.start("a", "b")
        self.clock.pump([10, 10, 10])
        self.assertEqual(self.drivers.builds, ["a", "b"])
        self.assertEqual(len(self.drivers.calls), 8)

    def test_interval_must_be_positive(self) -> None:
        config = dummy_config("a")
        for interval in (0, -1.0):
            self.assertRaises(InvalidArgumentError, Refresher, config, interval, Clock())

    def test_configured_concurrency_limits_calls_in_flight(self) -> None:
        self.start("a ex_latency=1.0", "b ex_latency=1.0", defaults="concurrency = 1")
        self.assertEqual(self.drivers.calls, [("a", 0.0)])
        self.clock.advance(1)
        self.assertEqual(self.drivers.calls, [("a", 0.0), ("b", 1.0)])


class FailureTests(RefresherTestCase):
    def test_failed_target_keeps_its_last_good_items_with_the_error(self) -> None:
        refresher = self.start("fine", "flaky")
        items = self.status(refresher, "flaky").items
        self.drivers.driver("flaky").ex_fail_with = ServiceUnavailableError("down for repairs")
        self.clock.advance(10)
        self.assertEqual(
            self.status(refresher, "flaky"),
            TargetStatus(
                self.status(refresher, "flaky").target,
                items,
                0.0,
                TargetError("ServiceUnavailableError", "down for repairs", 10.0),
            ),
        )
        self.assertEqual(self.status(refresher, "fine").fetched_at, 10.0)

    def test_age_grows_while_the_target_fails(self) -> None:
        refresher = self.start("flaky")
        self.drivers.driver("flaky").ex_fail_with = ServiceUnavailableError("down")
        self.clock.pump([10, 10, 5])
        status = self.status(refresher, "flaky")
        self.assertEqual(status.age(self.clock.seconds()), 25.0)
        self.assertEqual(status.error, TargetError("ServiceUnavailableError", "down", 20.0))

    def test_success_clears_the_error(self) -> None:
        refresher = self.start("flaky")
        driver = self.drivers.driver("flaky")
        driver.ex_fail_with = ServiceUnavailableError("down")
        self.clock.advance(10)
        driver.ex_fail_with = None
        self.clock.advance(10)
        status = self.status(refresher, "flaky")
        self.assertEqual((status.fetched_at, status.error), (20.0, None))

    def test_target_that_never_answered_has_no_items(self) -> None:
        refresher = self.start("broken ex_node_count=-1")
        status = self.status(refresher, "broken")
        self.assertEqual((status.items, status.fetched_at), ((), None))
        self.assertEqual(
            status.error,
            TargetError("InvalidArgumentError", "ex_node_count must be an int >= 0, not -1", 0.0),
        )

    def test_timeout_is_the_configured_one(self) -> None:
        refresher = self.start("slow ex_latency=60.0", defaults="timeout = 5")
        self.clock.advance(4.9)
        self.assertIsNone(self.status(refresher, "slow").error)
        self.clock.advance(0.1)
        error = self.status(refresher, "slow").error
        assert error is not None
        self.assertEqual((error.type, error.at), ("RequestTimeoutError", 5.0))
        self.assertIn("within 5.0 seconds", error.message)


class OverlapTests(RefresherTestCase):
    def test_target_still_refreshing_is_skipped_and_the_others_are_not(self) -> None:
        refresher = self.start("slow ex_latency=25.0", "quick", defaults="timeout = 100")
        with capturedLogs() as events:
            self.clock.pump([10, 10, 5, 5])
        self.assertEqual(
            self.drivers.calls,
            [
                ("slow", 0.0),
                ("quick", 0.0),
                ("quick", 10.0),
                ("quick", 20.0),
                ("slow", 30.0),
                ("quick", 30.0),
            ],
        )
        self.assertEqual(self.times(refresher), [25.0, 30.0])
        skipped = [formatEvent(e) for e in events if "skipped" in formatEvent(e)]
        self.assertEqual(skipped, ["Refresh of slow still running; skipped this time"] * 2)

    def test_not_ready_until_every_target_answered_once(self) -> None:
        refresher = self.start("slow ex_latency=25.0", "quick", defaults="timeout = 100")
        self.assertFalse(refresher.snapshot().ready)
        self.clock.advance(24)
        self.assertFalse(refresher.snapshot().ready)
        self.clock.advance(1)
        self.assertTrue(refresher.snapshot().ready)

    def test_failure_counts_as_an_answer_for_readiness(self) -> None:
        refresher = self.start("broken ex_node_count=-1")
        self.assertTrue(refresher.snapshot().ready)


class StopTests(RefresherTestCase):
    def test_stop_cancels_refreshes_in_flight_and_leaves_no_delayed_calls(self) -> None:
        refresher = self.start("slow ex_latency=25.0", "quick", defaults="timeout = 100")
        self.clock.advance(10)
        self.assertNotEqual(self.clock.getDelayedCalls(), [])
        with capturedLogs() as events:
            self.assertIsNone(self.successResultOf(refresher.stopService()))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        # A cancelled refresh is no failure of the target.
        self.assertIsNone(self.status(refresher, "slow").error)
        self.assertEqual(self.times(refresher), [None, 10.0])
        self.assertEqual([formatEvent(e) for e in events], [])

    def test_stop_waits_for_every_driver_to_close(self) -> None:
        refresher = self.start("a", "b")
        closing: list[Deferred[None]] = []

        def close() -> Deferred[None]:
            closing.append(Deferred())
            return closing[-1]

        for name in ("a", "b"):
            self.drivers.driver(name).close = close
        stopped = refresher.stopService()
        self.assertEqual(len(closing), 2)
        closing[0].callback(None)
        self.assertNoResult(stopped)
        closing[1].callback(None)
        self.assertIsNone(self.successResultOf(stopped))

    def test_driver_that_fails_to_close_is_logged_and_stop_completes(self) -> None:
        refresher = self.start("a")
        self.drivers.driver("a").close = lambda: fail(OSError("socket trouble"))
        with capturedLogs() as events:
            self.assertIsNone(self.successResultOf(refresher.stopService()))
        self.assertEqual([formatEvent(e) for e in events], ["Closing the driver of a failed"])
        self.assertIsInstance(events[0]["log_failure"].value, OSError)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_no_refresh_after_stop(self) -> None:
        refresher = self.start("a")
        refresher.stopService()
        self.clock.advance(100)
        self.assertEqual(self.drivers.calls, [("a", 0.0)])

    def test_restart_builds_drivers_again_and_refreshes_at_once(self) -> None:
        refresher = self.start("a")
        refresher.stopService()
        self.clock.advance(5)
        refresher.startService()
        self.assertEqual(self.drivers.calls, [("a", 0.0), ("a", 5.0)])
        self.assertEqual(self.drivers.builds, ["a", "a"])


class LoggingTests(RefresherTestCase):
    def test_each_outcome_is_logged_by_target(self) -> None:
        with capturedLogs() as events:
            self.start("fine", "broken ex_node_count=-1")
        messages = [formatEvent(e) for e in events if e["log_namespace"].endswith("Refresher")]
        self.assertEqual(
            messages,
            [
                "Refreshed fine: items: 2",
                "Refresh of broken failed: InvalidArgumentError: "
                "ex_node_count must be an int >= 0, not -1",
            ],
        )

    def test_secret_is_in_no_log_event(self) -> None:
        with capturedLogs() as events:
            refresher = self.start("fine", "broken ex_node_count=-1")
            self.clock.advance(10)
            refresher.stopService()
        self.assertTrue(events)
        for event in events:
            self.assertNotIn(SECRET, formatEvent(event))
            self.assertNotIn(SECRET, repr(event))
