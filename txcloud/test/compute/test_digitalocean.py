"""
Tests for the DigitalOcean compute driver, txcloud.compute.drivers.digitalocean,
against txcloud.testing.digitalocean (the fake API v2) in memory on a Clock,
and once over a real socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud import multi
from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.digitalocean import (
    API_HOST,
    NODE_STATES,
    DigitalOceanNodeDriver,
    RateLimit,
    region_country,
)
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    MalformedResponseError,
    NodeNotFoundError,
    RateLimitReached,
    ServiceUnavailableError,
)
from txcloud.http import RetryPolicy
from txcloud.test.http._support import ScriptedResource, capture_logs
from txcloud.testing.digitalocean import FakeDigitalOcean

#: A token the fake accepts; the tests check it never leaks.
TOKEN = "dop_v1_9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100"
#: The fake's clock starts here (POSIX seconds).
START = 1_700_000_000.0


def no_jitter(cap: float) -> float:
    return cap


def public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " me@host"


def listing(key: str, items: list[Any], next_link: str | None = None) -> bytes:
    pages = {"next": next_link} if next_link else {}
    return json.dumps({key: items, "links": {"pages": pages}, "meta": {"total": 9}}).encode()


class DigitalOceanTestCase(SynchronousTestCase):
    """A driver in front of a FakeDigitalOcean, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.fake = FakeDigitalOcean([TOKEN], clock=self.clock)
        self.driver = self.make_driver()

    def make_driver(self, token: str = TOKEN, **kwargs: Any) -> DigitalOceanNodeDriver:
        kwargs.setdefault(
            "ex_retry",
            RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, jitter=no_jitter),
        )
        kwargs.setdefault("ex_agent", self.fake.agent())
        return DigitalOceanNodeDriver(token, reactor=self.clock, **kwargs)

    def requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.fake.received]

    def node(self, node_id: str = "3164444") -> Node:
        return Node(node_id, "web", NodeState.RUNNING, [], [], self.driver)

    def assert_refused(
        self, call: Callable[..., object], *args: Any, **kwargs: Any
    ) -> InvalidArgumentError:
        """``call(*args, **kwargs)`` raises InvalidArgumentError and sends nothing."""
        raised = self.assertRaises(InvalidArgumentError, call, *args, **kwargs)
        self.assertEqual(self.fake.received, [])
        return raised


class ConstructionTests(DigitalOceanTestCase):
    def test_get_driver_finds_the_digitalocean_driver(self) -> None:
        self.assertIs(get_driver(Provider.DIGITAL_OCEAN), DigitalOceanNodeDriver)

    def test_driver_describes_itself_as_digitalocean(self) -> None:
        self.assertEqual(
            (DigitalOceanNodeDriver.name, DigitalOceanNodeDriver.type),
            ("DigitalOcean", Provider.DIGITAL_OCEAN),
        )

    def test_endpoint_is_digitaloceans_api(self) -> None:
        driver = DigitalOceanNodeDriver(TOKEN)
        self.assertEqual(driver.endpoint, f"https://{API_HOST}")

    def test_endpoint_follows_host_port_and_secure(self) -> None:
        driver = DigitalOceanNodeDriver(TOKEN, host="127.0.0.1", port=8080, secure=False)
        self.assertEqual(driver.endpoint, "http://127.0.0.1:8080")

    def test_arguments_are_libclouds_positional_order(self) -> None:
        driver = DigitalOceanNodeDriver(TOKEN, None, True, None, None, "v2", "ams3")
        self.assertEqual((driver.region, driver.ex_per_page), ("ams3", 200))

    def test_a_missing_or_malformed_token_is_refused_without_quoting_it(self) -> None:
        for token in (None, "", "two words", 42):
            raised = self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, token)
            self.assertNotIn("two words", str(raised))

    def test_a_secret_is_refused(self) -> None:
        raised = self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, TOKEN, "secret")
        self.assertNotIn(TOKEN, str(raised))

    def test_only_api_version_2_is_accepted(self) -> None:
        self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, TOKEN, api_version="v1")

    def test_a_bad_region_slug_is_refused(self) -> None:
        for region in ("New York", "NYC3", "", 3):
            self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, TOKEN, region=region)

    def test_a_page_size_outside_1_to_200_is_refused(self) -> None:
        for size in (0, 201, True, "20"):
            self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, TOKEN, ex_per_page=size)

    def test_listing_one_region_only_needs_a_region(self) -> None:
        self.assertRaises(InvalidArgumentError, DigitalOceanNodeDriver, TOKEN, ex_region_only=True)


class TokenTests(DigitalOceanTestCase):
    def test_the_token_is_sent_as_a_bearer_authorization(self) -> None:
        self.successResultOf(self.driver.list_sizes())
        [received] = self.fake.received
        self.assertEqual(received.headers["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(received.headers["accept"], "application/json")

    def test_the_token_is_not_in_the_repr_or_the_key(self) -> None:
        driver = self.make_driver(region="nyc3")
        self.assertNotIn(TOKEN, repr(driver))
        self.assertEqual(
            repr(driver), "<DigitalOceanNodeDriver provider='digitalocean' region='nyc3'>"
        )
        self.assertIsNone(driver.key)

    def test_a_refused_token_is_invalid_creds_error_without_the_token(self) -> None:
        wrong = "dop_v1_" + "0" * 64
        driver = self.make_driver(wrong)
        failure = self.failureResultOf(driver.list_nodes(), InvalidCredsError)
        error = failure.value
        self.assertEqual((error.status, error.code), (401, "Unauthorized"))
        self.assertEqual(error.driver_name, "DigitalOcean")
        self.assertTrue(error.request_id)
        for text in (str(error), repr(error), error.message):
            self.assertNotIn(wrong, text)
        self.assertEqual(len(self.fake.received), 1)

    def test_the_token_is_never_logged(self) -> None:
        events = capture_logs(self)
        self.fake.rate_limit(1, window=60)
        self.fake.fail("/v2/sizes", 503)
        d = self.driver.list_sizes()
        self.clock.advance(60)
        self.successResultOf(d)
        self.assertTrue(events)
        for event in events:
            self.assertNotIn(TOKEN, formatEvent(event))
            self.assertNotIn(TOKEN, repr(event))


class ListNodesTests(DigitalOceanTestCase):
    def test_nodes_carry_libclouds_fields(self) -> None:
        droplet = self.fake.add_droplet("web-1", region="ams3", tags=["web", "env:prod"])
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual(
            (node.id, node.name, node.state, node.public_ips, node.private_ips),
            (
                str(droplet.id),
                "web-1",
                NodeState.RUNNING,
                [droplet.public_ip],
                [droplet.private_ip],
            ),
        )
        self.assertIs(node.driver, self.driver)
        self.assertEqual(node.created_at, datetime.fromtimestamp(START, tz=timezone.utc))
        assert isinstance(node.size, NodeSize) and node.image is not None
        self.assertEqual((node.size.id, node.size.ram), ("s-1vcpu-1gb", 1024))
        self.assertEqual(node.image.extra["slug"], "ubuntu-24-04-x64")
        extra = node.extra
        self.assertEqual(
            {key: extra[key] for key in ("memory", "vcpus", "disk", "size_slug", "locked")},
            {"memory": 1024, "vcpus": 1, "disk": 25, "size_slug": "s-1vcpu-1gb", "locked": False},
        )
        self.assertEqual((extra["region"], extra["region_slug"]), ("Amsterdam 3", "ams3"))
        self.assertEqual(extra["tags"], ["web", "env:prod"])
        self.assertEqual((extra["status"], extra["kernel"]), ("active", None))
        self.assertEqual((extra["backup_ids"], extra["snapshot_ids"]), ([], []))
        self.assertEqual(extra["features"], ["private_networking"])
        self.assertEqual(extra["image"]["slug"], "ubuntu-24-04-x64")
        self.assertEqual(extra["size"]["slug"], "s-1vcpu-1gb")
        self.assertEqual(len(extra["networks"]["v4"]), 2)
        self.assertEqual(extra["created_at"], "2023-11-14T22:13:20Z")
        self.assertEqual(extra["vpc_uuid"], droplet.vpc_uuid)

    def test_droplet_statuses_map_to_libclouds_node_states(self) -> None:
        for status in ("new", "active", "off", "archive", "migrating-someday"):
            droplet = self.fake.add_droplet(status, status=status)
            droplet.active_at = START + 1000
        nodes = self.successResultOf(self.driver.list_nodes())
        self.assertEqual(
            {node.name: node.state for node in nodes},
            {
                "new": NodeState.PENDING,
                "active": NodeState.RUNNING,
                "off": NodeState.STOPPED,
                "archive": NodeState.TERMINATED,
                "migrating-someday": NodeState.UNKNOWN,
            },
        )
        self.assertEqual(NODE_STATES["new"], NodeState.PENDING)

    def test_a_droplet_being_created_has_no_addresses_yet(self) -> None:
        droplet = self.fake.add_droplet("web", status="new")
        droplet.active_at = START + 60
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual((node.public_ips, node.private_ips), ([], []))

    def test_listing_follows_the_next_page_links(self) -> None:
        for number in range(5):
            self.fake.add_droplet(f"web-{number}")
        nodes = self.successResultOf(self.driver.list_nodes(ex_per_page=2))
        self.assertEqual([node.name for node in nodes], [f"web-{n}" for n in range(5)])
        self.assertEqual(
            [r.query for r in self.fake.received],
            [
                {"per_page": ["2"]},
                {"per_page": ["2"], "page": ["2"]},
                {"per_page": ["2"], "page": ["3"]},
            ],
        )

    def test_pages_are_200_droplets_unless_told_otherwise(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        self.assertEqual(self.fake.received[0].query, {"per_page": ["200"]})
        driver = self.make_driver(ex_per_page=50)
        self.successResultOf(driver.list_nodes())
        self.assertEqual(self.fake.received[1].query, {"per_page": ["50"]})

    def test_iterating_fetches_a_page_only_when_needed(self) -> None:
        for number in range(3):
            self.fake.add_droplet(f"web-{number}")

        async def first_name() -> str:
            async for node in self.driver.iterate_nodes(ex_per_page=1):
                return node.name
            raise AssertionError("no nodes")

        self.assertEqual(self.successResultOf(Deferred.fromCoroutine(first_name())), "web-0")
        self.assertEqual(len(self.fake.received), 1)

    def test_listing_by_tag_sends_the_tag(self) -> None:
        self.fake.add_droplet("tagged", tags=["web"])
        self.fake.add_droplet("other")
        nodes = self.successResultOf(self.driver.list_nodes(ex_tag_name="web"))
        self.assertEqual([node.name for node in nodes], ["tagged"])
        self.assertEqual(self.fake.received[0].query["tag_name"], ["web"])

    def test_bad_listing_arguments_are_refused_before_any_request(self) -> None:
        self.assert_refused(lambda: self.driver.iterate_nodes(ex_tag_name="bad tag"))
        self.assert_refused(lambda: self.driver.list_nodes(ex_per_page=0))

    def test_every_region_is_listed_by_default(self) -> None:
        self.fake.add_droplet("a", region="nyc3")
        self.fake.add_droplet("b", region="ams3")
        driver = self.make_driver(region="nyc3")
        self.assertEqual(len(self.successResultOf(driver.list_nodes())), 2)

    def test_a_region_only_driver_lists_its_regions_droplets(self) -> None:
        self.fake.add_droplet("a", region="nyc3")
        self.fake.add_droplet("b", region="ams3")
        self.fake.add_droplet("c", region="nyc1")
        nyc3 = self.make_driver(region="nyc3", ex_region_only=True)
        self.assertEqual([n.name for n in self.successResultOf(nyc3.list_nodes())], ["a"])
        nyc = self.make_driver(region="nyc", ex_region_only=True)
        self.assertEqual([n.name for n in self.successResultOf(nyc.list_nodes())], ["a", "c"])

    def test_node_details_are_fetched_by_id(self) -> None:
        droplet = self.fake.add_droplet("web")
        node = self.successResultOf(self.driver.ex_get_node_details(droplet.id))
        self.assertEqual((node.id, node.name), (str(droplet.id), "web"))
        self.assertEqual(self.requests(), [("GET", f"/v2/droplets/{droplet.id}")])

    def test_a_missing_droplet_is_node_not_found_with_the_providers_details(self) -> None:
        failure = self.failureResultOf(self.driver.ex_get_node_details("42"), NodeNotFoundError)
        error = failure.value
        self.assertEqual((error.status, error.code), (404, "not_found"))
        self.assertEqual(error.request_id, "9a1f2c3d-0000-4000-8000-000000000001")
        self.assertIn("could not be found", str(error))
        self.assertEqual(len(self.fake.received), 1)

    def test_a_node_id_that_is_not_a_droplet_id_is_refused(self) -> None:
        for bad in ("web-1", "", None, "1/actions"):
            self.assert_refused(self.driver.ex_get_node_details, bad)


class PagingSafetyTests(SynchronousTestCase):
    """Paging against scripted answers the fake would never give."""

    def driver(self, *answers: Any) -> tuple[DigitalOceanNodeDriver, ScriptedResource]:
        server = ScriptedResource(*answers)
        driver = DigitalOceanNodeDriver(
            TOKEN, reactor=Clock(), ex_agent=RequestTraversalAgent(server)
        )
        return driver, server

    def test_the_next_page_is_asked_of_the_drivers_own_endpoint(self) -> None:
        driver, server = self.driver(
            (200, {}, listing("droplets", [], "https://elsewhere.example/v2/droplets?page=2")),
            (200, {}, listing("droplets", [])),
        )
        self.successResultOf(driver.list_nodes())
        second = server.received[1]
        self.assertEqual(second.uri, "/v2/droplets?per_page=200&page=2")
        self.assertEqual(second.header("host"), API_HOST)

    def test_a_next_link_back_to_an_earlier_page_is_malformed(self) -> None:
        driver, _ = self.driver(
            (200, {}, listing("droplets", [], "https://api.digitalocean.com/v2/droplets?page=1"))
        )
        self.failureResultOf(driver.list_nodes(), MalformedResponseError)

    def test_a_next_link_without_a_page_is_malformed(self) -> None:
        driver, _ = self.driver(
            (200, {}, listing("droplets", [], "https://api.digitalocean.com/v2/droplets"))
        )
        self.failureResultOf(driver.list_nodes(), MalformedResponseError)

    def test_an_answer_without_the_list_is_malformed(self) -> None:
        driver, _ = self.driver((200, {}, b'{"sizes": {}}'))
        self.failureResultOf(driver.list_sizes(), MalformedResponseError)

    def test_an_answer_that_is_not_json_is_malformed(self) -> None:
        driver, _ = self.driver((200, {}, b"<html>maintenance</html>"))
        self.failureResultOf(driver.list_locations(), MalformedResponseError)

    def test_a_request_id_in_the_error_body_is_kept(self) -> None:
        body = b'{"id": "not_found", "message": "gone", "request_id": "4d9d8375-3c56"}'
        driver, _ = self.driver((404, {}, body))
        failure = self.failureResultOf(driver.ex_get_node_details(1), NodeNotFoundError)
        self.assertEqual(failure.value.request_id, "4d9d8375-3c56")


class CreateNodeTests(DigitalOceanTestCase):
    def test_create_node_posts_a_droplet_in_the_drivers_region(self) -> None:
        driver = self.make_driver(region="ams3")
        node = self.successResultOf(driver.create_node("web-1", "s-1vcpu-1gb", "ubuntu-24-04-x64"))
        self.assertEqual((node.name, node.state), ("web-1", NodeState.PENDING))
        self.assertEqual(node.extra["region_slug"], "ams3")
        [received] = self.fake.received
        self.assertEqual((received.method, received.path), ("POST", "/v2/droplets"))
        self.assertEqual(received.headers["content-type"], "application/json")
        self.assertEqual(
            received.json(),
            {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "region": "ams3"},
        )

    def test_create_node_takes_models_from_the_listings(self) -> None:
        size = NodeSize("s-2vcpu-2gb", "s-2vcpu-2gb", 2048, 60, 3, 0.02, self.driver)
        image = NodeImage("100002", "12 x64", self.driver)
        location = NodeLocation("fra1", "Frankfurt 1", "DE", self.driver)
        node = self.successResultOf(self.driver.create_node("db", size, image, location))
        self.assertEqual(
            self.fake.received[0].json(),
            {"name": "db", "size": "s-2vcpu-2gb", "image": 100002, "region": "fra1"},
        )
        assert isinstance(node.size, NodeSize) and node.image is not None
        self.assertEqual((node.size.id, node.image.id), ("s-2vcpu-2gb", "100002"))

    def test_without_a_location_or_region_digitalocean_picks_one(self) -> None:
        self.successResultOf(self.driver.create_node("web", "s-1vcpu-1gb", 100001))
        self.assertNotIn("region", self.fake.received[0].json())

    def test_keys_tags_user_data_and_attributes_are_sent(self) -> None:
        first = self.fake.add_key("a", public_key())
        second = self.fake.add_key("b", public_key())
        key_pair = KeyPair("a", None, first.fingerprint, self.driver, extra={"id": first.id})
        d = self.driver.create_node(
            "web",
            "s-1vcpu-1gb",
            "ubuntu-24-04-x64",
            "sfo3",
            ex_ssh_keys=[key_pair, second.fingerprint, str(second.id)],
            ex_tags=["web", "env:prod"],
            ex_user_data="#cloud-config\n",
            ex_create_attr={"backups": True, "ipv6": True, "vpc_uuid": "760e09ef"},
        )
        node = self.successResultOf(d)
        body = self.fake.received[0].json()
        self.assertEqual(body["ssh_keys"], [first.id, second.fingerprint, second.id])
        self.assertEqual(body["tags"], ["web", "env:prod"])
        self.assertEqual(body["user_data"], "#cloud-config\n")
        self.assertEqual(
            (body["backups"], body["ipv6"], body["vpc_uuid"]), (True, True, "760e09ef")
        )
        self.assertEqual(node.extra["tags"], ["web", "env:prod"])
        self.assertEqual(
            self.fake.droplets[int(node.id)].ssh_keys, [first.id, second.id, second.id]
        )

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        # Any: the calls pass wrong types on purpose.
        create: Any = self.driver.create_node
        for call in (
            lambda: create("under_score", "s-1vcpu-1gb", "ubuntu"),
            lambda: create("", "s-1vcpu-1gb", "ubuntu"),
            lambda: create("web", None, "ubuntu"),
            lambda: create("web", "s-1vcpu-1gb", None),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", 3),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_keyname="old"),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_create_attr={"color": "red"}),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_create_attr={"backups": "yes"}),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_tags="web"),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_tags=["has space"]),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_ssh_keys=["not-a-fingerprint"]),
            lambda: create("web", "s-1vcpu-1gb", "ubuntu", ex_user_data="x" * (64 * 1024 + 1)),
            lambda: create(
                "web", "s-1vcpu-1gb", "ubuntu", ex_tags=["a"], ex_create_attr={"tags": ["b"]}
            ),
        ):
            self.assert_refused(call)

    def test_a_size_digitalocean_refuses_is_invalid_request_error(self) -> None:
        failure = self.failureResultOf(
            self.driver.create_node("web", "s-64vcpu-1tb", "ubuntu-24-04-x64"), InvalidRequestError
        )
        error = failure.value
        self.assertEqual((error.status, error.code), (422, "unprocessable_entity"))
        self.assertIn("invalid size", error.message)
        self.assertTrue(error.request_id)

    def test_creating_is_not_retried(self) -> None:
        self.fake.fail("/v2/droplets", 503, method="POST")
        d = self.driver.create_node("web", "s-1vcpu-1gb", "ubuntu-24-04-x64")
        self.failureResultOf(d, ServiceUnavailableError)
        self.assertEqual(self.requests(), [("POST", "/v2/droplets")])
        self.assertEqual(self.fake.droplets, {})

    def test_wait_until_running_sees_the_droplet_boot(self) -> None:
        self.fake.boot_seconds = 25
        node = self.successResultOf(self.driver.create_node("web", "s-1vcpu-1gb", 100001))
        d = self.driver.wait_until_running([node], wait_period=10, timeout=60)
        self.clock.advance(10)
        self.clock.advance(10)
        self.assertNoResult(d)
        self.clock.advance(10)
        [(running, addresses)] = self.successResultOf(d)
        self.assertEqual(running.state, NodeState.RUNNING)
        self.assertEqual(addresses, [self.fake.droplets[int(node.id)].public_ip])


class ActionTests(DigitalOceanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.droplet = self.fake.add_droplet("web")
        self.target = self.node(str(self.droplet.id))

    def action_types(self) -> list[str]:
        return [r.json()["type"] for r in self.fake.received if r.method == "POST"]

    def test_each_method_posts_its_droplet_action(self) -> None:
        calls = [
            (self.driver.reboot_node, "reboot"),
            (self.driver.ex_hard_reboot, "power_cycle"),
            (self.driver.stop_node, "shutdown"),
            (self.driver.start_node, "power_on"),
            (lambda node: self.driver.stop_node(node, ex_force=True), "power_off"),
            (self.driver.ex_power_on_node, "power_on"),
            (self.driver.ex_shutdown_node, "shutdown"),
        ]
        for call, _ in calls:
            self.assertIs(self.successResultOf(call(self.target)), True)
        self.assertEqual(self.action_types(), [kind for _, kind in calls])
        self.assertEqual(
            {r.path for r in self.fake.received}, {f"/v2/droplets/{self.droplet.id}/actions"}
        )
        self.assertEqual(self.droplet.status, "off")

    def test_model_shortcuts_reach_the_driver(self) -> None:
        self.successResultOf(self.target.stop_node())
        self.successResultOf(self.target.start())
        self.successResultOf(self.target.reboot())
        self.assertEqual(self.action_types(), ["shutdown", "power_on", "reboot"])

    def test_an_action_the_droplets_state_forbids_is_invalid_request_error(self) -> None:
        failure = self.failureResultOf(self.driver.start_node(self.target), InvalidRequestError)
        self.assertIn("already powered on", failure.value.message)

    def test_actions_are_not_retried(self) -> None:
        self.fake.fail(f"/v2/droplets/{self.droplet.id}/actions", 500)
        self.failureResultOf(self.driver.reboot_node(self.target), ServiceUnavailableError)
        self.assertEqual(len(self.fake.received), 1)

    def test_an_action_on_a_missing_droplet_is_node_not_found(self) -> None:
        self.failureResultOf(self.driver.reboot_node(self.node("12")), NodeNotFoundError)

    def test_actions_need_a_node(self) -> None:
        self.assert_refused(self.driver.reboot_node, self.droplet.id)
        self.assert_refused(self.driver.stop_node, self.target, ex_force="yes")

    def test_destroy_node_deletes_the_droplet(self) -> None:
        self.assertIs(self.successResultOf(self.driver.destroy_node(self.target)), True)
        self.assertEqual(self.requests(), [("DELETE", f"/v2/droplets/{self.droplet.id}")])
        self.assertEqual(self.fake.droplets, {})
        self.failureResultOf(self.driver.destroy_node(self.target), NodeNotFoundError)

    def test_destroy_node_is_retried_after_a_server_error(self) -> None:
        self.fake.fail(f"/v2/droplets/{self.droplet.id}", 502)
        d = self.driver.destroy_node(self.target)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertIs(self.successResultOf(d), True)
        self.assertEqual(len(self.fake.received), 2)


class CatalogueTests(DigitalOceanTestCase):
    def test_sizes_carry_libclouds_fields(self) -> None:
        sizes = self.successResultOf(self.driver.list_sizes())
        size = {s.id: s for s in sizes}["s-1vcpu-1gb"]
        self.assertEqual(
            (size.name, size.ram, size.disk, size.bandwidth, size.price),
            ("s-1vcpu-1gb", 1024, 25, 1.0, round(6.0 / 672, 5)),
        )
        self.assertEqual((size.extra["vcpus"], size.extra["price_monthly"]), (1, 6.0))
        self.assertEqual(size.extra["regions"], list(self.fake.regions))
        self.assertIs(size.extra["available"], True)

    def test_sizes_for_a_location_are_those_offered_there(self) -> None:
        self.fake.add_size("g-2vcpu-8gb", 8192, 2, 25, regions=["sfo3"])
        ams3 = NodeLocation("ams3", "Amsterdam 3", "NL", self.driver)
        sizes = self.successResultOf(self.driver.list_sizes(ams3))
        self.assertNotIn("g-2vcpu-8gb", [s.id for s in sizes])
        self.assertEqual(len(sizes), 4)

    def test_images_are_one_listing_of_public_and_private_images(self) -> None:
        # As Libcloud's: a ported script finds its own snapshots here.
        self.fake.add_image("my snapshot", kind="private")
        images = self.successResultOf(self.driver.list_images())
        self.assertEqual(
            [image.name for image in images],
            ["24.04 (LTS) x64", "12 x64", "Docker on Ubuntu 22.04", "my snapshot"],
        )
        [request] = self.fake.received
        self.assertEqual((request.path, request.query.get("type")), ("/v2/images", None))

    def test_image_type_narrows_the_listing(self) -> None:
        self.fake.add_image("my snapshot", kind="private")
        images = self.successResultOf(self.driver.list_images(ex_type="distribution"))
        self.assertEqual(
            [image.extra["slug"] for image in images], ["ubuntu-24-04-x64", "debian-12-x64"]
        )
        self.assertEqual([r.query["type"] for r in self.fake.received], [["distribution"]])

    def test_images_carry_libclouds_fields(self) -> None:
        [image] = self.successResultOf(self.driver.list_images(ex_type="application"))
        self.assertEqual((image.id, image.name), ("100003", "Docker on Ubuntu 22.04"))
        self.assertEqual(
            {key: image.extra[key] for key in ("distribution", "public", "slug", "min_disk_size")},
            {"distribution": "Ubuntu", "public": True, "slug": "docker-20-04", "min_disk_size": 10},
        )
        self.assertEqual(image.extra["regions"], list(self.fake.regions))
        self.assertEqual(image.extra["created_at"], "2023-11-14T22:13:20Z")

    def test_private_images_are_the_accounts_own(self) -> None:
        self.fake.add_image("my snapshot", kind="private")
        images = self.successResultOf(self.driver.list_images(ex_private=True))
        self.assertEqual([image.name for image in images], ["my snapshot"])
        self.assertEqual(self.fake.received[0].query["private"], ["true"])

    def test_images_for_a_location_are_those_available_there(self) -> None:
        self.fake.add_image("sfo only", regions=["sfo3"])
        lon1 = NodeLocation("lon1", "London 1", "GB", self.driver)
        images = self.successResultOf(self.driver.list_images(lon1))
        self.assertNotIn("sfo only", [image.name for image in images])

    def test_an_unknown_image_type_is_refused(self) -> None:
        self.assert_refused(self.driver.list_images, ex_type="backup")
        self.assert_refused(self.driver.list_images, location="lon1")

    def test_locations_are_the_available_regions_with_their_countries(self) -> None:
        locations = self.successResultOf(self.driver.list_locations())
        self.assertEqual(
            [(loc.id, loc.name, loc.country) for loc in locations][:3],
            [
                ("nyc3", "New York 3", "US"),
                ("sfo3", "San Francisco 3", "US"),
                ("ams3", "Amsterdam 3", "NL"),
            ],
        )
        self.assertNotIn("nyc1", [loc.id for loc in locations])
        self.assertIn("s-1vcpu-1gb", locations[0].extra["sizes"])
        self.assertIn("backups", locations[0].extra["features"])

    def test_every_region_is_listed_when_asked(self) -> None:
        locations = self.successResultOf(self.driver.list_locations(ex_available=False))
        self.assertEqual([loc.id for loc in locations], list(self.fake.regions))

    def test_region_countries(self) -> None:
        self.assertEqual(
            [region_country(slug) for slug in ("lon1", "fra1", "sgp1", "tor1", "xyz9")],
            ["GB", "DE", "SG", "CA", ""],
        )

    def test_account_info_is_digitaloceans_account_object(self) -> None:
        account = self.successResultOf(self.driver.ex_account_info())
        self.assertEqual((account["droplet_limit"], account["email"]), (25, "sammy@example.com"))


class KeyPairTests(DigitalOceanTestCase):
    def test_key_pairs_carry_name_fingerprint_public_key_and_id(self) -> None:
        key = self.fake.add_key("deploy", public_key())
        [pair] = self.successResultOf(self.driver.list_key_pairs())
        self.assertEqual(
            (pair.name, pair.fingerprint, pair.public_key, pair.private_key, pair.extra),
            ("deploy", key.fingerprint, key.public_key, None, {"id": key.id}),
        )
        self.assertEqual(self.requests(), [("GET", "/v2/account/keys")])

    def test_get_key_pair_finds_the_key_by_name(self) -> None:
        self.fake.add_key("other", public_key())
        key = self.fake.add_key("deploy", public_key())
        pair = self.successResultOf(self.driver.get_key_pair("deploy"))
        self.assertEqual(pair.extra["id"], key.id)

    def test_get_key_pair_for_an_unknown_name_is_key_pair_does_not_exist(self) -> None:
        self.failureResultOf(self.driver.get_key_pair("nope"), KeyPairDoesNotExistError)

    def test_importing_uploads_the_public_key(self) -> None:
        material = public_key()
        pair = self.successResultOf(
            self.driver.import_key_pair_from_string("deploy", material + "\n")
        )
        self.assertEqual(self.fake.received[0].json(), {"name": "deploy", "public_key": material})
        [key] = self.fake.keys.values()
        self.assertEqual((pair.fingerprint, pair.extra["id"]), (key.fingerprint, key.id))

    def test_create_key_pair_uploads_the_public_key_given_as_in_libcloud(self) -> None:
        pair = self.successResultOf(self.driver.create_key_pair("deploy", public_key()))
        self.assertEqual(pair.name, "deploy")
        self.assertIsNone(pair.private_key)

    def test_create_key_pair_without_a_public_key_is_refused(self) -> None:
        self.assert_refused(lambda: self.driver.create_key_pair("deploy"))

    def test_a_malformed_public_key_is_refused_before_any_request(self) -> None:
        for material in ("", "not a key", "ssh-rsa", "ssh-rsa AAAA\nssh-rsa BBBB", None):
            self.assert_refused(self.driver.import_key_pair_from_string, "k", material)

    def test_uploading_a_key_twice_is_key_pair_already_exists(self) -> None:
        material = public_key()
        self.fake.add_key("deploy", material)
        d = self.driver.import_key_pair_from_string("again", material)
        failure = self.failureResultOf(d, KeyPairAlreadyExistsError)
        self.assertEqual((failure.value.status, failure.value.code), (422, "unprocessable_entity"))

    def test_delete_key_pair_deletes_by_id(self) -> None:
        key = self.fake.add_key("deploy", public_key())
        pair = self.successResultOf(self.driver.get_key_pair("deploy"))
        self.assertIs(self.successResultOf(self.driver.delete_key_pair(pair)), True)
        self.assertEqual(self.requests()[-1], ("DELETE", f"/v2/account/keys/{key.id}"))
        self.assertEqual(self.fake.keys, {})

    def test_delete_key_pair_takes_a_fingerprint(self) -> None:
        key = self.fake.add_key("deploy", public_key())
        self.successResultOf(self.driver.delete_key_pair(key.fingerprint))
        self.assertEqual(self.requests(), [("DELETE", f"/v2/account/keys/{key.fingerprint}")])

    def test_deleting_a_missing_key_is_key_pair_does_not_exist(self) -> None:
        failure = self.failureResultOf(self.driver.delete_key_pair(7), KeyPairDoesNotExistError)
        self.assertEqual(failure.value.status, 404)


class RateLimitTests(DigitalOceanTestCase):
    def test_the_latest_figures_are_kept(self) -> None:
        self.successResultOf(self.driver.list_sizes())
        limit = self.driver.ex_rate_limit
        self.assertEqual((limit.limit, limit.remaining, limit.reset), (5000, 4999, START + 3600))

    def test_no_request_is_sent_before_the_reset_once_none_remain(self) -> None:
        self.fake.rate_limit(2, window=60)
        self.successResultOf(self.driver.list_sizes())
        self.clock.advance(5)
        self.successResultOf(self.driver.list_sizes())
        d = self.driver.list_sizes()
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(54.9)
        self.assertNoResult(d)
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(0.1)
        self.assertEqual(len(self.successResultOf(d)), 4)
        self.assertEqual(len(self.fake.received), 3)

    def test_requests_sent_together_do_not_spend_the_last_one_twice(self) -> None:
        self.fake.rate_limit(2, window=60)
        self.successResultOf(self.driver.list_sizes())
        self.fake.latency = 1.0
        first, second = self.driver.list_sizes(), self.driver.list_locations()
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(1)
        self.fake.flush()
        self.successResultOf(first)
        self.clock.advance(58)
        self.assertNoResult(second)
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(1)
        self.clock.advance(1)
        self.fake.flush()
        self.successResultOf(second)
        self.assertEqual([r.path for r in self.fake.received][2:], ["/v2/regions"])

    def test_a_429_is_retried_once_the_reset_time_comes(self) -> None:
        self.fake.rate_limit(1, window=30)
        other = self.make_driver()
        self.successResultOf(other.list_sizes())
        d = self.driver.list_sizes()
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(29.9)
        self.assertNoResult(d)
        self.assertEqual(len(self.fake.received), 2)
        self.clock.advance(0.1)
        self.assertEqual(len(self.successResultOf(d)), 4)
        self.assertEqual(len(self.fake.received), 3)

    def test_a_429_with_retry_after_waits_that_long(self) -> None:
        self.fake.fail("/v2/sizes", 429, headers={"Retry-After": "4"})
        d = self.driver.list_sizes()
        self.clock.advance(3.9)
        self.assertEqual(len(self.fake.received), 1)
        self.clock.advance(0.1)
        self.successResultOf(d)
        self.assertEqual(len(self.fake.received), 2)

    def test_rate_limit_reached_carries_the_wait_until_reset(self) -> None:
        self.fake.rate_limit(1, window=30)
        self.successResultOf(self.make_driver().list_sizes())
        self.clock.advance(10)
        driver = self.make_driver(ex_retry=RetryPolicy(max_attempts=1))
        failure = self.failureResultOf(driver.list_sizes(), RateLimitReached)
        error = failure.value
        self.assertEqual(
            (error.status, error.code, error.retry_after), (429, "too_many_requests", 20.0)
        )
        self.assertTrue(error.request_id)

    def test_a_throttled_post_is_not_retried(self) -> None:
        self.fake.fail("/v2/droplets", 429, method="POST")
        d = self.driver.create_node("web", "s-1vcpu-1gb", "ubuntu-24-04-x64")
        self.failureResultOf(d, RateLimitReached)
        self.assertEqual(len(self.fake.received), 1)

    def test_cancelling_a_held_request_sends_nothing(self) -> None:
        self.fake.rate_limit(1, window=60)
        self.successResultOf(self.driver.list_sizes())
        d = self.driver.list_sizes()
        d.cancel()
        self.failureResultOf(d)
        self.clock.advance(60)
        self.assertEqual(len(self.fake.received), 1)


class RateLimitStateTests(SynchronousTestCase):
    """The rate-limit bookkeeping on its own."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.limit = RateLimit(self.clock, "DigitalOcean")

    def observe(self, remaining: str, reset: str, limit: str = "5000") -> None:
        self.limit.observe(
            {"ratelimit-limit": limit, "ratelimit-remaining": remaining, "ratelimit-reset": reset}
        )

    def test_nothing_is_held_before_any_answer(self) -> None:
        self.assertEqual(self.limit.delay(), 0.0)
        self.successResultOf(Deferred.fromCoroutine(self.limit.acquire()))
        self.assertIsNone(self.limit.remaining)

    def test_sending_counts_against_the_remaining_requests(self) -> None:
        self.observe("1", str(int(START) + 60))
        self.successResultOf(Deferred.fromCoroutine(self.limit.acquire()))
        self.assertEqual(self.limit.remaining, 0)
        self.assertEqual(self.limit.delay(), 60.0)

    def test_within_one_window_the_lowest_count_wins(self) -> None:
        self.observe("3", "1700000060")
        self.observe("5", "1700000060")
        self.assertEqual(self.limit.remaining, 3)
        self.observe("9", "1700000070")
        self.assertEqual(self.limit.remaining, 9)

    def test_unreadable_headers_are_ignored(self) -> None:
        self.observe("7", "1700000060")
        self.observe("lots", "1700000099")
        self.limit.observe({"ratelimit-remaining": "0"})
        self.assertEqual((self.limit.remaining, self.limit.reset), (7, 1_700_000_060))

    def test_a_reset_in_the_past_holds_nothing(self) -> None:
        self.observe("0", str(int(START) - 5))
        self.assertEqual(self.limit.delay(), 0.0)


class FanOutTests(DigitalOceanTestCase):
    def test_listing_several_regions_at_once_keeps_each_regions_droplets(self) -> None:
        for name, region in (("a", "nyc3"), ("b", "ams3"), ("c", "ams3"), ("d", "sfo3")):
            self.fake.add_droplet(name, region=region)
        drivers = [
            self.make_driver(region=region, ex_region_only=True)
            for region in ("nyc3", "ams3", "sfo3")
        ]
        refused = self.make_driver("dop_v1_revoked", region="lon1", ex_region_only=True)
        d = multi.list_nodes([*drivers, refused], concurrency=4, timeout=30)
        result = self.successResultOf(d)
        self.assertEqual(
            {driver.region: [n.name for n in nodes] for driver, nodes in result.results.items()},
            {"nyc3": ["a"], "ams3": ["b", "c"], "sfo3": ["d"]},
        )
        self.assertEqual(list(result.failures), [refused])
        result.failures[refused].trap(InvalidCredsError)


class RealSocketTests(TestCase):
    """The driver and the fake over a real TCP connection on 127.0.0.1."""

    def test_a_driver_pages_creates_and_destroys_over_a_socket(self) -> Deferred[None]:
        from twisted.internet import reactor as global_reactor

        reactor: Any = global_reactor
        fake = FakeDigitalOcean([TOKEN])
        for number in range(3):
            fake.add_droplet(f"web-{number}")
        port = reactor.listenTCP(0, fake.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        driver = DigitalOceanNodeDriver(
            TOKEN, host="127.0.0.1", port=port.getHost().port, secure=False, ex_per_page=2
        )
        self.addCleanup(driver.close)

        async def scenario() -> None:
            nodes = await driver.list_nodes()
            self.assertEqual([n.name for n in nodes], ["web-0", "web-1", "web-2"])
            created = await driver.create_node("web-3", "s-1vcpu-1gb", "ubuntu-24-04-x64", "fra1")
            self.assertEqual(
                (created.state, created.extra["region_slug"]), (NodeState.PENDING, "fra1")
            )
            self.assertIs(await driver.destroy_node(created), True)
            try:
                await driver.ex_get_node_details(created.id)
            except NodeNotFoundError as error:
                self.assertEqual(error.status, 404)
            else:
                self.fail("the destroyed droplet was found")
            self.assertEqual([r.query.get("page") for r in fake.received[:2]], [None, ["2"]])
            self.assertEqual(fake.received[0].headers["authorization"], f"Bearer {TOKEN}")

        return Deferred.fromCoroutine(scenario())
