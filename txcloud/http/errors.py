"""
Turn HTTP error responses and connection failures into txcloud's typed
errors (:mod:`txcloud.errors`).

A driver that knows its provider's error codes passes its own
:data:`ErrorMapper` to the transport; it usually handles the codes it knows
and hands everything else to :func:`default_error_mapper`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import attrs
from lxml import etree
from OpenSSL import SSL
from service_identity.exceptions import CertificateError, VerificationError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectError, ConnectingCancelledError
from twisted.internet.error import TimeoutError as ConnectTimeoutError
from twisted.web.client import (
    RequestGenerationFailed,
    RequestTransmissionFailed,
    ResponseFailed,
)

from txcloud.errors import (
    InvalidCredsError,
    MalformedResponseError,
    NetworkError,
    ProviderError,
    ProxyAuthenticationError,
    ProxyError,
    ProxyTimeoutError,
    RateLimitReached,
    RequestTimeoutError,
    ServiceUnavailableError,
    TLSVerificationError,
    TxCloudError,
)
from txcloud.http.headers import HeaderMap
from txcloud.http.proxy import ProxyURL
from txcloud.http.redact import redact_url
from txcloud.http.request import Request
from txcloud.http.tunnel import TunnelError
from txcloud.http.xml import local_name, parse_xml

_E = TypeVar("_E", bound=TxCloudError)

#: Provider error codes that mean "slow down", whatever the HTTP status
#: (S3 answers 503 SlowDown, EC2 400/503 RequestLimitExceeded, Google 403
#: rateLimitExceeded, Azure 503 ServerBusy).
THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequests",
        "TooManyRequestsException",
        "ServerBusy",
        "rateLimitExceeded",
        "userRateLimitExceeded",
    }
)

#: Response headers that carry the provider's request id, in order of preference.
REQUEST_ID_HEADERS = (
    "x-amz-request-id",
    "x-amzn-RequestId",
    "x-ms-request-id",
    "x-goog-request-id",
    "x-guploader-uploadid",
    "x-request-id",
)

# A provider message longer than this is cut: it is for a person to read.
_MAX_MESSAGE = 500


@attrs.frozen
class ErrorResponse:
    """
    What an error mapper gets: an HTTP response the transport will not
    return as a success.

    :ivar status: the HTTP status.
    :ivar reason: the status phrase.
    :ivar headers: the response headers.
    :ivar body: the start of the body (the transport reads at most
        ``max_error_body`` bytes of it).
    :ivar request: the request as it was sent (signed).
    :ivar driver: the driver's name, if the transport has one.
    :ivar retry_after: seconds the server asked us to wait (``Retry-After``),
        if it did.
    """

    status: int
    reason: str
    headers: HeaderMap
    body: bytes
    request: Request
    driver: str | None = None
    retry_after: float | None = None

    def describe(self, detail: str | None = None) -> str:
        """
        ``"HTTP 404 Not Found for GET <url>"``, with the URL redacted.

        :param detail: what the provider said (its error message), added
            after a colon unless empty.
        """
        reason = f" {self.reason}" if self.reason else ""
        text = f"HTTP {self.status}{reason} for {self.request.method} "
        text += redact_url(self.request.full_url)
        return f"{text}: {detail}" if detail else text


#: Builds the error to raise for an :class:`ErrorResponse`.
ErrorMapper = Callable[[ErrorResponse], TxCloudError]


@attrs.frozen
class ErrorDetails:
    """
    What a provider said about an error, as far as :func:`error_details`
    could tell.
    """

    code: str | None = None
    message: str | None = None
    request_id: str | None = None


def _short(text: object) -> str | None:
    if text is None or text == "":
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _first_text(root: etree._Element, *names: str) -> str | None:
    for element in root.iter(tag=etree.Element):
        if local_name(element) in names:
            return element.text
    return None


def _from_xml(body: bytes) -> ErrorDetails:
    # S3, Azure: <Error><Code/><Message/>; EC2: <Response><Errors><Error>...
    root = parse_xml(body)
    return ErrorDetails(
        code=_short(_first_text(root, "Code")),
        message=_short(_first_text(root, "Message")),
        request_id=_short(_first_text(root, "RequestId", "RequestID")),
    )


def _from_json(body: bytes) -> ErrorDetails:
    # Google: {"error": {"code": 404, "message", "errors": [{"reason"}]}};
    # DigitalOcean: {"id", "message"}; Kubernetes: {"reason", "message"};
    # AWS JSON APIs: {"__type", "message"}; OAuth: {"error", "error_description"}.
    document = json.loads(body)
    if not isinstance(document, dict):
        return ErrorDetails()
    error = document.get("error")
    detail = error if isinstance(error, dict) else document
    code = None
    nested = detail.get("errors")
    if isinstance(nested, list) and nested and isinstance(nested[0], dict):
        code = nested[0].get("reason")
    for key in ("code", "__type", "reason", "id"):
        if code is None and isinstance(detail.get(key), str):
            code = detail[key]
    if code is None and isinstance(error, str):
        code = error
    message = detail.get("message") or detail.get("Message") or document.get("error_description")
    return ErrorDetails(code=_short(code), message=_short(message))


def error_details(response: ErrorResponse) -> ErrorDetails:
    """
    Best-effort reading of the provider's error code, message and request id
    from an error response's XML or JSON body and its headers.
    """
    details = ErrorDetails()
    start = response.body.lstrip()[:1]
    try:
        if start == b"<":
            details = _from_xml(response.body)
        elif start in (b"{", b"["):
            details = _from_json(response.body)
    except (MalformedResponseError, ValueError):
        # The body is for a person (an HTML page from a proxy, a cut-off
        # document): the status alone has to do.
        pass
    request_id = next(
        (response.headers[name] for name in REQUEST_ID_HEADERS if name in response.headers),
        details.request_id,
    )
    return attrs.evolve(details, request_id=request_id)


def default_error_mapper(response: ErrorResponse) -> TxCloudError:
    """
    The error for an HTTP error response: throttling codes and 429 give
    :class:`~txcloud.errors.RateLimitReached`, 401 and 403
    :class:`~txcloud.errors.InvalidCredsError`, 500, 502, 503 and 504
    :class:`~txcloud.errors.ServiceUnavailableError`, anything else
    :class:`~txcloud.errors.ProviderError`.  Each carries the status, the
    provider's code and request id, and the driver's name; the message names
    the request with its URL redacted.
    """
    details = error_details(response)
    message = response.describe(details.message)
    cls: type[ProviderError] = ProviderError
    if response.status == 429 or details.code in THROTTLING_CODES:
        return RateLimitReached(
            message,
            response.driver,
            retry_after=response.retry_after,
            status=response.status,
            code=details.code,
            request_id=details.request_id,
        )
    if response.status in (401, 403):
        cls = InvalidCredsError
    elif response.status in (500, 502, 503, 504):
        cls = ServiceUnavailableError
    return cls(
        message,
        response.driver,
        status=response.status,
        code=details.code,
        request_id=details.request_id,
    )


def retyped_error(error: TxCloudError, cls: type[_E]) -> _E:
    """
    *error* as a *cls*, with the same message, driver name, status, code and
    request id: for mappers that know the finer type only once the default
    mapper has read the response.
    """
    return cls(
        error.message,
        error.driver_name,
        status=error.status,
        code=error.code,
        request_id=error.request_id,
    )


_WRAPPERS = (RequestGenerationFailed, RequestTransmissionFailed, ResponseFailed)


def _reasons(exc: BaseException) -> list[BaseException]:
    # Twisted's agent wraps the real causes in Failures inside its own exceptions.
    if isinstance(exc, _WRAPPERS):
        return [cause for reason in exc.reasons for cause in _reasons(reason.value)]
    return [exc]


def is_cancellation(exc: BaseException) -> bool:
    """Whether an exception from the agent means the request was cancelled."""
    return any(
        isinstance(cause, (CancelledError, ConnectingCancelledError)) for cause in _reasons(exc)
    )


def _is_tls_verification(exc: BaseException) -> bool:
    # service_identity refused the name, OpenSSL refused the chain, or the
    # peer refused ours ("alert certificate required", "alert bad certificate").
    if isinstance(exc, (VerificationError, CertificateError)):
        return True
    return isinstance(exc, SSL.Error) and "certificate" in str(exc).lower()


def _proxy_error(
    causes: list[BaseException], where: str, driver: str | None, proxy: ProxyURL
) -> ProxyError | None:
    # Through a proxy, every connection the agent makes is to the proxy.
    for cause in causes:
        if isinstance(cause, TunnelError):
            cls = ProxyError
            if cause.timed_out:
                cls = ProxyTimeoutError
            elif cause.status in (401, 407):
                cls = ProxyAuthenticationError
            return cls(f"{cause} for {where}", driver, proxy=proxy.address, status=cause.status)
        if isinstance(cause, ConnectTimeoutError):
            return ProxyTimeoutError(
                f"connecting to the proxy {proxy.address} timed out for {where}",
                driver,
                proxy=proxy.address,
            )
        if isinstance(cause, ConnectError):
            return ProxyError(
                f"cannot connect to the proxy {proxy.address} for {where}: {cause}",
                driver,
                proxy=proxy.address,
            )
    return None


def connection_error(
    exc: BaseException, request: Request, driver: str | None, proxy: ProxyURL | None = None
) -> BaseException:
    """
    What to raise for an exception the agent failed a request with.

    :param proxy: the proxy the request went through, if any.
    :returns: the body's own exception when reading the request body failed;
        otherwise :class:`~txcloud.errors.ProxyError` (or a subclass) when
        the proxy could not be reached or refused the tunnel,
        :class:`~txcloud.errors.TLSVerificationError`,
        :class:`~txcloud.errors.RequestTimeoutError` (connecting timed out)
        or :class:`~txcloud.errors.NetworkError`, with the URL redacted.
    """
    causes = _reasons(exc)
    if isinstance(exc, RequestGenerationFailed):
        return causes[0]
    where = f"{request.method} {redact_url(request.full_url)}"
    if proxy is not None:
        refused = _proxy_error(causes, where, driver, proxy)
        if refused is not None:
            return refused
    for cause in causes:
        if _is_tls_verification(cause):
            return TLSVerificationError(
                f"TLS certificate verification failed for {where}: {cause}", driver
            )
    if any(isinstance(cause, ConnectTimeoutError) for cause in causes):
        return RequestTimeoutError(f"connecting timed out for {where}", driver)
    described = "; ".join(f"{type(cause).__name__}: {cause}" for cause in causes)
    return NetworkError(f"{where} failed: {described}", driver)


def timeout_error(
    exc: BaseException,
    request: Request,
    timeout: float,
    driver: str | None,
    proxy: ProxyURL | None = None,
) -> RequestTimeoutError:
    """
    What to raise when a request got no response within *timeout*.

    :param exc: what the agent failed the cancelled request with.
    :param proxy: the proxy the request went through, if any.
    :returns: :class:`~txcloud.errors.ProxyTimeoutError` when the connection
        to the proxy (or its tunnel) was still being made, else
        :class:`~txcloud.errors.RequestTimeoutError`; the URL redacted.
    """
    where = f"{request.method} {redact_url(request.full_url)}"
    if proxy is None:
        return RequestTimeoutError(f"no response to {where} within {timeout:g}s", driver)
    if any(isinstance(cause, ConnectingCancelledError) for cause in _reasons(exc)):
        return ProxyTimeoutError(
            f"the proxy {proxy.address} did not connect {where} within {timeout:g}s",
            driver,
            proxy=proxy.address,
        )
    return RequestTimeoutError(
        f"no response to {where} through the proxy {proxy.address} within {timeout:g}s", driver
    )


def proxy_refusal(response: ErrorResponse, proxy: ProxyURL) -> ProxyError | None:
    """
    The error for a response the proxy gave itself to a request it was to
    forward (an ``http://`` URL): 407, or 401 without a ``Via`` header (a
    proxy adds one to the responses it forwards; tinyproxy answers a wrong
    password with 401) when the request carried proxy credentials.

    :returns: :class:`~txcloud.errors.ProxyAuthenticationError`, or ``None``
        for a response of the target's.
    """
    refused = response.status == 407 or (
        response.status == 401 and proxy.username is not None and "Via" not in response.headers
    )
    if not refused:
        return None
    return ProxyAuthenticationError(
        f"the proxy {proxy.address} refused the request: {response.describe()}",
        response.driver,
        proxy=proxy.address,
        status=response.status,
    )
