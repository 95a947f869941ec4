"""
What the S3 fake keeps: buckets, objects (with their ETags and checksums,
as S3 computes them) and multipart uploads in progress.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import formatdate

import attrs
import google_crc32c

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "STORAGE_CLASSES",
    "FakeBucket",
    "FakeObject",
    "FakePart",
    "FakeUpload",
    "ObjectFields",
    "bucket_name_problem",
    "crc_of",
    "http_date",
    "iso_time",
    "md5_hex",
]

#: The storage classes S3 accepts on upload.
STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "GLACIER_IR",
    }
)

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def md5_hex(data: bytes) -> str:
    """The MD5 hex digest of *data* (an S3 ETag, without quotes)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


#: The checksum algorithms the fake computes (S3's names).
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C")


def crc_of(data: bytes, algorithm: str) -> bytes:
    """
    The CRC32 or CRC32C (*algorithm*) of *data*, 4 bytes big-endian (as S3
    checksums carry it).
    """
    value = zlib.crc32(data) if algorithm == "CRC32" else google_crc32c.value(data)
    return int(value).to_bytes(4, "big")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def iso_time(seconds: float) -> str:
    """A POSIX time as S3's listings write it: ``2024-05-01T12:30:00.000Z``."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(seconds: float) -> str:
    """A POSIX time as an HTTP date (``Last-Modified``)."""
    return formatdate(seconds, usegmt=True)


def bucket_name_problem(name: str) -> str | None:
    """What S3's rules for new bucket names say against *name*, or ``None``."""
    if not _BUCKET.fullmatch(name):
        return "3 to 63 lower case letters, digits, dots and hyphens, around a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "no two adjacent periods, nor a period next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "not formatted as an IP address"


@attrs.frozen
class ObjectFields:
    """What an object is stored with, besides its data (see :class:`FakeObject`)."""

    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    storage_class: str = "STANDARD"


@attrs.define
class FakeObject:
    """
    One stored object.

    :ivar key: its key.
    :ivar data: its bytes.
    :ivar etag: its ETag without quotes: the MD5 of the data, or for an
        object assembled from parts the MD5 of their digests and ``-N``.
    :ivar last_modified: when it was stored (POSIX time).
    :ivar content_type: its ``Content-Type``.
    :ivar metadata: its user metadata (``x-amz-meta-*``, names in lower case).
    :ivar headers: the other headers it was stored with (``Content-Encoding``,
        ``Cache-Control``, ``Content-Disposition``, ``Content-Language``).
    :ivar storage_class: its storage class.
    :ivar checksum: the checksum S3 keeps, as ``x-amz-checksum-crc32`` (or
        ``-crc32c``) shows it (``-N`` for a composite one), if it was
        uploaded with one.
    :ivar checksum_algorithm: ``CRC32`` or ``CRC32C``, with a checksum.
    :ivar part_sizes: the sizes of its parts, for an object assembled from parts.
    """

    key: str
    data: bytes
    etag: str
    last_modified: float
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    storage_class: str = "STANDARD"
    checksum: str | None = None
    checksum_algorithm: str | None = None
    part_sizes: list[int] = attrs.field(factory=list)

    @property
    def size(self) -> int:
        """The object's length in bytes."""
        return len(self.data)

    @property
    def checksum_type(self) -> str | None:
        """``FULL_OBJECT`` or ``COMPOSITE`` when it has a checksum."""
        if self.checksum is None:
            return None
        return "COMPOSITE" if "-" in self.checksum else "FULL_OBJECT"

    def part_range(self, number: int) -> tuple[int, int] | None:
        """``(start, end)`` of part *number* (the whole object is part 1 of 1), or ``None``."""
        sizes = self.part_sizes or [self.size]
        if not 1 <= number <= len(sizes):
            return None
        start = sum(sizes[: number - 1])
        return start, start + sizes[number - 1]

    @classmethod
    def whole(
        cls,
        key: str,
        data: bytes,
        when: float,
        fields: ObjectFields,
        algorithm: str | None = "CRC32",
    ) -> FakeObject:
        """An object stored with one PUT (with its checksum of *algorithm*, if any)."""
        checksum = None if algorithm is None else _b64(crc_of(data, algorithm))
        return cls._with(fields, key, data, md5_hex(data), when, (checksum, algorithm), [])

    @classmethod
    def assembled(
        cls,
        key: str,
        parts: Sequence[FakePart],
        when: float,
        fields: ObjectFields,
        algorithm: str | None,
        full_object: bool = False,
    ) -> FakeObject:
        """
        An object assembled from *parts*, with S3's multipart ETag and, with
        an *algorithm*, its checksum: of the whole data (*full_object*) or
        of the parts' checksums (composite).
        """
        digests = b"".join(bytes.fromhex(part.etag) for part in parts)
        etag = f"{md5_hex(digests)}-{len(parts)}"
        data = b"".join(part.data for part in parts)
        checksum = None
        if algorithm is not None and full_object:
            checksum = _b64(crc_of(data, algorithm))
        elif algorithm is not None:
            combined = crc_of(b"".join(crc_of(part.data, algorithm) for part in parts), algorithm)
            checksum = f"{_b64(combined)}-{len(parts)}"
        sizes = [len(part.data) for part in parts]
        return cls._with(fields, key, data, etag, when, (checksum, algorithm), sizes)

    @classmethod
    def _with(
        cls,
        fields: ObjectFields,
        key: str,
        data: bytes,
        etag: str,
        when: float,
        checksum: tuple[str | None, str | None],
        sizes: list[int],
    ) -> FakeObject:
        return cls(
            key,
            data,
            etag,
            when,
            content_type=fields.content_type,
            metadata=dict(fields.metadata),
            headers=dict(fields.headers),
            storage_class=fields.storage_class,
            checksum=checksum[0],
            checksum_algorithm=checksum[1] if checksum[0] is not None else None,
            part_sizes=sizes,
        )


@attrs.define
class FakePart:
    """One uploaded part: its bytes and ETag (MD5, without quotes)."""

    data: bytes
    etag: str
    last_modified: float


@attrs.define
class FakeUpload:
    """
    A multipart upload in progress.

    :ivar upload_id: its id.
    :ivar key: the key of the object it will make.
    :ivar initiated: when it began.
    :ivar fields: what the object will be stored with (content type, metadata...).
    :ivar checksum_algorithm: ``CRC32`` or ``CRC32C`` when parts carry such
        checksums (``x-amz-checksum-algorithm``).
    :ivar full_object: whether the object keeps the checksum of its whole
        data (``x-amz-checksum-type: FULL_OBJECT``) rather than of its
        parts' checksums.
    :ivar parts: the parts uploaded so far, by number.
    """

    upload_id: str
    key: str
    initiated: float
    fields: ObjectFields
    checksum_algorithm: str | None = None
    full_object: bool = False
    parts: dict[int, FakePart] = attrs.field(factory=dict)


@attrs.define
class FakeBucket:
    """
    One bucket.

    :ivar name: its name.
    :ivar region: the region it is in.
    :ivar created: when it was created.
    :ivar objects: its objects by key.
    :ivar uploads: its multipart uploads in progress, by upload id.
    """

    name: str
    region: str
    created: float
    objects: dict[str, FakeObject] = attrs.field(factory=dict)
    uploads: dict[str, FakeUpload] = attrs.field(factory=dict)
