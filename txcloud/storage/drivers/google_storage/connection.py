"""
What every request of the Google Cloud Storage JSON API driver shares:
Libcloud's constructor arguments and the transfer settings, credentials (a
service account's OAuth2 tokens, or none for an emulator), URLs, the
mapping of Google's errors to txcloud's, and sending requests.
:class:`~txcloud.storage.drivers.google_storage.GoogleStorageDriver` builds
the storage operations on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from twisted.internet.defer import Deferred

from txcloud.auth.google.adc import GoogleCredentials
from txcloud.auth.google.service_account import STORAGE_FULL_CONTROL
from txcloud.auth.tokens import TokenSource
from txcloud.common.google import GoogleAuth
from txcloud.common.http_driver import HTTPDriver
from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    ObjectDoesNotExistError,
    TxCloudError,
)
from txcloud.http import (
    ErrorResponse,
    Request,
    Response,
    default_error_mapper,
    error_details,
)
from txcloud.storage.base import StorageDriver, name_error
from txcloud.storage.transfer.config import TransferConfig, starting_config
from txcloud.storage.transfer.digest import crc32c_available
from txcloud.storage.transfer.mixins import TransferDownloads, TransferUploads
from txcloud.storage.types import Provider

__all__ = [
    "DEFAULT_HOST",
    "UPLOAD_METHODS",
    "GoogleStorageBase",
    "check_upload_method",
    "emulator_endpoint",
]

#: Where the JSON API is served.
DEFAULT_HOST = "storage.googleapis.com"

#: How uploads above the multipart threshold go.
UPLOAD_METHODS = ("resumable", "composite")


class GoogleStorageBase(TransferUploads, TransferDownloads, HTTPDriver, StorageDriver):
    """
    The requests of the Google Cloud Storage JSON API driver; its arguments
    are documented on
    :class:`~txcloud.storage.drivers.google_storage.GoogleStorageDriver`.
    """

    name = "Google Cloud Storage"
    website = "https://cloud.google.com/storage"
    type = Provider.GOOGLE_STORAGE
    # Object.hash is the MD5 hex digest, or None for composite objects.
    hash_is_md5 = True

    def __init__(
        self,
        key: str | None = None,
        secret: str | os.PathLike[str] | dict[str, Any] | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        ex_project: str | None = None,
        project: str | None = None,
        ex_scopes: Sequence[str] = (STORAGE_FULL_CONTROL,),
        ex_credentials: GoogleCredentials | TokenSource | None = None,
        ex_environ: Mapping[str, str] | None = None,
        ex_use_xml_api: bool | None = None,
        ex_upload_method: str = "resumable",
        ex_multipart_threshold: int | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        ex_download_threshold: int | None = None,
        ex_range_size: int | None = None,
        ex_download_concurrency: int | None = None,
        ex_transfer_config: TransferConfig | None = None,
        **kwargs: Any,
    ) -> None:
        environ = os.environ if ex_environ is None else ex_environ
        emulator = environ.get("STORAGE_EMULATOR_HOST") if host is None else None
        if emulator:
            secure, host, port = emulator_endpoint(emulator)
        super().__init__(key, None, secure, host, port, **kwargs)
        self.upload_method = check_upload_method(ex_upload_method)
        if ex_project is not None and project is not None and ex_project != project:
            raise InvalidArgumentError("ex_project and project name different projects", self)
        self.project: str | None = ex_project or project or environ.get("GOOGLE_CLOUD_PROJECT")
        if ex_credentials is None and (key or secret is not None) and secret is None:
            raise InvalidArgumentError(
                "a service account key (secret=) is needed; for no credentials "
                "(an emulator) pass key='' and no secret",
                self,
            )
        self._auth = GoogleAuth(
            self,
            ex_scopes,
            key=secret,
            client_email=key or None,
            credentials=ex_credentials,
            use_adc=key is None and not emulator,
            environ=environ,
        )
        if self._auth.account is not None:
            self.key = self._auth.account.client_email
        self.project = self.project or self._auth.project
        config = starting_config(host) if ex_transfer_config is None else ex_transfer_config
        self.transfer_config = config.with_overrides(
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
            download_threshold=ex_download_threshold,
            range_size=ex_range_size,
            download_concurrency=ex_download_concurrency,
        )
        self._crc32c_fast = crc32c_available()

    # Authentication, URLs and errors

    def _default_host(self) -> str:
        return DEFAULT_HOST

    @property
    def tokens(self) -> TokenSource | None:
        """Where access tokens come from; ``None`` when no credentials are sent."""
        return self._auth.tokens

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        return self._auth.sign(request)

    def _bucket_url(self, bucket: str) -> str:
        return f"{self.endpoint}/storage/v1/b/{quote(bucket, safe='')}"

    def _object_url(self, bucket: str, name: str) -> str:
        return f"{self._bucket_url(bucket)}/o/{quote(name, safe='')}"

    def _upload_url(self, bucket: str) -> str:
        return f"{self.endpoint}/upload/storage/v1/b/{quote(bucket, safe='')}/o"

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        bucket, name = _names_in(response.request.url)
        status, method = response.status, response.request.method
        self._auth.refused(status)
        cls: type[TxCloudError] | None = None
        session = "upload_id" in urlsplit(response.request.full_url).query
        details = error_details(response)
        if status == 404 and bucket and not session:
            bucket_missing = "bucket" in (details.message or "").lower()
            cls = (
                ObjectDoesNotExistError
                if name and not bucket_missing
                else ContainerDoesNotExistError
            )
        elif status in (409, 412) and method == "DELETE" and bucket and not name:
            # Google answers 409 for a bucket that is not empty; fake-gcs-server 412.
            cls = ContainerIsNotEmptyError
        elif status == 409 and method == "POST" and not name and not session:
            cls = ContainerAlreadyExistsError
        if cls is None:
            return default_error_mapper(response)
        message = response.describe(details.message)
        error = cls(
            message,
            response.driver,
            status=status,
            code=details.code,
            request_id=details.request_id,
        )
        return name_error(error, bucket, name)

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
        return await self.http.send(
            Request(method, url, headers=headers, params=params, body=body, **kwargs)
        )

    async def _send_json(
        self,
        method: str,
        url: str,
        document: Any,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        body = json.dumps(document).encode("utf-8")
        headers = {**(headers or {}), "Content-Type": "application/json; charset=UTF-8"}
        return await self._send(method, url, headers=headers, body=body, **kwargs)

    async def _json(self, method: str, url: str, params: Any = None) -> Any:
        response = await self._send(method, url, params=params)
        return await response.json()

    async def _require_project(self) -> str:
        if not self.project:
            self.project = await self._auth.project_id()
        if not self.project:
            raise InvalidArgumentError(
                "listing and creating buckets needs a project: pass ex_project "
                "or set GOOGLE_CLOUD_PROJECT",
                self,
            )
        return self.project

    def close(self) -> Deferred[None]:
        """Close the connections this driver (and its own token source) opened."""
        return super().close().addCallback(lambda _: self._auth.close())

    def __repr__(self) -> str:
        shown = f"<{type(self).__name__} provider={str(self.type)!r}{self._auth.describe()}"
        if self.host is not None:
            shown += f" host={self.host!r}"
        return shown + ">"


def emulator_endpoint(url: str) -> tuple[bool, str, int | None]:
    """
    Whether to use HTTPS, the host and the port of ``STORAGE_EMULATOR_HOST``
    (a URL such as ``http://127.0.0.1:4443``; a bare ``host:port`` means HTTP).

    :raises InvalidArgumentError: when it names no host.
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError("STORAGE_EMULATOR_HOST must be a URL such as http://host:port")
    return parts.scheme == "https", parts.hostname, parts.port


def check_upload_method(method: object) -> str:
    """
    Check an ``ex_upload_method``.

    :raises InvalidArgumentError: unless it is one of :data:`UPLOAD_METHODS`.
    """
    if method not in UPLOAD_METHODS:
        raise InvalidArgumentError(
            f"ex_upload_method must be one of {', '.join(UPLOAD_METHODS)}, not {method!r}"
        )
    return str(method)


def _names_in(url: str) -> tuple[str | None, str | None]:
    """The bucket and object a JSON API URL names (``None`` for absent ones)."""
    path = urlsplit(url).path
    marker = "/storage/v1/b/"
    if marker not in path:
        return None, None
    segments = path.split(marker, 1)[1].split("/")
    bucket = unquote(segments[0]) or None
    name = unquote(segments[2]) if len(segments) > 2 and segments[1] == "o" else None
    return bucket, name or None
