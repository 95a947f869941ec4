"""
The :class:`GoogleStorageDriver` class; :mod:`txcloud.storage.drivers.google_storage`
describes the driver.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from txcloud.common.paging import collect
from txcloud.errors import ContainerError
from txcloud.http import Response, RetryPolicy
from txcloud.storage.base import (
    Container,
    Object,
    ProgressCallback,
    check_page_size,
    check_prefix,
)
from txcloud.storage.drivers.google_storage.connection import (
    DEFAULT_HOST,
    UPLOAD_METHODS,
    GoogleStorageBase,
    check_upload_method,
)
from txcloud.storage.drivers.google_storage.parse import (
    check_bucket_name,
    check_object_name,
    container_from_resource,
    expected_digest,
    object_from_resource,
    object_resource,
    predefined_acl,
)
from txcloud.storage.drivers.google_storage.resumable import CHUNK_GRANULARITY, ResumableUpload
from txcloud.storage.drivers.google_storage.upload import (
    TEMPORARY_PREFIX,
    CompositeUpload,
    ObjectUploader,
    delete_if_present,
)
from txcloud.storage.transfer.config import TransferConfig
from txcloud.storage.transfer.digest import CRC32C, MD5, ExpectedDigest, hash_file_range, new_hash
from txcloud.storage.transfer.files import run_blocking
from txcloud.storage.transfer.mixins import UploadArguments
from txcloud.storage.transfer.multipart import MultipartTarget

__all__ = ["DEFAULT_HOST", "UPLOAD_METHODS", "GoogleStorageDriver"]

#: Objects (and buckets) per listed page unless told otherwise (the API's maximum).
DEFAULT_PAGE_SIZE = 1000


def _looks_like_hmac_key(key: Any) -> bool:
    # Libcloud's rule: HMAC access ids start with GOOG (service accounts' with GOOG1).
    return isinstance(key, str) and key.startswith("GOOG")


class GoogleStorageDriver(GoogleStorageBase):
    """
    Google Cloud Storage, through the JSON API.

    :param key: the service account's e-mail (``client_email``), with
        *secret*.  ``None`` with no *secret* finds credentials as Google's
        libraries do (Application Default Credentials, see
        :mod:`txcloud.auth.google.adc`); an empty key with no *secret* sends
        no credentials (emulators).  An HMAC access id (``GOOG...``) gives a
        :class:`~txcloud.storage.drivers.google_storage.xml_api.GoogleStorageXMLDriver`.
    :param secret: the service account key: the path of its JSON file (or of
        a PEM private key, with *key*), the JSON text, or the parsed dict.
    :param ex_project: the project buckets are listed in and created in; by
        default ``GOOGLE_CLOUD_PROJECT``, else the credentials' project, else
        the metadata server's (``project`` is Libcloud's name).
    :param ex_scopes: the OAuth2 scopes asked for (full control of storage).
    :param ex_credentials: a
        :class:`~txcloud.auth.google.adc.GoogleCredentials` or a token source
        (:class:`~txcloud.auth.tokens.TokenSource`) to use instead.
    :param ex_environ: the environment credentials and
        ``STORAGE_EMULATOR_HOST`` are read from; :data:`os.environ` when
        ``None``.  ``STORAGE_EMULATOR_HOST`` (a URL), when no *host* is
        given, is the endpoint, and a driver without *secret* then sends no
        credentials, as Google's libraries do.
    :param ex_use_xml_api: ``True`` gives the XML API driver whatever the
        key, ``False`` never does.
    :param ex_upload_method: ``"resumable"`` (the default) or ``"composite"``
        for uploads above the multipart threshold.
    :param ex_multipart_threshold: upload files and streams of at least this
        many bytes in parts (8 MiB).
    :param ex_part_size: bytes per part (8 MiB; a resumable upload rounds it
        up to a multiple of 256 KiB).
    :param ex_max_concurrency: parts uploaded at once by a composite upload (10).
    :param ex_download_threshold: download objects of at least this many
        bytes in parallel ranges: 64 MiB on Google; with a ``host``, never.
    :param ex_range_size: bytes per ranged GET (32 MiB).
    :param ex_download_concurrency: ranged GETs at once (8).
    :param ex_transfer_config: a whole
        :class:`~txcloud.storage.transfer.config.TransferConfig` to start from.

    Other arguments (``secure``, ``host``, ``port``, ``reactor``,
    ``timeout``, TLS and retry options) are
    :class:`~txcloud.common.http_driver.HTTPDriver`'s.
    """

    def __new__(cls, key: Any = None, secret: Any = None, *args: Any, **kwargs: Any) -> Any:
        use_xml = kwargs.get("ex_use_xml_api")
        if cls is GoogleStorageDriver and (
            use_xml or (use_xml is None and _looks_like_hmac_key(key))
        ):
            from txcloud.storage.drivers.google_storage.xml_api import GoogleStorageXMLDriver

            kwargs.pop("ex_use_xml_api", None)
            # Not a subclass, so Python leaves __init__ to us.
            return GoogleStorageXMLDriver(key, secret, *args, **kwargs)
        return super().__new__(cls)

    # Containers

    async def iterate_containers(self) -> AsyncIterator[Container]:
        """Yield every bucket of the project, fetching pages lazily."""
        project = await self._require_project()
        token: str | None = None
        while True:
            params = [("project", project), ("maxResults", str(DEFAULT_PAGE_SIZE))]
            if token:
                params.append(("pageToken", token))
            page = await self._json("GET", f"{self.endpoint}/storage/v1/b", params)
            for item in page.get("items", []):
                yield container_from_resource(item, self)
            token = page.get("nextPageToken")
            if not token:
                return

    def get_container(self, container_name: str) -> Deferred[Container]:
        """
        Fetch one bucket.

        :returns: a Deferred firing with the :class:`Container`; it fails
            with ``ContainerDoesNotExistError`` or ``InvalidContainerNameError``.
        """
        return Deferred.fromCoroutine(self._get_container(container_name))

    async def _get_container(self, container_name: str) -> Container:
        check_bucket_name(container_name)
        return container_from_resource(
            await self._json("GET", self._bucket_url(container_name)), self
        )

    def create_container(
        self,
        container_name: str,
        ex_location: str | None = None,
        ex_storage_class: str | None = None,
    ) -> Deferred[Container]:
        """
        Create a bucket in the driver's project.

        :param ex_location: where (``"EU"``, ``"europe-west1"``...); Google's
            default (``US``) otherwise.
        :param ex_storage_class: the default storage class of its objects.
        :returns: a Deferred firing with the new :class:`Container`; it fails
            with ``ContainerAlreadyExistsError`` or ``InvalidContainerNameError``
            (Google's naming rules are checked before any request).
        """
        return Deferred.fromCoroutine(
            self._create_container(container_name, ex_location, ex_storage_class)
        )

    async def _create_container(
        self, container_name: str, location: str | None, storage_class: str | None
    ) -> Container:
        check_bucket_name(container_name, new=True)
        project = await self._require_project()
        resource = {"name": container_name}
        if location:
            resource["location"] = location
        if storage_class:
            resource["storageClass"] = storage_class
        try:
            response = await self._send_json(
                "POST", f"{self.endpoint}/storage/v1/b", resource, params={"project": project}
            )
        except ContainerError as e:
            e.container_name = container_name
            raise
        return container_from_resource(await response.json(), self)

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
        Yield the objects of *container* whose names start with *prefix*, in
        name order, fetching pages lazily.

        :param ex_page_size: objects per page, 1 to 1000 (1000 by default).
        """
        check_bucket_name(container.name)
        check_prefix(prefix)
        page_size = check_page_size(ex_page_size, DEFAULT_PAGE_SIZE)
        url = self._bucket_url(container.name) + "/o"
        token: str | None = None
        while True:
            params = [("maxResults", str(page_size))]
            if prefix:
                params.append(("prefix", prefix))
            if token:
                params.append(("pageToken", token))
            page = await self._json("GET", url, params)
            for item in page.get("items", []):
                yield object_from_resource(item, container)
            token = page.get("nextPageToken")
            if not token:
                return

    def list_container_objects(
        self, container: Container, prefix: str | None = None, ex_page_size: int | None = None
    ) -> Deferred[list[Object]]:
        """List the objects of *container*; see :meth:`iterate_container_objects`."""
        return collect(self.iterate_container_objects(container, prefix, ex_page_size))

    def get_object(self, container_name: str, object_name: str) -> Deferred[Object]:
        """
        Fetch one object's metadata.

        :returns: a Deferred firing with the :class:`Object` (see
            :func:`~txcloud.storage.drivers.google_storage.parse.object_from_resource`
            for its fields); it fails with ``ObjectDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._get_object(container_name, object_name))

    async def _get_object(self, container_name: str, object_name: str) -> Object:
        check_bucket_name(container_name)
        check_object_name(object_name)
        resource = await self._json("GET", self._object_url(container_name, object_name))
        container = Container(name=container_name, extra={}, driver=self)
        return object_from_resource(resource, container)

    def upload_object(
        self,
        file_path: str,
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        verify_hash: bool = True,
        *,
        ex_progress: ProgressCallback | None = None,
        ex_upload_method: str | None = None,
        ex_multipart_threshold: int | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the file at *file_path*: with one request below the multipart
        threshold, otherwise by the driver's upload method.

        :param extra: ``meta_data`` (dict), ``content_type`` (guessed from
            the names when absent), ``content_encoding``,
            ``content_disposition``, ``content_language``, ``cache_control``,
            ``storage_class`` and ``acl`` (``"publicRead"``, or Libcloud's
            ``"public-read"``...).
        :param verify_hash: compare the checksums Cloud Storage reports with
            the data's; a mismatching object is deleted and the Deferred
            fails with ``ObjectHashMismatchError``.
        :param ex_progress: called with the bytes stored so far.
        :param ex_upload_method: ``"resumable"`` or ``"composite"``, for this call.
        :param ex_multipart_threshold: overrides the driver's, for this call.
        :param ex_part_size: overrides the driver's, for this call.
        :param ex_max_concurrency: overrides the driver's, for this call.
        :returns: a Deferred firing with the new :class:`Object`.  On failure
            or cancellation nothing of the upload remains (no temporaries,
            no open session).
        """
        config = self._transfer_config_for(
            kwargs,
            multipart_threshold=ex_multipart_threshold,
            part_size=ex_part_size,
            max_concurrency=ex_max_concurrency,
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_file(file_path, upload, config, method=ex_upload_method)

    def upload_object_via_stream(
        self,
        iterator: Iterable[bytes] | AsyncIterable[bytes],
        container: Container,
        object_name: str,
        extra: dict[str, Any] | None = None,
        *,
        verify_hash: bool = True,
        ex_progress: ProgressCallback | None = None,
        ex_upload_method: str | None = None,
        ex_part_size: int | None = None,
        ex_max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Deferred[Object]:
        """
        Upload the chunks of *iterator* (sync or async) without knowing their size.

        A stream that ends within one part goes with one request; a longer
        one part by part as they fill (in a resumable session, one part held
        in memory; or as composite parts, ``ex_max_concurrency`` at once).
        If the iterator raises, no object and no temporary remains and the
        Deferred fails with the iterator's exception.

        :param extra: as for :meth:`upload_object`.
        :returns: a Deferred firing with the new :class:`Object`.
        """
        config = self._transfer_config_for(
            kwargs, part_size=ex_part_size, max_concurrency=ex_max_concurrency
        )
        upload = UploadArguments(container, object_name, extra, verify_hash, ex_progress)
        return self._upload_stream(iterator, upload, config, method=ex_upload_method)

    def _upload_target(
        self,
        upload: UploadArguments,
        file_path: str | None,
        config: TransferConfig,
        *,
        method: str | None = None,
        **options: Any,
    ) -> tuple[MultipartTarget, TransferConfig]:
        container = upload.container
        check_bucket_name(container.name)
        check_object_name(upload.object_name)
        method = self.upload_method if method is None else check_upload_method(method)
        resource = object_resource(upload.object_name, upload.extra, file_path)
        acl = predefined_acl(upload.extra)
        # CRC32C when the fast implementation is installed (many times
        # cheaper than MD5, and kept for every object), else MD5.
        algorithm = CRC32C if self._crc32c_fast else MD5
        file_digest = None if file_path is None else self._file_digest(file_path, algorithm)
        arguments = (self, container, resource, acl, upload.verify_hash)
        target: ObjectUploader
        if method == "composite":
            target = CompositeUpload(
                *arguments,
                algorithm=algorithm,
                file_digest=file_digest,
                concurrency=config.max_concurrency,
            )
        else:
            # One part after another, each a multiple of 256 KiB.
            granules = -(-config.part_size // CHUNK_GRANULARITY)
            config = attrs.evolve(config, part_size=granules * CHUNK_GRANULARITY, max_concurrency=1)
            target = ResumableUpload(
                *arguments,
                algorithm=algorithm,
                file_digest=file_digest,
                retry=self._retry or RetryPolicy(),
            )
        return target, config

    def _file_digest(self, path: str, algorithm: str) -> Callable[[], Deferred[bytes]]:
        def digest() -> bytes:
            hashed = new_hash(algorithm)
            hash_file_range(hashed, path, 0, os.path.getsize(path))
            result: bytes = hashed.digest()
            return result

        return lambda: run_blocking(self.reactor, digest)

    def _check_object_names(self, obj: Object) -> None:
        check_bucket_name(obj.container.name)
        check_object_name(obj.name)

    async def _expected_digest(self, obj: Object) -> ExpectedDigest | None:
        # CRC32C when the fast implementation is installed (composite objects
        # have nothing else), else the MD5 when Google keeps one.
        return expected_digest(obj, self._crc32c_fast)

    def _version_pin(self, obj: Object) -> str | None:
        # The object's generation.
        generation = obj.extra.get("generation")
        return None if generation is None else str(generation)

    async def _get_object_bytes(self, obj: Object, wanted: str | None, pin: str | None) -> Response:
        # gzip accepted: Google then sends the stored bytes instead of decompressing them.
        headers = {"Accept-Encoding": "gzip"}
        if wanted is not None:
            headers["Range"] = wanted
        params = [("alt", "media")]
        if pin:
            params.append(("generation", pin))
        url = self._object_url(obj.container.name, obj.name)
        return await self._send("GET", url, params=params, headers=headers, decode_content=False)

    def delete_object(self, obj: Object) -> Deferred[bool]:
        """
        Delete *obj*.

        :returns: a Deferred firing with ``True``; it fails with
            ``ObjectDoesNotExistError``.
        """
        return Deferred.fromCoroutine(self._delete_object(obj))

    async def _delete_object(self, obj: Object) -> bool:
        self._check_object_names(obj)
        response = await self._send("DELETE", self._object_url(obj.container.name, obj.name))
        await response.content()
        return True

    def ex_cleanup_composite_temporaries(self, container: Container) -> Deferred[int]:
        """
        Delete the temporary objects composite uploads left in *container*
        (a process that died mid-upload cannot delete its own).  Run it when
        no composite upload is under way there.

        :returns: a Deferred firing with the number of objects deleted.
        """
        return Deferred.fromCoroutine(self._cleanup_temporaries(container))

    async def _cleanup_temporaries(self, container: Container) -> int:
        leftovers = [
            obj async for obj in self.iterate_container_objects(container, TEMPORARY_PREFIX)
        ]
        for obj in leftovers:
            await delete_if_present(self, container.name, obj.name)
        return len(leftovers)
