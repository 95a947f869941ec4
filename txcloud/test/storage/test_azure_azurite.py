"""
Integration tests of the Azure Blobs storage driver against Azurite (its
blob service, started once per run by :mod:`txcloud.test.azure_services`),
on the real reactor.

Azurite has no reset: each test works in containers of its own, named after
it, and deletes them afterwards.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import AsyncIterator
from typing import Any

import treq
from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidCredsError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
    PermissionDeniedError,
    ProviderError,
    ResourceConflictError,
)
from txcloud.http import Request, findall_local
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
from txcloud.storage.transfer import multipart
from txcloud.storage.transfer.digest import PartDigests
from txcloud.test.azure_services import ACCOUNT, ACCOUNT_KEY, azurite
from txcloud.test.storage._integration import (
    MiB,
    StorageEmulatorTestCase,
    md5_of_file,
    write_random,
)

# Another valid key: Azurite checks signatures, so it refuses this one.
WRONG_KEY = "a2V5IG9mIGFub3RoZXIgYWNjb3VudCwgYmFzZTY0IGVuY29kZWQgKDY0IGJ5dGVzKSEhISE="


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def _chunks_then_fail(data: bytes, chunk_size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), chunk_size):
        yield data[offset : offset + chunk_size]
    raise ValueError("the source broke")


def _no_part_hashing(*args: Any) -> PartDigests:
    raise AssertionError("blocks are not hashed by default")


class _ListingCounter(AzureBlobsStorageDriver):
    """Counts the listing requests it sends."""

    listings = 0

    async def _xml(self, url: str, params: Any) -> Any:
        self.listings += 1
        return await super()._xml(url, params)


class AzuriteTests(StorageEmulatorTestCase):
    """Every driver method against Azurite, with its development account."""

    timeout = 240
    service = azurite

    async def make_container(self) -> Container:
        # Container names: lower case, digits and single hyphens, 63 at most.
        method = self._testMethodName.removeprefix("test_").replace("_", "-")[:50].strip("-")
        self.prefix = f"t{zlib.crc32(self.id().encode()):08x}"
        return await self.create(f"{self.prefix}-{method}")

    def make_driver(
        self,
        secret: str | None = ACCOUNT_KEY,
        cls: type[AzureBlobsStorageDriver] = AzureBlobsStorageDriver,
        **options: Any,
    ) -> Any:
        return self.connect(cls, ACCOUNT, secret, **options)

    async def create(self, name: str) -> Container:
        container: Container = await self.driver.create_container(name)
        self.addCleanup(lambda: Deferred.fromCoroutine(self._remove(name)))
        return container

    async def _remove(self, name: str) -> None:
        # A fresh driver: the test's own may be closed already.
        driver = self.make_driver()
        container = Container(name=name, extra={}, driver=driver)
        try:
            for obj in await driver.list_container_objects(container):
                await driver.delete_object(obj)
            await driver.delete_container(container)
        except ContainerDoesNotExistError:
            pass
        await driver.close()

    async def block_count(self, name: str) -> int:
        url = self.driver._blob_url(self.container.name, name)
        response = await self.driver.http.send(
            Request("GET", url, params={"comp": "blocklist", "blocklisttype": "committed"})
        )
        return len(findall_local(await response.xml(), "CommittedBlocks/Block"))

    # Containers

    async def test_containers_are_created_listed_fetched_and_deleted(self) -> None:
        name = f"{self.prefix}-second"
        created = await self.create(name)
        self.assertEqual(created.name, name)
        self.assertTrue(created.extra["etag"])
        names = [c.name async for c in self.driver.iterate_containers()]
        self.assertIn(name, names)
        self.assertIn(self.container.name, names)
        fetched = await self.driver.get_container(name)
        self.assertEqual(
            (fetched.name, fetched.extra["etag"], fetched.extra["url"]),
            (name, created.extra["etag"], f"{azurite.url}/{ACCOUNT}/{name}"),
        )
        self.assertIs(await self.driver.delete_container(fetched), True)
        with self.assertRaises(ContainerDoesNotExistError) as caught:
            await self.driver.get_container(name)
        self.assertEqual((caught.exception.container_name, caught.exception.status), (name, 404))

    async def test_creating_an_existing_container_gives_container_already_exists(self) -> None:
        with self.assertRaises(ContainerAlreadyExistsError) as caught:
            await self.driver.create_container(self.container.name)
        self.assertEqual(caught.exception.code, "ContainerAlreadyExists")
        self.assertEqual(caught.exception.container_name, self.container.name)

    async def test_deleting_a_non_empty_container_is_refused_and_keeps_it(self) -> None:
        await self.put("keep.txt", b"still here")
        with self.assertRaises(ContainerIsNotEmptyError):
            await self.driver.delete_container(self.container)
        names = [obj.name for obj in await self.driver.list_container_objects(self.container)]
        self.assertEqual(names, ["keep.txt"])

    async def test_a_missing_container_gives_container_does_not_exist(self) -> None:
        missing = Container(name=f"{self.prefix}-missing", extra={}, driver=self.driver)
        for attempt in (
            self.driver.get_container(missing.name),
            self.driver.list_container_objects(missing),
            self.driver.delete_container(missing),
            self.driver.get_object(missing.name, "a.txt"),
            self.driver.upload_object_via_stream(iter([b"x"]), missing, "a.txt"),
        ):
            with self.assertRaises(ContainerDoesNotExistError):
                await attempt

    # Listing

    async def test_1200_objects_are_listed_across_pages(self) -> None:
        names = [f"many/{number:04d}.txt" for number in range(1200)]
        limit = DeferredSemaphore(50)
        await gatherResults(
            [limit.run(self.put, name, name.encode()) for name in names], consumeErrors=True
        )
        await self.put("other.txt", b"not under the prefix")
        counting = self.make_driver(cls=_ListingCounter)
        listed = [
            obj
            async for obj in counting.iterate_container_objects(
                self.container, prefix="many/", ex_page_size=500
            )
        ]
        self.assertEqual([obj.name for obj in listed], names)
        self.assertEqual(counting.listings, 3)
        self.assertEqual(listed[7].size, len(names[7]))
        self.assertEqual(listed[7].extra["md5_hash"], _md5(names[7].encode()))
        everything = await self.driver.list_container_objects(self.container)
        self.assertEqual(len(everything), 1201)

    # Objects

    async def test_metadata_and_content_type_travel_with_the_object(self) -> None:
        # Azure (and Azurite) sign "_" before digits: a1 and a_b test the order.
        meta = {"Owner": "ops", "build_id": "42", "a1": "x", "a_b": "y"}
        extra = {"meta_data": meta, "content_type": "text/csv"}
        await self.put("report 2024/Q1 (final).csv", b"a,b\n1,2\n", extra=extra)
        fetched = await self.driver.get_object(self.container.name, "report 2024/Q1 (final).csv")
        self.assertEqual(fetched.meta_data, {key.lower(): value for key, value in meta.items()})
        self.assertEqual(fetched.extra["content_type"], "text/csv")
        self.assertEqual(fetched.extra["md5_hash"], _md5(b"a,b\n1,2\n"))
        self.assertEqual(fetched.extra["blob_type"], "BlockBlob")
        [listed] = await self.driver.list_container_objects(self.container)
        self.assertEqual((listed.name, listed.hash), (fetched.name, fetched.hash))
        self.assertEqual(listed.meta_data, fetched.meta_data)

    async def test_an_empty_object_with_an_unusual_name_round_trips(self) -> None:
        name = "na\u00efve+100%/\u00fcn\u00efc\u00f6d\u00e9 #1?.txt"
        obj = await self.put(name, b"")
        self.assertEqual((obj.size, obj.extra["md5_hash"]), (0, _md5(b"")))
        [listed] = await self.driver.list_container_objects(self.container, prefix="na\u00efve+")
        self.assertEqual((listed.name, listed.size), (name, 0))
        await self.driver.download_object(listed, self.path("empty"))
        self.assertEqual(os.path.getsize(self.path("empty")), 0)
        self.assertIs(await self.driver.delete_object(listed), True)

    async def test_a_missing_object_gives_object_does_not_exist(self) -> None:
        ghost = Object("ghost.txt", 1, None, {}, {}, self.container, self.driver)
        for attempt in (
            self.driver.get_object(self.container.name, "ghost.txt"),
            self.driver.delete_object(ghost),
            self.driver.download_object(ghost, self.path("ghost")),
        ):
            with self.assertRaises(ObjectDoesNotExistError) as caught:
                await attempt
            self.assertEqual(caught.exception.object_name, "ghost.txt")
        self.assertEqual(os.listdir(self.folder), [])

    async def test_a_40_mib_file_goes_in_parallel_blocks_and_comes_back_intact(self) -> None:
        source = write_random(self.path("source"), 40 * MiB + 123)
        sent: list[int] = []
        obj = await self.driver.upload_object(
            source, self.container, "big.bin", ex_progress=sent.append
        )
        expected = md5_of_file(source)
        self.assertEqual((obj.size, obj.extra["md5_hash"]), (40 * MiB + 123, expected))
        self.assertEqual(await self.block_count("big.bin"), 6)
        self.assertEqual(sent[-1], 40 * MiB + 123)
        fetched = await self.driver.get_object(self.container.name, "big.bin")
        self.assertEqual((fetched.hash, fetched.extra["md5_hash"]), (obj.hash, expected))
        await self.driver.download_object(fetched, self.path("copy"), ex_range_size=4 * MiB)
        self.assertEqual(md5_of_file(self.path("copy")), expected)

    async def test_a_block_not_matching_its_md5_commits_nothing(self) -> None:
        source = write_random(self.path("source"), 3 * MiB)
        # What a block corrupted on its way looks like to Azure: an MD5
        # that is not its data's.
        wrong = PartDigests(hashlib.md5(b"other data").digest(), None)
        self.patch(multipart, "digests_of_file_range", lambda *args: wrong)
        with self.assertRaises(ProviderError) as caught:
            await self.driver.upload_object(
                source,
                self.container,
                "corrupted.bin",
                ex_multipart_threshold=MiB,
                ex_part_size=MiB,
                ex_transactional_md5=True,
            )
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(await self.driver.list_container_objects(self.container), [])
        self.assertEqual(os.listdir(self.folder), ["source"])

    async def test_blocks_without_md5s_still_commit_the_blobs_md5(self) -> None:
        source = write_random(self.path("source"), 3 * MiB)
        self.patch(multipart, "digests_of_file_range", _no_part_hashing)
        obj = await self.driver.upload_object(
            source, self.container, "plain.bin", ex_multipart_threshold=MiB, ex_part_size=MiB
        )
        fetched = await self.driver.get_object(self.container.name, "plain.bin")
        self.assertEqual(fetched.extra["md5_hash"], md5_of_file(source))
        self.assertEqual(obj.extra["md5_hash"], md5_of_file(source))
        await self.driver.download_object(fetched, self.path("copy"))
        self.assertEqual(md5_of_file(self.path("copy")), md5_of_file(source))

    async def test_a_small_file_goes_in_one_put_blob(self) -> None:
        source = write_random(self.path("small"), 3 * MiB)
        obj = await self.driver.upload_object(source, self.container, "small.bin")
        self.assertEqual(obj.extra["md5_hash"], md5_of_file(source))
        self.assertEqual(await self.block_count("small.bin"), 0)
        await self.driver.download_object(obj, self.path("copy"))
        self.assertEqual(md5_of_file(self.path("copy")), md5_of_file(source))

    async def test_a_stream_goes_up_in_blocks_and_comes_back_as_a_stream(self) -> None:
        data = os.urandom(10 * MiB + 7)
        chunks = (data[offset : offset + 100_000] for offset in range(0, len(data), 100_000))
        obj = await self.driver.upload_object_via_stream(
            chunks, self.container, "stream.bin", ex_part_size=4 * MiB
        )
        self.assertEqual(await self.block_count("stream.bin"), 3)
        fetched = await self.driver.get_object(self.container.name, "stream.bin")
        self.assertEqual((fetched.size, fetched.extra["md5_hash"]), (len(data), _md5(data)))
        self.assertEqual(obj.extra["md5_hash"], _md5(data))
        received = [
            chunk async for chunk in self.driver.download_object_as_stream(fetched, 3 * MiB)
        ]
        self.assertEqual(b"".join(received), data)
        self.assertEqual([len(chunk) for chunk in received[:-1]], [3 * MiB] * 3)

    async def test_a_failing_stream_commits_nothing(self) -> None:
        source = _chunks_then_fail(os.urandom(9 * MiB), MiB)
        with self.assertRaises(ValueError):
            await self.driver.upload_object_via_stream(
                source, self.container, "broken.bin", ex_part_size=2 * MiB
            )
        with self.assertRaises(ObjectDoesNotExistError):
            await self.driver.get_object(self.container.name, "broken.bin")
        self.assertEqual(await self.driver.list_container_objects(self.container), [])

    async def test_a_failing_stream_leaves_the_existing_object_alone(self) -> None:
        await self.put("kept.bin", b"version one")
        with self.assertRaises(ValueError):
            await self.driver.upload_object_via_stream(
                _chunks_then_fail(os.urandom(5 * MiB), MiB),
                self.container,
                "kept.bin",
                ex_part_size=2 * MiB,
            )
        received = [
            chunk
            async for chunk in self.driver.download_object_as_stream(
                await self.driver.get_object(self.container.name, "kept.bin")
            )
        ]
        self.assertEqual(b"".join(received), b"version one")

    async def test_ranges_come_back_as_files_and_streams(self) -> None:
        data = bytes(range(256)) * 40
        obj = await self.put("range.bin", data)
        await self.driver.download_object_range(obj, self.path("part"), 1000, 3000)
        with open(self.path("part"), "rb") as file:
            self.assertEqual(file.read(), data[1000:3000])
        tail = [chunk async for chunk in self.driver.download_object_range_as_stream(obj, 9000)]
        self.assertEqual(b"".join(tail), data[9000:])

    async def test_a_large_download_in_ranges_checks_the_md5(self) -> None:
        data = os.urandom(6 * MiB)
        obj = await self.put("ranged.bin", data)
        await self.driver.download_object(
            obj, self.path("ranged"), ex_download_threshold=MiB, ex_range_size=MiB
        )
        with open(self.path("ranged"), "rb") as file:
            self.assertEqual(file.read(), data)

    async def test_a_download_whose_md5_does_not_match_leaves_no_file(self) -> None:
        await self.put("tampered.bin", b"the real content")
        url = self.driver._blob_url(self.container.name, "tampered.bin")
        # Set Blob Properties replaces the stored MD5 (Azure does not check it).
        response = await self.driver._send(
            "PUT",
            url,
            params={"comp": "properties"},
            headers={"x-ms-blob-content-md5": "AAAAAAAAAAAAAAAAAAAAAA=="},
        )
        await response.content()
        fetched = await self.driver.get_object(self.container.name, "tampered.bin")
        with self.assertRaises(ObjectHashMismatchError):
            await self.driver.download_object(fetched, self.path("tampered"))
        self.assertEqual(os.listdir(self.folder), [])
        await self.driver.download_object(fetched, self.path("unchecked"), ex_verify_hash=False)
        with open(self.path("unchecked"), "rb") as file:
            self.assertEqual(file.read(), b"the real content")

    async def test_a_stale_object_is_not_downloaded_after_an_overwrite(self) -> None:
        stale = await self.put("moving.bin", b"first version")
        await self.put("moving.bin", b"second version")
        with self.assertRaises(ResourceConflictError) as caught:
            await self.driver.download_object(stale, self.path("moving"))
        self.assertEqual((caught.exception.status, caught.exception.code), (412, "ConditionNotMet"))
        self.assertEqual(os.listdir(self.folder), [])

    # Credentials and shared access signatures

    async def test_a_wrong_key_gives_invalid_creds(self) -> None:
        driver = self.make_driver(WRONG_KEY)
        with self.assertRaises(InvalidCredsError) as caught:
            await driver.list_containers()
        self.assertEqual(caught.exception.status, 403)
        self.assertNotIn(WRONG_KEY, str(caught.exception))

    async def test_an_account_sas_lets_a_driver_work_without_the_key(self) -> None:
        token = self.driver.ex_generate_sas(None, "rwdlc", 600)
        driver = self.make_driver(None, ex_sas_token=token)
        container = await driver.get_container(self.container.name)
        obj = await driver.upload_object_via_stream(iter([b"via sas"]), container, "sas.txt")
        self.assertEqual(obj.extra["md5_hash"], _md5(b"via sas"))
        self.assertIn(self.container.name, [c.name for c in await driver.list_containers()])
        received = [chunk async for chunk in driver.download_object_as_stream(obj)]
        self.assertEqual(b"".join(received), b"via sas")

    async def test_a_read_only_container_sas_cannot_write(self) -> None:
        await self.put("readable.txt", b"read me")
        token = self.driver.ex_generate_sas(self.container, "rl", 600)
        driver = self.make_driver(None, ex_sas_token=token)
        listed = await driver.list_container_objects(self.container)
        self.assertEqual([obj.name for obj in listed], ["readable.txt"])
        with self.assertRaises(PermissionDeniedError):
            await driver.upload_object_via_stream(iter([b"x"]), self.container, "denied.txt")

    async def test_a_presigned_url_serves_the_blob_without_credentials(self) -> None:
        obj = await self.put("shared/a file.txt", b"for anyone with the link")
        response = await treq.get(self.driver.ex_presigned_url(obj), persistent=False)
        self.assertEqual(
            (response.code, await response.content()), (200, b"for anyone with the link")
        )
