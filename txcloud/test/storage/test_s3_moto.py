"""
Integration tests of the S3 storage driver against moto server, on the real
reactor, in two regions (us-east-1, where buckets need no location, and
eu-west-1, where they do).

moto accepts any credentials unless told otherwise, so refused credentials
are tested against a second moto started with IAM checks on
(``INITIAL_NO_AUTH_ACTION_COUNT=0``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import google_crc32c
import treq
from twisted.internet.defer import CancelledError, Deferred, DeferredSemaphore, gatherResults
from twisted.trial.unittest import TestCase

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidCredsError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
)
from txcloud.http import Request
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.storage.drivers.s3 import upload as s3_upload
from txcloud.storage.transfer.digest import PartDigests, crc32_base64
from txcloud.test.emulators import checking_moto, moto, reset_moto
from txcloud.test.storage._integration import (
    MiB,
    StorageEmulatorTestCase,
    collect,
    md5_of_file,
    write_random,
)

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class _OtherAccountDriver(S3StorageDriver):
    """Speaks to moto as another AWS account, to own a bucket that is not ours."""

    def _sign(self, request: Request) -> Request | Deferred[Request]:
        return super()._sign(request.with_headers({"x-moto-account-id": "111122223333"}))


class S3MotoTests(StorageEmulatorTestCase):
    """Every driver method against moto, in :attr:`region`."""

    timeout = 180
    region = "us-east-1"
    service = moto

    async def make_container(self) -> Container:
        await reset_moto()
        bucket: Container = await self.driver.create_container(f"txcloud-{self.region}")
        return bucket

    def make_driver(self, cls: type[S3StorageDriver] = S3StorageDriver, **options: Any) -> Any:
        return self.connect(cls, KEY, SECRET, region=self.region, **options)

    # Containers

    async def test_containers_are_created_listed_fetched_and_deleted(self) -> None:
        name = f"second-{self.region}"
        created = await self.driver.create_container(name)
        self.assertEqual((created.name, created.extra["region"]), (name, self.region))
        names = [c.name for c in await self.driver.list_containers()]
        self.assertEqual(sorted(names), sorted([name, self.container.name]))
        fetched = await self.driver.get_container(name)
        self.assertEqual(fetched.extra["region"], self.region)
        self.assertIs(await self.driver.delete_container(fetched), True)
        with self.assertRaises(ContainerDoesNotExistError) as caught:
            await self.driver.get_container(name)
        self.assertEqual(caught.exception.container_name, name)

    async def test_a_bucket_of_another_account_already_exists(self) -> None:
        other = self.make_driver(_OtherAccountDriver)
        await other.create_container("somebody-elses")
        with self.assertRaises(ContainerAlreadyExistsError) as caught:
            await self.driver.create_container("somebody-elses")
        self.assertEqual(caught.exception.code, "BucketAlreadyExists")
        self.assertEqual(caught.exception.container_name, "somebody-elses")

    async def test_a_missing_bucket_gives_container_does_not_exist(self) -> None:
        missing = Container(name="no-such-bucket", extra={}, driver=self.driver)
        for call in (
            lambda: self.driver.get_container("no-such-bucket"),
            lambda: self.driver.list_container_objects(missing),
            lambda: self.driver.delete_container(missing),
            lambda: self.driver.upload_object_via_stream(iter([b"x"]), missing, "k"),
        ):
            with self.assertRaises(ContainerDoesNotExistError) as caught:
                await call()
            self.assertEqual(caught.exception.container_name, "no-such-bucket")

    async def test_a_non_empty_bucket_cannot_be_deleted(self) -> None:
        await self.put("keep.txt", b"x")
        with self.assertRaises(ContainerIsNotEmptyError) as caught:
            await self.driver.delete_container(self.container)
        self.assertEqual(caught.exception.container_name, self.container.name)

    # Objects

    async def test_an_object_keeps_its_metadata_and_content(self) -> None:
        extra = {
            "meta_data": {"owner": "ops", "build": "42"},
            "content_type": "text/csv",
            "acl": "public-read",
        }
        data = b"id,name\n1,alpha\n"
        uploaded = await self.put("reports/2024 q1+.csv", data, extra=extra)
        self.assertEqual((uploaded.size, uploaded.hash), (len(data), hashlib.md5(data).hexdigest()))
        fetched = await self.driver.get_object(self.container.name, "reports/2024 q1+.csv")
        self.assertEqual(fetched.meta_data, {"owner": "ops", "build": "42"})
        self.assertEqual(fetched.extra["content_type"], "text/csv")
        self.assertEqual((fetched.size, fetched.hash), (uploaded.size, uploaded.hash))
        self.assertIs(fetched.extra["hash_is_md5"], True)
        self.assertTrue(fetched.extra["last_modified"])
        [listed] = await self.driver.list_container_objects(self.container, prefix="reports/")
        self.assertEqual(
            (listed.name, listed.size, listed.hash), (fetched.name, len(data), fetched.hash)
        )
        self.assertEqual(
            b"".join(await collect(self.driver.download_object_as_stream(listed))), data
        )

    async def test_an_empty_object_round_trips(self) -> None:
        obj = await self.put("empty", b"")
        self.assertEqual((obj.size, obj.hash), (0, hashlib.md5(b"").hexdigest()))
        await self.driver.download_object(obj, self.path("empty"))
        self.assertEqual(os.path.getsize(self.path("empty")), 0)

    async def test_keys_with_special_characters_round_trip(self) -> None:
        names = ["a//b", "/leading", "sp ace+plus/é", "a/./b", "a/../b", "x?y#z%", "tab\tx"]
        for name in names:
            await self.put(name, name.encode())
        listed = await self.driver.list_container_objects(self.container)
        self.assertEqual([obj.name for obj in listed], sorted(names))
        for obj in listed:
            content = b"".join(await collect(self.driver.download_object_as_stream(obj)))
            self.assertEqual(content, obj.name.encode())

    async def test_a_missing_object_gives_object_does_not_exist(self) -> None:
        with self.assertRaises(ObjectDoesNotExistError) as caught:
            await self.driver.get_object(self.container.name, "missing.txt")
        self.assertEqual(caught.exception.object_name, "missing.txt")
        missing = Object("missing.txt", 1, None, {}, {}, self.container, self.driver)
        with self.assertRaises(ObjectDoesNotExistError) as caught:
            await collect(self.driver.download_object_as_stream(missing))
        self.assertEqual(caught.exception.code, "NoSuchKey")
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.download_object(missing, self.path("out"))
        self.assertEqual(os.listdir(self.folder), [])

    async def test_a_deleted_object_is_gone(self) -> None:
        obj = await self.put("temporary", b"x")
        self.assertIs(await self.driver.delete_object(obj), True)
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.get_object(self.container.name, "temporary")

    async def test_ranges_download_as_streams_and_files(self) -> None:
        data = bytes(range(256)) * 4
        obj = await self.put("ranges.bin", data)
        stream = self.driver.download_object_range_as_stream(obj, 10, 300, chunk_size=100)
        chunks = await collect(stream)
        self.assertEqual([len(c) for c in chunks], [100, 100, 90])
        self.assertEqual(b"".join(chunks), data[10:300])
        await self.driver.download_object_range(obj, self.path("tail"), 1000)
        with open(self.path("tail"), "rb") as file:
            self.assertEqual(file.read(), data[1000:])

    async def test_a_folder_destination_saves_the_object_under_its_key(self) -> None:
        obj = await self.put("reports/2026.csv", b"a,b\n1,2\n")
        os.makedirs(self.path("reports"))
        self.assertIs(await self.driver.download_object(obj, self.folder + os.sep), True)
        with open(self.path(os.path.join("reports", "2026.csv")), "rb") as file:
            self.assertEqual(file.read(), b"a,b\n1,2\n")

    async def test_a_gzip_encoded_object_downloads_byte_for_byte(self) -> None:
        stored = gzip.compress(b"compressible text " * 1000)
        extra = {"content_encoding": "gzip", "content_type": "text/plain"}
        obj = await self.put("page.html.gz", stored, extra=extra)
        fetched = await self.driver.get_object(self.container.name, "page.html.gz")
        self.assertEqual(fetched.extra["content_encoding"], "gzip")
        self.assertEqual(
            b"".join(await collect(self.driver.download_object_as_stream(obj))), stored
        )
        await self.driver.download_object(fetched, self.path("page.gz"))
        with open(self.path("page.gz"), "rb") as file:
            self.assertEqual(file.read(), stored)

    async def test_presigned_urls_work_without_credentials(self) -> None:
        await self.put("shared.txt", b"for anyone with the link")
        url = self.driver.ex_presigned_url((self.container.name, "shared.txt"), expires=300)
        response = await treq.get(url, persistent=False)
        self.assertEqual(
            (response.code, await response.content()), (200, b"for anyone with the link")
        )
        upload_url = self.driver.ex_presigned_url(
            (self.container.name, "dropped.txt"), method="PUT"
        )
        response = await treq.put(upload_url, b"dropped in", persistent=False)
        await response.content()
        self.assertEqual(response.code, 200)
        dropped = await self.driver.get_object(self.container.name, "dropped.txt")
        self.assertEqual(dropped.size, len(b"dropped in"))

    # Large transfers

    async def test_a_40_mib_file_goes_multipart_and_comes_back_intact(self) -> None:
        source = write_random(self.path("source"), 40 * MiB)
        progress: list[int] = []
        obj = await self.driver.upload_object(
            source, self.container, "big.bin", ex_progress=progress.append
        )
        self.assertEqual(obj.size, 40 * MiB)
        self.assertTrue(obj.hash.endswith("-5"), obj.hash)
        self.assertEqual(progress[-1], 40 * MiB)
        self.assertEqual(
            await collect(self.driver.ex_iterate_multipart_uploads(self.container)), []
        )
        fetched = await self.driver.get_object(self.container.name, "big.bin")
        self.assertEqual((fetched.size, fetched.hash), (obj.size, obj.hash))
        await self.driver.download_object(fetched, self.path("streamed"))
        await self.driver.download_object(
            fetched, self.path("ranged"), ex_download_threshold=8 * MiB, ex_range_size=8 * MiB
        )
        expected = md5_of_file(source)
        self.assertEqual(md5_of_file(self.path("streamed")), expected)
        self.assertEqual(md5_of_file(self.path("ranged")), expected)

    async def test_a_large_file_below_the_threshold_goes_in_one_checked_put(self) -> None:
        source = write_random(self.path("source"), 12 * MiB)
        obj = await self.driver.upload_object(
            source, self.container, "single.bin", ex_multipart_threshold=16 * MiB
        )
        self.assertEqual((obj.hash, obj.extra["hash_is_md5"]), (md5_of_file(source), True))
        await self.driver.download_object(obj, self.path("copy"))
        self.assertEqual(md5_of_file(self.path("copy")), obj.hash)

    async def stored_checksum(self, name: str) -> tuple[str | None, str | None]:
        """The CRC32C and checksum type moto reports for object *name*."""
        url = self.driver._object_url(self.container.name, name)
        head = await self.driver._send("HEAD", url, headers={"x-amz-checksum-mode": "ENABLED"})
        await head.content()
        return head.headers.get("x-amz-checksum-crc32c"), head.headers.get("x-amz-checksum-type")

    async def test_a_multipart_upload_keeps_the_whole_objects_crc32c(self) -> None:
        source = write_random(self.path("source"), 12 * MiB)
        await self.driver.upload_object(source, self.container, "whole.bin", ex_part_size=5 * MiB)
        with open(source, "rb") as file:
            expected = crc32_base64(google_crc32c.value(file.read()))
        # moto computes it from the bytes it assembled: they are the file's.
        self.assertEqual(await self.stored_checksum("whole.bin"), (expected, "FULL_OBJECT"))

    async def test_moto_keeps_a_wrong_checksum_and_the_download_refuses_the_object(self) -> None:
        # S3 refuses a PutObject whose x-amz-checksum-crc32c is wrong (BadDigest);
        # moto stores it unchecked and echoes it, so the upload succeeds...
        wrong = PartDigests(None, None, (1).to_bytes(4, "big"))
        self.patch(s3_upload, "digests_of_file_range", lambda *args: wrong)
        source = write_random(self.path("source"), 9 * MiB)
        obj = await self.driver.upload_object(
            source, self.container, "wrong.bin", ex_multipart_threshold=16 * MiB
        )
        self.assertEqual(await self.stored_checksum("wrong.bin"), (crc32_base64(1), None))
        # ...and the download, checked against what S3 keeps, fails and leaves nothing.
        folder = self.path("downloads")
        os.mkdir(folder)
        with self.assertRaises(ObjectHashMismatchError) as caught:
            await self.driver.download_object(obj, os.path.join(folder, "wrong.bin"))
        self.assertIn(crc32_base64(1), str(caught.exception))
        self.assertEqual(os.listdir(folder), [])

    async def test_a_stream_of_unknown_size_goes_multipart(self) -> None:
        blocks = [os.urandom(MiB) for _ in range(12)]

        async def source() -> AsyncIterator[bytes]:
            for block in blocks:
                yield block

        obj = await self.driver.upload_object_via_stream(source(), self.container, "stream.bin")
        self.assertEqual(obj.size, 12 * MiB)
        self.assertTrue(obj.hash.endswith("-2"), obj.hash)
        downloaded = b"".join(await collect(self.driver.download_object_as_stream(obj)))
        self.assertEqual(downloaded, b"".join(blocks))

    async def test_a_stream_failing_midway_leaves_no_upload_and_no_object(self) -> None:
        broken = OSError("the source went away")

        def source():
            for _ in range(3):
                yield os.urandom(3 * MiB)
            raise broken

        with self.assertRaises(OSError) as caught:
            await self.driver.upload_object_via_stream(
                source(), self.container, "half.bin", ex_part_size=5 * MiB
            )
        self.assertIs(caught.exception, broken)
        self.assertEqual(
            await collect(self.driver.ex_iterate_multipart_uploads(self.container)), []
        )
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.get_object(self.container.name, "half.bin")

    async def test_a_cancelled_multipart_upload_leaves_no_parts(self) -> None:
        source = write_random(self.path("source"), 30 * MiB)
        first_part: Deferred[int] = Deferred()
        uploading = self.driver.upload_object(
            source,
            self.container,
            "cancelled.bin",
            ex_part_size=5 * MiB,
            ex_max_concurrency=2,
            ex_progress=lambda sent: None if first_part.called else first_part.callback(sent),
        )
        await first_part
        uploading.cancel()
        with self.assertRaises(CancelledError):
            await uploading
        self.assertEqual(
            await collect(self.driver.ex_iterate_multipart_uploads(self.container)), []
        )
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.get_object(self.container.name, "cancelled.bin")

    async def test_1200_objects_are_listed_over_several_pages(self) -> None:
        limit = DeferredSemaphore(50)
        await gatherResults(
            [limit.run(self.put, f"item/{number:04d}", b"%d" % number) for number in range(1200)]
        )
        pages: list[str] = []
        send = self.driver.http.send

        def counting_send(request: Request) -> Any:
            if ("list-type", "2") in request.params:
                pages.append(request.full_url)
            return send(request)

        self.patch(self.driver.http, "send", counting_send)
        listed = await self.driver.list_container_objects(self.container)
        self.assertEqual([obj.name for obj in listed], [f"item/{n:04d}" for n in range(1200)])
        self.assertEqual(len(pages), 2)
        del pages[:]
        small = await self.driver.list_container_objects(
            self.container, prefix="item/00", ex_page_size=30
        )
        self.assertEqual(len(small), 100)
        self.assertEqual(len(pages), 4)
        self.assertEqual(small[-1].size, len(b"99"))


class S3MotoEuWest1Tests(S3MotoTests):
    """The same, in a region whose buckets need a LocationConstraint."""

    region = "eu-west-1"

    async def test_our_own_bucket_already_exists(self) -> None:
        with self.assertRaises(ContainerAlreadyExistsError) as caught:
            await self.driver.create_container(self.container.name)
        self.assertEqual(caught.exception.code, "BucketAlreadyOwnedByYou")


class S3MotoCredentialTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return checking_moto.ensure_started()

    @classmethod
    def tearDownClass(cls) -> None:
        checking_moto.stop()

    async def test_unknown_credentials_give_invalid_creds(self) -> None:
        driver = S3StorageDriver(
            KEY, SECRET, host="127.0.0.1", port=checking_moto.port, secure=False
        )
        self.addCleanup(driver.close)
        with self.assertRaises(InvalidCredsError) as caught:
            await driver.list_containers()
        self.assertEqual(
            (caught.exception.code, caught.exception.status), ("InvalidAccessKeyId", 403)
        )
        self.assertNotIn(SECRET, str(caught.exception))
        with self.assertRaises(InvalidCredsError):
            await driver.get_container("any-bucket")
