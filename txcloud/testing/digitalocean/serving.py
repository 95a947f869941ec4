"""
The HTTP side of the DigitalOcean fake, apart from its endpoints: error
answers, paging, the per-token rate limit, injected faults and delayed
answers.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
from twisted.web.server import NOT_DONE_YET
from twisted.web.server import Request as ServerRequest

__all__ = [
    "ERROR_IDS",
    "NOT_FOUND",
    "Call",
    "Fault",
    "Faults",
    "RateLimiter",
    "Received",
    "Refused",
    "answer",
]

#: The error ids DigitalOcean puts in error bodies, by status.
ERROR_IDS = {
    400: "bad_request",
    401: "Unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "unprocessable_entity",
    429: "too_many_requests",
    500: "server_error",
    503: "service_unavailable",
}

#: The message of a 404 answer.
NOT_FOUND = "The resource you were accessing could not be found."

_DEFAULT_PER_PAGE = 20
_MAX_PER_PAGE = 200


class Refused(Exception):
    """
    An error answer: its status, message and error id (DigitalOcean's for
    the status unless given).
    """

    def __init__(self, status: int, message: str, error_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_id = error_id or ERROR_IDS.get(status, "error")


@attrs.frozen
class Received:
    """One request as the fake received it (header names in lower case)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, request: ServerRequest, body: bytes) -> Received:
        """Record *request*, whose body was *body*."""
        return cls(
            method=request.method.decode("ascii"),
            path=request.path.decode("utf-8").rstrip("/"),
            query={
                name.decode("utf-8"): [value.decode("utf-8") for value in values]
                for name, values in (request.args or {}).items()
            },
            headers={
                name.decode("latin-1").lower(): values[0].decode("latin-1")
                for name, values in request.requestHeaders.getAllRawHeaders()
            },
            body=body,
        )

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


@attrs.frozen
class Call:
    """What an endpoint needs of a request: its query, body and path groups."""

    request: ServerRequest
    received: Received
    groups: tuple[str, ...]

    def arg(self, name: str) -> str | None:
        """The first value of query parameter *name*."""
        values = self.received.query.get(name)
        return values[0] if values else None

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or a 400 answer."""
        try:
            document = json.loads(self.received.body or b"null")
        except ValueError:
            raise Refused(400, "The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise Refused(400, "The request body must be a JSON object.")
        return document

    def base_url(self) -> str:
        """``scheme://host`` as the client addressed this server."""
        scheme = "https" if self.request.isSecure() else "http"
        host = self.request.getHeader("host") or "api.digitalocean.com"
        return f"{scheme}://{host}"

    def _positive(self, name: str, default: int) -> int:
        value = self.arg(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < 1:
            raise Refused(400, f"{name} must be a positive integer.")
        return int(value)

    def page(self, key: str, items: list[Any]) -> dict[str, Any]:
        """
        The page of *items* that ``page`` and ``per_page`` ask for, under
        *key*, with ``links.pages`` (only the links that make sense) and
        ``meta.total``.
        """
        per_page = min(self._positive("per_page", _DEFAULT_PER_PAGE), _MAX_PER_PAGE)
        page = self._positive("page", 1)
        last = max(1, math.ceil(len(items) / per_page))

        def link(number: int) -> str:
            query = {name: values[0] for name, values in self.received.query.items()}
            query.update(page=str(number), per_page=str(per_page))
            return f"{self.base_url()}{self.received.path}?{urlencode(query)}"

        pages: dict[str, str] = {}
        if page > 1:
            pages.update(first=link(1), prev=link(min(page, last + 1) - 1))
        if page < last:
            pages.update(next=link(page + 1), last=link(last))
        start = (page - 1) * per_page
        return {
            key: items[start : start + per_page],
            "links": {"pages": pages},
            "meta": {"total": len(items)},
        }


@attrs.define
class Fault:
    """An error to answer requests for one path with; ``times=None``: always."""

    method: str | None
    path: str
    status: int
    error_id: str
    message: str
    headers: dict[str, str]
    times: int | None


class Faults:
    """The faults set up on a fake, used up in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Add *fault* after the others."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Forget every fault."""
        self._faults.clear()

    def raise_for(self, request: ServerRequest, method: str, path: str) -> None:
        """Answer with the first fault for *method* and *path*, if there is one."""
        for fault in self._faults:
            if fault.path == path and fault.method in (None, method):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                for name, value in fault.headers.items():
                    request.setHeader(name, value)
                raise Refused(fault.status, fault.message, fault.error_id)


class RateLimiter:
    """
    DigitalOcean's rate limit: each token may send *limit* requests per
    sliding *window*; a request counts for *window* seconds after it was
    answered, and ``ratelimit-reset`` is when the oldest counted one expires.

    :param retry_after: also send ``Retry-After`` with 429 answers.
    """

    def __init__(self, limit: int, window: float, retry_after: bool = False) -> None:
        self.limit = limit
        self.window = window
        self.retry_after = retry_after
        self._sent: dict[str, deque[float]] = {}

    def count(self, request: ServerRequest, token: str, now: float) -> None:
        """Count a request of *token*, set the headers, and refuse it with 429 if over."""
        sent = self._sent.setdefault(token, deque())
        while sent and sent[0] + self.window <= now:
            sent.popleft()
        allowed = len(sent) < self.limit
        if allowed:
            sent.append(now)
        reset = sent[0] + self.window if sent else now
        request.setHeader("ratelimit-limit", str(self.limit))
        request.setHeader("ratelimit-remaining", str(self.limit - len(sent)))
        request.setHeader("ratelimit-reset", str(math.ceil(reset)))
        if not allowed:
            if self.retry_after:
                request.setHeader("retry-after", str(math.ceil(reset - now)))
            raise Refused(429, "API Rate limit exceeded.")


def answer(
    request: ServerRequest,
    status: int,
    document: Mapping[str, Any] | None,
    clock: Any,
    latency: float,
) -> Any:
    """
    Answer *request* with *document* as JSON (no body for ``None``), at
    once or *latency* seconds later on *clock*.

    :returns: what ``render`` returns.
    """
    request.setResponseCode(status)
    payload = b"" if document is None else json.dumps(document).encode("utf-8")
    if not latency:
        return payload
    delayed = clock.callLater(latency, _finish, request, payload)
    request.notifyFinish().addErrback(lambda _: delayed.active() and delayed.cancel())
    return NOT_DONE_YET


def _finish(request: ServerRequest, payload: bytes) -> None:
    request.write(payload)
    request.finish()
