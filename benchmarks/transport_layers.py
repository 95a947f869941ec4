"""
Where a call's CPU goes: the same EC2 DescribeInstances answered by the
stand-in of ``fanout_ec2.py`` (after ``--delay``), sent ``--calls`` at a
time through each layer of txcloud in turn, from a bare Twisted ``Agent``
up to ``multi.list_nodes``.

    python benchmarks/transport_layers.py [--calls 256] [--rounds 8]

Each layer adds one thing to the one above it:

1. bare Twisted ``Agent``: a POST, the body read whole (the floor);
2. ``HTTPTransport.send`` straight to its agent (``decode_content=False``):
   txcloud's ``Request``/``Response``, timeout and retry bookkeeping;
3. the same through treq's ``HTTPClient`` (every request by default: gzip
   decoding, treq's per-request agents);
4. ``Response.xml()``: the hardened lxml parse;
5. the EC2 driver's ``_call``: the form body and SigV4 signature;
6. ``list_nodes``: pages and ``Node`` parsing (two instances per answer);
7. the same through ``multi.list_nodes`` (which adds nothing but the
   lambda: a check that the harness measures what users run).

Layers 2 to 6 run under ``multi.fan_out``, as 7 does; layer 1 under a
``DeferredSemaphore``, as a plain Twisted program would.

Printed per layer: median client CPU per call over the rounds (the first
round, which opens the connections, is left out), the garbage collector's
share of it (``gc.callbacks``), the CPU without it, and what the layer adds
to the one above without it.  The collector's passes fall in whichever
layer happens to trip them, so compare the layers without it; what the
collector costs in all is ``fanout_scale.py``'s to measure.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import free_port, react_until_done
from fanout_ec2 import (
    DESCRIBE_INSTANCES_FORM,
    FORM,
    NODES_PER_ANSWER,
    BareAgent,
    _wait_for,
    stand_in_drivers,
)
from fanout_scale import CollectorTime


def _all_answered(result: Any) -> None:
    if not result.ok:
        raise SystemExit(f"failures: {list(result.failures.values())[:1]}")


LAYERS = (
    "bare Twisted Agent",
    "HTTPTransport, agent only",
    "HTTPTransport through treq",
    "+ Response.xml()",
    "+ EC2 _call (form, SigV4)",
    "+ list_nodes (Node parsing)",
    "list_nodes, as multi.list_nodes",
)


async def measure(reactor: Any, port: int, calls: int, rounds: int) -> dict[str, Any]:
    from twisted.internet.defer import Deferred

    from txcloud import multi
    from txcloud.http import HTTPTransport, Request

    url = f"http://127.0.0.1:{port}/"
    pool, drivers = stand_in_drivers(reactor, port, calls)
    transport = HTTPTransport(reactor=reactor, pool=pool)
    bare = BareAgent(reactor, calls)

    def request(decode: bool) -> Request:
        return Request(
            "POST",
            url,
            headers={"Content-Type": FORM.decode()},
            body=DESCRIBE_INSTANCES_FORM,
            idempotent=True,
            decode_content=decode,
        )

    direct, through_treq = request(False), request(True)

    async def content(sent: Request) -> None:
        body = await (await transport.send(sent)).content()
        if body.count(b"<instanceId>") != NODES_PER_ANSWER:
            raise SystemExit("wrong answer")

    async def xml(_: Any) -> None:
        await (await transport.send(through_treq)).xml()

    async def call(driver: Any) -> None:
        await driver._call("DescribeInstances", {}, idempotent=True)

    async def nodes(driver: Any) -> None:
        if len(await driver.list_nodes()) != NODES_PER_ANSWER:
            raise SystemExit("wrong node count")

    def each(step: Callable[[Any], Awaitable[None]]) -> Callable[[], Deferred[Any]]:
        # Every layer is driven by the same fan-out, so the layers differ
        # only in what each call does.
        def run() -> Deferred[Any]:
            return multi.fan_out(step, drivers, concurrency=calls).addCallback(_all_answered)

        return run

    steps: list[Callable[[], Any]] = [
        lambda: bare.round([url.encode()] * calls, calls),
        each(lambda _: content(direct)),
        each(lambda _: content(through_treq)),
        each(xml),
        each(call),
        each(nodes),
        lambda: multi.list_nodes(drivers, concurrency=calls).addCallback(_all_answered),
    ]
    figures: dict[str, Any] = {}
    collector = CollectorTime()
    gc.callbacks.append(collector)
    for layer, step in zip(LAYERS, steps, strict=True):
        cpu, collected = [], []
        for round_number in range(rounds + 1):
            gc_before = sum(collector.seconds)
            started = time.process_time()
            await step()
            if round_number:  # the first round opens connections
                cpu.append((time.process_time() - started) / calls)
                collected.append((sum(collector.seconds) - gc_before) / calls)
        figures[layer] = (statistics.median(cpu), statistics.median(collected))
    gc.callbacks.remove(collector)
    for driver in drivers:
        await driver.close()
    await transport.close()
    await pool.closeCachedConnections()
    await bare.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=256, help="calls in flight at once")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    args = parser.parse_args()

    import fanout_ec2
    from twisted.internet.defer import Deferred

    port = free_port()
    serve = ["--serve", "--port", str(port), "--delay", str(args.delay)]
    server = subprocess.Popen([sys.executable, fanout_ec2.__file__, *serve])
    figures: dict[str, Any] = {}
    try:
        _wait_for(port, server)
        react_until_done(
            lambda reactor: Deferred.fromCoroutine(
                measure(reactor, port, args.calls, args.rounds)
            ).addCallback(figures.update)
        )
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"\n{args.calls} calls in flight, answers after {args.delay * 1000:.0f} ms, "
        f"median of {args.rounds} warm rounds; CPU ms per call"
    )
    print(f"{'layer':<32} {'CPU':>7} {'of it GC':>9} {'without':>8} {'added':>7}")
    previous = None
    for layer in LAYERS:
        cpu, collected = figures[layer]
        own = cpu - collected
        added = "" if previous is None else f"{(own - previous) * 1000:+7.3f}"
        figures_ms = f"{cpu * 1000:>7.3f} {collected * 1000:>9.3f} {own * 1000:>8.3f}"
        print(f"{layer:<32} {figures_ms} {added:>7}")
        previous = own


if __name__ == "__main__":
    main()
