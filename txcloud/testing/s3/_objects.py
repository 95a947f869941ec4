"""
The object operations of the S3 fake: PutObject, GetObject and HeadObject
(ranges, parts, conditions), DeleteObject, and the multipart upload calls
(CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListMultipartUploads).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

import attrs

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing.s3._store import (
    CHECKSUM_ALGORITHMS,
    STORAGE_CLASSES,
    FakeBucket,
    FakeObject,
    FakePart,
    FakeUpload,
    ObjectFields,
    crc_of,
    http_date,
    md5_hex,
)
from txcloud.testing.s3._xml import completed_parts, document, upload_entry

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_PAGE",
    "ObjectOperations",
    "S3Call",
    "no_such_bucket",
    "no_such_key",
    "number_argument",
    "url_encoding",
]

#: Headers an object keeps besides its type and metadata, as S3 spells them.
KEPT_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language")
#: The most bytes of user metadata an object may have.
MAX_METADATA = 2048
#: The longest key S3 accepts, in bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: The most parts of one upload, and of one page of a listing.
MAX_PARTS = 10_000
MAX_PAGE = 1000

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_META = "x-amz-meta-"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@attrs.frozen
class S3Call:
    """
    A request with what it addresses: the bucket and key (either may be
    ``None``) and the region it was signed for.
    """

    received: Received
    bucket_name: str | None
    key: str | None
    region: str

    def arg(self, name: str) -> str | None:
        """The first value of query parameter *name*."""
        return self.received.arg(name)

    def has(self, name: str) -> bool:
        """Whether the query names *name* (``?uploads``)."""
        return name in self.received.query

    def header(self, name: str) -> str | None:
        """The value of request header *name*."""
        return self.received.header(name)


def no_such_bucket(name: str) -> Refused:
    """The error for a bucket that does not exist."""
    return Refused(
        404, "NoSuchBucket", "The specified bucket does not exist", details={"BucketName": name}
    )


def no_such_key(key: str) -> Refused:
    """The error for a key that does not exist."""
    return Refused(404, "NoSuchKey", "The specified key does not exist.", details={"Key": key})


def _invalid_argument(message: str, name: str, value: str) -> Refused:
    return Refused(
        400, "InvalidArgument", message, details={"ArgumentName": name, "ArgumentValue": value}
    )


def number_argument(call: S3Call, name: str, low: int, high: int) -> int | None:
    """Query parameter *name* as an integer in ``low..high``, or ``None`` when absent."""
    value = call.arg(name)
    if value is None:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise _invalid_argument(f"{name} must be an integer from {low} to {high}", name, value)
    return int(value)


def _fields(call: S3Call) -> ObjectFields:
    headers = call.received.headers
    metadata = {
        name[len(_META) :]: value for name, value in headers.items() if name.startswith(_META)
    }
    if sum(len(name) + len(value) for name, value in metadata.items()) > MAX_METADATA:
        raise Refused(
            400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed size."
        )
    kept = {name: headers[name.lower()] for name in KEPT_HEADERS if name.lower() in headers}
    storage_class = call.header("x-amz-storage-class") or "STANDARD"
    if storage_class not in STORAGE_CLASSES:
        raise Refused(400, "InvalidStorageClass", "The storage class you specified is not valid")
    return ObjectFields(
        content_type=call.header("content-type") or "binary/octet-stream",
        metadata=metadata,
        headers=kept,
        storage_class=storage_class,
    )


def _checked_body(call: S3Call) -> tuple[bytes, tuple[str, str] | None]:
    """
    The body, after checking the digests sent with it; and the algorithm
    and value of its CRC32 or CRC32C checksum, if one was sent.
    """
    data = call.received.body
    content_sha256 = call.header("x-amz-content-sha256") or ""
    if content_sha256.startswith("STREAMING-"):
        raise Refused(501, "NotImplemented", "This fake does not take aws-chunked bodies.")
    if _SHA256_HEX.fullmatch(content_sha256) and hashlib.sha256(data).hexdigest() != content_sha256:
        raise Refused(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    content_md5 = call.header("content-md5")
    if content_md5 is not None:
        try:
            sent = base64.b64decode(content_md5, validate=True)
        except binascii.Error:
            sent = b""
        if len(sent) != 16:
            raise Refused(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
        if sent.hex() != md5_hex(data):
            raise Refused(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
    checksum = None
    for algorithm in CHECKSUM_ALGORITHMS:
        value = call.header(f"x-amz-checksum-{algorithm.lower()}")
        if value is None:
            continue
        if value != base64.b64encode(crc_of(data, algorithm)).decode("ascii"):
            raise Refused(
                400,
                "BadDigest",
                f"The {algorithm} you specified did not match the calculated checksum.",
            )
        checksum = (algorithm, value)
    return data, checksum


def _checksum_headers(sent: tuple[str, str] | None) -> dict[str, str]:
    """The checksum header S3 echoes for a checksum sent with a body."""
    return {} if sent is None else {f"x-amz-checksum-{sent[0].lower()}": sent[1]}


def _object_headers(obj: FakeObject, call: S3Call) -> dict[str, str]:
    headers = {
        "Content-Type": obj.content_type,
        "ETag": f'"{obj.etag}"',
        "Last-Modified": http_date(obj.last_modified),
        "Accept-Ranges": "bytes",
        "x-amz-server-side-encryption": "AES256",
        **obj.headers,
    }
    headers.update({_META + name: value for name, value in obj.metadata.items()})
    if obj.storage_class != "STANDARD":
        headers["x-amz-storage-class"] = obj.storage_class
    if obj.part_sizes:
        headers["x-amz-mp-parts-count"] = str(len(obj.part_sizes))
    if call.header("x-amz-checksum-mode") == "ENABLED" and obj.checksum_algorithm:
        headers[f"x-amz-checksum-{obj.checksum_algorithm.lower()}"] = obj.checksum or ""
        headers["x-amz-checksum-type"] = obj.checksum_type or "FULL_OBJECT"
    return headers


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` a ``Range`` header asks for; ``None`` for the whole object."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        # No range, or one S3 ignores (several ranges, other units).
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = size if last == "" else min(int(last) + 1, size)
        if last != "" and int(last) < start:
            return None
    if start >= size or start >= end:
        raise Refused(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
            details={"RangeRequested": header or "", "ActualObjectSize": str(size)},
        )
    return start, end


class ObjectOperations:
    """The object and multipart endpoints of :class:`~txcloud.testing.s3.FakeS3`."""

    clock: Any
    #: The smallest part a completed upload may have, except the last.
    min_part_size: int
    _completed: dict[tuple[str, str], tuple[str, bytes]]

    # Provided by the fake this is part of.

    def _existing_bucket(self, call: S3Call) -> FakeBucket:
        raise NotImplementedError

    def _new_id(self, kind: str) -> str:
        raise NotImplementedError

    # Objects

    def _put_object(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        assert call.key is not None
        if call.header("x-amz-copy-source") is not None:
            raise Refused(501, "NotImplemented", "This fake does not copy objects.")
        fields = _fields(call)
        data, sent = _checked_body(call)
        algorithm = None if sent is None else sent[0]
        obj = FakeObject.whole(call.key, data, self.clock.seconds(), fields, algorithm)
        bucket.objects[obj.key] = obj
        headers = {"ETag": f'"{obj.etag}"', "x-amz-server-side-encryption": "AES256"}
        return Reply(200, {**headers, **_checksum_headers(sent)})

    def _get_object(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        assert call.key is not None
        obj = bucket.objects.get(call.key)
        if obj is None:
            raise no_such_key(call.key)
        if_match = call.header("if-match")
        if if_match is not None and if_match.strip('" ') not in (obj.etag, "*"):
            raise Refused(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                details={"Condition": "If-Match"},
            )
        headers = _object_headers(obj, call)
        if call.header("if-none-match") in (f'"{obj.etag}"', obj.etag, "*"):
            return Reply(304, headers)
        part = number_argument(call, "partNumber", 1, MAX_PARTS)
        wanted = call.header("range")
        if part is not None and wanted is not None:
            raise Refused(400, "InvalidRequest", "Cannot specify both Range header and partNumber")
        span = _byte_range(wanted, obj.size) if part is None else obj.part_range(part)
        if span is None and part is not None:
            raise Refused(416, "InvalidPartNumber", "The requested partnumber is not satisfiable")
        status, data = 200, obj.data
        if span is not None:
            status, data = 206, obj.data[span[0] : span[1]]
            headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{obj.size}"
        if call.received.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            data = b""
        return Reply(status, headers, data)

    def _delete_object(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        bucket.objects.pop(call.key or "", None)
        return Reply(204)

    # Multipart uploads

    def _upload(self, bucket: FakeBucket, call: S3Call) -> FakeUpload:
        upload_id = call.arg("uploadId") or ""
        upload = bucket.uploads.get(upload_id)
        if upload is None or upload.key != call.key:
            raise Refused(
                404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed.",
                details={"UploadId": upload_id},
            )
        return upload

    def _create_multipart_upload(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        assert call.key is not None
        algorithm = call.header("x-amz-checksum-algorithm")
        if algorithm not in (None, "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
            raise Refused(400, "InvalidRequest", f"Checksum algorithm {algorithm} is not valid.")
        kind = call.header("x-amz-checksum-type")
        whole_crcs = ("CRC32", "CRC32C", "CRC64NVME")
        if kind not in (None, "COMPOSITE", "FULL_OBJECT") or (
            kind == "FULL_OBJECT" and algorithm not in whole_crcs
        ):
            raise Refused(400, "InvalidRequest", f"Checksum type {kind} is not valid here.")
        upload = FakeUpload(
            self._new_id("upload"),
            call.key,
            self.clock.seconds(),
            _fields(call),
            checksum_algorithm=algorithm if algorithm in CHECKSUM_ALGORITHMS else None,
            # S3's default: CRC64NVME keeps the whole object's, others the parts'.
            full_object=kind == "FULL_OBJECT" or (kind is None and algorithm == "CRC64NVME"),
        )
        bucket.uploads[upload.upload_id] = upload
        fields = [("Bucket", bucket.name), ("Key", call.key), ("UploadId", upload.upload_id)]
        headers = {"Content-Type": "application/xml"}
        if algorithm is not None:
            headers["x-amz-checksum-algorithm"] = algorithm
        return Reply(200, headers, document("InitiateMultipartUploadResult", fields))

    def _upload_part(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        number = number_argument(call, "partNumber", 1, MAX_PARTS)
        upload = self._upload(bucket, call)
        assert number is not None
        data, sent = _checked_body(call)
        part = FakePart(data, md5_hex(data), self.clock.seconds())
        upload.parts[number] = part
        headers = {"ETag": f'"{part.etag}"', "x-amz-server-side-encryption": "AES256"}
        return Reply(200, {**headers, **_checksum_headers(sent)})

    def _complete_multipart_upload(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        upload_id = call.arg("uploadId") or ""
        done = self._completed.get((bucket.name, upload_id))
        if done is not None and done[0] == call.key and upload_id not in bucket.uploads:
            # Completing again answers as the first completion did.
            return Reply(200, {"Content-Type": "application/xml"}, done[1])
        upload = self._upload(bucket, call)
        parts = self._listed_parts(upload, completed_parts(call.received.body))
        algorithm = upload.checksum_algorithm
        obj = FakeObject.assembled(
            upload.key, parts, self.clock.seconds(), upload.fields, algorithm, upload.full_object
        )
        if algorithm is not None and obj.checksum_type == "FULL_OBJECT":
            # The whole object's checksum the client may send to be checked.
            sent = call.header(f"x-amz-checksum-{algorithm.lower()}")
            if sent is not None and sent != obj.checksum:
                raise Refused(
                    400,
                    "BadDigest",
                    f"The {algorithm} you specified did not match the calculated checksum.",
                )
        bucket.objects[obj.key] = obj
        del bucket.uploads[upload_id]
        location = f"https://{bucket.name}.s3.{bucket.region}.amazonaws.com/{upload.key}"
        body = document(
            "CompleteMultipartUploadResult",
            [
                ("Location", location),
                ("Bucket", bucket.name),
                ("Key", upload.key),
                ("ETag", f'"{obj.etag}"'),
                (f"Checksum{algorithm or 'CRC32'}", obj.checksum),
                ("ChecksumType", obj.checksum_type),
            ],
        )
        self._completed[(bucket.name, upload_id)] = (upload.key, body)
        headers = {"Content-Type": "application/xml", "x-amz-server-side-encryption": "AES256"}
        return Reply(200, headers, body)

    def _listed_parts(self, upload: FakeUpload, listed: list[Any]) -> list[FakePart]:
        if not listed:
            raise Refused(400, "MalformedXML", "You must specify at least one part.")
        numbers = [int(p["number"]) if (p["number"] or "").isdigit() else 0 for p in listed]
        if numbers != sorted(set(numbers)) or numbers[0] < 1:
            raise Refused(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        parts = []
        for number, entry in zip(numbers, listed, strict=True):
            part = upload.parts.get(number)
            algorithm = upload.checksum_algorithm
            listed_checksum = None if algorithm is None else entry[algorithm]
            if (
                part is None
                or (entry["etag"] or "").strip('"') != part.etag
                or (
                    algorithm is not None
                    and listed_checksum is not None
                    and listed_checksum != base64.b64encode(crc_of(part.data, algorithm)).decode()
                )
            ):
                raise Refused(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                    details={"PartNumber": str(number)},
                )
            parts.append(part)
        for number, part in zip(numbers[:-1], parts[:-1], strict=True):
            if len(part.data) < self.min_part_size:
                raise Refused(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    details={"PartNumber": str(number), "ProposedSize": str(len(part.data))},
                )
        return parts

    def _abort_multipart_upload(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        del bucket.uploads[self._upload(bucket, call).upload_id]
        return Reply(204)

    def _list_multipart_uploads(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        url = url_encoding(call)
        prefix = call.arg("prefix") or ""
        page_size = number_argument(call, "max-uploads", 0, 2**31) or MAX_PAGE
        page_size = min(page_size, MAX_PAGE)
        key_marker = call.arg("key-marker") or ""
        id_marker = call.arg("upload-id-marker") or ""
        uploads = sorted(
            (u for u in bucket.uploads.values() if u.key.startswith(prefix)),
            key=lambda u: (u.key, u.initiated, u.upload_id),
        )
        if key_marker:
            uploads = uploads[_after_marker(uploads, key_marker, id_marker) :]
        page, truncated = uploads[:page_size], len(uploads) > page_size
        fields: list[Any] = [
            ("Bucket", bucket.name),
            ("KeyMarker", key_marker),
            ("UploadIdMarker", id_marker),
            ("NextKeyMarker", page[-1].key if truncated else None),
            ("NextUploadIdMarker", page[-1].upload_id if truncated else None),
            ("Prefix", prefix or None),
            ("MaxUploads", page_size),
            ("EncodingType", "url" if url else None),
            ("IsTruncated", truncated),
        ]
        fields += [upload_entry(upload, url) for upload in page]
        body = document("ListMultipartUploadsResult", fields)
        return Reply(200, {"Content-Type": "application/xml"}, body)


def _after_marker(uploads: list[FakeUpload], key_marker: str, id_marker: str) -> int:
    # After the marker's upload; after every upload of the marker's key
    # when no upload id is given (or that upload is gone).
    listed = [(upload.key, upload.upload_id) for upload in uploads]
    if id_marker and (key_marker, id_marker) in listed:
        return listed.index((key_marker, id_marker)) + 1
    return sum(1 for upload in uploads if upload.key <= key_marker)


def url_encoding(call: S3Call) -> bool:
    """Whether a listing is to URL-encode keys (``encoding-type=url``)."""
    kind = call.arg("encoding-type")
    if kind not in (None, "url"):
        raise _invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", kind
        )
    return kind == "url"
