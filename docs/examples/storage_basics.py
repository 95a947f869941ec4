"""Create a container, upload, list by prefix and download with the local driver."""

import os
import tempfile
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud.errors import ContainerAlreadyExistsError
from txcloud.storage.providers import get_driver
from txcloud.storage.types import Provider


async def main(reactor: Any, folder: str) -> None:
    driver = get_driver(Provider.LOCAL)(folder, reactor=reactor)
    container = await driver.create_container("photos")
    try:
        await driver.create_container("photos")
    except ContainerAlreadyExistsError:
        print("photos already exists")

    source = os.path.join(folder, "cat.jpg")
    with open(source, "wb") as f:
        f.write(b"meow" * 1000)
    obj = await driver.upload_object(source, container, "2026/cat.jpg")

    async for item in driver.iterate_container_objects(container, prefix="2026/"):
        print(item.name, item.size, item.hash)

    await driver.download_object(obj, os.path.join(folder, "copy.jpg"))
    print("downloaded", os.path.getsize(os.path.join(folder, "copy.jpg")), "bytes")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        react(lambda reactor: Deferred.fromCoroutine(main(reactor, folder)))
