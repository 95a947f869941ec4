"""
Transfer benchmark: upload and download one large object through moto's S3,
with txcloud, Libcloud and boto3 against the same server in the same run.

    python benchmarks/transfer_s3.py [--size-mib 128] [--rounds 3]
        [--tools txcloud,txcloud-single,libcloud,boto3,http.client,http.client-parts]

The script starts ``moto_server`` on a free port of 127.0.0.1 (and stops it
by process id), writes a file of random bytes, and runs each tool in its own
subprocess, one after the other, round after round (so a noisy moment hurts
every tool alike).  Each subprocess uploads the file, downloads the object
to a new file, compares the MD5 of both with the source, and reports its
MB/s (10**6 bytes per second) both ways and its own peak RSS (``VmHWM``:
``ru_maxrss`` would count the parent's peak too).

* txcloud: ``S3StorageDriver.upload_object`` / ``download_object`` with
  the driver's defaults: a multipart upload (8 MiB parts, 10 at once) and,
  the driver being given a ``host``, one streaming GET; both checked (each
  part's CRC32C sent for S3 to check, the whole object's CRC32C joined
  from them, the download's CRC32C against the one S3 keeps).  A
  ``LoopingCall`` every 5 ms on its reactor measures how late the reactor
  runs during each transfer;  ``--txcloud-args`` passes constructor
  ``ex_*`` settings as JSON, e.g. ``'{"ex_download_threshold": 67108864}'``;
* txcloud-single: the same driver told to use one request each way
  (``ex_multipart_threshold`` and ``ex_download_threshold`` above the
  object's size), which suits moto: its CompleteMultipartUpload copies the
  whole object again, as does each of its ranged GETs;
* Libcloud: ``S3StorageDriver(host=..., port=..., secure=False)``,
  ``upload_object`` (one PUT) / ``download_object`` (one GET);
* boto3: ``client("s3", endpoint_url=...)``, ``upload_file`` /
  ``download_file`` with the default ``TransferConfig`` (multipart, ranges);
* http.client (not a peer: a measure of the server): the file read into
  memory, then one PUT and one GET of presigned URLs with the standard
  library, no checksum, no fsync.  What moto itself can take and give.

Each row gives the client's CPU seconds per GB moved (all its threads) and,
in brackets, the part spent in the kernel (``getrusage``).  The summary
gives each tool's median over the rounds, each txcloud row's
speed ratios to the faster peer (Libcloud, boto3) in each direction (the
same for the bare standard-library rows: how far any client could get), its
CPU per GB against the leanest peer's (target: at most half), the reactor's
worst lateness over every round (target: 50 ms) and its peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

from _common import (
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

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
BUCKET = "txcloud-benchmark"
TOOLS = ("txcloud", "txcloud-single", "libcloud", "boto3", "http.client", "http.client-parts")
BARE = ("http.client", "http.client-parts")
PEERS = ("libcloud", "boto3")


# Each tool, run in a child process: its upload's and download's Phases figures.


def _run_txcloud(port: int, source: str, destination: str, key: str, options: str) -> Any:
    from txcloud.storage.drivers.s3 import S3StorageDriver

    def make_driver(reactor: Any) -> S3StorageDriver:
        settings = json.loads(options or "{}")
        return S3StorageDriver(
            KEY,
            SECRET,
            host="127.0.0.1",
            port=port,
            secure=False,
            region=REGION,
            reactor=reactor,
            **settings,
        )

    return time_txcloud_round_trip(make_driver, BUCKET, source, destination, key)


def _run_libcloud(port: int, source: str, destination: str, key: str, options: str) -> Any:
    from libcloud.storage.drivers.s3 import S3StorageDriver

    driver = S3StorageDriver(KEY, SECRET, host="127.0.0.1", port=port, secure=False, region=REGION)
    container = driver.get_container(BUCKET)
    phases = Phases()
    with phases("upload"):
        obj = driver.upload_object(source, container, key)
    with phases("download"):
        driver.download_object(obj, destination)
    return phases.figures


def _boto3_client(port: int) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )


def _run_boto3(port: int, source: str, destination: str, key: str, options: str) -> Any:
    client = _boto3_client(port)
    phases = Phases()
    with phases("upload"):
        client.upload_file(source, BUCKET, key)
    with phases("download"):
        client.download_file(BUCKET, key, destination)
    return phases.figures


def _presigned(client: Any, method: str, **params: Any) -> str:
    from urllib.parse import urlsplit

    url = urlsplit(
        client.generate_presigned_url(method, Params={"Bucket": BUCKET, **params}, ExpiresIn=600)
    )
    return f"{url.path}?{url.query}"


def _bare_request(port: int, method: str, target: str, body: Any = None) -> Any:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request(method, target, body=body)
    return connection.getresponse()


def _bare_put(port: int, target: str, body: Any) -> str:
    response = _bare_request(port, "PUT", target, body)
    response.read()
    if response.status != 200:
        raise SystemExit(f"PUT answered {response.status}")
    return str(response.getheader("ETag"))


def _bare_get(port: int, key: str, destination: str, phases: Phases) -> dict[str, float]:
    target = _presigned(_boto3_client(port), "get_object", Key=key)
    with phases("download"):
        response = _bare_request(port, "GET", target)
        with open(destination, "wb") as file:
            while chunk := response.read(1024 * 1024):
                file.write(chunk)
    return phases.figures


def _run_http_client(port: int, source: str, destination: str, key: str, options: str) -> Any:
    target = _presigned(_boto3_client(port), "put_object", Key=key)
    with open(source, "rb") as file:
        data = file.read()
    phases = Phases()
    with phases("upload"):
        _bare_put(port, target, data)
    del data
    return _bare_get(port, key, destination, phases)


def _run_http_client_parts(port: int, source: str, destination: str, key: str, options: str) -> Any:
    client = _boto3_client(port)
    part_size = 8 * 1024 * 1024
    with open(source, "rb") as file:
        data = memoryview(file.read())
    phases = Phases()
    with phases("upload"):
        _bare_multipart_upload(port, client, key, data, part_size)
    data.release()
    return _bare_get(port, key, destination, phases)


def _bare_multipart_upload(
    port: int, client: Any, key: str, data: memoryview, part_size: int
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    offsets = range(0, len(data), part_size)
    targets = [
        _presigned(client, "upload_part", Key=key, UploadId=upload_id, PartNumber=number)
        for number in range(1, len(offsets) + 1)
    ]
    with ThreadPoolExecutor(4) as pool:
        etags = list(
            pool.map(
                lambda index: _bare_put(
                    port, targets[index], data[offsets[index] : offsets[index] + part_size]
                ),
                range(len(offsets)),
            )
        )
    client.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"ETag": etag, "PartNumber": number} for number, etag in enumerate(etags, 1)]
        },
    )


def child_main(tool: str, port: int, source: str, destination: str, options: str) -> None:
    """Transfer with *tool* and print a JSON line with the timings."""
    run = {
        "txcloud": _run_txcloud,
        "txcloud-single": _run_txcloud,
        "libcloud": _run_libcloud,
        "boto3": _run_boto3,
        "http.client": _run_http_client,
        "http.client-parts": _run_http_client_parts,
    }[tool]
    if tool == "txcloud-single":
        options = SINGLE_REQUEST
    print_child_figures(run(port, source, destination, f"object-{tool}", options))


# The parent: moto, the source file, the rounds and the summary.


def _start_moto(folder: str) -> tuple[subprocess.Popen[bytes], int]:
    program = shutil.which("moto_server")
    if program is None:
        sys.exit("moto_server is not installed: pip install 'moto[server]'")
    port = free_port()
    process = start_server(
        "moto_server",
        [program, "-H", "127.0.0.1", "-p", str(port)],
        os.path.join(folder, "moto.log"),
        f"http://127.0.0.1:{port}/moto-api/",
    )
    return process, port


def _create_bucket(port: int) -> None:
    _boto3_client(port).create_bucket(Bucket=BUCKET)


def main() -> None:
    args = transfer_arguments(__doc__.split("\n\n")[0], 128, TOOLS)
    if args.child:
        child_main(args.child, args.port, args.source, args.destination, args.txcloud_args)
        return
    conduct_transfers(__file__, args, _start_moto, _create_bucket, "object, moto", _summarise)


def _summarise(results: Results) -> None:
    print_targets(print_medians(results), PEERS, BARE)


if __name__ == "__main__":
    main()
