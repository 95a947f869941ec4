"""
When and how long to wait before sending a failed request again:
exponential backoff with full jitter, and the ``Retry-After`` header.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timezone
from email.utils import parsedate_to_datetime

import attrs

from txcloud.errors import (
    InvalidArgumentError,
    NetworkError,
    ProxyAuthenticationError,
    RateLimitReached,
    ServiceUnavailableError,
    TLSVerificationError,
)

# Servers send whole seconds (RFC 9110); a fraction is tolerated.
_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def full_jitter(cap: float, rng: random.Random | None = None) -> float:
    """
    A delay drawn uniformly from ``[0, cap]`` ("full jitter"), which spreads
    the retries of many clients that failed together.

    :param cap: the backoff ceiling for this attempt.
    :param rng: the random source; the :mod:`random` module's by default.
    """
    return (rng or random).uniform(0.0, cap)


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise InvalidArgumentError(f"{attribute.name} must be positive, not {value!r}")


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{attribute.name} must be at least 1, not {value!r}")


@attrs.frozen
class RetryPolicy:
    """
    How often and how patiently a transport retries.

    Only idempotent requests with a replayable body are retried, and only
    after a failure :meth:`is_retryable` accepts.  Attempt *n* (from 1)
    waits ``jitter(min(max_delay, base_delay * 2 ** (n - 1)))`` seconds,
    unless the response said ``Retry-After``, which is honoured up to
    *max_delay*.

    :param max_attempts: attempts in all, the first one included; 1 turns
        retrying off.
    :param base_delay: the backoff ceiling after the first failure.
    :param max_delay: the largest wait, whatever the backoff or the server say.
    :param jitter: maps a ceiling to the actual delay; :func:`full_jitter`
        by default, ``lambda cap: cap`` for plain exponential backoff.
    """

    max_attempts: int = attrs.field(default=5, validator=_at_least_one)
    base_delay: float = attrs.field(default=0.1, validator=_positive)
    max_delay: float = attrs.field(default=20.0, validator=_positive)
    jitter: Callable[[float], float] = attrs.field(default=full_jitter, repr=False)

    def is_retryable(self, error: Exception) -> bool:
        """
        Whether a failed attempt is worth repeating: throttling, a server
        failure or a network failure (proxy failures included), except a
        TLS verification failure or refused proxy credentials (which will
        fail again the same way).
        """
        if isinstance(error, (TLSVerificationError, ProxyAuthenticationError)):
            return False
        return isinstance(error, (RateLimitReached, ServiceUnavailableError, NetworkError))

    def backoff(self, attempt: int) -> float:
        """
        The backoff ceiling after failed attempt *attempt* (counted from 1).
        """
        # Bound the exponent: 2 ** 1100 overflows a float.
        return min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 1000))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """
        Seconds to wait after failed attempt *attempt* (counted from 1).

        :param retry_after: what the server asked for, if anything.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return min(max(self.jitter(self.backoff(attempt)), 0.0), self.max_delay)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """
    Read a ``Retry-After`` header: delay-seconds or an HTTP-date.

    :param value: the header's value, or ``None`` when absent.
    :param now: the current POSIX time (the reactor's ``seconds()``), to turn
        a date into a delay.
    :returns: seconds to wait (never negative), or ``None`` when absent or
        unreadable.
    """
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # HTTP-dates are always GMT.
        when = when.replace(tzinfo=timezone.utc)
    return max(when.timestamp() - now, 0.0)
