"""Tests of txcloud.storage.transfer.files: atomic files, hashing, streams and downloads."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any, cast

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.errors import InvalidArgumentError, ObjectHashMismatchError
from txcloud.storage.base import Container, Object, StorageDriver
from txcloud.storage.transfer import files as transfer
from txcloud.storage.transfer.config import DEFAULT_CHUNK_SIZE
from txcloud.storage.transfer.files import (
    AtomicFileWriter,
    as_chunk_stream,
    chunk_size_or_default,
    closing_iterator,
    is_temporary_name,
    read_file_chunks,
    stat_and_md5,
    write_atomically,
)
from txcloud.storage.transfer.ranged import download_to_file

CONTENT = b"0123456789abcdefghij"


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _folder(test: SynchronousTestCase) -> str:
    path = test.mktemp()
    os.makedirs(path)
    return path


async def _until_suspended(fired: Deferred[int]) -> None:
    await fired
    # *fired* fires from inside the transfer's call stack; one turn of the
    # reactor later the transfer is suspended on its next wait.
    await deferLater(reactor, 0, lambda: None)


async def _collect(chunks) -> list[bytes]:
    return [chunk async for chunk in chunks]


class MemoryDriver(StorageDriver):
    """A driver serving one object from memory, in chunks of four bytes."""

    name = "Memory"
    hash_is_md5 = True

    def __init__(self, data: bytes = CONTENT, gate: Deferred[None] | None = None) -> None:
        super().__init__(reactor=reactor)
        self.data = data
        self.requests: list[tuple[int, int | None]] = []
        # When set, the stream waits on it after its first chunk.
        self.gate = gate

    def object(self, hash: str | None = None, name: str = "o") -> Object:
        container = Container(name="c", extra={}, driver=self)
        return Object(
            name=name,
            size=len(self.data),
            hash=_md5(self.data) if hash is None else hash,
            extra={},
            meta_data={},
            container=container,
            driver=self,
        )

    async def download_object_range_as_stream(
        self, obj, start_bytes, end_bytes=None, chunk_size=None
    ):
        self.requests.append((start_bytes, end_bytes))
        data = self.data[start_bytes:end_bytes]
        for offset in range(0, len(data), 4):
            yield data[offset : offset + 4]
            if self.gate is not None:
                await self.gate


class AtomicFileWriterTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.folder = _folder(self)
        self.destination = os.path.join(self.folder, "file.bin")

    def _read(self) -> bytes:
        with open(self.destination, "rb") as file:
            return file.read()

    def test_commit_moves_the_whole_file_into_place(self) -> None:
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.write(b"abc")
        writer.write(b"def")
        stat = writer.commit()
        self.assertEqual(self._read(), b"abcdef")
        self.assertEqual(os.listdir(self.folder), ["file.bin"])
        self.assertEqual(stat.st_ino, os.stat(self.destination).st_ino)
        self.assertEqual(stat.st_size, 6)

    def test_destination_is_absent_until_commit(self) -> None:
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.write(b"abc")
        self.assertFalse(os.path.exists(self.destination))
        [temporary] = os.listdir(self.folder)
        self.assertTrue(is_temporary_name(temporary))
        self.assertTrue(temporary.startswith(".file.bin."))

    def test_abort_removes_the_temporary_file_and_may_repeat(self) -> None:
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.write(b"abc")
        writer.abort()
        writer.abort()
        self.assertEqual(os.listdir(self.folder), [])

    def test_open_after_abort_creates_nothing(self) -> None:
        writer = AtomicFileWriter(self.destination)
        writer.abort()
        self.assertRaises(RuntimeError, writer.open)
        self.assertEqual(os.listdir(self.folder), [])

    def test_commit_refuses_an_existing_destination_without_overwrite(self) -> None:
        with open(self.destination, "wb") as file:
            file.write(b"old")
        writer = AtomicFileWriter(self.destination, overwrite_existing=False)
        writer.open()
        writer.write(b"new")
        error = self.assertRaises(InvalidArgumentError, writer.commit)
        self.assertIn("Overwrite existing is False and the destination path exists", str(error))
        writer.abort()
        self.assertEqual(self._read(), b"old")
        self.assertEqual(os.listdir(self.folder), ["file.bin"])

    def test_commit_replaces_an_existing_destination_with_overwrite(self) -> None:
        with open(self.destination, "wb") as file:
            file.write(b"old")
        writer = AtomicFileWriter(self.destination, overwrite_existing=True)
        writer.open()
        writer.write(b"new")
        writer.commit()
        self.assertEqual(self._read(), b"new")
        self.assertEqual(os.listdir(self.folder), ["file.bin"])

    def _without_hard_links(self) -> None:
        def refuse(source: str, destination: str) -> None:
            raise PermissionError("no hard links here")

        self.patch(transfer.os, "link", refuse)

    def test_commit_without_hard_links_renames_into_place(self) -> None:
        self._without_hard_links()
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.write(b"abc")
        writer.commit()
        self.assertEqual(self._read(), b"abc")
        self.assertEqual(os.listdir(self.folder), ["file.bin"])

    def test_commit_without_hard_links_still_refuses_an_existing_destination(self) -> None:
        self._without_hard_links()
        with open(self.destination, "wb") as file:
            file.write(b"old")
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.write(b"new")
        self.assertRaises(InvalidArgumentError, writer.commit)
        self.assertEqual(self._read(), b"old")

    def test_new_file_mode_follows_the_umask(self) -> None:
        umask = os.umask(0o022)
        self.addCleanup(os.umask, umask)
        writer = AtomicFileWriter(self.destination)
        writer.open()
        writer.commit()
        self.assertEqual(os.stat(self.destination).st_mode & 0o777, 0o644)


class HelperTests(SynchronousTestCase):
    def test_stat_and_md5_hash_the_whole_file_in_chunks(self) -> None:
        path = os.path.join(_folder(self), "f")
        with open(path, "wb") as file:
            file.write(CONTENT)
        stat, md5 = stat_and_md5(path, chunk_size=3)
        self.assertEqual(md5, _md5(CONTENT))
        self.assertEqual(stat.st_size, len(CONTENT))

    def test_chunk_size_defaults_when_none(self) -> None:
        self.assertEqual(chunk_size_or_default(None), DEFAULT_CHUNK_SIZE)
        self.assertEqual(chunk_size_or_default(7), 7)

    def test_chunk_size_must_be_a_positive_integer(self) -> None:
        for bad in (0, -1, 1.5, True, "8"):
            self.assertRaises(InvalidArgumentError, chunk_size_or_default, bad)

    def test_chunk_stream_refuses_single_values_and_non_iterables(self) -> None:
        for bad in (b"data", "text", bytearray(b"x"), 42):
            self.assertRaises(InvalidArgumentError, as_chunk_stream, bad)

    def test_temporary_names_are_hidden_and_suffixed(self) -> None:
        self.assertTrue(is_temporary_name(".x.0123.txcloud-part"))
        self.assertFalse(is_temporary_name("x.txcloud-part"))
        self.assertFalse(is_temporary_name(".x"))


class StreamTests(TestCase):
    def setUp(self) -> None:
        self.path = os.path.join(_folder(self), "f")
        with open(self.path, "wb") as file:
            file.write(CONTENT)

    async def test_read_file_chunks_reads_a_range_in_chunks(self) -> None:
        chunks = await _collect(read_file_chunks(reactor, self.path, 2, 11, chunk_size=4))
        self.assertEqual(chunks, [b"2345", b"6789", b"a"])

    async def test_read_file_chunks_stops_at_the_end_of_the_file(self) -> None:
        chunks = await _collect(read_file_chunks(reactor, self.path, 15, chunk_size=4))
        self.assertEqual(chunks, [b"fghi", b"j"])

    async def test_chunk_stream_accepts_sync_iterables_of_bytes_like_chunks(self) -> None:
        source: list[Any] = [b"a", bytearray(b"b"), memoryview(b"c")]
        chunks = await _collect(as_chunk_stream(source))
        self.assertEqual(chunks, [b"a", b"b", b"c"])

    async def test_chunk_stream_accepts_async_iterators(self) -> None:
        async def source():
            yield b"a"
            yield b"b"

        self.assertEqual(await _collect(as_chunk_stream(source())), [b"a", b"b"])

    async def test_chunk_stream_refuses_a_chunk_that_is_not_bytes(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            await _collect(as_chunk_stream(cast(Any, [b"a", "b"])))

    async def test_closing_iterator_closes_a_half_read_stream(self) -> None:
        closed = []

        async def source():
            try:
                yield b"a"
                yield b"b"
            finally:
                closed.append(True)

        async with closing_iterator(source()) as chunks:
            async for _ in chunks:
                break
        self.assertEqual(closed, [True])


class WriteAtomicallyTests(TestCase):
    def setUp(self) -> None:
        self.folder = _folder(self)
        self.destination = os.path.join(self.folder, "out")

    async def test_writes_the_chunks_and_reports_digest_and_progress(self) -> None:
        progress: list[int] = []
        stat, md5 = await write_atomically(
            reactor,
            as_chunk_stream([b"ab", b"", b"cde"]),
            self.destination,
            progress=progress.append,
        )
        with open(self.destination, "rb") as file:
            self.assertEqual(file.read(), b"abcde")
        self.assertEqual(md5, _md5(b"abcde"))
        self.assertEqual(stat.st_size, 5)
        self.assertEqual(progress, [2, 5])

    async def test_writes_happen_outside_the_reactor_thread(self) -> None:
        threads = []
        original = AtomicFileWriter.write

        def write(writer: AtomicFileWriter, data: bytes) -> None:
            threads.append(threading.current_thread())
            original(writer, data)

        self.patch(AtomicFileWriter, "write", write)
        await write_atomically(reactor, as_chunk_stream([b"a", b"b"]), self.destination)
        self.assertEqual(len(threads), 2)
        self.assertNotIn(threading.main_thread(), threads)

    async def test_a_failing_stream_leaves_no_file(self) -> None:
        def chunks():
            yield b"abc"
            raise ValueError("source broke")

        with self.assertRaises(ValueError):
            await write_atomically(reactor, as_chunk_stream(chunks()), self.destination)
        self.assertEqual(os.listdir(self.folder), [])

    async def test_a_refused_digest_leaves_no_file(self) -> None:
        seen = []

        def verify(md5: str) -> None:
            seen.append(md5)
            raise ObjectHashMismatchError("refused")

        with self.assertRaises(ObjectHashMismatchError):
            await write_atomically(
                reactor, as_chunk_stream([b"abc"]), self.destination, verify=verify
            )
        self.assertEqual(seen, [_md5(b"abc")])
        self.assertEqual(os.listdir(self.folder), [])

    async def test_cancellation_leaves_no_file(self) -> None:
        gate: Deferred[None] = Deferred()
        first_chunk_written: Deferred[int] = Deferred()

        async def chunks():
            yield b"abc"
            await gate
            yield b"never"

        writing = Deferred.fromCoroutine(
            write_atomically(
                reactor, chunks(), self.destination, progress=first_chunk_written.callback
            )
        )
        await _until_suspended(first_chunk_written)
        self.assertEqual(len(os.listdir(self.folder)), 1)
        writing.cancel()
        await self.assertFailure(writing, CancelledError)
        self.assertEqual(os.listdir(self.folder), [])


class DownloadToFileTests(TestCase):
    def setUp(self) -> None:
        self.folder = _folder(self)
        self.destination = os.path.join(self.folder, "out")

    def _read(self) -> bytes:
        with open(self.destination, "rb") as file:
            return file.read()

    async def test_downloads_the_whole_object_with_progress(self) -> None:
        driver = MemoryDriver()
        progress: list[int] = []
        result = await download_to_file(
            driver, driver.object(), self.destination, progress=progress.append
        )
        self.assertIs(result, True)
        self.assertEqual(self._read(), CONTENT)
        self.assertEqual(driver.requests, [(0, None)])
        self.assertEqual(progress, [4, 8, 12, 16, 20])

    async def test_hash_mismatch_fails_and_leaves_no_file(self) -> None:
        driver = MemoryDriver()
        with self.assertRaises(ObjectHashMismatchError) as caught:
            await download_to_file(driver, driver.object(hash=_md5(b"other")), self.destination)
        self.assertEqual(caught.exception.object_name, "o")
        self.assertEqual(os.listdir(self.folder), [])

    async def test_hash_is_compared_case_insensitively(self) -> None:
        driver = MemoryDriver()
        obj = driver.object(hash=_md5(CONTENT).upper())
        self.assertIs(await download_to_file(driver, obj, self.destination), True)

    async def test_hash_is_not_checked_when_the_driver_hash_is_not_md5(self) -> None:
        driver = MemoryDriver()
        driver.hash_is_md5 = False
        await download_to_file(driver, driver.object(hash="etag-1"), self.destination)
        self.assertEqual(self._read(), CONTENT)

    async def test_range_downloads_start_inclusive_end_exclusive_without_hash_check(self) -> None:
        driver = MemoryDriver()
        obj = driver.object(hash=_md5(b"other"))
        await download_to_file(driver, obj, self.destination, byte_range=(2, 7))
        self.assertEqual(self._read(), b"23456")
        self.assertEqual(driver.requests, [(2, 7)])

    async def test_bad_range_fails_before_any_request(self) -> None:
        driver = MemoryDriver()
        for byte_range in [(-1, None), (5, 5), (6, 2)]:
            await self.assertFailure(
                download_to_file(driver, driver.object(), self.destination, byte_range=byte_range),
                InvalidArgumentError,
            )
        self.assertEqual(driver.requests, [])

    async def test_existing_destination_is_refused_before_any_request(self) -> None:
        with open(self.destination, "wb") as file:
            file.write(b"old")
        driver = MemoryDriver()
        error = await self.assertFailure(
            download_to_file(driver, driver.object(), self.destination), InvalidArgumentError
        )
        self.assertIn("Overwrite existing is False and the destination path exists", str(error))
        self.assertEqual(driver.requests, [])
        self.assertEqual(self._read(), b"old")

    async def test_existing_destination_is_replaced_with_overwrite(self) -> None:
        with open(self.destination, "wb") as file:
            file.write(b"old")
        driver = MemoryDriver()
        await download_to_file(driver, driver.object(), self.destination, overwrite_existing=True)
        self.assertEqual(self._read(), CONTENT)
        self.assertEqual(os.listdir(self.folder), ["out"])

    async def test_directory_destination_is_refused(self) -> None:
        driver = MemoryDriver()
        await self.assertFailure(
            download_to_file(driver, driver.object(), self.folder, overwrite_existing=True),
            InvalidArgumentError,
        )
        self.assertEqual(driver.requests, [])

    async def test_a_folder_destination_saves_under_the_object_name(self) -> None:
        os.makedirs(os.path.join(self.folder, "photos"))
        driver = MemoryDriver()
        obj = driver.object(name="photos/a.jpg")
        await download_to_file(driver, obj, self.folder + os.sep)
        with open(os.path.join(self.folder, "photos", "a.jpg"), "rb") as file:
            self.assertEqual(file.read(), CONTENT)
        self.assertEqual(os.listdir(os.path.join(self.folder, "photos")), ["a.jpg"])

    async def test_a_folder_destination_keeps_an_existing_file_unless_told(self) -> None:
        existing = os.path.join(self.folder, "o")
        with open(existing, "wb") as file:
            file.write(b"old")
        driver = MemoryDriver()
        error = await self.assertFailure(
            download_to_file(driver, driver.object(), self.folder + os.sep), InvalidArgumentError
        )
        self.assertIn(existing, str(error))
        self.assertEqual(driver.requests, [])
        await download_to_file(driver, driver.object(), self.folder + os.sep, True)
        with open(existing, "rb") as file:
            self.assertEqual(file.read(), CONTENT)

    async def test_a_missing_folder_destination_is_refused_before_any_request(self) -> None:
        driver = MemoryDriver()
        missing = os.path.join(self.folder, "missing") + os.sep
        error = await self.assertFailure(
            download_to_file(driver, driver.object(), missing), InvalidArgumentError
        )
        self.assertEqual(str(error), f"Path {missing} does not exist")
        self.assertEqual(driver.requests, [])

    async def test_object_names_that_would_leave_the_folder_are_refused(self) -> None:
        inner = os.path.join(self.folder, "inner")
        os.makedirs(os.path.join(inner, "a"))
        driver = MemoryDriver()
        for name in ["../escaped", "/absolute", "a//b", "a/./b", "a/..", "", "nul\0"]:
            error = await self.assertFailure(
                download_to_file(driver, driver.object(name=name), inner + os.sep),
                InvalidArgumentError,
            )
            self.assertIn("cannot be a file name", str(error))
        self.assertEqual(driver.requests, [])
        self.assertEqual(sorted(os.listdir(self.folder)), ["inner"])
        self.assertEqual(os.listdir(inner), ["a"])

    async def test_a_file_in_a_missing_folder_is_refused_before_any_request(self) -> None:
        driver = MemoryDriver()
        destination = os.path.join(self.folder, "missing", "out")
        error = await self.assertFailure(
            download_to_file(driver, driver.object(), destination), InvalidArgumentError
        )
        self.assertIn("folder does not exist", str(error))
        self.assertEqual(driver.requests, [])

    async def test_cancelled_download_leaves_no_file(self) -> None:
        gate: Deferred[None] = Deferred()
        first_chunk_written: Deferred[int] = Deferred()
        driver = MemoryDriver(gate=gate)
        downloading = download_to_file(
            driver, driver.object(), self.destination, progress=first_chunk_written.callback
        )
        await _until_suspended(first_chunk_written)
        downloading.cancel()
        await self.assertFailure(downloading, CancelledError)
        self.assertEqual(os.listdir(self.folder), [])

    async def test_driver_download_object_passes_progress(self) -> None:
        driver = MemoryDriver()
        progress: list[int] = []
        result = await driver.download_object(
            driver.object(), self.destination, ex_progress=progress.append
        )
        self.assertIs(result, True)
        self.assertEqual(progress[-1], len(CONTENT))

    async def test_driver_download_object_range_passes_progress(self) -> None:
        driver = MemoryDriver()
        progress: list[int] = []
        await driver.download_object_range(
            driver.object(), self.destination, 10, ex_progress=progress.append
        )
        self.assertEqual(self._read(), CONTENT[10:])
        self.assertEqual(progress, [4, 8, 10])

    async def test_driver_download_object_range_refuses_bad_range_as_failure(self) -> None:
        driver = MemoryDriver()
        downloading = driver.download_object_range(driver.object(), self.destination, 3, 1)
        await self.assertFailure(downloading, InvalidArgumentError)
        self.assertEqual(driver.requests, [])
