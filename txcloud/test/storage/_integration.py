"""
Support for integration tests of storage drivers against a local emulator
(see :mod:`txcloud.test.emulators`), on the real reactor: each test makes
sure the emulator runs (it is started once) and gets a driver, a container
and a scratch folder; the helpers below write and check large files.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.storage.base import Container, Object
from txcloud.test.emulators import LocalService

__all__ = [
    "MiB",
    "StorageEmulatorTestCase",
    "collect",
    "md5_of_file",
    "round_trip",
    "write_random",
]

MiB = 1024 * 1024


def md5_of_file(path: str) -> str:
    """The hex MD5 of the file at *path*, read a MiB at a time."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def write_random(path: str, size: int) -> str:
    """Fill the file at *path* with *size* random bytes; returns *path*."""
    with open(path, "wb") as file:
        for _ in range(size // MiB):
            file.write(os.urandom(MiB))
        file.write(os.urandom(size % MiB))
    return path


async def collect(items: Any) -> list[Any]:
    """Everything an async iterator yields, in a list."""
    return [item async for item in items]


async def round_trip(case: TestCase, driver: Any, container_name: str) -> None:
    """Create a container, put, fetch and delete an object in it, delete it."""
    container = await driver.create_container(container_name)
    await driver.upload_object_via_stream(iter([b"payload"]), container, "a.txt")
    obj = await driver.get_object(container.name, "a.txt")
    case.assertEqual(obj.size, 7)
    await driver.delete_object(obj)
    await driver.delete_container(container)


class StorageEmulatorTestCase(TestCase):
    """
    A test against :attr:`service`: before each test the emulator runs,
    ``self.driver`` comes from :meth:`make_driver`, ``self.container`` from
    :meth:`make_container` and ``self.folder`` is an empty scratch folder.
    """

    service: LocalService

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        await self.service.ensure_started()
        self.driver = self.make_driver()
        self.container = await self.make_container()
        self.folder = self.mktemp()
        os.makedirs(self.folder)

    def make_driver(self) -> Any:
        """The driver for this test, speaking to :attr:`service`."""
        raise NotImplementedError

    async def make_container(self) -> Container:
        """The container this test works in (the emulator runs by now)."""
        raise NotImplementedError

    def connect(self, factory: Any, key: str, secret: str | None, **options: Any) -> Any:
        """
        A driver speaking plain HTTP to :attr:`service`, closed after the test.

        :param factory: the driver class.
        :param key: its key (account, access key id).
        :param secret: its secret, or ``None``.
        :param options: its other keyword arguments.
        """
        driver = factory(
            key, secret, host="127.0.0.1", port=self.service.port, secure=False, **options
        )
        self.addCleanup(driver.close)
        return driver

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    async def put(self, name: str, data: bytes, **kwargs: Any) -> Object:
        obj: Object = await self.driver.upload_object_via_stream(
            iter([data]), self.container, name, **kwargs
        )
        return obj
