"""
Transfer benchmark: upload and download one large blob through Azurite, with
txcloud and with Libcloud's Azure Blobs driver against the same server in
the same run.

    python benchmarks/transfer_azure.py [--size-mib 256] [--rounds 3]
        [--tools txcloud,libcloud] [--txcloud-args JSON]

The script starts Azurite's blob service (``azurite-blob``, found as the
integration tests find it: ``$TXCLOUD_AZURITE``, ``/opt/txcloud-npm`` or the
``PATH``) on a free port of 127.0.0.1 with its data in a temporary folder,
and stops it by process id.  It writes a file of random bytes and runs each
tool in its own subprocess, one after the other, round after round (so a
noisy moment hurts every tool alike).  Each subprocess uploads the file,
downloads the blob to a new file, deletes the blob, and reports its MB/s
(10**6 bytes per second) both ways; the parent compares the MD5 of the download with the
source's and takes the child's peak RSS from ``os.wait4``.

* txcloud: ``AzureBlobsStorageDriver.upload_object`` / ``download_object``
  with the driver's defaults (parallel blocks with per-block ``Content-MD5``
  and the blob's MD5 committed; parallel ranged GETs, checked against that
  MD5).  ``--txcloud-args`` passes constructor ``ex_*`` settings as JSON,
  e.g. ``'{"ex_part_size": 16777216}'``;
* txcloud-single: the same driver told to use one request each way (one Put
  Blob, one streaming GET);
* libcloud: ``AzureBlobsStorageDriver(key, secret, host=..., port=...,
  secure=False)`` (path-style URLs for a custom host), ``upload_object``
  (4 MiB blocks, one after the other) / ``download_object`` (one GET).

The summary gives each tool's median over the rounds and each txcloud
row's ratios to Libcloud in each direction.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

from _common import ROOT, free_port, md5_of_file, run_child, stop_process_group

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "txcloud-benchmark"
TOOLS = ("txcloud", "txcloud-single", "libcloud")
PEERS = ("libcloud",)

#: txcloud told to move the blob with one request each way.
SINGLE_REQUEST = json.dumps({"ex_multipart_threshold": 2**40, "ex_download_threshold": 2**40})


# Each tool, run in a child process: (upload seconds, download seconds).


def _run_txcloud(port: int, source: str, destination: str, name: str, options: str) -> Any:
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    times: list[float] = []

    async def transfer(reactor: Any) -> None:
        driver = AzureBlobsStorageDriver(
            ACCOUNT,
            KEY,
            host="127.0.0.1",
            port=port,
            secure=False,
            reactor=reactor,
            **json.loads(options or "{}"),
        )
        try:
            container = await driver.get_container(CONTAINER)
            started = time.perf_counter()
            obj = await driver.upload_object(source, container, name)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            await driver.download_object(obj, destination)
            times.append(time.perf_counter() - started)
            # Every round starts from the same (empty) container.
            await driver.delete_object(obj)
        finally:
            await driver.close()

    outcome: list[Any] = []
    done = Deferred.fromCoroutine(transfer(reactor))
    done.addBoth(outcome.append).addBoth(lambda _: reactor.stop())
    reactor.run()
    if len(times) < 2:
        outcome[0].raiseException()
    return times


def _run_libcloud(port: int, source: str, destination: str, name: str, options: str) -> Any:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    driver = AzureBlobsStorageDriver(ACCOUNT, KEY, host="127.0.0.1", port=port, secure=False)
    container = driver.get_container(CONTAINER)
    started = time.perf_counter()
    obj = driver.upload_object(source, container, name)
    upload = time.perf_counter() - started
    started = time.perf_counter()
    driver.download_object(obj, destination)
    download = time.perf_counter() - started
    driver.delete_object(obj)
    return [upload, download]


def child_main(tool: str, port: int, source: str, destination: str, options: str) -> None:
    """Transfer with *tool* and print a JSON line with the timings."""
    run = {"txcloud": _run_txcloud, "txcloud-single": _run_txcloud, "libcloud": _run_libcloud}[tool]
    if tool == "txcloud-single":
        options = SINGLE_REQUEST
    upload, download = run(port, source, destination, f"blob-{tool}", options)
    print(json.dumps({"upload": upload, "download": download}))


# The parent: Azurite, the source file, the rounds and the summary.


def _start_azurite(folder: str) -> tuple[subprocess.Popen[bytes], int]:
    sys.path.insert(0, ROOT)
    from txcloud.test.azure_services import azurite_arguments, azurite_program

    program = azurite_program()
    if program is None:
        sys.exit(
            "azurite-blob is not installed: npm install --prefix /opt/txcloud-npm azurite "
            "(or set TXCLOUD_AZURITE)"
        )
    port = free_port()
    data = os.path.join(folder, "azurite")
    os.makedirs(data)
    with open(os.path.join(folder, "azurite.log"), "wb") as log:
        process = subprocess.Popen(
            [*program, *azurite_arguments(port, data)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Any HTTP answer (Azurite wants credentials) means it is up.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError:
            return process, port
        except OSError:
            if process.poll() is not None:
                sys.exit(f"azurite-blob exited with {process.returncode}")
            time.sleep(0.1)
    stop_process_group(process)
    sys.exit("azurite-blob did not start within 60 s")


def _create_container(port: int) -> None:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    AzureBlobsStorageDriver(
        ACCOUNT, KEY, host="127.0.0.1", port=port, secure=False
    ).create_container(CONTAINER)


def _measure(
    tool: str, port: int, source: str, source_md5: str, folder: str, options: str
) -> dict[str, Any]:
    destination = os.path.join(folder, f"downloaded-{tool}")
    if os.path.exists(destination):
        os.remove(destination)
    command = [
        sys.executable,
        __file__,
        "--child",
        tool,
        "--port",
        str(port),
        "--source",
        source,
        "--destination",
        destination,
        "--txcloud-args",
        options,
    ]
    os.sync()
    output, rss = run_child(tool, command)
    timings = json.loads(output.decode().strip().splitlines()[-1])
    size = os.path.getsize(source)
    intact = md5_of_file(destination) == source_md5
    os.remove(destination)
    return {
        "up": size / timings["upload"] / 1e6,
        "down": size / timings["download"] / 1e6,
        "rss": rss,
        "intact": intact,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, in order")
    parser.add_argument("--txcloud-args", default="", help="JSON of the driver's ex_* settings")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--destination", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.port, args.source, args.destination, args.txcloud_args)
        return
    tools = [tool for tool in args.tools.split(",") if tool]
    folder = tempfile.mkdtemp(prefix="txcloud-azure-benchmark-")
    azurite, port = _start_azurite(folder)
    try:
        source = os.path.join(folder, "source")
        with open(source, "wb") as file:
            for _ in range(args.size_mib):
                file.write(os.urandom(1024 * 1024))
        source_md5 = md5_of_file(source)
        _create_container(port)
        print(f"{args.size_mib} MiB blob, Azurite on port {port}, {args.rounds} rounds")
        results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
        for number in range(1, args.rounds + 1):
            for tool in tools:
                result = _measure(tool, port, source, source_md5, folder, args.txcloud_args)
                results[tool].append(result)
                print(
                    f"round {number} {tool:14s} up {result['up']:7.1f} MB/s  "
                    f"down {result['down']:7.1f} MB/s  peak RSS {result['rss']:6.1f} MB  "
                    f"MD5 verified {result['intact']}",
                    flush=True,
                )
        _summarise(results)
    finally:
        stop_process_group(azurite)
        shutil.rmtree(folder, ignore_errors=True)


def _summarise(results: dict[str, list[dict[str, Any]]]) -> None:
    medians = {
        tool: {key: statistics.median(run[key] for run in runs) for key in ("up", "down", "rss")}
        for tool, runs in results.items()
    }
    print("\nmedians")
    for tool, figures in medians.items():
        intact = all(run["intact"] for run in results[tool])
        print(
            f"  {tool:14s} up {figures['up']:7.1f} MB/s  down {figures['down']:7.1f} MB/s  "
            f"peak RSS {figures['rss']:6.1f} MB  all MD5 verified {intact}"
        )
    peers = [tool for tool in medians if tool in PEERS]
    for ours in (tool for tool in medians if tool.startswith("txcloud")):
        for peer in peers:
            print(
                f"  {ours} / {peer}: up {medians[ours]['up'] / medians[peer]['up']:.2f}x  "
                f"down {medians[ours]['down'] / medians[peer]['down']:.2f}x  "
                f"peak RSS {medians[ours]['rss'] / medians[peer]['rss']:.2f}x"
            )


if __name__ == "__main__":
    main()
