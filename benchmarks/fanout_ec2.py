"""
Fan-out benchmark: list the nodes of many EC2 drivers whose endpoint answers
DescribeInstances after a fixed delay.

    python benchmarks/fanout_ec2.py [--drivers 256] [--delay 0.2] [--rounds 3]

One run starts a local EC2 stand-in (a twisted.web server in its own
process on 127.0.0.1, answering after a non-blocking ``callLater`` delay),
then measures, each tool in its own subprocess so peak RSS figures do not
mix:

* txcloud: ``txcloud.multi.list_nodes`` over N ``EC2NodeDriver`` (made by
  ``drivers_for_regions``, sharing one connection pool), concurrency N;
* Libcloud's ``EC2NodeDriver.list_nodes`` from a ``ThreadPoolExecutor`` of
  32 and of N threads, one Libcloud driver per call;
* Libcloud in sequence: ``--sequence-calls`` calls, timed and scaled to N
  (say ``--sequence-calls N`` to run them all);
* a bare Twisted ``Agent`` (the floor under txcloud): the same POSTs with
  no signing and no parsing (the body is read and its nodes counted), one
  persistent pool, concurrency N: what any Twisted client pays per call.

Round 1 of each tool starts from cold (new connections, new threads); later
rounds reuse them.  Libcloud's ``list_nodes`` also sends DescribeAddresses
(to add Elastic IPs); the stand-in answers that at once, so Libcloud pays
one delay per call like txcloud (``--delay-all`` delays it too).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import free_port, print_child_figures, react_until_done, run_child

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
NODES_PER_ANSWER = 2


def _instance(number: int) -> str:
    return (
        f"<item><instanceId>i-0000000000000000{number}</instanceId>"
        "<imageId>ami-0abcdef1234567890</imageId>"
        "<instanceState><code>16</code><name>running</name></instanceState>"
        f"<privateDnsName>ip-10-0-0-{number}.ec2.internal</privateDnsName><dnsName/>"
        "<reason/><keyName>deploy</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/>"
        "<instanceType>t3.micro</instanceType><launchTime>2024-03-05T10:15:30.000Z</launchTime>"
        "<placement><availabilityZone>us-east-1a</availabilityZone><groupName/>"
        "<tenancy>default</tenancy></placement><monitoring><state>disabled</state></monitoring>"
        "<subnetId>subnet-0f1e2d3c</subnetId><vpcId>vpc-0a0b0c0d</vpcId>"
        f"<privateIpAddress>10.0.0.{number}</privateIpAddress>"
        f"<ipAddress>203.0.113.{number}</ipAddress><sourceDestCheck>true</sourceDestCheck>"
        "<groupSet><item><groupId>sg-0a1b2c3d</groupId><groupName>web</groupName></item>"
        "</groupSet><architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>"
        "<rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping><item>"
        "<deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0123</volumeId>"
        "<status>attached</status><attachTime>2024-03-05T10:15:31.000Z</attachTime>"
        "<deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>"
        "<virtualizationType>hvm</virtualizationType><clientToken/>"
        f"<tagSet><item><key>Name</key><value>web-{number}</value></item></tagSet>"
        "<hypervisor>xen</hypervisor><networkInterfaceSet/><ebsOptimized>false</ebsOptimized>"
        "</item>"
    )


DESCRIBE_INSTANCES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="{NAMESPACE}">'
    "<requestId>8f7724cf-496f-496e-8fe3-example</requestId><reservationSet><item>"
    "<reservationId>r-0a1b2c3d4e5f</reservationId><ownerId>123456789012</ownerId><groupSet/>"
    f"<instancesSet>{''.join(_instance(n) for n in range(1, NODES_PER_ANSWER + 1))}"
    "</instancesSet></item></reservationSet></DescribeInstancesResponse>"
).encode()

DESCRIBE_ADDRESSES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeAddressesResponse xmlns="{NAMESPACE}">'
    "<requestId>f7de5e98-491a-4c19-a92d-example</requestId><addressesSet/>"
    "</DescribeAddressesResponse>"
).encode()


INVALID_ACTION = b"<Response><Errors><Error><Code>InvalidAction</Code></Error></Errors></Response>"


# The stand-in server (run with --serve in its own process)


def stand_in_site(reactor: Any, delay: float, delay_all: bool) -> Any:
    """
    The twisted.web site of the EC2 stand-in: DescribeInstances answered
    after *delay* seconds (a non-blocking ``callLater``), DescribeAddresses
    at once unless *delay_all*.
    """
    from twisted.web.resource import Resource
    from twisted.web.server import NOT_DONE_YET, Site

    class EC2StandIn(Resource):
        isLeaf = True

        def render(self, request: Any) -> Any:
            # Query string (Libcloud's GETs) or form body (txcloud's POSTs).
            action = (request.args.get(b"Action") or [b""])[0]
            if action == b"DescribeInstances":
                body = DESCRIBE_INSTANCES
            elif action == b"DescribeAddresses":
                body = DESCRIBE_ADDRESSES
            else:
                request.setResponseCode(400)
                return INVALID_ACTION
            request.setHeader(b"Content-Type", b"text/xml;charset=UTF-8")
            if action != b"DescribeInstances" and not delay_all:
                return body
            finished: list[bool] = []
            request.notifyFinish().addBoth(finished.append)

            def answer() -> None:
                if not finished:
                    request.write(body)
                    request.finish()

            reactor.callLater(delay, answer)
            return NOT_DONE_YET

    class QuietSite(Site):
        def log(self, request: Any) -> None:
            pass

    return QuietSite(EC2StandIn())


def serve(port: int, delay: float, delay_all: bool) -> None:
    """Answer EC2 Query API calls on 127.0.0.1:*port* until killed."""
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    # A deep backlog: 256 clients connect at once.
    reactor.listenTCP(
        port, stand_in_site(reactor, delay, delay_all), backlog=2048, interface="127.0.0.1"
    )
    reactor.run()


# The measured tools (each run with --run in its own process)


def _check(nodes_per_target: list[int]) -> None:
    bad = [count for count in nodes_per_target if count != NODES_PER_ANSWER]
    if bad:
        raise SystemExit(f"{len(bad)} targets listed the wrong number of nodes: {bad[:5]}")


def stand_in_drivers(reactor: Any, port: int, count: int) -> tuple[Any, list[Any]]:
    """
    *count* ``EC2NodeDriver`` (regions in turn) of the stand-in on *port*,
    over a pool of their own that keeps a connection for each of them
    between rounds (they all talk to one host here).

    :returns: the pool (the caller closes it) and the drivers.
    """
    from twisted.web.client import HTTPConnectionPool

    from txcloud.common.aws import AWS_REGIONS
    from txcloud.compute.drivers.ec2 import drivers_for_regions

    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = count
    drivers = drivers_for_regions(
        KEY,
        SECRET,
        regions=[AWS_REGIONS[n % len(AWS_REGIONS)] for n in range(count)],
        host="127.0.0.1",
        port=port,
        secure=False,
        ex_pool=pool,
        reactor=reactor,
    )
    return pool, drivers


def run_txcloud(port: int, drivers: int, rounds: int) -> dict[str, Any]:
    from twisted.internet import reactor as _reactor
    from twisted.internet.defer import Deferred

    from txcloud import multi

    times: list[float] = []
    cpu: list[float] = []

    async def measure() -> None:
        pool, targets = stand_in_drivers(_reactor, port, drivers)
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = await multi.list_nodes(targets, concurrency=drivers)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            if not result.ok:
                failure = next(iter(result.failures.values()))
                raise SystemExit(f"txcloud: {len(result.failures)} failures: {failure.value!r}")
            _check([len(nodes) for nodes in result.results.values()])
        for target in targets:
            await target.close()
        await pool.closeCachedConnections()

    def main(_: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(measure())

    react_until_done(main)
    return {"times": times, "cpu_per_call": _per_call(cpu, drivers)}


FORM = b"application/x-www-form-urlencoded; charset=utf-8"
DESCRIBE_INSTANCES_FORM = b"Action=DescribeInstances&Version=2016-11-15"


def _form_producer_class() -> Any:
    """The ``IBodyProducer`` class of the DescribeInstances form (made once)."""
    from twisted.internet.defer import succeed
    from twisted.web.iweb import IBodyProducer
    from zope.interface import implementer

    @implementer(IBodyProducer)
    class Form:
        length = len(DESCRIBE_INSTANCES_FORM)

        def startProducing(self, consumer: Any) -> Any:
            consumer.write(DESCRIBE_INSTANCES_FORM)
            return succeed(None)

        def pauseProducing(self) -> None:
            pass

        def resumeProducing(self) -> None:
            pass

        def stopProducing(self) -> None:
            pass

    return Form


class BareAgent:
    """
    The floor under any Twisted client: DescribeInstances POSTed with a
    plain ``twisted.web.client.Agent`` over one persistent pool, each body
    read whole and its instances counted; no signing, no parsing.

    :param max_per_host: idle connections the pool keeps per host.
    :param tls_policy: the agent's ``IPolicyForHTTPS`` for https URLs.
    """

    def __init__(self, reactor: Any, max_per_host: int, tls_policy: Any = None) -> None:
        from twisted.web.client import Agent, HTTPConnectionPool
        from twisted.web.http_headers import Headers

        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = max_per_host
        self._agent = (
            Agent(reactor, pool=self._pool)
            if tls_policy is None
            else Agent(reactor, contextFactory=tls_policy, pool=self._pool)
        )
        self._headers = Headers({b"Content-Type": [FORM]})
        self._form = _form_producer_class()

    async def _one(self, url: bytes) -> None:
        from twisted.web.client import readBody

        response = await self._agent.request(b"POST", url, self._headers, self._form())
        body = await readBody(response)
        if response.code != 200 or body.count(b"<instanceId>") != NODES_PER_ANSWER:
            raise SystemExit(f"bare agent: status {response.code}")

    def round(self, urls: list[bytes], concurrency: int) -> Any:
        """Send to every URL, *concurrency* at a time; a Deferred of the end."""
        from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults

        semaphore = DeferredSemaphore(concurrency)
        return gatherResults(
            [semaphore.run(lambda url=url: Deferred.fromCoroutine(self._one(url))) for url in urls]
        )

    def close(self) -> Any:
        """Close the pool's connections; a Deferred of the end."""
        return self._pool.closeCachedConnections()


async def bare_agent_rounds(
    reactor: Any,
    urls: list[bytes],
    rounds: int,
    concurrency: int,
    max_per_host: int,
    tls_policy: Any = None,
) -> dict[str, list[float]]:
    """*rounds* of :meth:`BareAgent.round`, timed: ``{"times", "cpu_per_call"}``."""
    agent = BareAgent(reactor, max_per_host, tls_policy)
    figures: dict[str, list[float]] = {"times": [], "cpu_per_call": []}
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        await agent.round(urls, concurrency)
        figures["times"].append(time.perf_counter() - started)
        figures["cpu_per_call"].append((time.process_time() - cpu_started) / len(urls))
    await agent.close()
    return figures


def run_bare_agent(port: int, drivers: int, rounds: int) -> dict[str, Any]:

    figures: dict[str, Any] = {}

    def main(reactor: Any) -> Any:
        from twisted.internet.defer import Deferred

        urls = [f"http://127.0.0.1:{port}/".encode()] * drivers
        rounds_run = bare_agent_rounds(reactor, urls, rounds, drivers, drivers)
        return Deferred.fromCoroutine(rounds_run).addCallback(figures.update)

    react_until_done(main)
    return figures


def _per_call(cpu: list[float], calls: int) -> list[float]:
    # CPU seconds of every thread of the process, per call, each round.
    return [seconds / calls for seconds in cpu]


def _libcloud_drivers(port: int, count: int) -> list[Any]:
    from libcloud.compute.drivers.ec2 import EC2NodeDriver

    regions = sorted(EC2NodeDriver.list_regions())
    return [
        EC2NodeDriver(
            KEY,
            SECRET,
            region=regions[n % len(regions)],
            host="127.0.0.1",
            port=port,
            secure=False,
        )
        for n in range(count)
    ]


def run_libcloud_threads(port: int, drivers: int, rounds: int, threads: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    targets = _libcloud_drivers(port, drivers)
    times: list[float] = []
    cpu: list[float] = []
    with ThreadPoolExecutor(max_workers=threads) as executor:
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            listed = list(executor.map(lambda driver: driver.list_nodes(), targets))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            _check([len(nodes) for nodes in listed])
    return {"times": times, "cpu_per_call": _per_call(cpu, drivers)}


def run_libcloud_sequence(port: int, drivers: int, rounds: int, calls: int) -> dict[str, Any]:
    targets = _libcloud_drivers(port, calls)
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        listed = [driver.list_nodes() for driver in targets]
        # Scale the calls made to the whole fleet of drivers.
        times.append((time.perf_counter() - started) * drivers / calls)
        cpu.append(time.process_time() - cpu_started)
        _check([len(nodes) for nodes in listed])
    return {"times": times, "cpu_per_call": _per_call(cpu, calls), "measured_calls": calls}


# The conductor


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the stand-in server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the stand-in server did not start")


def _measure(tool: str, args: argparse.Namespace, port: int) -> dict[str, Any]:
    """Run one tool in a child process; its figures include its own peak RSS (MiB)."""
    command = [
        sys.executable,
        __file__,
        "--run",
        tool,
        "--port",
        str(port),
        "--drivers",
        str(args.drivers),
        "--rounds",
        str(args.rounds),
        "--sequence-calls",
        str(args.sequence_calls),
    ]
    figures: dict[str, Any] = json.loads(run_child(tool, command))
    return figures


TOOLS: dict[str, str] = {
    "txcloud": "txcloud multi.list_nodes",
    "libcloud-32": "Libcloud, 32 threads",
    "libcloud-n": "Libcloud, N threads",
    "libcloud-sequence": "Libcloud in sequence",
    "twisted-agent": "bare Twisted Agent (floor)",
}


def _row(label: str, figures: dict[str, Any], note: str = "") -> str:
    times = figures["times"]
    cpu_ms = statistics.median(figures["cpu_per_call"]) * 1000
    return (
        f"{label:<28} {times[0]:>8.3f} {min(times):>8.3f} {statistics.median(times):>8.3f}"
        f" {cpu_ms:>8.2f} {figures['peak_rss_mib']:>8.1f}  {note}"
    )


def _verdict(met: bool) -> str:
    return "meets" if met else "BELOW"


def conduct(args: argparse.Namespace) -> None:
    port = free_port()
    server_command = [
        sys.executable,
        __file__,
        "--serve",
        "--port",
        str(port),
        "--delay",
        str(args.delay),
    ]
    if args.delay_all:
        server_command.append("--delay-all")
    server = subprocess.Popen(server_command)
    try:
        _wait_for(port, server)
        results = {tool: _measure(tool, args, port) for tool in TOOLS}
    finally:
        server.terminate()
        server.wait(10)

    n = args.drivers
    print(
        f"\n{n} EC2 drivers, DescribeInstances answered after {args.delay * 1000:.0f} ms "
        f"({NODES_PER_ANSWER} nodes each), {args.rounds} rounds, {os.cpu_count()} CPUs"
    )
    print(
        f"{'tool':<28} {'cold s':>8} {'best s':>8} {'median s':>8} {'CPU ms':>8} {'RSS MiB':>8}"
        "  (CPU ms: per call, all threads, median round)"
    )
    for tool, label in TOOLS.items():
        figures = results[tool]
        note = ""
        if tool == "libcloud-sequence":
            calls = figures["measured_calls"]
            note = f"(timed {calls} calls, scaled to {n})" if calls != n else ""
        label = label.replace("N threads", f"{n} threads")
        print(_row(label, figures, note))

    ours = results["txcloud"]["times"]
    our_cpu = statistics.median(results["txcloud"]["cpu_per_call"])
    print("\nratios (Libcloud / txcloud):")
    for tool in ("libcloud-32", "libcloud-n", "libcloud-sequence"):
        theirs = results[tool]["times"]
        their_cpu = statistics.median(results[tool]["cpu_per_call"])
        label = TOOLS[tool].replace("N threads", f"{n} threads")
        print(
            f"  {label:<26} cold {theirs[0] / ours[0]:6.2f}x   best {min(theirs) / min(ours):6.2f}x"
            f"   CPU per call {their_cpu / our_cpu:5.2f}x"
        )
    floor = results["twisted-agent"]
    print(
        f"  txcloud over the bare Agent: best {min(ours) / min(floor['times']):.2f}x the time, "
        f"{our_cpu / statistics.median(floor['cpu_per_call']):.2f}x the CPU per call"
    )
    best_pool = min(min(results["libcloud-32"]["times"]), min(results["libcloud-n"]["times"]))
    pool_ratio = best_pool / min(ours)
    sequence_ratio = min(results["libcloud-sequence"]["times"]) / min(ours)
    print(
        f"\ntxcloud best {min(ours):.3f} s (cold {ours[0]:.3f} s): "
        f"{_verdict(min(ours) <= 0.35)} <= 0.35 s; "
        f"{pool_ratio:.2f}x the best Libcloud pool ({best_pool:.3f} s), "
        f"{_verdict(pool_ratio >= 3)} >= 3x; "
        f"{sequence_ratio:.1f}x Libcloud in sequence, {_verdict(sequence_ratio >= 20)} >= 20x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drivers", type=int, default=256, help="drivers to list (N)")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--rounds", type=int, default=3, help="fan-outs per tool")
    parser.add_argument(
        "--sequence-calls", type=int, default=16, help="Libcloud calls timed in sequence"
    )
    parser.add_argument("--delay-all", action="store_true", help="delay DescribeAddresses as well")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", choices=sorted(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.delay, args.delay_all)
        return
    if args.run:
        runners: dict[str, Callable[[], dict[str, Any]]] = {
            "txcloud": lambda: run_txcloud(args.port, args.drivers, args.rounds),
            "libcloud-32": lambda: run_libcloud_threads(args.port, args.drivers, args.rounds, 32),
            "libcloud-n": lambda: run_libcloud_threads(
                args.port, args.drivers, args.rounds, args.drivers
            ),
            "libcloud-sequence": lambda: run_libcloud_sequence(
                args.port, args.drivers, args.rounds, min(args.sequence_calls, args.drivers)
            ),
            "twisted-agent": lambda: run_bare_agent(args.port, args.drivers, args.rounds),
        }
        print_child_figures(runners[args.run]())
        return
    conduct(args)


if __name__ == "__main__":
    main()
