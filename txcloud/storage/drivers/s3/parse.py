"""
The S3 protocol's data, without I/O: bucket and key name rules, the
headers an upload sends for its ``extra`` options, the XML documents S3
takes, and the parsing of its listings and object headers into
txcloud's models.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

import attrs
from lxml import etree

from txcloud.errors import InvalidArgumentError, InvalidContainerNameError, InvalidObjectNameError
from txcloud.http import HeaderMap, findall_local, findtext_local
from txcloud.storage.base import Container, Object
from txcloud.storage.names import is_ipv4_address, utf8_size
from txcloud.storage.transfer.digest import CRC32, CRC32C, ExpectedDigest, parse_etag
from txcloud.storage.upload_options import (
    DEFAULT_CONTENT_TYPE,
    guess_content_type,
    header_value,
    upload_extra_headers,
)

if TYPE_CHECKING:
    from txcloud.storage.base import StorageDriver

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "MultipartUpload",
    "check_bucket_name",
    "check_new_bucket_name",
    "check_object_name",
    "complete_multipart_xml",
    "container_from_listing",
    "create_bucket_xml",
    "encryption_hides_md5",
    "etag_is_md5",
    "multipart_upload_from_listing",
    "object_from_headers",
    "object_from_listing",
    "stored_checksum",
    "upload_headers",
]

#: The content type of an upload whose name suggests none.

#: The longest object key S3 accepts, in bytes of UTF-8.
MAX_KEY_BYTES = 1024

_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_META_PREFIX = "x-amz-meta-"

# Current rules for new general purpose buckets.
_NEW_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Buckets created before March 2018 in us-east-1, and other S3-compatible
# stores, may have upper case letters and underscores.
_EXISTING_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")
# Header names are tokens (RFC 9110); metadata values must be printable ASCII.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

# extra keys an upload accepts, and the header each becomes.
_EXTRA_HEADERS = {
    "content_type": "Content-Type",
    "content_encoding": "Content-Encoding",
    "content_disposition": "Content-Disposition",
    "content_language": "Content-Language",
    "cache_control": "Cache-Control",
    "acl": "x-amz-acl",
    "storage_class": "x-amz-storage-class",
}

# Server-side encryption whose ETags are not the MD5 of the content.
_OPAQUE_ETAG_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})


def check_bucket_name(name: object) -> str:
    """
    Refuse a name no existing bucket can have, before any request.

    :raises InvalidContainerNameError: for anything but 3 to 255 letters,
        digits, ``.``, ``-`` and ``_`` starting with a letter or digit.
    """
    if not isinstance(name, str) or not _EXISTING_BUCKET.fullmatch(name):
        raise InvalidContainerNameError(
            f"Invalid bucket name {name!r}: it must be 3 to 255 letters, digits, "
            "'.', '-' or '_', starting with a letter or digit",
            container_name=str(name),
        )
    return name


def check_new_bucket_name(name: object) -> str:
    """
    Refuse a name S3 would refuse for a new bucket, before any request.

    :raises InvalidContainerNameError: unless the name follows S3's naming
        rules: 3 to 63 lower case letters, digits, dots and hyphens, starting
        and ending with a letter or digit, no two adjacent dots, not an IP
        address and no reserved prefix or suffix.
    """
    problem = None
    if not isinstance(name, str) or not _NEW_BUCKET.fullmatch(name):
        problem = (
            "3 to 63 lower case letters, digits, '.' or '-', "
            "starting and ending with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "no '..', '.-' or '-.'"
    elif is_ipv4_address(name):
        problem = "not an IP address"
    elif name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        problem = "no reserved prefix or suffix"
    if problem is not None:
        raise InvalidContainerNameError(
            f"Invalid bucket name {name!r}: it must be {problem}", container_name=str(name)
        )
    return str(name)


def check_object_name(name: object) -> str:
    """
    Refuse a key S3 cannot store, before any request.

    :raises InvalidObjectNameError: unless the name is a non-empty string of
        at most 1024 bytes in UTF-8.
    """
    size = utf8_size(name)
    if not 0 < size <= MAX_KEY_BYTES:
        raise InvalidObjectNameError(
            f"Invalid object name {name!r}: it must be 1 to {MAX_KEY_BYTES} bytes of UTF-8",
            object_name=str(name),
        )
    assert isinstance(name, str)
    return name


def upload_headers(
    extra: Mapping[str, Any] | None, object_name: str, file_path: str | None = None
) -> dict[str, str]:
    """
    The request headers for an upload's *extra* options.

    :param extra: ``meta_data`` (a dict, sent as ``x-amz-meta-*``),
        ``content_type`` (guessed from the object name, then the file name,
        when absent), ``content_encoding``, ``content_disposition``,
        ``content_language``, ``cache_control``, ``acl`` (a canned ACL such as
        ``"public-read"``) and ``storage_class`` (``"STANDARD_IA"``...).
    :raises InvalidArgumentError: for an unknown key or a value that cannot
        be sent in a header.
    """
    headers, meta_data = upload_extra_headers(extra, _EXTRA_HEADERS)
    if "Content-Type" not in headers:
        headers["Content-Type"] = guess_content_type(object_name, file_path)
    for key, value in meta_data.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            raise InvalidArgumentError(f"metadata key {key!r} cannot be sent as a header name")
        headers[_META_PREFIX + key.lower()] = header_value(f"meta_data[{key!r}]", value)
    return headers


def create_bucket_xml(region: str) -> bytes:
    """The ``CreateBucketConfiguration`` placing a new bucket in *region*."""
    return (
        f'<CreateBucketConfiguration xmlns="{_NAMESPACE}">'
        f"<LocationConstraint>{escape(region)}</LocationConstraint>"
        "</CreateBucketConfiguration>"
    ).encode()


def complete_multipart_xml(parts: Iterable[tuple[int, str, str]], element: str) -> bytes:
    """
    The ``CompleteMultipartUpload`` document listing ``(number, etag,
    checksum)`` parts (the checksum in base64, in *element*:
    ``ChecksumCRC32C``, ``ChecksumCRC32``).
    """
    listed = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag>"
        f"<{element}>{escape(checksum)}</{element}></Part>"
        for number, etag, checksum in parts
    )
    return (
        f'<CompleteMultipartUpload xmlns="{_NAMESPACE}">{listed}</CompleteMultipartUpload>'.encode()
    )


def encryption_hides_md5(headers: Mapping[str, str]) -> bool:
    """
    Whether an object's (or part's) response headers say it is encrypted in
    a way that makes its ETag something other than the MD5 of the data (KMS
    keys, customer-provided keys).
    """
    encryption = (headers.get("x-amz-server-side-encryption") or "").lower()
    return (
        encryption in _OPAQUE_ETAG_ENCRYPTION
        or "x-amz-server-side-encryption-customer-algorithm" in headers
    )


def etag_is_md5(etag: str | None, headers: Mapping[str, str]) -> bool:
    """Whether *etag*, given the object's response *headers*, is the MD5 of its content."""
    parsed = parse_etag(etag)
    return parsed is not None and parsed[1] == 0 and not encryption_hides_md5(headers)


@attrs.frozen
class MultipartUpload:
    """
    A multipart upload S3 still holds parts for (begun, neither completed
    nor aborted).

    :ivar key: the object key being uploaded.
    :ivar upload_id: the upload's id.
    :ivar initiated: when it began (ISO 8601), if S3 said.
    :ivar storage_class: the object's future storage class, if S3 said.
    """

    key: str
    upload_id: str
    initiated: str | None = None
    storage_class: str | None = None


def multipart_upload_from_listing(element: etree._Element, url_encoded: bool) -> MultipartUpload:
    """A :class:`MultipartUpload` from a ``ListMultipartUploadsResult/Upload`` element."""
    key = findtext_local(element, "Key") or ""
    return MultipartUpload(
        key=unquote_plus(key) if url_encoded else key,
        upload_id=findtext_local(element, "UploadId") or "",
        initiated=findtext_local(element, "Initiated"),
        storage_class=findtext_local(element, "StorageClass"),
    )


def stored_checksum(
    headers: Mapping[str, str],
    multipart: bool,
    part_size: int | None,
    parts: int,
    algorithms: Iterable[str] = (CRC32C, CRC32),
) -> ExpectedDigest | None:
    """
    The CRC checksum a ``HEAD`` with ``x-amz-checksum-mode: ENABLED``
    reported (the first of *algorithms* found), as what a download must
    hash to.

    S3 says whether it is of the whole object (``FULL_OBJECT``) or of the
    parts' checksums (``COMPOSITE``, shown with a ``-N`` suffix); when a
    multipart object's checksum says neither (as some emulators do), either
    reading is accepted.  A composite checksum needs *part_size*.

    :param multipart: whether the object's ETag is a multipart ETag.
    :param part_size: the size of its parts, when known.
    :param parts: the number of parts its ETag gives.
    :param algorithms: the CRCs the client can compute, cheapest first.
    :returns: ``None`` when there is no usable checksum.
    """
    for algorithm in algorithms:
        reported = headers.get(f"x-amz-checksum-{algorithm}")
        if reported:
            return _crc_checksum(reported, algorithm, headers, multipart, part_size, parts)
    return None


def _crc_checksum(
    reported: str,
    algorithm: str,
    headers: Mapping[str, str],
    multipart: bool,
    part_size: int | None,
    parts: int,
) -> ExpectedDigest | None:
    value, _, suffix = reported.partition("-")
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) != 4 or (suffix and not suffix.isdigit()):
        return None
    kind = (headers.get("x-amz-checksum-type") or "").upper()
    if kind == "FULL_OBJECT" or (not kind and not suffix and not multipart):
        return ExpectedDigest(algorithm, whole=raw, label=reported)
    if part_size is None:
        return None
    either = not kind and not suffix
    count = int(suffix) if suffix else parts
    return ExpectedDigest(algorithm, raw if either else None, raw, part_size, count, label=reported)


def container_from_listing(element: etree._Element, driver: StorageDriver) -> Container:
    """A :class:`Container` from a ``ListAllMyBucketsResult/Buckets/Bucket``."""
    extra = {"creation_date": findtext_local(element, "CreationDate")}
    region = findtext_local(element, "BucketRegion")
    if region:
        extra["region"] = region
    return Container(name=findtext_local(element, "Name") or "", extra=extra, driver=driver)


def object_from_listing(element: etree._Element, container: Container, url_encoded: bool) -> Object:
    """
    An :class:`Object` from a ``ListBucketResult/Contents`` element.

    A listing carries no user metadata and does not say how an object is
    encrypted, so ``extra["hash_is_md5"]`` is only set (to ``False``) for
    multipart ETags.
    """
    key = findtext_local(element, "Key") or ""
    etag = findtext_local(element, "ETag")
    extra: dict[str, Any] = {
        "etag": etag,
        "last_modified": findtext_local(element, "LastModified"),
        "storage_class": findtext_local(element, "StorageClass"),
    }
    owner = findall_local(element, "Owner")
    if owner:
        extra["owner"] = {
            "id": findtext_local(owner[0], "ID"),
            "display_name": findtext_local(owner[0], "DisplayName"),
        }
    parsed = parse_etag(etag)
    if parsed is None or parsed[1]:
        extra["hash_is_md5"] = False
    return Object(
        name=unquote_plus(key) if url_encoded else key,
        size=int(findtext_local(element, "Size") or 0),
        hash=_strip_quotes(etag),
        extra=extra,
        meta_data={},
        container=container,
        driver=container.driver,
    )


def object_from_headers(
    name: str, headers: HeaderMap, container: Container, size: int | None = None
) -> Object:
    """
    An :class:`Object` from the headers of a HEAD or upload response.

    :param size: the object's size when the headers do not give it (upload
        responses).
    """
    etag = headers.get("ETag")
    extra: dict[str, Any] = {
        "etag": etag,
        "hash_is_md5": etag_is_md5(etag, headers),
        "server_side_encryption": headers.get("x-amz-server-side-encryption"),
    }
    for key, header in (
        ("content_type", "Content-Type"),
        ("content_encoding", "Content-Encoding"),
        ("content_disposition", "Content-Disposition"),
        ("cache_control", "Cache-Control"),
        ("last_modified", "Last-Modified"),
        ("version_id", "x-amz-version-id"),
    ):
        if headers.get(header):
            extra[key] = headers[header]
    extra["storage_class"] = headers.get("x-amz-storage-class") or "STANDARD"
    meta_data = {
        header.lower()[len(_META_PREFIX) :]: headers[header]
        for header in headers
        if header.lower().startswith(_META_PREFIX)
    }
    if size is None:
        size = int(headers.get("Content-Length") or 0)
    return Object(
        name=name,
        size=size,
        hash=_strip_quotes(etag),
        extra=extra,
        meta_data=meta_data,
        container=container,
        driver=container.driver,
    )


def _strip_quotes(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None
