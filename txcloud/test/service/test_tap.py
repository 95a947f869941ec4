"""Tests of txcloud.service.tap and the ``twistd txcloud`` plugin, in memory and for real."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from treq.client import HTTPClient
from treq.testing import StubTreq
from twisted.internet import reactor as _global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import capturedLogs, formatEvent
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgent

from txcloud.config import EMBEDDED_DEFAULTS, parse_config
from txcloud.service.tap import Options, make_service
from txcloud.test.cli.helpers import SOURCE_ROOT, child_environment, run_python
from txcloud.test.service.helpers import SECRET, dummy_config

_T = TypeVar("_T")

# Any: mypy sees the reactor's interface methods without their self argument.
reactor: Any = _global_reactor

TOKEN = "service-t0ken-never-logged"

# twistd's module has no "__main__" guard, so "python -m" cannot run it.
TWISTD = "from twisted.scripts.twistd import run; run()"

# Twisted's plugin scan writes its cache beside the plugin.
DROPIN_CACHE = os.path.join(SOURCE_ROOT, "twisted", "plugins", "dropin.cache")


class OptionsTests(SynchronousTestCase):
    def setUp(self) -> None:
        home = os.path.abspath(self.mktemp())
        self.environ = {
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_DATA_HOME": os.path.join(home, "data"),
        }
        self.patch(os, "environ", self.environ)
        self.path = os.path.join(home, "service.toml")
        os.makedirs(home)
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(
                f'[[compute]]\nname = "mine"\nprovider = "dummy"\n[service]\ntoken = "{TOKEN}"\n'
            )

    def parse(self, *arguments: str) -> Options:
        options = Options()
        options.parseOptions(list(arguments))
        return options

    def test_defaults(self) -> None:
        options = self.parse()
        self.assertEqual(
            (options["listen"], options["interval"]), ("tcp:8080:interface=127.0.0.1", 60.0)
        )

    def test_without_config_the_embedded_defaults_are_served(self) -> None:
        self.assertEqual(self.parse().loaded_config.source, EMBEDDED_DEFAULTS)

    def test_config_is_loaded(self) -> None:
        config = self.parse("--config", self.path).loaded_config
        self.assertEqual(
            ([t.name for t in config.targets], config.service.token), (["mine"], TOKEN)
        )

    def test_listen_and_interval(self) -> None:
        options = self.parse("--listen", "tcp:0", "--interval", "2.5")
        self.assertEqual((options["listen"], options["interval"]), ("tcp:0", 2.5))

    def test_interval_must_be_a_positive_number(self) -> None:
        for interval in ("0", "-1", "soon", "nan", "inf"):
            error = self.assertRaises(usage.UsageError, self.parse, "--interval", interval)
            self.assertIn(interval, str(error))

    def test_invalid_endpoint_is_a_usage_error(self) -> None:
        error = self.assertRaises(usage.UsageError, self.parse, "--listen", "carrier-pigeon:1")
        self.assertEqual(
            str(error), "--listen 'carrier-pigeon:1': Unknown endpoint type: 'carrier-pigeon'"
        )

    def test_missing_config_file_is_a_usage_error(self) -> None:
        missing = self.path + ".missing"
        error = self.assertRaises(usage.UsageError, self.parse, "--config", missing)
        self.assertEqual(str(error), f"{missing}: no such file")


class MakeServiceTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()

    def start(self, listen: str, config: Any = None) -> Any:
        service = make_service(config or dummy_config("a", "b"), listen, 10.0, self.reactor)
        with capturedLogs() as self.events:
            service.startService()
        return service

    def test_listens_on_the_endpoint_and_says_where(self) -> None:
        self.start("tcp:8123:interface=127.0.0.1")
        [(port, _, _, interface)] = self.reactor.tcpServers
        self.assertEqual((port, interface), (8123, "127.0.0.1"))
        # MemoryReactor reports IPv4 ports as listening on every interface.
        self.assertIn(
            "txcloud inventory listening on 0.0.0.0:8123", [formatEvent(e) for e in self.events]
        )

    def test_ipv6_address_is_bracketed(self) -> None:
        self.start(r"tcp6:8123:interface=\:\:1")
        self.assertIn(
            "txcloud inventory listening on [::1]:8123", [formatEvent(e) for e in self.events]
        )

    def test_site_serves_the_refreshed_inventory(self) -> None:
        self.start("tcp:8123")
        site = self.reactor.tcpServers[0][1]
        stub: Any = StubTreq(site.resource)
        d = stub.get("http://inventory.test/inventory")
        stub.flush()
        body = stub.json_content(self.successResultOf(d))
        stub.flush()
        document = self.successResultOf(body)
        self.assertEqual(
            [(t["label"], len(t["items"])) for t in document["targets"]], [("a", 2), ("b", 2)]
        )

    def test_configured_token_protects_the_api(self) -> None:
        config = parse_config(
            f'[[compute]]\nname = "a"\nprovider = "dummy"\n[service]\ntoken = "{TOKEN}"\n',
            environ={},
        )
        self.start("tcp:8123", config)
        stub: Any = StubTreq(self.reactor.tcpServers[0][1].resource)
        without = stub.get("http://inventory.test/nodes")
        with_token = stub.get(
            "http://inventory.test/nodes", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        stub.flush()
        self.assertEqual(
            (self.successResultOf(without).code, self.successResultOf(with_token).code),
            (401, 200),
        )

    def test_stopping_stops_listening_and_leaves_no_delayed_calls(self) -> None:
        service = self.start("tcp:8123")
        self.assertNotEqual(self.reactor.getDelayedCalls(), [])
        stopped: Deferred[Any] = service.stopService()
        self.successResultOf(stopped)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertFalse(service.running)


class TwistdProcess(ProcessProtocol):
    """A twistd child process: its output so far, and when it ended."""

    def __init__(self) -> None:
        self.output = b""
        self.ended: Deferred[None] = Deferred()
        self.running = False
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        self.running = True

    def outReceived(self, data: bytes) -> None:
        self.output += data

    def errReceived(self, data: bytes) -> None:
        self.output += data

    def processEnded(self, reason: Failure) -> None:
        self.running = False
        self.reason = reason
        self.ended.callback(None)

    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


class PluginProcessTests(TestCase):
    """``twistd txcloud`` run as operators run it, in a child process."""

    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(os.path.join(self.home, "data", "bucket"))
        # Only a cache: Twisted writes it again when it next looks for plugins.
        self.addCleanup(_remove, DROPIN_CACHE)
        self.environ = child_environment(self.home, TXCLOUD_SERVICE_TOKEN=TOKEN)
        self.config = os.path.join(self.home, "demo.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(
                f"""
                [[compute]]
                name = "demo"
                provider = "dummy"
                regions = ["eu-1", "us-1"]
                secret = "{SECRET}"

                [[storage]]
                name = "files"
                provider = "local"
                key = "{os.path.join(self.home, "data")}"

                [service]
                token_env = "TXCLOUD_SERVICE_TOKEN"
                """.replace("\n                ", "\n")
            )

    async def test_help_shows_the_options(self) -> None:
        out, err, code = await run_python(
            ["-c", TWISTD, "txcloud", "--help"], self.environ, self.home
        )
        self.assertEqual((code, err), (0, ""))
        self.assertIn("twistd [options] txcloud [--config PATH]", out)
        for option in ("--config=", "--listen=", "--interval="):
            self.assertIn(option, out)
        self.assertIn("tcp:8080:interface=127.0.0.1", out)

    async def test_bad_option_stops_twistd_with_the_reason(self) -> None:
        out, _, code = await run_python(
            ["-c", TWISTD, "-n", "--pidfile=", "txcloud", "--interval", "0"],
            self.environ,
            self.home,
        )
        self.assertEqual(code, 1)
        self.assertIn("'0' is not a positive number of seconds", out)

    async def test_serves_the_inventory_until_terminated(self) -> None:
        process = TwistdProcess()
        transport = reactor.spawnProcess(
            process,
            sys.executable,
            [
                sys.executable,
                "-c",
                TWISTD,
                "-n",
                "--pidfile=",
                "--logfile=-",
                "txcloud",
                "--config",
                self.config,
                "--listen",
                "tcp:0:interface=127.0.0.1",
            ],
            env=self.environ,
            path=self.home,
        )
        self.addCleanup(self._kill, process, transport)
        pool = HTTPConnectionPool(reactor)
        self.addCleanup(pool.closeCachedConnections)
        http: Any = HTTPClient(cast(IAgent, Agent(reactor, pool=pool)))

        async def listening() -> str | None:
            found = re.search(r"txcloud inventory listening on (127\.0\.0\.1:\d+)", process.text())
            return None if found is None else f"http://{found.group(1)}"

        url = await self._eventually(process, listening)

        async def healthy() -> Any:
            response = await http.get(url + "/health", timeout=5)
            document = await response.json()
            return document if response.code == 200 else None

        self.assertEqual(await self._eventually(process, healthy), {"status": "ok", "stale": []})
        response = await http.get(
            url + "/inventory", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        document = json.loads(await response.content())
        self.assertEqual(response.code, 200)
        self.assertEqual(
            [(t["label"], len(t["items"]), t["stale"]) for t in document["targets"]],
            [("demo@eu-1", 2, False), ("demo@us-1", 2, False), ("files", 1, False)],
        )
        self.assertEqual(document["targets"][2]["items"], [{"name": "bucket"}])
        refused = await http.get(url + "/inventory", timeout=5)
        self.assertEqual(refused.code, 401)
        await refused.content()

        transport.signalProcess("TERM")
        await process.ended
        # twistd cleans up, then ends by the signal it received.
        assert process.reason is not None
        ended = process.reason.value
        assert isinstance(ended, ProcessTerminated), ended
        self.assertEqual(ended.signal, signal.SIGTERM)
        output = process.text()
        self.assertIn("Refreshed demo@eu-1: items: 2", output)
        self.assertIn('"GET /inventory HTTP/1.1" 401', output)
        self.assertIn("Main loop terminated.", output)
        self.assertNotIn(TOKEN, output)
        self.assertNotIn(SECRET, output)

    async def _eventually(
        self, process: TwistdProcess, check: Callable[[], Awaitable[_T | None]]
    ) -> _T:
        """What *check* gives once it is not ``None``, trying for 15 seconds."""
        deadline = reactor.seconds() + 15
        while True:
            if not process.running:
                self.fail(f"twistd ended early:\n{process.text()}")
            result = await check()
            if result is not None:
                return result
            if reactor.seconds() > deadline:
                self.fail(f"gave up waiting for twistd:\n{process.text()}")
            await deferLater(reactor, 0.1)

    async def _kill(self, process: TwistdProcess, transport: Any) -> None:
        if process.running:
            transport.signalProcess("KILL")
            await process.ended


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)
