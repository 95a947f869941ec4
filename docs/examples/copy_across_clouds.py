"""
Copy every object under a prefix of an S3 bucket to an Azure container and
a Google Cloud Storage bucket at once, streaming (nothing touches the disk,
memory stays bounded), then print what was copied and the peak memory.

Endpoints come from the command line so the example runs against local
emulators (moto, Azurite, fake-gcs-server) as well as the real services::

    python copy_across_clouds.py --s3 127.0.0.1:5000 --azure 127.0.0.1:10000 \\
        --gcs 127.0.0.1:4443 --seed 6

Credentials: AWS from the usual environment variables; Azure from
AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY; GCS needs none on an emulator.
"""

import argparse
import os
import resource
import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud.storage.copy import copy_prefix
from txcloud.storage.providers import get_driver
from txcloud.storage.types import Provider

PREFIX = "reports/2026/"

# Each copy buffers at most two 8 MiB parts of its upload, and four copies
# run at once: the memory a copy of any amount of data takes stays bounded.
UPLOAD_OPTIONS = {"ex_part_size": 8 * 1024 * 1024, "ex_max_concurrency": 2}


def endpoint(text: str) -> dict[str, Any]:
    host, _, port = text.rpartition(":")
    return {"host": host, "port": int(port), "secure": False}


def peak_memory_mib() -> int:
    """
    This program's peak resident memory.  Linux's ``ru_maxrss`` also counts
    the memory of the process that started this one, so read the peak of
    this program's own address space where Linux gives it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak // (1024 * 1024 if sys.platform == "darwin" else 1024)


async def bucket(driver: Any, name: str) -> Any:
    containers = {c.name: c for c in await driver.list_containers()}
    return containers.get(name) or await driver.create_container(name)


async def seed(source: Any, count: int, size: int) -> None:
    def chunks(index: int) -> Any:
        block = bytes([index % 256]) * (1024 * 1024)
        for _ in range(size // len(block)):
            yield block

    for index in range(count):
        await source.driver.upload_object_via_stream(
            chunks(index), source, f"{PREFIX}part-{index:03}.bin"
        )


async def main(reactor: Any, options: argparse.Namespace) -> None:
    s3 = get_driver(Provider.S3)(reactor=reactor, region="us-east-1", **endpoint(options.s3))
    azure = get_driver(Provider.AZURE_BLOBS)(
        os.environ["AZURE_STORAGE_ACCOUNT"],
        os.environ["AZURE_STORAGE_KEY"],
        reactor=reactor,
        **endpoint(options.azure),
    )
    gcs = get_driver(Provider.GOOGLE_STORAGE)(
        "", None, reactor=reactor, ex_project=options.gcs_project, **endpoint(options.gcs)
    )
    try:
        source = await bucket(s3, "exports")
        if options.seed:
            await seed(source, options.seed, options.seed_mib * 1024 * 1024)
        destinations = [await bucket(azure, "archive"), await bucket(gcs, "archive")]
        outcome = await copy_prefix(
            source,
            PREFIX,
            destinations,
            destination_prefix="2026/",
            upload_options=UPLOAD_OPTIONS,
            concurrency=4,
        )
        for task, obj in sorted(outcome.results.items(), key=lambda item: str(item[0])):
            print(f"copied {task} ({obj.size} bytes)")
        for task, failure in outcome.failures.items():
            print(f"failed {task}: {failure.value}", file=sys.stderr)
        print(f"peak memory {peak_memory_mib()} MiB")
        if outcome.failures:
            raise SystemExit(1)
    finally:
        for driver in (s3, azure, gcs):
            await driver.close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--s3", required=True, metavar="HOST:PORT")
    parser.add_argument("--azure", required=True, metavar="HOST:PORT")
    parser.add_argument("--gcs", required=True, metavar="HOST:PORT")
    parser.add_argument("--gcs-project", default="txcloud-example")
    parser.add_argument("--seed", type=int, default=0, help="first upload this many objects")
    parser.add_argument("--seed-mib", type=int, default=24, help="size of each seeded object")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    react(lambda reactor: Deferred.fromCoroutine(main(reactor, arguments)))
