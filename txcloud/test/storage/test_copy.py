"""Copying objects between storage drivers: txcloud.storage.copy."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twisted.trial.unittest import TestCase

from txcloud.errors import InvalidArgumentError, ServiceUnavailableError
from txcloud.storage.copy import CopyProgress, CopyTask, copy_object, copy_prefix
from txcloud.storage.drivers.local import LocalStorageDriver


class _FailingFor(LocalStorageDriver):
    """A local driver whose stream uploads of one name fail, as a broken provider would."""

    broken_name = ""

    def upload_object_via_stream(
        self,
        iterator: Any,
        container: Any,
        object_name: str,
        extra: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Any:
        if object_name == self.broken_name:
            raise ServiceUnavailableError("the provider is down", self)
        return super().upload_object_via_stream(iterator, container, object_name, extra, **kw)


class CopyTests(TestCase):
    def setUp(self) -> None:
        base = os.path.abspath(self.mktemp())
        for folder in ("source", "first", "second"):
            os.makedirs(os.path.join(base, folder))
        self.source = LocalStorageDriver(os.path.join(base, "source"))
        self.first = LocalStorageDriver(os.path.join(base, "first"))
        self.second = _FailingFor(os.path.join(base, "second"))
        self.work = os.path.join(base, "work")
        os.makedirs(self.work)

    async def _put(self, container: Any, name: str, data: bytes) -> Any:
        path = os.path.join(self.work, hashlib.md5(name.encode()).hexdigest())
        with open(path, "wb") as f:
            f.write(data)
        return await self.source.upload_object(path, container, name)

    async def _seeded(self) -> Any:
        bucket = await self.source.create_container("bucket")
        await self._put(bucket, "reports/2026/a.csv", b"a" * 300_000)
        await self._put(bucket, "reports/2026/q1/b.csv", b"b" * 1000)
        await self._put(bucket, "reports/2025/old.csv", b"old")
        return bucket

    async def test_copy_object_streams_the_bytes_and_keeps_the_name(self) -> None:
        bucket = await self._seeded()
        target = await self.first.create_container("copies")
        obj = await self.source.get_object("bucket", "reports/2026/a.csv")
        seen: list[int] = []
        copied = await copy_object(obj, target, progress=seen.append)
        self.assertEqual((copied.name, copied.size, copied.hash), (obj.name, obj.size, obj.hash))
        self.assertEqual(seen[-1], 300_000)
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(bucket.name, "bucket")

    async def test_copy_prefix_copies_every_object_under_it_to_each_destination(self) -> None:
        bucket = await self._seeded()
        first = await self.first.create_container("one")
        second = await self.second.create_container("two")
        outcome = await copy_prefix(
            bucket, "reports/2026/", [first, second], destination_prefix="2026/"
        )
        self.assertEqual(outcome.failures, {})
        self.assertEqual(
            sorted(str(task) for task in outcome.results),
            [
                "reports/2026/a.csv -> local:one/2026/a.csv",
                "reports/2026/a.csv -> local:two/2026/a.csv",
                "reports/2026/q1/b.csv -> local:one/2026/q1/b.csv",
                "reports/2026/q1/b.csv -> local:two/2026/q1/b.csv",
            ],
        )
        for driver, name in ((self.first, "one"), (self.second, "two")):
            objects = await driver.list_container_objects(await driver.get_container(name))
            self.assertEqual(
                sorted((o.name, o.hash) for o in objects),
                [
                    ("2026/a.csv", hashlib.md5(b"a" * 300_000).hexdigest()),
                    ("2026/q1/b.csv", hashlib.md5(b"b" * 1000).hexdigest()),
                ],
            )

    async def test_one_failing_copy_keeps_the_others(self) -> None:
        bucket = await self._seeded()
        self.second.broken_name = "q1/b.csv"
        first = await self.first.create_container("one")
        second = await self.second.create_container("two")
        outcome = await copy_prefix(bucket, "reports/2026/", [first, second])
        broken = CopyTask("reports/2026/q1/b.csv", "local:two", "q1/b.csv")
        self.assertEqual(list(outcome.failures), [broken])
        self.assertIsInstance(outcome.failures[broken].value, ServiceUnavailableError)
        self.assertEqual(len(outcome.results), 3)

    async def test_progress_adds_up_every_copy(self) -> None:
        bucket = await self._seeded()
        first = await self.first.create_container("one")
        second = await self.second.create_container("two")
        totals: list[int] = []
        await copy_prefix(bucket, "reports/", [first, second], progress=CopyProgress(totals.append))
        self.assertEqual(totals[-1], 2 * (300_000 + 1000 + 3))

    async def test_no_destination_is_refused(self) -> None:
        bucket = await self._seeded()
        with self.assertRaises(InvalidArgumentError):
            copy_prefix(bucket, "reports/", [])

    async def test_destinations_sharing_a_label_need_labels(self) -> None:
        bucket = await self._seeded()
        first = await self.first.create_container("same")
        second = await self.second.create_container("same")
        with self.assertRaises(InvalidArgumentError):
            copy_prefix(bucket, "reports/", [first, second])
        outcome = await copy_prefix(bucket, "reports/", [first, second], labels=["a", "b"])
        self.assertEqual({task.destination for task in outcome.results}, {"a", "b"})
        self.assertEqual(len(outcome.results), 6)

    async def test_copy_onto_itself_is_refused(self) -> None:
        bucket = await self._seeded()
        with self.assertRaises(InvalidArgumentError):
            copy_prefix(bucket, "reports/", [bucket])
