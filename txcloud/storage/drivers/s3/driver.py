"""The :class:`S3StorageDriver` class; :mod:`txcloud.storage.drivers.s3` describes the driver."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from lxml import etree
from twisted.internet.defer import Deferred

from txcloud.auth.aws.credentials import AWSCredentials
from txcloud.auth.aws.sigv4 import presign_url
from txcloud.common.aws import DEFAULT_REGION, AWSDriver
from txcloud.common.paging import collect
from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidCredsError,
    MalformedResponseError,
    ObjectDoesNotExistError,
    TxCloudError,
)
from txcloud.http import ErrorResponse, HeaderMap, Response, findall_local, findtext_local
from txcloud.storage.base import (
    Container,
    Object,
    ProgressCallback,
    StorageDriver,
    check_page_size,
    check_prefix,
    name_error,
)
from txcloud.storage.drivers.s3.download import expected_digest
from txcloud.storage.drivers.s3.parse import (
    MultipartUpload,
    check_bucket_name,
    check_new_bucket_name,
    check_object_name,
    container_from_listing,
    create_bucket_xml,
    multipart_upload_from_listing,
    object_from_headers,
    object_from_listing,
    upload_headers,
)
from txcloud.storage.drivers.s3.upload import S3ObjectUpload
from txcloud.storage.transfer.config import TransferConfig, starting_config
from txcloud.storage.transfer.digest import ExpectedDigest
from txcloud.storage.transfer.mixins import TransferDownloads, TransferUploads, UploadArguments
from txcloud.storage.types import Provider

__all__ = ["S3StorageDriver"]

#: Keys per ListObjectsV2 page unless told otherwise (S3's maximum).
DEFAULT_PAGE_SIZE = 1000

# Bucket names that can be the first label of a host name under TLS.
_DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class S3StorageDriver(TransferUploads, TransferDownloads, AWSDriver, StorageDriver):
    """
    Amazon S3 storage.

    :param key: the access key id (with none, nor ``ex_credentials``, the
        default credential chain gives the credentials).
    :param secret: the secret access key.
    :param secure: HTTPS (the default) or plain HTTP.
    :param host: an S3-compatible endpoint's host (by default a configured
        ``AWS_ENDPOINT_URL_S3``...); requests then use path-style URLs.
    :param port: the endpoint's port.
    :param region: the region (by default from the environment or the
        profile, else ``"us-east-1"``): it signs every request, picks the
        AWS endpoint and places new buckets.
    :param ex_multipart_threshold: upload files of at least this many bytes
        in parts (8 MiB).
    :param ex_part_size: bytes per uploaded part (8 MiB).
    :param ex_max_concurrency: parts uploaded at once (10); a streamed
        upload buffers at most this many parts.
    :param ex_download_threshold: download objects of at least this many
        bytes in parallel ranges: 64 MiB on AWS; with a ``host``, never
        (one streaming GET), since a self-hosted or local store is rarely
        limited per connection and some (moto) copy the whole object for
        each ranged GET.
    :param ex_range_size: bytes per ranged GET (32 MiB).
    :param ex_download_concurrency: ranged GETs at once (8).
    :param ex_transfer_config: a whole
        :class:`~txcloud.storage.transfer.config.TransferConfig` to start
        from instead of the defaults.

    Other arguments (``ex_token``, ``ex_profile``, ``ex_credentials``,
    ``ex_environ``, ``reactor``, ``timeout``, TLS and retry options) are
    :class:`~txcloud.common.aws.AWSDriver`'s.
    """

    name = "Amazon S3"
    website = "https://aws.amazon.com/s3/"
    type = Provider.S3
    service_name = "s3"
    # Only some ETags are MD5 digests: see ``Object.extra["hash_is_md5"]``.
    hash_is_md5 = False
    error_codes = {
        "NoSuchBucket": ContainerDoesNotExistError,
        "NoSuchKey": ObjectDoesNotExistError,
        "BucketAlreadyExists": ContainerAlreadyExistsError,
        "BucketAlreadyOwnedByYou": ContainerAlreadyExistsError,
        "BucketNotEmpty": ContainerIsNotEmptyError,
        "InvalidBucketName": InvalidContainerNameError,
        "InvalidRange": InvalidArgumentError,
    }
    #: The steps of an upload (a provider speaking S3 with differences swaps in its own).
    _upload_steps = S3ObjectUpload

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        region: str | None = None,
        ex_multipart_threshold: int | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        ex_download_threshold: int | None = None,
        ex_range_size: int | None = None,
        ex_download_concurrency: int | None = None,
        ex_transfer_config: TransferConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(key, secret, secure, host, port, region=region, **kwargs)
        config = starting_config(host) if ex_transfer_config is None else ex_transfer_config
        self.transfer_config = config.with_overrides(
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
            download_threshold=ex_download_threshold,
            range_size=ex_range_size,
            download_concurrency=ex_download_concurrency,
        )

    # URLs and errors

    def _uses_virtual_host(self, bucket: str) -> bool:
        return self.host is None and _DNS_BUCKET.fullmatch(bucket) is not None

    def _bucket_url(self, bucket: str) -> str:
        """The URL of *bucket* (ending in ``/``)."""
        if self._uses_virtual_host(bucket):
            scheme, rest = self.endpoint.split("://", 1)
            return f"{scheme}://{bucket}.{rest}/"
        return f"{self.endpoint}/{quote(bucket, safe='')}/"

    def _object_url(self, bucket: str, key: str) -> str:
        """The URL of object *key* in *bucket*."""
        return self._bucket_url(bucket) + quote(key, safe="/~")

    def _names_in(self, url: str) -> tuple[str | None, str | None]:
        """The bucket and key a request URL names (``None`` for absent ones)."""
        parts = urlsplit(url)
        path = parts.path[1:]
        endpoint_host = urlsplit(self.endpoint).hostname or ""
        if self.host is None and parts.hostname and parts.hostname != endpoint_host:
            bucket: str | None = parts.hostname.split(".", 1)[0]
            key = path
        else:
            bucket, _, key = path.partition("/")
        return (unquote(bucket) if bucket else None), (unquote(key) if key else None)

    def _map_error(self, response: ErrorResponse) -> TxCloudError:
        bucket, key = self._names_in(response.request.url)
        error: TxCloudError
        if response.request.method == "HEAD" and response.status == 404:
            # HEAD answers have no body, hence no error code.
            cls = ObjectDoesNotExistError if key else ContainerDoesNotExistError
            error = cls(response.describe(), response.driver, status=404, code="NotFound")
        else:
            error = super()._map_error(response)
        return name_error(error, bucket, key)

    async def _send(
        self, method: str, url: str, *, params: Any = None, body: Any = None, **kwargs: Any
    ) -> Response:
        # S3 never compresses its answers, and an object's Content-Encoding
        # describes the stored bytes: nothing is to be decoded (or stripped).
        kwargs.setdefault("decode_content", False)
        return await self.http.send(
            self._aws_request(method, url, params=params, body=body, **kwargs)
        )

    async def _xml(self, method: str, url: str, params: Any = None) -> etree._Element:
        response = await self._send(method, url, params=params)
        return await response.xml()

    # Containers

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """Yield every bucket of the account, fetching pages lazily."""
        token: str | None = None
        while True:
            params = {"continuation-token": token} if token else None
            root = await self._xml("GET", self.endpoint + "/", params)
            for element in findall_local(root, "Buckets/Bucket"):
                yield container_from_listing(element, self)
            token = findtext_local(root, "ContinuationToken")
            if not token:
                return

    def get_container(self, container_name: str) -> Deferred[Container]:
        """
        Fetch one bucket (``HEAD``).

        :returns: a Deferred firing with the :class:`Container` (``extra``
            has the bucket's ``region`` when S3 tells it); it fails with
            ``ContainerDoesNotExistError`` or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._get_container(container_name))

    async def _get_container(self, container_name: str) -> Container:
        check_bucket_name(container_name)
        # 301: the bucket exists in another region than this driver's.
        response = await self._send("HEAD", self._bucket_url(container_name), ok_statuses={301})
        await response.content()
        extra: dict[str, Any] = {}
        region = response.headers.get("x-amz-bucket-region")
        if region:
            extra["region"] = region
        return Container(name=container_name, extra=extra, driver=self)

    def create_container(self, container_name: str) -> Deferred[Container]:
        """
        Create a bucket in the driver's region.

        :returns: a Deferred firing with the new :class:`Container`; it fails
            with ``ContainerAlreadyExistsError`` or ``InvalidContainerNameError``
            (S3's naming rules are checked before any request).
        """
        return Deferred.fromCoroutine(self._create_container(container_name))

    async def _create_container(self, container_name: str) -> Container:
        check_new_bucket_name(container_name)
        region = self.region or DEFAULT_REGION
        # us-east-1 is the default location and refuses to be named.
        body = None if region == DEFAULT_REGION else create_bucket_xml(region)
        response = await self._send("PUT", self._bucket_url(container_name), body=body)
        await response.content()
        return Container(name=container_name, extra={"region": region}, driver=self)

    def delete_container(self, container: Container) -> Deferred[bool]:
        """
        Delete an empty bucket.

        :returns: a Deferred firing with ``True``; it fails with
            ``ContainerIsNotEmptyError`` or ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_container(container))

    async def _delete_container(self, container: Container) -> bool:
        check_bucket_name(container.name)
        response = await self._send("DELETE", self._bucket_url(container.name))
        await response.content()
        return True

    # Objects

    async def iterate_container_objects(
        self, container: Container, prefix: str | None = None, ex_page_size: int | None = None
    ) -> AsyncIterator[Object]:
        """
        Yield the objects of *container* whose keys start with *prefix*, in
        key order, fetching ListObjectsV2 pages lazily.

        :param ex_page_size: keys per page, 1 to 1000 (1000 by default).
        """
        check_bucket_name(container.name)
        check_prefix(prefix)
        page_size = check_page_size(ex_page_size, DEFAULT_PAGE_SIZE)
        url = self._bucket_url(container.name)
        token: str | None = None
        while True:
            # encoding-type=url: keys may hold characters XML 1.0 cannot carry.
            params = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", str(page_size))]
            if prefix:
                params.append(("prefix", prefix))
            if token:
                params.append(("continuation-token", token))
            root = await self._xml("GET", url, params)
            url_encoded = findtext_local(root, "EncodingType") == "url"
            for element in findall_local(root, "Contents"):
                yield object_from_listing(element, container, url_encoded)
            if findtext_local(root, "IsTruncated") != "true":
                return
            token = findtext_local(root, "NextContinuationToken")
            if not token:
                raise MalformedResponseError(
                    "a truncated listing came without a continuation token"
                )

    def list_container_objects(
        self, container: Container, prefix: str | None = None, ex_page_size: int | None = None
    ) -> Deferred[list[Object]]:
        """List the objects of *container*; see :meth:`iterate_container_objects`."""
        return collect(self.iterate_container_objects(container, prefix, ex_page_size))

    def get_object(self, container_name: str, object_name: str) -> Deferred[Object]:
        """
        Fetch one object's metadata (``HEAD``).

        :returns: a Deferred firing with the :class:`Object`: ``hash`` is the
            ETag without quotes, ``meta_data`` the ``x-amz-meta-*`` headers,
            and ``extra`` has ``etag``, ``last_modified``, ``content_type``,
            ``storage_class``, ``server_side_encryption`` and ``hash_is_md5``
            (whether the ETag is the MD5 of the content).  It fails with
            ``ObjectDoesNotExistError`` (also when the bucket is missing: S3
            does not say which).
        """
        return Deferred.fromCoroutine(self._get_object(container_name, object_name))

    async def _get_object(self, container_name: str, object_name: str) -> Object:
        self._check_names(container_name, object_name)
        response = await self._send("HEAD", self._object_url(container_name, object_name))
        await response.content()
        container = Container(name=container_name, extra={}, driver=self)
        return object_from_headers(object_name, self._object_headers(response.headers), container)

    def _check_names(self, bucket: str, key: str) -> None:
        """Refuse the names of an object to fetch or upload, before any request."""
        check_bucket_name(bucket)
        check_object_name(key)

    def _object_headers(self, headers: HeaderMap) -> HeaderMap:
        """A HEAD answer's *headers* as :func:`object_from_headers` reads them."""
        return headers

    def upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        verify_hash: bool = True,
        *,
        ex_progress: ProgressCallback | None = None,
        ex_multipart_threshold: int | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the file at *file_path*: with one PUT below the multipart
        threshold, in parallel parts above it.

        :param extra: ``meta_data`` (dict), ``content_type`` (guessed from
            the names when absent), ``content_encoding``,
            ``content_disposition``, ``content_language``, ``cache_control``,
            ``acl`` and ``storage_class``.
        :param verify_hash: compare the checksums S3 reports (each part's,
            and the whole object's) with the CRC32C of the data; a
            mismatching object is deleted and the Deferred fails with
            ``ObjectHashMismatchError``.  S3 itself checks the checksums it
            is sent either way.
        :param ex_progress: called with the bytes stored so far.
        :param ex_multipart_threshold: overrides the driver's, for this call.
        :param ex_part_size: overrides the driver's, for this call.
        :param ex_max_concurrency: overrides the driver's, for this call.
        :returns: a Deferred firing with the new :class:`Object`.  On failure
            or cancellation a multipart upload is aborted, leaving no parts.
        """
        config = self._transfer_config_for(
            kwargs,
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_file(file_path, upload, config)

    def upload_object_via_stream(
        self,
        iterator: Iterable[bytes] | AsyncIterable[bytes],
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        *,
        verify_hash: bool = True,
        ex_progress: ProgressCallback | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the chunks of *iterator* (sync or async) without knowing their size.

        A stream that ends within one part goes with one PUT; a longer one in
        parts of ``ex_part_size`` bytes uploaded as they fill, holding at most
        ``ex_max_concurrency`` parts in memory.  If the iterator raises, the
        multipart upload is aborted (no parts and no object remain) and the
        Deferred fails with the iterator's exception.

        :param extra: as for :meth:`upload_object`.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        config = self._transfer_config_for(
            kwargs, part_size=ex_part_size, max_concurrency=ex_max_concurrency
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_stream(iterator, upload, config)

    def _upload_target(
        self, upload: UploadArguments, file_path: str | None, config: TransferConfig, **options: Any
    ) -> tuple[S3ObjectUpload, TransferConfig]:
        self._check_names(upload.container.name, upload.object_name)
        headers = upload_headers(upload.extra, upload.object_name, file_path)
        target = self._upload_steps(
            self, upload.container, upload.object_name, headers, upload.verify_hash, file_path
        )
        return target, config

    def _check_object_names(self, obj: Object) -> None:
        check_bucket_name(obj.container.name)
        check_object_name(obj.name)

    async def _expected_digest(self, obj: Object) -> ExpectedDigest | None:
        # Objects of 8 MiB or more: the CRC32C or CRC32 checksum S3 keeps
        # (whole or composite); others: the ETag when it is the MD5 of the
        # content, or a multipart ETag whose part size S3 reports.
        return await expected_digest(self, obj)

    def _version_pin(self, obj: Object) -> str | None:
        # If-Match on the ETag.
        return obj.extra.get("etag") or (f'"{obj.hash}"' if obj.hash else None)

    async def _get_object_bytes(self, obj: Object, wanted: str | None, pin: str | None) -> Response:
        headers: dict[str, str] = {}
        if wanted is not None:
            headers["Range"] = wanted
        if pin:
            headers["If-Match"] = pin
        return await self._send(
            "GET", self._object_url(obj.container.name, obj.name), headers=headers
        )

    def delete_object(self, obj: Object) -> Deferred[bool]:
        """
        Delete *obj*.

        :returns: a Deferred firing with ``True``.  Like S3 (and Libcloud),
            deleting a key that does not exist succeeds; a missing bucket
            fails with ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_object(obj))

    async def _delete_object(self, obj: Object) -> bool:
        self._check_object_names(obj)
        response = await self._send("DELETE", self._object_url(obj.container.name, obj.name))
        await response.content()
        return True

    # Multipart uploads left behind (by failed clients of any kind)

    async def ex_iterate_multipart_uploads(
        self, container: Container, prefix: str | None = None
    ) -> AsyncIterator[MultipartUpload]:
        """
        Yield the multipart uploads in progress in *container* (ListMultipartUploads),
        fetching pages lazily.

        :param prefix: only uploads of keys starting with it.
        """
        check_bucket_name(container.name)
        url = self._bucket_url(container.name)
        markers: list[tuple[str, str]] = []
        while True:
            params = [("uploads", ""), ("encoding-type", "url"), *markers]
            if prefix:
                params.append(("prefix", prefix))
            root = await self._xml("GET", url, params)
            url_encoded = findtext_local(root, "EncodingType") == "url"
            for element in findall_local(root, "Upload"):
                yield multipart_upload_from_listing(element, url_encoded)
            if findtext_local(root, "IsTruncated") != "true":
                return
            markers = [
                ("key-marker", findtext_local(root, "NextKeyMarker") or ""),
                ("upload-id-marker", findtext_local(root, "NextUploadIdMarker") or ""),
            ]

    def ex_cleanup_all_multipart_uploads(
        self, container: Container, prefix: str | None = None
    ) -> Deferred[int]:
        """
        Abort every multipart upload in progress in *container* (whose key
        starts with *prefix*), freeing the storage of their parts.

        :returns: a Deferred firing with the number of uploads aborted.
        """
        return Deferred.fromCoroutine(self._cleanup_multipart_uploads(container, prefix))

    async def _cleanup_multipart_uploads(self, container: Container, prefix: str | None) -> int:
        uploads = [upload async for upload in self.ex_iterate_multipart_uploads(container, prefix)]
        for upload in uploads:
            url = self._object_url(container.name, upload.key)
            response = await self._send("DELETE", url, params={"uploadId": upload.upload_id})
            await response.content()
        return len(uploads)

    # Presigned URLs

    def ex_presigned_url(
        self,
        obj: Object | tuple[str, str],
        method: str = "GET",
        expires: int = 3600,
        ex_params: dict[str, str] | None = None,
    ) -> str:
        """
        A URL that lets whoever holds it *method* the object for *expires*
        seconds, without credentials (SigV4 query signing).

        Nothing is sent, so this is not a Deferred; it needs the driver's
        credentials at hand: always so with fixed keys, and with temporary
        ones (a role, instance or container credentials) once fetched and
        not about to expire.  :meth:`ex_presign` waits for them instead.  A
        URL signed with temporary credentials stops working when they
        expire, whatever *expires* says.

        :param obj: an :class:`Object`, or ``(container_name, object_name)``.
        :param method: ``"GET"``, ``"PUT"``, ``"HEAD"`` or ``"DELETE"``.
        :param expires: seconds the URL is valid, 1 to 604800.
        :param ex_params: response overrides to sign in
            (``{"response-content-disposition": "attachment"}``).
        :returns: the URL.
        :raises InvalidArgumentError: for bad names, method or expiry.
        :raises InvalidCredsError: when temporary credentials are not at hand.
        """
        bucket, key = self._presign_target(obj, method)
        credentials = self.credentials_provider.fresh()
        if credentials is None:
            raise InvalidCredsError(
                f"no credentials at hand to presign with (from "
                f"{self.credentials_provider.description}); use ex_presign(), "
                "which waits for them",
                self,
            )
        return self._presigned(bucket, key, method, expires, ex_params, credentials)

    def ex_presign(
        self,
        obj: Object | tuple[str, str],
        method: str = "GET",
        expires: int = 3600,
        ex_params: dict[str, str] | None = None,
    ) -> Deferred[str]:
        """
        :meth:`ex_presigned_url`, waiting for the credentials first if need be.

        :returns: a Deferred firing with the URL, or failing with the
            credential provider's error.
        :raises InvalidArgumentError: for bad names, method or expiry.
        """
        bucket, key = self._presign_target(obj, method)
        return self.credentials_provider.get().addCallback(
            lambda found: self._presigned(bucket, key, method, expires, ex_params, found)
        )

    def _presign_target(self, obj: Object | tuple[str, str], method: str) -> tuple[str, str]:
        if isinstance(obj, Object):
            bucket, key = obj.container.name, obj.name
        elif isinstance(obj, tuple) and len(obj) == 2:
            bucket, key = obj
        else:
            raise InvalidArgumentError("obj must be an Object or a (container_name, object_name)")
        check_bucket_name(bucket)
        check_object_name(key)
        if method not in ("GET", "PUT", "HEAD", "DELETE"):
            raise InvalidArgumentError(f"cannot presign a {method!r} request", self)
        return bucket, key

    def _presigned(
        self,
        bucket: str,
        key: str,
        method: str,
        expires: int,
        ex_params: dict[str, str] | None,
        credentials: AWSCredentials,
    ) -> str:
        return presign_url(
            method,
            self._object_url(bucket, key),
            credentials,
            self.region or DEFAULT_REGION,
            self.service_name,
            self.reactor.seconds(),
            expires,
            ex_params,
        )

    def get_object_cdn_url(self, obj: Object, ex_expiry: float = 24, ex_method: str = "GET") -> str:
        """Libcloud's name for :meth:`ex_presigned_url`; *ex_expiry* is in hours."""
        return self.ex_presigned_url(obj, ex_method, int(ex_expiry * 3600))
