"""
What the S3, EC2 and Docker fakes share: recording requests, injected
faults and delays, answers delivered at once or later on a clock, and the
three ways to reach a fake (an in-memory agent, a ``Site``, a driver).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
from treq.testing import RequestTraversalAgent
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET, Site
from twisted.web.server import Request as ServerRequest

__all__ = ["FakeService", "Fault", "Received", "Refused", "Reply"]


@attrs.frozen
class Received:
    """
    One request as a fake received it.

    :ivar method: ``"GET"``...
    :ivar path: the path, percent-decoded, without the query.
    :ivar query: each query parameter's values (blank values kept).
    :ivar headers: header names (lower case) to their first value.
    :ivar body: the request body.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, request: ServerRequest) -> Received:
        """Record *request* (reading its body)."""
        uri = urlsplit(request.uri.decode("latin-1"))
        return cls(
            method=request.method.decode("ascii"),
            path=unquote(uri.path),
            query=parse_qs(uri.query, keep_blank_values=True),
            headers={
                name.decode("latin-1").lower(): values[0].decode("latin-1")
                for name, values in request.requestHeaders.getAllRawHeaders()
            },
            body=request.content.read() if request.content else b"",
        )

    def arg(self, name: str) -> str | None:
        """The first value of query parameter *name*, or ``None``."""
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        """The value of header *name* (any case), or ``None``."""
        return self.headers.get(name.lower())

    def form(self) -> dict[str, str]:
        """The query and a form-encoded body's fields, first value of each."""
        fields = {name: values[0] for name, values in self.query.items()}
        if "form-urlencoded" in (self.header("content-type") or ""):
            decoded = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            fields.update({name: values[0] for name, values in decoded.items()})
        return fields

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


class Refused(Exception):
    """
    An error answer, as the fake's service writes it.

    :param status: the HTTP status.
    :param code: the service's error code (``"NoSuchKey"``), if it has them.
    :param message: what a person reads.
    :param headers: more headers for the answer (``Retry-After``).
    :param details: more fields for the error document (``{"Key": ...}``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details or {})


#: Writes an answer's body to the request, now or later, and finishes it.
Streamer = Callable[[ServerRequest], None]


@attrs.frozen
class Reply:
    """
    An answer: a status, headers and a body, or a *stream* that writes the
    body itself (and finishes the request when it is done).
    """

    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    stream: Streamer | None = None


@attrs.define
class Fault:
    """
    An injected error, or delay, for the requests it matches.

    :ivar targets: patterns (``fnmatch``) for what the requests are about (a
        path, a region and action); a request must match one; any request
        when empty.
    :ivar method: only requests with this method; any when ``None``.
    :ivar remaining: how many more requests it applies to; always when ``None``.
    :ivar error: the error to answer with, or ``None`` for a delay only.
    :ivar delay: seconds on the clock before answering.
    """

    targets: tuple[str, ...]
    method: str | None
    remaining: int | None
    error: Refused | None = None
    delay: float = 0.0

    def applies(self, method: str, target: str) -> bool:
        """Whether it applies to a request with *method* about *target*."""
        return (
            self.remaining != 0
            and self.method in (None, method)
            and (not self.targets or any(fnmatchcase(target, t) for t in self.targets))
        )


class _Root(Resource):
    """Hands every request to the fake."""

    isLeaf = True

    def __init__(self, serve: Callable[[ServerRequest], Any]) -> None:
        super().__init__()
        self._serve = serve

    def render(self, request: ServerRequest) -> Any:
        return self._serve(request)


class FakeService:
    """
    The serving machinery of a fake: subclasses say what a request is about
    (:meth:`_target`), check its credentials (:meth:`_authenticate`), answer
    it (:meth:`_handle`) and write errors as their service does
    (:meth:`_error_reply`).

    :param clock: what delays answers and dates things: a ``Clock`` in unit
        tests; the global reactor by default.
    :ivar received: every request, as :class:`Received`, in order.
    :ivar latency: seconds every answer is delayed on the clock.
    """

    def __init__(self, clock: Any = None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        self.received: list[Received] = []
        self.latency = 0.0
        self._faults: list[Fault] = []
        self._agents: list[RequestTraversalAgent] = []
        # Resource provides IResource through zope, which mypy cannot see.
        self.resource = cast(IResource, _Root(self._serve))

    # Reaching the fake

    def agent(self) -> RequestTraversalAgent:
        """
        An in-memory ``IAgent`` (for a driver's ``ex_agent``) sending requests
        here; answers delayed on the clock arrive when the clock passes them.
        """
        agent = RequestTraversalAgent(self.resource)
        self._agents.append(agent)
        return agent

    def flush(self) -> None:
        """Deliver what was written since the last flush to this fake's agents."""
        for agent in self._agents:
            agent.flush()

    def site(self) -> Site:
        """A ``Site`` serving this fake, to listen on a real port with."""
        return Site(self.resource)

    # Faults

    def _add_fault(
        self,
        targets: Sequence[str],
        method: str | None,
        times: int | None,
        error: Refused | None = None,
        delay: float = 0.0,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, not {times!r}")
        if delay < 0:
            raise ValueError(f"a delay cannot be negative: {delay!r}")
        method = method.upper() if method else None
        self._faults.append(Fault(tuple(targets), method, times, error, delay))

    def clear_faults(self) -> None:
        """Forget every injected error and delay."""
        self._faults.clear()

    def _take_faults(self, method: str, target: str) -> tuple[float, Refused | None]:
        # The first matching delay and the first matching error apply, once each.
        matching = [fault for fault in self._faults if fault.applies(method, target)]
        delayed = next((fault for fault in matching if fault.error is None), None)
        failed = next((fault for fault in matching if fault.error is not None), None)
        for fault in (delayed, failed):
            if fault is not None and fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
        return (delayed.delay if delayed else 0.0), (failed.error if failed else None)

    # Serving

    def _target(self, received: Received) -> str:
        """What *received* is about, for matching faults' patterns."""
        return received.path

    def _authenticate(self, received: Received) -> None:
        """Raise :class:`Refused` unless *received* carries acceptable credentials."""

    def _handle(self, received: Received) -> Reply:
        """The answer to *received*; raise :class:`Refused` for an error."""
        raise NotImplementedError

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        """The answer for an error, in the service's format."""
        raise NotImplementedError

    def _common_headers(self, received: Received) -> Mapping[str, str]:
        """Headers every answer carries (request ids...)."""
        return {}

    def _delegate(self, received: Received) -> FakeService | None:
        """Another fake that answers *received* instead (STS beside EC2), or ``None``."""
        return None

    def _serve(self, request: ServerRequest) -> Any:
        received = Received.of(request)
        other = self._delegate(received)
        return (other or self)._answer(request, received)

    def _answer(self, request: ServerRequest, received: Received) -> Any:
        self.received.append(received)
        delay = self.latency
        try:
            self._authenticate(received)
            injected_delay, injected = self._take_faults(received.method, self._target(received))
            delay += injected_delay
            if injected is not None:
                raise injected
            reply = self._handle(received)
        except Refused as refused:
            reply = self._error_reply(received, refused)
        # An answer without a Content-Type gets none (twisted.web would say text/html).
        request.defaultContentType = None
        request.setResponseCode(reply.status)
        for name, value in {**self._common_headers(received), **reply.headers}.items():
            request.setHeader(name, value)
        if not delay and reply.stream is None:
            return reply.body
        if delay:
            call = self.clock.callLater(delay, self._deliver, request, reply, True)
            request.notifyFinish().addErrback(lambda _: call.cancel() if call.active() else None)
        else:
            self._deliver(request, reply, False)
        return NOT_DONE_YET

    def _deliver(self, request: ServerRequest, reply: Reply, later: bool) -> None:
        if reply.stream is not None:
            reply.stream(request)
        else:
            if request.method != b"HEAD":
                request.setHeader("content-length", str(len(reply.body)))
            request.write(b"" if request.method == b"HEAD" else reply.body)
            request.finish()
        if later:
            # Outside the agent's own pumping: hand the answer over now.
            self.flush()
