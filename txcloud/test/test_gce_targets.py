"""
Google Compute Engine beside the other providers: in ``txcloud.multi``, the
configuration file, ``txcloud nodes``, the ``twistd txcloud`` service and
the blocking layer, each against txcloud.testing.gce listening on
127.0.0.1 (its token endpoint included, so the real authentication runs).
"""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any, cast

from treq.client import HTTPClient
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgent

from txcloud import multi
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.compute.drivers.gce import GCENodeDriver
from txcloud.config import load_config, parse_config
from txcloud.errors import ProviderError
from txcloud.service.tap import make_service
from txcloud.test.cli.helpers import child_environment, run_command, run_python, write_config
from txcloud.testing.gce import FakeGCE

reactor: Any = global_reactor

#: Seconds the service is given to have fetched the fake's nodes.
READY_DEADLINE = 20.0

BLOCKING_SCRIPT = """
    import sys

    from txcloud.compute.providers import get_driver
    from txcloud.sync import blocking

    key_file, port = sys.argv[1], int(sys.argv[2])
    cls = get_driver("gce")
    driver = blocking(cls(key=key_file, host="127.0.0.1", port=port, secure=False))
    print("nodes:", sorted(node.name for node in driver.list_nodes()), flush=True)
    print("zones:", len(driver.list_locations()), flush=True)
"""


class GCETargetTests(TestCase):
    """A FakeGCE on a real port, with two instances in two zones."""

    def setUp(self) -> None:
        self.fake = FakeGCE()
        self.fake.add_instance("web-1", "us-central1-a")
        self.fake.add_instance("db-1", "europe-west1-b", external_ip=False)
        port = reactor.listenTCP(0, self.fake.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.port = port.getHost().port
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)
        self.key_file = os.path.join(self.home, "key.json")
        document = self.fake.key_document(f"http://127.0.0.1:{self.port}/token")
        self.private_key = document["private_key"]
        with open(self.key_file, "w", encoding="utf-8") as file:
            json.dump(document, file)

    def config_text(self) -> str:
        return (
            '[[compute]]\nname = "gce"\nprovider = "gce"\n'
            f'secret = "{self.key_file}"\nhost = "127.0.0.1"\nport = {self.port}\n'
            "secure = false\n"
            'options = { project = "txcloud-fake", datacenter = "us-central1-a" }\n\n'
            '[[compute]]\nname = "dummy"\nprovider = "dummy"\n'
        )

    def driver(self, **kwargs: Any) -> GCENodeDriver:
        options: dict[str, Any] = {
            "key": self.key_file,
            "host": "127.0.0.1",
            "port": self.port,
            "secure": False,
        }
        driver = GCENodeDriver(**{**options, **kwargs})
        self.addCleanup(driver.close)
        return driver

    async def test_multi_list_nodes_keeps_gce_nodes_beside_a_failing_target(self) -> None:
        good = self.driver()
        elsewhere = self.driver(project="someone-else")
        dummy = DummyNodeDriver(region="eu-1")
        result = await multi.list_nodes([good, elsewhere, dummy])
        self.assertEqual(sorted(node.name for node in result.results[good]), ["db-1", "web-1"])
        self.assertEqual(len(result.results[dummy]), 2)
        self.assertEqual(list(result.failures), [elsewhere])
        self.assertEqual(result.failures[elsewhere].trap(ProviderError), ProviderError)

    async def test_the_configuration_builds_a_gce_driver(self) -> None:
        config = parse_config(self.config_text(), "conf.toml", {})
        target = config.select("compute", "gce")[0]
        driver = config.build_driver(target, reactor=reactor)
        self.addCleanup(driver.close)
        assert isinstance(driver, GCENodeDriver)
        self.assertEqual((driver.project, driver.datacenter), ("txcloud-fake", "us-central1-a"))
        self.assertEqual(len(await driver.list_sizes()), 4)

    async def test_txcloud_nodes_lists_the_instances(self) -> None:
        environ = write_config(self.home, self.config_text())
        code, out, err = await run_command(["nodes", "--json", "--target", "gce"], environ)
        self.assertEqual((code, err), (0, ""))
        [target] = json.loads(out)["targets"]
        self.assertEqual((target["provider"], target["error"]), ("gce", None))
        self.assertEqual(sorted(item["name"] for item in target["items"]), ["db-1", "web-1"])
        self.assertNotIn(self.private_key[40:80], out)

    async def test_the_inventory_service_serves_the_instances(self) -> None:
        path = os.path.join(self.home, "txcloud.toml")
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.config_text())
        service = make_service(
            load_config(path, environ={}), "tcp:0:interface=127.0.0.1", 60.0, reactor
        )
        with capturedLogs() as events:
            service.startService()
        self.addCleanup(service.stopService)
        [address] = [e["address"] for e in events if "address" in e]
        pool = HTTPConnectionPool(reactor, persistent=False)
        http: Any = HTTPClient(cast(IAgent, Agent(reactor, pool=pool)))
        deadline = reactor.seconds() + READY_DEADLINE
        while True:
            response = await http.get(f"http://{address}/nodes?target=gce", timeout=5)
            body = await response.content()
            targets = json.loads(body)["targets"] if response.code == 200 else []
            if targets and targets[0]["items"]:
                break
            self.assertLess(reactor.seconds(), deadline, f"no nodes served: {body!r}")
            await deferLater(reactor, 0.1)
        self.assertEqual(sorted(item["name"] for item in targets[0]["items"]), ["db-1", "web-1"])
        self.assertNotIn(self.private_key[40:80].encode(), body)

    def test_the_blocking_layer(self) -> Deferred[None]:
        script = os.path.join(self.home, "script.py")
        with open(script, "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(BLOCKING_SCRIPT))
        d = run_python([script, self.key_file, str(self.port)], child_environment(self.home))

        def check(result: tuple[str, str, int]) -> None:
            out, err, code = result
            self.assertEqual(
                (code, out.splitlines()), (0, ["nodes: ['db-1', 'web-1']", "zones: 4"]), err
            )

        return d.addCallback(check)
