"""
Azure's side of the transfer engine (:mod:`txcloud.storage.transfer.multipart`):
Put Blob for small uploads (with its ``Content-MD5``, which Azure checks and
keeps); Put Block and Put Block List for large ones.

A block carries its MD5 (``Content-MD5``, a transactional check of that
request) only when asked to: TLS protects HTTPS bodies in transit, and MD5
costs about 1.4 CPU seconds per GB.  Azure keeps no MD5 for a blob
committed from blocks unless the commit gives one
(``x-ms-blob-content-md5``, not checked), so the MD5 of the whole content
is computed on the side, in order, in large blocks in the thread pool: for
a file, by reading it once more while its blocks go out (:class:`FileMD5`);
for a stream, by hashing its chunks as the engine reads them
(:class:`StreamMD5`).  Downloads then check against it.  Azure's CRC64
(``x-ms-content-crc64``) is not used: it has its own polynomial, with no
fast implementation to compute it here, and Azurite does not check it.

Azure has no request that drops uncommitted blocks: an upload that fails
commits nothing (no blob appears, and an existing one is left untouched),
and Azure discards the blocks it received within a week.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet.defer import Deferred

from txcloud.errors import ObjectHashMismatchError
from txcloud.http import HeaderMap, Response
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.azure_blobs.parse import (
    META_PREFIX,
    block_id,
    block_list_xml,
    md5_hex,
    object_from_headers,
)
from txcloud.storage.transfer.config import MiB
from txcloud.storage.transfer.digest import MD5, PartDigests, base64_md5, needed_md5, new_md5
from txcloud.storage.transfer.fanout import SerialLane
from txcloud.storage.transfer.files import closing_iterator, run_blocking, stat_and_md5
from txcloud.storage.transfer.multipart import MD5Later, PartBody, UploadedPart

if TYPE_CHECKING:
    from txcloud.storage.drivers.azure_blobs.driver import AzureBlobsStorageDriver

__all__ = ["AzureBlockBlobUpload", "FileMD5", "StreamMD5", "WholeMD5"]

# Bytes of a stream hashed by one thread-pool call, and calls queued at once.
_HASH_BATCH = 1 * MiB
_HASH_DEPTH = 4


class WholeMD5(Protocol):
    """Computes the MD5 digest of an upload's whole content on the side."""

    def begin(self) -> None:
        """Start hashing (called when the upload goes in blocks)."""

    def digest(self) -> Deferred[bytes]:
        """Fire with the digest once all the content is hashed."""


def _md5_of_file(path: str) -> bytes:
    return bytes.fromhex(stat_and_md5(path)[1])


class FileMD5:
    """
    The MD5 digest of a file, computed in the thread pool from the moment
    :meth:`begin` is called (while the file's blocks are uploaded).
    """

    def __init__(self, reactor: Any, path: str) -> None:
        self._reactor = reactor
        self._path = path
        self._hashing: Deferred[bytes] | None = None

    def begin(self) -> None:
        if self._hashing is None:
            self._hashing = run_blocking(self._reactor, _md5_of_file, self._path)

    def digest(self) -> Deferred[bytes]:
        self.begin()
        assert self._hashing is not None
        return self._hashing


def _update(digest: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digest.update(chunk)


class StreamMD5:
    """
    The MD5 digest of a stream, hashed in order in the thread pool as
    :meth:`wrap`'s iterator is read; reading waits while a few batches are
    queued, so memory stays bounded.
    """

    def __init__(self, reactor: Any) -> None:
        self._digest = new_md5()
        self._lane = SerialLane(reactor, _HASH_DEPTH)
        self._batch: list[bytes] = []
        self._batched = 0

    async def wrap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Yield the chunks of *chunks*, hashing them on the way."""
        async with closing_iterator(chunks) as source:
            async for chunk in source:
                self._batch.append(chunk)
                self._batched += len(chunk)
                if self._batched >= _HASH_BATCH:
                    await self._flush()
                yield chunk
        await self._flush()

    async def _flush(self) -> None:
        batch, self._batch, self._batched = self._batch, [], 0
        if batch:
            await self._lane.submit(_update, self._digest, batch)

    def begin(self) -> None:
        """Nothing to start: the chunks are hashed as they are read."""

    def digest(self) -> Deferred[bytes]:
        return Deferred.fromCoroutine(self._finish())

    async def _finish(self) -> bytes:
        await self._flush()
        await self._lane.settle()
        self._lane.raise_failure()
        raw: bytes = self._digest.digest()
        return raw


class AzureBlockBlobUpload:
    """
    One upload of block blob *name* into *container*, as a
    :class:`~txcloud.storage.transfer.multipart.MultipartTarget`.

    :param driver: the Azure driver sending the requests.
    :param container: the container.
    :param name: the blob's name.
    :param headers: the blob's property and metadata headers.
    :param verify_hash: send a single Put Blob with its MD5 (or, sent
        without one, compare the MD5 Azure computed with the data's; a
        mismatching blob is deleted and ``ObjectHashMismatchError`` raised).
        (Blobs and blocks sent with ``Content-MD5`` are checked by Azure
        itself.)
    :param whole_md5: computes the MD5 of the whole content for a blob
        committed from blocks; ``None``: the blob gets no MD5.
    :param transactional_md5: send each block with its ``Content-MD5``.
    """

    # Azure has no minimum block size; a block may hold up to 4000 MiB, a
    # blob 50,000 blocks.
    min_part_size = 1
    max_part_size = 4000 * MiB
    max_parts = 50_000

    def __init__(
        self,
        driver: AzureBlobsStorageDriver,
        container: Container,
        name: str,
        headers: dict[str, str],
        verify_hash: bool,
        whole_md5: WholeMD5 | None,
        transactional_md5: bool = False,
    ) -> None:
        self._driver = driver
        self._container = container
        self._name = name
        self._headers = headers
        self._verify_hash = verify_hash
        self._whole_md5 = whole_md5
        self._url = driver._blob_url(container.name, name)
        # A single Put Blob: the MD5 Azure checks and keeps.
        self.needs_md5 = verify_hash or transactional_md5
        # Blocks: their MD5 only for Azure's transactional check.
        self.part_checksums = frozenset({MD5}) if transactional_md5 else frozenset()

    def hashed(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The chunks of a streamed upload, hashed on the way into its :class:`StreamMD5`."""
        if self._whole_md5 is None:
            return chunks
        assert isinstance(self._whole_md5, StreamMD5)
        return self._whole_md5.wrap(chunks)

    async def _send(self, method: str, **kwargs: Any) -> Response:
        return await self._driver._send(method, self._url, **kwargs)

    async def put_whole(
        self, body: PartBody, size: int, md5: bytes | MD5Later | None, crc32: int | None
    ) -> Object:
        headers = {**self._headers, "x-ms-blob-type": "BlockBlob", "Content-Length": str(size)}
        if isinstance(md5, bytes):
            # Azure refuses the blob (Md5Mismatch) if the data does not match.
            headers["Content-MD5"] = base64_md5(md5)
        response = await self._send("PUT", headers=headers, body=body)
        await response.content()
        stored = md5_hex(response.headers.get("Content-MD5"))
        if not self.needs_md5:
            # Azure computed the blob's MD5 itself; nothing of ours to compare.
            return self._object(
                response.headers, size, None if stored is None else bytes.fromhex(stored)
            )
        sent = needed_md5(md5 if md5 is None or isinstance(md5, bytes) else await md5())
        obj = self._object(response.headers, size, sent)
        if self._verify_hash and stored is not None and stored != sent.hex():
            # Like Libcloud: a stored blob that does not match is removed.
            await self._driver.delete_object(obj)
            raise ObjectHashMismatchError(
                f"Azure stored {self._name!r} with MD5 {stored} but the data's MD5 is {sent.hex()}",
                self._driver,
                object_name=self._name,
            )
        return obj

    async def start(self) -> str:
        if self._whole_md5 is not None:
            self._whole_md5.begin()
        # Block ids are made from this token, unique to the upload.
        return secrets.token_hex(12)

    async def upload_part(
        self, upload_id: str, number: int, body: PartBody, size: int, digests: PartDigests
    ) -> str:
        block = block_id(upload_id, number)
        headers = {"Content-Length": str(size)}
        if digests.md5 is not None:
            # Azure refuses the block if the data does not match.
            headers["Content-MD5"] = base64_md5(digests.md5)
        response = await self._send(
            "PUT", params=[("comp", "block"), ("blockid", block)], headers=headers, body=body
        )
        await response.content()
        return block

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Object:
        whole = None if self._whole_md5 is None else await self._whole_md5.digest()
        document = block_list_xml(part.token for part in parts)
        checksum = new_md5()
        checksum.update(document)
        headers = {**self._headers, "Content-MD5": base64_md5(checksum.digest())}
        if whole is not None:
            headers["x-ms-blob-content-md5"] = base64_md5(whole)
        response = await self._send(
            "PUT", params={"comp": "blocklist"}, headers=headers, body=document
        )
        await response.content()
        return self._object(response.headers, sum(part.size for part in parts), whole)

    async def abort(self, upload_id: str) -> None:
        # Nothing to send: see the module's documentation.
        return None

    def _object(self, headers: HeaderMap, size: int, md5: bytes | None) -> Object:
        obj = object_from_headers(self._name, headers, self._container, self._url, size)
        # An upload's response does not repeat what the request set.
        obj.extra["blob_type"] = "BlockBlob"
        obj.extra["md5_hash"] = None if md5 is None else md5.hex()
        for name, value in self._headers.items():
            if name.startswith(META_PREFIX):
                obj.meta_data[name[len(META_PREFIX) :]] = value
            elif name.startswith("x-ms-blob-"):
                obj.extra[name[len("x-ms-blob-") :].replace("-", "_")] = value
        return obj
