"""
How the S3 driver checks a download: which checksum S3 keeps for an object
(asked with a ``HEAD``), as the :class:`~txcloud.storage.transfer.digest.ExpectedDigest`
the transfer engine computes and compares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from txcloud.storage.base import Object
from txcloud.storage.drivers.s3.parse import encryption_hides_md5, stored_checksum
from txcloud.storage.transfer.config import MiB
from txcloud.storage.transfer.digest import (
    CRC32,
    CRC32C,
    ExpectedDigest,
    crc32c_available,
    parse_etag,
)

if TYPE_CHECKING:
    from txcloud.storage.drivers.s3.driver import S3StorageDriver

__all__ = ["expected_digest"]

# Objects at least this big are checked with the CRC checksum S3 keeps,
# which a HEAD asks for; smaller ones with their MD5 ETag, without a request.
_CHECKSUM_LOOKUP_MIN = 8 * MiB


async def expected_digest(driver: S3StorageDriver, obj: Object) -> ExpectedDigest | None:
    """
    What *obj*'s content must hash to.

    Large objects are checked with the CRC32C or CRC32 checksum S3 keeps for
    them when there is one (a ``HEAD`` asks), as a CRC costs a fraction of
    MD5 (CRC32C only where ``google-crc32c``'s C extension computes it);
    otherwise, and small objects, with the ETag when it is the MD5 of the
    content.  The part size of a multipart object (``HEAD`` of part 1) is
    asked only when a composite checksum or a multipart ETag needs it.
    KMS- and customer-key-encrypted objects have no usable ETag.

    :param driver: the driver to send the ``HEAD`` requests with.
    :param obj: the object about to be downloaded.
    :returns: the digest to check, or ``None`` when nothing can be checked.
    """
    parsed = parse_etag(obj.hash)
    multipart = parsed is not None and parsed[1] > 0
    known_md5 = parsed is not None and not multipart and obj.extra.get("hash_is_md5")
    if known_md5 and obj.size < _CHECKSUM_LOOKUP_MIN:
        assert parsed is not None
        return ExpectedDigest.md5(parsed[0])
    url = driver._object_url(obj.container.name, obj.name)
    response = await driver._send("HEAD", url, headers={"x-amz-checksum-mode": "ENABLED"})
    await response.content()
    headers = response.headers
    parts = parsed[1] if parsed else 1
    algorithms = (CRC32C, CRC32) if crc32c_available() else (CRC32,)
    checksum = stored_checksum(headers, multipart, None, parts, algorithms)
    if checksum is not None:
        return checksum
    part_size = None
    if multipart:
        # Every part but the last has the size of part 1.
        part = await driver._send("HEAD", url, params={"partNumber": "1"})
        await part.content()
        length = part.headers.get("Content-Length", "")
        part_size = int(length) if length.isdigit() and int(length) else None
        checksum = stored_checksum(headers, multipart, part_size, parts, algorithms)
        if checksum is not None:
            return checksum
    if parsed is None or encryption_hides_md5(headers):
        return None
    if not multipart:
        return ExpectedDigest.md5(parsed[0])
    if part_size is None:
        return None
    return ExpectedDigest.multipart_etag(parsed[0], part_size, parsed[1])
