"""
Tests of txcloud.testing.s3: the real S3 driver pointed at the fake object
store (in memory through its agent, on an InlineClock), plus raw requests
through treq's StubTreq for what the driver never sends, and one driver
over a real socket.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import google_crc32c
from treq.testing import StubTreq
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.common.paging import collect
from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidCredsError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
    ProviderError,
    RateLimitReached,
    ServiceUnavailableError,
)
from txcloud.http import RetryPolicy
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.testing.clock import InlineClock
from txcloud.testing.s3 import DEFAULT_KEY, DEFAULT_SECRET, FakeS3

MiB = 1024 * 1024
NOW = 1_700_000_000
AUTH = {"Authorization": f"AWS4-HMAC-SHA256 Credential={DEFAULT_KEY}/20231114/us-east-1/s3/x"}


def no_jitter(cap: float) -> float:
    return cap


async def _joined(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


class S3FakeTestCase(SynchronousTestCase):
    """A driver in front of a FakeS3, on an InlineClock."""

    def setUp(self) -> None:
        self.clock = InlineClock()
        self.clock.advance(NOW)
        self.s3 = FakeS3(clock=self.clock)
        self.storage = self.s3.driver(ex_retry=RetryPolicy(max_attempts=3, jitter=no_jitter))
        self.addCleanup(self.storage.close)
        self.treq: Any = StubTreq(self.s3.resource)

    def bucket(self, name: str = "photos") -> Container:
        if name not in self.s3.buckets:
            self.s3.add_bucket(name)
        return Container(name=name, extra={}, driver=self.storage)

    def upload(self, data: bytes, key: str = "a.txt", **options: Any) -> Object:
        chunks = [data[i : i + MiB] for i in range(0, len(data), MiB)] or [b""]
        d = self.storage.upload_object_via_stream(iter(chunks), self.bucket(), key, **options)
        obj: Object = self.successResultOf(d)
        return obj

    def read(self, obj: Object, start: int = 0, end: int | None = None) -> bytes:
        chunks = self.storage.download_object_range_as_stream(obj, start, end)
        data: bytes = self.successResultOf(Deferred.fromCoroutine(_joined(chunks)))
        return data

    def raw(self, method: str, path: str, body: bytes = b"", **headers: str) -> Any:
        """Send a request of our own; fire with ``(response, body)``."""
        url = f"https://s3.us-east-1.amazonaws.com{path}"
        sent = {**AUTH, **{name.replace("_", "-"): value for name, value in headers.items()}}
        response = self.successResultOf(self.treq.request(method, url, data=body, headers=sent))
        return response, self.successResultOf(self.treq.content(response))


class ReachingTests(S3FakeTestCase):
    def test_the_driver_speaks_to_the_fake_with_virtual_hosted_urls(self) -> None:
        self.s3.add_bucket("photos")
        [bucket] = self.successResultOf(self.storage.list_containers())
        self.successResultOf(self.storage.get_container("photos"))
        self.assertEqual(bucket.name, "photos")
        self.assertEqual(self.s3.received[-1].headers["host"], "photos.s3.us-east-1.amazonaws.com")
        self.assertTrue(self.s3.received[-1].headers["authorization"].startswith("AWS4-HMAC"))

    def test_path_style_requests_to_a_custom_host_are_served(self) -> None:
        driver = S3StorageDriver(
            DEFAULT_KEY,
            DEFAULT_SECRET,
            host="minio.local",
            port=9000,
            secure=False,
            reactor=self.clock,
            ex_agent=self.s3.agent(),
        )
        self.addCleanup(driver.close)
        self.successResultOf(driver.create_container("logs"))
        self.assertEqual(self.s3.received[-1].path, "/logs/")
        self.assertIn("logs", self.s3.buckets)

    def test_every_answer_carries_its_own_request_id(self) -> None:
        first, second = (self.raw("GET", "/")[0] for _ in range(2))
        [first_id] = first.headers.getRawHeaders("x-amz-request-id")
        [second_id] = second.headers.getRawHeaders("x-amz-request-id")
        self.assertNotEqual(first_id, second_id)
        self.assertEqual(len(first_id), 16)


class SeedingTests(S3FakeTestCase):
    def test_seeded_objects_are_listed_and_read(self) -> None:
        self.s3.add_bucket("photos")
        self.s3.add_object(
            "photos",
            "cat.jpg",
            b"meow",
            content_type="image/jpeg",
            metadata={"Owner": "ann"},
            headers={"Cache-Control": "max-age=60"},
        )
        [obj] = self.successResultOf(self.storage.list_container_objects(self.bucket()))
        self.assertEqual(
            (obj.name, obj.size, obj.hash), ("cat.jpg", 4, hashlib.md5(b"meow").hexdigest())
        )
        head = self.successResultOf(self.storage.get_object("photos", "cat.jpg"))
        self.assertEqual(head.meta_data, {"owner": "ann"})
        self.assertEqual(head.extra["content_type"], "image/jpeg")
        self.assertEqual(head.extra["cache_control"], "max-age=60")
        self.assertEqual(self.read(obj), b"meow")

    def test_an_object_seeded_in_parts_has_a_multipart_etag(self) -> None:
        self.s3.add_bucket("photos")
        data = os.urandom(10)
        seeded = self.s3.add_object("photos", "big", data, part_size=4)
        digests = b"".join(hashlib.md5(data[i : i + 4]).digest() for i in (0, 4, 8))
        self.assertEqual(seeded.etag, f"{hashlib.md5(digests).hexdigest()}-3")
        self.assertEqual(seeded.part_sizes, [4, 4, 2])
        response, _ = self.raw("HEAD", "/photos/big?partNumber=2")
        self.assertEqual(response.code, 206)
        self.assertEqual(response.headers.getRawHeaders("content-length"), ["4"])

    def test_seeding_refuses_what_s3_would(self) -> None:
        self.s3.add_bucket("photos")
        for bad in ("Bad_Name", "ab", "photos", "192.168.1.1"):
            self.assertRaises(ValueError, self.s3.add_bucket, bad)
        self.assertRaises(ValueError, self.s3.add_object, "nowhere", "k", b"")


class BucketTests(S3FakeTestCase):
    def test_create_container_in_us_east_1(self) -> None:
        self.successResultOf(self.storage.create_container("reports"))
        self.assertEqual(self.s3.buckets["reports"].region, "us-east-1")
        self.assertEqual(self.s3.received[-1].body, b"")

    def test_create_container_elsewhere_sends_and_keeps_its_region(self) -> None:
        driver = self.s3.driver(region="eu-west-1")
        self.addCleanup(driver.close)
        made = self.successResultOf(driver.create_container("reports"))
        self.assertEqual(made.extra["region"], "eu-west-1")
        self.assertEqual(self.s3.buckets["reports"].region, "eu-west-1")
        self.assertIn(b"<LocationConstraint>eu-west-1<", self.s3.received[-1].body)

    def test_a_location_constraint_for_another_region_is_illegal(self) -> None:
        body = b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
        response, answer = self.raw("PUT", "/reports", body + b"</CreateBucketConfiguration>")
        self.assertEqual(response.code, 400)
        self.assertIn(b"<Code>IllegalLocationConstraintException</Code>", answer)

    def test_creating_a_bucket_twice_is_already_owned_by_you(self) -> None:
        self.bucket("reports")
        error = self.failureResultOf(
            self.storage.create_container("reports"), ContainerAlreadyExistsError
        ).value
        self.assertEqual((error.status, error.code), (409, "BucketAlreadyOwnedByYou"))
        self.assertEqual(error.container_name, "reports")

    def test_get_container_reports_its_region(self) -> None:
        self.s3.add_bucket("far", region="ap-south-1")
        found = self.successResultOf(self.storage.get_container("far"))
        self.assertEqual(found.extra, {"region": "ap-south-1"})

    def test_a_missing_bucket_is_container_does_not_exist(self) -> None:
        self.failureResultOf(self.storage.get_container("nowhere"), ContainerDoesNotExistError)
        error = self.failureResultOf(
            self.storage.list_container_objects(self.bucket_named("nowhere")),
            ContainerDoesNotExistError,
        ).value
        self.assertEqual(error.code, "NoSuchBucket")

    def bucket_named(self, name: str) -> Container:
        return Container(name=name, extra={}, driver=self.storage)

    def test_objects_of_a_bucket_in_another_region_are_a_redirect(self) -> None:
        self.s3.add_bucket("far", region="ap-south-1")
        error = self.failureResultOf(
            self.storage.list_container_objects(self.bucket_named("far")), ProviderError
        ).value
        self.assertEqual((error.status, error.code), (301, "PermanentRedirect"))

    def test_delete_container(self) -> None:
        self.assertTrue(self.successResultOf(self.storage.delete_container(self.bucket())))
        self.assertNotIn("photos", self.s3.buckets)
        self.failureResultOf(
            self.storage.delete_container(self.bucket_named("photos")), ContainerDoesNotExistError
        )

    def test_a_bucket_with_objects_is_not_empty(self) -> None:
        bucket = self.bucket()
        self.s3.add_object("photos", "k", b"x")
        error = self.failureResultOf(
            self.storage.delete_container(bucket), ContainerIsNotEmptyError
        ).value
        self.assertEqual(error.code, "BucketNotEmpty")
        self.assertIn("photos", self.s3.buckets)

    def test_bucket_listings_are_paged_with_continuation_tokens(self) -> None:
        for name in ("b-one", "b-two", "b-three", "b-four", "b-five"):
            self.s3.add_bucket(name)
        self.s3.max_buckets_per_page = 2
        names = [b.name for b in self.successResultOf(self.storage.list_containers())]
        self.assertEqual(names, ["b-five", "b-four", "b-one", "b-three", "b-two"])
        self.assertEqual(len(self.s3.received), 3)
        self.assertIn("continuation-token", self.s3.received[-1].query)

    def test_bucket_location(self) -> None:
        self.s3.add_bucket("far", region="ap-south-1")
        _, answer = self.raw("GET", "/far?location")
        self.assertIn(b">ap-south-1</LocationConstraint>", answer)


class ObjectTests(S3FakeTestCase):
    def test_an_upload_is_stored_with_its_md5_etag_type_and_metadata(self) -> None:
        extra = {
            "content_type": "text/csv",
            "meta_data": {"team": "ops"},
            "content_disposition": "attachment",
        }
        obj = self.upload(b"a,b\n", "report.csv", extra=extra)
        stored = self.s3.buckets["photos"].objects["report.csv"]
        self.assertEqual(stored.data, b"a,b\n")
        self.assertEqual(stored.etag, hashlib.md5(b"a,b\n").hexdigest())
        self.assertEqual((stored.content_type, stored.metadata), ("text/csv", {"team": "ops"}))
        self.assertEqual(stored.headers, {"Content-Disposition": "attachment"})
        self.assertEqual(obj.hash, stored.etag)
        head = self.successResultOf(self.storage.get_object("photos", "report.csv"))
        self.assertEqual((head.size, head.meta_data), (4, {"team": "ops"}))
        self.assertEqual(head.extra["content_disposition"], "attachment")

    def test_the_crc32c_sent_is_kept_and_shown_when_asked(self) -> None:
        self.upload(b"hello")
        expected = base64.b64encode(google_crc32c.value(b"hello").to_bytes(4, "big")).decode()
        response, _ = self.raw("HEAD", "/photos/a.txt", x_amz_checksum_mode="ENABLED")
        self.assertEqual(response.headers.getRawHeaders("x-amz-checksum-crc32c"), [expected])
        self.assertEqual(response.headers.getRawHeaders("x-amz-checksum-type"), ["FULL_OBJECT"])
        plain, _ = self.raw("HEAD", "/photos/a.txt")
        self.assertFalse(plain.headers.hasHeader("x-amz-checksum-crc32c"))

    def test_a_crc32_sent_is_kept_too(self) -> None:
        self.bucket()
        crc32 = base64.b64encode(zlib.crc32(b"body").to_bytes(4, "big")).decode()
        response, _ = self.raw("PUT", "/photos/k", b"body", x_amz_checksum_crc32=crc32)
        self.assertEqual(response.headers.getRawHeaders("x-amz-checksum-crc32"), [crc32])
        self.assertEqual(self.s3.buckets["photos"].objects["k"].checksum_algorithm, "CRC32")

    def test_ranged_reads_get_206_and_the_bytes_asked_for(self) -> None:
        obj = self.upload(b"0123456789")
        self.assertEqual(self.read(obj, 2, 5), b"234")
        self.assertEqual(self.read(obj, 7), b"789")
        self.assertEqual(self.s3.received[-1].headers["range"], "bytes=7-")
        response, answer = self.raw("GET", "/photos/a.txt", Range="bytes=-3")
        self.assertEqual((response.code, answer), (206, b"789"))
        self.assertEqual(response.headers.getRawHeaders("content-range"), ["bytes 7-9/10"])

    def test_an_unsatisfiable_range_is_invalid_range(self) -> None:
        obj = self.upload(b"0123")
        chunks = self.storage.download_object_range_as_stream(obj, 10)
        error = self.failureResultOf(
            Deferred.fromCoroutine(_joined(chunks)), InvalidArgumentError
        ).value
        self.assertEqual((error.status, error.code), (416, "InvalidRange"))

    def test_download_to_a_file_checks_the_data(self) -> None:
        obj = self.upload(b"x" * 1000)
        path = self.mktemp()
        self.assertTrue(self.successResultOf(self.storage.download_object(obj, path)))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"x" * 1000)
        self.assertEqual(self.s3.received[-1].headers["if-match"], f'"{obj.hash}"')

    def test_an_object_changed_since_it_was_read_fails_the_pinned_download(self) -> None:
        obj = self.upload(b"old")
        self.s3.add_object("photos", "a.txt", b"new")
        error = self.failureResultOf(
            self.storage.download_object(obj, self.mktemp()), ProviderError
        ).value
        self.assertEqual((error.status, error.code), (412, "PreconditionFailed"))

    def test_if_none_match_of_the_current_etag_is_not_modified(self) -> None:
        obj = self.upload(b"same")
        response, answer = self.raw("GET", "/photos/a.txt", If_None_Match=f'"{obj.hash}"')
        self.assertEqual((response.code, answer), (304, b""))

    def test_a_missing_key_is_object_does_not_exist(self) -> None:
        self.bucket()
        error = self.failureResultOf(
            self.storage.get_object("photos", "gone"), ObjectDoesNotExistError
        ).value
        self.assertEqual((error.status, error.object_name), (404, "gone"))
        missing = Object("gone", 1, None, {}, {}, self.bucket(), self.storage)
        chunks = self.storage.download_object_as_stream(missing)
        error = self.failureResultOf(
            Deferred.fromCoroutine(_joined(chunks)), ObjectDoesNotExistError
        ).value
        self.assertEqual(error.code, "NoSuchKey")

    def test_delete_object_even_when_missing(self) -> None:
        obj = self.upload(b"x")
        self.assertTrue(self.successResultOf(self.storage.delete_object(obj)))
        self.assertEqual(self.s3.buckets["photos"].objects, {})
        self.assertTrue(self.successResultOf(self.storage.delete_object(obj)))

    def test_digests_that_do_not_match_the_body_are_refused(self) -> None:
        self.bucket()
        wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        for headers, code in (
            ({"Content_MD5": wrong_md5}, b"BadDigest"),
            ({"Content_MD5": "not base64!"}, b"InvalidDigest"),
            ({"x_amz_checksum_crc32": "AAAAAA=="}, b"BadDigest"),
            ({"x_amz_checksum_crc32c": "AAAAAA=="}, b"BadDigest"),
            ({"x_amz_content_sha256": "0" * 64}, b"XAmzContentSHA256Mismatch"),
        ):
            response, answer = self.raw("PUT", "/photos/k", b"body", **headers)
            self.assertEqual(response.code, 400)
            self.assertIn(b"<Code>" + code + b"</Code>", answer)
        self.assertEqual(self.s3.buckets["photos"].objects, {})


class ListingTests(S3FakeTestCase):
    def seed(self, *keys: str) -> None:
        self.bucket()
        for key in keys:
            self.s3.add_object("photos", key, key.encode())

    def test_listing_with_a_prefix(self) -> None:
        self.seed("2024/a", "2024/b", "2025/a")
        listed = self.successResultOf(self.storage.list_container_objects(self.bucket(), "2024/"))
        self.assertEqual([o.name for o in listed], ["2024/a", "2024/b"])

    def test_listings_are_paged_with_continuation_tokens(self) -> None:
        keys = [f"k{n:02d}" for n in range(7)]
        self.seed(*keys)
        listed = self.successResultOf(
            self.storage.list_container_objects(self.bucket(), ex_page_size=3)
        )
        self.assertEqual([o.name for o in listed], keys)
        pages = self.s3.received[-3:]
        self.assertEqual([p.arg("max-keys") for p in pages], ["3", "3", "3"])
        self.assertNotIn("continuation-token", pages[0].query)
        self.assertEqual(len({p.arg("continuation-token") for p in pages[1:]}), 2)

    def test_keys_travel_url_encoded(self) -> None:
        keys = ["a b+c.txt", "caf\u00e9/\u00fcber.txt", "tab\tkey"]
        self.seed(*keys)
        listed = self.successResultOf(self.storage.list_container_objects(self.bucket()))
        self.assertEqual(sorted(o.name for o in listed), sorted(keys))
        _, answer = self.raw("GET", "/photos?list-type=2&encoding-type=url")
        self.assertIn(b"<Key>a+b%2Bc.txt</Key>", answer)

    def test_a_delimiter_groups_keys_into_common_prefixes(self) -> None:
        self.seed("a/1", "a/2", "b", "c/1")
        _, answer = self.raw("GET", "/photos?list-type=2&delimiter=/&max-keys=2")
        self.assertIn(b"<KeyCount>2</KeyCount>", answer)
        self.assertIn(b"<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>", answer)
        self.assertIn(b"<Key>b</Key>", answer)
        token = answer.split(b"<NextContinuationToken>")[1].split(b"<")[0].decode()
        _, rest = self.raw("GET", f"/photos?list-type=2&delimiter=/&continuation-token={token}")
        self.assertIn(b"<Prefix>c/</Prefix>", rest)
        self.assertNotIn(b"<Key>", rest)

    def test_start_after_and_a_bad_token(self) -> None:
        self.seed("a", "b", "c")
        _, answer = self.raw("GET", "/photos?list-type=2&start-after=a")
        self.assertNotIn(b"<Key>a</Key>", answer)
        self.assertIn(b"<Key>c</Key>", answer)
        response, error = self.raw("GET", "/photos?list-type=2&continuation-token=bogus")
        self.assertEqual(response.code, 400)
        self.assertIn(b"<Code>InvalidArgument</Code>", error)


class MultipartTests(S3FakeTestCase):
    def test_a_large_upload_goes_in_parts_with_a_multipart_etag(self) -> None:
        data = os.urandom(12 * MiB)
        obj = self.upload(data, "big.bin", ex_part_size=5 * MiB)
        stored = self.s3.buckets["photos"].objects["big.bin"]
        self.assertEqual((stored.data, stored.part_sizes), (data, [5 * MiB, 5 * MiB, 2 * MiB]))
        self.assertTrue(stored.etag.endswith("-3"))
        self.assertEqual(obj.hash, stored.etag)
        # The driver asks for the whole object's CRC32C, which the fake checks.
        crc32c = base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()
        self.assertEqual((stored.checksum_type, stored.checksum), ("FULL_OBJECT", crc32c))
        self.assertEqual(stored.checksum_algorithm, "CRC32C")
        self.assertEqual(self.s3.buckets["photos"].uploads, {})
        methods = [(r.method, sorted(r.query)) for r in self.s3.received]
        self.assertIn(("POST", ["uploads"]), methods)
        self.assertEqual(methods.count(("PUT", ["partNumber", "uploadId"])), 3)

    def test_a_multipart_object_is_downloaded_and_checked(self) -> None:
        data = os.urandom(9 * MiB)
        obj = self.upload(data, "big.bin", ex_part_size=5 * MiB)
        path = self.mktemp()
        self.assertTrue(self.successResultOf(self.storage.download_object(obj, path)))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        checked = [r for r in self.s3.received if r.method == "HEAD"]
        self.assertEqual(checked[0].headers["x-amz-checksum-mode"], "ENABLED")

    def test_a_multipart_etag_is_checked_with_the_part_size_s3_reports(self) -> None:
        self.bucket()
        data = os.urandom(10_000)
        self.s3.add_object("photos", "seeded.bin", data, part_size=4096, crc32=False)
        [obj] = self.successResultOf(self.storage.list_container_objects(self.bucket()))
        path = self.mktemp()
        self.assertTrue(self.successResultOf(self.storage.download_object(obj, path)))
        part_heads = [r for r in self.s3.received if r.arg("partNumber") == "1"]
        self.assertEqual([r.method for r in part_heads], ["HEAD"])
        self.s3.buckets["photos"].objects["seeded.bin"].data = b"x" * 10_000
        error = self.failureResultOf(
            self.storage.download_object(obj, self.mktemp()), ObjectHashMismatchError
        ).value
        self.assertEqual(error.object_name, "seeded.bin")

    def test_a_composite_checksum_is_the_checksum_of_the_parts_checksums(self) -> None:
        self.bucket()
        data = os.urandom(10_000)
        obj = self.s3.add_object("photos", "k", data, part_size=4096)
        parts = b"".join(
            zlib.crc32(data[o : o + 4096]).to_bytes(4, "big") for o in range(0, 10_000, 4096)
        )
        expected = base64.b64encode(zlib.crc32(parts).to_bytes(4, "big")).decode() + "-3"
        self.assertEqual((obj.checksum, obj.checksum_type), (expected, "COMPOSITE"))

    def test_a_wrong_whole_object_checksum_on_completion_is_refused(self) -> None:
        upload_id = self.start_upload(
            "k", x_amz_checksum_algorithm="CRC32C", x_amz_checksum_type="FULL_OBJECT"
        )
        crc32c = base64.b64encode(google_crc32c.value(b"part").to_bytes(4, "big")).decode()
        self.raw(
            "PUT",
            f"/photos/k?partNumber=1&uploadId={upload_id}",
            b"part",
            x_amz_checksum_crc32c=crc32c,
        )
        listed = (
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
            f'<ETag>"{hashlib.md5(b"part").hexdigest()}"</ETag>'
            f"<ChecksumCRC32C>{crc32c}</ChecksumCRC32C></Part></CompleteMultipartUpload>"
        ).encode()
        response, answer = self.raw(
            "POST", f"/photos/k?uploadId={upload_id}", listed, x_amz_checksum_crc32c="AAAAAA=="
        )
        self.assertEqual(response.code, 400)
        self.assertIn(b"<Code>BadDigest</Code>", answer)
        response, answer = self.raw(
            "POST", f"/photos/k?uploadId={upload_id}", listed, x_amz_checksum_crc32c=crc32c
        )
        self.assertEqual(response.code, 200)
        self.assertIn(f"<ChecksumCRC32C>{crc32c}</ChecksumCRC32C>".encode(), answer)
        self.assertIn(b"<ChecksumType>FULL_OBJECT</ChecksumType>", answer)

    def test_a_whole_object_checksum_needs_a_crc(self) -> None:
        self.bucket()
        response, answer = self.raw(
            "POST",
            "/photos/k?uploads",
            x_amz_checksum_algorithm="SHA256",
            x_amz_checksum_type="FULL_OBJECT",
        )
        self.assertEqual(response.code, 400)
        self.assertIn(b"<Code>InvalidRequest</Code>", answer)

    def start_upload(self, key: str, **headers: str) -> str:
        self.bucket()
        _, answer = self.raw("POST", f"/photos/{key}?uploads", b"", **headers)
        return answer.split(b"<UploadId>")[1].split(b"<")[0].decode()

    def test_uploads_in_progress_are_listed_and_cleaned_up(self) -> None:
        ids = {self.start_upload(key) for key in ("x/1", "x/2", "y/1")}
        listed = self.successResultOf(
            collect(self.storage.ex_iterate_multipart_uploads(self.bucket()))
        )
        self.assertEqual({u.upload_id for u in listed}, ids)
        self.assertEqual(sorted(u.key for u in listed), ["x/1", "x/2", "y/1"])
        aborted = self.successResultOf(
            self.storage.ex_cleanup_all_multipart_uploads(self.bucket(), prefix="x/")
        )
        self.assertEqual(aborted, 2)
        self.assertEqual([u.key for u in self.s3.buckets["photos"].uploads.values()], ["y/1"])

    def test_upload_listings_are_paged_with_markers(self) -> None:
        for key in ("a", "b", "c"):
            self.start_upload(key)
        _, first = self.raw("GET", "/photos?uploads&max-uploads=2")
        self.assertIn(b"<IsTruncated>true</IsTruncated>", first)
        marker = first.split(b"<NextKeyMarker>")[1].split(b"<")[0].decode()
        upload_marker = first.split(b"<NextUploadIdMarker>")[1].split(b"<")[0].decode()
        _, rest = self.raw(
            "GET", f"/photos?uploads&key-marker={marker}&upload-id-marker={upload_marker}"
        )
        self.assertEqual(rest.count(b"<Upload>"), 1)
        self.assertIn(b"<Key>c</Key>", rest)

    def part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        response, _ = self.raw(
            "PUT", f"/photos/{key}?partNumber={number}&uploadId={upload_id}", data
        )
        etag: str = response.headers.getRawHeaders("etag")[0]
        return etag

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> tuple[int, bytes]:
        listed = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts
        )
        body = f"<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>".encode()
        response, answer = self.raw("POST", f"/photos/{key}?uploadId={upload_id}", body)
        return response.code, answer

    def test_completion_checks_the_parts(self) -> None:
        upload_id = self.start_upload("k")
        first = self.part("k", upload_id, 1, b"small")
        second = self.part("k", upload_id, 2, b"last")
        for parts, code in (
            ([(2, second), (1, first)], b"InvalidPartOrder"),
            ([(1, '"0000"'), (2, second)], b"InvalidPart"),
            ([(1, first), (3, second)], b"InvalidPart"),
            ([(1, first), (2, second)], b"EntityTooSmall"),
            ([], b"MalformedXML"),
        ):
            status, answer = self.complete("k", upload_id, parts)
            self.assertEqual(status, 400)
            self.assertIn(b"<Code>" + code + b"</Code>", answer)
        self.s3.min_part_size = 1
        status, answer = self.complete("k", upload_id, [(1, first), (2, second)])
        self.assertEqual(status, 200)
        self.assertEqual(self.s3.buckets["photos"].objects["k"].data, b"smalllast")
        again = self.complete("k", upload_id, [(1, first), (2, second)])
        self.assertEqual(again, (200, answer))

    def test_an_unknown_upload_is_no_such_upload(self) -> None:
        self.bucket()
        response, answer = self.raw("DELETE", "/photos/k?uploadId=nope")
        self.assertEqual(response.code, 404)
        self.assertIn(b"<Code>NoSuchUpload</Code>", answer)

    def test_a_part_that_fails_aborts_the_upload(self) -> None:
        self.s3.fail("InternalError", bucket="photos", key="big.bin", method="PUT", times=None)
        chunks = iter([os.urandom(6 * MiB)])
        d = self.storage.upload_object_via_stream(
            chunks, self.bucket(), "big.bin", ex_part_size=5 * MiB
        )
        for _ in range(3):
            self.clock.advance(60)
        error = self.failureResultOf(d, ServiceUnavailableError).value
        self.assertEqual(error.code, "InternalError")
        self.assertEqual(self.s3.buckets["photos"].uploads, {})
        self.assertEqual(self.s3.buckets["photos"].objects, {})


class FaultTests(S3FakeTestCase):
    def test_throttling_is_retried_after_the_backoff(self) -> None:
        self.bucket()
        self.s3.throttle(times=2)
        d = self.storage.list_containers()
        self.assertNoResult(d)
        self.clock.advance(0.1)  # the first backoff: base_delay
        self.assertNoResult(d)
        self.clock.advance(0.2)  # the second: twice as long
        self.assertEqual([b.name for b in self.successResultOf(d)], ["photos"])
        self.assertEqual(len(self.s3.received), 3)

    def test_retry_after_is_honoured(self) -> None:
        self.bucket()
        self.s3.throttle(retry_after=3)
        d = self.storage.list_containers()
        self.clock.advance(2.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.successResultOf(d)

    def test_throttling_that_lasts_is_rate_limit_reached(self) -> None:
        self.s3.throttle(times=None)
        d = self.storage.list_containers()
        self.clock.advance(0.1)
        self.clock.advance(0.2)
        error = self.failureResultOf(d, RateLimitReached).value
        self.assertEqual((error.status, error.code), (503, "SlowDown"))
        self.assertEqual(len(self.s3.received), 3)

    def test_a_fault_for_one_bucket_leaves_the_others_alone(self) -> None:
        self.bucket("photos")
        self.bucket("videos")
        self.s3.fail("AccessDenied", bucket="photos", times=None)
        self.failureResultOf(self.storage.get_container("photos"), InvalidCredsError)
        self.failureResultOf(
            self.storage.list_container_objects(self.bucket("photos")), InvalidCredsError
        )
        self.successResultOf(self.storage.get_container("videos"))

    def test_fail_needs_a_status_for_an_unknown_code(self) -> None:
        self.assertRaises(ValueError, self.s3.fail, "SomethingNew")
        self.assertRaises(ValueError, self.s3.fail, "InternalError", key="k")

    def test_a_delay_holds_the_answer_on_the_clock(self) -> None:
        self.bucket()
        self.s3.delay(5, bucket="photos", times=1)
        d = self.storage.get_container("photos")
        self.clock.advance(4.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.successResultOf(d)
        self.successResultOf(self.storage.get_container("photos"))

    def test_latency_delays_every_answer(self) -> None:
        self.s3.latency = 2
        d = self.storage.list_containers()
        self.clock.advance(1)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d), [])

    def test_clear_faults(self) -> None:
        self.s3.throttle(times=None)
        self.s3.clear_faults()
        self.successResultOf(self.storage.list_containers())


class AuthenticationTests(S3FakeTestCase):
    def test_an_unsigned_request_is_access_denied(self) -> None:
        response = self.successResultOf(self.treq.get("https://s3.us-east-1.amazonaws.com/"))
        answer = self.successResultOf(self.treq.content(response))
        self.assertEqual(response.code, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", answer)

    def test_an_unknown_access_key_is_refused(self) -> None:
        self.s3.access_keys = {"AKIAOTHER"}
        error = self.failureResultOf(self.storage.list_containers(), InvalidCredsError).value
        self.assertEqual(error.code, "InvalidAccessKeyId")
        self.assertNotIn(DEFAULT_SECRET, str(error))

    def test_a_presigned_url_works_until_it_expires(self) -> None:
        obj = self.upload(b"shared")
        url = self.storage.ex_presigned_url(obj, expires=60)
        parts = urlsplit(url)
        local = f"https://{parts.netloc}{parts.path}?{parts.query}"
        response = self.successResultOf(self.treq.get(local))
        self.assertEqual(self.successResultOf(self.treq.content(response)), b"shared")
        self.clock.advance(61)
        late = self.successResultOf(self.treq.get(local))
        self.assertEqual(late.code, 403)


class InlineClockTests(SynchronousTestCase):
    def test_thread_pool_work_runs_at_once(self) -> None:
        clock: Any = InlineClock()
        d = deferToThreadPool(clock, clock.getThreadPool(), sum, [1, 2, 3])
        self.assertEqual(self.successResultOf(d), 6)

    def test_thread_pool_failures_fail_the_deferred(self) -> None:
        clock: Any = InlineClock()
        d = deferToThreadPool(clock, clock.getThreadPool(), int, "x")
        self.failureResultOf(d, ValueError)


class RealSocketTests(TestCase):
    """The fake's site on a real port, with the driver on the real reactor."""

    def test_a_driver_on_a_port_uses_path_style_urls(self) -> Deferred[None]:
        s3 = FakeS3()
        s3.add_bucket("photos")
        s3.add_object("photos", "k", b"value")
        reactor: Any = global_reactor
        port = reactor.listenTCP(0, s3.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        driver = S3StorageDriver(
            DEFAULT_KEY,
            DEFAULT_SECRET,
            host="127.0.0.1",
            port=port.getHost().port,
            secure=False,
        )
        self.addCleanup(driver.close)

        async def check() -> None:
            [obj] = await driver.list_container_objects(
                Container(name="photos", extra={}, driver=driver)
            )
            data = b"".join([c async for c in driver.download_object_as_stream(obj)])
            self.assertEqual((obj.name, data), ("k", b"value"))
            self.assertEqual(s3.received[-1].path, "/photos/k")

        return Deferred.fromCoroutine(check())
