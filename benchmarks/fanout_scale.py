"""
Fan-out at scale: list the nodes of thousands of EC2 drivers (many accounts,
each with its own keys, times regional HTTPS endpoints) whose endpoints
answer DescribeInstances after a fixed delay.

    python benchmarks/fanout_scale.py [--accounts 256] [--endpoints 16]
        [--delay 0.2] [--concurrency 512] [--rounds 3] [--gc-freeze]

One run makes a throwaway CA and a certificate for 127.0.0.1, starts a
Twisted TLS server in its own process listening on ``--endpoints`` ports of
127.0.0.1 (one per "region"), answering each DescribeInstances after a
non-blocking ``callLater`` delay, then measures, each tool in its own child
process:

* txcloud: ``accounts x endpoints`` ``EC2NodeDriver``, each built on its
  own (own keys, ``ex_ca_file`` the throwaway CA, no ``ex_pool``: the
  drivers share the reactor's default pool and TLS contexts), listed with
  ``txcloud.multi.list_nodes`` at ``--concurrency``; every node checked;
* Libcloud: ``accounts`` ``EC2NodeDriver`` (one per account, spread over
  the endpoints) listed from 256 threads;
* a bare Twisted ``Agent``, the floor under any Twisted client: the same
  ``accounts x endpoints`` POSTs over one pool verified with the CA, no
  signing, no parsing (``fanout_ec2.BareAgent``).

Printed per tool: wall time (cold round and best warm round), client CPU
per call (all threads), peak RSS (``VmHWM``); for txcloud also the memory
per idle driver (RSS growth while building them, over their number) and per
in-flight call (peak RSS over the idle drivers' RSS, over the concurrency),
and the ratios to Libcloud.  ``--gc-freeze`` calls ``gc.freeze()`` in the
txcloud child once the drivers are built (a user's choice, see
docs/usage/transport.rst), and ``--gc-threshold N`` sets the collector's
first threshold there, to show what the collector costs; the collector's
time (by ``gc.callbacks``) is printed either way.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from _common import free_port, peak_rss_mib, print_child_figures, react_until_done, run_child
from fanout_ec2 import NODES_PER_ANSWER, bare_agent_rounds, stand_in_site

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
)  # fmt: skip


def key_of(account: int) -> str:
    return f"AKIA{account:016d}"


# The throwaway CA and the server's certificate


def make_certificates(folder: str) -> None:
    """Write ca.pem, server.pem (certificate and key for 127.0.0.1) into *folder*."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "txcloud benchmark CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(folder, "ca.pem"), "wb") as file:
        file.write(ca.public_bytes(pem))
    with open(os.path.join(folder, "server.pem"), "wb") as file:
        file.write(certificate.public_bytes(pem))
        file.write(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )


# The stand-in server (run with --serve in its own process)


def serve(ports: list[int], delay: float, folder: str) -> None:
    """Answer EC2 DescribeInstances over TLS on 127.0.0.1:*ports* until killed."""
    from twisted.internet import reactor as _reactor
    from twisted.internet import ssl

    reactor: Any = _reactor

    with open(os.path.join(folder, "server.pem"), "rb") as file:
        options = ssl.PrivateCertificate.loadPEM(file.read()).options()
    site = stand_in_site(reactor, delay, delay_all=False)
    site.timeOut = None
    for port in ports:
        reactor.listenSSL(port, site, options, backlog=2048, interface="127.0.0.1")
    reactor.run()


# The measured tools (each run with --run in its own process)


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status gives no VmRSS")


class CollectorTime:
    """A ``gc.callbacks`` entry adding up the collector's time and passes, by generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds[info["generation"]] += time.process_time() - self._started
            self.collections[info["generation"]] += 1


async def measure_in_flight(
    reactor: Any, drivers: list[Any], concurrency: int, delay: float
) -> dict[str, float]:
    """
    One more (untimed) round under ``tracemalloc``: the Python heap each
    call holds while it waits for its answer, read half-way through the
    answers' delay, when the first *concurrency* calls are all in flight
    and none has finished; and what the round's results hold per call.
    """
    import tracemalloc

    from twisted.internet.task import deferLater

    from txcloud import multi

    state = {"in_flight": 0, "done": 0}

    def listed(nodes: Any) -> Any:
        state["in_flight"] -= 1
        state["done"] += 1
        return nodes

    def call(driver: Any) -> Any:
        state["in_flight"] += 1
        return driver.list_nodes().addBoth(listed)

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    listing = multi.fan_out(call, drivers, concurrency=concurrency)
    await deferLater(reactor, delay / 2)
    waiting = tracemalloc.get_traced_memory()[0] - base
    in_flight, done = state["in_flight"], state["done"]
    result = await listing
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    if done or in_flight != concurrency or not result.ok:
        raise SystemExit(f"in-flight round: {in_flight} in flight, {done} done, ok={result.ok}")
    return {
        "in_flight_kib": waiting / in_flight / 1024,
        "result_kib": held / len(drivers) / 1024,
    }


def run_txcloud(args: argparse.Namespace, ports: list[int], folder: str) -> dict[str, Any]:
    from twisted.internet.defer import Deferred

    from txcloud import multi
    from txcloud.compute.drivers.ec2 import EC2NodeDriver
    from txcloud.http.shared_pool import close_default_pool

    home = tempfile.mkdtemp(prefix="txcloud-bench-home-")
    environ = {"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"}
    ca_file = os.path.join(folder, "ca.pem")
    figures: dict[str, Any] = {"times": [], "cpu_per_call": []}

    async def measure(reactor: Any) -> None:
        gc.collect()
        before = _rss_mib()
        drivers = [
            EC2NodeDriver(
                key_of(account),
                SECRET,
                region=REGIONS[endpoint % len(REGIONS)],
                host="127.0.0.1",
                port=ports[endpoint],
                ex_ca_file=ca_file,
                ex_environ=environ,
                reactor=reactor,
            )
            for account in range(args.accounts)
            for endpoint in range(len(ports))
        ]
        # Transports are made on first use: make them now, idle.
        for driver in drivers:
            driver.http  # noqa: B018
        gc.collect()
        idle = _rss_mib()
        figures["idle_driver_kib"] = (idle - before) * 1024 / len(drivers)
        if args.gc_freeze:
            gc.freeze()
        if args.gc_threshold:
            gc.set_threshold(args.gc_threshold, *gc.get_threshold()[1:])
        collector = CollectorTime()
        gc.callbacks.append(collector)
        for _ in range(args.rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = await multi.list_nodes(drivers, concurrency=args.concurrency)
            figures["times"].append(time.perf_counter() - started)
            figures["cpu_per_call"].append((time.process_time() - cpu_started) / len(drivers))
            if not result.ok:
                failure = next(iter(result.failures.values()))
                raise SystemExit(f"txcloud: {len(result.failures)} failures: {failure.value!r}")
            bad = [n for n in map(len, result.results.values()) if n != NODES_PER_ANSWER]
            if bad or len(result.results) != len(drivers):
                raise SystemExit(f"txcloud: wrong node counts: {bad[:5]}")
        gc.callbacks.remove(collector)
        figures["gc_seconds"] = collector.seconds
        figures["gc_collections"] = collector.collections
        # The untimed tracemalloc round below would raise the peak.
        figures["peak_rss_mib"] = peak_rss_mib()
        figures["rss_over_idle_kib"] = (figures["peak_rss_mib"] - idle) * 1024 / args.concurrency
        figures.update(await measure_in_flight(reactor, drivers, args.concurrency, args.delay))
        figures["calls"] = len(drivers)
        for driver in drivers:
            await driver.close()
        await close_default_pool(reactor)

    def main(reactor: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(measure(reactor))

    react_until_done(main)
    shutil.rmtree(home, ignore_errors=True)
    return figures


def run_libcloud(args: argparse.Namespace, ports: list[int], folder: str) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    import libcloud.security
    from libcloud.compute.drivers.ec2 import EC2NodeDriver

    libcloud.security.CA_CERTS_PATH = os.path.join(folder, "ca.pem")
    drivers = [
        EC2NodeDriver(
            key_of(account),
            SECRET,
            region=REGIONS[account % len(ports) % len(REGIONS)],
            host="127.0.0.1",
            port=ports[account % len(ports)],
            secure=True,
        )
        for account in range(args.accounts)
    ]
    figures: dict[str, Any] = {"times": [], "cpu_per_call": [], "calls": len(drivers)}
    with ThreadPoolExecutor(max_workers=256) as executor:
        for _ in range(args.rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            listed = list(executor.map(lambda driver: driver.list_nodes(), drivers))
            figures["times"].append(time.perf_counter() - started)
            figures["cpu_per_call"].append((time.process_time() - cpu_started) / len(drivers))
            if any(len(nodes) != NODES_PER_ANSWER for nodes in listed):
                raise SystemExit("libcloud: wrong node counts")
    return figures


def run_agent(args: argparse.Namespace, ports: list[int], folder: str) -> dict[str, Any]:
    """The floor: the same calls from a bare Twisted ``Agent`` (see ``fanout_ec2.BareAgent``)."""
    from twisted.internet import ssl
    from twisted.internet.defer import Deferred
    from twisted.web.client import BrowserLikePolicyForHTTPS

    with open(os.path.join(folder, "ca.pem"), "rb") as file:
        policy = BrowserLikePolicyForHTTPS(trustRoot=ssl.Certificate.loadPEM(file.read()))
    urls = [
        f"https://127.0.0.1:{ports[endpoint]}/".encode()
        for _ in range(args.accounts)
        for endpoint in range(len(ports))
    ]
    figures: dict[str, Any] = {"calls": len(urls)}

    def main(reactor: Any) -> Deferred[None]:
        rounds = bare_agent_rounds(reactor, urls, args.rounds, args.concurrency, 64, policy)
        return Deferred.fromCoroutine(rounds).addCallback(figures.update)

    react_until_done(main)
    return figures


# The conductor


def _wait_for(ports: list[int], process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 15
    for port in ports:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the stand-in server exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the stand-in server did not start") from None
                time.sleep(0.05)


def _cpu_seconds(pid: int) -> float:
    """The CPU seconds (user and system) process *pid* has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def conduct(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="txcloud-bench-tls-")
    make_certificates(folder)
    ports = [free_port() for _ in range(args.endpoints)]
    common = ["--ports", ",".join(map(str, ports)), "--folder", folder]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay", str(args.delay), *common]
    )
    results: dict[str, dict[str, Any]] = {}
    try:
        _wait_for(ports, server)
        for tool in ("txcloud", "libcloud", "agent"):
            command = [
                sys.executable,
                __file__,
                "--run",
                tool,
                "--accounts",
                str(args.accounts),
                "--concurrency",
                str(args.concurrency),
                "--rounds",
                str(args.rounds),
                "--delay",
                str(args.delay),
                *common,
            ]
            if args.gc_freeze:
                command.append("--gc-freeze")
            if args.gc_threshold:
                command += ["--gc-threshold", str(args.gc_threshold)]
            server_cpu = _cpu_seconds(server.pid)
            results[tool] = json.loads(run_child(tool, command).decode().strip().splitlines()[-1])
            results[tool]["server_cpu"] = _cpu_seconds(server.pid) - server_cpu
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    _report(args, results)


def _report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> None:
    ours, theirs = results["txcloud"], results["libcloud"]
    print(
        f"\n{ours['calls']} EC2 drivers ({args.accounts} accounts x {args.endpoints} HTTPS "
        f"endpoints), {args.delay * 1000:.0f} ms per call, concurrency {args.concurrency}, "
        f"{args.rounds} rounds, {os.cpu_count()} CPUs{', gc.freeze()' if args.gc_freeze else ''}"
        f"{f', gc threshold {args.gc_threshold}' if args.gc_threshold else ''}"
    )
    print(
        f"{'tool':<30} {'calls':>6} {'cold s':>8} {'best s':>8} {'cold CPU ms':>11} "
        f"{'CPU ms':>8} {'RSS MiB':>8} {'server CPU ms':>13}"
        "   (CPU ms per call, all threads; CPU ms: median round)"
    )
    floor = results["agent"]
    rows = (
        ("txcloud multi.list_nodes", ours),
        ("Libcloud, 256 threads", theirs),
        ("bare Twisted Agent (floor)", floor),
    )
    for label, figures in rows:
        print(
            f"{label:<30} {figures['calls']:>6} {figures['times'][0]:>8.3f} "
            f"{min(figures['times']):>8.3f} {figures['cpu_per_call'][0] * 1000:>11.3f} "
            f"{statistics.median(figures['cpu_per_call']) * 1000:>8.3f} "
            f"{figures['peak_rss_mib']:>8.1f} "
            f"{figures['server_cpu'] / (figures['calls'] * args.rounds) * 1000:>13.3f}"
        )
    our_cpu = statistics.median(ours["cpu_per_call"]) * 1000
    their_cpu = statistics.median(theirs["cpu_per_call"]) * 1000
    print(
        f"\nmemory at {ours['calls']} targets: {ours['idle_driver_kib']:.2f} KiB per idle "
        f"driver (RSS growth while building them); {ours['in_flight_kib']:.2f} KiB of Python "
        f"heap per in-flight call (tracemalloc, {args.concurrency} calls waiting on pooled "
        f"connections), {ours['result_kib']:.2f} KiB per call's result ({NODES_PER_ANSWER} "
        f"nodes); peak RSS over the idle drivers' {ours['rss_over_idle_kib']:.0f} KiB per "
        "slot of concurrency (connections, TLS buffers, results, allocator slack)"
    )
    gc_seconds, passes = ours["gc_seconds"], ours["gc_collections"]
    print(
        f"txcloud's garbage collector: {sum(gc_seconds):.2f} CPU s over {args.rounds} rounds "
        f"({sum(gc_seconds) / (ours['calls'] * args.rounds) * 1000:.3f} ms per call); "
        f"passes by generation {passes}, CPU s {[round(t, 2) for t in gc_seconds]}"
    )
    floor_cpu = statistics.median(floor["cpu_per_call"]) * 1000
    print(
        f"CPU per call: Libcloud / txcloud = {their_cpu / our_cpu:.2f}x; txcloud / bare "
        f"Agent = {our_cpu / floor_cpu:.2f}x (the Agent signs, parses and collects nothing)"
    )
    best, rss = min(ours["times"]), ours["peak_rss_mib"]

    def verdict(met: bool) -> str:
        return "meets" if met else "MISSES"

    print(
        f"targets: CPU {our_cpu:.3f} ms per call {verdict(our_cpu <= 1.0)} <= 1.0 ms; "
        f"wall {best:.2f} s (cold {ours['times'][0]:.2f} s) {verdict(best <= 4.0)} <= 4 s; "
        f"peak RSS {rss:.0f} MiB {verdict(rss <= 200)} <= 200 MB; every node returned"
    )


RUNNERS = {"txcloud": run_txcloud, "libcloud": run_libcloud, "agent": run_agent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=256)
    parser.add_argument("--endpoints", type=int, default=16, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in txcloud's child")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="the collector's first threshold in txcloud's child",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve([int(p) for p in args.ports.split(",")], args.delay, args.folder)
        return
    if args.run:
        ports = [int(p) for p in args.ports.split(",")]
        print_child_figures(RUNNERS[args.run](args, ports, args.folder))
        return
    conduct(args)


if __name__ == "__main__":
    main()
