"""
The connection to a Kubernetes API server, shared by the Kubernetes
drivers: where the server is, how to authenticate (basic auth, a bearer
token or token file, client certificates, an exec plugin; from arguments,
merged kubeconfig files or the pod's service account), sending requests,
following ``continue`` tokens, and mapping ``Status`` errors to typed
errors:

* 401 :class:`~txcloud.errors.InvalidCredsError`, 403
  :class:`~txcloud.errors.PermissionDeniedError`;
* 404 :class:`~txcloud.errors.ClusterNotFoundError` for a namespace,
  :class:`~txcloud.errors.ContainerNotFoundError` for a pod;
* 409 :class:`~txcloud.errors.ClusterAlreadyExistsError` for a namespace,
  else :class:`~txcloud.errors.ResourceConflictError`;
* 410 (a ``continue`` token that expired mid-list)
  :class:`~txcloud.errors.ExpiredPageTokenError`;
* 400 and 422 :class:`~txcloud.errors.InvalidRequestError`; the rest as
  :func:`~txcloud.http.default_error_mapper` maps them.

Each carries the ``Status`` reason as its ``code``, the ``Status`` message,
and the ``Audit-Id`` header as its ``request_id``; never a credential.

Credentials that change (a token file, an exec plugin: an
:class:`~txcloud.container.drivers.kubernetes.credentials.CredentialSource`)
are asked for before each request; after a ``401`` the source is told,
and the request is sent once more if the source then gives other
credentials (a ``401`` means the server did not act on the request, so
sending it again is safe whatever its method).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import attrs
from twisted.internet.defer import Deferred

from txcloud.common.base import DEFAULT_TIMEOUT
from txcloud.common.checks import check_trimmed_text as text
from txcloud.common.http_driver import HTTPDriver
from txcloud.container.drivers.kubernetes.config import load_kubeconfig, pem_files
from txcloud.container.drivers.kubernetes.credentials import (
    CredentialSource,
    KubernetesCredentials,
    TokenFile,
)
from txcloud.container.drivers.kubernetes.exec_plugin import ExecPlugin
from txcloud.container.drivers.kubernetes.in_cluster import (
    SERVICE_ACCOUNT_DIR,
    in_cluster_arguments,
)
from txcloud.container.drivers.kubernetes.parse import list_page, status_details
from txcloud.errors import (
    ClusterAlreadyExistsError,
    ClusterNotFoundError,
    ContainerNotFoundError,
    ExpiredPageTokenError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    PermissionDeniedError,
    ProviderError,
    ResourceConflictError,
    TxCloudError,
)
from txcloud.http import (
    ErrorResponse,
    HTTPTransport,
    Request,
    Response,
    RetryPolicy,
    default_error_mapper,
    retyped_error,
)

__all__ = [
    "CORE",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PORT",
    "KubernetesBaseDriver",
    "boolean",
    "label",
    "page_size",
    "subdomain",
    "text",
]

#: The port of an API server given without one (kubeadm's).
DEFAULT_PORT = 6443
#: Items per list page unless told otherwise (kubectl's chunk size).
DEFAULT_PAGE_SIZE = 500
#: The core API group's path, as segments.
CORE = ("api", "v1")

_D = TypeVar("_D", bound="KubernetesBaseDriver")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NOT_FOUND_ERRORS: dict[str, type[TxCloudError]] = {
    "namespaces": ClusterNotFoundError,
    "pods": ContainerNotFoundError,
}


def _is_label(name: str) -> bool:
    # An RFC 1123 label, as Kubernetes names namespaces and containers.
    return len(name) <= 63 and _LABEL.fullmatch(name) is not None


def label(value: object, what: str) -> str:
    """*value*, if it is an RFC 1123 label (a namespace or container name)."""
    if not isinstance(value, str) or not _is_label(value):
        raise InvalidArgumentError(
            f"{what} must be 1 to 63 lowercase letters, digits or '-', starting and "
            f"ending with a letter or digit, not {value!r}"
        )
    return value


def subdomain(value: object, what: str) -> str:
    """*value*, if it is an RFC 1123 subdomain (a pod name)."""
    if not (isinstance(value, str) and len(value) <= 253 and all(map(_is_label, value.split(".")))):
        raise InvalidArgumentError(
            f"{what} must be lowercase labels joined by '.' (at most 253 characters), not {value!r}"
        )
    return value


def page_size(value: object) -> int:
    """The ``limit`` for ``ex_page_size``: :data:`DEFAULT_PAGE_SIZE` for ``None``."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"ex_page_size must be a positive integer, not {value!r}")
    return value


def boolean(value: object, what: str) -> bool:
    """*value*, if it is a bool."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be a bool, not {value!r}")
    return value


def _token(value: object, what: str) -> str:
    # Whitespace or control characters would break (or inject into) the header.
    if not isinstance(value, str) or not value or not all(c.isprintable() for c in value):
        raise InvalidArgumentError(f"{what} must be a non-empty string of printable characters")
    if any(c.isspace() for c in value):
        raise InvalidArgumentError(f"{what} must not contain whitespace")
    return value


def _pem(value: object, what: str) -> bytes | None:
    if value is None:
        return None
    data = value.encode("ascii", "replace") if isinstance(value, str) else value
    if not isinstance(data, bytes) or b"-----BEGIN " not in data:
        # Never quote the value: it may be a private key.
        raise InvalidArgumentError(f"{what} must be PEM text (bytes or str)")
    return data


def _server(
    host: object, secure: bool, port: int | None
) -> tuple[bool, str | None, int | None, str]:
    """``secure``, host name, port and path prefix from a host name or server URL."""
    if host is None:
        return secure, None, port, ""
    if not isinstance(host, str) or not host or host != host.strip():
        raise InvalidArgumentError(f"host must be a host name or an URL, not {host!r}")
    if "://" not in host:
        return secure, host, port, ""
    parts = urlsplit(host)
    if parts.username is not None or parts.password is not None:
        raise InvalidArgumentError("the server URL must not carry credentials")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(f"the server URL must be http(s)://HOST[:PORT], not {host!r}")
    if parts.query or parts.fragment:
        raise InvalidArgumentError(f"the server URL must have no query or fragment: {host!r}")
    try:
        url_port = parts.port
    except ValueError:
        raise InvalidArgumentError(f"the server URL has a bad port: {host!r}") from None
    secure = parts.scheme == "https"
    if port is None:
        port = url_port or (443 if secure else 80)
    return secure, parts.hostname, port, parts.path.rstrip("/")


def _resource_kind(url: str) -> str | None:
    # "namespaces" or "pods" for a URL naming one of them, else None.
    segments = urlsplit(url).path.rstrip("/").split("/")
    return segments[-2] if len(segments) >= 2 and segments[-2] in _NOT_FOUND_ERRORS else None


def _error_class(response: ErrorResponse, reason: str | None) -> type[TxCloudError] | None:
    """The error class for a ``Status`` error; ``None`` keeps the default mapper's."""
    status = response.status
    if status == 403:
        return PermissionDeniedError
    if status in (404, 409):
        kind = status_details(response.body).get("kind") or _resource_kind(response.request.url)
        if status == 404:
            return _NOT_FOUND_ERRORS.get(str(kind), ProviderError)
        if reason == "AlreadyExists" and kind == "namespaces":
            return ClusterAlreadyExistsError
        return ResourceConflictError
    if status == 410:
        return ExpiredPageTokenError
    if status in (400, 422):
        return InvalidRequestError
    return None


def _authorized(request: Request, credentials: KubernetesCredentials) -> Request:
    if credentials.token is None:
        return request
    return request.with_headers({"Authorization": f"Bearer {credentials.token}"})


class KubernetesBaseDriver(HTTPDriver):
    """
    A driver speaking to one Kubernetes cluster's API server.

    :param key: with *secret*, the user name for basic authentication; or
        the bearer token when *ex_token_bearer_auth* (as in Libcloud).
    :param secret: the password for basic authentication.
    :param secure: HTTPS (the default) or plain HTTP (``kubectl proxy``).
    :param host: the API server's host name, or its URL
        (``"https://10.0.0.1:6443"``, which also sets *secure*, the port and
        a path prefix); ``"localhost"`` by default.
    :param port: the API server's port; 6443 by default, or the URL's.
    :param key_file: a PEM file with the client certificate's key.
    :param cert_file: a PEM file with the client certificate (and maybe its
        key), for authentication by certificate.
    :param ca_cert: a PEM file with the CA certificates that sign the API
        server's certificate (clusters usually have their own CA).  Unlike
        Libcloud, the server is verified against the system's trust store
        when none is given; ``ex_verify_tls=False`` turns verification off.
    :param ex_token_bearer_auth: *key* is a bearer token.
    :param ex_token: a bearer token (instead of *key*).
    :param ex_token_file: a file holding the bearer token (a service account
        token), read again every minute and after a ``401``, as such tokens
        rotate (see
        :class:`~txcloud.container.drivers.kubernetes.credentials.TokenFile`).
    :param ex_credentials: where to get credentials that change, asked
        before each request: an
        :class:`~txcloud.container.drivers.kubernetes.credentials.CredentialSource`
        such as an :class:`~txcloud.container.drivers.kubernetes.exec_plugin.ExecPlugin`
        (one source may serve several drivers).
    :param ex_namespace: where :meth:`deploy_container` creates pods when
        given no cluster; ``"default"`` by default.
    :param ex_ca_cert_data: PEM CA certificates as text, instead of *ca_cert*.
    :param ex_cert_data: the PEM client certificate as text, instead of *cert_file*.
    :param ex_key_data: its PEM key as text, instead of *key_file*.  The
        ``_data`` arguments are written to files only this user can read
        while the connection settings are made, and removed at once.
    :param ex_verify_tls: ``False`` accepts any server certificate (logged).

    ``reactor``, ``timeout``, ``ex_retry``, ``ex_proxy``, ``ex_pool`` and
    ``ex_agent`` are :class:`~txcloud.common.http_driver.HTTPDriver`'s.

    :raises InvalidArgumentError: for bad or contradictory arguments (a
        token and a password, a client key without its certificate, client
        certificates over plain HTTP...).
    :raises KubernetesCredentialsError: for an unreadable token file.
    """

    default_port = DEFAULT_PORT

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_cert: str | None = None,
        ex_token_bearer_auth: bool = False,
        *,
        ex_token: str | None = None,
        ex_token_file: str | os.PathLike[str] | None = None,
        ex_credentials: CredentialSource | None = None,
        ex_namespace: str | None = None,
        ex_ca_cert_data: bytes | str | None = None,
        ex_cert_data: bytes | str | None = None,
        ex_key_data: bytes | str | None = None,
        ex_verify_tls: bool = True,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        ex_retry: RetryPolicy | None = None,
        ex_proxy: str | None = None,
        ex_pool: Any = None,
        ex_agent: Any = None,
    ) -> None:
        secure, host, port, self._prefix = _server(host, boolean(secure, "secure"), port)
        token: str | None = None
        if boolean(ex_token_bearer_auth, "ex_token_bearer_auth"):
            if secret is not None or ex_token is not None or ex_token_file is not None:
                raise InvalidArgumentError(
                    "with ex_token_bearer_auth the token is key: pass no secret, "
                    "ex_token or ex_token_file"
                )
            token, key = _token(key, "key (the bearer token)"), None
        elif ex_token is not None:
            token = _token(ex_token, "ex_token")
        if (token is not None or ex_token_file is not None) and (key or secret):
            raise InvalidArgumentError("use either a bearer token or basic auth, not both")
        if ex_token is not None and ex_token_file is not None:
            raise InvalidArgumentError("give either ex_token or ex_token_file, not both")
        if ex_credentials is not None and (
            token is not None or ex_token_file is not None or key or secret
        ):
            raise InvalidArgumentError(
                "ex_credentials replaces the token, token file and basic auth: give one"
            )
        if ex_credentials is not None and not isinstance(ex_credentials, CredentialSource):
            raise InvalidArgumentError(
                "ex_credentials must be a CredentialSource (get and rejected)"
            )
        if (key is None) != (secret is None):
            raise InvalidArgumentError(
                "basic auth needs both key (the user name) and secret (the password); "
                "for a token pass ex_token, or key with ex_token_bearer_auth=True"
            )
        if key is not None:
            text(key, "key")
            if ":" in key:
                raise InvalidArgumentError("a basic auth user name cannot contain ':'")
            text(secret, "secret")
        self._inline = {
            name: data
            for name, data in (
                ("ca_file", _pem(ex_ca_cert_data, "ex_ca_cert_data")),
                ("client_cert", _pem(ex_cert_data, "ex_cert_data")),
                ("client_key", _pem(ex_key_data, "ex_key_data")),
            )
            if data is not None
        }
        for name, path, data in (
            ("ca_cert", ca_cert, ex_ca_cert_data),
            ("cert_file", cert_file, ex_cert_data),
            ("key_file", key_file, ex_key_data),
        ):
            if path is not None and data is not None:
                raise InvalidArgumentError(f"give either {name} or its _data argument, not both")
        has_cert = cert_file is not None or ex_cert_data is not None
        has_key = key_file is not None or ex_key_data is not None
        if has_key and not has_cert:
            raise InvalidArgumentError("a client key needs its client certificate (cert_file)")
        if (has_cert or ca_cert is not None or ex_ca_cert_data is not None) and not secure:
            raise InvalidArgumentError("certificates need HTTPS: secure must be True")
        if not ex_verify_tls and (ca_cert is not None or ex_ca_cert_data is not None):
            raise InvalidArgumentError("a CA certificate has no use when ex_verify_tls is False")
        super().__init__(
            key,
            secret,
            secure,
            host,
            port,
            reactor=reactor,
            timeout=timeout,
            ex_ca_file=ca_cert,
            ex_verify_tls=ex_verify_tls,
            ex_client_cert=cert_file,
            ex_client_key=key_file,
            ex_retry=ex_retry,
            ex_proxy=ex_proxy,
            ex_pool=ex_pool,
            ex_agent=ex_agent,
        )
        self.ex_namespace = label(
            "default" if ex_namespace is None else ex_namespace, "ex_namespace"
        )
        self._token = token
        self._source = ex_credentials
        if ex_token_file is not None:
            self._source = TokenFile(os.fspath(ex_token_file), self.reactor)
        # The client certificate and key last taken from the source.
        self._source_pair: tuple[bytes | None, bytes | None] = (None, None)

    @classmethod
    def ex_from_kubeconfig(
        cls: type[_D],
        path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        context: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> _D:
        """
        A driver for one context of kubeconfig files, merged as kubectl
        merges them (see :mod:`~txcloud.container.drivers.kubernetes.config`).

        :param path: the kubeconfig file, or files to merge; by default
            those ``KUBECONFIG`` lists, else ``~/.kube/config``.
        :param context: the context to use; the ``current-context`` when ``None``.
        :param environ: the environment for ``KUBECONFIG``, ``HOME`` and an
            exec plugin; ``os.environ`` when ``None``.
        :param kwargs: more constructor arguments (``reactor``, ``timeout``,
            ``ex_agent``...); they win over the files' settings.
        :raises KubernetesCredentialsError: for no file, an unreadable,
            malformed or contradictory file, a missing context.
        :raises KubeconfigNotSupportedError: for auth providers,
            impersonation, proxies.
        """
        config = load_kubeconfig(path, context, environ=environ)
        arguments = config.driver_arguments()
        if config.exec is not None and "ex_credentials" not in kwargs:
            arguments["ex_credentials"] = ExecPlugin(
                config.exec, reactor=kwargs.get("reactor"), environ=environ
            )
        arguments.update(kwargs)
        return cls(**arguments)

    @classmethod
    def ex_from_in_cluster(
        cls: type[_D],
        ex_service_account_dir: str = SERVICE_ACCOUNT_DIR,
        *,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> _D:
        """
        A driver for the cluster this pod runs in, with its service account
        (see :mod:`~txcloud.container.drivers.kubernetes.in_cluster`).

        :param ex_service_account_dir: the folder of ``token``, ``ca.crt``
            and ``namespace``.
        :param environ: the environment with ``KUBERNETES_SERVICE_HOST``
            and ``KUBERNETES_SERVICE_PORT``; ``os.environ`` when ``None``.
        :param kwargs: more constructor arguments; they win.
        :raises KubernetesCredentialsError: outside a cluster, or when a
            service account file is missing.
        """
        arguments = in_cluster_arguments(ex_service_account_dir, environ)
        arguments.update(kwargs)
        return cls(**arguments)

    @property
    def http(self) -> HTTPTransport:
        """The transport this driver sends its requests with."""
        if self._http is None and self._tls is not None and self._inline:
            # The TLS layer reads certificates and keys from files: lend it
            # private files only while it does.
            configured = self._tls
            with pem_files(self._inline) as paths:
                self._tls = attrs.evolve(
                    configured,
                    ca_file=paths.get("ca_file", configured.ca_file),
                    client_cert=paths.get("client_cert", configured.client_cert),
                    client_key=paths.get("client_key", configured.client_key),
                )
                try:
                    return super().http
                finally:
                    self._tls = configured
        return super().http

    def _default_host(self) -> str:
        return "localhost"

    def _authorization(self) -> str | None:
        if self._token is not None:
            return f"Bearer {self._token}"
        if self.key is not None and self._secret is not None:
            pair = f"{self.key}:{self._secret}".encode()
            return f"Basic {base64.b64encode(pair).decode('ascii')}"
        return None

    def _sign(self, request: Request) -> Request:
        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        return request.with_headers(headers)

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        error = default_error_mapper(response)
        if error.request_id is None:
            error.request_id = response.headers.get("Audit-Id")
        cls = _error_class(response, error.code)
        if cls is None:
            return error
        return retyped_error(error, cls)

    # Requests

    def _url(self, *segments: str) -> str:
        return self.endpoint + self._prefix + "".join("/" + quote(s, safe="") for s in segments)

    async def _call(
        self,
        method: str,
        segments: Sequence[str],
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = Request(
            method,
            self._url(*segments),
            headers=None if body is None else {"Content-Type": "application/json"},
            params=params,
            body=None if body is None else json.dumps(body, separators=(",", ":")).encode(),
        )
        response = await self._send(request)
        return await response.json_object(f"Kubernetes answered {method} with a non-object")

    async def _send(self, request: Request) -> Response:
        if self._source is None:
            return await self.http.send(request)
        credentials = await self._credentials()
        try:
            return await self.http.send(_authorized(request, credentials))
        except InvalidCredsError as e:
            if e.status != 401:
                raise
            self._source.rejected(credentials)
            fresh = await self._credentials()
            if fresh == credentials:
                raise
            self.log.info("The API server refused the credentials; sending once more with new ones")
            return await self.http.send(_authorized(request, fresh))

    async def _credentials(self) -> KubernetesCredentials:
        """The source's credentials, with the transport remade for a new client certificate."""
        assert self._source is not None
        credentials = await self._source.get()
        pair = (credentials.client_cert, credentials.client_key)
        if credentials.client_cert is not None and pair != self._source_pair:
            self._source_pair = pair
            self._inline = {name: data for name, data in self._inline.items() if name == "ca_file"}
            self._inline["client_cert"] = credentials.client_cert
            if credentials.client_key is not None:
                self._inline["client_key"] = credentials.client_key
            stale, self._http = self._http, None
            if stale is not None:
                stale.close()
        return credentials

    async def _pages(
        self, segments: Sequence[str], page_size: int, what: str
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        params = {"limit": str(page_size)}
        while True:
            items, token = list_page(await self._call("GET", segments, params), what)
            yield items
            if token is None:
                return
            params = {"limit": str(page_size), "continue": token}

    def ex_get_version(self) -> Deferred[str]:
        """
        The API server's version.

        :returns: a Deferred firing with its ``gitVersion`` (``"v1.31.0"``).
        """
        return Deferred.fromCoroutine(self._get_version())

    async def _get_version(self) -> str:
        document = await self._call("GET", ["version"])
        version = document.get("gitVersion")
        if not isinstance(version, str):
            raise MalformedResponseError("Kubernetes /version without a gitVersion", self)
        return version
