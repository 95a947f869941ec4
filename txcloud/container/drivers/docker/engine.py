"""
The connection to one Docker engine, under the Docker and Triton drivers:
where the engine is (see :mod:`~txcloud.container.drivers.docker.host` for
the hosts and environment variables understood), the Engine API version
agreed with it, requests, and the typed errors its answers map to.

The API version is agreed on the first call: the lower of the engine's
(``GET /version``) and :attr:`DockerEngineBase.max_api_version`; an engine
older than :attr:`DockerEngineBase.min_api_version` is refused with
:class:`~txcloud.errors.UnsupportedAPIVersionError`.

Errors: a missing container is
:class:`~txcloud.errors.ContainerNotFoundError`, a missing image
:class:`~txcloud.errors.ContainerImageNotFoundError` (also when a pull
fails that way midway), a name in use or a running container in the way
:class:`~txcloud.errors.ResourceConflictError` (409), a bad parameter
:class:`~txcloud.errors.InvalidRequestError` (400), refused credentials
:class:`~txcloud.errors.InvalidCredsError` (403:
:class:`~txcloud.errors.PermissionDeniedError`).  The engine's 500 answers
(it failed at what it was asked: no network to reach a registry, say) are
:class:`~txcloud.errors.ProviderError` with its message, and are not retried.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from twisted.internet.defer import Deferred, DeferredLock

from txcloud.common.base import DEFAULT_TIMEOUT
from txcloud.common.http_driver import HTTPDriver
from txcloud.container.drivers.docker.host import EngineAddress, engine_address
from txcloud.errors import (
    ContainerImageNotFoundError,
    ContainerNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    PermissionDeniedError,
    ProviderError,
    RateLimitReached,
    ResourceConflictError,
    TxCloudError,
    UnsupportedAPIVersionError,
)
from txcloud.http import (
    ErrorResponse,
    HTTPTransport,
    Request,
    Response,
    RetryPolicy,
    UNIXSocketAgent,
    default_error_mapper,
    error_details,
)

__all__ = ["SOCKET_ENDPOINT", "DockerEngineBase", "registry_auth"]

#: The ``Host`` of requests sent over a Unix socket (the socket is the address).
SOCKET_ENDPOINT = "http://docker"


def _version(text: object) -> tuple[int, int]:
    if isinstance(text, str):
        major, _, minor = text.partition(".")
        if major.isdigit() and minor.isdigit():
            return int(major), int(minor)
    raise MalformedResponseError(f"the Docker engine gave an unreadable API version: {text!r}")


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _plain_text(body: bytes) -> str | None:
    # Some answers are text, not JSON: an unknown route's "page not found",
    # the TLS port's "Client sent an HTTP request to an HTTPS server."
    text = body.decode("utf-8", "replace").strip()
    if not text or text.startswith(("{", "[", "<")) or not text.isprintable():
        return None
    return text[:200]


def registry_auth(auth: Mapping[str, str] | None) -> dict[str, str]:
    """The ``X-Registry-Auth`` header: base64url JSON credentials (``{}`` for none)."""
    if auth is not None and not (
        isinstance(auth, Mapping) and all(isinstance(v, str) for v in auth.values())
    ):
        raise InvalidArgumentError("ex_registry_auth must map credential names to text")
    document = json.dumps(dict(auth or {}), separators=(",", ":")).encode()
    return {"X-Registry-Auth": base64.urlsafe_b64encode(document).decode("ascii")}


class DockerEngineBase(HTTPDriver):
    """
    The connection to one Docker engine, spoken to with the Engine API.

    :param key: a user name for HTTP basic authentication (an engine behind
        a proxy that asks for it), with *secret*; usually ``None``.
    :param secret: the password for *key*.
    :param secure: use TLS for a TCP host given without a scheme.
    :param host: the engine: ``unix:///PATH``, ``tcp://HOST:PORT``,
        ``https://HOST`` or a host name; ``DOCKER_HOST`` or
        ``unix:///var/run/docker.sock`` when ``None``.
    :param port: the TCP port; 2376 with TLS, 2375 without, by default.
    :param key_file: the PEM private key of the client certificate (TLS).
    :param cert_file: the PEM client certificate (TLS).
    :param ca_cert: PEM CA certificates to verify the engine's certificate
        with, instead of the system's.
    :param reactor: the reactor; the global one when ``None``.
    :param timeout: seconds each request may wait for an answer.
    :param ex_verify_tls: ``False`` accepts any engine certificate (tests only).
    :param ex_retry: the :class:`~txcloud.http.RetryPolicy` of idempotent requests.
    :param ex_proxy: the HTTP proxy for a TCP engine (see
        :class:`~txcloud.common.http_driver.HTTPDriver`); an engine on a
        Unix socket is never reached through one.
    :param ex_pool: a connection pool to share (TCP engines; an engine on a
        socket keeps its own connections).
    :param ex_agent: an ``IAgent`` to send through instead (tests).
    :param ex_environ: the environment ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``
        and ``DOCKER_CERT_PATH`` are read from; ``os.environ`` by default.
    :raises InvalidArgumentError: for a bad host, port or TLS file, before
        anything is sent.
    """

    #: The oldest Engine API version spoken.
    min_api_version: ClassVar[tuple[int, int]] = (1, 41)
    #: The newest Engine API version spoken.
    max_api_version: ClassVar[tuple[int, int]] = (1, 45)

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = False,
        host: str | None = None,
        port: int | None = None,
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_cert: str | None = None,
        *,
        region: str | None = None,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_verify_tls: bool = True,
        ex_retry: RetryPolicy | None = None,
        ex_proxy: str | None = None,
        ex_pool: Any = None,
        ex_agent: Any = None,
        ex_environ: Mapping[str, str] | None = None,
    ) -> None:
        if (key is None) != (secret is None) or not isinstance(key, (str, type(None))):
            raise InvalidArgumentError("basic authentication needs both key and secret, as text")
        address = self._engine_address(
            host,
            port,
            secure,
            key_file,
            cert_file,
            ca_cert,
            os.environ if ex_environ is None else ex_environ,
            region,
        )
        for path in (address.ca_file, address.cert_file, address.key_file):
            if path is not None and not os.path.isfile(path):
                raise InvalidArgumentError(f"no such TLS file: {path!r}")
        super().__init__(
            key,
            secret,
            address.secure,
            address.host,
            address.port,
            region=region,
            reactor=reactor,
            timeout=timeout,
            ex_ca_file=address.ca_file,
            ex_verify_tls=ex_verify_tls,
            ex_client_cert=address.cert_file,
            ex_client_key=address.key_file,
            ex_retry=ex_retry,
            ex_proxy="" if address.socket_path is not None else ex_proxy,
            ex_pool=ex_pool,
            ex_agent=ex_agent,
        )
        #: Where the engine is.
        self.address = address
        self._socket_agent: UNIXSocketAgent | None = None
        if address.socket_path is not None:
            self.host = address.url
            # Nothing to verify on a local socket.
            self._tls = None
        self._api_version: str | None = None
        self._version_lock = DeferredLock()

    def _engine_address(
        self,
        host: str | None,
        port: int | None,
        secure: bool,
        key_file: str | None,
        cert_file: str | None,
        ca_cert: str | None,
        environ: Mapping[str, str],
        region: str | None,
    ) -> EngineAddress:
        """Where the engine is; subclasses for hosted engines override it."""
        if region is not None:
            raise InvalidArgumentError("a Docker engine has no region: give its host")
        return engine_address(host, port, secure, key_file, cert_file, ca_cert, environ)

    # Transport

    @property
    def endpoint(self) -> str:
        """``scheme://host:port`` of the engine (``http://docker`` over a socket)."""
        if self.address.socket_path is not None:
            return SOCKET_ENDPOINT
        return super().endpoint

    @property
    def http(self) -> HTTPTransport:
        """The transport; over a Unix socket it sends through a :class:`UNIXSocketAgent`."""
        socket_path = self.address.socket_path
        if self._http is None and socket_path is not None and self._agent is None:
            # A pool of its own: pools key connections by host, and every
            # socket's requests name the same one.
            self._socket_agent = UNIXSocketAgent(
                socket_path, reactor=self.reactor, connect_timeout=self.timeout
            )
            self._agent = self._socket_agent
            self._pool = None
        return super().http

    def close(self) -> Deferred[None]:
        """Close the connections this driver opened."""
        closing = super().close()
        agent, self._socket_agent = self._socket_agent, None
        if agent is not None:
            self._agent = None
            closing.addCallback(lambda _: agent.close())
        return closing

    def _sign(self, request: Request) -> Request:
        if self.key is None or self._secret is None:
            return request
        pair = f"{self.key}:{self._secret}".encode()
        return request.with_headers(
            {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        )

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        details = error_details(response)
        text = details.message or _plain_text(response.body)
        message = response.describe(text)
        said = (text or "").lower()
        path = response.request.url.partition("?")[0]
        cls: type[TxCloudError] | None = None
        if response.status == 404:
            if "no such image" in said or "manifest unknown" in said or "/images/" in path:
                cls = ContainerImageNotFoundError
            elif "no such container" in said or "/containers/" in path:
                cls = ContainerNotFoundError
        elif response.status == 409:
            cls = ResourceConflictError
        elif response.status == 400:
            cls = InvalidRequestError
        elif response.status == 403:
            cls = PermissionDeniedError
        elif response.status == 500:
            # The engine failed at what it was asked: asking again will not help.
            cls = ProviderError
        if cls is None:
            return default_error_mapper(response)
        return cls(message, response.driver, status=response.status, code=details.code)

    def _stream_error(self, what: str) -> Callable[[str], TxCloudError]:
        """The error for an ``error`` line of a progress stream about *what*."""

        def error_for(message: str) -> TxCloudError:
            said = message.lower()
            cls: type[TxCloudError] = ProviderError
            if "not found" in said or "manifest unknown" in said or "does not exist" in said:
                cls = ContainerImageNotFoundError
            elif "unauthorized" in said or "authentication required" in said or "denied" in said:
                cls = InvalidCredsError
            elif "toomanyrequests" in said:
                cls = RateLimitReached
            return cls(f"Docker {what} failed: {message}", self)

        return error_for

    # API version

    def ex_get_api_version(self) -> Deferred[str]:
        """
        The Engine API version spoken with this engine (agreed on first use).

        :returns: a Deferred firing with ``"1.41"``..., or failing with
            :class:`~txcloud.errors.UnsupportedAPIVersionError`.
        """
        return Deferred.fromCoroutine(self._negotiated_version())

    async def _negotiated_version(self) -> str:
        if self._api_version is not None:
            return self._api_version
        await self._version_lock.acquire()
        try:
            if self._api_version is None:
                self._api_version = await self._agree_version()
            return self._api_version
        finally:
            self._version_lock.release()

    async def _agree_version(self) -> str:
        response = await self.http.send(Request("GET", self.endpoint + "/version"))
        document = await response.json_object("the Docker engine's /version is not an object")
        engine = _version(document.get("ApiVersion"))
        if engine < self.min_api_version:
            raise UnsupportedAPIVersionError(
                f"the Docker engine at {self.address.url} speaks API {_text(engine)}; "
                f"{self.name} needs {_text(self.min_api_version)} or later",
                self,
            )
        return _text(min(engine, self.max_api_version))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        document: Any = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Sequence[int] = (),
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        version = await self._negotiated_version()
        headers = dict(headers or {})
        if document is not None:
            body = json.dumps(document, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        request = Request(
            method,
            f"{self.endpoint}/v{version}{path}",
            headers=headers,
            params=params,
            body=body,
            ok_statuses=ok_statuses,
            timeout=timeout,
            idempotent=idempotent,
        )
        return await self.http.send(request)

    async def _json(self, method: str, path: str, **options: Any) -> Any:
        response = await self._send(method, path, **options)
        return await response.json()

    async def _no_body(self, method: str, path: str, **options: Any) -> int:
        response = await self._send(method, path, **options)
        await response.content()
        return response.status
