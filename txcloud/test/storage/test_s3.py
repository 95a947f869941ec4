"""
Unit tests of the S3 storage driver (Provider.S3) against scripted answers
written from the S3 API reference, sent through treq's in-memory
RequestTraversalAgent, with time from a Clock and the thread pool replaced
by one that runs work at once.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import google_crc32c
from twisted.internet.defer import Deferred
from twisted.web.server import Request as ServerRequest

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidCredsError,
    InvalidObjectNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
    ServiceUnavailableError,
    TxCloudError,
)
from txcloud.http import RetryPolicy
from txcloud.storage.base import Object
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.storage.drivers.s3 import download as s3_download
from txcloud.storage.drivers.s3 import upload as s3_upload
from txcloud.storage.providers import get_driver
from txcloud.storage.transfer.config import NEVER
from txcloud.storage.transfer.digest import multipart_etag
from txcloud.storage.types import Provider
from txcloud.test.http._support import Answer, Received
from txcloud.test.storage._scripted import (
    ScriptedDriverTestCase,
    query_of,
    xml_answer,
)

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
MiB = 1024 * 1024


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _error(status: int, code: str, message: str = "refused") -> Answer:
    body = (
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>R1</RequestId></Error>"
    )
    return (status, {"Content-Type": "application/xml"}, body.encode())


async def _first(items: AsyncIterator[Any]) -> Any:
    return await anext(items)


class S3TestCase(ScriptedDriverTestCase[S3StorageDriver]):
    region = "eu-west-1"

    def make(self, *answers: Answer, **options: Any) -> S3StorageDriver:
        options.setdefault("region", self.region)
        return self.connect(S3StorageDriver, answers, KEY, SECRET, **options)

    def object(self, name: str = "a.txt", size: int = 10, etag: str | None = None) -> Object:
        extra: dict[str, Any] = {}
        if etag is not None:
            extra = {"etag": f'"{etag}"', "hash_is_md5": "-" not in etag}
        return Object(name, size, etag, extra, {}, self.container(), self.driver)


class ConstructionTests(S3TestCase):
    def test_get_driver_returns_the_s3_driver(self) -> None:
        self.assertIs(get_driver(Provider.S3), S3StorageDriver)
        self.assertEqual(
            (S3StorageDriver.name, S3StorageDriver.type, S3StorageDriver.service_name),
            ("Amazon S3", Provider.S3, "s3"),
        )

    def test_transfer_settings_come_from_the_ex_arguments(self) -> None:
        driver = self.make(ex_part_size=16 * MiB, ex_max_concurrency=4, ex_range_size=8 * MiB)
        config = driver.transfer_config
        self.assertEqual((config.part_size, config.max_concurrency), (16 * MiB, 4))
        self.assertEqual((config.multipart_threshold, config.range_size), (8 * MiB, 8 * MiB))

    def test_downloads_use_ranges_on_aws_and_one_stream_on_custom_hosts(self) -> None:
        self.assertEqual(self.make().transfer_config.download_threshold, 64 * MiB)
        custom = self.make(host="127.0.0.1", port=9000)
        self.assertEqual(custom.transfer_config.download_threshold, NEVER)
        self.assertEqual(custom.transfer_config.multipart_threshold, 8 * MiB)
        tuned = self.make(host="127.0.0.1", ex_download_threshold=16 * MiB)
        self.assertEqual(tuned.transfer_config.download_threshold, 16 * MiB)

    def test_bad_transfer_settings_are_refused(self) -> None:
        for bad in ({"ex_part_size": 0}, {"ex_max_concurrency": -2}, {"ex_range_size": 1.5}):
            with self.assertRaises(InvalidArgumentError):
                self.make(**bad)

    def test_a_bad_region_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            self.make(region="Europe")


class AddressingTests(S3TestCase):
    def head(self, bucket: str, key: str) -> Received:
        self.result(self.driver.get_object(bucket, key))
        return self.received[-1]

    def test_aws_requests_use_virtual_hosted_urls(self) -> None:
        self.make((200, {"Content-Length": "0", "ETag": '"x"'}, b""))
        received = self.head("photos", "a b/c+d.jpg")
        self.assertEqual(received.header("Host"), "photos.s3.eu-west-1.amazonaws.com")
        self.assertEqual(received.uri, "/a%20b/c%2Bd.jpg")

    def test_dotted_bucket_names_use_path_style_on_aws(self) -> None:
        self.make((200, {"Content-Length": "0"}, b""))
        received = self.head("my.photos", "k")
        self.assertEqual(received.header("Host"), "s3.eu-west-1.amazonaws.com")
        self.assertEqual(received.uri, "/my.photos/k")

    def test_a_custom_host_uses_path_style_urls(self) -> None:
        self.make((200, {"Content-Length": "0"}, b""), host="127.0.0.1", port=9000, secure=False)
        received = self.head("photos", "dir/k")
        self.assertEqual(received.header("Host"), "127.0.0.1:9000")
        self.assertEqual(received.uri, "/photos/dir/k")

    def test_requests_are_signed_for_s3_in_the_region(self) -> None:
        self.make((200, {"Content-Length": "0"}, b""))
        received = self.head("photos", "k")
        authorization = received.header("Authorization") or ""
        self.assertTrue(
            authorization.startswith(
                f"AWS4-HMAC-SHA256 Credential={KEY}/19700101/eu-west-1/s3/aws4_request, "
            )
        )
        self.assertNotIn(SECRET, authorization)
        self.assertEqual(received.header("X-Amz-Content-Sha256"), hashlib.sha256().hexdigest())


BUCKETS_PAGE_1 = f"""<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="{NAMESPACE}">
  <Owner><ID>owner-1</ID><DisplayName>ops</DisplayName></Owner>
  <Buckets>
    <Bucket><Name>alpha</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate>
      <BucketRegion>eu-west-1</BucketRegion></Bucket>
    <Bucket><Name>beta</Name><CreationDate>2024-02-03T04:05:06.000Z</CreationDate></Bucket>
  </Buckets>
  <ContinuationToken>next-buckets</ContinuationToken>
</ListAllMyBucketsResult>"""

BUCKETS_PAGE_2 = f"""<ListAllMyBucketsResult xmlns="{NAMESPACE}">
  <Buckets><Bucket><Name>gamma</Name><CreationDate>2024-03-04T05:06:07.000Z</CreationDate>
  </Bucket></Buckets>
</ListAllMyBucketsResult>"""


class ContainerTests(S3TestCase):
    def test_list_containers_follows_continuation_tokens(self) -> None:
        self.make(xml_answer(BUCKETS_PAGE_1), xml_answer(BUCKETS_PAGE_2))
        containers = self.result(self.driver.list_containers())
        self.assertEqual([c.name for c in containers], ["alpha", "beta", "gamma"])
        self.assertEqual(
            containers[0].extra,
            {"creation_date": "2024-01-02T03:04:05.000Z", "region": "eu-west-1"},
        )
        self.assertEqual(self.received[0].header("Host"), "s3.eu-west-1.amazonaws.com")
        self.assertEqual(query_of(self.received[1]), {"continuation-token": "next-buckets"})

    def test_create_container_names_the_region_outside_us_east_1(self) -> None:
        self.make((200, {}, b""))
        container = self.result(self.driver.create_container("new-bucket"))
        self.assertEqual((container.name, container.extra), ("new-bucket", {"region": "eu-west-1"}))
        [received] = self.received
        self.assertEqual(
            (received.method, received.header("Host")),
            ("PUT", "new-bucket.s3.eu-west-1.amazonaws.com"),
        )
        self.assertIn(b"<LocationConstraint>eu-west-1</LocationConstraint>", received.body)

    def test_create_container_in_us_east_1_sends_no_configuration(self) -> None:
        self.make((200, {}, b""), region="us-east-1")
        self.result(self.driver.create_container("new-bucket"))
        self.assertEqual(self.received[0].body, b"")

    def test_create_container_refuses_bad_names_before_any_request(self) -> None:
        self.make((200, {}, b""))
        bad_names = [
            "ab",
            "A-bucket",
            "bucket_",
            "-bucket",
            "bucket-",
            "bu..cket",
            "192.168.5.4",
            "xn--bucket",
            "bucket-s3alias",
            "a" * 64,
            "",
            None,
        ]
        for name in bad_names:
            error = self.failure(self.driver.create_container(name), InvalidContainerNameError)  # type: ignore[arg-type]
            self.assertEqual(error.container_name, str(name))
        self.assertEqual(self.received, [])

    def test_existing_bucket_gives_container_already_exists(self) -> None:
        for code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            self.make(_error(409, code))
            error = self.failure(self.driver.create_container("taken"), ContainerAlreadyExistsError)
            self.assertEqual((error.container_name, error.code, error.status), ("taken", code, 409))

    def test_get_container_reads_the_bucket_region(self) -> None:
        self.make((200, {"x-amz-bucket-region": "eu-west-1"}, b""))
        container = self.result(self.driver.get_container("photos"))
        self.assertEqual((container.name, container.extra), ("photos", {"region": "eu-west-1"}))
        self.assertEqual(self.received[0].method, "HEAD")

    def test_get_container_accepts_a_bucket_of_another_region(self) -> None:
        self.make((301, {"x-amz-bucket-region": "ap-south-1"}, b""))
        container = self.result(self.driver.get_container("photos"))
        self.assertEqual(container.extra, {"region": "ap-south-1"})

    def test_missing_bucket_gives_container_does_not_exist(self) -> None:
        self.make((404, {}, b""))
        error = self.failure(self.driver.get_container("gone"), ContainerDoesNotExistError)
        self.assertEqual(error.container_name, "gone")

    def test_deleting_a_non_empty_bucket_gives_container_is_not_empty(self) -> None:
        self.make(_error(409, "BucketNotEmpty"))
        error = self.failure(
            self.driver.delete_container(self.container("full")), ContainerIsNotEmptyError
        )
        self.assertEqual(error.container_name, "full")
        self.assertEqual(self.received[0].method, "DELETE")

    def test_delete_container_fires_true(self) -> None:
        self.make((204, {}, b""))
        self.assertIs(self.result(self.driver.delete_container(self.container())), True)


def _listing(keys: list[str], token: str | None, encoded: bool = True) -> str:
    contents = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2024-05-06T07:08:09.000Z</LastModified>"
        f'<ETag>"{_md5(key.encode())}"</ETag><Size>{len(key)}</Size>'
        "<StorageClass>STANDARD</StorageClass></Contents>"
        for key in keys
    )
    truncated = "true" if token else "false"
    next_token = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    encoding = "<EncodingType>url</EncodingType>" if encoded else ""
    return (
        f'<ListBucketResult xmlns="{NAMESPACE}"><Name>photos</Name><KeyCount>{len(keys)}'
        f"</KeyCount><MaxKeys>2</MaxKeys>{encoding}<IsTruncated>{truncated}</IsTruncated>"
        f"{next_token}{contents}</ListBucketResult>"
    )


class ObjectListingTests(S3TestCase):
    def test_pages_are_fetched_lazily_with_continuation_tokens(self) -> None:
        self.make(xml_answer(_listing(["a", "b"], "page-2")), xml_answer(_listing(["c"], None)))
        iterator = self.driver.iterate_container_objects(
            self.container(), prefix="", ex_page_size=2
        )
        first = self.result(Deferred.fromCoroutine(_first(iterator)))
        self.assertEqual(first.name, "a")
        self.assertEqual(len(self.received), 1)
        rest = self.result(self.collect(iterator))
        self.assertEqual([obj.name for obj in rest], ["b", "c"])
        self.assertEqual(
            query_of(self.received[0]), {"list-type": "2", "encoding-type": "url", "max-keys": "2"}
        )
        self.assertEqual(query_of(self.received[1])["continuation-token"], "page-2")

    def test_listed_objects_carry_libcloud_fields(self) -> None:
        self.make(xml_answer(_listing(["dir/photo%201%2B2.jpg"], None)))
        [obj] = self.result(self.driver.list_container_objects(self.container(), prefix="dir/"))
        self.assertEqual(obj.name, "dir/photo 1+2.jpg")
        self.assertEqual(obj.hash, _md5(b"dir/photo%201%2B2.jpg"))
        self.assertEqual(obj.extra["last_modified"], "2024-05-06T07:08:09.000Z")
        self.assertEqual(obj.extra["storage_class"], "STANDARD")
        self.assertEqual(obj.container.name, "photos")
        self.assertEqual(query_of(self.received[0])["prefix"], "dir/")

    def test_keys_are_read_as_is_without_url_encoding(self) -> None:
        self.make(xml_answer(_listing(["a%20b"], None, encoded=False)))
        [obj] = self.result(self.driver.list_container_objects(self.container()))
        self.assertEqual(obj.name, "a%20b")

    def test_page_size_out_of_range_is_refused_before_any_request(self) -> None:
        self.make(xml_answer(_listing([], None)))
        for bad in (0, 1001, "10", True):
            self.failure(
                self.driver.list_container_objects(self.container(), ex_page_size=bad),  # type: ignore[arg-type]
                InvalidArgumentError,
            )
        self.assertEqual(self.received, [])

    def test_listing_a_missing_bucket_gives_container_does_not_exist(self) -> None:
        self.make(_error(404, "NoSuchBucket"))
        error = self.failure(
            self.driver.list_container_objects(self.container("gone")), ContainerDoesNotExistError
        )
        self.assertEqual(error.container_name, "gone")


class ObjectTests(S3TestCase):
    def test_get_object_reads_headers_into_the_object(self) -> None:
        self.make(
            (
                200,
                {
                    "Content-Length": "11",
                    "Content-Type": "text/plain",
                    "ETag": f'"{_md5(b"hello world")}"',
                    "Last-Modified": "Mon, 06 May 2024 07:08:09 GMT",
                    "x-amz-meta-Owner": "ops",
                    "x-amz-meta-build": "42",
                },
                b"",
            )
        )
        obj = self.result(self.driver.get_object("photos", "notes.txt"))
        self.assertEqual((obj.name, obj.size, obj.hash), ("notes.txt", 11, _md5(b"hello world")))
        self.assertEqual(obj.meta_data, {"owner": "ops", "build": "42"})
        self.assertEqual(obj.extra["content_type"], "text/plain")
        self.assertEqual(obj.extra["etag"], f'"{_md5(b"hello world")}"')
        self.assertEqual(obj.extra["last_modified"], "Mon, 06 May 2024 07:08:09 GMT")
        self.assertEqual(obj.extra["storage_class"], "STANDARD")
        self.assertIs(obj.extra["hash_is_md5"], True)
        self.assertEqual(self.received[0].method, "HEAD")

    def test_multipart_and_kms_etags_are_not_md5s(self) -> None:
        multipart = {"Content-Length": "1", "ETag": f'"{_md5(b"x")}-3"'}
        kms = {
            "Content-Length": "1",
            "ETag": f'"{_md5(b"x")}"',
            "x-amz-server-side-encryption": "aws:kms",
        }
        for headers in (multipart, kms):
            self.make((200, headers, b""))
            obj = self.result(self.driver.get_object("photos", "k"))
            self.assertIs(obj.extra["hash_is_md5"], False)

    def test_missing_object_on_head_gives_object_does_not_exist(self) -> None:
        self.make((404, {}, b""))
        error = self.failure(self.driver.get_object("photos", "gone.txt"), ObjectDoesNotExistError)
        self.assertEqual((error.object_name, error.status), ("gone.txt", 404))

    def test_no_such_key_on_download_gives_object_does_not_exist(self) -> None:
        self.make(_error(404, "NoSuchKey"))
        error = self.failure(
            self.collect(self.driver.download_object_as_stream(self.object("gone.txt"))),
            ObjectDoesNotExistError,
        )
        self.assertEqual((error.object_name, error.code), ("gone.txt", "NoSuchKey"))

    def test_bad_object_names_are_refused_before_any_request(self) -> None:
        self.make((200, {}, b""))
        for name in ("", "x" * 1025, "é" * 513, "\ud800", None):
            error = self.failure(self.driver.get_object("photos", name), InvalidObjectNameError)  # type: ignore[arg-type]
            self.assertEqual(error.object_name, str(name))
        self.assertEqual(self.received, [])

    def test_a_1024_byte_name_is_accepted(self) -> None:
        self.make((200, {"Content-Length": "0"}, b""))
        self.result(self.driver.get_object("photos", "é" * 512))

    def test_refused_credentials_give_invalid_creds(self) -> None:
        for code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
            self.make(_error(403, code, "The request signature we calculated does not match"))
            error = self.failure(self.driver.list_containers(), InvalidCredsError)
            self.assertEqual((error.code, error.status, error.request_id), (code, 403, "R1"))
            self.assertNotIn(SECRET, str(error))

    def test_delete_object_fires_true(self) -> None:
        self.make((204, {}, b""))
        self.assertIs(self.result(self.driver.delete_object(self.object("dir/a.txt"))), True)
        self.assertEqual((self.received[0].method, self.received[0].uri), ("DELETE", "/dir/a.txt"))


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def _put_answer(
    etag: Callable[[bytes], str] = _md5,
    checksum: Callable[[bytes], str] | None = None,
    header: str = "x-amz-checksum-crc32c",
) -> Answer:
    def answer(request: ServerRequest) -> bytes:
        assert request.content is not None
        request.content.seek(0)
        data = request.content.read()
        request.setHeader("ETag", f'"{etag(data)}"')
        if checksum is not None:
            # S3 echoes the checksum it stored.
            request.setHeader(header, checksum(data))
        return b""

    return answer


class UploadTests(S3TestCase):
    def test_a_small_stream_goes_in_one_put_with_its_crc32c_and_options(self) -> None:
        self.make(_put_answer(checksum=_crc32c))
        extra = {"meta_data": {"Build": "42"}, "acl": "public-read", "cache_control": "no-cache"}
        obj = self.result(
            self.driver.upload_object_via_stream(
                iter([b"hello ", b"world"]), self.container(), "notes.txt", extra=extra
            )
        )
        [put] = self.received
        self.assertEqual((put.method, put.uri, put.body), ("PUT", "/notes.txt", b"hello world"))
        # S3 checks the CRC32C it is sent: no MD5 is computed for it.
        self.assertIsNone(put.header("Content-MD5"))
        self.assertEqual(put.header("Content-Type"), "text/plain")
        self.assertEqual(put.header("x-amz-meta-build"), "42")
        self.assertEqual(put.header("x-amz-acl"), "public-read")
        self.assertEqual(put.header("Cache-Control"), "no-cache")
        self.assertEqual(put.header("X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD")
        self.assertEqual(put.header("x-amz-sdk-checksum-algorithm"), "CRC32C")
        self.assertEqual(put.header("x-amz-checksum-crc32c"), _crc32c(b"hello world"))
        self.assertIsNone(put.header("x-amz-checksum-crc32"))
        self.assertEqual((obj.name, obj.size, obj.hash), ("notes.txt", 11, _md5(b"hello world")))
        self.assertEqual(obj.meta_data, {"build": "42"})
        self.assertEqual(obj.extra["content_type"], "text/plain")

    def test_a_file_upload_streams_the_file(self) -> None:
        self.make(_put_answer())
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(b"file content")
        obj = self.result(self.driver.upload_object(path, self.container(), "data.bin"))
        self.assertEqual(self.received[0].body, b"file content")
        self.assertEqual(self.received[0].header("Content-Type"), "application/octet-stream")
        self.assertEqual(obj.hash, _md5(b"file content"))

    def test_without_the_crc32c_extension_the_crc32_is_sent(self) -> None:
        self.patch(s3_upload, "crc32c_available", lambda: False)
        self.make(_put_answer(checksum=_crc32, header="x-amz-checksum-crc32"))
        self.result(self.driver.upload_object_via_stream(iter([b"data"]), self.container(), "k"))
        [put] = self.received
        self.assertEqual(put.header("x-amz-sdk-checksum-algorithm"), "CRC32")
        self.assertEqual(put.header("x-amz-checksum-crc32"), _crc32(b"data"))
        self.assertIsNone(put.header("x-amz-checksum-crc32c"))

    def test_a_reported_crc32c_mismatch_deletes_the_object_and_fails(self) -> None:
        self.make(_put_answer(checksum=lambda data: _crc32c(b"something else")), (204, {}, b""))
        error = self.failure(
            self.driver.upload_object_via_stream(iter([b"data"]), self.container(), "k"),
            ObjectHashMismatchError,
        )
        self.assertEqual(error.object_name, "k")
        self.assertEqual([r.method for r in self.received], ["PUT", "DELETE"])

    def test_no_check_without_verify_hash(self) -> None:
        self.make(_put_answer(checksum=lambda data: _crc32c(b"something else")))
        self.result(
            self.driver.upload_object_via_stream(
                iter([b"data"]), self.container(), "k", verify_hash=False
            )
        )
        self.assertEqual(len(self.received), 1)

    def test_unknown_options_are_refused_before_any_request(self) -> None:
        self.make(_put_answer())
        stream = self.driver.upload_object_via_stream
        self.failure(
            stream(iter([b"x"]), self.container(), "k", extra={"colour": "red"}),
            InvalidArgumentError,
        )
        self.failure(
            stream(iter([b"x"]), self.container(), "k", extra={"meta_data": {"a": "é"}}),
            InvalidArgumentError,
        )
        with self.assertRaises(InvalidArgumentError):
            stream(iter([b"x"]), self.container(), "k", ex_colour="red")
        self.assertEqual(self.received, [])

    def multipart_answers(self, complete: Answer) -> list[Answer]:
        start = xml_answer(
            f'<InitiateMultipartUploadResult xmlns="{NAMESPACE}"><Bucket>photos</Bucket>'
            "<Key>big.bin</Key><UploadId>upload-7</UploadId></InitiateMultipartUploadResult>"
        )
        return [start, _put_answer(), _put_answer(), complete, (204, {}, b"")]

    def test_a_long_stream_goes_in_parts_and_is_completed(self) -> None:
        data = os.urandom(6 * MiB)
        etag = multipart_etag(
            [hashlib.md5(data[: 5 * MiB]).digest(), hashlib.md5(data[5 * MiB :]).digest()]
        )
        complete = xml_answer(
            f'<CompleteMultipartUploadResult xmlns="{NAMESPACE}"><Location>x</Location>'
            f'<Bucket>photos</Bucket><Key>big.bin</Key><ETag>"{etag}"</ETag>'
            "</CompleteMultipartUploadResult>"
        )
        self.make(*self.multipart_answers(complete), ex_part_size=5 * MiB)
        obj = self.result(
            self.driver.upload_object_via_stream(iter([data]), self.container(), "big.bin")
        )
        start, first, second, done = self.received
        self.assertEqual((start.method, query_of(start)), ("POST", {"uploads": ""}))
        self.assertEqual(start.header("x-amz-checksum-algorithm"), "CRC32C")
        self.assertEqual(start.header("x-amz-checksum-type"), "FULL_OBJECT")
        parts = sorted([first, second], key=lambda r: query_of(r)["partNumber"])
        self.assertEqual(
            [query_of(r) for r in parts],
            [
                {"partNumber": "1", "uploadId": "upload-7"},
                {"partNumber": "2", "uploadId": "upload-7"},
            ],
        )
        self.assertEqual(parts[0].body + parts[1].body, data)
        crc32c = _crc32c(data[5 * MiB :])
        self.assertEqual(parts[1].header("x-amz-checksum-crc32c"), crc32c)
        self.assertIn(f"<ChecksumCRC32C>{crc32c}</ChecksumCRC32C>".encode(), done.body)
        # The whole object's CRC32C, joined from the parts' ones, for S3 to check.
        self.assertEqual(done.header("x-amz-checksum-type"), "FULL_OBJECT")
        self.assertEqual(done.header("x-amz-checksum-crc32c"), _crc32c(data))
        self.assertEqual((done.method, query_of(done)), ("POST", {"uploadId": "upload-7"}))
        self.assertIn(b"<PartNumber>2</PartNumber>", done.body)
        self.assertEqual((obj.hash, obj.size), (etag, 6 * MiB))

    def test_without_the_crc32c_extension_parts_carry_crc32s_and_stay_composite(self) -> None:
        self.patch(s3_upload, "crc32c_available", lambda: False)
        data = os.urandom(6 * MiB)
        complete = xml_answer(
            f'<CompleteMultipartUploadResult xmlns="{NAMESPACE}"><ETag>"x-2"</ETag>'
            "</CompleteMultipartUploadResult>"
        )
        self.make(*self.multipart_answers(complete), ex_part_size=5 * MiB)
        self.result(self.driver.upload_object_via_stream(iter([data]), self.container(), "b"))
        start, first, second, done = self.received
        self.assertEqual(start.header("x-amz-checksum-algorithm"), "CRC32")
        self.assertIsNone(start.header("x-amz-checksum-type"))
        parts = sorted([first, second], key=lambda r: query_of(r)["partNumber"])
        self.assertEqual(parts[1].header("x-amz-checksum-crc32"), _crc32(data[5 * MiB :]))
        self.assertIn(
            f"<ChecksumCRC32>{_crc32(data[5 * MiB :])}</ChecksumCRC32>".encode(), done.body
        )
        self.assertIsNone(done.header("x-amz-checksum-type"))

    def test_a_completion_reporting_another_checksum_deletes_the_object(self) -> None:
        data = os.urandom(6 * MiB)
        complete = xml_answer(
            f'<CompleteMultipartUploadResult xmlns="{NAMESPACE}"><ETag>"x-2"</ETag>'
            f"<ChecksumCRC32C>{_crc32c(b'other')}</ChecksumCRC32C>"
            "<ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>"
        )
        self.make(*self.multipart_answers(complete), (204, {}, b""), ex_part_size=5 * MiB)
        error = self.failure(
            self.driver.upload_object_via_stream(iter([data]), self.container(), "big.bin"),
            ObjectHashMismatchError,
        )
        self.assertIn(_crc32c(data), str(error))
        # The stored object is deleted; the upload is aborted (already complete: harmless).
        done, delete, abort = self.received[-3:]
        self.assertEqual((done.method, delete.method, delete.uri), ("POST", "DELETE", "/big.bin"))
        self.assertEqual((abort.method, query_of(abort)), ("DELETE", {"uploadId": "upload-7"}))

    def test_a_completion_reporting_the_same_checksum_succeeds(self) -> None:
        path = self.mktemp()
        data = os.urandom(11 * MiB)
        with open(path, "wb") as file:
            file.write(data)
        complete = xml_answer(
            f'<CompleteMultipartUploadResult xmlns="{NAMESPACE}"><ETag>"x-3"</ETag>'
            f"<ChecksumCRC32C>{_crc32c(data)}</ChecksumCRC32C>"
            "<ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>"
        )
        start = self.multipart_answers(complete)[0]
        self.make(
            start, _put_answer(), _put_answer(), _put_answer(), complete, ex_part_size=5 * MiB
        )
        obj = self.result(self.driver.upload_object(path, self.container(), "big.bin"))
        self.assertEqual(obj.size, 11 * MiB)
        parts = sorted(self.received[1:4], key=lambda r: int(query_of(r)["partNumber"]))
        self.assertEqual(
            [r.header("x-amz-checksum-crc32c") for r in parts],
            [_crc32c(data[o : o + 5 * MiB]) for o in range(0, len(data), 5 * MiB)],
        )
        self.assertEqual(self.received[4].header("x-amz-checksum-crc32c"), _crc32c(data))

    def test_a_failed_part_is_sent_again_on_its_own(self) -> None:
        failed: list[str] = []

        def flaky_part(request: ServerRequest) -> bytes:
            if not failed:
                failed.append(request.args[b"partNumber"][0].decode())
                request.setResponseCode(503)
                return b"<Error><Code>SlowDown</Code></Error>"
            return _put_answer()(request)  # type: ignore[operator]

        data = os.urandom(6 * MiB)
        etag = multipart_etag(
            [hashlib.md5(data[: 5 * MiB]).digest(), hashlib.md5(data[5 * MiB :]).digest()]
        )
        complete = xml_answer(
            f'<CompleteMultipartUploadResult><ETag>"{etag}"</ETag></CompleteMultipartUploadResult>'
        )
        start = self.multipart_answers(complete)[0]
        self.make(
            start,
            flaky_part,
            flaky_part,
            flaky_part,
            complete,
            ex_part_size=5 * MiB,
            ex_retry=RetryPolicy(max_attempts=3, jitter=lambda cap: 0.0),
        )
        obj = self.result(
            self.driver.upload_object_via_stream(iter([data]), self.container(), "big.bin")
        )
        parts = [query_of(r)["partNumber"] for r in self.received if r.method == "PUT"]
        self.assertEqual(sorted(parts), sorted(["1", "2", failed[0]]))
        self.assertEqual(obj.hash, etag)

    def test_an_error_inside_a_200_completion_aborts_the_upload(self) -> None:
        complete = xml_answer(
            "<Error><Code>InternalError</Code><Message>try again</Message></Error>"
        )
        self.make(*self.multipart_answers(complete), ex_part_size=5 * MiB)
        self.failure(
            self.driver.upload_object_via_stream(
                iter([os.urandom(6 * MiB)]), self.container(), "big.bin"
            ),
            ServiceUnavailableError,
        )
        abort = self.received[-1]
        self.assertEqual((abort.method, query_of(abort)), ("DELETE", {"uploadId": "upload-7"}))

    def test_a_failing_part_aborts_the_upload(self) -> None:
        start, _, _, _, abort = self.multipart_answers(xml_answer("<unused/>"))
        self.make(
            start,
            _error(403, "AccessDenied"),
            _error(403, "AccessDenied"),
            abort,
            ex_part_size=5 * MiB,
        )
        self.failure(
            self.driver.upload_object_via_stream(
                iter([os.urandom(6 * MiB)]), self.container(), "big.bin"
            ),
            InvalidCredsError,
        )
        self.assertEqual(self.received[-1].method, "DELETE")
        self.assertNotIn("POST", [r.method for r in self.received[1:]])

    def test_a_part_s3_refuses_for_its_checksum_aborts_the_upload(self) -> None:
        start, _, _, _, abort = self.multipart_answers(xml_answer("<unused/>"))
        bad_digest = _error(400, "BadDigest", "The CRC32C you specified did not match")
        self.make(start, bad_digest, bad_digest, abort, ex_part_size=5 * MiB)
        error = self.failure(
            self.driver.upload_object_via_stream(
                iter([os.urandom(6 * MiB)]), self.container(), "big.bin"
            ),
            TxCloudError,
        )
        self.assertEqual((error.code, error.status), ("BadDigest", 400))
        abort_request = self.received[-1]
        self.assertEqual(abort_request.method, "DELETE")
        self.assertEqual(query_of(abort_request), {"uploadId": "upload-7"})


class DownloadTests(S3TestCase):
    def test_a_range_is_asked_with_an_inclusive_end(self) -> None:
        self.make((206, {"Content-Range": "bytes 3-9/20"}, b"3456789"))
        chunks = self.result(
            self.collect(self.driver.download_object_range_as_stream(self.object(), 3, 10))
        )
        self.assertEqual(b"".join(chunks), b"3456789")
        self.assertEqual(self.received[0].header("Range"), "bytes=3-9")

    def test_an_open_range_has_no_end(self) -> None:
        self.make((206, {}, b"789"))
        self.result(self.collect(self.driver.download_object_range_as_stream(self.object(), 7)))
        self.assertEqual(self.received[0].header("Range"), "bytes=7-")

    def test_a_server_ignoring_the_range_is_cut_to_it(self) -> None:
        self.make((200, {}, b"0123456789"))
        chunks = self.result(
            self.collect(self.driver.download_object_range_as_stream(self.object(), 2, 5, 2))
        )
        self.assertEqual(b"".join(chunks), b"234")

    def test_a_gzip_encoded_object_comes_back_as_stored(self) -> None:
        stored = gzip.compress(b"hello " * 100)
        self.make((200, {"Content-Encoding": "gzip", "Content-Type": "text/plain"}, stored))
        chunks = self.result(self.collect(self.driver.download_object_as_stream(self.object())))
        self.assertEqual(b"".join(chunks), stored)
        self.assertNotIn("gzip", self.received[0].header("Accept-Encoding") or "")

    def test_chunks_have_the_asked_size(self) -> None:
        self.make((200, {}, b"0123456789"))
        chunks = self.result(
            self.collect(self.driver.download_object_as_stream(self.object(), chunk_size=4))
        )
        self.assertEqual(chunks, [b"0123", b"4567", b"89"])

    def destination(self) -> str:
        folder = self.mktemp()
        os.makedirs(folder)
        return os.path.join(folder, "out")

    def test_download_object_checks_an_md5_etag(self) -> None:
        data = b"0123456789"
        self.make((200, {}, data))
        path = self.destination()
        obj = self.object(size=10, etag=_md5(data))
        self.assertIs(self.result(self.driver.download_object(obj, path)), True)
        with open(path, "rb") as file:
            self.assertEqual(file.read(), data)
        self.assertEqual(self.received[0].header("If-Match"), f'"{_md5(data)}"')

    def test_a_download_into_a_missing_folder_sends_no_request(self) -> None:
        self.make()
        missing = os.path.join(self.mktemp(), "missing") + os.sep
        obj = self.object(size=self.big, etag="0" * 32 + "-3")
        self.failure(self.driver.download_object(obj, missing), InvalidArgumentError)
        self.assertEqual(self.received, [])

    def test_download_object_refuses_data_that_does_not_match(self) -> None:
        self.make((200, {}, b"tampered!!"))
        path = self.destination()
        obj = self.object(size=10, etag=_md5(b"0123456789"))
        self.failure(self.driver.download_object(obj, path), ObjectHashMismatchError)
        self.assertEqual(os.listdir(os.path.dirname(path)), [])

    # Objects of this size are checked with a HEAD's help (8 MiB and more).
    big = 8 * MiB

    def big_data(self) -> bytes:
        return bytes(range(256)) * (self.big // 256)

    def test_a_multipart_etag_is_checked_with_the_part_size_s3_reports(self) -> None:
        data = self.big_data()
        part = 3 * MiB
        etag = multipart_etag(
            [hashlib.md5(data[o : o + part]).digest() for o in range(0, len(data), part)]
        )
        self.make(
            (200, {"Content-Length": str(len(data)), "ETag": f'"{etag}"'}, b""),
            (200, {"Content-Length": str(part), "x-amz-mp-parts-count": "3"}, b""),
            (200, {}, data),
        )
        path = self.destination()
        self.result(self.driver.download_object(self.object(size=len(data), etag=etag), path))
        head, part_head, get = self.received
        self.assertEqual(
            (head.method, head.header("x-amz-checksum-mode"), query_of(head)),
            ("HEAD", "ENABLED", {}),
        )
        self.assertEqual((part_head.method, query_of(part_head)), ("HEAD", {"partNumber": "1"}))
        self.assertEqual((get.method, get.header("Range")), ("GET", None))
        self.assertEqual(get.header("If-Match"), f'"{etag}"')

    def test_a_wrong_multipart_etag_fails_the_download(self) -> None:
        data = self.big_data()
        self.make(
            (200, {"Content-Length": str(len(data))}, b""),
            (200, {"Content-Length": str(3 * MiB)}, b""),
            (200, {}, data),
        )
        obj = self.object(size=len(data), etag="0" * 32 + "-3")
        self.failure(self.driver.download_object(obj, self.destination()), ObjectHashMismatchError)

    def crc32_answers(self, data: bytes, checksum: str, kind: str | None) -> list[Answer]:
        headers = {"Content-Length": str(len(data)), "x-amz-checksum-crc32": checksum}
        if kind:
            headers["x-amz-checksum-type"] = kind
        return [(200, headers, b""), (200, {"Content-Length": str(3 * MiB)}, b""), (200, {}, data)]

    def composite_crc32(self, data: bytes) -> str:
        parts = b"".join(
            zlib.crc32(data[o : o + 3 * MiB]).to_bytes(4, "big")
            for o in range(0, len(data), 3 * MiB)
        )
        return base64.b64encode(zlib.crc32(parts).to_bytes(4, "big")).decode()

    def test_a_composite_crc32_checksum_is_checked(self) -> None:
        data = self.big_data()
        for checksum, kind in [
            (self.composite_crc32(data) + "-3", "COMPOSITE"),
            (self.composite_crc32(data), None),
        ]:
            self.make(*self.crc32_answers(data, checksum, kind))
            obj = self.object(size=len(data), etag="0" * 32 + "-3")
            self.result(self.driver.download_object(obj, self.destination()))
            self.make(*self.crc32_answers(data[:-1] + b"!", checksum, kind))
            self.failure(
                self.driver.download_object(obj, self.destination()), ObjectHashMismatchError
            )

    def full_object_answers(self, data: bytes, headers: dict[str, str]) -> list[Answer]:
        head = {"Content-Length": str(len(data)), "x-amz-checksum-type": "FULL_OBJECT", **headers}
        return [(200, head, b""), (200, {}, data)]

    def test_a_full_object_checksum_is_checked_without_asking_the_part_size(self) -> None:
        data = self.big_data()
        for name, checksum in [("crc32", _crc32(data)), ("crc32c", _crc32c(data))]:
            self.make(*self.full_object_answers(data, {f"x-amz-checksum-{name}": checksum}))
            obj = self.object(size=len(data), etag="0" * 32 + "-3")
            self.result(self.driver.download_object(obj, self.destination()))
            self.assertEqual([r.method for r in self.received], ["HEAD", "GET"])
            tampered = data[:-1] + b"!"
            self.make(*self.full_object_answers(tampered, {f"x-amz-checksum-{name}": checksum}))
            path = self.destination()
            error = self.failure(self.driver.download_object(obj, path), ObjectHashMismatchError)
            self.assertIn(name, str(error))
            self.assertEqual(os.listdir(os.path.dirname(path)), [])

    def test_a_crc32c_checksum_is_preferred_to_a_crc32_one(self) -> None:
        data = self.big_data()
        both = {"x-amz-checksum-crc32c": _crc32c(data), "x-amz-checksum-crc32": _crc32(b"x")}
        self.make(*self.full_object_answers(data, both))
        self.result(self.driver.download_object(self.object(size=len(data)), self.destination()))

    def test_without_the_crc32c_extension_a_crc32_checksum_is_used(self) -> None:
        self.patch(s3_download, "crc32c_available", lambda: False)
        data = self.big_data()
        both = {"x-amz-checksum-crc32c": _crc32c(b"x"), "x-amz-checksum-crc32": _crc32(data)}
        self.make(*self.full_object_answers(data, both))
        self.result(self.driver.download_object(self.object(size=len(data)), self.destination()))

    def test_a_listed_object_is_checked_only_if_a_head_says_its_etag_is_an_md5(self) -> None:
        data = b"0123456789"
        kms = {
            "Content-Length": "10",
            "ETag": '"' + "0" * 32 + '"',
            "x-amz-server-side-encryption": "aws:kms",
        }
        self.make((200, kms, b""), (200, {}, data))
        obj = Object(
            "a.txt", 10, "0" * 32, {"etag": '"' + "0" * 32 + '"'}, {}, self.container(), self.driver
        )
        self.result(self.driver.download_object(obj, self.destination()))
        self.assertEqual([r.method for r in self.received], ["HEAD", "GET"])

    def test_no_check_is_asked_without_verification(self) -> None:
        self.make((200, {}, b"tampered!!"))
        obj = self.object(size=10, etag=_md5(b"0123456789"))
        self.result(self.driver.download_object(obj, self.destination(), ex_verify_hash=False))
        self.assertEqual([r.method for r in self.received], ["GET"])

    def test_large_objects_come_in_parallel_ranges(self) -> None:
        data = bytes(range(256)) * 40

        def ranged(request: ServerRequest) -> bytes:
            if request.method == b"HEAD":
                request.setHeader("Content-Length", str(len(data)))
                return b""
            first, last = (request.getHeader("Range") or "").split("=")[1].split("-")
            request.setResponseCode(206)
            return data[int(first) : int(last) + 1]

        self.make(ranged, ex_download_threshold=4096, ex_range_size=4096)
        path = self.destination()
        self.result(self.driver.download_object(self.object(size=len(data)), path))
        with open(path, "rb") as file:
            self.assertEqual(file.read(), data)
        self.assertEqual(
            sorted(r.header("Range") or "" for r in self.received if r.method == "GET"),
            ["bytes=0-4095", "bytes=4096-8191", "bytes=8192-10239"],
        )


UPLOADS_PAGE = f"""<ListMultipartUploadsResult xmlns="{NAMESPACE}">
  <Bucket>photos</Bucket><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextKeyMarker>b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
  <Upload><Key>a%20b</Key><UploadId>u1</UploadId><Initiated>2024-01-01T00:00:00.000Z</Initiated>
    <StorageClass>STANDARD</StorageClass></Upload>
  <Upload><Key>b</Key><UploadId>u2</UploadId></Upload>
</ListMultipartUploadsResult>"""

UPLOADS_LAST = f"""<ListMultipartUploadsResult xmlns="{NAMESPACE}">
  <IsTruncated>false</IsTruncated><Upload><Key>c</Key><UploadId>u3</UploadId></Upload>
</ListMultipartUploadsResult>"""


class MultipartUploadListingTests(S3TestCase):
    def test_uploads_in_progress_are_listed_over_pages(self) -> None:
        self.make(xml_answer(UPLOADS_PAGE), xml_answer(UPLOADS_LAST))
        uploads = self.result(
            self.collect(self.driver.ex_iterate_multipart_uploads(self.container()))
        )
        self.assertEqual(
            [(u.key, u.upload_id) for u in uploads], [("a b", "u1"), ("b", "u2"), ("c", "u3")]
        )
        self.assertEqual(uploads[0].initiated, "2024-01-01T00:00:00.000Z")
        self.assertEqual(
            query_of(self.received[1]),
            {"uploads": "", "encoding-type": "url", "key-marker": "b", "upload-id-marker": "u2"},
        )

    def test_cleanup_aborts_every_upload(self) -> None:
        self.make(xml_answer(UPLOADS_LAST), (204, {}, b""))
        self.assertEqual(
            self.result(self.driver.ex_cleanup_all_multipart_uploads(self.container())), 1
        )
        abort = self.received[-1]
        self.assertEqual((abort.method, abort.uri), ("DELETE", "/c?uploadId=u3"))


class PresignedURLTests(S3TestCase):
    def test_a_presigned_url_carries_the_signature_parameters(self) -> None:
        self.make()
        self.reactor.advance(1_700_000_000)
        url = self.driver.ex_presigned_url(self.object("dir/a b.txt"), expires=600)
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.assertEqual(parts.netloc, "photos.s3.eu-west-1.amazonaws.com")
        self.assertEqual(parts.path, "/dir/a%20b.txt")
        self.assertEqual(query["X-Amz-Credential"], f"{KEY}/20231114/eu-west-1/s3/aws4_request")
        self.assertEqual(query["X-Amz-Date"], "20231114T221320Z")
        self.assertEqual((query["X-Amz-Expires"], query["X-Amz-SignedHeaders"]), ("600", "host"))
        self.assertEqual(len(query["X-Amz-Signature"]), 64)
        self.assertNotIn(SECRET, url)

    def test_a_presigned_url_takes_names_and_a_method(self) -> None:
        self.make(host="127.0.0.1", port=9000, secure=False)
        url = self.driver.ex_presigned_url(("photos", "k"), method="PUT")
        self.assertTrue(url.startswith("http://127.0.0.1:9000/photos/k?"))
        self.assertNotEqual(url, self.driver.ex_presigned_url(("photos", "k")))

    def test_bad_presign_arguments_are_refused(self) -> None:
        self.make()
        presign = self.driver.ex_presigned_url
        for attempt in [
            lambda: presign(("photos", "k"), method="POST"),
            lambda: presign(("photos", "k"), expires=0),
            lambda: presign(("photos", "k"), expires=604801),
            lambda: presign(("photos", "")),
            lambda: presign("photos/k"),  # type: ignore[arg-type]
        ]:
            with self.assertRaises(InvalidArgumentError):
                attempt()
