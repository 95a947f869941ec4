"""
Transfer benchmark: upload and download one large object through moto's S3,
with txcloud, Libcloud and boto3 against the same server in the same run.

    python benchmarks/transfer_s3.py [--size-mib 128] [--rounds 3]
        [--tools txcloud,txcloud-single,libcloud,boto3,http.client]

The script starts ``moto_server`` on a free port of 127.0.0.1 (and stops it
by process id), writes a file of random bytes, and runs each tool in its own
subprocess, one after the other, round after round (so a noisy moment hurts
every tool alike).  Each subprocess uploads the file, downloads the object
to a new file, compares the MD5 of both with the source, and reports its
MB/s (10**6 bytes per second) both ways; its peak RSS comes from
``os.wait4`` (``ru_maxrss`` of that child alone).

* txcloud: ``S3StorageDriver.upload_object`` / ``download_object`` with
  the driver's defaults: a multipart upload (8 MiB parts, 10 at once) and,
  the driver being given a ``host``, one streaming GET; both checked (part
  MD5s, multipart ETag, CRC32).  ``--txcloud-args`` passes constructor
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

The summary gives each tool's median over the rounds, and each txcloud
row's ratios to the faster peer (Libcloud, boto3) in each direction.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from _common import (
    SINGLE_REQUEST,
    Results,
    free_port,
    measure_rounds,
    print_medians,
    start_server,
    stop_process_group,
    time_txcloud_round_trip,
    transfer_arguments,
    write_random_file,
)

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
BUCKET = "txcloud-benchmark"
TOOLS = ("txcloud", "txcloud-single", "libcloud", "boto3", "http.client")
PEERS = ("libcloud", "boto3")


# Each tool, run in a child process: (upload seconds, download seconds).


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
    started = time.perf_counter()
    obj = driver.upload_object(source, container, key)
    upload = time.perf_counter() - started
    started = time.perf_counter()
    driver.download_object(obj, destination)
    return [upload, time.perf_counter() - started]


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
    started = time.perf_counter()
    client.upload_file(source, BUCKET, key)
    upload = time.perf_counter() - started
    started = time.perf_counter()
    client.download_file(BUCKET, key, destination)
    return [upload, time.perf_counter() - started]


def _run_http_client(port: int, source: str, destination: str, key: str, options: str) -> Any:
    import http.client
    from urllib.parse import urlsplit

    client = _boto3_client(port)
    urls = {
        method: urlsplit(
            client.generate_presigned_url(
                f"{method.lower()}_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600
            )
        )
        for method in ("PUT", "GET")
    }
    with open(source, "rb") as file:
        data = file.read()
    connection = http.client.HTTPConnection("127.0.0.1", port)
    started = time.perf_counter()
    connection.request("PUT", f"{urls['PUT'].path}?{urls['PUT'].query}", body=data)
    response = connection.getresponse()
    response.read()
    upload = time.perf_counter() - started
    del data
    connection = http.client.HTTPConnection("127.0.0.1", port)
    started = time.perf_counter()
    connection.request("GET", f"{urls['GET'].path}?{urls['GET'].query}")
    response = connection.getresponse()
    with open(destination, "wb") as file:
        while chunk := response.read(1024 * 1024):
            file.write(chunk)
    return [upload, time.perf_counter() - started]


def child_main(tool: str, port: int, source: str, destination: str, options: str) -> None:
    """Transfer with *tool* and print a JSON line with the timings."""
    run = {
        "txcloud": _run_txcloud,
        "txcloud-single": _run_txcloud,
        "libcloud": _run_libcloud,
        "boto3": _run_boto3,
        "http.client": _run_http_client,
    }[tool]
    if tool == "txcloud-single":
        options = SINGLE_REQUEST
    upload, download = run(port, source, destination, f"object-{tool}", options)
    print(json.dumps({"upload": upload, "download": download}))


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
    folder = tempfile.mkdtemp(prefix="txcloud-transfer-benchmark-")
    moto, port = _start_moto(folder)
    try:
        source = os.path.join(folder, "source")
        source_md5 = write_random_file(source, args.size_mib)
        _create_bucket(port)
        print(f"{args.size_mib} MiB object, moto on port {port}, {args.rounds} rounds")
        results = measure_rounds(__file__, args, port, source, source_md5, folder)
        _summarise(results)
    finally:
        stop_process_group(moto)
        shutil.rmtree(folder, ignore_errors=True)


def _summarise(results: Results) -> None:
    medians = print_medians(results)
    peers = [tool for tool in medians if tool in PEERS]
    if not peers:
        return
    for ours in (tool for tool in medians if tool.startswith("txcloud")):
        print(f"\n{ours}")
        for direction, target in (("up", 1.3), ("down", 2.0)):
            best = max(peers, key=lambda tool: medians[tool][direction])
            ratio = medians[ours][direction] / medians[best][direction]
            verdict = "meets" if ratio >= target else "below"
            print(f"  {direction:4s} / {best} = {ratio:.2f}x ({verdict} the {target}x target)")
        rss = medians[ours]["rss"]
        print(f"  peak RSS {rss:.1f} MB ({'meets' if rss < 100 else 'above'} the 100 MB target)")


if __name__ == "__main__":
    main()
