"""
The transport: sends :class:`~txcloud.http.Request` objects with treq over a
pool of persistent connections, with a timeout, retries, request signing and
typed errors.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from treq.client import HTTPClient
from treq.cookies import IndexableCookieJar
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.web.client import Agent, HTTPConnectionPool

from txcloud import __version__
from txcloud.errors import (
    InvalidArgumentError,
    NetworkError,
    TxCloudError,
)
from txcloud.http.endpoints import CachingEndpointFactory
from txcloud.http.errors import (
    ErrorMapper,
    ErrorResponse,
    connection_error,
    default_error_mapper,
    is_cancellation,
    proxy_refusal,
    timeout_error,
)
from txcloud.http.pool import KeyedPool
from txcloud.http.proxy import ProxySettings, ProxyURL
from txcloud.http.redact import redact_url
from txcloud.http.request import Request
from txcloud.http.response import Response
from txcloud.http.retry import RetryPolicy, parse_retry_after
from txcloud.http.routing import ProxyingAgent
from txcloud.http.shared_pool import PoolLease, lease_default_pool
from txcloud.http.tls import TLSOptions, TLSPolicy, policy_for
from txcloud.http.uri import prepared_url

#: Rewrites a request before each attempt (adding a signature, a token...);
#: it may return the request or an awaitable (a Deferred) of it.
Signer = Callable[[Request], Request | Awaitable[Request]]

#: Bytes of an error response's body read for the error mapper.
DEFAULT_MAX_ERROR_BODY = 64 * 1024

# Framing is the transport's business: the agent sets these from the body.
_FRAMING_HEADERS = ("Content-Length", "Transfer-Encoding")


class _AttemptFailed(Exception):
    """One attempt failed with *error*; the server may have said when to retry."""

    def __init__(self, error: TxCloudError, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


class _NoCookies(IndexableCookieJar):
    """
    A cookie jar that keeps no cookie, so a request carries only what its
    driver and signer put in it.  Skipping the jar's work for each request
    and response, rather than refusing cookies by policy, saves CPU per call.
    """

    def add_cookie_header(self, request: Any) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Any) -> None:
        return None


_NO_COOKIES = _NoCookies()

# Immutable, so every transport without a policy of its own shares it.
_DEFAULT_RETRY = RetryPolicy()


def _connection_key(policy: TLSPolicy, key: tuple[bytes, bytes, int]) -> Any:
    # Plain HTTP connections carry no trust settings: any driver may reuse
    # them.  HTTPS ones are lent only to transports of the same policy (the
    # same TLS options, files and trust store).
    return key if key[0] == b"http" else (key, policy)


def _pooled(
    pool: HTTPConnectionPool,
    reactor: Any,
    policy: TLSPolicy,
    connect_timeout: float,
    proxy: ProxySettings | None,
) -> tuple[Any, HTTPClient]:
    """
    An agent sending through *pool* with these TLS settings and proxies,
    and the treq client over it (neither keeps per-request state).
    """
    # HTTPS connections are filed under their TLS settings too, so a pool
    # shared by drivers with other settings never lends one.
    keyed = KeyedPool(pool, partial(_connection_key, policy))
    endpoints = CachingEndpointFactory(
        reactor, policy, connect_timeout=connect_timeout, proxies=proxy
    )
    agent: Any
    if proxy is None:
        agent = Agent.usingEndpointFactory(reactor, endpoints, pool=keyed)
    else:
        agent = ProxyingAgent(reactor, endpoints, keyed, proxy)
    return agent, HTTPClient(agent, cookiejar=_NO_COOKIES)


def _name_of(driver: Any) -> str | None:
    if driver is None or isinstance(driver, str):
        return driver
    return getattr(driver, "name", None) or type(driver).__name__


class HTTPTransport:
    """
    Sends requests for one driver.

    :param reactor: the reactor for connections and timers; the global one
        when ``None``.
    :param pool: the connection pool to use; by default the reactor's
        default pool, shared with every other transport on that reactor
        (:mod:`txcloud.http.shared_pool`; :meth:`close` releases it).  A
        pool passed in is the caller's to close.
    :param agent: an :class:`~twisted.web.iweb.IAgent` to send through
        instead of a pooled :class:`~twisted.web.client.Agent` (tests pass
        :class:`treq.testing.RequestTraversalAgent`); it excludes *pool* and
        *tls*.
    :param timeout: seconds to wait for response headers, and for each
        chunk of a body being read; a request may set its own.
    :param retry: when and how to retry; ``RetryPolicy()`` by default.
    :param tls: certificate verification settings; ``TLSOptions()``
        (verify against the platform's trust store) by default.
    :param proxy: the proxies to send through (``https://`` URLs through
        ``CONNECT`` tunnels); ``None`` connects directly.  The transport
        reads no environment: drivers resolve ``ex_proxy``
        (:func:`~txcloud.http.proxy.proxy_settings`).
    :param signer: called with the request before every attempt (so
        time-dependent signatures stay fresh).
    :param error_mapper: builds the error raised for a response that is not
        a success; :func:`~txcloud.http.errors.default_error_mapper` by
        default.
    :param driver: the driver (or its name), named in logs and errors.
    :param max_error_body: bytes of an error response's body to read.
    :param user_agent: the ``User-Agent`` sent unless a request sets one.
    :raises InvalidArgumentError: for a timeout that is not positive, *agent*
        together with *pool*, *tls* or *proxy*, or unusable TLS files.
    """

    log = Logger()

    def __init__(
        self,
        *,
        reactor: Any = None,
        pool: HTTPConnectionPool | None = None,
        agent: Any = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        tls: TLSOptions | None = None,
        proxy: ProxySettings | None = None,
        signer: Signer | None = None,
        error_mapper: ErrorMapper | None = None,
        driver: Any = None,
        max_error_body: int = DEFAULT_MAX_ERROR_BODY,
        user_agent: str = f"txcloud/{__version__}",
    ) -> None:
        if not timeout > 0:
            raise InvalidArgumentError(f"timeout must be positive, not {timeout!r}")
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self.driver = _name_of(driver)
        self._reactor = reactor
        self._timeout = timeout
        self._retry = retry if retry is not None else _DEFAULT_RETRY
        self._signer = signer
        self._map_error: ErrorMapper = error_mapper or default_error_mapper
        self._max_error_body = max_error_body
        self._user_agent = user_agent
        self._lease: PoolLease | None = None
        self._proxies = proxy
        if agent is not None:
            if pool is not None or tls is not None or proxy is not None:
                raise InvalidArgumentError(
                    "an agent replaces the pool, the TLS options and proxies"
                )
            client = HTTPClient(agent, cookiejar=_NO_COOKIES)
        else:
            tls = tls if tls is not None else TLSOptions()
            policy = policy_for(tls)
            if not tls.verify:
                self.log.warn(
                    "TLS certificate verification is disabled for {driver}: "
                    "anyone on the network path can read and change this traffic",
                    driver=self.driver or "an HTTP transport",
                )
            settings = (reactor, policy, timeout, proxy)
            if pool is None:
                self._lease = lease_default_pool(reactor)
                pool = self._lease.pool
                # Transports of equal settings share one agent over the pool.
                agent, client = self._lease.shared(settings, partial(_pooled, pool, *settings))
            else:
                agent, client = _pooled(pool, *settings)
            if proxy is not None:
                self.log.debug(
                    "{driver} sends through proxies: {proxies}",
                    driver=self.driver or "an HTTP transport",
                    proxies=repr(proxy),
                )
        # treq's client always decodes gzip; requests that want the body as
        # stored go to the agent itself.
        self._client = client
        self._agent = agent

    def send(self, request: Request) -> Deferred[Response]:
        """
        Send *request*, retrying as the retry policy allows.

        :returns: a Deferred firing with the :class:`Response` (body unread)
            for a 2xx status or one of ``request.ok_statuses``.  Otherwise it
            fails with the error mapper's error (the last one, once retries
            are exhausted),
            :class:`~txcloud.errors.RequestTimeoutError`,
            :class:`~txcloud.errors.TLSVerificationError`,
            :class:`~txcloud.errors.NetworkError`, or the exception the
            request body raised.  Cancelling it aborts the request.
        :raises InvalidArgumentError: if *request* is not a :class:`Request`.
        """
        if not isinstance(request, Request):
            raise InvalidArgumentError(f"send() needs a Request, not {type(request).__name__}")
        return Deferred.fromCoroutine(self._send(request))

    async def _send(self, request: Request) -> Response:
        retryable = request.retryable
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(request, attempt)
            except _AttemptFailed as failed:
                error = failed.error
                more = retryable and attempt < self._retry.max_attempts
                if not (more and self._retry.is_retryable(error)):
                    if attempt > 1:
                        self.log.warn(
                            "Giving up on {method} {url} after {attempts} attempts: {error}",
                            method=request.method,
                            url=redact_url(request.full_url),
                            attempts=attempt,
                            error=str(error),
                        )
                    raise error from error.__cause__
                delay = self._retry.delay(attempt, failed.retry_after)
            self.log.info(
                "Retrying {method} {url} in {delay:.2f}s; attempt {attempt} of "
                "{max_attempts} failed: {error}",
                method=request.method,
                url=redact_url(request.full_url),
                delay=delay,
                attempt=attempt,
                max_attempts=self._retry.max_attempts,
                error=str(error),
            )
            await deferLater(self._reactor, delay)

    async def _sign(self, request: Request) -> Request:
        if "User-Agent" not in request.headers:
            request = request.with_headers({"User-Agent": self._user_agent})
        if self._signer is None:
            return request
        signed = self._signer(request)
        if inspect.isawaitable(signed):
            signed = await signed
        if not isinstance(signed, Request):
            raise InvalidArgumentError(f"the signer returned a {type(signed).__name__}")
        return signed

    async def _attempt(self, request: Request, attempt: int) -> Response:
        sent = await self._sign(request)
        timeout = sent.timeout or self._timeout
        started = self._reactor.seconds()
        headers = sent.headers.without(*_FRAMING_HEADERS).to_twisted()
        url = prepared_url(sent.full_url)
        proxy = self._route(url)
        pending: Deferred[Any]
        if sent.decode_content:
            pending = self._client.request(
                sent.method,
                url,
                headers=headers,
                data=sent.body.producer(),
                # The jar that keeps nothing, rather than a new one per request.
                cookies=_NO_COOKIES,
                allow_redirects=False,
                unbuffered=True,
            )
        else:
            pending = self._agent.request(
                sent.method.encode("ascii"),
                url.to_text().encode("ascii"),
                headers,
                sent.body.producer(),
            )
        timer = self._reactor.callLater(timeout, pending.cancel)
        try:
            raw = await pending
        except Exception as exc:
            error: TxCloudError
            if timer.called:
                error = timeout_error(exc, sent, timeout, self.driver, proxy)
            elif is_cancellation(exc):
                raise CancelledError() from None
            else:
                mapped = connection_error(exc, sent, self.driver, proxy)
                if not isinstance(mapped, TxCloudError):
                    # The request body failed: that is the caller's error.
                    raise mapped from None
                error = mapped
                error.__cause__ = exc
            self._log_attempt(sent, attempt, started, str(error))
            raise _AttemptFailed(error) from None
        finally:
            if timer.active():
                timer.cancel()

        response = Response(raw, sent, clock=self._reactor, timeout=timeout, driver=self.driver)
        success = 200 <= response.status < 300 or response.status in sent.ok_statuses
        if attempt > 1 or not success:
            # A first attempt that succeeds (nearly every call) logs nothing:
            # a fan-out over thousands of targets would pay for an event each.
            self._log_attempt(sent, attempt, started, str(response.status))
        if success:
            return response
        try:
            body = await response.read_at_most(self._max_error_body)
        except NetworkError:
            # The status says enough; the body was only for details.
            body = b""
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), self._reactor.seconds()
        )
        failure = ErrorResponse(
            status=response.status,
            reason=response.reason,
            headers=response.headers,
            body=body,
            request=sent,
            driver=self.driver,
            retry_after=retry_after,
        )
        refused = None
        if proxy is not None and url.scheme == "http":
            # Only a request the proxy forwards (not one sent through a
            # tunnel) may get the proxy's own answer.
            refused = proxy_refusal(failure, proxy)
        raise _AttemptFailed(refused or self._map_error(failure), retry_after)

    def _route(self, url: Any) -> ProxyURL | None:
        """The proxy a request to *url* goes through, if any."""
        if self._proxies is None:
            return None
        return self._proxies.proxy_for(url.scheme, url.host, url.port)

    def _log_attempt(self, request: Request, attempt: int, started: float, outcome: str) -> None:
        self.log.debug(
            "{method} {url} -> {outcome} in {duration:.3f}s (attempt {attempt})",
            method=request.method,
            url=redact_url(request.full_url),
            outcome=outcome,
            duration=self._reactor.seconds() - started,
            attempt=attempt,
            driver=self.driver,
        )

    def close(self) -> Deferred[None]:
        """
        Release the reactor's default pool, when this transport uses it: the
        last transport to release it closes its idle connections.  A pool
        passed in is left alone (its owner closes it).

        :returns: a Deferred firing once that is done.
        """
        lease, self._lease = self._lease, None
        return succeed(None) if lease is None else lease.release()

    def __repr__(self) -> str:
        return f"<HTTPTransport driver={self.driver!r}>"
