"""
:class:`FakeS3`: one in-memory S3 account, its buckets and their endpoints
(the object endpoints are in :mod:`._objects`).
"""

from __future__ import annotations

import base64
import binascii
import glob
import hashlib
import re
from calendar import timegm
from collections.abc import Iterable, Mapping
from time import strptime
from typing import Any

from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.testing._http import FakeService, Received, Refused, Reply
from txcloud.testing.aws_credentials import FakeSTS
from txcloud.testing.s3._objects import (
    MAX_KEY_BYTES,
    MAX_PAGE,
    ObjectOperations,
    S3Call,
    no_such_bucket,
    number_argument,
    url_encoding,
)
from txcloud.testing.s3._store import (
    FakeBucket,
    FakeObject,
    FakePart,
    ObjectFields,
    bucket_name_problem,
    md5_hex,
)
from txcloud.testing.s3._xml import (
    bucket_entry,
    document,
    element,
    error_document,
    location_constraint,
    location_document,
    object_entry,
    owner,
    prefix_entry,
)

__all__ = ["DEFAULT_KEY", "DEFAULT_SECRET", "FakeS3"]

#: The access key id :meth:`FakeS3.driver` signs with (AWS's documentation example).
DEFAULT_KEY = "AKIAIOSFODNN7EXAMPLE"
#: Its secret access key.
DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

MiB = 1024 * 1024

# The status S3 answers each error code with, for fail() without a status.
_STATUS_OF = {
    "AccessDenied": 403,
    "BadDigest": 400,
    "BucketAlreadyExists": 409,
    "BucketAlreadyOwnedByYou": 409,
    "BucketNotEmpty": 409,
    "EntityTooSmall": 400,
    "ExpiredToken": 400,
    "InternalError": 500,
    "InvalidAccessKeyId": 403,
    "InvalidBucketName": 400,
    "InvalidPart": 400,
    "InvalidRange": 416,
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "PreconditionFailed": 412,
    "RequestTimeout": 400,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "SlowDown": 503,
}

# Virtual-hosted addressing: BUCKET.s3.REGION.amazonaws.com (or the legacy forms).
_VIRTUAL_HOST = re.compile(r"(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")
_STAMP = "%Y%m%dT%H%M%SZ"


def _not_allowed() -> Refused:
    return Refused(
        405, "MethodNotAllowed", "The specified method is not allowed against this resource."
    )


def _token(item: str) -> str:
    return base64.urlsafe_b64encode(b"fake1:" + item.encode("utf-8")).decode("ascii")


def _item_of(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if not raw.startswith(b"fake1:"):
        raise Refused(400, "InvalidArgument", "The continuation token provided is incorrect")
    return raw[len(b"fake1:") :].decode("utf-8")


class FakeS3(FakeService, ObjectOperations):
    """
    An in-memory S3 account (see :mod:`txcloud.testing.s3`).

    :param clock: what dates objects and delays answers: a ``Clock`` in
        unit tests (an :class:`~txcloud.testing.clock.InlineClock` to upload
        or download); the global reactor by default.
    :param region: the default region: where :meth:`add_bucket` puts
        buckets and what :meth:`driver` signs for.
    :param access_keys: the access key ids it accepts; any when ``None``.
    :ivar sts: the :class:`~txcloud.testing.aws_credentials.FakeSTS` that
        answers STS calls sent here, and whose session keys are accepted.
    :ivar buckets: :class:`FakeBucket` by name, with their objects and uploads.
    :ivar min_part_size: the smallest part (but the last) a multipart
        upload may be completed with: 5 MiB, as S3's.
    :ivar max_buckets_per_page: buckets per ListBuckets page when the
        client does not say.
    """

    def __init__(
        self,
        *,
        clock: Any = None,
        region: str = "us-east-1",
        access_keys: Iterable[str] | None = None,
    ) -> None:
        super().__init__(clock)
        self.region = region
        self.access_keys = None if access_keys is None else set(access_keys)
        self.buckets: dict[str, FakeBucket] = {}
        self.min_part_size = 5 * MiB
        self.max_buckets_per_page = 10_000
        self._completed: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._ids = 0
        self.sts = FakeSTS(self.clock)

    def driver(
        self,
        *,
        region: str | None = None,
        reactor: Any = None,
        key: str | None = DEFAULT_KEY,
        secret: str | None = DEFAULT_SECRET,
        **kwargs: Any,
    ) -> S3StorageDriver:
        """
        A real :class:`~txcloud.storage.drivers.s3.S3StorageDriver` whose
        requests come here through a new :meth:`agent`.

        :param region: the driver's region; this fake's by default.
        :param reactor: the driver's reactor; this fake's clock by default.
        :param kwargs: more driver arguments (``ex_retry``, ``ex_part_size``...);
            with ``ex_credentials`` (a role through :attr:`sts`...), *key*
            and *secret* are not used.
        """
        if "ex_credentials" in kwargs:
            key = secret = None
        return S3StorageDriver(
            key,
            secret,
            region=region or self.region,
            reactor=self.clock if reactor is None else reactor,
            ex_agent=self.agent(),
            **kwargs,
        )

    # Seeding

    def add_bucket(self, name: str, *, region: str | None = None) -> FakeBucket:
        """
        Add an empty bucket.

        :param region: its region; this fake's by default.
        :raises ValueError: for a name S3 refuses, or one already taken.
        """
        problem = bucket_name_problem(name)
        if problem is not None or name in self.buckets:
            raise ValueError(f"cannot add bucket {name!r}: {problem or 'it exists'}")
        bucket = FakeBucket(name, region or self.region, self.clock.seconds())
        self.buckets[name] = bucket
        return bucket

    def add_object(
        self,
        bucket: str,
        key: str,
        data: bytes | str = b"",
        *,
        content_type: str = "binary/octet-stream",
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        storage_class: str = "STANDARD",
        part_size: int | None = None,
        crc32: bool = True,
    ) -> FakeObject:
        """
        Store an object (replacing any with that key), as an upload would.

        :param data: its content (text is stored as UTF-8).
        :param metadata: user metadata (names in lower case).
        :param headers: ``Cache-Control``, ``Content-Encoding``... to serve it with.
        :param part_size: store it as a multipart upload in parts of this
            many bytes would have (a ``-N`` ETag, parts to ``HEAD``).
        :param crc32: keep its CRC32 checksum, as uploads that send one do.
        :raises ValueError: for an unknown bucket.
        """
        found = self.buckets.get(bucket)
        if found is None:
            raise ValueError(f"no bucket {bucket!r}: add it first")
        content = data.encode("utf-8") if isinstance(data, str) else data
        fields = ObjectFields(
            content_type,
            {name.lower(): value for name, value in (metadata or {}).items()},
            dict(headers or {}),
            storage_class,
        )
        now = self.clock.seconds()
        if part_size is None:
            obj = FakeObject.whole(key, content, now, fields, "CRC32" if crc32 else None)
        else:
            cuts = range(0, max(len(content), 1), part_size)
            parts = [FakePart(content[i : i + part_size], "", now) for i in cuts]
            parts = [FakePart(p.data, md5_hex(p.data), now) for p in parts]
            obj = FakeObject.assembled(key, parts, now, fields, "CRC32" if crc32 else None)
        found.objects[key] = obj
        return obj

    # Faults

    def fail(
        self,
        code: str,
        *,
        status: int | None = None,
        message: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """
        Answer the next *times* requests with an S3 error (after checking
        their credentials).

        :param code: the S3 error code (``"InternalError"``, ``"AccessDenied"``...).
        :param status: the HTTP status; S3's for *code* when known.
        :param bucket: only requests about this bucket (and its objects).
        :param key: only requests about this key of *bucket*.
        :param method: only requests with this method.
        :param times: how many requests; ``None`` for every one.
        :param headers: more headers to answer with.
        :raises ValueError: for an unknown code without a status, or a key without a bucket.
        """
        status = status or _STATUS_OF.get(code)
        if status is None:
            raise ValueError(f"give the status to answer {code!r} with")
        refused = Refused(status, code, message or f"injected {code}", headers)
        self._add_fault(self._fault_target(bucket, key), method, times, refused)

    def throttle(
        self,
        *,
        times: int | None = 1,
        bucket: str | None = None,
        key: str | None = None,
        method: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """
        Answer the next *times* requests ``503 SlowDown``, as S3 does when
        asked too fast (the transport retries them, after a backoff).

        :param retry_after: also send ``Retry-After`` with this many seconds.
        """
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.fail(
            "SlowDown",
            message="Please reduce your request rate.",
            bucket=bucket,
            key=key,
            method=method,
            times=times,
            headers=headers,
        )

    def delay(
        self,
        seconds: float,
        *,
        bucket: str | None = None,
        key: str | None = None,
        method: str | None = None,
        times: int | None = None,
    ) -> None:
        """
        Answer matching requests *seconds* later on the clock (on top of
        :attr:`latency`).
        """
        self._add_fault(self._fault_target(bucket, key), method, times, delay=seconds)

    @staticmethod
    def _fault_target(bucket: str | None, key: str | None) -> list[str]:
        # Patterns for the requests about the bucket (and its objects) or the key.
        if key is not None and bucket is None:
            raise ValueError("a fault for a key needs its bucket")
        if bucket is None:
            return []
        if key is None:
            return [f"/{glob.escape(bucket)}", f"/{glob.escape(bucket)}/*"]
        return [f"/{glob.escape(bucket)}/{glob.escape(key)}"]

    # Requests

    def _address(self, received: Received) -> tuple[str | None, str | None]:
        """The bucket and key a request names, virtual-hosted or path-style."""
        host = (received.header("host") or "").rsplit(":", 1)[0]
        virtual = _VIRTUAL_HOST.fullmatch(host)
        if virtual is not None:
            return virtual["bucket"], received.path[1:] or None
        bucket, _, key = received.path[1:].partition("/")
        return bucket or None, key or None

    def _target(self, received: Received) -> str:
        bucket, key = self._address(received)
        return "/" + "/".join(name for name in (bucket, key) if name)

    def _credential(self, received: Received) -> tuple[str | None, str]:
        """The access key id and region a request was signed with."""
        found = _CREDENTIAL.search(received.header("authorization") or "")
        if found is None:
            found = _CREDENTIAL.search("Credential=" + (received.arg("X-Amz-Credential") or ""))
        if found is None:
            return None, self.region
        return found[1], found[2]

    def _authenticate(self, received: Received) -> None:
        key, _ = self._credential(received)
        if key is None:
            raise Refused(403, "AccessDenied", "Access Denied")
        if self.sts.expired(key):
            raise Refused(400, "ExpiredToken", "The provided token has expired.")
        known = self.access_keys is None or key in self.access_keys
        if not (known or self.sts.session(key) is not None):
            raise Refused(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                details={"AWSAccessKeyId": key},
            )
        signed, expires = received.arg("X-Amz-Date"), received.arg("X-Amz-Expires")
        if signed and expires and expires.isdigit():
            if self.clock.seconds() > timegm(strptime(signed, _STAMP)) + int(expires):
                raise Refused(403, "AccessDenied", "Request has expired")

    def _delegate(self, received: Received) -> FakeService | None:
        return self.sts if FakeSTS.wants(received) else None

    def _common_headers(self, received: Received) -> Mapping[str, str]:
        request_id = f"{len(self.received):016X}"
        host_id = base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()
        return {"x-amz-request-id": request_id, "x-amz-id-2": host_id}

    def _error_reply(self, received: Received, refused: Refused) -> Reply:
        headers = {"Content-Type": "application/xml", **refused.headers}
        if received.method == "HEAD":
            # HEAD answers carry no body, so no error document.
            return Reply(refused.status, headers)
        request_id = self._common_headers(received)["x-amz-request-id"]
        return Reply(refused.status, headers, error_document(refused, request_id))

    def _new_id(self, kind: str) -> str:
        self._ids += 1
        digest = hashlib.sha256(f"{kind}-{self._ids}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def _handle(self, received: Received) -> Reply:
        call = S3Call(received, *self._address(received), self._credential(received)[1])
        method = received.method
        if call.bucket_name is None:
            if method != "GET":
                raise _not_allowed()
            return self._list_buckets(call)
        if call.key is None:
            return self._bucket_call(call)
        if len(call.key.encode("utf-8")) > MAX_KEY_BYTES:
            raise Refused(400, "KeyTooLongError", "Your key is too long")
        if method == "PUT":
            return self._upload_part(call) if call.has("uploadId") else self._put_object(call)
        if method in ("GET", "HEAD"):
            if call.has("uploadId"):
                raise Refused(501, "NotImplemented", "This fake does not list parts.")
            return self._get_object(call)
        if method == "DELETE":
            if call.has("uploadId"):
                return self._abort_multipart_upload(call)
            return self._delete_object(call)
        if method == "POST" and call.has("uploads"):
            return self._create_multipart_upload(call)
        if method == "POST" and call.has("uploadId"):
            return self._complete_multipart_upload(call)
        raise _not_allowed()

    def _bucket_call(self, call: S3Call) -> Reply:
        method = call.received.method
        if method == "PUT":
            return self._create_bucket(call)
        if method == "HEAD":
            return self._head_bucket(call)
        if method == "DELETE":
            return self._delete_bucket(call)
        if method != "GET":
            raise _not_allowed()
        if call.has("uploads"):
            return self._list_multipart_uploads(call)
        if call.has("location"):
            return self._bucket_location(call)
        return self._list_objects(call)

    # Buckets

    def _existing_bucket(self, call: S3Call) -> FakeBucket:
        assert call.bucket_name is not None
        bucket = self.buckets.get(call.bucket_name)
        if bucket is None:
            raise no_such_bucket(call.bucket_name)
        if bucket.region != call.region:
            raise Refused(
                301,
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the specified "
                "endpoint. Please send all future requests to this endpoint.",
                headers={"x-amz-bucket-region": bucket.region},
                details={
                    "Bucket": bucket.name,
                    "Endpoint": f"{bucket.name}.s3.{bucket.region}.amazonaws.com",
                },
            )
        return bucket

    def _list_buckets(self, call: S3Call) -> Reply:
        prefix = call.arg("prefix") or ""
        page_size = number_argument(call, "max-buckets", 1, 10_000) or self.max_buckets_per_page
        token = call.arg("continuation-token")
        after = _item_of(token) if token is not None else ""
        region = call.arg("bucket-region")
        names = [
            name
            for name in sorted(self.buckets)
            if name.startswith(prefix)
            and name > after
            and region in (None, self.buckets[name].region)
        ]
        page = names[:page_size]
        listed = document(
            "ListAllMyBucketsResult",
            [
                owner(),
                element("Buckets", [bucket_entry(self.buckets[name]) for name in page]),
                ("ContinuationToken", _token(page[-1]) if len(names) > page_size else None),
                ("Prefix", prefix or None),
            ],
        )
        return Reply(200, {"Content-Type": "application/xml"}, listed)

    def _create_bucket(self, call: S3Call) -> Reply:
        name = call.bucket_name
        assert name is not None
        if bucket_name_problem(name) is not None:
            raise Refused(
                400,
                "InvalidBucketName",
                "The specified bucket is not valid.",
                details={"BucketName": name},
            )
        wanted = location_constraint(call.received.body)
        if (wanted or "us-east-1") != call.region:
            raise Refused(
                400,
                "IllegalLocationConstraintException",
                f"The {wanted or 'unspecified'} location constraint is incompatible for the "
                "region specific endpoint this request was sent to.",
            )
        if name in self.buckets:
            raise Refused(
                409,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                details={"BucketName": name},
            )
        self.add_bucket(name, region=call.region)
        return Reply(200, {"Location": f"/{name}"})

    def _head_bucket(self, call: S3Call) -> Reply:
        assert call.bucket_name is not None
        bucket = self.buckets.get(call.bucket_name)
        if bucket is None:
            raise no_such_bucket(call.bucket_name)
        status = 200 if bucket.region == call.region else 301
        return Reply(status, {"x-amz-bucket-region": bucket.region})

    def _delete_bucket(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        if bucket.objects:
            raise Refused(
                409,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                details={"BucketName": bucket.name},
            )
        del self.buckets[bucket.name]
        return Reply(204)

    def _bucket_location(self, call: S3Call) -> Reply:
        assert call.bucket_name is not None
        bucket = self.buckets.get(call.bucket_name)
        if bucket is None:
            raise no_such_bucket(call.bucket_name)
        return Reply(200, {"Content-Type": "application/xml"}, location_document(bucket.region))

    def _list_objects(self, call: S3Call) -> Reply:
        bucket = self._existing_bucket(call)
        if call.arg("list-type") != "2":
            raise Refused(501, "NotImplemented", "This fake lists objects with ListObjectsV2 only.")
        url = url_encoding(call)
        prefix = call.arg("prefix") or ""
        delimiter = call.arg("delimiter") or ""
        asked = number_argument(call, "max-keys", 0, 2**31)
        page_size = MAX_PAGE if asked is None else min(asked, MAX_PAGE)
        token = call.arg("continuation-token")
        start_after = call.arg("start-after")
        after = _item_of(token) if token is not None else start_after or ""
        items: list[FakeObject | str] = []
        truncated = False
        for key in sorted(bucket.objects):
            if not key.startswith(prefix) or key <= after:
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            common = key[: cut + len(delimiter)] if cut >= 0 else None
            # Keys sharing a prefix are next to each other: one entry for them all.
            if common is not None and (after.startswith(common) or items[-1:] == [common]):
                continue
            if len(items) == page_size:
                truncated = page_size > 0
                break
            items.append(common if common is not None else bucket.objects[key])
        last = items[-1] if items else ""
        listed = document(
            "ListBucketResult",
            [
                ("Name", bucket.name),
                ("Prefix", prefix),
                ("Delimiter", delimiter or None),
                ("MaxKeys", page_size),
                ("KeyCount", len(items)),
                ("EncodingType", "url" if url else None),
                ("IsTruncated", truncated),
                ("ContinuationToken", token),
                (
                    "NextContinuationToken",
                    _token(last if isinstance(last, str) else last.key) if truncated else None,
                ),
                ("StartAfter", start_after),
                *[
                    object_entry(item, url, call.arg("fetch-owner") == "true")
                    for item in items
                    if isinstance(item, FakeObject)
                ],
                *[prefix_entry(item, url) for item in items if isinstance(item, str)],
            ],
        )
        return Reply(200, {"Content-Type": "application/xml"}, listed)
