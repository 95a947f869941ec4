"""
S3's side of the transfer engine (:mod:`txcloud.storage.transfer.multipart`):
PutObject for small uploads, and CreateMultipartUpload, UploadPart,
CompleteMultipartUpload and AbortMultipartUpload for large ones.

Every request carries the CRC32C of its bytes (``x-amz-checksum-crc32c``),
which S3 checks before it stores anything (``BadDigest`` otherwise) and
keeps, so downloads are checked against it; the checksum S3 reports back is
compared too.  A multipart upload asks for a ``FULL_OBJECT`` checksum: S3
keeps the CRC32C of the whole object (not of the parts' checksums), which the
client joins from the parts' CRC32Cs and sends with the completion for S3 to
check, and which a download then checks in one pass without knowing the part
size.  Where ``google-crc32c``'s C extension is missing, CRC32s go instead,
and a multipart object keeps S3's default composite checksum.  No MD5 is
computed: it would cost the client several times the CRC for a check S3
already makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree

from txcloud.auth.aws.sigv4 import UNSIGNED_PAYLOAD
from txcloud.errors import MalformedResponseError, ObjectHashMismatchError
from txcloud.http import ErrorResponse, HeaderMap, Response, findtext_local, local_name
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.s3.parse import (
    complete_multipart_xml,
    encryption_hides_md5,
    object_from_headers,
)
from txcloud.storage.transfer.config import MiB
from txcloud.storage.transfer.digest import (
    CRC32,
    CRC32C,
    MD5,
    PartDigests,
    base64_digest,
    base64_md5,
    crc32_base64,
    crc32c_available,
    crc32c_combine,
    digests_of,
    digests_of_file_range,
    multipart_etag,
)
from txcloud.storage.transfer.files import run_blocking
from txcloud.storage.transfer.multipart import MD5Later, PartBody, UploadedPart

if TYPE_CHECKING:
    from txcloud.storage.drivers.s3.driver import S3StorageDriver

__all__ = ["S3ObjectUpload"]


class S3ObjectUpload:
    """
    One upload of *key* into *container*, as a
    :class:`~txcloud.storage.transfer.multipart.MultipartTarget`.

    :param driver: the S3 driver sending the requests.
    :param container: the bucket.
    :param key: the object's key.
    :param headers: headers of the new object (content type, metadata, ACL...).
    :param verify_hash: compare the checksums S3 reports with the ones sent;
        a mismatching object is deleted and ``ObjectHashMismatchError`` raised.
    :param file_path: the file uploaded, or ``None`` for a stream.
    """

    min_part_size = 5 * MiB
    max_part_size = 5 * 1024 * MiB
    max_parts = 10_000
    needs_md5 = False
    #: CRC32C, or CRC32 where it would be slow or MD5s are needed; set per instance.
    checksum_algorithm: str
    #: What the engine computes for each part: the checksum S3 is sent, and
    #: the MD5 too for stores that need it; set per instance.
    part_checksums: frozenset[str]

    def __init__(
        self,
        driver: S3StorageDriver,
        container: Container,
        key: str,
        headers: dict[str, str],
        verify_hash: bool,
        file_path: str | None = None,
    ) -> None:
        self._driver = driver
        self._file_path = file_path
        self._container = container
        self._key = key
        self._headers = headers
        self._verify_hash = verify_hash
        self._url = driver._object_url(container.name, key)
        # The engine computes MD5s only beside CRC32s (for stores speaking S3
        # that need them).
        fast = crc32c_available() and not self.needs_md5
        self.checksum_algorithm = CRC32C if fast else CRC32
        self.part_checksums = frozenset(
            {self.checksum_algorithm, MD5} if self.needs_md5 else {self.checksum_algorithm}
        )
        # The header S3 reads the checksum from, and the name it gives it in XML.
        self._checksum_header = f"x-amz-checksum-{self.checksum_algorithm}"
        self._checksum_element = f"Checksum{self.checksum_algorithm.upper()}"

    async def _send(self, method: str, **kwargs: Any) -> Response:
        return await self._driver._send(method, self._url, **kwargs)

    async def put_whole(
        self, body: PartBody, size: int, md5: bytes | MD5Later | None, crc32: int | None
    ) -> Object:
        # S3 checks the CRC and keeps it, so downloads can check it cheaply.
        checksum = await self._whole_checksum(body, size, crc32)
        headers = {
            **self._headers,
            "x-amz-sdk-checksum-algorithm": self.checksum_algorithm.upper(),
            self._checksum_header: checksum,
        }
        if isinstance(md5, bytes):
            headers["Content-MD5"] = base64_md5(md5)
        response = await self._send(
            "PUT", headers=headers, body=body, payload_hash=UNSIGNED_PAYLOAD
        )
        await response.content()
        obj = object_from_headers(self._key, response.headers, self._container, size)
        self._fill_from_request(obj)
        sent = md5 if md5 is None or isinstance(md5, bytes) else await md5()
        await self._check(response.headers, sent, checksum, obj)
        return obj

    async def _whole_checksum(self, body: PartBody, size: int, crc32: int | None) -> str:
        """The checksum of a single upload's data, *body*: the engine's CRC32, or its CRC32C."""
        if self.checksum_algorithm == CRC32:
            if crc32 is None:
                raise ValueError("the engine did not compute the CRC32 of the data")
            return crc32_base64(crc32)
        reactor = self._driver.reactor
        if isinstance(body, bytes):
            digests = await run_blocking(reactor, digests_of, body, {CRC32C})
        elif self._file_path is not None:
            path = self._file_path
            digests = await run_blocking(reactor, digests_of_file_range, path, 0, size, {CRC32C})
        else:
            raise TypeError("a stream is uploaded from bytes only")
        return self._part_checksum(digests)

    def _part_checksum(self, digests: PartDigests) -> str:
        """The checksum of *digests* S3 is sent, in base64."""
        if self.checksum_algorithm == CRC32:
            return digests.crc32_base64
        if digests.crc32c is None:
            raise ValueError("the engine did not compute the CRC32C of the data")
        return base64_digest(digests.crc32c)

    @property
    def _full_object(self) -> bool:
        # S3 keeps the CRC of the whole object when asked; its CRC32 cannot
        # be joined from the parts' ones here (only CRC32C's can), so a
        # multipart upload checksummed with CRC32 keeps S3's default.
        return self.checksum_algorithm == CRC32C

    async def start(self) -> str:
        # Parts then carry CRCs that S3 checks; it keeps the whole object's.
        headers = {**self._headers, "x-amz-checksum-algorithm": self.checksum_algorithm.upper()}
        if self._full_object:
            headers["x-amz-checksum-type"] = "FULL_OBJECT"
        response = await self._send("POST", params={"uploads": ""}, headers=headers)
        root = await response.xml()
        upload_id = findtext_local(root, "UploadId")
        if not upload_id:
            raise MalformedResponseError("CreateMultipartUpload answered without an UploadId")
        return upload_id

    async def upload_part(
        self, upload_id: str, number: int, body: PartBody, size: int, digests: PartDigests
    ) -> str:
        headers = {self._checksum_header: self._part_checksum(digests)}
        if digests.md5 is not None:
            headers["Content-MD5"] = base64_md5(digests.md5)
        response = await self._send(
            "PUT",
            params={"partNumber": str(number), "uploadId": upload_id},
            headers=headers,
            body=body,
            payload_hash=UNSIGNED_PAYLOAD,
        )
        await response.content()
        etag = response.headers.get("ETag")
        if not etag:
            raise MalformedResponseError(f"UploadPart {number} answered without an ETag")
        await self._check(
            response.headers,
            digests.md5,
            headers[self._checksum_header],
            None,
            f"part {number} of ",
        )
        return etag

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Object:
        body = complete_multipart_xml(
            ((part.number, part.token, self._part_checksum(part.digests)) for part in parts),
            self._checksum_element,
        )
        checksum = None
        headers = {}
        if self._full_object:
            # S3 checks the whole object's CRC32C, joined from the parts' ones.
            checksum = base64_digest(self._whole_crc32c(parts).to_bytes(4, "big"))
            headers = {"x-amz-checksum-type": "FULL_OBJECT", self._checksum_header: checksum}
        # Completing twice is harmless, so a failed attempt may be retried.
        response = await self._send(
            "POST", params={"uploadId": upload_id}, headers=headers, body=body, idempotent=True
        )
        root = await response.xml()
        if local_name(root) == "Error":
            # S3 may fail a completion after answering 200.
            raise self._driver._map_error(self._error_in_body(response, root))
        etag = findtext_local(root, "ETag")
        headers_seen = response.headers.replace({"ETag": etag or ""})
        size = sum(p.size for p in parts)
        obj = object_from_headers(self._key, headers_seen, self._container, size)
        self._fill_from_request(obj)
        # Each part's CRC was checked by S3 as it came, and the completion
        # lists them: S3 refuses parts that differ.  The checksum S3 reports
        # for the object (emulators may report none) must be the one sent.
        reported = findtext_local(root, self._checksum_element)
        if self._verify_hash and checksum and reported and reported != checksum:
            await self._mismatch(
                obj, f"S3 stored {self._key!r} with checksum {reported} but sent {checksum}"
            )
        # The multipart ETag can be checked only when the parts' MD5s were computed.
        md5s = [part.md5 for part in parts]
        if all(md5 is not None for md5 in md5s):
            expected = multipart_etag([md5 for md5 in md5s if md5 is not None])
            await self._check_etag(response.headers, expected, obj)
        return obj

    def _whole_crc32c(self, parts: Sequence[UploadedPart]) -> int:
        """The CRC32C of the whole object, joined from the parts' ones."""
        whole = 0
        for part in parts:
            crc32c = part.digests.crc32c
            if crc32c is None:
                raise ValueError(f"the engine did not compute the CRC32C of part {part.number}")
            whole = crc32c_combine(whole, int.from_bytes(crc32c, "big"), part.size)
        return whole

    async def abort(self, upload_id: str) -> None:
        response = await self._send("DELETE", params={"uploadId": upload_id})
        await response.content()

    def _fill_from_request(self, obj: Object) -> None:
        # An upload's response does not repeat what the request set.
        for name, value in self._headers.items():
            lowered = name.lower()
            if lowered.startswith("x-amz-meta-"):
                obj.meta_data[lowered[len("x-amz-meta-") :]] = value
            elif lowered == "content-type":
                obj.extra["content_type"] = value
            elif lowered == "content-encoding":
                obj.extra["content_encoding"] = value

    async def _check(
        self,
        headers: HeaderMap,
        md5: bytes | None,
        checksum: str,
        obj: Object | None,
        what: str = "",
    ) -> None:
        """Compare what S3 reports storing with the MD5 (when known) and CRC sent."""
        if md5 is not None:
            await self._check_etag(headers, md5.hex(), obj, what)
        reported = headers.get(self._checksum_header)
        if self._verify_hash and reported is not None and reported != checksum:
            await self._mismatch(
                obj,
                f"S3 stored {what}{self._key!r} with {self.checksum_algorithm.upper()} "
                f"{reported} but sent {checksum}",
            )

    async def _check_etag(
        self, headers: HeaderMap, expected: str, obj: Object | None, what: str = ""
    ) -> None:
        opaque = encryption_hides_md5(headers)
        etag = (obj.hash if obj is not None else headers.get("ETag", "")) or ""
        if not self._verify_hash or opaque or etag.strip('"').lower() == expected:
            return
        await self._mismatch(
            obj, f"S3 stored {what}{self._key!r} with ETag {etag} but the data's MD5 is {expected}"
        )

    async def _mismatch(self, obj: Object | None, message: str) -> None:
        if obj is not None:
            # Like Libcloud: a stored object that does not match is removed.
            await self._driver.delete_object(obj)
        raise ObjectHashMismatchError(message, self._driver, object_name=self._key)

    def _error_in_body(self, response: Response, root: etree._Element) -> ErrorResponse:
        # S3 documents these as server errors to retry, whatever the status.
        return ErrorResponse(
            status=500,
            reason="Internal Server Error (in a 200 response)",
            headers=response.headers,
            body=etree.tostring(root),
            request=response.request,
            driver=self._driver.name,
        )
