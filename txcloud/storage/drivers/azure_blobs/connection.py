"""
The connection side of the Azure Blobs driver: the account and its
endpoint (virtual-host or path-style URLs), Shared Key or SAS
authorisation, Azure's error codes as txcloud errors, and SAS tokens and
URLs signed with the account key.  :class:`AzureBlobsBase` holds it;
:class:`~txcloud.storage.drivers.azure_blobs.AzureBlobsStorageDriver` adds
the storage operations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from lxml import etree
from twisted.internet.defer import Deferred

from txcloud.auth.azure import (
    STORAGE_API_VERSION,
    STORAGE_SCOPE,
    account_sas,
    apply_sas_token,
    blob_service_sas,
    check_account_name,
    connection_string_from_environment,
    decode_account_key,
    default_azure_tokens,
    http_date,
    parse_sas_token,
    sign_request,
)
from txcloud.auth.tokens import TokenSource, bearer_authorized
from txcloud.common.http_driver import HTTPDriver
from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidCredsError,
    InvalidObjectNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
    PermissionDeniedError,
    RateLimitReached,
    ResourceConflictError,
    TxCloudError,
)
from txcloud.http import ErrorResponse, Request, Response, default_error_mapper, error_details
from txcloud.storage.base import Container, Object, StorageDriver, name_error
from txcloud.storage.drivers.azure_blobs.parse import check_blob_name, check_container_name
from txcloud.storage.transfer.config import MiB, TransferConfig
from txcloud.storage.transfer.mixins import TransferDownloads, TransferUploads
from txcloud.storage.types import Provider

__all__ = ["DEFAULT_PAGE_SIZE", "DEFAULT_TRANSFER", "AzureBlobsBase"]

#: Items per listing page unless told otherwise (Azure's maximum).
DEFAULT_PAGE_SIZE = 5000

#: How the driver cuts transfers unless told otherwise: one Put Blob below
#: 16 MiB, above it blocks of 8 MiB, 8 at once (so a stream holds at most
#: 64 MiB); downloads of 32 MiB or more in parallel ranges of 16 MiB, 8 at
#: once.  Azure limits each connection's rate but serves a blob's ranges in
#: parallel, and stores blocks without copying them at commit, so both pay
#: from a few blocks on.  Against Azurite (one CPU-bound process) 8 or 16 MiB
#: blocks and 8 to 32 MiB ranges measure alike; 4 MiB ranges are slower.
DEFAULT_TRANSFER = TransferConfig(
    multipart_threshold=16 * MiB,
    part_size=8 * MiB,
    max_concurrency=8,
    download_threshold=32 * MiB,
    range_size=16 * MiB,
    download_concurrency=8,
)

_BLOB_HOST = "blob.core.windows.net"
# Sovereign clouds and private endpoints name accounts the same way.
_ACCOUNT_HOST_SUFFIXES = (
    "blob.core.chinacloudapi.cn",
    "blob.core.usgovcloudapi.net",
    "privatelink.blob.core.windows.net",
    _BLOB_HOST,
)

# Azure's error codes with a finer txcloud error than the HTTP status gives.
_ERROR_CODES: dict[str, type[TxCloudError]] = {
    "ContainerNotFound": ContainerDoesNotExistError,
    "ContainerBeingDeleted": ContainerDoesNotExistError,
    "ContainerDisabled": ContainerDoesNotExistError,
    "BlobNotFound": ObjectDoesNotExistError,
    "ContainerAlreadyExists": ContainerAlreadyExistsError,
    "Md5Mismatch": ObjectHashMismatchError,
    "InvalidRange": InvalidArgumentError,
    "AuthenticationFailed": InvalidCredsError,
    "AuthorizationFailure": InvalidCredsError,
    "InvalidAuthenticationInfo": InvalidCredsError,
    "AuthorizationPermissionMismatch": PermissionDeniedError,
    "AuthorizationResourceTypeMismatch": PermissionDeniedError,
    "AuthorizationServiceMismatch": PermissionDeniedError,
    "AuthorizationProtocolMismatch": PermissionDeniedError,
    "AuthorizationSourceIPMismatch": PermissionDeniedError,
    "ServerBusy": RateLimitReached,
    # An If-Match that failed: the blob changed since it was read.
    "ConditionNotMet": ResourceConflictError,
}

# SAS permissions a presigned URL needs, by method.
_URL_PERMISSIONS = {"GET": "r", "HEAD": "r", "PUT": "cw", "DELETE": "d"}


class AzureBlobsBase(TransferUploads, TransferDownloads, HTTPDriver, StorageDriver):
    """
    What every Azure Blobs request needs; see
    :class:`~txcloud.storage.drivers.azure_blobs.AzureBlobsStorageDriver`
    for the arguments.
    """

    name = "Microsoft Azure (blobs)"
    website = "https://azure.microsoft.com/products/storage/blobs/"
    type = Provider.AZURE_BLOBS
    # Object.hash is the ETag; the MD5 is in extra["md5_hash"].
    hash_is_md5 = False

    def __init__(
        self,
        key: str | None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        ex_sas_token: str | None = None,
        ex_credentials: TokenSource | None = None,
        ex_environ: Mapping[str, str] | None = None,
        ex_multipart_threshold: int | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        ex_download_threshold: int | None = None,
        ex_range_size: int | None = None,
        ex_download_concurrency: int | None = None,
        ex_transfer_config: TransferConfig | None = None,
        ex_transactional_md5: bool = False,
        **kwargs: Any,
    ) -> None:
        environ = os.environ if ex_environ is None else ex_environ
        path_style: bool | None = None
        if key is None:
            if secret is not None or ex_sas_token is not None:
                raise InvalidArgumentError("the account key or SAS token needs the account name")
            found = connection_string_from_environment(environ)
            if found is None:
                raise InvalidArgumentError(
                    "give the account name (key), or set AZURE_STORAGE_CONNECTION_STRING"
                )
            key, secret, ex_sas_token = found.account, found.account_key, found.sas_token
            if host is None:
                secure, host, port = found.secure, found.host, found.port
                # A connection string's endpoint says where the account is.
                path_style = found.blob_endpoint.rstrip("/").endswith(f"/{key}")
        check_account_name(key)
        if secret is not None and ex_sas_token is not None:
            raise InvalidArgumentError("give either the account key (secret) or ex_sas_token")
        if host is not None and host in _ACCOUNT_HOST_SUFFIXES:
            host = f"{key}.{host}"
        super().__init__(key, None, secure, host, port, **kwargs)
        self._account_key = None if secret is None else decode_account_key(secret)
        self._sas_params = None if ex_sas_token is None else parse_sas_token(ex_sas_token)
        self._tokens: TokenSource | None = None
        if secret is None and ex_sas_token is None:
            if not secure:
                raise InvalidArgumentError(
                    "Azure AD tokens are only sent over HTTPS: give secure=True, "
                    "or the account key or a SAS token",
                    self,
                )
            self._tokens = ex_credentials or default_azure_tokens(
                STORAGE_SCOPE, environ=environ, reactor=self.reactor
            )
        if path_style is None:
            path_style = host is not None and not host.endswith(_ACCOUNT_HOST_SUFFIXES)
        self._path_style = path_style
        self.transfer_config = (ex_transfer_config or DEFAULT_TRANSFER).with_overrides(
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
            download_threshold=ex_download_threshold,
            range_size=ex_range_size,
            download_concurrency=ex_download_concurrency,
        )
        #: Whether uploads send each block's MD5 for Azure to check (see the driver).
        self.transactional_md5 = ex_transactional_md5

    # URLs, signing and errors

    def _default_host(self) -> str:
        return f"{self.key}.{_BLOB_HOST}"

    @property
    def account_url(self) -> str:
        """The URL of the account's blob service (without a final ``/``)."""
        return self.endpoint + (f"/{self.key}" if self._path_style else "")

    def _container_url(self, container: str) -> str:
        return f"{self.account_url}/{quote(container, safe='$')}"

    def _blob_url(self, container: str, blob: str) -> str:
        return f"{self._container_url(container)}/{quote(blob, safe='/~')}"

    def _names_in(self, url: str) -> tuple[str | None, str | None]:
        """The container and blob a request URL names (``None`` for absent ones)."""
        path = urlsplit(url).path[1:]
        if self._path_style:
            path = path.partition("/")[2]
        container, _, blob = path.partition("/")
        return (unquote(container) or None), (unquote(blob) or None)

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        if self._sas_params is not None:
            return apply_sas_token(request, self._sas_params)
        if self._tokens is not None:
            return bearer_authorized(self._tokens, request).addCallback(self._storage_headers)
        assert self._account_key is not None
        return sign_request(request, self.key, self._account_key, self.reactor.seconds())

    def _storage_headers(self, request: Request) -> Request:
        return request.with_headers(
            {"x-ms-date": http_date(self.reactor.seconds()), "x-ms-version": STORAGE_API_VERSION}
        )

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        if response.status == 401 and self._tokens is not None:
            # An expired or revoked token: the next request fetches another.
            self._tokens.invalidate()
        container, blob = self._names_in(response.request.url)
        details = error_details(response)
        # HEAD answers have no body: their code comes in a header only.
        code = response.headers.get("x-ms-error-code") or details.code
        if code is None and response.request.method == "HEAD" and response.status == 404:
            code = "BlobNotFound" if blob else "ContainerNotFound"
        cls = _ERROR_CODES.get(code or "")
        if code == "InvalidResourceName":
            cls = InvalidObjectNameError if blob else InvalidContainerNameError
        elif code == "ContainerBeingDeleted" and blob is None and response.request.method == "PUT":
            # Creating it again: the name stays taken until the deletion ends.
            cls = ContainerAlreadyExistsError
        error: TxCloudError
        if cls is None:
            error = default_error_mapper(response)
            error.code = error.code or code
        else:
            message = response.describe(details.message)
            options: dict[str, Any] = {
                "status": response.status,
                "code": code,
                "request_id": details.request_id,
            }
            if cls is RateLimitReached:
                options["retry_after"] = response.retry_after
            error = cls(message, response.driver, **options)
        return name_error(error, container, blob)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        **kwargs: Any,
    ) -> Response:
        # Content-Length is signed: streamed bodies come with it in *headers*.
        all_headers = dict(headers or {})
        if isinstance(body, bytes):
            all_headers["Content-Length"] = str(len(body))
        # Azure never compresses its answers, and a blob's Content-Encoding
        # describes the stored bytes: nothing is to be decoded.
        kwargs.setdefault("decode_content", False)
        request = Request(method, url, headers=all_headers, params=params, body=body, **kwargs)
        return await self.http.send(request)

    async def _xml(self, url: str, params: Any) -> etree._Element:
        response = await self._send("GET", url, params=params)
        return await response.xml()

    @staticmethod
    def _page_size(ex_page_size: int | None) -> str:
        size = DEFAULT_PAGE_SIZE if ex_page_size is None else ex_page_size
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 1 <= size <= DEFAULT_PAGE_SIZE
        ):
            raise InvalidArgumentError(
                f"ex_page_size must be 1 to {DEFAULT_PAGE_SIZE}, not {ex_page_size!r}"
            )
        return str(size)

    # Shared access signatures

    def ex_generate_sas(
        self,
        resource: Container | Object | None = None,
        permissions: str = "r",
        expires: int = 3600,
        *,
        start: float | None = None,
        ip: str | None = None,
    ) -> str:
        """
        A SAS token (not a Deferred: nothing is sent) granting *permissions*
        for *expires* seconds, signed with the account key.

        :param resource: an :class:`Object` (a blob SAS: ``r``, ``a``,
            ``c``, ``w``, ``d``...), a :class:`Container` (a container SAS,
            which may also ``l``-ist), or ``None`` for an account SAS over
            blobs (services, containers and blobs: ``r``, ``w``, ``d``,
            ``l``, ``a``, ``c``...).
        :param start: when it starts working (POSIX seconds); at once by
            default.
        :param ip: an address or ``"from-to"`` range requests must come from.
        :returns: the token, a query string without ``?``; give it to
            another driver as ``ex_sas_token`` or append it to a URL.  It
            allows plain HTTP only when this driver uses it.
        :raises InvalidArgumentError: without the account key, for bad
            permissions or a bad *expires*.
        """
        if self._account_key is None:
            raise InvalidArgumentError("signing a SAS needs the account key", self)
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
            raise InvalidArgumentError(f"expires must be a positive integer, not {expires!r}")
        expiry = self.reactor.seconds() + expires
        options: dict[str, Any] = {
            "permissions": permissions,
            "expiry": expiry,
            "start": start,
            "ip": ip,
            "protocol": "https" if self.secure else "https,http",
            "version": STORAGE_API_VERSION,
        }
        if resource is None:
            return account_sas(self.key, self._account_key, **options)
        if isinstance(resource, Object):
            container = check_container_name(resource.container.name)
            blob = check_blob_name(resource.name)
            return blob_service_sas(self.key, self._account_key, container, blob, **options)
        if isinstance(resource, Container):
            container = check_container_name(resource.name)
            return blob_service_sas(self.key, self._account_key, container, **options)
        raise InvalidArgumentError("resource must be a Container, an Object or None")

    def ex_presigned_url(
        self, obj: Object | tuple[str, str], method: str = "GET", expires: int = 3600
    ) -> str:
        """
        A URL that lets whoever holds it *method* the blob for *expires*
        seconds, without credentials (a blob SAS).

        :param obj: an :class:`Object`, or ``(container_name, object_name)``.
        :param method: ``"GET"``, ``"HEAD"``, ``"PUT"`` (a Put Blob, which
            needs ``x-ms-blob-type: BlockBlob``) or ``"DELETE"``.
        :returns: the URL (not a Deferred: nothing is sent).
        :raises InvalidArgumentError: for bad names, method or expiry.
        """
        if isinstance(obj, tuple) and len(obj) == 2:
            container = Container(name=obj[0], extra={}, driver=self)
            obj = Object(obj[1], 0, None, {}, {}, container, self)
        if not isinstance(obj, Object):
            raise InvalidArgumentError("obj must be an Object or a (container_name, object_name)")
        permissions = _URL_PERMISSIONS.get(method)
        if permissions is None:
            raise InvalidArgumentError(f"cannot presign a {method!r} request", self)
        token = self.ex_generate_sas(obj, permissions, expires)
        return f"{self._blob_url(obj.container.name, obj.name)}?{token}"

    def get_object_cdn_url(self, obj: Object, ex_expiry: float = 24, ex_method: str = "GET") -> str:
        """Libcloud's name for :meth:`ex_presigned_url`; *ex_expiry* is in hours."""
        return self.ex_presigned_url(obj, ex_method, int(ex_expiry * 3600))
