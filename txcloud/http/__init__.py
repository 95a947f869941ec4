"""
The only part of txcloud that speaks HTTP: drivers describe requests, the
transport sends them (with treq, over persistent connections) and hands back
responses to read as bytes, JSON, XML or a stream of chunks.

How a driver uses it
====================

A driver makes one :class:`HTTPTransport` in its constructor and closes it
in its ``close()``::

    self._http = HTTPTransport(
        reactor=self.reactor,          # never the global one inside a driver
        timeout=self.timeout,
        signer=self._sign,             # Request -> Request (or a Deferred of it)
        error_mapper=self._map_error,  # ErrorResponse -> TxCloudError
        driver=self,                   # only its name is kept
        tls=TLSOptions(ca_file=...),   # when the user gave one; verified by default
    )

    def close(self):
        return self._http.close()

It never imports treq.  A call builds a :class:`Request` and awaits
:meth:`HTTPTransport.send` (inside ``async def`` helpers run with
``Deferred.fromCoroutine``)::

    async def _list_buckets(self):
        response = await self._http.send(Request("GET", self._url("/")))
        root = await response.xml()
        return [findtext_local(b, "Name") for b in findall_local(root, "Buckets/Bucket")]

Requests
--------
``Request(method, url, headers=None, params=None, body=None, *,
idempotent=None, ok_statuses=(), timeout=None, decode_content=True)`` is immutable and validated
when built (bad input raises :class:`~txcloud.errors.InvalidArgumentError`
before anything is sent).  ``params`` are appended to the URL, encoded as
RFC 3986 says; :attr:`Request.full_url` is the URL that goes out, and what a
signer signs.  The body may be bytes, a :class:`os.PathLike` (the file is
streamed), a zero-argument callable returning a body (called once per
attempt, e.g. ``lambda: FileProducer(path, offset=o, length=n)`` for one part
of a multipart upload), an ``IBodyProducer``, a binary file object, or a sync
or async iterator of bytes (sent with chunked encoding unless wrapped in
``IteratorProducer(chunks, length=n)``).

Signing
-------
The signer is called before *every* attempt, with the request as the driver
built it plus the transport's ``User-Agent``, and returns the request to send
(``request.with_headers({...})`` or ``request.with_params(...)``).  It may
return a Deferred, for tokens that must be fetched or refreshed.

Success, errors and retries
---------------------------
``send`` fires with a :class:`Response` for 2xx statuses and those in
``ok_statuses`` (redirects are never followed).  For any other status it
reads at most 64 KiB of the body and calls the error mapper with an
:class:`ErrorResponse` (status, reason, headers, body, the request as sent,
driver name, Retry-After); the mapper returns the typed error to raise.  A
driver's mapper handles its provider's codes (``NoSuchKey`` ->
``ObjectDoesNotExistError``...) and delegates the rest to
:func:`default_error_mapper` (401/403 -> InvalidCredsError, 429 and throttling
codes -> RateLimitReached, 500/502/503/504 -> ServiceUnavailableError, else
ProviderError); :func:`retyped_error` gives an error the mapper has built
a finer type.

Failures that :meth:`RetryPolicy.is_retryable` accepts (RateLimitReached,
ServiceUnavailableError, NetworkError and RequestTimeoutError, never
TLSVerificationError or ProxyAuthenticationError) are retried with
exponential backoff and full jitter, honouring ``Retry-After``, but only
for idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, or
``idempotent=True``) whose body can be sent again (not a producer, file
object or iterator).  When attempts run out the last error is
raised.  A mapper that returns RateLimitReached or ServiceUnavailableError
makes an error retryable.

Each attempt has a timeout for the response headers
(:class:`~txcloud.errors.RequestTimeoutError`); cancelling the Deferred from
``send`` aborts the request.  TLS certificate or hostname failures raise
:class:`~txcloud.errors.TLSVerificationError`, other connection failures
:class:`~txcloud.errors.NetworkError`.  If the request body raises, ``send``
fails with that exception.

Proxies
-------
``HTTPTransport(proxy=ProxySettings(...))`` sends ``http://`` URLs to the
proxy in absolute form and ``https://`` URLs through ``CONNECT`` tunnels
(:class:`~txcloud.http.tunnel.TunnelEndpoint`), TLS verified against the
URL's host; drivers build the settings from ``ex_proxy`` and the
environment with :func:`~txcloud.http.proxy.proxy_settings`.  A proxy that
cannot be reached, refuses the tunnel or closes it raises
:class:`~txcloud.errors.ProxyError`, one that does not answer in time
:class:`~txcloud.errors.ProxyTimeoutError`, refused credentials
:class:`~txcloud.errors.ProxyAuthenticationError`; each names the proxy's
``host:port``, never its credentials.

Responses
---------
``response.status``, ``response.reason``, ``response.headers`` (a
case-insensitive :class:`HeaderMap`).  The body is read once:
``await response.content()``, ``.json()`` or ``.xml()`` (both raise
:class:`~txcloud.errors.MalformedResponseError` for bad or hostile content;
``content()`` keeps the bytes so they can be parsed again), or streamed::

    async with response.iter_body(chunk_size=1024 * 1024) as chunks:
        async for chunk in chunks:
            out.write(chunk)

Streaming pauses the connection while more than 256 KiB wait unread, and
fails with RequestTimeoutError if the server stalls for the timeout.
Leaving the ``async with`` early, or cancelling, closes the connection.  A
caller that wants no body calls ``response.close()``, or the connection stays
busy.

Responses are content-decoded: treq's client asks for gzip and decompresses
it, removing the ``Content-Encoding`` header.  A request built with
``decode_content=False`` gets the body exactly as the server sent it (object
downloads, whose ``Content-Encoding`` describes the stored bytes).

XML and secrets
---------------
:func:`parse_xml` parses with a hardened lxml parser and refuses documents
with a DOCTYPE; :func:`findall_local`, :func:`find_local`,
:func:`findtext_local` and :func:`iter_local` match elements by local name,
whatever namespace a service (or its emulator) uses.  Logs, reprs and error
messages pass URLs and headers through :func:`redact_url` and
:func:`redact_headers`; use them in driver messages too.
"""

from txcloud.http.body import (
    BytesProducer,
    FileProducer,
    IteratorProducer,
    RequestBody,
)
from txcloud.http.errors import (
    ErrorDetails,
    ErrorMapper,
    ErrorResponse,
    default_error_mapper,
    error_details,
    retyped_error,
)
from txcloud.http.headers import HeaderMap
from txcloud.http.proxy import ProxySettings, ProxyURL, proxy_settings
from txcloud.http.redact import REDACTED, redact_headers, redact_url
from txcloud.http.request import IDEMPOTENT_METHODS, Request, json_parts
from txcloud.http.response import BodyStream, Response
from txcloud.http.retry import RetryPolicy, full_jitter, parse_retry_after
from txcloud.http.tls import TLSOptions
from txcloud.http.transport import HTTPTransport, Signer
from txcloud.http.unix import UNIXSocketAgent
from txcloud.http.xml import (
    find_local,
    findall_local,
    findtext_local,
    iter_local,
    iterfind_local,
    local_name,
    parse_xml,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "REDACTED",
    "BodyStream",
    "BytesProducer",
    "ErrorDetails",
    "ErrorMapper",
    "ErrorResponse",
    "FileProducer",
    "HTTPTransport",
    "HeaderMap",
    "IteratorProducer",
    "ProxySettings",
    "ProxyURL",
    "Request",
    "RequestBody",
    "Response",
    "RetryPolicy",
    "Signer",
    "TLSOptions",
    "UNIXSocketAgent",
    "default_error_mapper",
    "error_details",
    "find_local",
    "findall_local",
    "findtext_local",
    "full_jitter",
    "iter_local",
    "iterfind_local",
    "json_parts",
    "local_name",
    "parse_retry_after",
    "parse_xml",
    "proxy_settings",
    "redact_headers",
    "redact_url",
    "retyped_error",
]
