"""``txcloud cp`` between storage targets: streamed, to several destinations, recursive."""

from __future__ import annotations

import os

from twisted.trial.unittest import TestCase

from txcloud.test.cli.helpers import run_command, write_config

_CONFIG = """
[[storage]]
name = "src"
provider = "local"
key = "{home}/src"

[[storage]]
name = "east"
provider = "local"
key = "{home}/east"

[[storage]]
name = "west"
provider = "local"
key = "{home}/west"
"""


class CopyBetweenTargetsTests(TestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)
        self.environ = write_config(self.home, _CONFIG.format(home=self.home))
        for name, data in (
            ("reports/2026/a.csv", b"a" * 200_000),
            ("reports/2026/q1/b.csv", b"b" * 10),
            ("reports/2025/old.csv", b"old"),
        ):
            path = os.path.join(self.home, "src", "bucket", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)

    def _read(self, *parts: str) -> bytes:
        with open(os.path.join(self.home, *parts), "rb") as f:
            return f.read()

    async def test_one_object_to_two_targets(self) -> None:
        code, out, err = await run_command(
            [
                "cp",
                "--create-container",
                "--no-progress",
                "src:bucket/reports/2026/a.csv",
                "east:copies/",
                "west:copies/renamed.csv",
            ],
            self.environ,
        )
        self.assertEqual((code, out, err), (0, "", ""))
        self.assertEqual(self._read("east", "copies", "a.csv"), b"a" * 200_000)
        self.assertEqual(self._read("west", "copies", "renamed.csv"), b"a" * 200_000)

    async def test_recursive_copies_the_prefix_to_every_destination(self) -> None:
        code, out, err = await run_command(
            ["cp", "-r", "--create-container", "src:bucket/reports/2026/", "east:b/", "west:b/"],
            self.environ,
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(
            sorted(out.splitlines()),
            [
                "copied  reports/2026/a.csv -> east:b/a.csv",
                "copied  reports/2026/a.csv -> west:b/a.csv",
                "copied  reports/2026/q1/b.csv -> east:b/q1/b.csv",
                "copied  reports/2026/q1/b.csv -> west:b/q1/b.csv",
            ],
        )
        self.assertIn("src:bucket/reports/2026/", err)
        for target in ("east", "west"):
            self.assertEqual(self._read(target, "b", "a.csv"), b"a" * 200_000)
            self.assertEqual(self._read(target, "b", "q1", "b.csv"), b"b" * 10)
            self.assertFalse(os.path.exists(os.path.join(self.home, target, "b", "old.csv")))

    async def test_recursive_refuses_to_replace_before_copying_anything(self) -> None:
        os.makedirs(os.path.join(self.home, "west", "b", "q1"))
        with open(os.path.join(self.home, "west", "b", "q1", "b.csv"), "wb") as f:
            f.write(b"keep")
        code, out, err = await run_command(
            ["cp", "-r", "--create-container", "src:bucket/reports/2026/", "east:b/", "west:b/"],
            self.environ,
        )
        self.assertEqual((code, out), (1, ""))
        self.assertIn("local:b/q1/b.csv exists; --overwrite replaces it", err)
        self.assertEqual(self._read("west", "b", "q1", "b.csv"), b"keep")
        self.assertFalse(os.path.exists(os.path.join(self.home, "east", "b", "a.csv")))

    async def test_recursive_with_overwrite_replaces(self) -> None:
        os.makedirs(os.path.join(self.home, "west", "b", "q1"))
        with open(os.path.join(self.home, "west", "b", "q1", "b.csv"), "wb") as f:
            f.write(b"old data")
        code, _, err = await run_command(
            ["cp", "-r", "--overwrite", "--no-progress", "src:bucket/reports/2026/", "west:b/"],
            self.environ,
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(self._read("west", "b", "q1", "b.csv"), b"b" * 10)

    async def test_several_local_destinations_are_refused(self) -> None:
        code, out, err = await run_command(
            ["cp", "src:bucket/reports/2026/a.csv", "/tmp/x", "/tmp/y"], self.environ
        )
        self.assertEqual((code, out), (1, ""))
        self.assertIn("downloaded to one local path", err)
