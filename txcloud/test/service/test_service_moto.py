"""
The inventory service against moto, with one region whose endpoint is down.

Two instances are launched in moto with the EC2 driver, one in us-east-1 and
one in eu-west-1.  The service, built by :func:`txcloud.service.tap.make_service`
as ``twistd txcloud`` builds it, runs in this process on the real reactor
with three targets: ``aws`` in those two regions (moto), and
``aws-broken@ap-south-1`` whose port has nothing listening.  Its HTTP API
must serve the two regions' instances and report the broken one as failed,
with its error and without items, and stale.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, cast

from treq.client import HTTPClient
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.logger import capturedLogs
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IAgent

from txcloud.compute.base import Node
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.config import load_config
from txcloud.service.tap import make_service
from txcloud.test.emulators import free_port, moto, reactor, reset_moto

EAST, WEST, BROKEN = "us-east-1", "eu-west-1", "ap-south-1"

#: The key and secret of both targets; no answer may show them.
# moto accepts any credentials: distinctive ones make "never shown" checks mean something.
ACCESS_KEY = "AKIATXCLOUDSERVICE01"
SECRET_KEY = "txcloud-service-secret-never-shown"

#: Seconds the service is given to answer /health with 200.
READY_DEADLINE = 20.0

# "2025-01-01T12:00:00.000Z", as txcloud.service.snapshot.iso_utc writes times.
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


class ServiceAgainstMotoTests(TestCase):
    """A running service over moto's us-east-1 and eu-west-1 and a dead ap-south-1."""

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        await moto.ensure_started()
        await reset_moto()
        self.east_node = await self.launch(EAST, "svc-east-node")
        self.west_node = await self.launch(WEST, "svc-west-node")
        # Free a moment ago, so nothing listens there: connecting is refused.
        self.dead_port = free_port()
        # Closes the client's connections so the server's end closes too.
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http: Any = HTTPClient(cast(IAgent, Agent(reactor, pool=pool)))
        self.url = self.start_service()
        self.health_code, self.health = await self.wait_until_ready()

    async def launch(self, region: str, name: str) -> Node:
        """Launch an instance named *name* in moto's *region* with the EC2 driver."""
        driver = EC2NodeDriver(
            ACCESS_KEY, SECRET_KEY, host="127.0.0.1", port=moto.port, secure=False, region=region
        )
        self.addCleanup(driver.close)
        [image, *_] = await driver.list_images(
            ex_owner="amazon", ex_filters={"name": "amzn-ami-hvm-*"}
        )
        node: Node = await driver.create_node(name, "t2.micro", image)
        return node

    def write_config(self) -> str:
        """The service's configuration file: moto's two regions, and a dead endpoint."""
        path = os.path.abspath(self.mktemp())
        endpoint = f'key = "{ACCESS_KEY}"\nsecret = "{SECRET_KEY}"\nhost = "127.0.0.1"\n'
        endpoint += "secure = false\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(
                # The refused target's five attempts take about 3 s at most
                # (0.3 s each to be refused, and up to 1.5 s of backoff): ten
                # seconds let it fail with the network error, not a timeout,
                # and bound a hung target well within the readiness deadline.
                "[defaults]\ntimeout = 10\n\n"
                f'[[compute]]\nname = "aws"\nprovider = "ec2"\n{endpoint}'
                f'port = {moto.port}\nregions = ["{EAST}", "{WEST}"]\n\n'
                f'[[compute]]\nname = "aws-broken"\nprovider = "ec2"\n{endpoint}'
                f'port = {self.dead_port}\nregion = "{BROKEN}"\n'
            )
        return path

    def start_service(self) -> str:
        """Start the service as ``twistd txcloud`` would, on a free port; its URL."""
        config = load_config(self.write_config(), environ={})
        service = make_service(config, "tcp:0:interface=127.0.0.1", 60.0, reactor)
        with capturedLogs() as events:
            service.startService()
        # Stopped before anything else is cleaned up: cleanups run last first.
        self.addCleanup(service.stopService)
        [address] = [e["address"] for e in events if "address" in e]
        return f"http://{address}"

    async def wait_until_ready(self) -> tuple[int, Any]:
        """``/health``'s status code and document once it answers 200."""
        deadline = reactor.seconds() + READY_DEADLINE
        while True:
            code, document = await self.get("/health")
            if code == 200:
                return code, document
            self.assertEqual((code, document["status"]), (503, "starting"))
            if reactor.seconds() > deadline:
                self.fail(f"/health still {document} after {READY_DEADLINE} seconds")
            await deferLater(reactor, 0.1)

    async def get(self, path: str) -> tuple[int, Any]:
        """GET *path* from the service: the status code and the JSON document."""
        response = await self.http.get(self.url + path, timeout=5)
        body = await response.content()
        # Whatever the test, no answer may show the targets' credentials.
        self.assertNotIn(SECRET_KEY.encode("ascii"), body)
        self.assertNotIn(ACCESS_KEY.encode("ascii"), body)
        return response.code, json.loads(body)

    async def targets(self, path: str = "/inventory") -> dict[str, Any]:
        """The targets of the document at *path*, by label; fails unless it answers 200."""
        code, document = await self.get(path)
        self.assertEqual(code, 200)
        return {target["label"]: target for target in document["targets"]}

    def assert_serves(self, target: Any, node: Node, name: str) -> None:
        """*target* lists exactly *node*, named *name*, freshly fetched and without error."""
        self.assertEqual(
            [(item["id"], item["name"], item["state"]) for item in target["items"]],
            [(node.id, name, "running")],
        )
        self.assertRegex(target["fetched_at"], ISO_UTC)
        self.assertIsInstance(target["age"], float)
        self.assertGreaterEqual(target["age"], 0.0)
        self.assertLess(target["age"], READY_DEADLINE)
        self.assertEqual((target["stale"], target["last_error"]), (False, None))

    async def test_answering_regions_serve_their_instances(self) -> None:
        targets = await self.targets()
        self.assert_serves(targets[f"aws@{EAST}"], self.east_node, "svc-east-node")
        self.assert_serves(targets[f"aws@{WEST}"], self.west_node, "svc-west-node")

    async def test_failing_region_is_reported_with_its_error_and_no_items(self) -> None:
        broken = (await self.targets())[f"aws-broken@{BROKEN}"]
        self.assertEqual(
            (broken["name"], broken["provider"], broken["region"]),
            ("aws-broken", "ec2", BROKEN),
        )
        self.assertEqual(
            (broken["items"], broken["fetched_at"], broken["age"], broken["stale"]),
            ([], None, None, True),
        )
        error = broken["last_error"]
        self.assertEqual(sorted(error), ["at", "message", "type"])
        self.assertEqual(error["type"], "NetworkError")
        self.assertIn(f"http://127.0.0.1:{self.dead_port}/", error["message"])
        self.assertIn("ConnectionRefusedError", error["message"])
        self.assertRegex(error["at"], ISO_UTC)

    async def test_health_is_degraded_naming_only_the_failing_region(self) -> None:
        self.assertEqual(
            (self.health_code, self.health),
            (200, {"status": "degraded", "stale": [f"aws-broken@{BROKEN}"]}),
        )

    async def test_region_filter_lists_only_that_region(self) -> None:
        targets = await self.targets(f"/inventory?region={WEST}")
        self.assertEqual(list(targets), [f"aws@{WEST}"])
        self.assert_serves(targets[f"aws@{WEST}"], self.west_node, "svc-west-node")

    async def test_failing_region_is_filtered_like_the_others(self) -> None:
        targets = await self.targets(f"/nodes?target=aws-broken&region={BROKEN}")
        self.assertEqual(list(targets), [f"aws-broken@{BROKEN}"])
        self.assertEqual(targets[f"aws-broken@{BROKEN}"]["last_error"]["type"], "NetworkError")

    async def test_no_answer_shows_the_credentials(self) -> None:
        for path in ("/health", "/inventory", "/nodes", f"/inventory?region={BROKEN}"):
            response = await self.http.get(self.url + path, timeout=5)
            body = (await response.content()).decode("utf-8")
            self.assertEqual(response.code, 200, path)
            self.assertIn(f"aws-broken@{BROKEN}", body)
            self.assertNotIn(SECRET_KEY, body)
            self.assertNotIn(ACCESS_KEY, body)
