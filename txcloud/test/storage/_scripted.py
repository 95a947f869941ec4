"""
Support for unit tests of storage drivers against scripted answers: the
driver talks through treq's in-memory RequestTraversalAgent to a
:class:`~txcloud.test.http._support.ScriptedResource`, with time from an
:class:`~txcloud.testing.clock.InlineClock` (its thread pool runs work at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http import RetryPolicy
from txcloud.storage.base import Container, StorageDriver
from txcloud.test.http._support import Answer, Received, ScriptedResource
from txcloud.testing.clock import InlineClock

__all__ = ["ScriptedDriverTestCase", "path_of", "query_of", "xml_answer"]

D = TypeVar("D", bound=StorageDriver)


def query_of(received: Received) -> dict[str, str]:
    """The query string of a received request, blank values kept."""
    return dict(parse_qsl(urlsplit(received.uri).query, keep_blank_values=True))


def path_of(received: Received) -> str:
    """The path of a received request, still percent-encoded."""
    return urlsplit(received.uri).path


def xml_answer(body: str) -> Answer:
    """A 200 answer carrying the XML document *body*."""
    return (200, {"Content-Type": "application/xml"}, body.encode())


class ScriptedDriverTestCase(SynchronousTestCase, Generic[D]):
    """
    A test case whose driver is answered by a script; subclasses build it
    with :meth:`connect` and drive its Deferreds with :meth:`result` and
    :meth:`failure`.
    """

    driver: D

    def connect(
        self, factory: Callable[..., D], answers: tuple[Answer, ...], *args: Any, **options: Any
    ) -> D:
        """
        Build the driver under test, answered by *answers* in order.

        :param factory: the driver class.
        :param answers: what the server answers, one request after another.
        :param args: the driver's positional arguments (key, secret...).
        :param options: its keyword arguments; retries are off unless given.
        :returns: the driver, also kept as ``self.driver``.
        """
        self.reactor = InlineClock()
        self.server = ScriptedResource(*answers)
        self.agent = RequestTraversalAgent(self.server)
        options.setdefault("ex_retry", RetryPolicy(max_attempts=1))
        self.driver = factory(*args, reactor=self.reactor, ex_agent=self.agent, **options)
        return self.driver

    def resolve(self, pending: Deferred[Any]) -> Deferred[Any]:
        """Pump the in-memory connections until *pending* has fired."""
        for _ in range(500):
            if pending.called:
                break
            self.agent.flush()
            self.reactor.advance(0)
        return pending

    def result(self, pending: Deferred[Any]) -> Any:
        return self.successResultOf(self.resolve(pending))

    def failure(self, pending: Deferred[Any], *errors: type[BaseException]) -> Any:
        return self.failureResultOf(self.resolve(pending), *errors).value

    def collect(self, items: Any) -> Deferred[list[Any]]:
        async def gather() -> list[Any]:
            return [item async for item in items]

        return Deferred.fromCoroutine(gather())

    @property
    def received(self) -> list[Received]:
        return self.server.received

    def container(self, name: str = "photos") -> Container:
        return Container(name=name, extra={}, driver=self.driver)
