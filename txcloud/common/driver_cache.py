"""
Drivers built once per key (a configured target) and closed together, for
the command line and the inventory service, which both keep one driver per
target for as long as they run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.python.failure import Failure

__all__ = ["DriverCache"]

_K = TypeVar("_K", bound=Hashable)


class DriverCache(Generic[_K]):
    """
    Each key's driver, built on first use.

    :param build: makes the driver of a key.
    """

    def __init__(self, build: Callable[[_K], Any]) -> None:
        self._build = build
        self._drivers: dict[_K, Any] = {}

    def get(self, key: _K) -> Any:
        """The driver of *key*, built now if it has not been yet."""
        if key not in self._drivers:
            self._drivers[key] = self._build(key)
        return self._drivers[key]

    def close(self, on_error: Callable[[_K, Failure], None] | None = None) -> Deferred[None]:
        """
        Close every driver built so far, whatever happens to each, and forget them.

        :param on_error: called with the key and the failure of each driver
            whose ``close`` failed; such failures are dropped when ``None``.
        :returns: a Deferred firing once every driver is closed.
        """
        drivers = list(self._drivers.items())
        self._drivers.clear()
        closing = []
        for key, driver in drivers:
            closed = maybeDeferred(driver.close)
            if on_error is not None:
                closed.addErrback(_report, on_error, key)
            closing.append(closed)
        return DeferredList(closing, consumeErrors=True).addCallback(lambda _: None)


def _report(failure: Failure, on_error: Callable[[_K, Failure], None], key: _K) -> None:
    on_error(key, failure)
