"""
Concurrency for transfers: :class:`BoundedFanout` runs the requests of one
transfer side by side (at most *limit* at once, the first failure cancelling
the others); :class:`SerialLane` runs blocking work (writes, hashing) in the
thread pool in order, off the reactor thread.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore, succeed
from twisted.python.failure import Failure

from txcloud.storage.transfer.files import run_blocking

__all__ = ["BoundedFanout", "SerialLane"]

_T = TypeVar("_T")


class BoundedFanout(Generic[_T]):
    """
    Jobs (coroutines) run concurrently, at most *limit* at a time.

    A caller takes a slot with :meth:`reserve` before it prepares a job (so
    what the job holds, a buffered part for instance, counts against the
    limit too), then :meth:`start`-s it.  When a job fails the running ones
    are cancelled, and :meth:`reserve` and :meth:`results` raise that first
    failure.  On its own failure or cancellation a caller calls
    :meth:`cancel`, which returns once every job has stopped.

    :param limit: the most jobs at once.
    """

    def __init__(self, limit: int) -> None:
        self._slots = DeferredSemaphore(limit)
        self._running: set[Deferred[_T]] = set()
        self._results: dict[int, _T] = {}
        self._failure: Failure | None = None

    async def reserve(self) -> None:
        """Wait for a free slot; raise the first job failure instead, if any."""
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            self._failure.raiseException()

    def start(self, key: int, job: Coroutine[Any, Any, _T]) -> None:
        """Run *job* in the slot reserved for it; its result is filed under *key*."""
        running = Deferred.fromCoroutine(job)
        self._running.add(running)
        running.addBoth(self._finished, key, running)

    def _finished(self, result: _T | Failure, key: int, running: Deferred[_T]) -> None:
        self._running.discard(running)
        if isinstance(result, Failure):
            if self._failure is None:
                self._failure = result
                for other in list(self._running):
                    other.cancel()
        else:
            self._results[key] = result
        # Last: a waiting reserve() resumes at once and must see the failure.
        self._slots.release()

    async def _settle(self) -> None:
        while self._running:
            await DeferredList(list(self._running), consumeErrors=True)

    async def results(self) -> list[_T]:
        """
        Wait for every job started.

        :returns: their results, ordered by key.
        :raises: the first job failure.
        """
        await self._settle()
        if self._failure is not None:
            self._failure.raiseException()
        return [self._results[key] for key in sorted(self._results)]

    async def cancel(self) -> None:
        """Cancel the running jobs and wait until they have all stopped."""
        for running in list(self._running):
            running.cancel()
        await self._settle()


class SerialLane:
    """
    Blocking calls run in the reactor's thread pool one after another, in
    the order queued; the first failure is kept for :meth:`raise_failure`.

    :param reactor: the reactor whose thread pool runs the calls.
    :param depth: calls :meth:`submit` lets wait at once.
    """

    def __init__(self, reactor: Any, depth: int) -> None:
        self._reactor = reactor
        # One Deferred whose callback chain grows: each call starts when the
        # one before it has finished.
        self._tail: Deferred[None] = succeed(None)
        self._room = DeferredSemaphore(depth)
        self._failure: Failure | None = None

    async def submit(self, func: Callable[..., None], *args: Any) -> None:
        """Queue a call, first waiting while *depth* calls are queued."""
        await self._room.acquire()
        if self._failure is not None:
            self._room.release()
            self._failure.raiseException()
        self._queue(func, args).addBoth(self._release)

    def queue(self, func: Callable[..., None], *args: Any) -> None:
        """Queue a call without waiting for room."""
        self._queue(func, args)

    def _queue(self, func: Callable[..., None], args: tuple[Any, ...]) -> Deferred[None]:
        return self._tail.addCallback(self._run, func, args).addErrback(self._failed)

    def _run(self, _: None, func: Callable[..., None], args: tuple[Any, ...]) -> Deferred[None]:
        return run_blocking(self._reactor, func, *args)

    def _failed(self, failure: Failure) -> None:
        if self._failure is None:
            self._failure = failure

    def _release(self, _: None) -> None:
        self._room.release()

    async def settle(self) -> None:
        """Wait until every queued call has ended, whatever its outcome."""
        done: Deferred[None] = Deferred()
        self._tail.addCallback(lambda _: done.callback(None))
        await done

    def raise_failure(self) -> None:
        """Raise the first failure of a queued call, if any."""
        if self._failure is not None:
            self._failure.raiseException()
