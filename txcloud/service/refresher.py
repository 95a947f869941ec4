"""
The service that keeps the inventory fresh.

:class:`Refresher` refreshes every configured target when it starts and then
every *interval* seconds, with :func:`txcloud.inventory.gather` (so with the
configuration's concurrency limit and per-target timeout).  A target whose
previous refresh is still running when the timer fires is skipped that
time, so one target never has two refreshes in flight.  Each target keeps
its last good items when a refresh fails; the failure is reported beside
them.  Every outcome is logged through :mod:`twisted.logger`.

All time comes from the reactor, so tests drive it with
:class:`~twisted.internet.task.Clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from txcloud.common.driver_cache import DriverCache
from txcloud.config import Config, Target
from txcloud.errors import InvalidArgumentError
from txcloud.inventory import TargetInventory, describe_error, gather
from txcloud.service.snapshot import Snapshot, TargetError, TargetStatus

__all__ = ["STALE_INTERVALS", "Refresher"]

#: A target's items are stale once older than this many refresh intervals.
STALE_INTERVALS = 3


class Refresher(Service):
    """
    Refreshes the inventory of every target of *config* on an interval.

    :param config: the targets, and their concurrency limit and timeout.
    :param interval: seconds between refreshes; the first is at start.
    :param reactor: where time and timers come from; drivers run on it.
    :param build_driver: makes a target's driver; by default
        ``config.build_driver(target, reactor)``.  Each target's driver is
        built once, on its first refresh, and closed when the service stops.
    :raises InvalidArgumentError: if *interval* is not positive.
    """

    log = Logger()

    def __init__(
        self,
        config: Config,
        interval: float,
        reactor: Any,
        build_driver: Callable[[Target], Any] | None = None,
    ) -> None:
        if not interval > 0:
            raise InvalidArgumentError(f"interval must be positive, not {interval!r}")
        self.config = config
        self.interval = float(interval)
        self.reactor = reactor
        self._drivers: DriverCache[Target] = DriverCache(
            build_driver or (lambda target: config.build_driver(target, reactor))
        )
        self._statuses = {target: TargetStatus(target) for target in config.targets}
        self._refreshing: set[Target] = set()
        self._batches: list[Deferred[Any]] = []
        self._loop = LoopingCall(self.refresh)
        self._loop.clock = reactor

    @property
    def stale_after(self) -> float:
        """The age in seconds past which a target's items are stale."""
        return STALE_INTERVALS * self.interval

    def snapshot(self) -> Snapshot:
        """What is known now of every target."""
        statuses = tuple(self._statuses.values())
        return Snapshot(
            taken_at=self.reactor.seconds(),
            # Ready once every target has answered, or failed, at least once.
            ready=all(s.fetched_at is not None or s.error is not None for s in statuses),
            interval=self.interval,
            stale_after=self.stale_after,
            targets=statuses,
        )

    def startService(self) -> None:
        """Refresh every target now, then every interval."""
        super().startService()
        self._loop.start(self.interval, now=True)

    def stopService(self) -> Deferred[None]:
        """
        Stop the timer, cancel the refreshes in flight and close the drivers.

        :returns: a Deferred firing once every driver is closed.
        """
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        for batch in list(self._batches):
            batch.cancel()
        self._refreshing.clear()
        return self._drivers.close(self._close_failed)

    def _close_failed(self, target: Target, failure: Failure) -> None:
        self.log.failure("Closing the driver of {target} failed", failure, target=target.label)

    def refresh(self) -> None:
        """
        Start refreshing every target whose previous refresh has ended.

        Returns at once; each target's status changes when its answer comes.
        """
        idle = []
        for target in self.config.targets:
            if target in self._refreshing:
                self.log.warn(
                    "Refresh of {target} still running; skipped this time", target=target.label
                )
            else:
                idle.append(target)
        self._refreshing.update(idle)
        batch = gather(
            idle,
            self._drivers.get,
            defaults=self.config.defaults,
            reactor=self.reactor,
            on_each=self._record,
        )
        # Listed before the callbacks are added: they run at once if every
        # target answered at once.
        self._batches.append(batch)
        batch.addBoth(self._batch_ended, batch).addErrback(lambda f: f.trap(CancelledError))

    def _batch_ended(self, result: object, batch: Deferred[Any]) -> object:
        self._batches.remove(batch)
        return result

    def _record(self, inventory: TargetInventory) -> None:
        target = inventory.target
        self._refreshing.discard(target)
        now = self.reactor.seconds()
        if inventory.error is None:
            volumes = None if inventory.volumes is None else tuple(inventory.volumes)
            self._statuses[target] = TargetStatus(
                target, tuple(inventory.items), now, volumes=volumes
            )
            self.log.info(
                "Refreshed {target}: items: {count}",
                target=target.label,
                count=len(inventory.items),
            )
            return
        error = describe_error(inventory.error)
        # The last good items stay, beside the error.
        self._statuses[target] = attrs.evolve(
            self._statuses[target], error=TargetError(error["type"], error["message"], now)
        )
        self.log.warn(
            "Refresh of {target} failed: {error_type}: {error_message}",
            target=target.label,
            error_type=error["type"],
            error_message=error["message"],
        )
