"""
Blocking use of txcloud drivers, for scripts and threaded programs without an event loop.

:func:`blocking` wraps a driver so that each method runs in the reactor
thread and the caller's thread waits for its result::

    from txcloud.compute.providers import get_driver
    from txcloud.sync import blocking

    driver = blocking(get_driver("dummy")("key"))
    for node in driver.list_nodes():        # a plain list, not a Deferred
        print(node.name)

The reactor runs in a background thread started by :func:`crochet.setup`
the first time a wrapped method is called (importing this module starts
nothing).  That needs the optional dependency ``crochet``: ``pip install
txcloud[sync]``.  Twisted programs never need this module: they use the
drivers' Deferreds directly.

To start a long call and keep working, ask the proxy's :attr:`~BlockingDriver.eventually`
for the method instead: it returns crochet's :class:`~crochet.EventualResult`
at once, whose ``wait(timeout)`` returns the value (or raises the error) later::

    pending = driver.eventually.list_nodes()
    ...                                      # other work meanwhile
    nodes = pending.wait(60)

Models returned by the proxy can be passed back to its methods; call their
own convenience methods (``node.reboot()``) only from Twisted code, as they
return Deferreds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from inspect import iscoroutine
from typing import Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure

from txcloud.errors import InvalidArgumentError, RequestTimeoutError

try:
    import crochet
except ImportError as e:
    raise ImportError(
        "txcloud.sync needs crochet, an optional dependency: pip install txcloud[sync]"
    ) from e

__all__ = ["BlockingDriver", "BlockingIterator", "blocking"]

_T = TypeVar("_T")

#: Seconds the caller waits beyond the timeout for the reactor thread to
#: report it, in case that thread is stuck.
_GRACE = 5.0

_EXHAUSTED = object()


def blocking(driver: Any, timeout: float = 60.0) -> BlockingDriver:
    """
    Wrap *driver* so its methods block and return plain values.

    :param driver: a txcloud driver (or any object whose methods return
        Deferreds or async iterators).
    :param timeout: seconds each call (and each step of an iterator) may take.
    :raises InvalidArgumentError: if *timeout* is not positive.
    """
    return BlockingDriver(driver, timeout)


def _timed_out(driver: Any, result: object, timeout: float) -> object:
    # Called by Deferred.addTimeout with what the cancelled Deferred fired with.
    if isinstance(result, Failure):
        result.trap(CancelledError)
        raise RequestTimeoutError(f"No answer within {timeout} seconds", driver)
    return result


def _start(driver: Any, call: Callable[[], Any], timeout: float | None) -> Any:
    """Run *call* in the reactor thread, bounding the Deferred it returns by *timeout*."""
    from twisted.internet import reactor

    result = call()
    if iscoroutine(result):
        result = Deferred.fromCoroutine(result)
    if isinstance(result, Deferred) and timeout is not None:
        result.addTimeout(timeout, reactor, onTimeoutCancel=partial(_timed_out, driver))
    return result


# Decorating starts nothing: crochet only needs its reactor when this is called.
_start_in_reactor = crochet.run_in_reactor(_start)


def _in_reactor(
    driver: Any, call: Callable[[], Any], timeout: float | None
) -> crochet.EventualResult:
    crochet.setup()
    eventual: crochet.EventualResult = _start_in_reactor(driver, call, timeout)
    return eventual


def _wait(driver: Any, call: Callable[[], Any], timeout: float) -> Any:
    """Run *call* in the reactor thread and return its result, or raise its error."""
    eventual = _in_reactor(driver, call, timeout)
    try:
        return eventual.wait(timeout + _GRACE)
    except crochet.TimeoutError:
        # The reactor thread did not even report its own timeout.
        eventual.cancel()
        raise RequestTimeoutError(f"No answer within {timeout} seconds", driver) from None


async def _next_item(iterator: AsyncIterator[_T]) -> _T | object:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _EXHAUSTED


async def _close(iterator: Any) -> None:
    await iterator.aclose()


class BlockingIterator(Iterator[Any]):
    """
    An async iterator of a driver, consumed one item at a time from another thread.

    Each item is fetched when asked for, so a stream is never held whole in
    memory; each step may take the proxy's timeout.
    """

    def __init__(self, driver: Any, iterator: AsyncIterator[Any], timeout: float) -> None:
        self._driver = driver
        self._iterator = iterator
        self._timeout = timeout

    def __next__(self) -> Any:
        item = _wait(self._driver, partial(_next_item, self._iterator), self._timeout)
        if item is _EXHAUSTED:
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop early, letting the iterator release what it holds (a download, a page)."""
        if hasattr(self._iterator, "aclose"):
            _wait(self._driver, partial(_close, self._iterator), self._timeout)


class _EventualMethods:
    """The driver's methods, started in the reactor thread without waiting."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    def __getattr__(self, name: str) -> Callable[..., crochet.EventualResult]:
        method = getattr(self._driver, name)
        if not callable(method):
            raise AttributeError(f"{name!r} is not a method of {self._driver!r}")

        def start(*args: Any, **kwargs: Any) -> crochet.EventualResult:
            return _in_reactor(self._driver, partial(_refuse_iterators, method, args, kwargs), None)

        return start

    def __repr__(self) -> str:
        return f"<eventually {self._driver!r}>"


def _refuse_iterators(method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    result = method(*args, **kwargs)
    if hasattr(result, "__anext__"):
        raise InvalidArgumentError(
            f"{method.__name__} returns an async iterator: call it on the blocking proxy "
            "to iterate, or start the matching list_* method eventually"
        )
    return result


class BlockingDriver:
    """
    A driver whose methods block until their Deferred fires.

    Methods return the value their Deferred fires with, or raise the txcloud
    error it fails with; one that takes longer than the timeout raises
    :class:`~txcloud.errors.RequestTimeoutError` and its Deferred is
    cancelled.  Methods returning async iterators return a
    :class:`BlockingIterator`.  Attributes that are not methods are the
    driver's own.

    :param driver: the driver to wrap.
    :param timeout: seconds each call may take.
    :raises InvalidArgumentError: if *timeout* is not positive.
    """

    def __init__(self, driver: Any, timeout: float = 60.0) -> None:
        if not timeout > 0:
            raise InvalidArgumentError(f"timeout must be positive, not {timeout!r}")
        self._driver = driver
        self._timeout = timeout

    @property
    def driver(self) -> Any:
        """The wrapped driver, for use from Twisted code."""
        return self._driver

    @property
    def timeout(self) -> float:
        """Seconds each call may take."""
        return self._timeout

    @property
    def eventually(self) -> Any:
        """
        The driver's methods, returning :class:`crochet.EventualResult` at once.

        ``proxy.eventually.list_nodes()`` starts the call and returns; its
        ``wait(timeout)`` gives the value or raises the error, and
        ``cancel()`` cancels the call.  Methods returning async iterators are
        refused (the result raises :class:`~txcloud.errors.InvalidArgumentError`).
        """
        return _EventualMethods(self._driver)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._driver, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = _wait(self._driver, partial(attribute, *args, **kwargs), self._timeout)
            if hasattr(result, "__anext__"):
                return BlockingIterator(self._driver, result, self._timeout)
            return result

        call.__name__ = name
        call.__doc__ = attribute.__doc__
        return call

    def __repr__(self) -> str:
        return f"<BlockingDriver {self._driver!r}>"
