"""
Integration tests of the EC2 compute driver against moto server, in two
regions (us-east-1 and eu-west-1) whose resources must stay apart.

moto accepts any credentials unless IAM checks are turned on, so the
bad-credentials test starts a second moto with ``INITIAL_NO_AUTH_ACTION_COUNT=0``
(every request is then authenticated against moto's IAM, which knows no keys).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase
from twisted.web.client import Agent
from twisted.web.iweb import IAgent
from zope.interface import implementer

from txcloud import multi
from txcloud.compute.base import Node, NodeImage, NodeLocation
from txcloud.compute.drivers.ec2 import EC2NodeDriver, drivers_for_regions
from txcloud.compute.types import NodeState
from txcloud.errors import (
    InvalidCredsError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    NodeNotFoundError,
    ProviderError,
)
from txcloud.test.emulators import checking_moto, moto, reactor, reset_moto

EAST, WEST = "us-east-1", "eu-west-1"
#: An id in EC2's format that no instance has.
MISSING_ID = "i-0123456789abcdef0"


@implementer(IAgent)
class CountingAgent:
    """Sends through a plain Agent and counts the requests."""

    def __init__(self) -> None:
        self._agent = Agent(reactor)
        self.requests = 0

    def request(self, method: bytes, uri: bytes, headers: Any = None, body: Any = None) -> Any:
        self.requests += 1
        return self._agent.request(method, uri, headers, body)


class MotoEC2TestCase(TestCase):
    """Drivers for two regions of a freshly reset moto."""

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        await moto.ensure_started()
        await reset_moto()
        self.east = self.driver(EAST)
        self.west = self.driver(WEST)

    def driver(self, region: str, port: int | None = None, **kwargs: Any) -> EC2NodeDriver:
        driver = EC2NodeDriver(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            host="127.0.0.1",
            port=port or moto.port,
            secure=False,
            region=region,
            **kwargs,
        )
        self.addCleanup(driver.close)
        return driver

    async def image(self, driver: EC2NodeDriver) -> NodeImage:
        images = await driver.list_images(ex_owner="amazon", ex_filters={"name": "amzn-ami-hvm-*"})
        self.assertTrue(images)
        return images[0]

    async def launch(self, driver: EC2NodeDriver, name: str, **kwargs: Any) -> Node:
        node = await driver.create_node(name, "t2.micro", await self.image(driver), **kwargs)
        self.assertIsInstance(node, Node)
        return node

    async def only(self, driver: EC2NodeDriver, node: Node) -> Node:
        [listed] = await driver.list_nodes(ex_node_ids=[node.id])
        return listed


class NodeLifecycleTests(MotoEC2TestCase):
    async def test_create_list_reboot_stop_start_destroy(self) -> None:
        [zone, *_] = await self.east.list_locations()
        await self.east.create_key_pair("deploy")
        node = await self.launch(
            self.east,
            "web-1",
            location=zone,
            ex_keyname="deploy",
            ex_userdata="#!/bin/sh\necho hello\n",
            ex_metadata={"team": "infra"},
        )
        self.assertEqual((node.name, node.extra["instance_type"]), ("web-1", "t2.micro"))

        [listed] = [n for n in await self.east.list_nodes() if n.id == node.id]
        self.assertEqual((listed.name, listed.state), ("web-1", NodeState.RUNNING))
        self.assertEqual(listed.extra["tags"], {"Name": "web-1", "team": "infra"})
        self.assertEqual(
            (listed.extra["availability"], listed.extra["key_name"]), (zone.name, "deploy")
        )
        self.assertEqual(listed.extra["image_id"], node.extra["image_id"])
        self.assertTrue(listed.private_ips and listed.public_ips)
        self.assertTrue(listed.extra["subnet_id"] and listed.extra["vpc_id"])
        self.assertIsNotNone(listed.created_at)

        [(running, addresses)] = await self.east.wait_until_running(
            [node], wait_period=0.1, timeout=10
        )
        self.assertEqual((running.id, addresses), (node.id, listed.public_ips))

        self.assertIs(await self.east.reboot_node(node), True)
        self.assertIs(await self.east.stop_node(node), True)
        self.assertEqual((await self.only(self.east, node)).state, NodeState.STOPPED)
        self.assertIs(await self.east.start_node(node), True)
        self.assertEqual((await self.only(self.east, node)).state, NodeState.RUNNING)
        self.assertIs(await node.destroy(), True)
        self.assertEqual((await self.only(self.east, node)).state, NodeState.TERMINATED)

    async def test_several_instances_in_one_call(self) -> None:
        nodes = await self.west.create_node(
            "batch", "t2.micro", await self.image(self.west), ex_mincount=2, ex_maxcount=2
        )
        self.assertEqual([n.name for n in nodes], ["batch", "batch"])
        listed = await self.west.list_nodes(ex_filters={"tag:Name": "batch"})
        self.assertEqual(sorted(n.id for n in listed), sorted(n.id for n in nodes))

    async def test_nodes_stay_in_their_region(self) -> None:
        east_node = await self.launch(self.east, "east-1")
        west_node = await self.launch(self.west, "west-1")
        self.assertEqual([n.id for n in await self.east.list_nodes()], [east_node.id])
        self.assertEqual([n.id for n in await self.west.list_nodes()], [west_node.id])
        self.assertEqual(west_node.extra["availability"][: len(WEST)], WEST)

    async def test_list_nodes_follows_every_page(self) -> None:
        image = await self.image(self.east)
        created = [
            (await self.east.create_node(f"page-{n}", "t2.micro", image)).id for n in range(11)
        ]
        agent = CountingAgent()
        counted = self.driver(EAST, ex_agent=agent)
        listed = await counted.list_nodes(ex_page_size=5)
        self.assertEqual(sorted(n.id for n in listed), sorted(created))
        self.assertEqual(agent.requests, 3)

    async def test_a_missing_node_is_node_not_found(self) -> None:
        with self.assertRaises(NodeNotFoundError) as raised:
            await self.east.list_nodes(ex_node_ids=[MISSING_ID])
        self.assertEqual(raised.exception.code, "InvalidInstanceID.NotFound")
        ghost = Node(MISSING_ID, "ghost", NodeState.RUNNING, [], [], self.east)
        for action in (self.east.reboot_node, self.east.stop_node, self.east.destroy_node):
            with self.assertRaises(NodeNotFoundError):
                await action(ghost)


class CatalogueTests(MotoEC2TestCase):
    async def test_sizes_are_instance_types_in_both_regions(self) -> None:
        for driver in (self.east, self.west):
            sizes = {size.id: size for size in await driver.list_sizes()}
            micro = sizes["t2.micro"]
            self.assertEqual((micro.ram, micro.disk, micro.price), (1024, 0, None))
            self.assertEqual(micro.extra["vcpus"], 1)

    async def test_locations_are_the_regions_zones(self) -> None:
        for driver, country in ((self.east, "US"), (self.west, "IE")):
            zones: list[NodeLocation] = await driver.list_locations()
            self.assertTrue(zones)
            for zone in zones:
                self.assertTrue(zone.name.startswith(driver.region or ""))
                self.assertEqual((zone.id, zone.country), (zone.name, country))
                self.assertEqual(zone.extra["region_name"], driver.region)

    async def test_images_by_owner_id_and_filter(self) -> None:
        for driver in (self.east, self.west):
            owned = await driver.list_images(ex_owner="amazon")
            self.assertTrue(owned)
            self.assertEqual({image.extra["owner_alias"] for image in owned}, {"amazon"})
            wanted = owned[0]
            [found] = await driver.list_images(ex_image_ids=[wanted.id])
            self.assertEqual((found.id, found.name), (wanted.id, wanted.name))
            filtered = await driver.list_images(ex_filters={"name": wanted.name})
            self.assertIn(wanted.id, [image.id for image in filtered])


class KeyPairTests(MotoEC2TestCase):
    async def test_create_get_list_delete(self) -> None:
        created = await self.east.create_key_pair("deploy")
        self.assertTrue((created.private_key or "").startswith("-----BEGIN"))
        fetched = await self.east.get_key_pair("deploy")
        self.assertEqual((fetched.name, fetched.fingerprint), ("deploy", created.fingerprint))
        self.assertIsNone(fetched.private_key)
        self.assertEqual([k.name for k in await self.east.list_key_pairs()], ["deploy"])
        self.assertIs(await self.east.delete_key_pair(created), True)
        with self.assertRaises(KeyPairDoesNotExistError):
            await self.east.get_key_pair("deploy")

    async def test_a_taken_name_is_key_pair_already_exists(self) -> None:
        await self.west.create_key_pair("deploy")
        with self.assertRaises(KeyPairAlreadyExistsError):
            await self.west.create_key_pair("deploy")

    async def test_import_a_public_key(self) -> None:
        public_key = (
            Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
            .decode()
        )
        imported = await self.west.import_key_pair_from_string("laptop", public_key)
        self.assertEqual((imported.name, imported.public_key), ("laptop", public_key))
        self.assertTrue(imported.fingerprint)
        self.assertEqual([k.name for k in await self.west.list_key_pairs()], ["laptop"])

    async def test_key_pairs_stay_in_their_region(self) -> None:
        await self.east.create_key_pair("deploy")
        self.assertEqual(await self.west.list_key_pairs(), [])
        with self.assertRaises(KeyPairDoesNotExistError):
            await self.west.get_key_pair("deploy")


class SecurityGroupTests(MotoEC2TestCase):
    async def test_create_authorize_use_delete(self) -> None:
        created = await self.east.ex_create_security_group("web", "web servers")
        group_id = created["group_id"]
        self.assertTrue(group_id.startswith("sg-"))
        self.assertIs(
            await self.east.ex_authorize_security_group_ingress(
                group_id, 443, 443, cidr_ips=["203.0.113.0/24"], description="https"
            ),
            True,
        )
        [group] = await self.east.ex_get_security_groups(group_ids=[group_id])
        self.assertEqual((group.name, group.extra["description"]), ("web", "web servers"))
        self.assertEqual(
            [
                (r["protocol"], r["from_port"], r["to_port"], r["cidr_ips"])
                for r in group.ingress_rules
            ],
            [("tcp", 443, 443, ["203.0.113.0/24"])],
        )
        self.assertEqual(sorted(await self.east.ex_list_security_groups()), ["default", "web"])
        self.assertEqual(await self.west.ex_list_security_groups(), ["default"])

        node = await self.launch(self.east, "web-1", ex_security_group_ids=[group_id])
        listed = await self.only(self.east, node)
        self.assertIn(group_id, listed.extra["security_group_ids"])
        await self.east.destroy_node(node)

        self.assertIs(await self.east.ex_delete_security_group(group_id), True)
        with self.assertRaises(ProviderError) as raised:
            await self.east.ex_get_security_groups(group_ids=[group_id])
        self.assertEqual(raised.exception.code, "InvalidGroup.NotFound")

    async def test_delete_by_name(self) -> None:
        await self.west.ex_create_security_group("db", "databases")
        self.assertIs(await self.west.ex_delete_security_group("db"), True)
        self.assertEqual(await self.west.ex_list_security_groups(), ["default"])


class FanOutTests(MotoEC2TestCase):
    async def test_drivers_for_regions_list_each_regions_nodes(self) -> None:
        east_node = await self.launch(self.east, "east-1")
        drivers = drivers_for_regions(
            "AKIDEXAMPLE",
            "secret",
            regions=[EAST, WEST],
            host="127.0.0.1",
            port=moto.port,
            secure=False,
        )
        for driver in drivers:
            self.addCleanup(driver.close)
        result = await multi.list_nodes(drivers, concurrency=2)
        self.assertTrue(result.ok)
        self.assertEqual([n.id for n in result.results[drivers[0]]], [east_node.id])
        self.assertEqual(result.results[drivers[1]], [])


class CredentialTests(TestCase):
    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return checking_moto.ensure_started()

    async def test_unknown_credentials_are_invalid_creds_error(self) -> None:
        driver = EC2NodeDriver(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            host="127.0.0.1",
            port=checking_moto.port,
            secure=False,
            region=WEST,
        )
        self.addCleanup(driver.close)
        with self.assertRaises(InvalidCredsError) as raised:
            await driver.list_nodes()
        self.assertEqual((raised.exception.status, raised.exception.code), (401, "AuthFailure"))
        self.assertNotIn("wJalrXUtnFEMI", str(raised.exception))
