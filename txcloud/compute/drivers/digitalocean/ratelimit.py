"""
DigitalOcean's rate-limit headers turned into a gate: once
``ratelimit-remaining`` reaches zero, no request goes out before the time
``ratelimit-reset`` names.

Every answer carries ``ratelimit-limit`` (requests per hour),
``ratelimit-remaining`` and ``ratelimit-reset`` (the POSIX time at which the
oldest counted request stops counting, so one more may be sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.task import deferLater
from twisted.logger import Logger

__all__ = ["RateLimit", "header_int", "seconds_until_reset"]

_log = Logger()


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """The integer value of header *name*, or ``None`` when absent or unreadable."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def seconds_until_reset(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds from *now* until ``ratelimit-reset``, never negative; ``None`` without it."""
    reset = header_int(headers, "ratelimit-reset")
    if reset is None:
        return None
    return max(reset - now, 0.0)


class RateLimit:
    """
    What the latest answers said about the token's rate limit, and a gate
    that holds requests back while none remain.

    Each request sent counts against the last known ``remaining`` at once,
    so requests sent together do not all spend the last one.

    :param clock: the reactor whose ``seconds()`` is POSIX time and whose
        ``callLater`` runs the wait.
    :param driver: the driver's name, for log messages.
    """

    def __init__(self, clock: Any, driver: str) -> None:
        self._clock = clock
        self._driver = driver
        #: Requests per hour, as last reported.
        self.limit: int | None = None
        #: Requests left before the limit, as last reported less those sent since.
        self.remaining: int | None = None
        #: When (POSIX seconds) the oldest counted request stops counting.
        self.reset: int | None = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take in the rate-limit headers of an answer (any status)."""
        remaining = header_int(headers, "ratelimit-remaining")
        reset = header_int(headers, "ratelimit-reset")
        if remaining is None or reset is None:
            return
        if reset == self.reset and self.remaining is not None:
            # Answers to requests sent together arrive in any order: within
            # one window the lowest count is the latest.
            remaining = min(remaining, self.remaining)
        self.remaining = remaining
        self.reset = reset
        self.limit = header_int(headers, "ratelimit-limit")

    def delay(self) -> float:
        """Seconds to wait before the next request may go out (0 when it may now)."""
        if self.remaining is None or self.remaining > 0 or self.reset is None:
            return 0.0
        return max(self.reset - self._clock.seconds(), 0.0)

    async def acquire(self) -> None:
        """
        Wait (on the clock) until a request may be sent, then count it.
        Cancelling the wait cancels the request.
        """
        while (delay := self.delay()) > 0:
            _log.info(
                "{driver}: rate limit reached, holding requests for {delay:.0f}s",
                driver=self._driver,
                delay=delay,
            )
            await deferLater(self._clock, delay)
        if self.remaining is not None and self.remaining > 0:
            self.remaining -= 1
