"""
The Azure driver in txcloud's layers, against the fake on real sockets:
the configuration, ``txcloud.multi``, ``txcloud nodes``, the ``twistd
txcloud`` inventory service, and the blocking layer (in a child process).
"""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any, cast

from treq.client import HTTPClient
from twisted.internet.task import deferLater
from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgent

from txcloud import multi
from txcloud.compute.drivers.azure_arm import AzureNodeDriver
from txcloud.config import parse_config
from txcloud.errors import ProviderError
from txcloud.service.tap import make_service
from txcloud.test.cli.helpers import child_environment, run_command, run_python, write_config
from txcloud.test.compute.azure_arm_serving import ServedAzure
from txcloud.test.emulators import reactor
from txcloud.testing.azure_arm import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SUBSCRIPTION

#: A subscription the fake does not serve: its target fails.
OTHER_SUBSCRIPTION = "00000000-1111-4222-8333-444444444444"

BLOCKING_SCRIPT = """
    import sys

    from txcloud.compute.providers import get_driver
    from txcloud.sync import blocking

    tenant, subscription, client, secret, port, login = sys.argv[1:]
    driver = blocking(
        get_driver("azure_arm")(
            tenant, subscription, client, secret, host="127.0.0.1", port=int(port),
            secure=False, ex_login_host=login,
        )
    )
    nodes = driver.list_nodes()
    print(sorted((node.name, node.state.value) for node in nodes))
    print(driver.stop_node(nodes[0]))
    print(driver.list_nodes()[0].state.value)
"""


class AzureInLayersTests(TestCase):
    def setUp(self) -> None:
        self.served = ServedAzure(self)
        self.served.fake.add_vm("web-1")
        self.served.fake.add_vm("db-1", group="data", power="deallocated")

    def config_text(self) -> str:
        broken = self.served.config_entry("azure-other").replace(
            DEFAULT_SUBSCRIPTION, OTHER_SUBSCRIPTION
        )
        return self.served.config_entry() + "\n" + broken

    async def test_config_builds_the_driver_with_tenant_and_subscription(self) -> None:
        config = parse_config(self.served.config_entry(), "test.toml", {})
        [target] = config.targets
        driver = config.build_driver(target, reactor)
        self.addCleanup(driver.close)
        assert isinstance(driver, AzureNodeDriver)
        self.assertEqual(
            (driver.key, driver.subscription_id), (DEFAULT_CLIENT_ID, DEFAULT_SUBSCRIPTION)
        )
        self.assertEqual(sorted(n.name for n in await driver.list_nodes()), ["db-1", "web-1"])

    def test_config_without_key_uses_the_azure_ad_chain(self) -> None:
        text = (
            '[[compute]]\nname = "azure"\nprovider = "azure_arm"\n'
            f'options = {{ tenant_id = "tenant", subscription_id = "{DEFAULT_SUBSCRIPTION}" }}\n'
        )
        config = parse_config(text, "test.toml", {})
        driver = config.build_driver(config.targets[0], reactor)
        self.addCleanup(driver.close)
        self.assertIsNone(driver.key)

    async def test_multi_keeps_the_nodes_of_the_subscription_that_answers(self) -> None:
        good = self.served.driver()
        other = self.served.driver(subscription_id=OTHER_SUBSCRIPTION)
        result = await multi.list_nodes([good, other], timeout=30)
        self.assertEqual(sorted(n.name for n in result.results[good]), ["db-1", "web-1"])
        error = result.failures[other].value
        assert isinstance(error, ProviderError)
        self.assertEqual(error.code, "SubscriptionNotFound")

    async def test_txcloud_nodes(self) -> None:
        environ = write_config(os.path.abspath(self.mktemp()), self.config_text())
        code, out, err = await run_command(["nodes", "--json"], environ)
        targets = {t["target"]: t for t in json.loads(out)["targets"]}
        self.assertEqual(code, 0)
        self.assertEqual(
            sorted((n["name"], n["state"]) for n in targets["azure"]["items"]),
            [("db-1", "stopped"), ("web-1", "running")],
        )
        self.assertIn("SubscriptionNotFound", targets["azure-other"]["error"]["message"])
        self.assertNotIn(DEFAULT_CLIENT_SECRET, out + err)

    async def test_twistd_inventory_serves_the_nodes(self) -> None:
        path = os.path.abspath(self.mktemp())
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.config_text())
        config = parse_config(self.config_text(), path, {})
        service = make_service(config, "tcp:0:interface=127.0.0.1", 60.0, reactor)
        with capturedLogs() as events:
            service.startService()
        self.addCleanup(service.stopService)
        [address] = [e["address"] for e in events if "address" in e]
        http: Any = HTTPClient(
            cast(IAgent, Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
        )
        await self._ready(http, f"http://{address}")
        response = await http.get(f"http://{address}/nodes", timeout=5)
        body = await response.content()
        self.assertNotIn(DEFAULT_CLIENT_SECRET.encode(), body)
        targets = {t["label"]: t for t in json.loads(body)["targets"]}
        self.assertEqual(sorted(n["name"] for n in targets["azure"]["items"]), ["db-1", "web-1"])
        self.assertIn("SubscriptionNotFound", targets["azure-other"]["last_error"]["message"])

    async def _ready(self, http: Any, url: str) -> None:
        for _ in range(200):
            response = await http.get(f"{url}/health", timeout=5)
            await response.content()
            if response.code == 200:
                return
            await deferLater(reactor, 0.05)
        self.fail("the service never became ready")

    async def test_blocking_layer(self) -> None:
        script = os.path.abspath(self.mktemp())
        with open(script, "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(BLOCKING_SCRIPT))
        environ = child_environment(
            os.path.abspath(self.mktemp()), SSL_CERT_FILE=self.served.ca_file
        )
        out, err, code = await run_python(
            [
                script,
                self.served.fake.ad.tenant,
                DEFAULT_SUBSCRIPTION,
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                str(self.served.arm_port),
                self.served.login_host,
            ],
            environ,
        )
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "[('db-1', 'stopped'), ('web-1', 'running')]")
        self.assertEqual(lines[1], "True")
        self.assertEqual(lines[2], "stopped")
