"""
Docker benchmark: ``list_containers`` calls per second against a real
``dockerd`` over plain TCP, with txcloud and with Libcloud's Docker driver,
in the same run.

    python benchmarks/docker_list_containers.py [--containers 20] [--calls 500]
        [--concurrency 10] [--rounds 3]

The script starts a private ``dockerd`` (needs root, Debian's ``docker.io``)
with its own data root, a Unix socket and a TCP port on 127.0.0.1 (no TLS,
no bridge network), imports a busybox image (``/bin/busybox`` from
``busybox-static``) and starts ``--containers`` containers running
``sleep``.  Then, for ``--rounds`` rounds, it measures ``--calls`` calls of
``list_containers()`` (all containers, stopped ones included):

* txcloud, one call at a time (each awaited before the next);
* txcloud, ``--concurrency`` calls in flight at once;
* Libcloud, one call at a time (it blocks; it has no other way).

Each figure is the best round (by calls per second), with the CPU time
this process spent per call.  Both drivers keep their connections open
between calls.  The daemon and its folder are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import free_port, stop_process_group

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults
from twisted.internet.task import react

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.test.docker_services import busybox_tarball


def start_dockerd(folder: str, port: int) -> subprocess.Popen[bytes]:
    program = shutil.which("dockerd")
    if program is None or os.geteuid() != 0:
        sys.exit("needs dockerd (apt-get install docker.io) and root")
    command = [
        program,
        f"--host=unix://{folder}/docker.sock",
        f"--host=tcp://127.0.0.1:{port}",
        f"--data-root={folder}/data",
        f"--exec-root={folder}/exec",
        f"--pidfile={folder}/docker.pid",
        "--iptables=false",
        "--ip-masq=false",
        "--bridge=none",
        "--shutdown-timeout=1",
        "--log-level=error",
    ]
    with open(os.path.join(folder, "dockerd.log"), "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"dockerd exited with {process.returncode}; see {folder}/dockerd.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ping", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    stop_process_group(process, grace=20)
    sys.exit("dockerd was not ready within 60 s")


async def create_containers(driver: DockerContainerDriver, count: int) -> list[str]:
    image = await driver.ex_import_image(busybox_tarball(), "bench/busybox", "1")
    ids = []
    for number in range(count):
        container = await driver.deploy_container(
            f"bench-{number}",
            image,
            command="sleep 3600",
            network_mode="none",
            tty=False,
            stdin_open=False,
        )
        ids.append(container.id)
    return ids


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: A measurement: calls per second, and this process's CPU milliseconds per call.
Figures = tuple[float, float]


async def txcloud_sequential(driver: DockerContainerDriver, calls: int, expected: int) -> Figures:
    cpu, started = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        listed = await driver.list_containers()
        assert len(listed) == expected
    elapsed = time.perf_counter() - started
    return calls / elapsed, (cpu_seconds() - cpu) / calls * 1000


async def txcloud_concurrent(
    driver: DockerContainerDriver, calls: int, concurrency: int, expected: int
) -> Figures:
    limit = DeferredSemaphore(concurrency)
    cpu, started = cpu_seconds(), time.perf_counter()
    listings = await gatherResults(
        [limit.run(driver.list_containers) for _ in range(calls)], consumeErrors=True
    )
    elapsed = time.perf_counter() - started
    assert all(len(listed) == expected for listed in listings)
    return calls / elapsed, (cpu_seconds() - cpu) / calls * 1000


def libcloud_sequential(driver: Any, calls: int, expected: int) -> Figures:
    cpu, started = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        listed = driver.list_containers()
        assert len(listed) == expected
    elapsed = time.perf_counter() - started
    return calls / elapsed, (cpu_seconds() - cpu) / calls * 1000


async def measure(reactor: Any, arguments: argparse.Namespace, port: int) -> None:
    from libcloud.container.drivers.docker import DockerContainerDriver as LibcloudDocker

    driver = DockerContainerDriver(host="127.0.0.1", port=port, reactor=reactor)
    try:
        ids = await create_containers(driver, arguments.containers)
        version = await driver.ex_get_api_version()
        libcloud = LibcloudDocker(host="http://127.0.0.1", port=port)
        count = len(await driver.list_containers())
        assert count == len(libcloud.list_containers()) == len(ids)
        print(
            f"dockerd over TCP (Engine API {version}), {count} containers, "
            f"{arguments.calls} list_containers() calls per measurement, "
            f"best of {arguments.rounds} rounds"
        )
        best: dict[str, Figures] = {}
        for _ in range(arguments.rounds):
            rounds = {
                "libcloud": libcloud_sequential(libcloud, arguments.calls, count),
                "sequential": await txcloud_sequential(driver, arguments.calls, count),
                "concurrent": await txcloud_concurrent(
                    driver, arguments.calls, arguments.concurrency, count
                ),
            }
            for key, figures in rounds.items():
                best[key] = max(best.get(key, figures), figures)
        labels = {
            "sequential": "txcloud, sequential",
            "concurrent": f"txcloud, {arguments.concurrency} concurrent",
            "libcloud": "Libcloud, sequential",
        }
        for key, label in labels.items():
            rate, cpu = best[key]
            print(f"{label:34} {rate:8.0f} calls/s  ({cpu:.2f} ms of client CPU per call)")
        libcloud_rate = best["libcloud"][0]
        print(
            f"{'ratio txcloud / Libcloud':34} "
            f"{best['sequential'][0] / libcloud_rate:8.2f}x sequential, "
            f"{best['concurrent'][0] / libcloud_rate:.2f}x concurrent"
        )
        for container_id in ids:
            await driver.destroy_container(container_id)
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="txcloud-bench-docker-")
    port = free_port()
    process = start_dockerd(folder, port)
    try:
        react(lambda reactor: Deferred.fromCoroutine(measure(reactor, arguments, port)))
    finally:
        stop_process_group(process, grace=20)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
