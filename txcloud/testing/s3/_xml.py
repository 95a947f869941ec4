"""
The XML documents the S3 fake writes (listings, multipart results, errors)
and reads (``CreateBucketConfiguration``, ``CompleteMultipartUpload``), in
the shapes of the S3 API reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote_plus

from lxml import etree
from lxml.builder import ElementMaker

from txcloud.errors import MalformedResponseError
from txcloud.http import findall_local, findtext_local, local_name, parse_xml
from txcloud.testing._http import Refused
from txcloud.testing.s3._store import FakeBucket, FakeObject, FakeUpload, iso_time

__all__ = [
    "NAMESPACE",
    "OWNER_ID",
    "bucket_entry",
    "completed_parts",
    "document",
    "element",
    "encoded",
    "error_document",
    "location_constraint",
    "location_document",
    "object_entry",
    "owner",
    "prefix_entry",
    "upload_entry",
]

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
#: The canonical user id of the fake's account.
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"

_S3 = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})
_PLAIN = ElementMaker()


def _bytes(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def document(root: str, fields: Iterable[tuple[str, object] | etree._Element]) -> bytes:
    """
    An S3 result document: *root* holding *fields*, each an element or a
    ``(name, value)`` pair (``None`` values are left out; booleans are
    written ``true``/``false``).
    """
    element = _S3(root)
    for field in fields:
        if isinstance(field, tuple):
            name, value = field
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            element.append(_S3(name, text))
        else:
            element.append(field)
    return _bytes(element)


def element(name: str, children: Iterable[etree._Element]) -> etree._Element:
    """An element *name* holding *children*."""
    return _S3(name, *children)


def location_document(region: str) -> bytes:
    """GetBucketLocation's answer (empty for ``us-east-1``, the unnamed location)."""
    return _bytes(_S3.LocationConstraint("" if region == "us-east-1" else region))


def error_document(refused: Refused, request_id: str) -> bytes:
    """An ``<Error>`` document (S3 writes it without a namespace)."""
    fields = [_PLAIN.Code(refused.code), _PLAIN.Message(refused.message)]
    fields += [_PLAIN(name, value) for name, value in refused.details.items()]
    fields += [_PLAIN.RequestId(request_id), _PLAIN.HostId(f"fake/{request_id}")]
    return _bytes(_PLAIN.Error(*fields))


def encoded(text: str, url: bool) -> str:
    """*text* as a listing shows it: URL-encoded when the client asked for ``url``."""
    return quote_plus(text, safe="/") if url else text


def owner() -> etree._Element:
    """The fake account's ``<Owner>``."""
    return _S3.Owner(_S3.ID(OWNER_ID), _S3.DisplayName("fake-owner"))


def bucket_entry(bucket: FakeBucket) -> etree._Element:
    """A ``<Bucket>`` of ListBuckets."""
    return _S3.Bucket(
        _S3.Name(bucket.name),
        _S3.CreationDate(iso_time(bucket.created)),
        _S3.BucketRegion(bucket.region),
    )


def object_entry(obj: FakeObject, url: bool, with_owner: bool) -> etree._Element:
    """A ``<Contents>`` of ListObjectsV2."""
    entry = _S3.Contents(
        _S3.Key(encoded(obj.key, url)),
        _S3.LastModified(iso_time(obj.last_modified)),
        _S3.ETag(f'"{obj.etag}"'),
        _S3.Size(str(obj.size)),
        _S3.StorageClass(obj.storage_class),
    )
    if obj.checksum_algorithm is not None:
        entry.append(_S3.ChecksumAlgorithm(obj.checksum_algorithm))
    if with_owner:
        entry.append(owner())
    return entry


def prefix_entry(prefix: str, url: bool) -> etree._Element:
    """A ``<CommonPrefixes>`` of a listing with a delimiter."""
    return _S3.CommonPrefixes(_S3.Prefix(encoded(prefix, url)))


def upload_entry(upload: FakeUpload, url: bool) -> etree._Element:
    """An ``<Upload>`` of ListMultipartUploads."""
    return _S3.Upload(
        _S3.Key(encoded(upload.key, url)),
        _S3.UploadId(upload.upload_id),
        _S3.Initiator(_S3.ID(OWNER_ID), _S3.DisplayName("fake-owner")),
        owner(),
        _S3.StorageClass(upload.fields.storage_class),
        _S3.Initiated(iso_time(upload.initiated)),
    )


def _parse(body: bytes, root: str) -> etree._Element:
    try:
        element = parse_xml(body)
    except MalformedResponseError:
        element = None
    if element is None or local_name(element) != root:
        raise Refused(
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema.",
        )
    return element


def location_constraint(body: bytes) -> str | None:
    """The region a ``CreateBucketConfiguration`` names, if it names one."""
    if not body.strip():
        return None
    return findtext_local(_parse(body, "CreateBucketConfiguration"), "LocationConstraint")


def completed_parts(body: bytes) -> list[Mapping[str, str | None]]:
    """
    The parts a ``CompleteMultipartUpload`` lists: dicts with ``number``,
    ``etag``, ``CRC32`` and ``CRC32C`` (the checksums; ``None`` when absent).
    """
    parts: list[Mapping[str, str | None]] = []
    for part in findall_local(_parse(body, "CompleteMultipartUpload"), "Part"):
        parts.append(
            {
                "number": findtext_local(part, "PartNumber"),
                "etag": findtext_local(part, "ETag"),
                "CRC32": findtext_local(part, "ChecksumCRC32"),
                "CRC32C": findtext_local(part, "ChecksumCRC32C"),
            }
        )
    return parts
