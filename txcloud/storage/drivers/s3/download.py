"""
How the S3 driver checks a download: which checksum S3 keeps for an object
(asked with a ``HEAD``), as the :class:`~txcloud.storage.transfer.digest.ExpectedDigest`
the transfer engine computes and compares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from txcloud.storage.base import Object
from txcloud.storage.drivers.s3.parse import crc32_checksum, encryption_hides_md5
from txcloud.storage.transfer.config import MiB
from txcloud.storage.transfer.digest import ExpectedDigest, parse_etag

if TYPE_CHECKING:
    from txcloud.storage.drivers.s3.driver import S3StorageDriver

__all__ = ["expected_digest"]

# Objects at least this big are checked with the CRC32 checksum S3 keeps,
# which a HEAD asks for; smaller ones with their MD5 ETag, without a request.
_CHECKSUM_LOOKUP_MIN = 8 * MiB


async def expected_digest(driver: S3StorageDriver, obj: Object) -> ExpectedDigest | None:
    """
    What *obj*'s content must hash to.

    Large objects are checked with the CRC32 checksum S3 keeps for them when
    there is one (a ``HEAD`` asks), as CRC32 costs a fraction of MD5;
    otherwise, and small objects, with the ETag when it is the MD5 of the
    content or a multipart ETag whose part size S3 reports (``HEAD`` of part
    1).  KMS- and customer-key-encrypted objects have no usable ETag.

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
    part_size = None
    if multipart:
        # Every part but the last has the size of part 1.
        part = await driver._send("HEAD", url, params={"partNumber": "1"})
        await part.content()
        length = part.headers.get("Content-Length", "")
        part_size = int(length) if length.isdigit() and int(length) else None
    crc32 = crc32_checksum(headers, multipart, part_size, parsed[1] if parsed else 1)
    if crc32 is not None:
        return crc32
    if parsed is None or encryption_hides_md5(headers):
        return None
    if not multipart:
        return ExpectedDigest.md5(parsed[0])
    if part_size is None:
        return None
    return ExpectedDigest.multipart_etag(parsed[0], part_size, parsed[1])
