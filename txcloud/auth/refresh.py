"""
Values that expire and are fetched again before they do: temporary
credentials and access tokens of every cloud.

A :class:`Refreshing` caches one :class:`Expiring` value fetched by an
asynchronous function, and decides when to fetch the next one, as the AWS
SDKs do:

* outside the *advisory* window (by default more than 15 minutes before
  expiry) the cached value is returned at once;
* inside it, the cached value is still returned at once, and a refresh is
  started in the background; if it fails, the failure is logged and another
  attempt is made on a later call.  Background refreshes are at least
  *retry_interval* apart, so values that live less than the advisory
  window (15-minute role sessions) are not fetched again on every call;
* inside the *mandatory* window (by default the last 10 minutes) and after
  expiry, callers wait for the refresh, and a failed refresh fails them
  with the fetch's own (typed) error.

One fetch is in flight at a time and every caller waiting shares it;
cancelling one caller's Deferred leaves the fetch running for the others.
Time comes from the injected clock (``reactor.seconds()``), so tests drive
it with :class:`twisted.internet.task.Clock`.  Nothing here logs a value:
log lines name the value by its description and quote errors, which
txcloud's errors keep free of secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

import attrs
from twisted.internet.defer import Deferred, ensureDeferred, fail, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from txcloud.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_ADVISORY_WINDOW",
    "DEFAULT_MANDATORY_WINDOW",
    "DEFAULT_RETRY_INTERVAL",
    "Expiring",
    "Refreshing",
]

T = TypeVar("T")

#: Seconds before expiry from which a value is refreshed in the background.
DEFAULT_ADVISORY_WINDOW = 15 * 60.0

#: Seconds before expiry from which callers wait for a fresh value.
DEFAULT_MANDATORY_WINDOW = 10 * 60.0

#: Least seconds between two background refreshes.
DEFAULT_RETRY_INTERVAL = 60.0


@attrs.frozen(repr=False)
class Expiring(Generic[T]):
    """
    A value and when it expires.

    :ivar value: the value (credentials, a token...); never shown by ``repr``.
    :ivar expires_at: its expiry as a POSIX time, or ``None`` if it never
        expires.
    """

    value: T
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"<Expiring {type(self.value).__name__} expires_at={self.expires_at!r}>"


class Refreshing(Generic[T]):
    """
    A cached :class:`Expiring` value, fetched again before it expires.

    :param fetch: called with no argument to fetch a new value; returns a
        coroutine or a Deferred of an :class:`Expiring`.  Its
        exceptions should be typed txcloud errors without secrets: they
        reach the callers, and background ones are logged.
    :param clock: the reactor (``IReactorTime``) that tells the time.
    :param description: what the value is, for log lines (no secret).
    :param advisory_window: seconds before expiry from which the value is
        refreshed in the background.
    :param mandatory_window: seconds before expiry from which callers wait
        for the refresh; at most *advisory_window*.
    :param retry_interval: least seconds between the end of a fetch and a
        background refresh (after a failure, or a value that lives less
        than the advisory window).
    :raises InvalidArgumentError: for a negative window or interval, or a
        mandatory window longer than the advisory one.
    """

    log = Logger()

    def __init__(
        self,
        fetch: Callable[[], Coroutine[Any, Any, Expiring[T]] | Deferred[Expiring[T]]],
        clock: Any,
        *,
        description: str = "a value",
        advisory_window: float = DEFAULT_ADVISORY_WINDOW,
        mandatory_window: float = DEFAULT_MANDATORY_WINDOW,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
    ) -> None:
        for name, seconds in (
            ("advisory_window", advisory_window),
            ("mandatory_window", mandatory_window),
            ("retry_interval", retry_interval),
        ):
            if not (isinstance(seconds, (int, float)) and seconds >= 0):
                raise InvalidArgumentError(f"{name} must be a number >= 0, not {seconds!r}")
        if mandatory_window > advisory_window:
            raise InvalidArgumentError(
                "the mandatory window cannot be longer than the advisory window"
            )
        self.description = description
        self._fetch = fetch
        self._clock = clock
        self._advisory = float(advisory_window)
        self._mandatory = float(mandatory_window)
        self._retry_interval = float(retry_interval)
        self._current: Expiring[T] | None = None
        self._waiters: list[Deferred[T]] = []
        self._in_flight = False
        self._next_background_attempt = float("-inf")

    @property
    def current(self) -> Expiring[T] | None:
        """The cached value and its expiry, or ``None`` before the first fetch."""
        return self._current

    def fresh(self) -> T | None:
        """
        The cached value if it may be used without waiting, else ``None``.

        Unlike :meth:`get` it never starts a refresh: for synchronous code
        that can fall back to :meth:`get` when it returns ``None``.
        """
        current = self._current
        if current is None:
            return None
        if current.expires_at is None or self._clock.seconds() < (
            current.expires_at - self._mandatory
        ):
            return current.value
        return None

    def get(self) -> Deferred[T]:
        """
        The current value, refreshed first when it is (nearly) expired.

        :returns: a Deferred firing with the value, or failing with the
            fetch's error when no usable value could be fetched.  Cancelling
            it leaves a shared fetch running for the other callers.
        """
        current = self._current
        if current is not None:
            expires_at = current.expires_at
            if expires_at is None:
                return succeed(current.value)
            now = self._clock.seconds()
            if now < expires_at - self._mandatory:
                if (
                    now >= expires_at - self._advisory
                    and not self._in_flight
                    and now >= self._next_background_attempt
                ):
                    self._start()
                return succeed(current.value)
        waiter: Deferred[T] = Deferred(self._forget)
        self._waiters.append(waiter)
        if not self._in_flight:
            self._start()
        return waiter

    def invalidate(self) -> None:
        """Forget the cached value (the service refused it): the next call fetches one."""
        self._current = None

    def _forget(self, waiter: Deferred[T]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)

    def _start(self) -> None:
        self._in_flight = True
        pending: Deferred[Expiring[T]]
        try:
            pending = ensureDeferred(self._fetch())
        except Exception:
            pending = fail()
        pending.addBoth(self._fetched)

    def _fetched(self, result: Expiring[T] | Failure) -> None:
        self._in_flight = False
        waiters, self._waiters = self._waiters, []
        if isinstance(result, Failure):
            if not waiters:
                self._next_background_attempt = self._clock.seconds() + self._retry_interval
                self.log.warn(
                    "Could not refresh {what} in the background ({error}); "
                    "using the current one, valid until {expires_at}, meanwhile",
                    what=self.description,
                    error=str(result.value),
                    expires_at=self._current.expires_at if self._current else None,
                )
            for waiter in waiters:
                waiter.errback(result)
            return
        if not isinstance(result, Expiring):
            error = TypeError(f"the fetch for {self.description} gave no Expiring value")
            for waiter in waiters:
                waiter.errback(Failure(error))
            return
        self._current = result
        self._next_background_attempt = self._clock.seconds() + self._retry_interval
        for waiter in waiters:
            waiter.callback(result.value)

    def __repr__(self) -> str:
        expires_at = self._current.expires_at if self._current is not None else None
        return f"<Refreshing {self.description} expires_at={expires_at!r}>"
