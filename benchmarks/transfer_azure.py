"""
Transfer benchmark: upload and download one large blob through Azurite, with
txcloud and with Libcloud's Azure Blobs driver against the same server in
the same run.

    python benchmarks/transfer_azure.py [--size-mib 256] [--rounds 3]
        [--tools txcloud,txcloud-single,txcloud-no-md5,libcloud] [--txcloud-args JSON]

The script starts Azurite's blob service (``azurite-blob``, found as the
integration tests find it: ``$TXCLOUD_AZURITE``, ``/opt/txcloud-npm`` or the
``PATH``) on a free port of 127.0.0.1 with its data in a temporary folder,
and stops it by process id.  It writes a file of random bytes and runs each
tool in its own subprocess, one after the other, round after round (so a
noisy moment hurts every tool alike).  Each subprocess uploads the file,
downloads the blob to a new file, deletes the blob, and reports its MB/s
(10**6 bytes per second) both ways and the CPU seconds per GB its process
spent (every thread counted); the parent compares the MD5 of the download
with the source's; each child reports its own peak RSS (``VmHWM``:
``ru_maxrss`` would count the parent's peak too).  In the txcloud children
a ``LoopingCall`` every 5 ms on the reactor measures how late the reactor
runs during each transfer.

* txcloud: ``AzureBlobsStorageDriver.upload_object`` / ``download_object``
  with the driver's defaults: parallel blocks without per-block MD5, the
  blob's MD5 (computed in the thread pool while the blocks go out)
  committed with the block list; parallel ranged GETs, checked against that
  MD5.  ``--txcloud-args`` passes constructor ``ex_*`` settings as JSON,
  e.g. ``'{"ex_transactional_md5": true}'``;
* txcloud-single: the same driver told to use one request each way (one Put
  Blob with its ``Content-MD5``, one streaming GET, both checked);
* txcloud-no-md5: the defaults with ``verify_hash=False`` and
  ``ex_verify_hash=False``: no MD5 computed either way, so the blob has
  none to check downloads against.  Not a setting to use: it shows what the
  blob's MD5 costs;
* libcloud: ``AzureBlobsStorageDriver(key, secret, host=..., port=...,
  secure=False)`` (path-style URLs for a custom host), ``upload_object``
  (4 MiB blocks one after the other, each with its MD5, and the blob's MD5)
  / ``download_object`` (one GET, not checked).

The summary gives each tool's median over the rounds, and for each txcloud
row its speed ratios to Libcloud, its CPU per GB against Libcloud's (target:
at most half), the reactor's worst lateness (target: 50 ms) and its peak
RSS (target: 100 MB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from _common import (
    ROOT,
    SINGLE_REQUEST,
    Phases,
    Results,
    conduct_transfers,
    free_port,
    print_child_figures,
    print_medians,
    print_targets,
    start_server,
    time_txcloud_round_trip,
    transfer_arguments,
)

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "txcloud-benchmark"
TOOLS = ("txcloud", "txcloud-single", "txcloud-no-md5", "libcloud")
PEERS = ("libcloud",)

# No MD5 either way (see the module's documentation).
_UNCHECKED = ({"verify_hash": False}, {"ex_verify_hash": False})


# Each tool, run in a child process: its upload's and download's Phases figures.


def _run_txcloud(
    port: int, source: str, destination: str, name: str, options: str, checked: bool = True
) -> Any:
    from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    def make_driver(reactor: Any) -> AzureBlobsStorageDriver:
        settings = json.loads(options or "{}")
        return AzureBlobsStorageDriver(
            ACCOUNT, KEY, host="127.0.0.1", port=port, secure=False, reactor=reactor, **settings
        )

    upload, download = ({}, {}) if checked else _UNCHECKED
    return time_txcloud_round_trip(
        make_driver,
        CONTAINER,
        source,
        destination,
        name,
        upload_options=upload,
        download_options=download,
    )


def _run_libcloud(port: int, source: str, destination: str, name: str, options: str) -> Any:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    driver = AzureBlobsStorageDriver(ACCOUNT, KEY, host="127.0.0.1", port=port, secure=False)
    container = driver.get_container(CONTAINER)
    phases = Phases()
    with phases("upload"):
        obj = driver.upload_object(source, container, name)
    with phases("download"):
        driver.download_object(obj, destination)
    driver.delete_object(obj)
    return phases.figures


def child_main(tool: str, port: int, source: str, destination: str, options: str) -> None:
    """Transfer with *tool* and print a JSON line with the timings."""
    name = f"blob-{tool}"
    if tool == "libcloud":
        figures = _run_libcloud(port, source, destination, name, options)
    else:
        options = SINGLE_REQUEST if tool == "txcloud-single" else options
        checked = tool != "txcloud-no-md5"
        figures = _run_txcloud(port, source, destination, name, options, checked)
    print_child_figures(figures)


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
    # Any HTTP answer (Azurite wants credentials) means it is up.
    process = start_server(
        "azurite-blob",
        [*program, *azurite_arguments(port, data)],
        os.path.join(folder, "azurite.log"),
        f"http://127.0.0.1:{port}/",
        any_answer=True,
    )
    return process, port


def _create_container(port: int) -> None:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver

    AzureBlobsStorageDriver(
        ACCOUNT, KEY, host="127.0.0.1", port=port, secure=False
    ).create_container(CONTAINER)


def main() -> None:
    args = transfer_arguments(__doc__.split("\n\n")[0], 256, TOOLS)
    if args.child:
        child_main(args.child, args.port, args.source, args.destination, args.txcloud_args)
        return
    conduct_transfers(
        __file__, args, _start_azurite, _create_container, "blob, Azurite", _summarise
    )


def _summarise(results: Results) -> None:
    print_targets(print_medians(results), PEERS)


if __name__ == "__main__":
    main()
