"""Tests of ``txcloud ls`` and ``txcloud cp`` against the embedded local storage target."""

from __future__ import annotations

import hashlib
import os

from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.cli.storage import RemotePath, parse_remote
from txcloud.config import default_data_folder
from txcloud.test.cli.helpers import run_command, write_config, xdg_environment

# Not a multiple of any chunk size, so the last chunk is a short one.
DATA = bytes(range(256)) * 4099 + b"tail"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class ParseRemoteTests(SynchronousTestCase):
    def test_target_container_and_object(self) -> None:
        self.assertEqual(
            parse_remote("store@eu-1:bucket/dir/file.bin"),
            RemotePath("store@eu-1", "bucket", "dir/file.bin"),
        )

    def test_empty_target_is_the_first_one(self) -> None:
        self.assertEqual(parse_remote(":bucket/"), RemotePath(None, "bucket", ""))

    def test_target_alone(self) -> None:
        self.assertEqual(parse_remote("store:"), RemotePath("store", "", ""))

    def test_paths_are_local(self) -> None:
        self.assertEqual(
            [parse_remote(p) for p in ("file.bin", "dir/a:b", "/tmp/a:b", "./a:b")],
            [None] * 4,
        )

    def test_str_is_the_written_form(self) -> None:
        self.assertEqual(str(RemotePath(None, "bucket", "a/b")), ":bucket/a/b")


class CopyTests(TestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        self.environ = xdg_environment(self.home)
        self.local = os.path.join(self.home, "work")
        os.makedirs(self.local)
        self.source = os.path.join(self.local, "file.bin")
        with open(self.source, "wb") as f:
            f.write(DATA)
        self.storage = default_data_folder(self.environ)

    def _stored(self, *parts: str) -> str:
        return os.path.join(self.storage, *parts)

    def _read(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    async def _upload(self, *options: str) -> tuple[int, str, str]:
        return await run_command(
            ["cp", *options, "--create-container", self.source, "local:bucket/dir/"],
            self.environ,
        )

    async def test_round_trip_is_byte_identical(self) -> None:
        code, out, err = await self._upload()
        self.assertEqual((code, out), (0, ""))
        self.assertTrue(err.startswith("dir/file.bin  [####################]  100%  "), err)
        self.assertEqual(len(err.splitlines()), 1)
        target = os.path.join(self.local, "copy.bin")
        code, out, err = await run_command(["cp", ":bucket/dir/file.bin", target], self.environ)
        self.assertEqual((code, out), (0, ""))
        self.assertIn("100%", err)
        self.assertEqual(self._read(target), DATA)

    async def test_ls_lists_size_hash_and_name(self) -> None:
        await self._upload()
        await run_command(["cp", self.source, "local:bucket/other.bin"], self.environ)
        code, out, err = await run_command(["ls", "bucket"], self.environ)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(
            out.splitlines(),
            [
                f"{len(DATA):>12}  {md5(DATA)}  dir/file.bin",
                f"{len(DATA):>12}  {md5(DATA)}  other.bin",
            ],
        )

    async def test_ls_with_a_prefix(self) -> None:
        await self._upload()
        await run_command(["cp", self.source, "local:bucket/other.bin"], self.environ)
        code, out, _ = await run_command(["ls", "local:bucket/dir/"], self.environ)
        self.assertEqual(
            (code, [line.split()[-1] for line in out.splitlines()]), (0, ["dir/file.bin"])
        )

    async def test_ls_without_a_container_lists_containers(self) -> None:
        await self._upload()
        os.makedirs(self._stored("another"))
        for argv in (["ls"], ["ls", "local:"]):
            code, out, _ = await run_command(argv, self.environ)
            self.assertEqual((code, out), (0, "another\nbucket\n"))

    async def test_ls_of_a_missing_container(self) -> None:
        code, out, err = await run_command(["ls", "nope"], self.environ)
        self.assertEqual((code, out), (1, ""))
        self.assertTrue(err.startswith("txcloud: error: ContainerDoesNotExistError: "), err)

    async def test_no_progress(self) -> None:
        code, _, err = await self._upload("--no-progress")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(self._read(self._stored("bucket", "dir", "file.bin")), DATA)

    async def test_upload_names_the_object(self) -> None:
        await run_command(["cp", "--create-container", self.source, ":b/x/y.bin"], self.environ)
        self.assertEqual(self._read(self._stored("b", "x", "y.bin")), DATA)

    async def test_missing_container_is_not_created_unless_asked(self) -> None:
        code, _, err = await run_command(["cp", self.source, ":bucket/"], self.environ)
        self.assertEqual(code, 1)
        self.assertIn("No container 'bucket'; --create-container creates it", err)
        self.assertFalse(os.path.exists(self._stored("bucket")))

    async def test_upload_refuses_to_replace_an_object(self) -> None:
        await self._upload()
        with open(self.source, "wb") as f:
            f.write(b"new content")
        code, _, err = await self._upload()
        self.assertEqual(
            (code, err),
            (
                1,
                "txcloud: error: InvalidArgumentError: local:bucket/dir/file.bin exists; "
                "--overwrite replaces it\n",
            ),
        )
        self.assertEqual(self._read(self._stored("bucket", "dir", "file.bin")), DATA)
        code, _, _ = await self._upload("--overwrite")
        self.assertEqual(code, 0)
        self.assertEqual(self._read(self._stored("bucket", "dir", "file.bin")), b"new content")

    async def test_download_refuses_to_replace_a_file(self) -> None:
        await self._upload()
        existing = os.path.join(self.local, "existing.bin")
        with open(existing, "wb") as f:
            f.write(b"keep me")
        code, _, err = await run_command(["cp", ":bucket/dir/file.bin", existing], self.environ)
        self.assertEqual(code, 1)
        self.assertIn("InvalidArgumentError: Overwrite existing is False", err)
        self.assertEqual(self._read(existing), b"keep me")
        argv = ["cp", "--overwrite", ":bucket/dir/file.bin", existing]
        code, _, _ = await run_command(argv, self.environ)
        self.assertEqual((code, self._read(existing)), (0, DATA))

    async def test_download_into_a_folder_keeps_the_name(self) -> None:
        await self._upload()
        folder = os.path.join(self.home, "downloads")
        os.makedirs(folder)
        code, _, _ = await run_command(["cp", "local:bucket/dir/file.bin", folder], self.environ)
        self.assertEqual((code, self._read(os.path.join(folder, "file.bin"))), (0, DATA))

    async def test_download_of_a_missing_object(self) -> None:
        await self._upload()
        target = os.path.join(self.local, "out.bin")
        code, _, err = await run_command(["cp", ":bucket/missing", target], self.environ)
        self.assertEqual(code, 1)
        self.assertTrue(err.startswith("txcloud: error: ObjectDoesNotExistError: "), err)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertFalse(os.path.exists(target))

    async def test_two_local_paths_are_refused(self) -> None:
        code, _, err = await run_command(["cp", self.source, "elsewhere.bin"], self.environ)
        self.assertEqual(code, 1)
        self.assertIn("cp copies between a local path and TARGET:CONTAINER/OBJECT", err)

    async def test_source_that_is_not_a_file(self) -> None:
        code, _, err = await run_command(["cp", self.local, ":bucket/"], self.environ)
        self.assertEqual(
            (code, err),
            (1, f"txcloud: error: InvalidArgumentError: {self.local!r} is not a file\n"),
        )

    async def test_unknown_target(self) -> None:
        code, _, err = await run_command(["cp", self.source, "nope:bucket/"], self.environ)
        self.assertEqual(
            (code, err),
            (
                1,
                "txcloud: error: InvalidArgumentError: No storage target named 'nope' in "
                "<embedded defaults>; known: local\n",
            ),
        )


class RegionalStorageTests(TestCase):
    async def test_a_name_with_several_regions_must_name_one(self) -> None:
        environ = write_config(
            os.path.abspath(self.mktemp()),
            '[[storage]]\nname = "s"\nprovider = "local"\nkey = "/tmp"\nregions = ["a", "b"]\n',
        )
        code, _, err = await run_command(["ls", "s:"], environ)
        message = "'s' has several regions; name one of s@a, s@b"
        self.assertEqual((code, err), (1, f"txcloud: error: InvalidArgumentError: {message}\n"))
