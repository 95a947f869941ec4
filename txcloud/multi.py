"""
Fan-out: one call per target (driver, region, account), many at a time.

:func:`fan_out` runs a call for each target with at most ``concurrency`` in
flight and a timeout per call, and fires once every target has answered or
failed.  One target's failure never loses another's result: the
:class:`FanOutResult` holds the successes and the failures, each keyed by
target.  :func:`list_nodes` and :func:`list_containers` cover the common
cases, and :func:`drivers_for_accounts` builds AWS drivers for many
accounts and regions (profiles or role ARNs in, drivers out, one
credentials provider per account)::

    result = await multi.list_nodes(drivers, concurrency=5, timeout=30)
    for driver, nodes in result.results.items():
        ...
    for driver, failure in result.failures.items():
        ...
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Coroutine, Hashable, Iterable
from typing import Any, Generic, TypeVar, cast, overload

import attrs
from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredSemaphore,
    fail,
    succeed,
)
from twisted.logger import Logger
from twisted.python.failure import Failure

from txcloud.common.aws_targets import AccountDrivers, drivers_for_accounts, role_arns
from txcloud.common.base import BaseDriver
from txcloud.compute.base import Node, NodeDriver
from txcloud.compute.deployment import Deployment
from txcloud.compute.deployment.run import SSHOptions, run_steps
from txcloud.container.base import ContainerDriver
from txcloud.errors import InvalidArgumentError, RequestTimeoutError
from txcloud.storage.base import StorageDriver

__all__ = [
    "DEFAULT_CONCURRENCY",
    "AccountDrivers",
    "FanOutResult",
    "drivers_for_accounts",
    "fan_out",
    "list_containers",
    "list_nodes",
    "role_arns",
    "run_deployments",
]

_T = TypeVar("_T", bound=Hashable)
_R = TypeVar("_R")
_D = TypeVar("_D", bound=BaseDriver)

#: Calls in flight at once unless the caller says otherwise.
DEFAULT_CONCURRENCY = 10

_log = Logger()


@attrs.frozen
class FanOutResult(Generic[_T, _R]):
    """
    What a fan-out gathered; both dicts follow the order of the targets.

    :ivar results: each target that answered, with its answer.
    :ivar failures: each target that failed or timed out, with its failure.
    """

    results: dict[_T, _R]
    failures: dict[_T, Failure]

    @property
    def ok(self) -> bool:
        """Whether every target answered."""
        return not self.failures


def _as_deferred(answer: Deferred[_R] | Coroutine[Any, Any, _R] | _R) -> Deferred[_R]:
    if isinstance(answer, Deferred):
        return answer
    if isinstance(answer, Coroutine):
        return Deferred.fromCoroutine(answer)
    return succeed(answer)


class _FanOut(Generic[_T, _R]):
    """The state of one :func:`fan_out` call."""

    def __init__(
        self,
        call: Callable[[_T], Deferred[_R] | Coroutine[Any, Any, _R] | _R],
        targets: list[_T],
        concurrency: int,
        timeout: float | None,
        reactor: Any,
    ) -> None:
        self._call = call
        self._targets = targets
        self._timeout = timeout
        self._reactor = reactor
        self._semaphore = DeferredSemaphore(concurrency)
        self._in_flight: dict[int, Deferred[_R]] = {}
        self._cancelled = False
        self.result: Deferred[FanOutResult[_T, _R]] = Deferred(self._cancel)
        # Each target's outcome goes to its slot: no Deferred per target
        # waits through the whole fan-out (thousands of targets would each
        # hold one, and the garbage collector would walk them all).
        self._outcomes: list[_R | Failure | None] = [None] * len(targets)
        self._unanswered = len(targets)
        if not targets:
            self._gather()
            return
        # One loop starts every call, so calls that answer at once are started
        # one after another rather than each from inside the previous one's
        # release, which would recurse once per target.
        self._feeder = Deferred.fromCoroutine(self._feed())

    async def _feed(self) -> None:
        for index, target in enumerate(self._targets):
            try:
                await self._semaphore.acquire()
            except CancelledError:
                return
            answer = self._start(target)
            self._in_flight[index] = answer
            answer.addBoth(self._done, index, target)

    def _start(self, target: _T) -> Deferred[_R]:
        try:
            answer = _as_deferred(self._call(target))
        except Exception:
            return fail()
        if self._timeout is not None:
            answer.addTimeout(
                self._timeout,
                self._reactor,
                onTimeoutCancel=lambda result, timeout: self._timed_out(target, result),
            )
        return answer

    def _timed_out(self, target: _T, result: _R | Failure) -> _R:
        if not isinstance(result, Failure):
            # The call's canceller chose to answer anyway.
            return result
        raise RequestTimeoutError(
            f"No answer from {target!r} within {self._timeout} seconds",
            target if isinstance(target, BaseDriver) else None,
        ) from result.value

    def _done(self, outcome: _R | Failure, index: int, target: _T) -> None:
        del self._in_flight[index]
        self._semaphore.release()
        if self._cancelled:
            return
        if isinstance(outcome, Failure):
            _log.warn(
                "Fan-out target {target!r} failed: {error}",
                target=target,
                error=outcome.getErrorMessage(),
            )
        self._outcomes[index] = outcome
        self._unanswered -= 1
        if not self._unanswered:
            self._gather()

    def _gather(self) -> None:
        results: dict[_T, _R] = {}
        failures: dict[_T, Failure] = {}
        for target, outcome in zip(self._targets, self._outcomes, strict=True):
            if isinstance(outcome, Failure):
                failures[target] = outcome
            else:
                results[target] = cast(_R, outcome)
        self._outcomes = []
        self.result.callback(FanOutResult(results, failures))

    def _cancel(self, result: Deferred[FanOutResult[_T, _R]]) -> None:
        # Deferred.cancel then fails the result with CancelledError.
        self._cancelled = True
        # Stop starting calls first, so no freed slot starts another.
        self._feeder.cancel()
        for answer in list(self._in_flight.values()):
            answer.cancel()


@overload
def fan_out(
    call: Callable[[_T], Deferred[_R]],
    targets: Iterable[_T],
    concurrency: int = ...,
    timeout: float | None = ...,
    reactor: Any = ...,
) -> Deferred[FanOutResult[_T, _R]]: ...


@overload
def fan_out(
    call: Callable[[_T], Coroutine[Any, Any, _R]],
    targets: Iterable[_T],
    concurrency: int = ...,
    timeout: float | None = ...,
    reactor: Any = ...,
) -> Deferred[FanOutResult[_T, _R]]: ...


@overload
def fan_out(
    call: Callable[[_T], _R],
    targets: Iterable[_T],
    concurrency: int = ...,
    timeout: float | None = ...,
    reactor: Any = ...,
) -> Deferred[FanOutResult[_T, _R]]: ...


def fan_out(
    call: Callable[[_T], Deferred[_R] | Coroutine[Any, Any, _R] | _R],
    targets: Iterable[_T],
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float | None = None,
    reactor: Any = None,
) -> Deferred[FanOutResult[_T, _R]]:
    """
    Run ``call(target)`` for every target, at most *concurrency* at a time.

    *call* may return a Deferred, a coroutine or a plain value, and may
    raise; each outcome is recorded against its target.  Cancelling the
    returned Deferred cancels every call in flight, starts no more, and
    fails it with :class:`~twisted.internet.defer.CancelledError`.

    :param call: what to do for one target.
    :param targets: hashable and distinct (drivers, region names...).
    :param concurrency: how many calls may be in flight at once.
    :param timeout: seconds each call may take, counted from its start;
        a call that takes longer is cancelled and its target gets a
        :class:`~txcloud.errors.RequestTimeoutError` failure.  ``None``: no
        limit.
    :param reactor: the clock for timeouts; the global reactor when ``None``.
    :returns: a Deferred firing with a :class:`FanOutResult` once every
        target has answered or failed.
    :raises InvalidArgumentError: for an unhashable or repeated target, a
        *concurrency* below 1, or a *timeout* that is not positive.
    """
    wanted = list(targets)
    try:
        distinct = set(wanted)
    except TypeError:
        raise InvalidArgumentError("Fan-out targets must be hashable") from None
    if len(distinct) != len(wanted):
        raise InvalidArgumentError("Fan-out targets must be distinct")
    if not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be an int >= 1, not {concurrency!r}")
    if timeout is not None and not timeout > 0:
        raise InvalidArgumentError(f"timeout must be positive or None, not {timeout!r}")
    if reactor is None and timeout is not None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    return _FanOut(call, wanted, concurrency, timeout, reactor).result


def _fan_out_drivers(
    call: Callable[[_D], Deferred[_R]],
    drivers: Iterable[_D],
    concurrency: int,
    timeout: float | None,
    reactor: Any,
) -> Deferred[FanOutResult[_D, _R]]:
    wanted = list(drivers)
    # Drivers carry the reactor they were given, so time stays injectable.
    if reactor is None and wanted:
        reactor = wanted[0].reactor
    return fan_out(call, wanted, concurrency=concurrency, timeout=timeout, reactor=reactor)


def list_nodes(
    drivers: Iterable[NodeDriver],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float | None = None,
    reactor: Any = None,
) -> Deferred[FanOutResult[NodeDriver, list[Node]]]:
    """
    List the nodes of every compute driver at once.

    See :func:`fan_out` for the arguments; *reactor* defaults to the first
    driver's.

    :returns: a Deferred firing with a :class:`FanOutResult` keyed by driver.
    """
    return _fan_out_drivers(
        lambda driver: driver.list_nodes(), drivers, concurrency, timeout, reactor
    )


def list_containers(
    drivers: Iterable[StorageDriver | ContainerDriver],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float | None = None,
    reactor: Any = None,
) -> Deferred[FanOutResult[StorageDriver | ContainerDriver, list[Any]]]:
    """
    List the containers of every storage or container driver at once.

    See :func:`fan_out` for the arguments; *reactor* defaults to the first
    driver's.

    :returns: a Deferred firing with a :class:`FanOutResult` keyed by
        driver, whose values are lists of the driver's own ``Container``.
    """

    def call(driver: StorageDriver | ContainerDriver) -> Deferred[list[Any]]:
        return driver.list_containers()

    return _fan_out_drivers(call, drivers, concurrency, timeout, reactor)


def run_deployments(
    nodes: Iterable[Node],
    deployment: Deployment,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float | None = None,
    reactor: Any = None,
    **ssh_args: Any,
) -> Deferred[FanOutResult[Node, Deployment]]:
    """
    Run *deployment* on every node at once, over SSH.

    Each node runs a copy of *deployment*, so each keeps its own output.
    Bad SSH arguments (a missing key file...) raise before any connection.

    :param nodes: the nodes (distinct).
    :param deployment: the steps, as for
        :func:`~txcloud.compute.deployment.run_deployment`.
    :param ssh_args: the
        :class:`~txcloud.compute.deployment.run.SSHOptions` (``ssh_key``,
        ``ssh_username``, ``ssh_port``, ``known_hosts``...).
    :returns: a Deferred firing with a :class:`FanOutResult` keyed by node:
        each node that succeeded with its copy of *deployment* (its steps
        hold their output), each that failed with its
        :class:`~txcloud.errors.DeploymentError`.
    """
    wanted = list(nodes)
    if not isinstance(deployment, Deployment):
        raise InvalidArgumentError(f"Not a deployment step: {deployment!r}")
    options = SSHOptions(**ssh_args)
    clients = {id(node): options.client(node, reactor) for node in wanted}
    if reactor is None and wanted:
        reactor = wanted[0].driver.reactor

    def call(node: Node) -> Deferred[Deployment]:
        steps = copy.deepcopy(deployment)
        return run_steps(node, steps, clients[id(node)]).addCallback(lambda _: steps)

    return fan_out(call, wanted, concurrency=concurrency, timeout=timeout, reactor=reactor)
