"""Tests of the embedded storage driver, Provider.LOCAL."""

from __future__ import annotations

import hashlib
import os
from typing import Any, cast

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred, gatherResults
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from txcloud.errors import (
    ContainerAlreadyExistsError,
    ContainerDoesNotExistError,
    ContainerIsNotEmptyError,
    InvalidArgumentError,
    InvalidContainerNameError,
    InvalidObjectNameError,
    ObjectDoesNotExistError,
    ObjectHashMismatchError,
)
from txcloud.storage.base import Container, Object
from txcloud.storage.drivers.local import LocalStorageDriver
from txcloud.storage.providers import get_driver
from txcloud.storage.transfer import files as transfer
from txcloud.storage.transfer.config import DEFAULT_CHUNK_SIZE
from txcloud.storage.types import Provider

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
ESCAPING_NAMES = ["../x", "/etc/passwd", "a/../../b", "", "a//b", "./a", "dir/", "a\0b", ".."]
BAD_CONTAINER_NAMES = ["a/b", "a\\b", "", ".", "..", "a\0b"]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def _collect(items) -> list:
    return [item async for item in items]


def _files_and_folders(top: str) -> list[str]:
    """Every path under *top*, relative, folders marked with a trailing '/'."""
    found: list[str] = []
    for folder, folders, files in os.walk(top):
        relative = os.path.relpath(folder, top)
        prefix = "" if relative == "." else relative + "/"
        found.extend(prefix + name + "/" for name in folders)
        found.extend(prefix + name for name in files)
    return sorted(found)


class _NoDisk:
    """Stands in for the driver's disk to prove a call never reaches it."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the disk was touched ({name})")


class LocalDriverTestCase(TestCase):
    def setUp(self) -> None:
        self.base = self.mktemp()
        os.makedirs(self.base)
        self.driver = LocalStorageDriver(self.base)

    def path(self, *parts: str) -> str:
        return os.path.join(self.base, *parts)

    def write(self, data: bytes, *parts: str) -> str:
        path = self.path(*parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)
        return path

    def read(self, *parts: str) -> bytes:
        with open(self.path(*parts), "rb") as file:
            return file.read()

    async def container(self, name: str = "box") -> Container:
        return await self.driver.create_container(name)

    def make_box(self) -> Container:
        """A container made on disk directly, for synchronous set-ups."""
        os.makedirs(self.path("box"))
        return Container(name="box", extra={}, driver=self.driver)

    def put(self, data: bytes, name: str, container: str = "box") -> Deferred[Object]:
        box = Container(name=container, extra={}, driver=self.driver)
        return self.driver.upload_object_via_stream(iter([data]), box, name)

    def forbid_disk(self) -> None:
        self.patch(self.driver, "_disk", _NoDisk())


class ConstructionTests(LocalDriverTestCase):
    def test_get_driver_returns_the_local_driver(self) -> None:
        self.assertIs(get_driver(Provider.LOCAL), LocalStorageDriver)

    def test_driver_describes_itself_like_libcloud(self) -> None:
        self.assertEqual(self.driver.base_path, self.base)
        self.assertEqual(self.driver.type, Provider.LOCAL)
        self.assertEqual(self.driver.name, "Local Storage")
        self.assertTrue(self.driver.hash_is_md5)

    def test_reactor_is_injectable(self) -> None:
        driver = LocalStorageDriver(self.base, reactor=reactor)
        self.assertIs(driver.reactor, reactor)

    def test_missing_base_folder_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, LocalStorageDriver, self.path("missing"))

    def test_file_as_base_folder_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, LocalStorageDriver, self.write(b"x", "file"))


class ContainerTests(LocalDriverTestCase):
    async def test_create_container_makes_a_folder(self) -> None:
        box = await self.driver.create_container("box")
        self.assertEqual(box.name, "box")
        self.assertIs(box.driver, self.driver)
        self.assertTrue(os.path.isdir(self.path("box")))

    async def test_container_extra_has_libcloud_time_keys(self) -> None:
        box = await self.container()
        self.assertEqual(set(box.extra), {"creation_time", "access_time", "modify_time"})
        self.assertEqual(box.extra["modify_time"], os.stat(self.path("box")).st_mtime)

    async def test_create_existing_container_fails(self) -> None:
        await self.container()
        with self.assertRaises(ContainerAlreadyExistsError) as caught:
            await self.driver.create_container("box")
        self.assertEqual(caught.exception.container_name, "box")

    async def test_list_containers_lists_folders_sorted_and_skips_files(self) -> None:
        for name in ("b", "a", "c d é"):
            await self.container(name)
        self.write(b"x", "not-a-container")
        containers = await self.driver.list_containers()
        self.assertEqual([c.name for c in containers], ["a", "b", "c d é"])

    async def test_iterate_containers_is_an_async_iterator(self) -> None:
        await self.container("a")
        self.assertEqual([c.name for c in await _collect(self.driver.iterate_containers())], ["a"])

    async def test_get_container(self) -> None:
        await self.container()
        box = await self.driver.get_container("box")
        self.assertEqual(box, Container(name="box", extra={}, driver=self.driver))

    async def test_get_missing_container_fails(self) -> None:
        await self.assertFailure(self.driver.get_container("nope"), ContainerDoesNotExistError)

    async def test_get_container_that_is_a_file_fails(self) -> None:
        self.write(b"x", "file")
        await self.assertFailure(self.driver.get_container("file"), ContainerDoesNotExistError)

    async def test_bad_container_names_are_refused_before_the_disk(self) -> None:
        self.forbid_disk()
        for name in BAD_CONTAINER_NAMES:
            await self.assertFailure(self.driver.get_container(name), InvalidContainerNameError)
            await self.assertFailure(self.driver.create_container(name), InvalidContainerNameError)
        self.assertEqual(os.listdir(self.base), [])

    async def test_container_linked_outside_the_base_folder_is_refused(self) -> None:
        outside = self.mktemp()
        os.makedirs(outside)
        os.symlink(os.path.abspath(outside), self.path("link"))
        await self.assertFailure(self.driver.get_container("link"), InvalidContainerNameError)
        self.assertEqual(await self.driver.list_containers(), [])

    async def test_delete_empty_container_removes_empty_sub_folders_too(self) -> None:
        box = await self.container()
        os.makedirs(self.path("box", "a", "b"))
        self.assertIs(await self.driver.delete_container(box), True)
        self.assertEqual(os.listdir(self.base), [])

    async def test_delete_non_empty_container_fails_and_keeps_it(self) -> None:
        box = await self.container()
        await self.put(b"x", "deep/file")
        await self.assertFailure(self.driver.delete_container(box), ContainerIsNotEmptyError)
        self.assertEqual(self.read("box", "deep", "file"), b"x")

    async def test_delete_missing_container_fails(self) -> None:
        box = Container(name="nope", extra={}, driver=self.driver)
        await self.assertFailure(self.driver.delete_container(box), ContainerDoesNotExistError)

    async def test_delete_container_ignores_leftover_temporary_files(self) -> None:
        box = await self.container()
        self.write(b"partial", "box", f".x.0a1b{transfer.TEMPORARY_SUFFIX}")
        self.assertIs(await self.driver.delete_container(box), True)
        self.assertFalse(os.path.exists(self.path("box")))


class ObjectTests(LocalDriverTestCase):
    async def test_upload_via_stream_stores_the_content_and_describes_it(self) -> None:
        box = await self.container()
        obj = await self.driver.upload_object_via_stream(iter([b"hello ", b"world"]), box, "a.txt")
        self.assertEqual(self.read("box", "a.txt"), b"hello world")
        self.assertEqual(
            (obj.name, obj.size, obj.hash, obj.meta_data), ("a.txt", 11, _md5(b"hello world"), {})
        )
        self.assertIs(obj.container, box)
        self.assertEqual(
            set(obj.extra), {"creation_time", "access_time", "modify_time", "content_type"}
        )
        self.assertEqual(obj.extra["content_type"], "text/plain")

    async def test_unknown_type_is_octet_stream(self) -> None:
        await self.container()
        obj = await self.put(b"x", "blob")
        self.assertEqual(obj.extra["content_type"], "application/octet-stream")

    async def test_upload_via_async_iterator(self) -> None:
        box = await self.container()

        async def chunks():
            yield b"ab"
            yield b"cd"

        obj = await self.driver.upload_object_via_stream(chunks(), box, "x")
        self.assertEqual((obj.size, self.read("box", "x")), (4, b"abcd"))

    async def test_upload_nested_name_creates_sub_folders(self) -> None:
        await self.container()
        obj = await self.put(b"deep", "a/b/c.bin")
        self.assertEqual(obj.name, "a/b/c.bin")
        self.assertEqual(self.read("box", "a", "b", "c.bin"), b"deep")

    async def test_unicode_and_spaces_in_names_round_trip(self) -> None:
        await self.container("boîte à outils")
        name = "dossier é/naïve file ✓.txt"
        await self.put(b"unicode", name, container="boîte à outils")
        obj = await self.driver.get_object("boîte à outils", name)
        self.assertEqual((obj.name, obj.size), (name, 7))
        listed = await obj.container.list_objects()
        self.assertEqual([o.name for o in listed], [name])

    async def test_zero_byte_object(self) -> None:
        box = await self.container()
        obj = await self.driver.upload_object_via_stream(iter([]), box, "empty")
        self.assertEqual((obj.size, obj.hash), (0, EMPTY_MD5))
        self.assertEqual(await _collect(self.driver.download_object_as_stream(obj)), [])
        destination = os.path.join(self.mktemp())
        self.assertIs(await self.driver.download_object(obj, destination), True)
        self.assertEqual(os.path.getsize(destination), 0)

    async def test_upload_replaces_an_existing_object(self) -> None:
        await self.container()
        await self.put(b"old", "x")
        obj = await self.put(b"brand new", "x")
        self.assertEqual((obj.size, obj.hash), (9, _md5(b"brand new")))
        fetched = await self.driver.get_object("box", "x")
        self.assertEqual(fetched.hash, _md5(b"brand new"))

    async def test_upload_object_copies_a_file_in_chunks_with_progress(self) -> None:
        box = await self.container()
        data = os.urandom(2 * DEFAULT_CHUNK_SIZE + 10)
        source = self.write(data, "..", "source.bin")
        progress: list[int] = []
        obj = await self.driver.upload_object(source, box, "big.bin", ex_progress=progress.append)
        self.assertEqual(self.read("box", "big.bin"), data)
        self.assertEqual((obj.size, obj.hash), (len(data), _md5(data)))
        self.assertEqual(progress, [DEFAULT_CHUNK_SIZE, 2 * DEFAULT_CHUNK_SIZE, len(data)])

    async def test_upload_via_stream_reports_progress(self) -> None:
        box = await self.container()
        progress: list[int] = []
        await self.driver.upload_object_via_stream(
            iter([b"ab", b"cde", b"f"]), box, "x", ex_progress=progress.append
        )
        self.assertEqual(progress, [2, 5, 6])

    async def test_upload_of_missing_file_fails_and_leaves_nothing(self) -> None:
        box = await self.container()
        with self.assertRaises(FileNotFoundError):
            await self.driver.upload_object(self.path("missing"), box, "a/b")
        self.assertEqual(_files_and_folders(self.path("box")), [])

    async def test_upload_to_missing_container_fails(self) -> None:
        box = Container(name="nope", extra={}, driver=self.driver)
        await self.assertFailure(
            self.driver.upload_object_via_stream(iter([b"x"]), box, "x"),
            ContainerDoesNotExistError,
        )
        self.assertEqual(os.listdir(self.base), [])

    async def test_upload_refuses_unknown_arguments(self) -> None:
        box = await self.container()
        await self.assertFailure(
            self.driver.upload_object_via_stream(iter([b"x"]), box, "x", headers={}),
            InvalidArgumentError,
        )

    async def test_upload_refuses_a_single_bytes_value(self) -> None:
        box = await self.container()
        await self.assertFailure(
            self.driver.upload_object_via_stream(cast(Any, b"data"), box, "x"),
            InvalidArgumentError,
        )
        self.assertEqual(os.listdir(self.path("box")), [])

    async def test_upload_below_an_object_is_refused(self) -> None:
        await self.container()
        await self.put(b"x", "a")
        await self.assertFailure(self.put(b"y", "a/b"), InvalidObjectNameError)
        self.assertEqual(self.read("box", "a"), b"x")

    async def test_upload_over_a_folder_of_objects_is_refused(self) -> None:
        await self.container()
        await self.put(b"x", "a/b")
        await self.assertFailure(self.put(b"y", "a"), InvalidObjectNameError)
        self.assertEqual(_files_and_folders(self.path("box")), ["a/", "a/b"])

    async def test_get_object(self) -> None:
        await self.container()
        await self.put(b"content", "dir/x.json")
        obj = await self.driver.get_object("box", "dir/x.json")
        self.assertEqual((obj.name, obj.size, obj.hash), ("dir/x.json", 7, _md5(b"content")))
        self.assertEqual(obj.container.name, "box")
        self.assertEqual(obj.extra["content_type"], "application/json")
        self.assertEqual(
            obj.extra["modify_time"], os.stat(self.path("box", "dir", "x.json")).st_mtime
        )

    async def test_get_missing_object_fails(self) -> None:
        await self.container()
        with self.assertRaises(ObjectDoesNotExistError) as caught:
            await self.driver.get_object("box", "nope")
        self.assertEqual(caught.exception.object_name, "nope")

    async def test_get_object_of_a_folder_fails(self) -> None:
        await self.container()
        await self.put(b"x", "dir/file")
        await self.assertFailure(self.driver.get_object("box", "dir"), ObjectDoesNotExistError)

    async def test_get_object_below_a_file_fails(self) -> None:
        await self.container()
        await self.put(b"x", "file")
        await self.assertFailure(self.driver.get_object("box", "file/x"), ObjectDoesNotExistError)

    async def test_get_object_in_missing_container_fails(self) -> None:
        await self.assertFailure(self.driver.get_object("nope", "x"), ContainerDoesNotExistError)

    async def test_delete_object_removes_the_file_and_empty_sub_folders(self) -> None:
        await self.container()
        obj = await self.put(b"x", "a/b/c")
        await self.put(b"y", "a/keep")
        self.assertIs(await self.driver.delete_object(obj), True)
        self.assertEqual(_files_and_folders(self.path("box")), ["a/", "a/keep"])

    async def test_delete_last_nested_object_leaves_the_container_empty(self) -> None:
        await self.container()
        obj = await self.put(b"x", "a/b/c")
        await obj.delete()
        self.assertEqual(os.listdir(self.path("box")), [])

    async def test_delete_missing_object_fails(self) -> None:
        await self.container()
        obj = await self.put(b"x", "x")
        await obj.delete()
        await self.assertFailure(self.driver.delete_object(obj), ObjectDoesNotExistError)

    async def test_delete_object_that_is_a_folder_fails(self) -> None:
        box = await self.container()
        await self.put(b"x", "dir/file")
        folder = Object("dir", 0, None, {}, {}, box, self.driver)
        await self.assertFailure(self.driver.delete_object(folder), ObjectDoesNotExistError)
        self.assertEqual(self.read("box", "dir", "file"), b"x")


class ListingTests(LocalDriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.box = self.make_box()
        for name in ("b/1", "a/2", "ab", "a/1", "a/sub/3"):
            self.write(name.encode(), "box", *name.split("/"))

    async def names(self, prefix: str | None = None) -> list[str]:
        return [o.name for o in await self.driver.list_container_objects(self.box, prefix)]

    async def test_lists_every_object_recursively_sorted_by_name(self) -> None:
        self.assertEqual(await self.names(), ["a/1", "a/2", "a/sub/3", "ab", "b/1"])

    async def test_listed_objects_carry_size_and_content_md5(self) -> None:
        objects = await self.driver.list_container_objects(self.box)
        self.assertEqual(
            [(o.size, o.hash) for o in objects],
            [(len(o.name), _md5(o.name.encode())) for o in objects],
        )

    async def test_prefix_filters_by_name_start(self) -> None:
        self.assertEqual(await self.names("a"), ["a/1", "a/2", "a/sub/3", "ab"])
        self.assertEqual(await self.names("a/"), ["a/1", "a/2", "a/sub/3"])
        self.assertEqual(await self.names("a/s"), ["a/sub/3"])
        self.assertEqual(await self.names("b/1"), ["b/1"])

    async def test_prefix_matching_nothing_lists_nothing(self) -> None:
        self.assertEqual(await self.names("zz/"), [])
        self.assertEqual(await self.names("ab/"), [])
        self.assertEqual(await self.names("../"), [])
        self.assertEqual(await self.names("a//"), [])

    async def test_iterate_objects_is_an_async_iterator(self) -> None:
        names = [o.name async for o in self.box.iterate_objects(prefix="b")]
        self.assertEqual(names, ["b/1"])

    async def test_temporary_files_are_not_objects(self) -> None:
        self.write(b"partial", "box", "a", f".2.0a1b{transfer.TEMPORARY_SUFFIX}")
        self.assertEqual(await self.names("a/"), ["a/1", "a/2", "a/sub/3"])

    async def test_listing_missing_container_fails(self) -> None:
        missing = Container(name="nope", extra={}, driver=self.driver)
        await self.assertFailure(
            self.driver.list_container_objects(missing), ContainerDoesNotExistError
        )

    def count_hashing(self) -> list[str]:
        hashed: list[str] = []
        original = transfer.stat_and_md5

        def counting(path: str, *args):
            hashed.append(os.path.relpath(path, self.path("box")))
            return original(path, *args)

        self.patch(transfer, "stat_and_md5", counting)
        return hashed

    async def test_unchanged_files_are_not_hashed_again(self) -> None:
        hashed = self.count_hashing()
        await self.names()
        self.assertEqual(len(hashed), 5)
        self.write(b"changed!", "box", "ab")
        objects = await self.driver.list_container_objects(self.box)
        self.assertEqual(hashed[5:], ["ab"])
        self.assertEqual((objects[3].name, objects[3].hash), ("ab", _md5(b"changed!")))
        await self.driver.get_object("box", "b/1")
        self.assertEqual(len(hashed), 6)

    async def test_uploaded_objects_are_not_hashed_again(self) -> None:
        hashed = self.count_hashing()
        await self.put(b"new", "c")
        obj = await self.driver.get_object("box", "c")
        self.assertEqual(hashed, [])
        self.assertEqual(obj.hash, _md5(b"new"))


class DownloadTests(LocalDriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.box = self.make_box()
        self.write(b"0123456789", "box", "digits.txt")
        self.out = self.mktemp()

    def digits(self) -> Deferred[Object]:
        return self.driver.get_object("box", "digits.txt")

    def read_out(self) -> bytes:
        with open(self.out, "rb") as file:
            return file.read()

    async def test_download_object_writes_the_file_with_progress(self) -> None:
        obj = await self.digits()
        progress: list[int] = []
        result = await self.driver.download_object(obj, self.out, ex_progress=progress.append)
        self.assertIs(result, True)
        self.assertEqual(self.read_out(), b"0123456789")
        self.assertEqual(progress, [10])

    async def test_download_via_the_object(self) -> None:
        obj = await self.digits()
        self.assertIs(await obj.download(self.out), True)
        self.assertEqual(self.read_out(), b"0123456789")

    async def test_download_of_a_changed_file_fails_on_hash_and_leaves_nothing(self) -> None:
        obj = await self.digits()
        self.write(b"tampered!!", "box", "digits.txt")
        folder = os.path.dirname(os.path.abspath(self.out))
        before = os.listdir(folder)
        await self.assertFailure(
            self.driver.download_object(obj, self.out), ObjectHashMismatchError
        )
        self.assertEqual(os.listdir(folder), before)
        self.assertFalse(os.path.exists(self.out))

    async def test_download_refuses_to_overwrite_by_default(self) -> None:
        obj = await self.digits()
        with open(self.out, "wb") as file:
            file.write(b"mine")
        await self.assertFailure(self.driver.download_object(obj, self.out), InvalidArgumentError)
        self.assertEqual(self.read_out(), b"mine")
        await self.driver.download_object(obj, self.out, overwrite_existing=True)
        self.assertEqual(self.read_out(), b"0123456789")

    async def test_download_of_a_deleted_object_fails(self) -> None:
        obj = await self.digits()
        await obj.delete()
        await self.assertFailure(
            self.driver.download_object(obj, self.out), ObjectDoesNotExistError
        )
        self.assertFalse(os.path.exists(self.out))

    async def test_download_range_to_file(self) -> None:
        obj = await self.digits()
        self.assertIs(await self.driver.download_object_range(obj, self.out, 2, 5), True)
        self.assertEqual(self.read_out(), b"234")

    async def test_range_stream_is_start_inclusive_end_exclusive(self) -> None:
        obj = await self.digits()

        async def data(start: int, end: int | None) -> bytes:
            chunks = self.driver.download_object_range_as_stream(obj, start, end)
            return b"".join(await _collect(chunks))

        self.assertEqual(await data(2, 5), b"234")
        self.assertEqual(await data(7, None), b"789")
        self.assertEqual(await data(0, 10), b"0123456789")
        self.assertEqual(await data(10, None), b"")

    async def test_range_past_the_end_is_refused(self) -> None:
        obj = await self.digits()
        for start, end in [(0, 11), (11, None), (-1, None), (4, 4), (5, 2)]:
            with self.assertRaises(InvalidArgumentError):
                await _collect(self.driver.download_object_range_as_stream(obj, start, end))

    async def test_stream_yields_chunks_of_at_most_chunk_size(self) -> None:
        obj = await self.digits()
        chunks = await _collect(self.driver.download_object_as_stream(obj, chunk_size=3))
        self.assertEqual(chunks, [b"012", b"345", b"678", b"9"])

    async def test_stream_of_a_big_object_uses_the_default_chunk_size(self) -> None:
        data = os.urandom(DEFAULT_CHUNK_SIZE + 1)
        obj = await self.put(data, "big")
        chunks = await _collect(obj.as_stream())
        self.assertEqual([len(c) for c in chunks], [DEFAULT_CHUNK_SIZE, 1])
        self.assertEqual(b"".join(chunks), data)

    async def test_bad_chunk_size_is_refused(self) -> None:
        obj = await self.digits()
        with self.assertRaises(InvalidArgumentError):
            await _collect(self.driver.download_object_as_stream(obj, chunk_size=0))


class NameSafetyTests(LocalDriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.box = self.make_box()
        self.outside = os.path.abspath(self.mktemp())
        os.makedirs(self.outside)
        with open(os.path.join(self.outside, "secret"), "wb") as file:
            file.write(b"secret")

    def fake_object(self, name: str) -> Object:
        return Object(name, 1, None, {}, {}, self.box, self.driver)

    async def test_escaping_names_are_refused_before_the_disk(self) -> None:
        self.forbid_disk()
        for name in ESCAPING_NAMES:
            await self.assertFailure(self.driver.get_object("box", name), InvalidObjectNameError)
            await self.assertFailure(
                self.driver.upload_object_via_stream(iter([b"x"]), self.box, name),
                InvalidObjectNameError,
            )
            await self.assertFailure(
                self.driver.delete_object(self.fake_object(name)), InvalidObjectNameError
            )
            with self.assertRaises(InvalidObjectNameError):
                await _collect(self.driver.download_object_as_stream(self.fake_object(name)))
        self.assertEqual(_files_and_folders(self.base), ["box/"])

    async def test_temporary_file_names_are_refused(self) -> None:
        await self.assertFailure(
            self.put(b"x", f"a/.b.0a1b{transfer.TEMPORARY_SUFFIX}"), InvalidObjectNameError
        )

    async def test_object_name_error_names_the_object(self) -> None:
        with self.assertRaises(InvalidObjectNameError) as caught:
            await self.driver.get_object("box", "../x")
        self.assertEqual(caught.exception.object_name, "../x")
        self.assertIsInstance(caught.exception, InvalidArgumentError)

    async def test_folder_link_leaving_the_base_is_refused(self) -> None:
        os.symlink(self.outside, self.path("box", "link"))
        await self.assertFailure(
            self.driver.get_object("box", "link/secret"), InvalidObjectNameError
        )
        await self.assertFailure(self.put(b"x", "link/new/file"), InvalidObjectNameError)
        await self.assertFailure(
            self.driver.delete_object(self.fake_object("link/secret")), InvalidObjectNameError
        )
        with self.assertRaises(InvalidObjectNameError):
            await _collect(self.driver.download_object_as_stream(self.fake_object("link/secret")))
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret"])

    async def test_file_link_leaving_the_base_is_refused_and_not_listed(self) -> None:
        os.symlink(os.path.join(self.outside, "secret"), self.path("box", "leak"))
        await self.assertFailure(self.driver.get_object("box", "leak"), InvalidObjectNameError)
        self.assertEqual(await self.driver.list_container_objects(self.box), [])

    async def test_file_link_inside_the_base_is_an_object(self) -> None:
        await self.put(b"data", "real")
        os.symlink(os.path.abspath(self.path("box", "real")), self.path("box", "alias"))
        obj = await self.driver.get_object("box", "alias")
        self.assertEqual(obj.hash, _md5(b"data"))
        self.assertEqual(
            [o.name for o in await self.driver.list_container_objects(self.box)], ["alias", "real"]
        )


class FailureAndRaceTests(LocalDriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.box = self.make_box()

    async def test_sync_stream_raising_midway_leaves_no_object_or_temporary_file(self) -> None:
        def chunks():
            yield b"partial"
            raise ValueError("source broke")

        with self.assertRaises(ValueError):
            await self.driver.upload_object_via_stream(chunks(), self.box, "a/b/c")
        await self.assertFailure(self.driver.get_object("box", "a/b/c"), ObjectDoesNotExistError)
        self.assertEqual(os.listdir(self.path("box")), [])

    async def test_async_stream_raising_midway_keeps_the_previous_object(self) -> None:
        await self.put(b"previous", "x")

        async def chunks():
            yield b"partial"
            raise ValueError("source broke")

        with self.assertRaises(ValueError):
            await self.driver.upload_object_via_stream(chunks(), self.box, "x")
        self.assertEqual(os.listdir(self.path("box")), ["x"])
        self.assertEqual(self.read("box", "x"), b"previous")

    async def test_racing_uploads_of_one_name_leave_one_whole_file(self) -> None:
        contents = [b"A" * 100_000, b"B" * 150_000]

        async def chunks(data: bytes):
            for offset in range(0, len(data), 10_000):
                # Hand control back so the two uploads interleave.
                await deferLater(reactor, 0, lambda: None)
                yield data[offset : offset + 10_000]

        uploads = [
            self.driver.upload_object_via_stream(chunks(data), self.box, "same")
            for data in contents
        ]
        await gatherResults(uploads)
        self.assertIn(self.read("box", "same"), contents)
        self.assertEqual(os.listdir(self.path("box")), ["same"])
        obj = await self.driver.get_object("box", "same")
        self.assertEqual(obj.hash, _md5(self.read("box", "same")))

    async def test_cancelled_upload_leaves_nothing(self) -> None:
        gate: Deferred[None] = Deferred()
        first: Deferred[int] = Deferred()

        async def chunks():
            yield b"abc"
            await gate
            yield b"never"

        uploading = self.driver.upload_object_via_stream(
            chunks(), self.box, "a/b", ex_progress=first.callback
        )
        await first
        await deferLater(reactor, 0, lambda: None)
        uploading.cancel()
        await self.assertFailure(uploading, CancelledError)
        self.assertEqual(os.listdir(self.path("box")), [])
