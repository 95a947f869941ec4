"""
The :class:`AzureBlobsStorageDriver` class; :mod:`txcloud.storage.drivers.azure_blobs`
describes the driver.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from twisted.internet.defer import Deferred

from txcloud.common.paging import collect
from txcloud.errors import ContainerIsNotEmptyError
from txcloud.http import Response, findall_local, findtext_local
from txcloud.storage.base import Container, Object, ProgressCallback, check_prefix
from txcloud.storage.drivers.azure_blobs.connection import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_TRANSFER,
    AzureBlobsBase,
)
from txcloud.storage.drivers.azure_blobs.parse import (
    check_blob_name,
    check_container_name,
    container_from_headers,
    container_from_listing,
    object_from_headers,
    object_from_listing,
    upload_headers,
)
from txcloud.storage.drivers.azure_blobs.upload import (
    AzureBlockBlobUpload,
    FileMD5,
    StreamMD5,
    WholeMD5,
)
from txcloud.storage.transfer.config import TransferConfig
from txcloud.storage.transfer.digest import ExpectedDigest
from txcloud.storage.transfer.mixins import UploadArguments
from txcloud.storage.transfer.multipart import MultipartTarget

__all__ = ["DEFAULT_PAGE_SIZE", "DEFAULT_TRANSFER", "AzureBlobsStorageDriver"]


class AzureBlobsStorageDriver(AzureBlobsBase):
    """
    Azure Blob Storage.

    :param key: the storage account's name; ``None`` to take the account,
        its key or SAS and its endpoint from ``AZURE_STORAGE_CONNECTION_STRING``.
    :param secret: the account key (base64); or give ``ex_sas_token``.  With
        neither, requests carry Azure AD tokens (HTTPS only), from
        *ex_credentials* or found as ``DefaultAzureCredential`` finds them
        (see :mod:`txcloud.auth.azure.chain`).
    :param secure: HTTPS (the default) or plain HTTP.
    :param host: an emulator's host (path-style URLs), or a sovereign
        cloud's blob endpoint.
    :param port: the host's port.
    :param ex_sas_token: a SAS token (the query string of a SAS URL) to
        authorise requests with instead of the key; what it allows is what
        the driver can do.
    :param ex_credentials: a source of Azure AD tokens
        (:class:`~txcloud.auth.tokens.TokenSource`) for the scope
        ``https://storage.azure.com/.default``.
    :param ex_environ: the environment credentials are read from;
        :data:`os.environ` when ``None``.
    :param ex_multipart_threshold: upload files and streams of at least this
        many bytes in blocks (16 MiB).
    :param ex_part_size: bytes per block (8 MiB).
    :param ex_max_concurrency: blocks uploaded at once (8); a streamed
        upload buffers at most this many blocks.
    :param ex_download_threshold: download blobs of at least this many
        bytes in parallel ranges (32 MiB).
    :param ex_range_size: bytes per ranged GET (16 MiB).
    :param ex_download_concurrency: ranged GETs at once (8).
    :param ex_transfer_config: a whole
        :class:`~txcloud.storage.transfer.config.TransferConfig` to start
        from instead of :data:`DEFAULT_TRANSFER`.
    :param ex_transactional_md5: send each block's MD5 (``Content-MD5``)
        for Azure to check as it arrives.  Off by default: it costs about
        1.4 CPU seconds per GB, and over HTTPS TLS already protects the
        data in transit; turn it on for plain HTTP.  The blob's own MD5
        (``x-ms-blob-content-md5``), which downloads are checked against,
        is computed either way (see :meth:`upload_object`).

    Other arguments (``reactor``, ``timeout``, TLS and retry options) are
    :class:`~txcloud.common.http_driver.HTTPDriver`'s.

    :raises InvalidArgumentError: for a bad account name, a key that is not
        base64, a malformed SAS token, both a key and a token, or tokens
        over plain HTTP.
    :raises InvalidCredsError: for a malformed connection string or an
        unusable client certificate.
    """

    # Containers

    async def iterate_containers(self, ex_page_size: int | None = None) -> AsyncIterator[Container]:
        """
        Yield every container of the account with its metadata, fetching
        pages lazily (``NextMarker``).

        :param ex_page_size: containers per page, 1 to 5000 (5000).
        """
        page_size = self._page_size(ex_page_size)
        marker: list[tuple[str, str]] = []
        while True:
            params = [("comp", "list"), ("maxresults", page_size), ("include", "metadata")]
            root = await self._xml(self.account_url + "/", params + marker)
            for element in findall_local(root, "Containers/Container"):
                yield container_from_listing(element, self, self._container_url)
            next_marker = findtext_local(root, "NextMarker")
            if not next_marker:
                return
            marker = [("marker", next_marker)]

    def get_container(self, container_name: str) -> Deferred[Container]:
        """
        Fetch one container's properties.

        :returns: a Deferred firing with the :class:`Container` (``extra``
            has Libcloud's ``url``, ``etag``, ``last_modified``, ``lease``
            and ``meta_data``); it fails with ``ContainerDoesNotExistError``
            or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._container_call("HEAD", container_name))

    def create_container(self, container_name: str) -> Deferred[Container]:
        """
        Create a private container.

        :returns: a Deferred firing with the new :class:`Container`; it fails
            with ``ContainerAlreadyExistsError`` (also while a container of
            that name is being deleted) or ``InvalidContainerNameError``
            (Azure's naming rules are checked before any request).
        """
        return Deferred.fromCoroutine(self._container_call("PUT", container_name))

    async def _container_call(self, method: str, container_name: str) -> Container:
        check_container_name(container_name)
        url = self._container_url(container_name)
        response = await self._send(method, url, params={"restype": "container"})
        await response.content()
        return container_from_headers(container_name, response.headers, self, url)

    def delete_container(self, container: Container) -> Deferred[bool]:
        """
        Delete an empty container.

        Azure deletes containers with their blobs, so, like Libcloud, the
        driver first lists one blob and refuses if there is one (a blob
        uploaded between the two requests is deleted with the container).

        :returns: a Deferred firing with ``True``; it fails with
            ``ContainerIsNotEmptyError`` or ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_container(container))

    async def _delete_container(self, container: Container) -> bool:
        check_container_name(container.name)
        url = self._container_url(container.name)
        params = [("restype", "container"), ("comp", "list"), ("maxresults", "1")]
        root = await self._xml(url, params)
        if findall_local(root, "Blobs/Blob"):
            raise ContainerIsNotEmptyError(
                f"Container {container.name!r} must be empty before it can be deleted",
                self,
                container_name=container.name,
            )
        response = await self._send("DELETE", url, params={"restype": "container"})
        await response.content()
        return True

    # Objects

    async def iterate_container_objects(
        self, container: Container, prefix: str | None = None, ex_page_size: int | None = None
    ) -> AsyncIterator[Object]:
        """
        Yield the blobs of *container* whose names start with *prefix*, in
        name order with their metadata, fetching pages lazily (``NextMarker``).

        :param ex_page_size: blobs per page, 1 to 5000 (5000).
        """
        check_container_name(container.name)
        check_prefix(prefix)
        page_size = self._page_size(ex_page_size)
        url = self._container_url(container.name)

        def url_of(name: str) -> str:
            return self._blob_url(container.name, name)

        marker: list[tuple[str, str]] = []
        while True:
            params = [
                ("restype", "container"),
                ("comp", "list"),
                ("maxresults", page_size),
                ("include", "metadata"),
            ]
            if prefix:
                params.append(("prefix", prefix))
            root = await self._xml(url, params + marker)
            for element in findall_local(root, "Blobs/Blob"):
                yield object_from_listing(element, container, url_of)
            next_marker = findtext_local(root, "NextMarker")
            if not next_marker:
                return
            marker = [("marker", next_marker)]

    def list_container_objects(
        self, container: Container, prefix: str | None = None, ex_page_size: int | None = None
    ) -> Deferred[list[Object]]:
        """List the blobs of *container*; see :meth:`iterate_container_objects`."""
        return collect(self.iterate_container_objects(container, prefix, ex_page_size))

    def get_object(self, container_name: str, object_name: str) -> Deferred[Object]:
        """
        Fetch one blob's properties (``HEAD``).

        :returns: a Deferred firing with the :class:`Object`: ``hash`` is the
            ETag without quotes, ``meta_data`` the ``x-ms-meta-*`` headers
            (names in lower case), and ``extra`` has Libcloud's ``url``,
            ``etag``, ``md5_hash`` (hex, or ``None`` when Azure keeps no
            MD5), ``content_type``, ``content_encoding``,
            ``content_language``, ``last_modified``, ``lease`` and
            ``blob_type``.  It fails with ``ObjectDoesNotExistError`` or,
            when the container is missing, ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._get_object(container_name, object_name))

    async def _get_object(self, container_name: str, object_name: str) -> Object:
        check_container_name(container_name)
        check_blob_name(object_name)
        url = self._blob_url(container_name, object_name)
        response = await self._send("HEAD", url)
        await response.content()
        container = Container(name=container_name, extra={}, driver=self)
        return object_from_headers(object_name, response.headers, container, url)

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
        ex_transactional_md5: bool | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the file at *file_path* as a block blob: with one Put Blob
        below the multipart threshold, otherwise in parallel blocks
        committed with Put Block List, which also sets the blob's MD5.

        Checksums: a single Put Blob carries the file's MD5 (``Content-MD5``),
        which Azure checks and keeps.  Blocks carry none unless
        *ex_transactional_md5* is on; Azure keeps no MD5 of a blob committed
        from blocks, so the file's MD5 is computed in the thread pool while
        its blocks go out (large reads, off the reactor thread) and
        committed as the blob's (``x-ms-blob-content-md5``): downloads are
        checked against it.  Azure's CRC64 is not used (no fast
        implementation to compute it here).

        :param extra: ``meta_data`` (dict), ``content_type`` (guessed from
            the names when absent), ``content_encoding``,
            ``content_language``, ``content_disposition`` and
            ``cache_control``.
        :param verify_hash: ``False`` computes no MD5 at all, as Libcloud
            does: a blob committed from blocks then has none, and its
            downloads cannot be checked.  ``True`` also checks the MD5 Azure
            computed for a single Put Blob sent without one (files over
            8 MiB); a mismatching blob is deleted and the Deferred fails
            with ``ObjectHashMismatchError``.
        :param ex_transactional_md5: overrides the driver's, for this call.
        :param ex_progress: called with the bytes stored so far.
        :param ex_multipart_threshold: overrides the driver's, for this call.
        :param ex_part_size: overrides the driver's, for this call.
        :param ex_max_concurrency: overrides the driver's, for this call.
        :returns: a Deferred firing with the new :class:`Object`.  On failure
            or cancellation no blob is committed (an existing one is left as
            it was).
        """
        config = self._transfer_config_for(
            kwargs,
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_file(file_path, upload, config, transactional_md5=ex_transactional_md5)

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
        ex_transactional_md5: bool | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the chunks of *iterator* (sync or async) without knowing their size.

        A stream that ends within one block goes with one Put Blob; a longer
        one in blocks of ``ex_part_size`` bytes uploaded as they fill,
        holding at most ``ex_max_concurrency`` blocks in memory, and
        committed with the MD5 of the whole stream, hashed in the thread
        pool as it is read (checksums as for :meth:`upload_object`).  If
        the iterator raises, nothing is committed (no blob appears; Azure
        drops the uploaded blocks within a week) and the Deferred fails
        with the iterator's exception.

        :param extra: as for :meth:`upload_object`.
        :param verify_hash: as for :meth:`upload_object`.
        :param ex_transactional_md5: overrides the driver's, for this call.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        config = self._transfer_config_for(
            kwargs, part_size=ex_part_size, max_concurrency=ex_max_concurrency
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_stream(iterator, upload, config, transactional_md5=ex_transactional_md5)

    def _upload_target(
        self,
        upload: UploadArguments,
        file_path: str | None,
        config: TransferConfig,
        *,
        transactional_md5: bool | None = None,
        **options: Any,
    ) -> tuple[MultipartTarget, TransferConfig]:
        container, name = upload.container, upload.object_name
        check_container_name(container.name)
        check_blob_name(name)
        headers = upload_headers(upload.extra, name, file_path)
        # The MD5 committed with the blocks: of the file, hashed beside the
        # upload, or of a stream, hashed from its chunks as they are read.
        whole: WholeMD5 | None = None
        if upload.verify_hash:
            whole = (
                StreamMD5(self.reactor) if file_path is None else FileMD5(self.reactor, file_path)
            )
        target = AzureBlockBlobUpload(
            self,
            container,
            name,
            headers,
            upload.verify_hash,
            whole,
            self.transactional_md5 if transactional_md5 is None else transactional_md5,
        )
        return target, config

    def _stream_chunks(
        self, target: MultipartTarget, chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        assert isinstance(target, AzureBlockBlobUpload)
        return target.hashed(chunks)

    def _check_object_names(self, obj: Object) -> None:
        check_container_name(obj.container.name)
        check_blob_name(obj.name)

    async def _expected_digest(self, obj: Object) -> ExpectedDigest | None:
        # The blob's MD5 (x-ms-blob-content-md5), asked with a HEAD when *obj*
        # does not carry it; a blob without one is not checked.
        if "md5_hash" in obj.extra:
            md5 = obj.extra["md5_hash"]
        else:
            md5 = (await self._get_object(obj.container.name, obj.name)).extra["md5_hash"]
        return ExpectedDigest.md5(md5) if md5 else None

    def _version_pin(self, obj: Object) -> str | None:
        # If-Match on the ETag.
        return f'"{obj.hash}"' if obj.hash else None

    async def _get_object_bytes(self, obj: Object, wanted: str | None, pin: str | None) -> Response:
        headers: dict[str, str] = {}
        if wanted is not None:
            headers["x-ms-range"] = wanted
        if pin:
            headers["If-Match"] = pin
        return await self._send(
            "GET", self._blob_url(obj.container.name, obj.name), headers=headers
        )

    def delete_object(self, obj: Object) -> Deferred[bool]:
        """
        Delete *obj*.

        :returns: a Deferred firing with ``True``; it fails with
            ``ObjectDoesNotExistError`` (as in Libcloud) or
            ``ContainerDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_object(obj))

    async def _delete_object(self, obj: Object) -> bool:
        self._check_object_names(obj)
        response = await self._send("DELETE", self._blob_url(obj.container.name, obj.name))
        await response.content()
        return True
