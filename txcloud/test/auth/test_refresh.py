"""Tests for txcloud.auth.refresh: the windows, one fetch in flight, failures."""

from __future__ import annotations

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.refresh import (
    DEFAULT_ADVISORY_WINDOW,
    DEFAULT_MANDATORY_WINDOW,
    Expiring,
    Refreshing,
)
from txcloud.errors import InvalidArgumentError, InvalidCredsError, NetworkError
from txcloud.test.http._support import capture_logs

HOUR = 3600.0


class Source:
    """A fetch whose answers the test gives, one Deferred per call."""

    def __init__(self) -> None:
        self.calls: list[Deferred[Expiring[str]]] = []

    def __call__(self) -> Deferred[Expiring[str]]:
        pending: Deferred[Expiring[str]] = Deferred()
        self.calls.append(pending)
        return pending


class RefreshingTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.source = Source()
        self.value: Refreshing[str] = Refreshing(
            self.source, self.clock, description="test credentials"
        )

    def answer(self, value: str, lifetime: float | None = HOUR, call: int = -1) -> None:
        expires_at = None if lifetime is None else self.clock.seconds() + lifetime
        self.source.calls[call].callback(Expiring(value, expires_at))

    def first(self, lifetime: float | None = HOUR) -> None:
        pending = self.value.get()
        self.answer("one", lifetime)
        self.assertEqual(self.successResultOf(pending), "one")

    def test_the_defaults_are_the_aws_sdks_windows(self) -> None:
        self.assertEqual((DEFAULT_ADVISORY_WINDOW, DEFAULT_MANDATORY_WINDOW), (900.0, 600.0))

    def test_callers_share_one_fetch_in_flight(self) -> None:
        waiting = [self.value.get() for _ in range(5)]
        self.assertEqual(len(self.source.calls), 1)
        self.assertNoResult(waiting[0])
        self.answer("one")
        self.assertEqual([self.successResultOf(d) for d in waiting], ["one"] * 5)

    def test_a_fresh_value_is_returned_without_fetching(self) -> None:
        self.first()
        self.clock.advance(HOUR - DEFAULT_ADVISORY_WINDOW - 1)
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(len(self.source.calls), 1)

    def test_a_value_that_never_expires_is_never_fetched_again(self) -> None:
        self.first(lifetime=None)
        self.clock.advance(10 * 365 * 24 * HOUR)
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(self.value.fresh(), "one")
        self.assertEqual(len(self.source.calls), 1)

    def test_the_advisory_window_refreshes_in_the_background(self) -> None:
        self.first()
        self.clock.advance(HOUR - DEFAULT_ADVISORY_WINDOW)
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(len(self.source.calls), 2)
        self.answer("two")
        self.assertEqual(self.successResultOf(self.value.get()), "two")

    def test_the_mandatory_window_makes_callers_wait(self) -> None:
        self.first()
        self.clock.advance(HOUR - DEFAULT_MANDATORY_WINDOW)
        self.assertIsNone(self.value.fresh())
        pending = self.value.get()
        self.assertNoResult(pending)
        self.answer("two")
        self.assertEqual(self.successResultOf(pending), "two")
        self.assertEqual(self.value.fresh(), "two")

    def test_callers_in_the_mandatory_window_join_a_background_refresh(self) -> None:
        self.first()
        self.clock.advance(HOUR - DEFAULT_ADVISORY_WINDOW)
        self.value.get()
        self.clock.advance(DEFAULT_ADVISORY_WINDOW - DEFAULT_MANDATORY_WINDOW)
        pending = self.value.get()
        self.assertEqual(len(self.source.calls), 2)
        self.answer("two")
        self.assertEqual(self.successResultOf(pending), "two")

    def test_a_failed_background_refresh_is_logged_and_retried_later(self) -> None:
        logs = capture_logs(self)
        self.first()
        self.clock.advance(HOUR - DEFAULT_ADVISORY_WINDOW)
        self.value.get()
        self.source.calls[-1].errback(NetworkError("connection refused"))
        [event] = [e for e in logs if e["log_level"].name == "warn"]
        self.assertIn("test credentials", formatEvent(event))
        self.assertIn("connection refused", formatEvent(event))
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(len(self.source.calls), 2)
        self.clock.advance(60)
        self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(len(self.source.calls), 3)
        self.answer("two")
        self.assertEqual(self.successResultOf(self.value.get()), "two")

    def test_short_lived_values_are_not_refreshed_on_every_call(self) -> None:
        # A 15-minute value sits in the advisory window from the start.
        self.first(lifetime=900)
        for _ in range(5):
            self.assertEqual(self.successResultOf(self.value.get()), "one")
        self.assertEqual(len(self.source.calls), 1)
        self.clock.advance(60)
        self.value.get()
        self.assertEqual(len(self.source.calls), 2)

    def test_a_failed_refresh_in_the_mandatory_window_fails_the_callers(self) -> None:
        self.first()
        self.clock.advance(HOUR - DEFAULT_MANDATORY_WINDOW + 1)
        waiting = [self.value.get(), self.value.get()]
        self.source.calls[-1].errback(InvalidCredsError("the role cannot be assumed"))
        for pending in waiting:
            self.failureResultOf(pending, InvalidCredsError)
        retried = self.value.get()
        self.assertEqual(len(self.source.calls), 3)
        self.answer("two")
        self.assertEqual(self.successResultOf(retried), "two")

    def test_an_expired_value_is_never_returned(self) -> None:
        self.first()
        self.clock.advance(HOUR + 1)
        pending = self.value.get()
        self.source.calls[-1].errback(NetworkError("down"))
        self.failureResultOf(pending, NetworkError)

    def test_a_value_fetched_inside_the_mandatory_window_is_fetched_again(self) -> None:
        # No stretching: a value that arrives with five minutes left is
        # handed to the callers who asked, and fetched again for the next.
        pending = self.value.get()
        self.answer("short", lifetime=300)
        self.assertEqual(self.successResultOf(pending), "short")
        self.assertNoResult(self.value.get())
        self.assertEqual(len(self.source.calls), 2)

    def test_cancelling_one_caller_leaves_the_fetch_to_the_others(self) -> None:
        first, second = self.value.get(), self.value.get()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.assertFalse(self.source.calls[0].called)
        self.answer("one")
        self.assertEqual(self.successResultOf(second), "one")

    def test_a_fetch_may_be_a_coroutine_or_raise_at_once(self) -> None:
        async def fetch() -> Expiring[str]:
            return Expiring("coro", None)

        value: Refreshing[str] = Refreshing(fetch, self.clock)
        self.assertEqual(self.successResultOf(value.get()), "coro")

        def broken() -> Deferred[Expiring[str]]:
            raise InvalidCredsError("no source")

        failing: Refreshing[str] = Refreshing(broken, self.clock)
        self.failureResultOf(failing.get(), InvalidCredsError)
        self.failureResultOf(
            Refreshing(lambda: fail(NetworkError("x")), self.clock).get(), NetworkError
        )

    def test_invalidate_forgets_the_value(self) -> None:
        self.first()
        self.value.invalidate()
        self.assertIsNone(self.value.current)
        pending = self.value.get()
        self.answer("two")
        self.assertEqual(self.successResultOf(pending), "two")

    def test_windows_must_be_ordered_and_non_negative(self) -> None:
        for arguments in (
            {"advisory_window": -1.0},
            {"mandatory_window": 901.0},
            {"retry_interval": -5.0},
        ):
            with self.assertRaises(InvalidArgumentError):
                Refreshing(lambda: succeed(Expiring("x")), self.clock, **arguments)  # type: ignore[arg-type]

    def test_repr_shows_the_description_and_expiry_never_the_value(self) -> None:
        self.first()
        text = repr(self.value) + repr(self.value.current)
        self.assertNotIn("one", text)
        self.assertIn("test credentials", text)
        self.assertIn(str(self.clock.seconds() + HOUR), text)
