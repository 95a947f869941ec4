"""
Checksums of transferred data: MD5, CRC32 and CRC32C digests of files, byte
strings and parts, S3-style multipart ETags, and what a download is
expected to hash to.

The blocking functions here (``*_of_file*``, and hashing large byte strings)
are meant for the reactor's thread pool; hashlib releases the GIL while it
hashes, so several parts are hashed in parallel.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import zlib
from collections.abc import Collection, Sequence
from typing import Any

import attrs

__all__ = [
    "CRC32",
    "CRC32C",
    "MD5",
    "CRC32CHash",
    "CRC32Hash",
    "ExpectedDigest",
    "PartDigests",
    "PartHasher",
    "base64_digest",
    "base64_md5",
    "crc32_base64",
    "crc32_of_file_range",
    "crc32c_available",
    "crc32c_combine",
    "digests_of",
    "digests_of_file_range",
    "hash_file_range",
    "multipart_etag",
    "new_hash",
    "new_md5",
    "parse_etag",
]

# Bytes read at a time while hashing a file, into one buffer per call: worker
# threads allocating large blocks over and over make glibc's per-thread
# arenas grow.
_READ_SIZE = 256 * 1024

_PLAIN_MD5 = re.compile(r"[0-9a-f]{32}")
_MULTIPART_ETAG = re.compile(r"([0-9a-f]{32})-([1-9][0-9]*)")


def new_md5() -> Any:
    """A fresh MD5 hash object."""
    # MD5 serves integrity checks here, not security; this keeps FIPS builds working.
    return hashlib.md5(usedforsecurity=False)


#: Algorithms a part or a download can be checked with.
MD5 = "md5"
CRC32 = "crc32"
#: CRC32C (Castagnoli), which Google Cloud Storage keeps for every object.
CRC32C = "crc32c"

#: What is computed for a part unless a caller says otherwise.
_CRC32_AND_MD5 = frozenset({CRC32, MD5})


@attrs.frozen
class PartDigests:
    """
    The checksums of one uploaded part, each ``None`` when it was not
    computed: its MD5 (``Content-MD5``, ETags, Cloud Storage's ``md5Hash``),
    its CRC32 (S3's flexible checksums) and its CRC32C (Cloud Storage's
    ``crc32c``, 4 bytes big-endian).
    """

    md5: bytes | None
    crc32: int | None
    crc32c: bytes | None = None

    @property
    def crc32_base64(self) -> str:
        """
        The CRC32 as S3's ``x-amz-checksum-crc32`` carries it.

        :raises ValueError: if the CRC32 was not computed.
        """
        if self.crc32 is None:
            raise ValueError("the CRC32 of this part was not computed")
        return crc32_base64(self.crc32)

    def get(self, algorithm: str) -> bytes | None:
        """
        The digest for *algorithm* (:data:`MD5`, :data:`CRC32` or
        :data:`CRC32C`, CRCs as 4 bytes big-endian), if computed.

        :raises ValueError: for another algorithm.
        """
        if algorithm == MD5:
            return self.md5
        if algorithm == CRC32C:
            return self.crc32c
        if algorithm == CRC32:
            return None if self.crc32 is None else self.crc32.to_bytes(4, "big")
        raise ValueError(f"no such checksum: {algorithm!r}")


def needed_md5(md5: bytes | None) -> bytes:
    """
    *md5*, which a provider whose target ``needs_md5`` is always given.

    :raises ValueError: if it is missing (a target that needs it said it did not).
    """
    if md5 is None:
        raise ValueError("this provider needs the MD5 of what it is sent")
    return md5


def crc32_base64(crc32: int) -> str:
    """A CRC32 as S3's ``x-amz-checksum-crc32`` carries it (4 bytes, big-endian, base64)."""
    return base64_digest(crc32.to_bytes(4, "big"))


class _Digester:
    """The digests named in *checksums* of data fed in order."""

    def __init__(self, checksums: Collection[str]) -> None:
        self._hashes = {algorithm: new_hash(algorithm) for algorithm in checksums}

    def update(self, data: bytes | memoryview) -> None:
        for digest in self._hashes.values():
            digest.update(data)

    def result(self) -> PartDigests:
        digests = {algorithm: digest.digest() for algorithm, digest in self._hashes.items()}
        crc32 = digests.get(CRC32)
        return PartDigests(
            digests.get(MD5),
            None if crc32 is None else int.from_bytes(crc32, "big"),
            digests.get(CRC32C),
        )


def digests_of(data: bytes, checksums: Collection[str] = _CRC32_AND_MD5) -> PartDigests:
    """
    The :class:`PartDigests` of *data* (blocking for large data).

    :param checksums: the algorithms to compute (:data:`MD5`, :data:`CRC32`,
        :data:`CRC32C`); MD5 costs several times CRC32, which costs several
        times CRC32C.
    """
    digester = _Digester(checksums)
    digester.update(data)
    return digester.result()


def crc32_of_file_range(path: str, offset: int, length: int) -> int:
    """The CRC32 of *length* bytes of the file at *path* from *offset* (blocking)."""
    crc32 = CRC32Hash()
    hash_file_range(crc32, path, offset, length)
    return int.from_bytes(crc32.digest(), "big")


def digests_of_file_range(
    path: str, offset: int, length: int, checksums: Collection[str] = _CRC32_AND_MD5
) -> PartDigests:
    """
    The :class:`PartDigests` of *length* bytes of the file at *path* from
    *offset*, read once (blocking).

    :param checksums: the algorithms to compute, as for :func:`digests_of`.
    :raises OSError: if the file cannot be read or ends early.
    """
    digester = _Digester(checksums)
    hash_file_range(digester, path, offset, length)
    return digester.result()


def hash_file_range(digest: Any, path: str, offset: int, length: int) -> None:
    """
    Feed *length* bytes of the file at *path* from *offset* to *digest*
    (a hashlib object; blocking).

    :raises OSError: if the file cannot be read or ends early.
    """
    buffer = memoryview(bytearray(min(_READ_SIZE, max(length, 1))))
    with open(path, "rb", buffering=0) as file:
        file.seek(offset)
        remaining = length
        while remaining > 0:
            count = file.readinto(buffer[: min(len(buffer), remaining)])
            if not count:
                raise OSError(f"{path!r} ended {remaining} bytes before the expected end")
            digest.update(buffer[:count])
            remaining -= count


def base64_digest(digest: bytes) -> str:
    """*digest* in base64, as headers and Cloud Storage's resources carry checksums."""
    return base64.b64encode(digest).decode("ascii")


def base64_md5(digest: bytes) -> str:
    """*digest* as a ``Content-MD5`` header value."""
    return base64_digest(digest)


def multipart_etag(part_md5s: Sequence[bytes]) -> str:
    """
    The ETag S3 (and compatible stores) give an object assembled from parts:
    the MD5 of the concatenated part digests, ``-`` and the number of parts.
    """
    digest = new_md5()
    for part in part_md5s:
        digest.update(part)
    return f"{digest.hexdigest()}-{len(part_md5s)}"


def parse_etag(etag: str | None) -> tuple[str, int] | None:
    """
    Read an ETag that is an MD5 or a multipart ETag (quotes and case ignored).

    :returns: ``(hexdigest, parts)``, with ``parts == 0`` for a plain MD5 of
        the content, or ``None`` for an ETag that is neither.
    """
    if not etag:
        return None
    value = etag.strip().strip('"').lower()
    if _PLAIN_MD5.fullmatch(value):
        return value, 0
    match = _MULTIPART_ETAG.fullmatch(value)
    if match is None:
        return None
    return match.group(1), int(match.group(2))


class CRC32Hash:
    """zlib's CRC32 with hashlib's interface; the digest is 4 bytes, big-endian."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        """Hash the next bytes."""
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        """The CRC32 so far."""
        return self._value.to_bytes(4, "big")


def crc32c_available() -> bool:
    """
    Whether CRC32C can be computed fast: ``google-crc32c`` is installed with
    its C extension (its pure-Python fallback is too slow for object data).
    """
    try:
        import google_crc32c
    except ImportError:
        return False
    return bool(google_crc32c.implementation == "c")


class CRC32CHash:
    """
    CRC32C with hashlib's interface, from ``google-crc32c`` (check
    :func:`crc32c_available` first); the digest is 4 bytes, big-endian.
    """

    def __init__(self) -> None:
        import google_crc32c

        self._extend = google_crc32c.extend
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        """Hash the next bytes."""
        # The C extension takes bytes only, not views of buffers.
        self._value = self._extend(self._value, data if isinstance(data, bytes) else bytes(data))

    def digest(self) -> bytes:
        """The CRC32C so far."""
        return int(self._value).to_bytes(4, "big")


# CRC32C's polynomial, bit-reversed (the order its registers hold bits in).
_CRC32C_POLYNOMIAL = 0x82F63B78
# The polynomial "1" in that order.
_ONE = 1 << 31


def _multiply_modulo(a: int, b: int) -> int:
    """The product of polynomials *a* and *b* modulo CRC32C's (bit-reversed)."""
    product = 0
    for bit in range(32):
        if a & (_ONE >> bit):
            product ^= b
        b = (b >> 1) ^ _CRC32C_POLYNOMIAL if b & 1 else b >> 1
    return product


def crc32c_combine(first: int, second: int, second_length: int) -> int:
    """
    The CRC32C of two byte strings joined, from the CRC32C of each and the
    length of the second, without their data: the first one's CRC shifted
    past the second's bytes (multiplied by x^(8 * length)), plus the second's.
    """
    shift, power = _ONE, _ONE >> 8  # x^0, then x^8 (one byte)
    remaining = second_length
    while remaining:
        if remaining & 1:
            shift = _multiply_modulo(shift, power)
        power = _multiply_modulo(power, power)
        remaining >>= 1
    return _multiply_modulo(shift, first) ^ second


def new_hash(algorithm: str) -> Any:
    """A fresh hash object for :data:`MD5`, :data:`CRC32` or :data:`CRC32C`."""
    if algorithm == CRC32C:
        return CRC32CHash()
    return new_md5() if algorithm == MD5 else CRC32Hash()


@attrs.frozen
class ExpectedDigest:
    """
    What the downloaded bytes of an object must hash to, with *algorithm*.

    :param algorithm: :data:`MD5`, :data:`CRC32` or :data:`CRC32C` (both much cheaper
        to compute than MD5).
    :param whole: the digest of the whole content.
    :param composite: for an object stored in parts, the digest of its
        parts' digests concatenated (S3's multipart ETag for MD5, its
        COMPOSITE checksums for CRC32).
    :param part_size: with *composite*: the size of every part but the last.
    :param parts: with *composite*: the number of parts.
    :param label: the value as the provider shows it, for messages.

    When both *whole* and *composite* are given (a provider that does not
    say which kind of checksum it keeps), either may match.
    """

    algorithm: str
    whole: bytes | None = None
    composite: bytes | None = None
    part_size: int | None = None
    parts: int = 1
    label: str = ""

    @classmethod
    def md5(cls, hexdigest: str) -> ExpectedDigest:
        """The MD5 hex digest of the whole content."""
        return cls(MD5, whole=bytes.fromhex(hexdigest), label=hexdigest.lower())

    @classmethod
    def multipart_etag(cls, hexdigest: str, part_size: int, parts: int) -> ExpectedDigest:
        """A multipart ETag (``hexdigest-parts``) of parts of *part_size* bytes."""
        label = f"{hexdigest.lower()}-{parts}"
        return cls(MD5, None, bytes.fromhex(hexdigest), part_size, parts, label)

    @property
    def needs_parts(self) -> bool:
        """Whether the digest of each part must be computed."""
        return self.composite is not None and self.part_size is not None

    @property
    def needs_whole(self) -> bool:
        """Whether the digest of the whole content must be computed."""
        return self.whole is not None

    def for_size(self, size: int) -> ExpectedDigest | None:
        """
        What can be checked for an object of *size* bytes: parts can only be
        cut again if every part but the last had ``part_size`` bytes, which
        the part count has to agree with.

        :returns: this digest, without what cannot be checked, or ``None``.
        """
        if not self.needs_parts:
            return self if self.needs_whole else None
        assert self.part_size is not None
        if self.parts == max(1, math.ceil(size / self.part_size)):
            return self
        if not self.needs_whole:
            return None
        return attrs.evolve(self, composite=None, part_size=None, parts=1)

    def matches(self, whole: bytes | None, part_digests: Sequence[bytes]) -> bool:
        """Whether the digests computed from the data match."""
        if self.whole is not None and whole == self.whole:
            return True
        if self.composite is None or len(part_digests) != self.parts:
            return False
        combined = new_hash(self.algorithm)
        for digest in part_digests:
            combined.update(digest)
        return bool(combined.digest() == self.composite)


class PartHasher:
    """
    Digests of consecutive parts of a stream that starts at *start* in the
    object, cut every *part_size* bytes of the object.  Not thread-safe:
    feed it from one thread at a time, in order.
    """

    def __init__(self, algorithm: str, start: int, part_size: int) -> None:
        self._algorithm = algorithm
        self._position = start
        self._part_size = part_size
        self._current = new_hash(algorithm)
        self._current_size = 0
        self._digests: list[bytes] = []

    def update(self, data: bytes) -> None:
        """Hash the next bytes."""
        view = memoryview(data)
        while view:
            room = self._part_size - self._position % self._part_size
            piece, view = view[:room], view[room:]
            self._current.update(piece)
            self._current_size += len(piece)
            self._position += len(piece)
            if self._position % self._part_size == 0:
                self._finish_part()

    def digests(self) -> list[bytes]:
        """The digests of the parts seen, closing the last one if it is partial."""
        if self._current_size or not self._digests:
            self._finish_part()
        return self._digests

    def _finish_part(self) -> None:
        self._digests.append(self._current.digest())
        self._current = new_hash(self._algorithm)
        self._current_size = 0
