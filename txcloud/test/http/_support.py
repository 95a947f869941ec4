"""
Fakes shared by the transport tests: a scripted twisted.web resource, a
consumer for body producers, and log capture.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest
from zope.interface import implementer


@attrs.frozen
class Received:
    """One request as the fake server saw it."""

    method: str
    uri: str
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


#: A scripted answer: ``(status, headers, body)`` or a callable rendering the
#: server request itself (it may return ``NOT_DONE_YET``).
Answer = tuple[int, dict[str, str], bytes] | Callable[[ServerRequest], Any]


class ScriptedResource(Resource):
    """
    Answers each request with the next scripted answer (the last one
    repeats) and records what it received.
    """

    isLeaf = True

    def __init__(self, *answers: Answer) -> None:
        super().__init__()
        self._answers = list(answers)
        self.received: list[Received] = []

    def render(self, request: ServerRequest) -> Any:
        self.received.append(
            Received(
                method=request.method.decode("ascii"),
                uri=request.uri.decode("ascii"),
                headers={
                    name.decode("ascii").lower(): [v.decode("utf-8") for v in values]
                    for name, values in request.requestHeaders.getAllRawHeaders()
                },
                body=request.content.read() if request.content else b"",
            )
        )
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if callable(answer):
            return answer(request)
        status, headers, body = answer
        request.setResponseCode(status)
        for name, value in headers.items():
            request.setHeader(name, value)
        return body


class RecordingConsumer:
    """
    An IConsumer that records writes and pauses its producer once more
    than *pause_after* bytes were written since the last resume.
    """

    def __init__(self, pause_after: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.producer: Any = None
        self._pause_after = pause_after
        self._since_resume = 0

    def attach(self, producer: Any) -> None:
        self.producer = producer

    def resume(self) -> None:
        self._since_resume = 0
        self.producer.resumeProducing()

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self._since_resume += len(data)
        if self._pause_after is not None and self._since_resume > self._pause_after:
            self.producer.pauseProducing()

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


@implementer(ILogObserver)
class _Collector:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def assert_secret_nowhere(
    case: SynchronousTestCase,
    secret: str,
    events: list[dict[str, Any]],
    error: BaseException | None = None,
) -> None:
    """Fail *case* if *secret* shows in a captured log event or in *error*."""
    for event in events:
        case.assertNotIn(secret, formatEvent(event))
        case.assertNotIn(secret, repr(event))
    if error is not None:
        case.assertNotIn(secret, str(error))
        case.assertNotIn(secret, repr(error))


def notify_when_lost(protocol: Any) -> Deferred[None]:
    """A Deferred firing once *protocol*'s connection has been lost."""
    lost: Deferred[None] = Deferred()
    connection_lost = protocol.connectionLost

    def notify(reason: Any) -> None:
        connection_lost(reason)
        lost.callback(None)

    protocol.connectionLost = notify
    return lost


def capture_logs(case: SynchronousTestCase) -> list[dict[str, Any]]:
    """Collect every log event emitted until *case* ends."""
    # zope interfaces are not types to mypy: declare what the publisher wants.
    collector: Any = _Collector()
    globalLogPublisher.addObserver(collector)
    case.addCleanup(globalLogPublisher.removeObserver, collector)
    events: list[dict[str, Any]] = collector.events
    return events


class CountingPool(HTTPConnectionPool):
    """A pool that counts how often it was asked to close its connections."""

    closes = 0

    def closeCachedConnections(self) -> Deferred[None]:
        self.closes += 1
        return succeed(None)


class RefusingAgent:
    """An ``IAgent`` for which every connection is refused (nothing listens)."""

    def request(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
        return fail(ConnectionRefusedError("connection refused"))


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "request_method")


def use_environment(case: SynchronousTestCase, **values: str) -> None:
    """Set the proxy variables to *values* (and no others) until *case* ends."""
    names = [name for variable in _PROXY_VARIABLES for name in (variable, variable.upper())]
    saved = {name: os.environ[name] for name in names if name in os.environ}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(values)

    def restore() -> None:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(saved)

    case.addCleanup(restore)
