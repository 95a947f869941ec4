"""
OpenStack in the rest of txcloud, against txcloud.testing.openstack:
fan-out with txcloud.multi, the configuration file, ``txcloud nodes``,
the ``twistd txcloud`` inventory service and the blocking layer.
"""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any, cast

from treq.client import HTTPClient
from twisted.internet.task import Clock, deferLater
from twisted.logger import capturedLogs
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgent

from txcloud import multi
from txcloud.compute.drivers.openstack import OpenStackNodeDriver
from txcloud.config import load_config, parse_config
from txcloud.errors import ConfigError, InvalidArgumentError
from txcloud.service.tap import make_service
from txcloud.test.cli.helpers import child_environment, run_command, run_python, write_config
from txcloud.test.emulators import reactor
from txcloud.testing.openstack import DEFAULT_PASSWORD, DEFAULT_PROJECT, DEFAULT_USER, FakeOpenStack


def openstack_entry(
    port: int, name: str = "cloud", regions: str = '["RegionOne", "RegionTwo"]'
) -> str:
    """A ``[[compute]]`` entry of the fake on *port*, its password from ``OS_TEST_PASSWORD``."""
    options = (
        f'ex_force_auth_url = "http://127.0.0.1:{port}/v3", ex_tenant_name = "{DEFAULT_PROJECT}"'
    )
    return textwrap.dedent(
        f"""
        [[compute]]
        name = "{name}"
        provider = "openstack"
        key = "{DEFAULT_USER}"
        secret_env = "OS_TEST_PASSWORD"
        regions = {regions}
        options = {{ {options} }}
        """
    )


class FanOutTests(SynchronousTestCase):
    def test_list_nodes_across_regions_keeps_the_answering_ones(self) -> None:
        clock = Clock()
        cloud = FakeOpenStack(clock=clock)
        cloud.add_server("one", region="RegionOne")
        cloud.add_server("two", region="RegionTwo")
        agent = cloud.agent()
        drivers = [
            cloud.driver(region, ex_agent=agent)
            for region in ("RegionOne", "RegionTwo", "RegionNine")
        ]
        result = self.successResultOf(multi.list_nodes(drivers))
        self.assertEqual(
            {driver.region: [n.name for n in nodes] for driver, nodes in result.results.items()},
            {"RegionOne": ["one"], "RegionTwo": ["two"]},
        )
        [(failed, failure)] = result.failures.items()
        self.assertEqual(failed.region, "RegionNine")
        self.assertIsInstance(failure.value, InvalidArgumentError)
        self.assertEqual(len(cloud.grants), 1)


class ConfigTests(SynchronousTestCase):
    def test_an_openstack_entry_builds_one_driver_per_region(self) -> None:
        config = parse_config(openstack_entry(5000), "t.toml", {"OS_TEST_PASSWORD": "pw"})
        drivers: list[Any] = [config.build_driver(target, Clock()) for target in config.targets]
        self.assertEqual([t.label for t in config.targets], ["cloud@RegionOne", "cloud@RegionTwo"])
        self.assertTrue(all(isinstance(d, OpenStackNodeDriver) for d in drivers))
        self.assertEqual([d.region for d in drivers], ["RegionOne", "RegionTwo"])
        self.assertEqual(drivers[0].credentials.password, "pw")
        self.assertEqual(drivers[0].credentials.auth_url, "http://127.0.0.1:5000/v3")

    def test_default_credentials_come_from_the_configurations_environment(self) -> None:
        text = '[[compute]]\nname = "os"\nprovider = "openstack"\ncredentials = "default"\n'
        environ = {
            "OS_AUTH_URL": "https://keystone.example.com:5000",
            "OS_USERNAME": "bob",
            "OS_PASSWORD": "pw",
            "OS_PROJECT_NAME": "p",
            "OS_REGION_NAME": "RegionTwo",
        }
        config = parse_config(text, "t.toml", environ)
        driver: Any = config.build_driver(config.targets[0], Clock())
        self.assertEqual((driver.credentials.user_name, driver.region), ("bob", "RegionTwo"))

    def test_default_credentials_exclude_a_key(self) -> None:
        text = (
            '[[compute]]\nname = "os"\nprovider = "openstack"\ncredentials = "default"\nkey = "a"\n'
        )
        self.assertRaises(ConfigError, parse_config, text, "t.toml", {})


class ServedCloudTestCase(TestCase):
    """The fake on a real port of 127.0.0.1, with a server in each region."""

    def setUp(self) -> None:
        self.cloud = FakeOpenStack(clock=reactor)
        self.one = self.cloud.add_server("one", region="RegionOne")
        self.two = self.cloud.add_server("two", region="RegionTwo")
        listening = reactor.listenTCP(0, self.cloud.site(), interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        self.port = listening.getHost().port
        self.home = os.path.abspath(self.mktemp())


class CommandTests(ServedCloudTestCase):
    async def test_txcloud_nodes_lists_each_regions_servers(self) -> None:
        environ = write_config(self.home, openstack_entry(self.port))
        environ["OS_TEST_PASSWORD"] = DEFAULT_PASSWORD
        code, out, err = await run_command(["nodes", "--json"], environ)
        self.assertEqual((code, err), (0, ""))
        targets = json.loads(out)["targets"]
        self.assertEqual(
            [(t["target"], t["region"], [i["name"] for i in t["items"]]) for t in targets],
            [("cloud", "RegionOne", ["one"]), ("cloud", "RegionTwo", ["two"])],
        )
        self.assertNotIn(DEFAULT_PASSWORD, out)


class ServiceTests(ServedCloudTestCase):
    async def test_the_inventory_serves_each_regions_servers(self) -> None:
        path = os.path.join(self.home, "txcloud.toml")
        os.makedirs(self.home)
        with open(path, "w", encoding="utf-8") as f:
            f.write(openstack_entry(self.port))
        config = load_config(path, environ={"OS_TEST_PASSWORD": DEFAULT_PASSWORD})
        service = make_service(config, "tcp:0:interface=127.0.0.1", 60.0, reactor)
        with capturedLogs() as events:
            service.startService()
        self.addCleanup(service.stopService)
        [address] = [e["address"] for e in events if "address" in e]
        pool = HTTPConnectionPool(reactor, persistent=False)
        http = HTTPClient(cast(IAgent, Agent(reactor, pool=pool)))
        for _ in range(100):
            response = await http.get(f"http://{address}/nodes", timeout=5)
            body = await response.content()
            document = json.loads(body)
            if all(t["fetched_at"] for t in document["targets"]):
                break
            await deferLater(reactor, 0.05)
        self.assertEqual(
            {t["label"]: [i["name"] for i in t["items"]] for t in document["targets"]},
            {"cloud@RegionOne": ["one"], "cloud@RegionTwo": ["two"]},
        )
        self.assertNotIn(DEFAULT_PASSWORD.encode(), body)


BLOCKING_SCRIPT = """
    import sys

    from txcloud.compute.drivers.openstack import OpenStackNodeDriver
    from txcloud.errors import NodeNotFoundError
    from txcloud.sync import blocking

    port, password = sys.argv[1], sys.argv[2]
    compute = blocking(
        OpenStackNodeDriver(
            "alice",
            password,
            ex_force_auth_url=f"http://127.0.0.1:{port}",
            ex_tenant_name="demo",
            region="RegionTwo",
        )
    )
    nodes = compute.list_nodes()
    print("nodes:", [node.name for node in nodes], flush=True)
    print("regions:", [location.id for location in compute.list_locations()], flush=True)
    print("stopped:", compute.stop_node(nodes[0]), flush=True)
    try:
        compute.ex_get_node_details("00000000-0000-4000-8000-000000000000")
    except NodeNotFoundError as e:
        print("missing:", type(e).__name__, flush=True)
"""


class BlockingTests(ServedCloudTestCase):
    async def test_a_script_uses_the_driver_without_a_reactor(self) -> None:
        os.makedirs(self.home)
        script = os.path.join(self.home, "script.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(BLOCKING_SCRIPT))
        out, err, code = await run_python(
            [script, str(self.port), DEFAULT_PASSWORD], child_environment(self.home)
        )
        self.assertEqual(
            (out.splitlines(), code),
            (
                [
                    "nodes: ['two']",
                    "regions: ['RegionOne', 'RegionTwo']",
                    "stopped: True",
                    "missing: NodeNotFoundError",
                ],
                0,
            ),
            err,
        )
        self.assertEqual(self.two.status, "SHUTOFF")
