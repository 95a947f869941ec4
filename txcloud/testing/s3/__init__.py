"""
An in-memory S3-compatible object store, for trial tests of code that uses
txcloud's S3 driver (or any S3 client that can send through an ``IAgent``).

In memory, with a driver pointed at it::

    clock = InlineClock()              # a Clock that runs thread-pool work inline
    s3 = FakeS3(clock=clock)
    s3.add_bucket("reports")
    s3.add_object("reports", "2024/01.json", b"{}", content_type="application/json")
    storage = s3.driver()              # S3StorageDriver(..., ex_agent=s3.agent(), reactor=clock)
    objects = self.successResultOf(storage.list_container_objects(container))

or on a real port: ``reactor.listenTCP(0, s3.site(), interface="127.0.0.1")``
and ``S3StorageDriver(key, secret, host="127.0.0.1", port=port, secure=False)``.

What it answers, as the S3 API reference describes: virtual-hosted
(``BUCKET.s3.REGION.amazonaws.com``) and path-style addressing;
ListBuckets (paged with ``continuation-token``), CreateBucket (with its
``LocationConstraint``), HeadBucket, DeleteBucket, GetBucketLocation;
ListObjectsV2 (``prefix``, ``delimiter``, ``start-after``, ``max-keys``,
continuation tokens, ``encoding-type=url``); PutObject, GetObject and
HeadObject (``Range``, ``partNumber``, ``If-Match``, ``If-None-Match``,
user metadata, content type and the other content headers), DeleteObject;
CreateMultipartUpload, UploadPart, CompleteMultipartUpload (parts checked:
order, ETags, checksums, 5 MiB minimum), AbortMultipartUpload and
ListMultipartUploads.  ETags are MD5 digests (``"<md5 of part digests>-N"``
for multipart objects); ``Content-MD5``, ``x-amz-checksum-crc32``,
``x-amz-checksum-crc32c`` and ``x-amz-content-sha256`` are checked, and
CRC32 and CRC32C checksums kept (of the whole object, or of the parts'
checksums unless the upload asked for ``x-amz-checksum-type:
FULL_OBJECT``; a whole object's checksum sent with the completion is
checked) and shown with ``x-amz-checksum-mode: ENABLED``.  Errors are S3's ``<Error>``
documents (``NoSuchBucket``, ``NoSuchKey``, ``BucketNotEmpty``,
``BucketAlreadyOwnedByYou``, ``InvalidRange``, ``PermanentRedirect`` for a
bucket of another region...), with ``x-amz-request-id`` headers.

Requests must be signed (an ``Authorization`` header or a presigned URL,
whose expiry is checked on the clock), but signatures are not verified;
with *access_keys*, other key ids get ``InvalidAccessKeyId``.  STS
``AssumeRole`` calls sent here are answered by :attr:`FakeS3.sts` (a
:class:`~txcloud.testing.aws_credentials.FakeSTS`), whose session keys are
accepted until they expire (``ExpiredToken`` after).

Faults: :meth:`FakeS3.fail` answers an S3 error, :meth:`FakeS3.throttle`
``503 SlowDown`` (which the driver's transport retries after a backoff on
the clock), :meth:`FakeS3.delay` and :attr:`FakeS3.latency` hold answers
on the clock.
"""

from txcloud.testing.s3._store import FakeBucket, FakeObject, FakePart, FakeUpload
from txcloud.testing.s3.fake import DEFAULT_KEY, DEFAULT_SECRET, FakeS3

__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_SECRET",
    "FakeBucket",
    "FakeObject",
    "FakePart",
    "FakeS3",
    "FakeUpload",
]
