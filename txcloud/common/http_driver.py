"""
The base of drivers that speak HTTP: builds one
:class:`~txcloud.http.HTTPTransport` from Libcloud's constructor arguments
(``secure``, ``host``, ``port``) and txcloud's (``reactor``, ``timeout``,
TLS and retry options), lazily, and closes it with the driver.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from txcloud.common.base import DEFAULT_TIMEOUT, BaseDriver
from txcloud.errors import InvalidArgumentError, TxCloudError
from txcloud.http import (
    ErrorMapper,
    ErrorResponse,
    HTTPTransport,
    Request,
    RetryPolicy,
    Signer,
    TLSOptions,
    default_error_mapper,
)

__all__ = ["HTTPDriver"]


class HTTPDriver(BaseDriver):
    """
    A driver whose provider is reached over HTTP.

    Besides :class:`~txcloud.common.base.BaseDriver`'s arguments it takes:

    :param ex_ca_file: a PEM file of CA certificates to trust instead of the
        system's.
    :param ex_verify_tls: ``False`` turns TLS verification off (logged as a
        warning); only for test setups.
    :param ex_client_cert: a PEM client certificate (and ``ex_client_key``)
        for services that authenticate clients by certificate.
    :param ex_retry: the :class:`~txcloud.http.RetryPolicy` to use.
    :param ex_pool: a ``HTTPConnectionPool`` to share with other drivers.
    :param ex_agent: an ``IAgent`` to send through instead (tests).

    Subclasses give :meth:`_default_host` (the provider's endpoint for the
    region), may override :meth:`_sign` and :meth:`_map_error`, and send with
    ``self.http.send(Request(...))``.
    """

    #: The provider's port when ``port`` is not given: 443 or 80 by ``secure``.
    default_port: int | None = None

    def __init__(
        self,
        key: Any = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = None,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_ca_file: str | None = None,
        ex_verify_tls: bool = True,
        ex_client_cert: str | None = None,
        ex_client_key: str | None = None,
        ex_retry: RetryPolicy | None = None,
        ex_pool: Any = None,
        ex_agent: Any = None,
    ) -> None:
        super().__init__(
            key, secret, secure, host, port, region=region, reactor=reactor, timeout=timeout
        )
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise InvalidArgumentError(f"port must be an integer in 1..65535, not {port!r}", self)
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise InvalidArgumentError(f"timeout must be positive, not {timeout!r}", self)
        self._tls = (
            None
            if ex_agent is not None
            else TLSOptions(
                verify=ex_verify_tls,
                ca_file=ex_ca_file,
                client_cert=ex_client_cert,
                client_key=ex_client_key,
            )
        )
        self._retry = ex_retry
        self._pool = ex_pool
        self._agent = ex_agent
        self._http: HTTPTransport | None = None

    @property
    def http(self) -> HTTPTransport:
        """The transport this driver sends its requests with."""
        if self._http is None:
            self._http = self._new_transport(self._sign, self._map_error)
        return self._http

    def _new_transport(
        self, signer: Signer | None, error_mapper: ErrorMapper = default_error_mapper
    ) -> HTTPTransport:
        """
        A transport with this driver's connection settings (pool, TLS,
        timeout, retries), for its own requests or a credential exchange's.
        """
        return HTTPTransport(
            reactor=self.reactor,
            pool=self._pool,
            agent=self._agent,
            timeout=self.timeout,
            retry=self._retry,
            tls=self._tls,
            signer=signer,
            error_mapper=error_mapper,
            driver=self,
        )

    def _default_host(self) -> str:
        """The provider's own host name for this driver's region."""
        raise NotImplementedError(f"{type(self).__name__} needs a host")

    @property
    def endpoint(self) -> str:
        """``scheme://host[:port]`` of the service this driver talks to."""
        scheme = "https" if self.secure else "http"
        host = self.host or self._default_host()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        port = self.port if self.port is not None else self.default_port
        if port is None or port == (443 if self.secure else 80):
            return f"{scheme}://{host}"
        return f"{scheme}://{host}:{port}"

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        """Add authentication to *request*; called before every attempt."""
        return request

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        """The typed error for an error response; see :mod:`txcloud.http.errors`."""
        return default_error_mapper(response)

    def close(self) -> Deferred[None]:
        """Close the connections this driver opened."""
        if self._http is None:
            return super().close()
        http, self._http = self._http, None
        return http.close()
