"""
Google Cloud Storage through its XML API, with HMAC keys: the XML API is
S3-compatible and accepts SigV4 signatures (service ``s3``, region
``auto``), so this driver *is* the S3 driver, pointed at
``storage.googleapis.com``, with Google's differences:

* bucket names follow Google's rules, and new buckets are placed by
  ``ex_location`` (Google's default otherwise) in the project of the HMAC
  key, or of ``ex_project`` (sent as ``x-goog-project-id``);
* uploads send ``Content-MD5`` but none of S3's CRC32 checksum headers, which
  Google does not document; an object completed from parts has no MD5 (its
  ETag is not one), so only its size is checked, each part having been
  checked against its MD5 as it was stored;
* Google answers with ``x-goog-meta-*`` metadata headers, read like S3's.

``GoogleStorageDriver(hmac_access_id, hmac_secret)`` (the registry's class)
makes one of these, as Libcloud's Google driver does for HMAC keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from twisted.internet.defer import Deferred

from txcloud.common.aws import DEFAULT_REGION
from txcloud.errors import MalformedResponseError
from txcloud.http import HeaderMap, Request, findtext_local, local_name
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.google_storage.parse import check_bucket_name
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.storage.drivers.s3.parse import (
    check_object_name,
    create_bucket_xml,
    object_from_headers,
)
from txcloud.storage.drivers.s3.upload import S3ObjectUpload
from txcloud.storage.transfer.multipart import UploadedPart
from txcloud.storage.types import Provider

__all__ = [
    "SIGNING_REGION",
    "XML_API_HOST",
    "GCSXMLObjectUpload",
    "GoogleStorageXMLDriver",
    "amz_metadata",
    "complete_upload_xml",
]

#: Where the XML API is served.
XML_API_HOST = "storage.googleapis.com"

#: The region SigV4 signatures name for Cloud Storage.
SIGNING_REGION = "auto"

_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_GOOG_META = "x-goog-meta-"
_AMZ_META = "x-amz-meta-"

# S3's flexible checksum headers, which Cloud Storage does not document.
_S3_CHECKSUM_HEADERS = ("x-amz-checksum-", "x-amz-sdk-checksum-")


def complete_upload_xml(parts: Sequence[UploadedPart]) -> bytes:
    """The ``CompleteMultipartUpload`` document Cloud Storage takes: numbers and ETags."""
    listed = "".join(
        f"<Part><PartNumber>{part.number}</PartNumber><ETag>{escape(part.token)}</ETag></Part>"
        for part in parts
    )
    return (
        f'<CompleteMultipartUpload xmlns="{_NAMESPACE}">{listed}</CompleteMultipartUpload>'.encode()
    )


def amz_metadata(headers: HeaderMap) -> HeaderMap:
    """*headers* with Google's ``x-goog-meta-*`` also given as S3's ``x-amz-meta-*``."""
    return headers.replace(
        {
            _AMZ_META + name[len(_GOOG_META) :]: value
            for name, value in headers.items()
            if name.lower().startswith(_GOOG_META)
        }
    )


class GCSXMLObjectUpload(S3ObjectUpload):
    """S3's upload steps, without S3's CRC32 checksums, and Google's completion."""

    # Google checks the Content-MD5 it is sent, not S3's checksums.
    needs_md5 = True

    async def _send(self, method: str, **kwargs: Any) -> Any:
        headers: Mapping[str, str] = kwargs.pop("headers", None) or {}
        kept = {
            name: value
            for name, value in headers.items()
            if not name.lower().startswith(_S3_CHECKSUM_HEADERS)
        }
        return await super()._send(method, headers=kept, **kwargs)

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Object:
        # Completing twice is harmless, so a failed attempt may be retried.
        response = await self._send(
            "POST", params={"uploadId": upload_id}, body=complete_upload_xml(parts), idempotent=True
        )
        root: etree._Element = await response.xml()
        if local_name(root) == "Error":
            raise self._driver._map_error(self._error_in_body(response, root))
        if local_name(root) != "CompleteMultipartUploadResult":
            raise MalformedResponseError(f"completing an upload answered {local_name(root)!r}")
        etag = findtext_local(root, "ETag") or ""
        headers = response.headers.replace({"ETag": etag})
        obj = object_from_headers(self._key, headers, self._container, sum(p.size for p in parts))
        self._fill_from_request(obj)
        return obj


class GoogleStorageXMLDriver(S3StorageDriver):
    """
    Google Cloud Storage through the XML API, with an HMAC key.

    :param key: the HMAC access id (``GOOG...``).
    :param secret: the HMAC secret.
    :param ex_project: the project to list and create buckets in (sent as
        ``x-goog-project-id``); by default the HMAC key's (``project`` is
        Libcloud's name).

    Other arguments are :class:`~txcloud.storage.drivers.s3.S3StorageDriver`'s,
    except ``region``: requests are signed for region ``auto``.
    """

    name = "Google Cloud Storage"
    website = "https://cloud.google.com/storage"
    type = Provider.GOOGLE_STORAGE
    follows_aws_configuration = False

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        ex_project: str | None = None,
        project: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("region", None)
        super().__init__(key, secret, secure, host, port, region=DEFAULT_REGION, **kwargs)
        # Set after S3's checks, which know only AWS region names.
        self.region = SIGNING_REGION
        self.project = ex_project or project

    def _default_host(self) -> str:
        return XML_API_HOST

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        if self.project:
            request = request.with_headers({"x-goog-project-id": self.project})
        return super()._sign(request)

    def create_container(
        self, container_name: str, ex_location: str | None = None
    ) -> Deferred[Container]:
        """
        Create a bucket.

        :param ex_location: where (``"EU"``, ``"europe-west1"``...); Google's
            default otherwise.
        :returns: a Deferred firing with the new :class:`Container`; it fails
            with ``ContainerAlreadyExistsError`` or ``InvalidContainerNameError``
            (Google's naming rules are checked before any request).
        """
        return Deferred.fromCoroutine(self._create_bucket(container_name, ex_location))

    async def _create_bucket(self, container_name: str, location: str | None) -> Container:
        check_bucket_name(container_name, new=True)
        body = None if location is None else create_bucket_xml(location)
        response = await self._send("PUT", self._bucket_url(container_name), body=body)
        await response.content()
        extra = {} if location is None else {"location": location}
        return Container(name=container_name, extra=extra, driver=self)

    _upload_steps = GCSXMLObjectUpload

    def _check_names(self, bucket: str, key: str) -> None:
        # Google's bucket rules for an object fetched or uploaded; elsewhere
        # S3's, which accept every existing bucket's name.
        check_bucket_name(bucket)
        check_object_name(key)

    def _object_headers(self, headers: HeaderMap) -> HeaderMap:
        return amz_metadata(headers)
