"""
A local fake of Google Cloud Storage's XML API with HMAC keys, written
from Google's XML API reference, for the tests of
:class:`~txcloud.storage.drivers.google_storage.xml_api.GoogleStorageXMLDriver`
(fake-gcs-server refuses XML uploads).

It checks every request's SigV4 signature with botocore's signer (an
implementation independent of txcloud's) for service ``s3`` and region
``auto``, and serves path-style URLs: buckets (list, create with a
location, HEAD, delete), ListObjectsV2 listings, objects (PUT with
``Content-MD5`` checked, HEAD and GET with ``Range``, DELETE), and XML API
multipart uploads (initiate, parts, complete, abort).  As Google documents,
objects answer with ``x-goog-meta-*`` and ``x-goog-hash``, a missing object
cannot be deleted (404 ``NoSuchKey``), and an object completed from parts
has a CRC32C but no MD5, and an ETag that is not one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import attrs
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest

from txcloud.storage.transfer.digest import CRC32CHash

__all__ = ["ACCESS_ID", "SECRET", "FakeGCSXML"]

#: The HMAC key the fake accepts (the form of a service account's HMAC access id).
ACCESS_ID = "GOOG1EZZTESTACCESSIDFORTXCLOUDTESTS0000000000000000000000000"
SECRET = "bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ"

_NS = "http://doc.s3.amazonaws.com/2006-03-01"
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?"
    r"Signature=(?P<sig>[0-9a-f]+)"
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")


@attrs.define
class FakeObject:
    """One stored object."""

    data: bytes
    content_type: str
    metadata: dict[str, str]
    etag: str
    md5: bytes | None
    generation: int


@attrs.define
class FakeUpload:
    """A multipart upload in progress."""

    bucket: str
    key: str
    content_type: str
    metadata: dict[str, str]
    parts: dict[int, bytes] = attrs.field(factory=dict)


def _crc32c(data: bytes) -> str:
    digest = CRC32CHash()
    digest.update(data)
    return base64.b64encode(digest.digest()).decode()


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class FakeGCSXML(Resource):
    """
    The XML API of one project holding buckets; serve it with
    ``twisted.web.server.Site``.

    :ivar buckets: bucket name to ``{key: FakeObject}``.
    :ivar locations: bucket name to the location it was created in.
    :ivar headers_seen: the header names of every request, lower case.
    :ivar projects_seen: the ``x-goog-project-id`` of every request.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.buckets: dict[str, dict[str, FakeObject]] = {}
        self.locations: dict[str, str] = {}
        self.uploads: dict[str, FakeUpload] = {}
        self.headers_seen: list[set[str]] = []
        self.projects_seen: list[str | None] = []
        self._generation = 1

    def render(self, request: ServerRequest) -> bytes:
        body = request.content.read() if request.content else b""
        try:
            self._check_signature(request, body)
            return self._route(request, body)
        except _Refused as refused:
            request.setResponseCode(refused.status)
            if request.method == b"HEAD":
                return b""
            request.setHeader("Content-Type", "application/xml")
            return (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{refused.code}</Code>"
                f"<Message>{escape(refused.message)}</Message></Error>"
            ).encode()

    # Authentication

    def _check_signature(self, request: ServerRequest, body: bytes) -> None:
        headers = {
            name.decode().lower(): values[0].decode()
            for name, values in request.requestHeaders.getAllRawHeaders()
        }
        self.headers_seen.append(set(headers))
        self.projects_seen.append(headers.get("x-goog-project-id"))
        match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            raise _Refused(403, "AccessDenied", "Anonymous caller does not have access.")
        if match["key"] != ACCESS_ID:
            raise _Refused(403, "InvalidAccessKeyId", "The access key is not known.")
        if (match["region"], match["service"]) != ("auto", "s3"):
            raise _Refused(400, "AuthorizationHeaderMalformed", "Expected region auto, service s3.")
        signed = match["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            raise _Refused(403, "SignatureDoesNotMatch", "host and x-amz-date must be signed.")
        payload = headers.get("x-amz-content-sha256", "")
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            raise _Refused(400, "XAmzContentSHA256Mismatch", "The payload hash does not match.")
        url = f"http://{headers['host']}{request.uri.decode()}"
        aws_request = AWSRequest(
            method=request.method.decode(),
            url=url,
            headers={name: headers[name] for name in signed},
        )
        aws_request.context["timestamp"] = headers["x-amz-date"]
        signer = S3SigV4Auth(Credentials(ACCESS_ID, SECRET), "s3", "auto")
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        if expected != match["sig"]:
            raise _Refused(403, "SignatureDoesNotMatch", "The request signature does not match.")

    # Routing

    def _route(self, request: ServerRequest, body: bytes) -> bytes:
        uri = urlsplit(request.uri.decode())
        query = {k: v[0] for k, v in parse_qs(uri.query, keep_blank_values=True).items()}
        bucket, _, key = uri.path[1:].partition("/")
        bucket, key = unquote(bucket), unquote(key)
        method = request.method.decode()
        if not bucket:
            return self._list_buckets(request)
        if not key:
            return self._bucket(request, method, bucket, query, body)
        objects = self._objects(bucket)
        if "uploads" in query and method == "POST":
            return self._initiate(request, bucket, key)
        if "uploadId" in query:
            return self._multipart(request, method, bucket, key, query, body)
        if method == "PUT":
            return self._put(request, objects, key, body)
        if method in ("GET", "HEAD"):
            return self._get(request, objects, key, method)
        if method == "DELETE":
            if objects.pop(key, None) is None:
                raise _Refused(404, "NoSuchKey", "The specified key does not exist.")
            request.setResponseCode(204)
            return b""
        raise _Refused(405, "MethodNotAllowed", method)

    def _objects(self, bucket: str) -> dict[str, FakeObject]:
        if bucket not in self.buckets:
            raise _Refused(404, "NoSuchBucket", "The specified bucket does not exist.")
        return self.buckets[bucket]

    # Buckets

    def _list_buckets(self, request: ServerRequest) -> bytes:
        listed = "".join(
            f"<Bucket><Name>{name}</Name><CreationDate>2026-11-28T00:00:00.000Z</CreationDate></Bucket>"
            for name in sorted(self.buckets)
        )
        return self._xml(
            request,
            f"<ListAllMyBucketsResult xmlns='{_NS}'><Owner><ID>1</ID></Owner>"
            f"<Buckets>{listed}</Buckets></ListAllMyBucketsResult>",
        )

    def _bucket(
        self, request: ServerRequest, method: str, bucket: str, query: dict[str, str], body: bytes
    ) -> bytes:
        if method == "PUT":
            if not _BUCKET.fullmatch(bucket):
                raise _Refused(400, "InvalidBucketName", "The specified bucket is not valid.")
            if bucket in self.buckets:
                raise _Refused(409, "BucketAlreadyOwnedByYou", "You already own this bucket.")
            location = re.search(rb"<LocationConstraint>(.*)</LocationConstraint>", body)
            self.buckets[bucket] = {}
            self.locations[bucket] = location.group(1).decode() if location else "US"
            return b""
        objects = self._objects(bucket)
        if method == "HEAD":
            return b""
        if method == "DELETE":
            if objects:
                raise _Refused(
                    409, "BucketNotEmpty", "The bucket you tried to delete is not empty."
                )
            del self.buckets[bucket]
            request.setResponseCode(204)
            return b""
        if method == "GET" and query.get("list-type") == "2":
            return self._list_objects(request, objects, query)
        raise _Refused(400, "InvalidArgument", "Unsupported bucket request.")

    def _list_objects(
        self, request: ServerRequest, objects: dict[str, FakeObject], query: dict[str, str]
    ) -> bytes:
        prefix = query.get("prefix", "")
        names = sorted(name for name in objects if name.startswith(prefix))
        start = query.get("continuation-token")
        if start:
            names = [name for name in names if name >= base64.urlsafe_b64decode(start).decode()]
        page_size = int(query.get("max-keys", "1000"))
        page, rest = names[:page_size], names[page_size:]
        encode = query.get("encoding-type") == "url"

        def shown(name: str) -> str:
            from urllib.parse import quote

            return quote(name, safe="/") if encode else escape(name)

        contents = "".join(
            f"<Contents><Key>{shown(name)}</Key><LastModified>2026-11-28T00:00:00.000Z</LastModified>"
            f"<ETag>{escape(objects[name].etag)}</ETag><Size>{len(objects[name].data)}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for name in page
        )
        token = (
            f"<NextContinuationToken>{base64.urlsafe_b64encode(rest[0].encode()).decode()}"
            "</NextContinuationToken>"
            if rest
            else ""
        )
        return self._xml(
            request,
            f"<ListBucketResult xmlns='{_NS}'><Name>b</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{page_size}</MaxKeys>"
            f"{'<EncodingType>url</EncodingType>' if encode else ''}"
            f"<IsTruncated>{'true' if rest else 'false'}</IsTruncated>{token}{contents}"
            "</ListBucketResult>",
        )

    # Objects

    def _metadata(self, request: ServerRequest) -> tuple[str, dict[str, str]]:
        metadata = {}
        for name, values in request.requestHeaders.getAllRawHeaders():
            lowered = name.decode().lower()
            for prefix in ("x-goog-meta-", "x-amz-meta-"):
                if lowered.startswith(prefix):
                    metadata[lowered[len(prefix) :]] = values[0].decode()
        content_type = request.getHeader("content-type") or "application/octet-stream"
        return content_type, metadata

    def _store(
        self,
        objects: dict[str, FakeObject],
        key: str,
        data: bytes,
        request: ServerRequest,
        md5: bool,
    ) -> FakeObject:
        content_type, metadata = self._metadata(request)
        self._generation += 1
        digest = hashlib.md5(data).digest() if md5 else None
        etag = f'"{digest.hex()}"' if digest else f'"{secrets.token_hex(8)}-composite"'
        stored = FakeObject(data, content_type, metadata, etag, digest, self._generation)
        objects[key] = stored
        return stored

    def _check_md5(self, request: ServerRequest, data: bytes) -> None:
        sent = request.getHeader("content-md5")
        if sent is not None and base64.b64decode(sent) != hashlib.md5(data).digest():
            raise _Refused(400, "BadDigest", "The Content-MD5 you specified did not match.")

    def _put(
        self, request: ServerRequest, objects: dict[str, FakeObject], key: str, body: bytes
    ) -> bytes:
        self._check_md5(request, body)
        stored = self._store(objects, key, body, request, md5=True)
        self._object_headers(request, stored)
        return b""

    def _object_headers(self, request: ServerRequest, stored: FakeObject) -> None:
        request.setHeader("ETag", stored.etag)
        request.setHeader("x-goog-generation", str(stored.generation))
        hashes = f"crc32c={_crc32c(stored.data)}"
        if stored.md5 is not None:
            hashes += f",md5={base64.b64encode(stored.md5).decode()}"
        request.setHeader("x-goog-hash", hashes)

    def _get(
        self, request: ServerRequest, objects: dict[str, FakeObject], key: str, method: str
    ) -> bytes:
        stored = objects.get(key)
        if stored is None:
            raise _Refused(404, "NoSuchKey", "The specified key does not exist.")
        self._object_headers(request, stored)
        request.setHeader("Content-Type", stored.content_type)
        request.setHeader("Last-Modified", formatdate(usegmt=True))
        for name, value in stored.metadata.items():
            request.setHeader(f"x-goog-meta-{name}", value)
        data = stored.data
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", request.getHeader("range") or "")
        if ranged:
            first = int(ranged[1])
            last = int(ranged[2]) if ranged[2] else len(data) - 1
            request.setResponseCode(206)
            request.setHeader("Content-Range", f"bytes {first}-{last}/{len(data)}")
            data = data[first : last + 1]
        request.setHeader("Content-Length", str(len(data)))
        return b"" if method == "HEAD" else data

    # Multipart uploads

    def _initiate(self, request: ServerRequest, bucket: str, key: str) -> bytes:
        self._objects(bucket)
        content_type, metadata = self._metadata(request)
        upload_id = secrets.token_urlsafe(12)
        self.uploads[upload_id] = FakeUpload(bucket, key, content_type, metadata)
        return self._xml(
            request,
            f"<InitiateMultipartUploadResult xmlns='{_NS}'><Bucket>{bucket}</Bucket>"
            f"<Key>{escape(key)}</Key><UploadId>{upload_id}</UploadId>"
            "</InitiateMultipartUploadResult>",
        )

    def _multipart(
        self,
        request: ServerRequest,
        method: str,
        bucket: str,
        key: str,
        query: dict[str, str],
        body: bytes,
    ) -> bytes:
        upload = self.uploads.get(query["uploadId"])
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise _Refused(404, "NoSuchUpload", "The specified upload does not exist.")
        if method == "PUT":
            self._check_md5(request, body)
            upload.parts[int(query["partNumber"])] = body
            request.setHeader("ETag", f'"{hashlib.md5(body).hexdigest()}"')
            return b""
        if method == "DELETE":
            del self.uploads[query["uploadId"]]
            request.setResponseCode(204)
            return b""
        listed = re.findall(rb"<PartNumber>(\d+)</PartNumber><ETag>([^<]*)</ETag>", body)
        if re.search(rb"<Checksum", body):
            raise _Refused(400, "MalformedXML", "Unexpected elements in CompleteMultipartUpload.")
        numbers = [int(number) for number, _ in listed]
        if not numbers or numbers != sorted(numbers) or not set(numbers) <= set(upload.parts):
            raise _Refused(400, "InvalidPartOrder", "The parts are not in ascending order.")
        for number, etag in listed:
            if (
                etag.decode().replace("&quot;", '"')
                != f'"{hashlib.md5(upload.parts[int(number)]).hexdigest()}"'
            ):
                raise _Refused(400, "InvalidPart", "A part's ETag does not match.")
        del self.uploads[query["uploadId"]]
        data = b"".join(upload.parts[number] for number in numbers)
        stored = FakeObject(
            data, upload.content_type, upload.metadata, f'"{secrets.token_hex(8)}"', None, 0
        )
        self._generation += 1
        stored.generation = self._generation
        self.buckets[bucket][key] = stored
        return self._xml(
            request,
            f"<CompleteMultipartUploadResult xmlns='{_NS}'><Location>x</Location>"
            f"<Bucket>{bucket}</Bucket><Key>{escape(key)}</Key><ETag>{escape(stored.etag)}</ETag>"
            "</CompleteMultipartUploadResult>",
        )

    def _xml(self, request: ServerRequest, document: str) -> bytes:
        request.setHeader("Content-Type", "application/xml; charset=UTF-8")
        return f"<?xml version='1.0' encoding='UTF-8'?>{document}".encode()
