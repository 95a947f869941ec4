"""
Parity of our local driver with Libcloud's: the same operations, run against
``libcloud.storage.drivers.local.LocalStorageDriver`` and ours in separate
folders, give the same containers, names, sizes, files on disk and error types.

Libcloud blocks, but only on local file I/O, so it is called directly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.errors import TxCloudError
from txcloud.storage.drivers.local import LocalStorageDriver
from txcloud.test.storage.test_local import _files_and_folders as _tree

try:
    from libcloud.storage.drivers.local import LocalStorageDriver as LibcloudLocalStorageDriver
except ImportError:
    skip = "apache-libcloud (with fasteners) is not installed; pip install '.[test]'"

FILES = {
    "a.txt": b"plain text\n",
    "dir/sub/b.bin": bytes(range(256)) * 5,
    "dossier é/naïve file ✓.txt": "unicode ✓".encode(),
}
CONTAINERS = ("alpha", "beta", "gamma")
STREAMED: dict[str, list[bytes]] = {
    "stream.dat": [b"first ", b"second ", b"third"],
    "empty": [],
}


def _error_name(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except Exception as error:
        return type(error).__name__
    return None


async def _our_error_name(deferred: Deferred[Any]) -> str | None:
    try:
        await deferred
    except TxCloudError as error:
        return type(error).__name__
    return None


class LocalDriverParityTests(TestCase):
    """
    ``setUp`` runs the sequence on Libcloud's driver (it blocks); each test
    first runs it on ours with :meth:`same_on_ours`.
    """

    def setUp(self) -> None:
        self.theirs_base, self.ours_base, self.sources = (self.mktemp() for _ in range(3))
        for folder in (self.theirs_base, self.ours_base, self.sources):
            os.makedirs(folder)
        self.theirs = LibcloudLocalStorageDriver(self.theirs_base, ex_use_locking=False)
        self.ours = LocalStorageDriver(self.ours_base)
        self.contents = {name: b"".join(chunks) for name, chunks in STREAMED.items()}
        self.contents.update(FILES)
        for name in CONTAINERS:
            self.theirs.create_container(name)
        alpha = self.theirs.get_container("alpha")
        for name in FILES:
            self.theirs.upload_object(self.source(name), alpha, name)
        for name, chunks in STREAMED.items():
            self.theirs.upload_object_via_stream(iter(chunks), alpha, name)
        self.theirs.upload_object_via_stream(iter([b"x"]), self.theirs.get_container("beta"), "x")

    def source(self, name: str) -> str:
        """A file holding FILES[name], to upload from."""
        path = os.path.join(self.sources, hashlib.md5(name.encode()).hexdigest())
        with open(path, "wb") as file:
            file.write(FILES[name])
        return path

    async def same_on_ours(self) -> None:
        for name in CONTAINERS:
            await self.ours.create_container(name)
        alpha = await self.ours.get_container("alpha")
        for name in FILES:
            await self.ours.upload_object(self.source(name), alpha, name)
        for name, chunks in STREAMED.items():
            await self.ours.upload_object_via_stream(iter(chunks), alpha, name)
        beta = await self.ours.get_container("beta")
        await self.ours.upload_object_via_stream(iter([b"x"]), beta, "x")

    async def test_same_containers(self) -> None:
        await self.same_on_ours()
        theirs = sorted(c.name for c in self.theirs.list_containers())
        ours = [c.name for c in await self.ours.list_containers()]
        self.assertEqual(ours, theirs)
        self.assertEqual(ours, ["alpha", "beta", "gamma"])

    async def test_same_container_extra_keys(self) -> None:
        await self.same_on_ours()
        theirs = self.theirs.get_container("alpha")
        ours = await self.ours.get_container("alpha")
        self.assertEqual(set(ours.extra), set(theirs.extra))

    async def test_same_object_names_and_sizes_and_our_hash_is_the_content_md5(self) -> None:
        await self.same_on_ours()
        theirs = self.theirs.list_container_objects(self.theirs.get_container("alpha"))
        ours = await self.ours.list_container_objects(await self.ours.get_container("alpha"))
        self.assertEqual([(o.name, o.size) for o in ours], [(o.name, o.size) for o in theirs])
        self.assertEqual(sorted(o.name for o in ours), sorted(self.contents))
        for obj in ours:
            self.assertEqual(obj.hash, hashlib.md5(self.contents[obj.name]).hexdigest())

    async def test_get_object_gives_the_same_sizes_and_extra_keys(self) -> None:
        await self.same_on_ours()
        for name in self.contents:
            theirs = self.theirs.get_object("alpha", name)
            ours = await self.ours.get_object("alpha", name)
            self.assertEqual((ours.name, ours.size), (theirs.name, theirs.size))
            self.assertEqual(set(ours.extra) - {"content_type"}, set(theirs.extra))

    async def test_same_content_whole_and_by_range(self) -> None:
        await self.same_on_ours()
        theirs = self.theirs.get_object("alpha", "stream.dat")
        ours = await self.ours.get_object("alpha", "stream.dat")
        their_data = b"".join(self.theirs.download_object_as_stream(theirs))
        our_data = b"".join([c async for c in self.ours.download_object_as_stream(ours)])
        self.assertEqual(our_data, their_data)
        their_range = b"".join(self.theirs.download_object_range_as_stream(theirs, 2, 9))
        our_range = b"".join(
            [c async for c in self.ours.download_object_range_as_stream(ours, 2, 9)]
        )
        self.assertEqual(our_range, their_range)

    async def test_same_files_on_disk(self) -> None:
        await self.same_on_ours()
        self.assertEqual(_tree(self.ours_base), _tree(self.theirs_base))

    async def test_same_error_for_a_missing_object(self) -> None:
        await self.same_on_ours()
        theirs = _error_name(lambda: self.theirs.get_object("alpha", "missing"))
        ours = await _our_error_name(self.ours.get_object("alpha", "missing"))
        self.assertEqual((ours, theirs), ("ObjectDoesNotExistError", "ObjectDoesNotExistError"))

    async def test_same_error_for_a_missing_container(self) -> None:
        await self.same_on_ours()
        theirs = _error_name(lambda: self.theirs.get_container("missing"))
        ours = await _our_error_name(self.ours.get_container("missing"))
        self.assertEqual(
            (ours, theirs), ("ContainerDoesNotExistError", "ContainerDoesNotExistError")
        )

    async def test_same_error_for_creating_an_existing_container(self) -> None:
        await self.same_on_ours()
        theirs = _error_name(lambda: self.theirs.create_container("alpha"))
        ours = await _our_error_name(self.ours.create_container("alpha"))
        self.assertEqual(
            (ours, theirs), ("ContainerAlreadyExistsError", "ContainerAlreadyExistsError")
        )

    async def test_same_error_for_deleting_a_non_empty_container(self) -> None:
        await self.same_on_ours()
        their_alpha = self.theirs.get_container("alpha")
        our_alpha = await self.ours.get_container("alpha")
        theirs = _error_name(lambda: self.theirs.delete_container(their_alpha))
        ours = await _our_error_name(self.ours.delete_container(our_alpha))
        self.assertEqual((ours, theirs), ("ContainerIsNotEmptyError", "ContainerIsNotEmptyError"))

    async def test_same_error_for_a_container_name_with_a_slash(self) -> None:
        await self.same_on_ours()
        theirs = _error_name(lambda: self.theirs.create_container("a/b"))
        ours = await _our_error_name(self.ours.create_container("a/b"))
        self.assertEqual((ours, theirs), ("InvalidContainerNameError", "InvalidContainerNameError"))

    async def test_deleting_nested_objects_and_empty_containers_leaves_the_same_files(self) -> None:
        await self.same_on_ours()
        their_object = self.theirs.get_object("alpha", "dir/sub/b.bin")
        our_object = await self.ours.get_object("alpha", "dir/sub/b.bin")
        self.assertIs(self.theirs.delete_object(their_object), True)
        self.assertIs(await self.ours.delete_object(our_object), True)
        self.assertIs(self.theirs.delete_container(self.theirs.get_container("gamma")), True)
        self.assertIs(
            await self.ours.delete_container(await self.ours.get_container("gamma")), True
        )
        self.assertEqual(_tree(self.ours_base), _tree(self.theirs_base))
        self.assertNotIn("alpha/dir/", _tree(self.ours_base))
