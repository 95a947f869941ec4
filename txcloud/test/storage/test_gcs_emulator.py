"""
Integration tests of the Google Cloud Storage driver against fake-gcs-server
(the JSON API, no credentials), on the real reactor.  Each test works in a
bucket of its own, so the tests share one fake-gcs-server process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred, DeferredSemaphore, gatherResults
from twisted.internet.task import deferLater

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidContainerNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
)
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.storage.drivers.google_storage.upload import TEMPORARY_PREFIX
from txcloud.storage.providers import get_driver
from txcloud.storage.transfer import multipart
from txcloud.storage.transfer.digest import CRC32C, PartDigests, base64_digest, digests_of
from txcloud.storage.types import Provider
from txcloud.test.gcs_services import PROJECT, fake_gcs
from txcloud.test.storage._integration import (
    MiB,
    StorageEmulatorTestCase,
    collect,
    md5_of_file,
    write_random,
)


def _crc32c(data: bytes) -> bytes:
    digest = digests_of(data, {CRC32C}).crc32c
    assert digest is not None
    return digest


async def _constant(value: bytes) -> bytes:
    return value


class SourceFailed(Exception):
    """What a failing upload source raises."""


def _failing_source(good_bytes: int) -> Iterator[bytes]:
    sent = 0
    while sent < good_bytes:
        yield b"x" * MiB
        sent += MiB
    raise SourceFailed("the source broke")


class FakeGCSTests(StorageEmulatorTestCase):
    """Every driver method against fake-gcs-server."""

    timeout = 240
    service = fake_gcs
    driver: GoogleStorageDriver

    async def make_container(self) -> Container:
        bucket: Container = await self.driver.create_container(f"txcloud-{secrets.token_hex(6)}")
        return bucket

    def make_driver(self, **options: Any) -> GoogleStorageDriver:
        driver: GoogleStorageDriver = self.connect(
            get_driver(Provider.GOOGLE_STORAGE), "", None, ex_project=PROJECT, **options
        )
        return driver

    async def names(self) -> list[str]:
        return [obj.name for obj in await self.driver.list_container_objects(self.container)]

    # Containers

    async def test_containers_are_created_listed_fetched_and_deleted(self) -> None:
        name = f"second-{secrets.token_hex(6)}"
        created = await self.driver.create_container(name)
        self.assertEqual(created.name, name)
        self.assertIn("location", created.extra)
        names = [c.name for c in await self.driver.list_containers()]
        self.assertIn(name, names)
        self.assertIn(self.container.name, names)
        fetched = await self.driver.get_container(name)
        self.assertEqual((fetched.name, fetched.extra["storage_class"]), (name, "STANDARD"))
        self.assertIs(await self.driver.delete_container(fetched), True)
        with self.assertRaises(ContainerDoesNotExistError) as caught:
            await self.driver.get_container(name)
        self.assertEqual((caught.exception.container_name, caught.exception.status), (name, 404))

    async def test_an_existing_bucket_cannot_be_created_again(self) -> None:
        with self.assertRaises(ContainerAlreadyExistsError) as caught:
            await self.driver.create_container(self.container.name)
        self.assertEqual(
            (caught.exception.container_name, caught.exception.status), (self.container.name, 409)
        )

    async def test_a_non_empty_bucket_cannot_be_deleted(self) -> None:
        await self.put("keep.txt", b"x")
        with self.assertRaises(ContainerIsNotEmptyError) as caught:
            await self.driver.delete_container(self.container)
        self.assertEqual(caught.exception.container_name, self.container.name)
        self.assertEqual(await self.names(), ["keep.txt"])

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

    async def test_a_bad_bucket_name_is_refused_before_any_request(self) -> None:
        with self.assertRaises(InvalidContainerNameError):
            await self.driver.create_container("Bad_Name!")

    # Objects

    async def test_an_object_keeps_its_metadata_and_content(self) -> None:
        extra = {"meta_data": {"owner": "ops", "build": "42"}, "content_type": "text/csv"}
        data = b"id,name\n1,alpha\n"
        uploaded = await self.put("reports/2024 q1+.csv", data, extra=extra)
        self.assertEqual((uploaded.size, uploaded.hash), (len(data), hashlib.md5(data).hexdigest()))
        fetched = await self.driver.get_object(self.container.name, "reports/2024 q1+.csv")
        self.assertEqual(fetched.meta_data, {"owner": "ops", "build": "42"})
        self.assertEqual(fetched.extra["content_type"], "text/csv")
        self.assertEqual((fetched.size, fetched.hash), (uploaded.size, uploaded.hash))
        self.assertEqual(fetched.extra["generation"], uploaded.extra["generation"])
        self.assertTrue(fetched.extra["crc32c"])
        [listed] = await self.driver.list_container_objects(self.container, prefix="reports/")
        self.assertEqual(
            (listed.name, listed.size, listed.hash), (fetched.name, len(data), fetched.hash)
        )
        content = b"".join(await collect(self.driver.download_object_as_stream(listed)))
        self.assertEqual(content, data)
        ranged = b"".join(await collect(self.driver.download_object_range_as_stream(listed, 3, 7)))
        self.assertEqual(ranged, data[3:7])

    async def test_names_with_special_characters_round_trip(self) -> None:
        names = ["a//b", "/leading", "sp ace+plus/é", "x?y#z%", "tab\tx"]
        for name in names:
            await self.put(name, name.encode())
        listed = await self.driver.list_container_objects(self.container)
        self.assertEqual(sorted(obj.name for obj in listed), sorted(names))
        for obj in listed:
            content = b"".join(await collect(self.driver.download_object_as_stream(obj)))
            self.assertEqual(content, obj.name.encode())

    async def test_a_missing_object_gives_object_does_not_exist(self) -> None:
        with self.assertRaises(ObjectDoesNotExistError) as caught:
            await self.driver.get_object(self.container.name, "missing.txt")
        self.assertEqual(
            (caught.exception.object_name, caught.exception.status), ("missing.txt", 404)
        )
        missing = Object("missing.txt", 1, None, {}, {}, self.container, self.driver)
        with self.assertRaises(ObjectDoesNotExistError):
            await collect(self.driver.download_object_as_stream(missing))
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.download_object(missing, self.path("out"))
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.delete_object(missing)
        self.assertEqual(os.listdir(self.folder), [])

    async def test_deleted_objects_are_gone(self) -> None:
        obj = await self.put("gone.txt", b"bye")
        self.assertIs(await self.driver.delete_object(obj), True)
        self.assertEqual(await self.names(), [])

    async def test_1200_objects_are_listed_across_pages(self) -> None:
        limit = DeferredSemaphore(20)
        names = [f"many/{number:05d}" for number in range(1200)]
        await gatherResults(
            [
                limit.run(lambda n: Deferred.fromCoroutine(self.put(n, n.encode())), name)
                for name in names
            ]
        )
        await self.put("other/outside", b"x")
        pages = []
        original = self.driver._json

        async def counting(method: str, url: str, params: Any = None) -> Any:
            page = await original(method, url, params)
            pages.append(len(page.get("items", [])))
            return page

        self.driver._json = counting  # type: ignore[method-assign]
        listed = await self.driver.list_container_objects(self.container, "many/", ex_page_size=250)
        self.assertEqual([obj.name for obj in listed], names)
        self.assertEqual(pages, [250, 250, 250, 250, 200])
        self.assertEqual({obj.size for obj in listed}, {10})

    # Large transfers

    async def _round_trip_40_mib(self, method: str) -> Object:
        source = write_random(self.path("source.bin"), 40 * MiB + 12345)
        progress: list[int] = []
        obj = await self.driver.upload_object(
            source,
            self.container,
            f"big-{method}.bin",
            ex_upload_method=method,
            ex_progress=progress.append,
        )
        self.assertEqual(obj.size, 40 * MiB + 12345)
        self.assertEqual(progress[-1], obj.size)
        target = self.path(f"copy-{method}.bin")
        ranges: list[tuple[int, int | None]] = []
        original = self.driver._stream

        def recording(obj: Object, start: int, end: int | None, *args: Any) -> AsyncIterator[bytes]:
            ranges.append((start, end))
            return original(obj, start, end, *args)

        self.driver._stream = recording  # type: ignore[method-assign, assignment]
        fetched = await self.driver.get_object(self.container.name, obj.name)
        self.assertIs(
            await self.driver.download_object(
                fetched, target, ex_download_threshold=8 * MiB, ex_range_size=8 * MiB
            ),
            True,
        )
        self.assertEqual(md5_of_file(target), md5_of_file(source))
        self.assertEqual(len(ranges), 6)
        self.assertEqual(await self.names(), [obj.name])
        return obj

    async def test_a_40_mib_file_goes_up_in_parallel_composite_parts_and_comes_back(self) -> None:
        composed = []
        original = self.driver._send_json

        async def recording(method: str, url: str, document: Any, **kwargs: Any) -> Any:
            if url.endswith("/compose"):
                composed.append(len(document["sourceObjects"]))
            return await original(method, url, document, **kwargs)

        self.driver._send_json = recording  # type: ignore[method-assign]
        await self._round_trip_40_mib("composite")
        self.assertEqual(composed, [6])

    async def test_a_40_mib_file_goes_up_in_a_resumable_session_and_comes_back(self) -> None:
        obj = await self._round_trip_40_mib("resumable")
        self.assertEqual(obj.hash, md5_of_file(self.path("source.bin")))

    async def test_more_than_32_parts_are_composed_in_a_tree(self) -> None:
        data = os.urandom(40 * 256 * 1024 + 7)
        obj = await self.driver.upload_object_via_stream(
            iter([data]),
            self.container,
            "tree",
            ex_upload_method="composite",
            ex_part_size=256 * 1024,
        )
        content = b"".join(await collect(self.driver.download_object_as_stream(obj)))
        self.assertEqual(content, data)
        self.assertEqual(await self.names(), ["tree"])

    # Checksums

    async def test_every_upload_method_stores_the_crc32c_it_sent(self) -> None:
        data = os.urandom(3 * MiB + 5)
        expected = base64_digest(_crc32c(data))
        source = self.path("source.bin")
        with open(source, "wb") as file:
            file.write(data)
        sizes = {"one-request": 8 * MiB, "resumable": MiB, "composite": MiB}
        for name, threshold in sizes.items():
            method = "composite" if name == "composite" else "resumable"
            for kind in ("file", "stream"):
                if kind == "file":
                    uploading = self.driver.upload_object(
                        source,
                        self.container,
                        f"{name}-{kind}",
                        ex_upload_method=method,
                        ex_multipart_threshold=threshold,
                        ex_part_size=MiB,
                    )
                else:
                    uploading = self.driver.upload_object_via_stream(
                        iter([data]),
                        self.container,
                        f"{name}-{kind}",
                        ex_upload_method=method,
                        ex_part_size=threshold,
                    )
                obj = await uploading
                self.assertEqual(obj.extra["crc32c"], expected, obj.name)
                fetched = await self.driver.get_object(self.container.name, obj.name)
                self.assertEqual(fetched.extra["crc32c"], expected, obj.name)

    async def test_an_upload_whose_checksum_is_not_the_stored_one_leaves_nothing(self) -> None:
        # fake-gcs-server stores what it receives without checking the
        # checksum sent: the driver's own comparison must catch it.
        source = write_random(self.path("source.bin"), 3 * MiB)

        def wrong_file_digest(path: str, algorithm: str) -> Any:
            return lambda: Deferred.fromCoroutine(_constant(b"\x00\x00\x00\x01"))

        def wrong_part_digests(*args: Any) -> PartDigests:
            return PartDigests(None, None, b"\x00\x00\x00\x01")

        self.patch(self.driver, "_file_digest", wrong_file_digest)
        self.patch(multipart, "digests_of_file_range", wrong_part_digests)
        for method, threshold in (("resumable", 8 * MiB), ("resumable", MiB), ("composite", MiB)):
            with self.assertRaises(ObjectHashMismatchError):
                await self.driver.upload_object(
                    source,
                    self.container,
                    f"{method}-{threshold}",
                    ex_upload_method=method,
                    ex_multipart_threshold=threshold,
                    ex_part_size=MiB,
                )
        self.assertEqual(await self.names(), [])

    async def test_a_download_not_matching_the_stored_crc32c_leaves_no_file(self) -> None:
        source = write_random(self.path("source.bin"), 5 * MiB)
        obj = await self.driver.upload_object(source, self.container, "checked")
        obj.extra["crc32c"] = base64_digest(b"\x00\x00\x00\x01")
        for threshold in (None, MiB):
            target = self.path(f"copy-{threshold}.bin")
            with self.assertRaises(ObjectHashMismatchError):
                await self.driver.download_object(
                    obj, target, ex_download_threshold=threshold, ex_range_size=MiB
                )
            self.assertFalse(os.path.exists(target))
            self.assertEqual(os.listdir(os.path.dirname(target)), ["source.bin"])

    # Streams

    async def test_a_stream_goes_up_and_comes_back_in_chunks(self) -> None:
        for method in ("resumable", "composite"):
            chunks = [os.urandom(MiB // 3) for _ in range(60)]
            obj = await self.driver.upload_object_via_stream(
                iter(chunks), self.container, f"stream-{method}", ex_upload_method=method
            )
            self.assertEqual(obj.size, sum(map(len, chunks)))
            received = await collect(self.driver.download_object_as_stream(obj, chunk_size=MiB))
            self.assertEqual(b"".join(received), b"".join(chunks))
            self.assertEqual({len(chunk) for chunk in received[:-1]}, {MiB})
        self.assertEqual(await self.names(), ["stream-composite", "stream-resumable"])

    async def test_a_stream_ending_on_a_whole_part_is_finished_with_its_total(self) -> None:
        data = os.urandom(16 * MiB)
        obj = await self.driver.upload_object_via_stream(
            iter([data[: 5 * MiB], data[5 * MiB :]]),
            self.container,
            "whole-parts",
            ex_part_size=8 * MiB,
        )
        self.assertEqual((obj.size, obj.hash), (len(data), hashlib.md5(data).hexdigest()))

    async def test_a_failing_stream_leaves_no_object_and_no_temporaries(self) -> None:
        for method in ("resumable", "composite"):
            with self.assertRaises(SourceFailed):
                await self.driver.upload_object_via_stream(
                    _failing_source(20 * MiB),
                    self.container,
                    f"broken-{method}",
                    ex_upload_method=method,
                )
        self.assertEqual(await self.names(), [])

    async def test_a_cancelled_composite_upload_deletes_its_temporaries(self) -> None:
        hold: Deferred[None] = Deferred()

        async def source() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield os.urandom(256 * 1024)
            yield b"!"
            await hold
            yield b"never sent"

        uploading = self.driver.upload_object_via_stream(
            source(),
            self.container,
            "cancelled",
            ex_upload_method="composite",
            ex_part_size=256 * 1024,
        )
        for _ in range(200):
            if len(await self.names()) >= 2:
                break
            await deferLater(reactor, 0.02, lambda: None)
        stored = await self.names()
        self.assertGreaterEqual(len(stored), 2)
        self.assertTrue(all(name.startswith(TEMPORARY_PREFIX) for name in stored))
        uploading.cancel()
        with self.assertRaises(CancelledError):
            await uploading
        self.assertEqual(await self.names(), [])

    async def test_leftover_temporaries_are_cleaned_up(self) -> None:
        await self.put(f"{TEMPORARY_PREFIX}dead/00001", b"left")
        await self.put("kept", b"kept")
        self.assertEqual(await self.driver.ex_cleanup_composite_temporaries(self.container), 1)
        self.assertEqual(await self.names(), ["kept"])

    async def test_the_server_is_reached_without_credentials(self) -> None:
        seen = []
        original = self.driver.http.send

        async def recording(request: Any) -> Any:
            seen.append(request.headers.get("Authorization"))
            return await original(request)

        self.driver.http.send = recording  # type: ignore[method-assign, assignment]
        await self.put("anonymous", b"x")
        self.assertEqual(seen, [None])
        listing = await treq.get(
            f"{fake_gcs.url}/storage/v1/b/{self.container.name}/o", persistent=False
        )
        self.assertEqual([item["name"] for item in (await listing.json())["items"]], ["anonymous"])
