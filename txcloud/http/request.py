"""
The description of one HTTP request, as a driver builds it and a signer
rewrites it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import attrs

from txcloud.errors import InvalidArgumentError
from txcloud.http.body import BodyLike, RequestBody
from txcloud.http.headers import HeaderMap, HeadersLike
from txcloud.http.redact import redact_headers, redact_url

#: Methods retried by default: repeating them has the same effect as sending
#: them once (RFC 9110, section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

#: What :class:`Request` accepts as query parameters: a mapping (a value may
#: be a list of values) or ``(name, value)`` pairs.
ParamsLike = Mapping[str, str | int | Sequence[str]] | Iterable[tuple[str, str | int]] | None

_METHOD = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def json_parts(document: Mapping[str, Any] | None) -> tuple[dict[str, str], bytes | None]:
    """
    The headers and body of a request to a JSON API: ``Accept:
    application/json``, and *document* encoded with its ``Content-Type``
    when there is one.
    """
    headers = {"Accept": "application/json"}
    if document is None:
        return headers, None
    headers["Content-Type"] = "application/json"
    return headers, json.dumps(document).encode("utf-8")


def _method(method: str) -> str:
    if not isinstance(method, str) or not _METHOD.match(method):
        raise InvalidArgumentError(f"invalid HTTP method: {method!r}")
    return method.upper()


def _url(url: str) -> str:
    if not isinstance(url, str):
        raise InvalidArgumentError(f"a URL must be text, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidArgumentError(f"invalid URL: {redact_url(url)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(f"not an absolute http(s) URL: {redact_url(url)}")
    if "@" in parts.netloc:
        raise InvalidArgumentError("credentials in a URL are refused: use a signer or headers")
    return url


def _headers(headers: HeadersLike) -> HeaderMap:
    # A HeaderMap is immutable: a copied request shares it as it is.
    return headers if isinstance(headers, HeaderMap) else HeaderMap(headers)


def _param_value(name: str, value: object) -> tuple[str, str]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidArgumentError(f"query parameter {name!r} must have a text name and value")
    return name, value


def _params(params: ParamsLike) -> tuple[tuple[str, str], ...]:
    if params is None:
        return ()
    if isinstance(params, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in params.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            pairs.extend(_param_value(name, one) for one in values)
        return tuple(pairs)
    return tuple(_param_value(name, value) for name, value in params)


def _body(body: BodyLike | RequestBody) -> RequestBody:
    return RequestBody.of(body)


def _statuses(statuses: Iterable[int]) -> frozenset[int]:
    checked = frozenset(statuses)
    if not all(isinstance(s, int) and 100 <= s <= 599 for s in checked):
        raise InvalidArgumentError(f"ok_statuses must be HTTP status codes: {sorted(checked)!r}")
    return checked


def _timeout(timeout: float | None) -> float | None:
    if timeout is not None and not timeout > 0:
        raise InvalidArgumentError(f"a timeout must be positive, not {timeout!r}")
    return timeout


@attrs.frozen(repr=False, eq=False)
class Request:
    """
    One HTTP request: immutable, validated on construction, and safe to
    ``repr`` (secret headers and query parameters are hidden, the body is
    never shown).

    :param method: the HTTP method (``"GET"``...), upper-cased.
    :param url: the absolute ``http``/``https`` URL, already percent-encoded;
        it may carry a query string.
    :param headers: request headers; ``Host``, ``Content-Length`` and
        ``Transfer-Encoding`` are set by the transport.
    :param params: query parameters appended to *url*, percent-encoded as
        RFC 3986 says (``%20`` for a space), in the order given.
    :param body: see :class:`~txcloud.http.body.RequestBody` for the forms.
    :param idempotent: whether the request may be retried; by default only
        the methods in :data:`IDEMPOTENT_METHODS` are.
    :param ok_statuses: statuses outside 2xx to return as a response rather
        than raise as an error (``{304}``, ``{404}`` for existence checks,
        ``{307}`` to see a redirect; redirects are never followed).
    :param timeout: seconds this request may wait for its response headers
        and, while its body streams, between two chunks; the transport's
        timeout by default.
    :param decode_content: ask for a gzip-compressed response and decompress
        it (the default); ``False`` returns the body exactly as the server
        sent it (object downloads, where ``Content-Encoding`` describes the
        stored bytes).
    :raises InvalidArgumentError: for a bad method, URL, header, parameter,
        body, status or timeout.
    """

    method: str = attrs.field(converter=_method)
    url: str = attrs.field(converter=_url)
    headers: HeaderMap = attrs.field(default=None, converter=_headers)
    params: tuple[tuple[str, str], ...] = attrs.field(default=None, converter=_params)
    body: RequestBody = attrs.field(default=None, converter=_body)
    idempotent: bool | None = attrs.field(default=None, kw_only=True)
    ok_statuses: frozenset[int] = attrs.field(default=(), converter=_statuses, kw_only=True)
    timeout: float | None = attrs.field(default=None, converter=_timeout, kw_only=True)
    decode_content: bool = attrs.field(default=True, kw_only=True)

    @property
    def is_idempotent(self) -> bool:
        """Whether sending this request twice is as good as sending it once."""
        if self.idempotent is not None:
            return self.idempotent
        return self.method in IDEMPOTENT_METHODS

    @property
    def retryable(self) -> bool:
        """Whether the transport may send this request again after a failure."""
        return self.is_idempotent and self.body.replayable

    @property
    def full_url(self) -> str:
        """The URL with :attr:`params` appended to its query string."""
        if not self.params:
            return self.url
        query = urlencode(self.params, quote_via=quote)
        if "?" not in self.url:
            return f"{self.url}?{query}"
        if self.url.endswith(("?", "&")):
            return f"{self.url}{query}"
        return f"{self.url}&{query}"

    def replace(self, **changes: Any) -> Request:
        """Copy this request with some fields changed (validated again)."""
        return attrs.evolve(self, **changes)

    def with_headers(self, headers: HeadersLike) -> Request:
        """Copy this request with *headers* set, replacing same-named ones."""
        # Every request is copied this way before each attempt (a
        # User-Agent, a signature): the other fields were checked when this
        # request was built, and only the new headers need checking.
        copy = object.__new__(Request)
        for field in _FIELDS:
            object.__setattr__(copy, field, getattr(self, field))
        object.__setattr__(copy, "headers", self.headers.replace(headers))
        return copy

    def with_params(self, params: ParamsLike) -> Request:
        """Copy this request with *params* appended to its parameters."""
        return self.replace(params=self.params + _params(params))

    def __repr__(self) -> str:
        return (
            f"<Request {self.method} {redact_url(self.full_url)} "
            f"headers={redact_headers(self.headers)!r} body={self.body!r}>"
        )


_FIELDS = tuple(field.name for field in attrs.fields(Request))
