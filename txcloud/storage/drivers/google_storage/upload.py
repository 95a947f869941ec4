"""
Uploads to Google Cloud Storage's JSON API: one-request uploads
(``uploadType=multipart``: the object resource and the data together) and
parallel composite uploads, Cloud Storage's side of the transfer engine
(:mod:`txcloud.storage.transfer.multipart`).

A composite upload stores each part as a temporary object (under
:data:`TEMPORARY_PREFIX`), in parallel, then joins them with ``compose``:
32 sources at most per request, so more parts are joined in a tree of
intermediate objects first.  The temporaries are deleted once the object
exists, and also when the upload fails or is cancelled.

Checksums: every upload sends the CRC32C of its data in the object resource
(``crc32c``, which Cloud Storage validates before it stores the object) and
compares the ``crc32c`` Cloud Storage reports with it, so an emulator that
does not validate is checked too; a mismatching object is deleted.  CRC32C
costs a fraction of MD5 (about 0.04 against 1.4 CPU seconds per GB with
``google-crc32c``'s C extension) and is the only checksum a composite object
has.  Without that C extension, MD5 (``md5Hash``) takes its place.  A
composite upload sends and checks each part's checksum, and checks the
composed object's CRC32C against its parts' (see
:func:`~txcloud.storage.transfer.digest.crc32c_combine`).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, DeferredList, DeferredSemaphore
from twisted.logger import Logger
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from txcloud.errors import MalformedResponseError, ObjectDoesNotExistError, ObjectHashMismatchError
from txcloud.http.body import BytesProducer
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.google_storage.parse import object_from_resource
from txcloud.storage.transfer.config import MiB
from txcloud.storage.transfer.digest import (
    CRC32C,
    MD5,
    PartDigests,
    base64_digest,
    crc32c_combine,
    digests_of,
)
from txcloud.storage.transfer.fanout import BoundedFanout
from txcloud.storage.transfer.files import run_blocking
from txcloud.storage.transfer.multipart import MD5Later, PartBody, UploadedPart

if TYPE_CHECKING:
    from txcloud.storage.drivers.google_storage.driver import GoogleStorageDriver

__all__ = [
    "MAX_COMPONENTS",
    "MAX_COMPOSE_SOURCES",
    "TEMPORARY_PREFIX",
    "CompositeUpload",
    "FramedProducer",
    "ObjectUploader",
    "check_stored",
    "delete_if_present",
    "reframe",
    "stored_digest",
]

log = Logger()

#: The most source objects one ``compose`` request takes.
MAX_COMPOSE_SOURCES = 32

#: The most components a composite object may have.
MAX_COMPONENTS = 1024

#: Where composite uploads keep their parts until they are composed.
TEMPORARY_PREFIX = ".txcloud-composite/"

#: The largest object Cloud Storage stores.
MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB

# The object resource's field for each checksum an upload sends.
_RESOURCE_FIELDS = {CRC32C: "crc32c", MD5: "md5Hash"}

#: Fires with the checksum of a whole file, computed in the thread pool.
FileDigest = Callable[[], Deferred[bytes]]


@implementer(IBodyProducer)
class FramedProducer:
    """
    Produces *prefix*, then what *inner* produces less its first *skip*
    bytes, then *suffix*: the data of a one-request upload inside its
    ``multipart/related`` envelope, or the rest of a chunk to send again.
    """

    def __init__(
        self, inner: Any, *, skip: int = 0, prefix: bytes = b"", suffix: bytes = b""
    ) -> None:
        self.length = len(prefix) + inner.length - skip + len(suffix)
        self._inner = inner
        self._skip = skip
        self._prefix = prefix
        self._suffix = suffix
        self._consumer: Any = None

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self._consumer = consumer
        if self._prefix:
            consumer.write(self._prefix)
        produced: Deferred[None] = self._inner.startProducing(self)
        return produced.addCallback(self._finish)

    def write(self, data: bytes) -> None:
        if self._skip:
            dropped = min(self._skip, len(data))
            data, self._skip = data[dropped:], self._skip - dropped
        if data:
            self._consumer.write(data)

    def _finish(self, _: None) -> None:
        if self._suffix:
            self._consumer.write(self._suffix)

    def pauseProducing(self) -> None:
        self._inner.pauseProducing()

    def resumeProducing(self) -> None:
        self._inner.resumeProducing()

    def stopProducing(self) -> None:
        self._inner.stopProducing()


def reframe(body: PartBody, *, skip: int = 0, prefix: bytes = b"", suffix: bytes = b"") -> PartBody:
    """A replayable body sending *prefix*, *body* less its first *skip* bytes, and *suffix*."""
    if not (skip or prefix or suffix):
        return body
    # Bytes are framed as they are sent, not copied: a part is not held twice.
    produce = partial(BytesProducer, body) if isinstance(body, bytes) else body
    return lambda: FramedProducer(produce(), skip=skip, prefix=prefix, suffix=suffix)


class ObjectUploader:
    """
    The requests an upload of one object sends, bound to its bucket and the
    object resource (metadata) it creates.

    :param driver: the driver sending the requests.
    :param container: the bucket.
    :param resource: the object resource (see
        :func:`~txcloud.storage.drivers.google_storage.parse.object_resource`).
    :param acl: the ``predefinedAcl`` to apply, if any.
    :param verify_hash: compare the checksum Cloud Storage reports with the data's.
    :param algorithm: the checksum sent and compared:
        :data:`~txcloud.storage.transfer.digest.CRC32C` (when it is fast) or
        :data:`~txcloud.storage.transfer.digest.MD5`.
    :param file_digest: computes that checksum of the whole file uploaded;
        ``None`` for a stream, whose data is hashed as it comes.
    """

    # The engine's CRC32 and MD5 are not used: Cloud Storage keeps a CRC32C
    # (and an MD5 only for objects stored in one piece).
    needs_md5 = False

    def __init__(
        self,
        driver: GoogleStorageDriver,
        container: Container,
        resource: dict[str, Any],
        acl: str | None,
        verify_hash: bool,
        *,
        algorithm: str,
        file_digest: FileDigest | None = None,
    ) -> None:
        self.driver = driver
        self.container = container
        self.resource = resource
        self.name: str = resource["name"]
        self.acl = acl
        self.verify_hash = verify_hash
        self.algorithm = algorithm
        self.file_digest = file_digest

    def params(self, upload_type: str) -> list[tuple[str, str]]:
        """The query parameters of an upload request."""
        params = [("uploadType", upload_type)]
        if self.acl:
            params.append(("predefinedAcl", self.acl))
        return params

    def with_digest(self, resource: dict[str, Any], digest: bytes) -> dict[str, Any]:
        """A copy of *resource* with *digest*, the data's checksum, for Cloud Storage to check."""
        return {**resource, _RESOURCE_FIELDS[self.algorithm]: base64_digest(digest)}

    async def digest_of(self, body: PartBody) -> bytes:
        """The checksum of the whole upload's data, *body* (bytes, or the file's producer)."""
        if self.file_digest is not None:
            return await self.file_digest()
        if not isinstance(body, bytes):
            raise TypeError("a stream is uploaded from bytes only")
        digests = await run_blocking(self.driver.reactor, digests_of, body, {self.algorithm})
        digest = digests.get(self.algorithm)
        assert digest is not None
        return digest

    async def put(
        self,
        body: PartBody,
        size: int,
        digest: bytes,
        resource: dict[str, Any] | None = None,
        acl: bool = True,
    ) -> dict[str, Any]:
        """
        Store an object with one request (``uploadType=multipart``).

        :param digest: the data's checksum, sent for Cloud Storage to check.
        :param resource: the object resource; this upload's by default.
        :param acl: apply the upload's ACL (not to temporary objects).
        :returns: the stored object's resource.
        """
        resource = self.with_digest(self.resource if resource is None else resource, digest)
        boundary = secrets.token_hex(16)
        prefix = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps(resource)}\r\n--{boundary}\r\n"
            f"Content-Type: {resource.get('contentType', 'application/octet-stream')}\r\n\r\n"
        ).encode()
        suffix = f"\r\n--{boundary}--\r\n".encode("ascii")
        params = self.params("multipart") if acl else [("uploadType", "multipart")]
        response = await self.driver._send(
            "POST",
            self.driver._upload_url(self.container.name),
            params=params,
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
            body=reframe(body, prefix=prefix, suffix=suffix),
            # Storing the same data again under the same name is harmless.
            idempotent=True,
        )
        stored: dict[str, Any] = await response.json()
        check_stored(stored, resource["name"], size)
        return stored

    async def put_whole(
        self, body: PartBody, size: int, md5: bytes | MD5Later | None, crc32: int | None
    ) -> Object:
        """Store the whole object with one request, with its checksum, and check it."""
        sent = await self.digest_of(body)
        stored = await self.put(body, size, sent)
        obj = object_from_resource(stored, self.container)
        await self.check_digest(obj, sent)
        return obj

    async def check_digest(self, obj: Object, sent: bytes, what: str = "") -> None:
        """
        Compare the checksum Cloud Storage reports for *obj* with *sent*, the
        data's; a mismatching object is deleted and ``ObjectHashMismatchError``
        raised.
        """
        stored = stored_digest(obj, self.algorithm)
        if not self.verify_hash or stored is None or stored == sent:
            return
        await self.delete_quietly(obj.name)
        raise ObjectHashMismatchError(
            f"Cloud Storage stored {what}{obj.name!r} with {self.algorithm} {stored.hex()} "
            f"but the data's is {sent.hex()}",
            self.driver,
            object_name=self.name,
        )

    async def delete_quietly(self, name: str) -> None:
        """Delete object *name* of the upload's bucket, if it exists."""
        await delete_if_present(self.driver, self.container.name, name)


async def delete_if_present(driver: GoogleStorageDriver, bucket: str, name: str) -> None:
    """Delete object *name* of *bucket*; one that does not exist is no error."""
    try:
        response = await driver._send("DELETE", driver._object_url(bucket, name))
        await response.content()
    except ObjectDoesNotExistError:
        pass


def stored_digest(obj: Object, algorithm: str) -> bytes | None:
    """The MD5 or CRC32C Cloud Storage reports for *obj*, if it has one."""
    if algorithm == MD5:
        md5 = obj.extra.get("md5")
        return None if md5 is None else bytes.fromhex(md5)
    crc32c = obj.extra.get("crc32c")
    return None if not crc32c else base64.b64decode(crc32c)


def _combined_crc32c(parts: Sequence[UploadedPart]) -> bytes:
    """The CRC32C of the parts' data joined in order, from their own CRC32Cs."""
    combined = 0
    for part in parts:
        digest = part.digests.crc32c
        assert digest is not None
        combined = crc32c_combine(combined, int.from_bytes(digest, "big"), part.size)
    return combined.to_bytes(4, "big")


def check_stored(stored: Any, name: str, size: int) -> None:
    """
    Check the resource an upload answered with.

    :raises MalformedResponseError: if it names another object or another size.
    """
    if not isinstance(stored, dict) or stored.get("name") != name:
        raise MalformedResponseError(f"the upload of {name!r} answered for another object")
    if str(stored.get("size")) != str(size):
        raise MalformedResponseError(
            f"Cloud Storage stored {stored.get('size')} bytes of {name!r}, not {size}"
        )


class CompositeUpload(ObjectUploader):
    """
    A parallel composite upload, as a
    :class:`~txcloud.storage.transfer.multipart.MultipartTarget`.

    :param concurrency: requests at once while composing and cleaning up.

    Other parameters are :class:`ObjectUploader`'s.
    """

    min_part_size = 256 * 1024
    max_part_size = MAX_OBJECT_SIZE
    max_parts = MAX_COMPONENTS

    def __init__(self, *args: Any, concurrency: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each part is sent with its checksum, which the engine computes.
        self.part_checksums = frozenset({self.algorithm})
        self._concurrency = concurrency
        self._prefix = ""
        self._temporaries: list[str] = []

    def _part_name(self, number: int) -> str:
        return f"{self._prefix}{number:05d}"

    async def start(self) -> str:
        upload_id = secrets.token_hex(8)
        self._prefix = f"{TEMPORARY_PREFIX}{upload_id}/"
        return upload_id

    async def upload_part(
        self, upload_id: str, number: int, body: PartBody, size: int, digests: PartDigests
    ) -> str:
        name = self._part_name(number)
        digest = digests.get(self.algorithm)
        if digest is None:
            raise ValueError(f"part {number} comes without its {self.algorithm}")
        # Recorded first: a part being stored when the upload fails is deleted too.
        self._temporaries.append(name)
        stored = await self.put(body, size, digest, self._temporary(name), acl=False)
        part = object_from_resource(stored, self.container)
        await self.check_digest(part, digest, f"part {number} of ")
        generation = stored.get("generation")
        if not generation:
            raise MalformedResponseError(f"part {number} was stored without a generation")
        return str(generation)

    def _temporary(self, name: str) -> dict[str, Any]:
        return {"name": name, "contentType": "application/octet-stream"}

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Object:
        sources = [(self._part_name(part.number), part.token) for part in parts]
        level = 0
        while len(sources) > MAX_COMPOSE_SOURCES:
            sources = await self._compose_level(sources, level)
            level += 1
        destination = {k: v for k, v in self.resource.items() if k != "name"}
        stored = await self._compose(self.name, sources, destination, self.acl)
        check_stored(stored, self.name, sum(part.size for part in parts))
        await self._delete_temporaries()
        obj = object_from_resource(stored, self.container)
        if self.algorithm == CRC32C:
            # Off the reactor thread: each combination costs about 0.1 ms.
            combined = await run_blocking(self.driver.reactor, _combined_crc32c, parts)
            await self.check_digest(obj, combined)
        return obj

    async def _compose_level(
        self, sources: list[tuple[str, str]], level: int
    ) -> list[tuple[str, str]]:
        """Join *sources* 32 at a time into intermediate objects, in parallel."""
        groups = [
            sources[i : i + MAX_COMPOSE_SOURCES]
            for i in range(0, len(sources), MAX_COMPOSE_SOURCES)
        ]

        async def join(key: int, group: list[tuple[str, str]]) -> tuple[str, str]:
            if len(group) == 1:
                return group[0]
            name = f"{self._prefix}compose-{level}-{key:04d}"
            self._temporaries.append(name)
            stored = await self._compose(name, group, self._temporary(name), None)
            return name, str(stored.get("generation"))

        fanout: BoundedFanout[tuple[str, str]] = BoundedFanout(self._concurrency)
        try:
            for key, group in enumerate(groups):
                await fanout.reserve()
                fanout.start(key, join(key, group))
            return await fanout.results()
        except Exception:
            await fanout.cancel()
            raise

    async def _compose(
        self,
        name: str,
        sources: list[tuple[str, str]],
        destination: dict[str, Any],
        acl: str | None,
    ) -> dict[str, Any]:
        body = {
            "kind": "storage#composeRequest",
            "sourceObjects": [
                {"name": source, "generation": generation} for source, generation in sources
            ],
            "destination": destination,
        }
        url = self.driver._object_url(self.container.name, name) + "/compose"
        params = [("destinationPredefinedAcl", acl)] if acl else None
        # Composing the same generations again gives the same object.
        response = await self.driver._send_json("POST", url, body, params=params, idempotent=True)
        stored: dict[str, Any] = await response.json()
        return stored

    async def abort(self, upload_id: str) -> None:
        await self._delete_temporaries()

    async def _delete_temporaries(self) -> None:
        names, self._temporaries = self._temporaries, []
        limit = DeferredSemaphore(self._concurrency)
        results = await DeferredList(
            [
                limit.run(lambda n: Deferred.fromCoroutine(self.delete_quietly(n)), name)
                for name in names
            ],
            consumeErrors=True,
        )
        for (ok, failure), name in zip(results, names, strict=True):
            if not ok and failure is not None:
                log.warn(
                    "Could not delete temporary object {name} of a composite upload: {error}",
                    name=name,
                    error=str(failure.value),
                )
