"""Tests for txcloud.http.retry: backoff, jitter and Retry-After."""

from __future__ import annotations

import random
from email.utils import formatdate

from twisted.trial.unittest import SynchronousTestCase

from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    MalformedResponseError,
    NetworkError,
    ProviderError,
    RateLimitReached,
    RequestTimeoutError,
    ServiceUnavailableError,
    TLSVerificationError,
)
from txcloud.http.retry import RetryPolicy, full_jitter, parse_retry_after


def no_jitter(cap: float) -> float:
    return cap


class BackoffTests(SynchronousTestCase):
    def test_ceiling_doubles_from_base_delay(self) -> None:
        policy = RetryPolicy(base_delay=0.1, max_delay=100.0)
        self.assertEqual(
            [round(policy.backoff(n), 6) for n in range(1, 6)], [0.1, 0.2, 0.4, 0.8, 1.6]
        )

    def test_ceiling_is_capped_by_max_delay(self) -> None:
        policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
        self.assertEqual([policy.backoff(n) for n in (3, 4, 10, 5000)], [4.0, 5.0, 5.0, 5.0])

    def test_without_jitter_delay_is_the_ceiling(self) -> None:
        policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=no_jitter)
        self.assertEqual([policy.delay(n) for n in (1, 2, 3, 4)], [0.5, 1.0, 2.0, 3.0])

    def test_full_jitter_delays_stay_within_zero_and_the_ceiling(self) -> None:
        rng = random.Random(1234)
        policy = RetryPolicy(base_delay=0.1, max_delay=2.0, jitter=lambda c: full_jitter(c, rng))
        for attempt in range(1, 8):
            ceiling = policy.backoff(attempt)
            delays = [policy.delay(attempt) for _ in range(200)]
            self.assertTrue(all(0.0 <= d <= ceiling for d in delays), attempt)
            # Spread over the whole range, not bunched at one end.
            self.assertLess(min(delays), ceiling * 0.1)
            self.assertGreater(max(delays), ceiling * 0.9)

    def test_full_jitter_draws_uniformly_from_zero_to_cap(self) -> None:
        calls: list[tuple[float, float]] = []

        class FakeRandom(random.Random):
            def uniform(self, a: float, b: float) -> float:
                calls.append((a, b))
                return b / 2

        self.assertEqual(full_jitter(3.0, FakeRandom()), 1.5)
        self.assertEqual(calls, [(0.0, 3.0)])

    def test_retry_after_replaces_backoff(self) -> None:
        policy = RetryPolicy(base_delay=0.1, max_delay=20.0, jitter=no_jitter)
        self.assertEqual(policy.delay(1, retry_after=7.0), 7.0)

    def test_retry_after_is_capped_by_max_delay(self) -> None:
        policy = RetryPolicy(max_delay=20.0)
        self.assertEqual(policy.delay(1, retry_after=3600.0), 20.0)

    def test_invalid_settings_are_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, RetryPolicy, max_attempts=0)
        self.assertRaises(InvalidArgumentError, RetryPolicy, base_delay=0)
        self.assertRaises(InvalidArgumentError, RetryPolicy, max_delay=-1)


class RetryableTests(SynchronousTestCase):
    def test_throttling_server_and_network_failures_are_retryable(self) -> None:
        policy = RetryPolicy()
        for error in (
            RateLimitReached("x"),
            ServiceUnavailableError("x"),
            NetworkError("x"),
            RequestTimeoutError("x"),
        ):
            self.assertTrue(policy.is_retryable(error), error)

    def test_other_failures_are_not_retryable(self) -> None:
        policy = RetryPolicy()
        for error in (
            TLSVerificationError("x"),
            InvalidCredsError("x"),
            ProviderError("x"),
            MalformedResponseError("x"),
            ValueError("x"),
        ):
            self.assertFalse(policy.is_retryable(error), error)


class ParseRetryAfterTests(SynchronousTestCase):
    def test_delay_seconds(self) -> None:
        self.assertEqual(parse_retry_after("120", now=0.0), 120.0)

    def test_http_date_is_relative_to_now(self) -> None:
        now = 1_700_000_000.0
        header = formatdate(now + 30, usegmt=True)
        self.assertEqual(parse_retry_after(header, now=now), 30.0)

    def test_date_in_the_past_means_no_wait(self) -> None:
        self.assertEqual(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=100.0), 0.0)

    def test_absent_or_unreadable_header_gives_none(self) -> None:
        self.assertIsNone(parse_retry_after(None, now=0.0))
        self.assertIsNone(parse_retry_after("soon", now=0.0))
        self.assertIsNone(parse_retry_after("-5", now=0.0))
