"""
Plumbing the benchmark scripts share: free ports, stopping the servers they
start, checking files, and running each tool in a child process so its peak
memory is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The checkout's root, which the children import txcloud from.
ROOT = str(Path(__file__).resolve().parent.parent)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a server started in a session of its own: SIGTERM, then SIGKILL after *grace*."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def md5_of_file(path: str) -> str:
    """The MD5 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def run_child(label: str, command: Sequence[str]) -> bytes:
    """
    Run *command* with this checkout on ``PYTHONPATH``.

    :returns: its standard output.
    :raises SystemExit: if it fails, naming *label*.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [ROOT, *filter(None, [environment.get("PYTHONPATH")])]
    )
    completed = subprocess.run(list(command), stdout=subprocess.PIPE, env=environment)
    if completed.returncode != 0:
        raise SystemExit(f"{label} failed with exit code {completed.returncode}")
    return completed.stdout


def react_until_done(main: Callable[[Any], Any]) -> None:
    """
    Run ``twisted.internet.task.react(main)`` and return once *main*'s
    Deferred has fired (``react`` ends the process otherwise); a failure
    still ends it with a non-zero status.
    """
    from twisted.internet.task import react

    try:
        react(main)
    except SystemExit as done:
        if done.code not in (0, None):
            raise


def peak_rss_mib() -> float:
    """
    This process's peak resident memory in MiB.

    Linux's ``ru_maxrss`` (of this process, or of a child from ``wait4``)
    also counts the peak of the parent that spawned it, so a child reads the
    peak of its own address space (``VmHWM``) instead.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status gives no VmHWM")


def print_child_figures(figures: dict[str, Any]) -> None:
    """
    Print a child's *figures*, with its peak RSS (unless the child took it
    itself, before work that is not measured), as the JSON line its parent
    reads.
    """
    print(json.dumps({"peak_rss_mib": peak_rss_mib(), **figures}))


# Upload-and-download benchmarks (transfer_s3.py, transfer_azure.py): each
# tool runs in a child of the script (``--child TOOL``) that uploads the
# source, downloads it back and prints its :class:`Phases` as JSON.


class Phases:
    """
    The wall-clock seconds and CPU seconds (of every thread of this process,
    in all, in user mode and in the kernel) of named phases:
    ``with phases("upload"): ...``.
    """

    def __init__(self) -> None:
        self.figures: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        before = resource.getrusage(resource.RUSAGE_SELF)
        yield
        after = resource.getrusage(resource.RUSAGE_SELF)
        self.figures[name] = time.perf_counter() - wall
        self.figures[f"{name}_cpu"] = time.process_time() - cpu
        self.figures[f"{name}_user"] = after.ru_utime - before.ru_utime
        self.figures[f"{name}_sys"] = after.ru_stime - before.ru_stime


Results = dict[str, list[dict[str, Any]]]


def transfer_arguments(description: str, size_mib: int, tools: Sequence[str]) -> Any:
    """The command line both transfer benchmarks take (and their children)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size-mib", type=int, default=size_mib)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default=",".join(tools), help="comma-separated, in order")
    parser.add_argument("--txcloud-args", default="", help="JSON of the driver's ex_* settings")
    parser.add_argument("--child", choices=tools, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--destination", help=argparse.SUPPRESS)
    return parser.parse_args()


def write_random_file(path: str, size_mib: int) -> str:
    """Fill *path* with *size_mib* MiB of random bytes; returns their MD5."""
    with open(path, "wb") as file:
        for _ in range(size_mib):
            file.write(os.urandom(1024 * 1024))
    return md5_of_file(path)


def _round_trip(
    script: str, tool: str, port: int, source: str, source_md5: str, folder: str, options: str
) -> dict[str, Any]:
    destination = os.path.join(folder, f"downloaded-{tool}")
    if os.path.exists(destination):
        os.remove(destination)
    command = [
        sys.executable,
        script,
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
    # Nothing another tool left to write back competes with this one.
    os.sync()
    timings = json.loads(run_child(tool, command).decode().strip().splitlines()[-1])
    size = os.path.getsize(source)
    intact = md5_of_file(destination) == source_md5
    os.remove(destination)
    return {
        "up": size / timings["upload"] / 1e6,
        "down": size / timings["download"] / 1e6,
        # CPU seconds the client spent per GB moved, all its threads counted
        # (and the part of it spent in the kernel).
        "up_cpu": timings["upload_cpu"] / size * 1e9,
        "down_cpu": timings["download_cpu"] / size * 1e9,
        "up_sys": timings["upload_sys"] / size * 1e9,
        "down_sys": timings["download_sys"] / size * 1e9,
        "rss": timings["peak_rss_mib"],
        "intact": intact,
        # Only txcloud runs a reactor to probe.
        "up_late": timings.get("upload_late_ms"),
        "down_late": timings.get("download_late_ms"),
    }


def measure_rounds(
    script: str, arguments: Any, port: int, source: str, source_md5: str, folder: str
) -> Results:
    """Run every tool of ``--tools`` for ``--rounds`` rounds, printing each round."""
    tools = [tool for tool in arguments.tools.split(",") if tool]
    results: Results = {tool: [] for tool in tools}
    for number in range(1, arguments.rounds + 1):
        for tool in tools:
            result = _round_trip(
                script, tool, port, source, source_md5, folder, arguments.txcloud_args
            )
            results[tool].append(result)
            print(f"round {number} {tool:17s} {_figures(result)}  intact {result['intact']}")
    return results


_MEASURES = ("up", "down", "up_cpu", "down_cpu", "up_sys", "down_sys", "rss")


def _figures(result: dict[str, Any]) -> str:
    late = ""
    if result.get("up_late") is not None:
        late = f"  reactor late <= {result['up_late']:4.0f} / {result['down_late']:4.0f} ms"
    return (
        f"up {result['up']:6.1f} MB/s ({result['up_cpu']:4.2f} CPU s/GB, "
        f"{result['up_sys']:4.2f} sys)  "
        f"down {result['down']:6.1f} MB/s ({result['down_cpu']:4.2f} CPU s/GB, "
        f"{result['down_sys']:4.2f} sys)  "
        f"peak RSS {result['rss']:5.1f} MB{late}"
    )


def conduct_transfers(
    script: str,
    arguments: Any,
    start: Callable[[str], tuple[subprocess.Popen[bytes], int]],
    prepare: Callable[[int], None],
    what: str,
    summarise: Callable[[Results], None],
) -> None:
    """
    The parent side of a transfer benchmark: in a fresh temporary folder,
    start the server (``start(folder)`` gives its process and port),
    ``prepare(port)`` it (a container to use), write the source file, run
    every round, ``summarise`` the results, then stop the server and remove
    the folder.

    :param what: how the run is introduced: ``"object, moto"`` prints
        ``128 MiB object, moto on port ...``.
    """
    folder = tempfile.mkdtemp(prefix="txcloud-benchmark-")
    server, port = start(folder)
    try:
        source = os.path.join(folder, "source")
        source_md5 = write_random_file(source, arguments.size_mib)
        prepare(port)
        print(f"{arguments.size_mib} MiB {what} on port {port}, {arguments.rounds} rounds")
        summarise(measure_rounds(script, arguments, port, source, source_md5, folder))
    finally:
        stop_process_group(server)
        shutil.rmtree(folder, ignore_errors=True)


def print_medians(results: Results) -> dict[str, dict[str, float]]:
    """Print each tool's median figures (and the reactor's worst lateness); returns them."""
    medians: dict[str, dict[str, Any]] = {
        tool: {key: statistics.median(run[key] for run in runs) for key in _MEASURES}
        for tool, runs in results.items()
    }
    for tool, runs in results.items():
        for key in ("up_late", "down_late"):
            values = [run[key] for run in runs if run.get(key) is not None]
            medians[tool][key] = max(values) if values else None
    print("\nmedians")
    for tool, figures in medians.items():
        intact = all(run["intact"] for run in results[tool])
        print(f"  {tool:17s} {_figures(figures)}  all intact {intact}")
    return medians


def print_targets(
    medians: dict[str, dict[str, Any]], peers: Sequence[str], bare: Sequence[str] = ()
) -> None:
    """
    Print each txcloud row's speed ratios to the faster peer in each
    direction, its CPU per GB against the leanest peer's (target: at most
    half), the reactor's worst lateness (target: 50 ms) and its peak RSS
    (target: 100 MB); for the *bare* rows (not peers: a measure of the
    server), their speed ratios only.
    """
    present = [tool for tool in medians if tool in peers]
    if not present:
        return
    for tool in (tool for tool in medians if tool.startswith("txcloud") or tool in bare):
        print(f"\n{tool}{'' if tool.startswith('txcloud') else ' (bare: no checks)'}")
        for direction in ("up", "down"):
            best = max(present, key=lambda peer: medians[peer][direction])
            ratio = medians[tool][direction] / medians[best][direction]
            print(f"  {direction:4s} speed / {best} = {ratio:.2f}x")
        if not tool.startswith("txcloud"):
            continue
        for direction in ("up_cpu", "down_cpu"):
            leanest = min(present, key=lambda peer: medians[peer][direction])
            ratio = medians[tool][direction] / medians[leanest][direction]
            verdict = "meets" if ratio <= 0.5 else "MISSES"
            print(
                f"  {direction} / {leanest} = {ratio:.2f}x "
                f"({verdict} the <= 0.5x target: {medians[tool][direction]:.2f} vs "
                f"{medians[leanest][direction]:.2f} CPU s/GB)"
            )
        late = max(medians[tool]["up_late"] or 0, medians[tool]["down_late"] or 0)
        print(
            f"  reactor at worst {late:.0f} ms late over every round "
            f"({'meets' if late <= 50 else 'MISSES'} the <= 50 ms target)"
        )
        rss = medians[tool]["rss"]
        print(f"  peak RSS {rss:.1f} MB ({'meets' if rss <= 100 else 'MISSES'} the 100 MB target)")


#: txcloud told to move the object with one request each way, which suits
#: emulators whose multipart completion and ranged GETs copy the whole object.
SINGLE_REQUEST = json.dumps({"ex_multipart_threshold": 2**40, "ex_download_threshold": 2**40})


class LatenessProbe:
    """
    A ``LoopingCall`` every *interval* seconds on the reactor while a phase
    runs (``with probe("upload", phases): ...``), recording in the phases'
    figures how late it ran at worst (``upload_late_ms``): how long the
    reactor was kept from other work.
    """

    def __init__(self, reactor: Any, interval: float = 0.005) -> None:
        self._reactor = reactor
        self._interval = interval

    @contextmanager
    def __call__(self, name: str, phases: Phases) -> Iterator[None]:
        from twisted.internet.task import LoopingCall

        worst = [0.0]
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            worst[0] = max(worst[0], now - last[0] - self._interval)
            last[0] = now

        loop = LoopingCall(tick)
        loop.clock = self._reactor
        loop.start(self._interval, now=False)
        try:
            yield
        finally:
            loop.stop()
            phases.figures[f"{name}_late_ms"] = worst[0] * 1000


def time_txcloud_round_trip(
    make_driver: Callable[[Any], Any],
    container_name: str,
    source: str,
    destination: str,
    name: str,
    *,
    upload_options: dict[str, Any] | None = None,
    download_options: dict[str, Any] | None = None,
) -> dict[str, float]:
    """
    In a child: upload *source* as *name* with the driver ``make_driver(reactor)``
    builds, download it to *destination*, delete it, on the global reactor.

    :param upload_options: keyword arguments of ``upload_object``.
    :param download_options: keyword arguments of ``download_object``.
    :returns: the upload's and the download's :class:`Phases` figures, with
        the reactor's worst lateness in each (:class:`LatenessProbe`).
    """
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    phases = Phases()
    probe = LatenessProbe(reactor)

    async def transfer(reactor: Any) -> None:
        driver = make_driver(reactor)
        try:
            container = await driver.get_container(container_name)
            with phases("upload"), probe("upload", phases):
                obj = await driver.upload_object(source, container, name, **(upload_options or {}))
            with phases("download"), probe("download", phases):
                await driver.download_object(obj, destination, **(download_options or {}))
            # Every round starts from the same (empty) container.
            await driver.delete_object(obj)
        finally:
            await driver.close()

    outcome: list[Any] = []
    done = Deferred.fromCoroutine(transfer(reactor))
    done.addBoth(outcome.append).addBoth(lambda _: reactor.stop())
    reactor.run()
    if "download" not in phases.figures:
        outcome[0].raiseException()
    return phases.figures


def start_server(
    name: str, command: Sequence[str], log_path: str, url: str, *, any_answer: bool = False
) -> subprocess.Popen[bytes]:
    """
    Start a local server in a session of its own and wait (60 s at most)
    until *url* answers 200, or any HTTP status when *any_answer*.

    :raises SystemExit: if it exits or does not answer in time.
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process
        except urllib.error.HTTPError:
            if any_answer:
                return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"{name} exited with {process.returncode}")
        time.sleep(0.1)
    stop_process_group(process)
    sys.exit(f"{name} did not start within 60 s")
