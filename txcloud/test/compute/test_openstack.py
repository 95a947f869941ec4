"""
Tests for the OpenStack compute driver, txcloud.compute.drivers.openstack,
against txcloud.testing.openstack (Keystone, Nova and Glance) in memory on
a Clock, and once over a real socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.compute.base import KeyPair, Node, NodeLocation
from txcloud.compute.drivers.openstack import OpenStackNodeDriver
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    NodeNotFoundError,
    PermissionDeniedError,
    RateLimitReached,
    ResourceConflictError,
)
from txcloud.http import RetryPolicy
from txcloud.test.emulators import reactor
from txcloud.test.http._support import capture_logs
from txcloud.testing.openstack import (
    DEFAULT_PASSWORD,
    DEFAULT_PROJECT,
    DEFAULT_USER,
    FakeOpenStack,
)

#: The fake's clock starts here (POSIX seconds).
START = 1_700_000_000.0
AUTH_URL = "http://openstack.test/v3"


def no_jitter(cap: float) -> float:
    return cap


def public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " me@host"


class OpenStackTestCase(SynchronousTestCase):
    """A driver of RegionOne in front of a FakeOpenStack, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.cloud = FakeOpenStack(clock=self.clock)
        self.driver = self.make_driver()

    def make_driver(self, region: str | None = "RegionOne", **kwargs: Any) -> OpenStackNodeDriver:
        kwargs.setdefault(
            "ex_retry",
            RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, jitter=no_jitter),
        )
        return self.cloud.driver(region, **kwargs)

    def requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.cloud.received]

    def node(self, node_id: str = "9168b536-cd40-4630-b43f-b259807c6e87") -> Node:
        return Node(node_id, "web", NodeState.RUNNING, [], [], self.driver)

    def assert_refused(
        self, call: Callable[..., object], *args: Any, **kwargs: Any
    ) -> InvalidArgumentError:
        """``call(*args, **kwargs)`` raises InvalidArgumentError and sends nothing."""
        raised = self.assertRaises(InvalidArgumentError, call, *args, **kwargs)
        self.assertEqual(self.cloud.received, [])
        return raised


class ConstructionTests(OpenStackTestCase):
    def test_get_driver_finds_the_openstack_driver(self) -> None:
        self.assertIs(get_driver(Provider.OPENSTACK), OpenStackNodeDriver)
        self.assertEqual(str(Provider.OPENSTACK), "openstack")

    def test_libclouds_arguments_build_password_credentials(self) -> None:
        driver = OpenStackNodeDriver(
            "alice",
            "pw",
            ex_force_auth_url="https://keystone.example.com:5000",
            ex_force_auth_version="3.x_password",
            ex_tenant_name="demo",
            ex_domain_name="Users",
            ex_force_service_region="RegionTwo",
        )
        credentials = driver.credentials
        self.assertEqual(credentials.auth_url, "https://keystone.example.com:5000/v3")
        self.assertEqual(
            (credentials.method, credentials.user_name, credentials.user_domain_name),
            ("password", "alice", "Users"),
        )
        self.assertEqual((credentials.project_name, driver.region), ("demo", "RegionTwo"))

    def test_the_password_is_in_no_repr(self) -> None:
        driver = self.make_driver()
        for text in (repr(driver), repr(driver.credentials), repr(driver.session)):
            self.assertNotIn(DEFAULT_PASSWORD, text)
        self.assertEqual(
            repr(driver), "<OpenStackNodeDriver provider='openstack' region='RegionOne'>"
        )

    def test_host_and_port_name_keystone_without_an_auth_url(self) -> None:
        driver = OpenStackNodeDriver(
            "alice", "pw", host="127.0.0.1", port=5000, secure=False, ex_tenant_name="demo"
        )
        self.assertEqual(driver.credentials.auth_url, "http://127.0.0.1:5000/v3")

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        cases: list[dict[str, Any]] = [
            {"ex_force_auth_url": None},
            {"ex_tenant_name": None},
            {"ex_force_auth_version": "2.0_password"},
            {"ex_force_auth_url": "http://keystone:5000/v2.0"},
            {"ex_force_auth_url": "keystone:5000"},
            {"ex_interface": "private"},
            {"ex_page_size": 0},
            {"secret": None},
            {"region": "RegionOne", "ex_force_service_region": "RegionTwo"},
            {"ex_force_base_url": "nova:8774"},
            {"api_version": "1.0"},
        ]
        for case in cases:
            raised = self.assert_refused(self.make_driver, **case)
            self.assertNotIn(DEFAULT_PASSWORD, str(raised))

    def test_an_application_credential_takes_no_project(self) -> None:
        self.assert_refused(
            self.make_driver, key="id", secret="s", ex_force_auth_version="3.x_appcred"
        )


class AuthenticationTests(OpenStackTestCase):
    def test_password_authentication_scopes_the_token_to_the_project(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        auth, listing = self.cloud.received
        self.assertEqual((auth.method, auth.path), ("POST", "/v3/auth/tokens"))
        self.assertEqual(
            auth.json(),
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": DEFAULT_USER,
                                "domain": {"id": "default"},
                                "password": DEFAULT_PASSWORD,
                            }
                        },
                    },
                    "scope": {"project": {"name": DEFAULT_PROJECT, "domain": {"id": "default"}}},
                }
            },
        )
        self.assertEqual(listing.path, "/compute/RegionOne/v2.1/servers/detail")
        self.assertEqual(listing.header("x-auth-token"), self.cloud.grants[0].token)

    def test_an_application_credential_authenticates_without_a_scope(self) -> None:
        credential = self.cloud.add_app_credential("ci", "app-secret-1")
        driver = self.make_driver(
            key=credential.id,
            secret="app-secret-1",
            ex_force_auth_version="3.x_appcred",
            ex_tenant_name=None,
        )
        self.successResultOf(driver.list_nodes())
        body = self.cloud.received[0].json()["auth"]
        self.assertNotIn("scope", body)
        self.assertEqual(
            body["identity"]["application_credential"],
            {"id": credential.id, "secret": "app-secret-1"},
        )
        self.assertEqual(self.cloud.grants[0].method, "application_credential")

    def test_a_token_is_traded_for_a_project_scoped_one(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        first = self.cloud.grants[0].token
        driver = self.make_driver(key=None, secret=None, ex_force_auth_token=first)
        self.successResultOf(driver.list_nodes())
        self.assertEqual(self.cloud.received[2].json()["auth"]["identity"]["token"], {"id": first})
        self.assertEqual([g.method for g in self.cloud.grants], ["password", "token"])

    def test_the_token_is_reused_until_it_nearly_expires(self) -> None:
        for _ in range(3):
            self.successResultOf(self.driver.list_nodes())
        self.assertEqual(len(self.cloud.grants), 1)
        # Five minutes before expiry: used, and renewed in the background.
        self.clock.advance(3600 - 299)
        self.successResultOf(self.driver.list_nodes())
        self.assertEqual(len(self.cloud.grants), 2)
        self.successResultOf(self.driver.list_nodes())
        self.assertEqual(len(self.cloud.grants), 2)
        self.assertEqual(self.cloud.received[-1].header("x-auth-token"), self.cloud.grants[1].token)

    def test_an_expired_token_is_replaced_before_the_request(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        self.clock.advance(3600)
        self.successResultOf(self.driver.list_nodes())
        self.assertEqual(len(self.cloud.grants), 2)
        self.assertEqual(self.cloud.received[-1].header("x-auth-token"), self.cloud.grants[1].token)

    def test_a_revoked_token_is_renewed_once_on_401(self) -> None:
        self.cloud.add_server("web-1")
        self.successResultOf(self.driver.list_nodes())
        self.cloud.revoke_tokens()
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual(node.name, "web-1")
        self.assertEqual(
            self.requests()[2:],
            [
                ("GET", "/compute/RegionOne/v2.1/servers/detail"),
                ("POST", "/v3/auth/tokens"),
                ("GET", "/compute/RegionOne/v2.1/servers/detail"),
            ],
        )

    def test_a_second_401_is_invalid_creds_error(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        self.cloud.fail("compute/*", 401, times=2)
        failure = self.failureResultOf(self.driver.list_nodes(), InvalidCredsError)
        self.assertEqual((failure.value.status, failure.value.code), (401, "unauthorized"))

    def test_a_token_nova_refuses_twice_is_invalid_creds_error_with_keystones_title(self) -> None:
        self.successResultOf(self.driver.list_nodes())
        self.cloud.token_lifetime = 0
        self.cloud.revoke_tokens()
        error = self.failureResultOf(self.driver.list_nodes(), InvalidCredsError).value
        self.assertEqual((error.status, error.code), (401, "Unauthorized"))
        self.assertIn("The request you have made requires authentication.", str(error))

    def test_regional_drivers_of_one_project_share_one_token(self) -> None:
        agent = self.cloud.agent()
        one = self.make_driver("RegionOne", ex_agent=agent)
        two = self.make_driver("RegionTwo", ex_agent=agent)
        self.successResultOf(one.list_nodes())
        self.successResultOf(two.list_nodes())
        self.assertEqual(len(self.cloud.grants), 1)
        self.assertIs(one.session, two.session)

    def test_a_refused_password_is_invalid_creds_error_without_the_password(self) -> None:
        driver = self.make_driver(secret="wrong-password-123")
        error = self.failureResultOf(driver.list_nodes(), InvalidCredsError).value
        self.assertEqual((error.status, error.code), (401, "Unauthorized"))
        self.assertIn("Keystone at http://openstack.test/v3", str(error))
        self.assertNotIn("wrong-password-123", str(error))
        self.assertEqual(self.requests(), [("POST", "/v3/auth/tokens")])

    def test_secrets_are_never_logged(self) -> None:
        events = capture_logs(self)
        self.successResultOf(self.driver.list_nodes())
        self.cloud.revoke_tokens()
        self.successResultOf(self.driver.list_nodes())
        self.assertTrue(events)
        secrets = [DEFAULT_PASSWORD, *(grant.token for grant in self.cloud.grants)]
        for event in events:
            for secret in secrets:
                self.assertNotIn(secret, formatEvent(event))

    def test_an_unknown_region_is_refused_after_auth_naming_the_known_ones(self) -> None:
        driver = self.make_driver("RegionNine")
        error = self.failureResultOf(driver.list_nodes(), InvalidArgumentError).value
        self.assertIn("RegionOne, RegionTwo", str(error))
        self.assertEqual(self.requests(), [("POST", "/v3/auth/tokens")])

    def test_no_region_with_several_in_the_catalog_is_refused(self) -> None:
        self.failureResultOf(self.make_driver(None).list_nodes(), InvalidArgumentError)

    def test_the_internal_interface_and_a_forced_base_url(self) -> None:
        self.successResultOf(self.make_driver(ex_interface="internal").list_nodes())
        base = "http://openstack.test/compute/RegionTwo/v2.1"
        self.successResultOf(self.make_driver(ex_force_base_url=base).list_nodes())
        self.assertEqual(self.requests()[-1][1], "/compute/RegionTwo/v2.1/servers/detail")


class ListingTests(OpenStackTestCase):
    def test_each_driver_lists_its_regions_servers(self) -> None:
        web = self.cloud.add_server("web-1")
        self.cloud.add_server("db-1", region="RegionTwo")
        [node] = self.successResultOf(self.driver.list_nodes())
        self.assertEqual((node.id, node.name, node.state), (web.id, "web-1", NodeState.RUNNING))
        self.assertEqual((node.public_ips, node.private_ips), (["203.0.113.2"], ["10.0.0.2"]))
        self.assertEqual(node.extra["flavorId"], "2")

    def test_servers_are_listed_a_page_at_a_time_by_marker(self) -> None:
        names = [f"node-{n}" for n in range(5)]
        for name in names:
            self.cloud.add_server(name)
        driver = self.make_driver(ex_page_size=2)
        nodes = self.successResultOf(driver.list_nodes())
        self.assertEqual([n.name for n in nodes], names)
        listings = [r for r in self.cloud.received if r.method == "GET"]
        self.assertEqual([r.arg("marker") for r in listings], [None, nodes[1].id, nodes[3].id])
        self.assertEqual({r.arg("limit") for r in listings}, {"2"})

    def test_an_exactly_full_last_page_ends_with_an_empty_one(self) -> None:
        self.cloud.max_limit = 2
        for n in range(2):
            self.cloud.add_server(f"node-{n}")
        self.assertEqual(len(self.successResultOf(self.driver.list_nodes())), 2)
        self.assertEqual(len(self.requests()), 3)

    def test_flavors(self) -> None:
        sizes = self.successResultOf(self.driver.list_sizes())
        self.assertEqual(
            (sizes[0].id, sizes[0].name, sizes[0].ram, sizes[0].disk), ("1", "m1.tiny", 512, 1)
        )
        self.assertEqual([s.extra["vcpus"] for s in sizes], [1, 1, 2, 4])

    def test_images_come_from_glance_page_by_page_and_active_only(self) -> None:
        self.cloud.image_page_size = 2
        self.cloud.add_image("still-uploading", status="queued")
        images = self.successResultOf(self.driver.list_images())
        self.assertEqual([i.name for i in images], ["ubuntu-24.04", "debian-12", "cirros-0.6.2"])
        listings = [r for r in self.cloud.received if r.method == "GET"]
        self.assertEqual([r.path for r in listings], ["/image/RegionOne/v2/images"] * 2)
        self.assertEqual([r.arg("status") for r in listings], ["active", "active"])
        everything = self.successResultOf(self.driver.list_images(ex_only_active=False))
        self.assertEqual(len(everything), 4)

    def test_locations_are_the_catalogs_compute_regions(self) -> None:
        locations = self.successResultOf(self.driver.list_locations())
        self.assertEqual(
            [(loc.id, loc.country) for loc in locations], [("RegionOne", ""), ("RegionTwo", "")]
        )
        self.assertEqual(locations[1].extra["url"], "http://openstack.test/compute/RegionTwo/v2.1")

    def test_availability_zones(self) -> None:
        self.cloud.zones["az-down"] = False
        zones = self.successResultOf(self.driver.ex_list_availability_zones())
        self.assertEqual(
            [(z.id, z.extra["available"], z.extra["region"]) for z in zones],
            [("nova", True, "RegionOne"), ("az-down", False, "RegionOne")],
        )

    def test_a_location_of_another_region_is_refused(self) -> None:
        other = NodeLocation("RegionTwo", "RegionTwo", "", self.driver)
        self.assert_refused(self.driver.list_sizes, other)


class CreateNodeTests(OpenStackTestCase):
    def image_id(self) -> str:
        return next(iter(self.cloud.images))

    def test_create_node_posts_a_server_and_reads_it_back(self) -> None:
        sizes = self.successResultOf(self.driver.list_sizes())
        images = self.successResultOf(self.driver.list_images())
        self.cloud.add_key_pair("deploy", public_key())
        zones = self.successResultOf(self.driver.ex_list_availability_zones())
        node = self.successResultOf(
            self.driver.create_node(
                "web-2",
                sizes[0],
                images[0],
                zones[0],
                ex_keyname="deploy",
                ex_userdata="#!/bin/sh\necho hi\n",
                ex_metadata={"role": "web"},
                ex_security_groups=["web"],
                networks=["3b6d7a52-5e1c-4b4e-8e9b-6f0b0a7d1c2e"],
            )
        )
        post = next(r for r in self.cloud.received if r.method == "POST" and "servers" in r.path)
        server = post.json()["server"]
        self.assertEqual(
            {k: server[k] for k in ("name", "flavorRef", "imageRef", "availability_zone")},
            {
                "name": "web-2",
                "flavorRef": "1",
                "imageRef": images[0].id,
                "availability_zone": "nova",
            },
        )
        self.assertEqual(server["user_data"], "IyEvYmluL3NoCmVjaG8gaGkK")
        self.assertEqual(server["networks"], [{"uuid": "3b6d7a52-5e1c-4b4e-8e9b-6f0b0a7d1c2e"}])
        self.assertEqual(server["security_groups"], [{"name": "web"}])
        self.assertEqual((node.name, node.state), ("web-2", NodeState.RUNNING))
        self.assertEqual(node.extra["key_name"], "deploy")
        self.assertTrue(node.extra["password"])
        self.assertEqual(self.requests()[-1], ("GET", f"/compute/RegionOne/v2.1/servers/{node.id}"))

    def test_a_flavor_nova_does_not_know_is_invalid_request_error(self) -> None:
        error = self.failureResultOf(
            self.driver.create_node("x", "99", self.image_id()), InvalidRequestError
        ).value
        self.assertEqual((error.status, error.code), (400, "badRequest"))
        self.assertIn("Flavor 99 could not be found.", str(error))

    def test_a_used_up_quota_is_invalid_request_error(self) -> None:
        self.cloud.instance_quota = 0
        error = self.failureResultOf(
            self.driver.create_node("x", "1", self.image_id()), InvalidRequestError
        ).value
        self.assertEqual((error.status, error.code), (403, "forbidden"))
        self.assertIn("Quota exceeded", str(error))

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        image = self.image_id()
        for args, kwargs in (
            (("", "1", image), {}),
            (("x", "1", "not-a-uuid"), {}),
            (("x", "", image), {}),
            (("x", "1", image), {"ex_keyname": "bad/name"}),
            (("x", "1", image), {"ex_metadata": {"k": 1}}),
            (("x", "1", image), {"ex_userdata": "x" * 60000}),
            (("x", "1", image), {"ex_disk_config": "auto"}),
            (("x", "1", image), {"ex_nonsense": True}),
            (("x", "1", image), {"networks": "net-1"}),
        ):
            self.assert_refused(self.driver.create_node, *args, **kwargs)

    def test_wait_until_running_sees_the_server_boot(self) -> None:
        self.cloud.boot_seconds = 20
        node = self.successResultOf(self.driver.create_node("web-3", "1", self.image_id()))
        self.assertEqual(node.state, NodeState.PENDING)
        d = self.driver.wait_until_running([node], wait_period=5, ssh_interface="private_ips")
        self.assertNoResult(d)
        self.clock.advance(20)
        [(ready, addresses)] = self.successResultOf(d)
        self.assertEqual((ready.state, addresses), (NodeState.RUNNING, ready.private_ips))


class ActionTests(OpenStackTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = self.cloud.add_server("web-1")
        [self.web] = self.successResultOf(self.driver.list_nodes())

    def action(self) -> Any:
        return self.cloud.received[-1].json()

    def test_each_method_posts_its_server_action(self) -> None:
        self.assertTrue(self.successResultOf(self.driver.reboot_node(self.web)))
        self.assertEqual(self.action(), {"reboot": {"type": "SOFT"}})
        self.assertTrue(self.successResultOf(self.web.stop_node()))
        self.assertEqual((self.action(), self.server.status), ({"os-stop": None}, "SHUTOFF"))
        self.assertTrue(self.successResultOf(self.web.start()))
        self.assertEqual((self.action(), self.server.status), ({"os-start": None}, "ACTIVE"))
        self.assertTrue(self.successResultOf(self.driver.ex_hard_reboot_node(self.web)))
        self.assertEqual(self.action(), {"reboot": {"type": "HARD"}})

    def test_an_action_the_state_forbids_is_resource_conflict_error(self) -> None:
        error = self.failureResultOf(self.driver.start_node(self.web), ResourceConflictError).value
        self.assertEqual((error.status, error.code), (409, "conflictingRequest"))
        self.assertIn("vm_state active", str(error))

    def test_actions_are_not_retried(self) -> None:
        self.cloud.fail("compute/RegionOne/servers/*/action", 503)
        self.failureResultOf(self.driver.reboot_node(self.web))
        self.assertEqual(
            self.requests().count(
                ("POST", f"/compute/RegionOne/v2.1/servers/{self.web.id}/action")
            ),
            1,
        )

    def test_destroy_node_deletes_the_server(self) -> None:
        self.assertTrue(self.successResultOf(self.web.destroy()))
        self.assertEqual(self.cloud.servers, {})
        error = self.failureResultOf(self.driver.destroy_node(self.web), NodeNotFoundError).value
        self.assertEqual((error.status, error.code), (404, "itemNotFound"))
        self.assertTrue(error.request_id.startswith("req-"))

    def test_a_missing_server_is_node_not_found(self) -> None:
        missing = "00000000-0000-4000-8000-000000000000"
        self.failureResultOf(self.driver.ex_get_node_details(missing), NodeNotFoundError)
        self.failureResultOf(self.driver.reboot_node(self.node(missing)), NodeNotFoundError)

    def test_a_malformed_id_is_refused_before_any_request(self) -> None:
        self.cloud.received.clear()
        for call in (self.driver.reboot_node, self.driver.destroy_node, self.driver.stop_node):
            self.assert_refused(call, self.node("42"))
        self.assert_refused(self.driver.start_node, "not a node")
        self.assert_refused(self.driver.ex_get_node_details, "../servers")


class ErrorTests(OpenStackTestCase):
    def test_over_limit_with_retry_after_is_retried_then_rate_limit_reached(self) -> None:
        self.cloud.fail(
            "compute/RegionOne/servers/detail",
            413,
            "slow down",
            headers={"Retry-After": "7"},
            times=None,
        )
        d = self.driver.list_nodes()
        self.clock.advance(7)
        self.clock.advance(7)
        error = self.failureResultOf(d, RateLimitReached).value
        self.assertEqual((error.status, error.code, error.retry_after), (413, "overLimit", 7.0))
        self.assertEqual(
            self.requests().count(("GET", "/compute/RegionOne/v2.1/servers/detail")), 3
        )

    def test_forbidden_is_permission_denied_error(self) -> None:
        self.cloud.fail("compute/RegionOne/flavors/detail", 403, "Policy does not allow this")
        error = self.failureResultOf(self.driver.list_sizes(), PermissionDeniedError).value
        self.assertEqual(error.code, "forbidden")

    def test_glances_text_errors_keep_the_status(self) -> None:
        self.cloud.fail("image/*", 404, "No such thing")
        error = self.failureResultOf(self.driver.list_images()).value
        self.assertEqual(error.status, 404)


class KeyPairTests(OpenStackTestCase):
    def test_nova_makes_a_key_pair_and_hands_out_its_private_key_once(self) -> None:
        made = self.successResultOf(self.driver.create_key_pair("made"))
        self.assertTrue(str(made.private_key).startswith("-----BEGIN RSA PRIVATE KEY-----"))
        [listed] = self.successResultOf(self.driver.list_key_pairs())
        self.assertEqual(
            (listed.name, listed.fingerprint, listed.private_key), ("made", made.fingerprint, None)
        )

    def test_importing_uploads_the_public_key(self) -> None:
        key = public_key()
        pair = self.successResultOf(self.driver.import_key_pair_from_string("mine", key))
        self.assertEqual((pair.name, pair.public_key), ("mine", key))
        self.assertEqual(
            self.cloud.received[-1].json(), {"keypair": {"name": "mine", "public_key": key}}
        )

    def test_a_taken_name_is_key_pair_already_exists(self) -> None:
        self.successResultOf(self.driver.create_key_pair("dup"))
        self.failureResultOf(self.driver.create_key_pair("dup"), KeyPairAlreadyExistsError)

    def test_get_and_delete(self) -> None:
        self.cloud.add_key_pair("deploy", public_key())
        pair = self.successResultOf(self.driver.get_key_pair("deploy"))
        self.assertIsInstance(pair, KeyPair)
        self.assertTrue(self.successResultOf(self.driver.delete_key_pair(pair)))
        self.failureResultOf(self.driver.get_key_pair("deploy"), KeyPairDoesNotExistError)
        self.failureResultOf(self.driver.delete_key_pair("deploy"), KeyPairDoesNotExistError)

    def test_bad_names_and_keys_are_refused_before_any_request(self) -> None:
        self.assert_refused(self.driver.create_key_pair, "a/b")
        self.assert_refused(self.driver.import_key_pair_from_string, "k", "not a key")
        self.assert_refused(self.driver.delete_key_pair, "")


class RealSocketTests(TestCase):
    """The driver over TCP to the fake listening on 127.0.0.1."""

    async def test_listing_over_a_real_socket(self) -> None:
        cloud = FakeOpenStack(clock=reactor)
        cloud.add_server("web-1", region="RegionTwo")
        port = reactor.listenTCP(0, cloud.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        driver = OpenStackNodeDriver(
            DEFAULT_USER,
            DEFAULT_PASSWORD,
            ex_force_auth_url=f"http://127.0.0.1:{port.getHost().port}",
            ex_tenant_name=DEFAULT_PROJECT,
            region="RegionTwo",
            reactor=reactor,
        )
        self.addCleanup(driver.close)
        [node] = await driver.list_nodes()
        self.assertEqual(node.name, "web-1")
