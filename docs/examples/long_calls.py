"""
Start a long upload, keep working while it runs, then collect it; and cancel
a call that is no longer wanted.
"""

import os
import tempfile

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import react

from txcloud.compute.providers import get_driver as get_compute_driver
from txcloud.compute.types import Provider as ComputeProvider
from txcloud.storage.providers import get_driver as get_storage_driver
from txcloud.storage.types import Provider as StorageProvider


async def main(reactor: object, folder: str) -> None:
    storage = get_storage_driver(StorageProvider.LOCAL)(folder, reactor=reactor)
    compute = get_compute_driver(ComputeProvider.DUMMY)("key", reactor=reactor, ex_latency=0.2)

    source = os.path.join(folder, "big.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(32 * 1024 * 1024))
    container = await storage.create_container("backups")

    # Start the upload; the Deferred fires later, and the reactor is free meanwhile.
    upload = storage.upload_object(source, container, "big.bin")

    # Other work while it runs: a slow API call, awaited.
    nodes = await compute.list_nodes()
    print("listed", len(nodes), "nodes while the upload ran")

    obj = await upload
    print("uploaded", obj.name, obj.size, "bytes")

    # A call that is no longer wanted is cancelled: its Deferred fails with
    # CancelledError and nothing it would have done happens.
    slow = compute.list_sizes()
    slow.cancel()
    try:
        await slow
    except CancelledError:
        print("cancelled the slow call")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        react(lambda reactor: Deferred.fromCoroutine(main(reactor, folder)))
