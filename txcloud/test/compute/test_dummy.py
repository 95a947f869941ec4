"""Tests for the in-memory compute driver, txcloud.compute.drivers.dummy."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_private_key,
)
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.base import KeyPair, Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.dummy import DEFAULT_REGION, DummyNodeDriver
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    KeyPairAlreadyExistsError,
    KeyPairDoesNotExistError,
    NodeError,
    NodeNotFoundError,
    ServiceUnavailableError,
)

# Made with `ssh-keygen -t ed25519`; the fingerprint is what `ssh-keygen -lf` printed.
ED25519_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMfrkUXZaG4upJzb555S4Qd+yPiLcUTy3yQAxf/k48br "
    "fixture@example"
)
ED25519_FINGERPRINT = "SHA256:zlcqpo4YMRtiKJeDXWL15c6DE+CHVZ+693m7Aa3MyKw"
RSA_PUBLIC_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDEBpoKXdey74Z4ZXH/Uepf6JobcmSoJ2KWDhGKZRwHw/GgFD/y5"
    "CvGysY8ek6xPD7+5v5+GfqNc0wJMpIn05GUN0bVP6+InNp0iu2BCkNNyhsvTRe2h0WWpKuD+S8U/GtJIUDHtQksan"
    "tsSCzFk04VLisuiwCWMmZdWM7RR+qQvw== rsa@example"
)
RSA_FINGERPRINT = "SHA256:h0SDGmJVkL6vHQFJ7x2dcO9FxmW2v2pj1P7Zd4+mZVo"


def node_data(node: Node) -> tuple[Any, ...]:
    """Every field of *node* but the driver, to compare data between drivers."""
    assert isinstance(node.size, NodeSize) and node.image is not None
    return (
        node.id,
        node.name,
        node.state,
        node.public_ips,
        node.private_ips,
        node.size.id,
        node.image.id,
        node.created_at,
        node.extra,
    )


class DriverTestCase(SynchronousTestCase):
    """Builds dummy drivers on a Clock and reads their Deferreds' results."""

    def setUp(self) -> None:
        self.clock = Clock()

    def driver(self, **kwargs: Any) -> DummyNodeDriver:
        kwargs.setdefault("region", "eu-1")
        return DummyNodeDriver("key", reactor=self.clock, **kwargs)

    def nodes(self, driver: DummyNodeDriver) -> list[Node]:
        return self.successResultOf(driver.list_nodes())

    def only_node(self, driver: DummyNodeDriver, node_id: str) -> Node:
        [node] = [node for node in self.nodes(driver) if node.id == node_id]
        return node

    def create(self, driver: DummyNodeDriver, name: str = "web-1", **kwargs: Any) -> Node:
        size = self.successResultOf(driver.list_sizes())[0]
        image = self.successResultOf(driver.list_images())[0]
        return self.successResultOf(driver.create_node(name, size, image, **kwargs))


class ConstructionTests(DriverTestCase):
    def test_registry_returns_the_dummy_driver(self) -> None:
        self.assertIs(get_driver(Provider.DUMMY), DummyNodeDriver)

    def test_driver_identifies_its_provider(self) -> None:
        driver = get_driver(Provider.DUMMY)("key")
        self.assertEqual((driver.type, driver.name), (Provider.DUMMY, "Dummy Node Provider"))

    def test_region_defaults_to_dummy_1(self) -> None:
        self.assertEqual(DummyNodeDriver("key").region, DEFAULT_REGION)
        self.assertEqual(DEFAULT_REGION, "dummy-1")

    def test_repr_shows_provider_and_region_but_no_credentials(self) -> None:
        driver = DummyNodeDriver("access-key-id-42", "very-secret-value", region="eu-1")
        text = repr(driver)
        self.assertIn("dummy", text)
        self.assertIn("eu-1", text)
        self.assertNotIn("access-key-id-42", text)
        self.assertNotIn("very-secret-value", text)

    def test_empty_region_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, DummyNodeDriver, "key", region="")

    def test_negative_latency_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, ex_latency=-0.1)

    def test_negative_boot_time_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, ex_boot_time=-1)

    def test_negative_node_count_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, ex_node_count=-1)

    def test_fractional_node_count_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, ex_node_count=1.5)

    def test_fail_with_an_exception_class_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, ex_fail_with=ServiceUnavailableError)


class CatalogueTests(DriverTestCase):
    def test_sizes_are_fixed(self) -> None:
        sizes = self.successResultOf(self.driver().list_sizes())
        self.assertEqual(
            [(s.id, s.ram, s.disk, s.bandwidth, s.price) for s in sizes],
            [
                ("small", 1024, 25, 1000, 0.01),
                ("medium", 2048, 50, 2000, 0.02),
                ("large", 4096, 80, 4000, 0.04),
                ("xlarge", 8192, 160, 5000, 0.08),
            ],
        )

    def test_sizes_refer_to_their_driver(self) -> None:
        driver = self.driver()
        sizes = self.successResultOf(driver.list_sizes())
        self.assertEqual({id(size.driver) for size in sizes}, {id(driver)})

    def test_images_are_fixed(self) -> None:
        images = self.successResultOf(self.driver().list_images())
        self.assertEqual(
            [(image.id, image.extra["os"]) for image in images],
            [
                ("ubuntu-24.04", "linux"),
                ("debian-12", "linux"),
                ("fedora-41", "linux"),
                ("windows-2022", "windows"),
            ],
        )

    def test_locations_are_the_regions_three_zones(self) -> None:
        locations = self.successResultOf(self.driver(region="eu-1").list_locations())
        self.assertEqual(
            [(location.id, location.name) for location in locations],
            [("eu-1a", "eu-1 zone a"), ("eu-1b", "eu-1 zone b"), ("eu-1c", "eu-1 zone c")],
        )

    def test_locations_of_a_region_share_one_two_letter_country(self) -> None:
        locations = self.successResultOf(self.driver().list_locations())
        countries = {location.country for location in locations}
        self.assertEqual(len(countries), 1)
        self.assertRegex(countries.pop(), "^[A-Z]{2}$")

    def test_sizes_of_a_known_location_are_listed(self) -> None:
        driver = self.driver()
        location = self.successResultOf(driver.list_locations())[1]
        self.assertEqual(len(self.successResultOf(driver.list_sizes(location))), 4)

    def test_sizes_of_another_regions_location_are_refused(self) -> None:
        location = self.successResultOf(self.driver(region="us-1").list_locations())[0]
        self.assertRaises(InvalidArgumentError, self.driver(region="eu-1").list_sizes, location)

    def test_images_of_an_unknown_location_are_refused(self) -> None:
        location = NodeLocation("mars-1a", "Mars", "XX", self.driver())
        self.assertRaises(InvalidArgumentError, self.driver().list_images, location)


class InitialNodeTests(DriverTestCase):
    def test_node_count_sets_the_initial_nodes(self) -> None:
        self.assertEqual(len(self.nodes(self.driver(ex_node_count=5))), 5)

    def test_two_initial_nodes_by_default(self) -> None:
        self.assertEqual(len(self.nodes(DummyNodeDriver("key"))), 2)

    def test_no_initial_nodes(self) -> None:
        self.assertEqual(self.nodes(self.driver(ex_node_count=0)), [])

    def test_initial_nodes_are_running_and_named_after_the_region(self) -> None:
        nodes = self.nodes(self.driver(region="eu-1", ex_node_count=2))
        self.assertEqual(
            [(node.name, node.state) for node in nodes],
            [("dummy-eu-1-1", NodeState.RUNNING), ("dummy-eu-1-2", NodeState.RUNNING)],
        )

    def test_initial_nodes_have_one_public_and_one_private_address(self) -> None:
        for node in self.nodes(self.driver()):
            self.assertEqual(len(node.public_ips), 1)
            self.assertTrue(node.public_ips[0].startswith(("198.18.", "198.19.")))
            self.assertEqual(len(node.private_ips), 1)
            self.assertTrue(node.private_ips[0].startswith("10."))

    def test_initial_nodes_have_fixed_creation_times(self) -> None:
        self.clock.advance(1000)
        nodes = self.nodes(self.driver())
        self.assertEqual(
            [node.created_at for node in nodes],
            [
                datetime(2024, 1, 1, 0, tzinfo=timezone.utc),
                datetime(2024, 1, 1, 1, tzinfo=timezone.utc),
            ],
        )

    def test_nodes_carry_size_image_driver_and_extra(self) -> None:
        driver = self.driver(region="eu-1")
        node = self.nodes(driver)[1]
        assert isinstance(node.size, NodeSize) and node.image is not None
        self.assertEqual((node.size.id, node.image.id), ("medium", "debian-12"))
        self.assertIs(node.driver, driver)
        self.assertEqual(node.extra, {"region": "eu-1", "location": "eu-1b"})

    def test_same_arguments_give_equal_data(self) -> None:
        first, second = self.driver(ex_node_count=4), self.driver(ex_node_count=4)
        self.assertEqual(
            [node_data(node) for node in self.nodes(first)],
            [node_data(node) for node in self.nodes(second)],
        )

    def test_same_arguments_give_equal_locations(self) -> None:
        first = self.successResultOf(self.driver().list_locations())
        second = self.successResultOf(self.driver().list_locations())
        self.assertEqual(
            [(loc.id, loc.name, loc.country, loc.extra) for loc in first],
            [(loc.id, loc.name, loc.country, loc.extra) for loc in second],
        )

    def test_different_regions_give_different_ids_and_addresses(self) -> None:
        first = self.nodes(self.driver(region="eu-1"))
        second = self.nodes(self.driver(region="us-1"))
        for attribute in ("id", "public_ips", "private_ips"):
            self.assertFalse(
                {str(getattr(node, attribute)) for node in first}
                & {str(getattr(node, attribute)) for node in second},
                attribute,
            )

    def test_node_ids_are_distinct(self) -> None:
        nodes = self.nodes(self.driver(ex_node_count=10))
        self.assertEqual(len({node.id for node in nodes}), 10)


class CreateNodeTests(DriverTestCase):
    def test_created_node_is_running(self) -> None:
        node = self.create(self.driver(), "web-1")
        self.assertEqual((node.name, node.state), ("web-1", NodeState.RUNNING))

    def test_created_node_takes_the_addresses_given(self) -> None:
        driver = self.driver()
        node = self.create(driver, ex_public_ips=["127.0.0.1"], ex_private_ips=["10.9.8.7"])
        listed = self.only_node(driver, node.id)
        self.assertEqual((listed.public_ips, listed.private_ips), (["127.0.0.1"], ["10.9.8.7"]))

    def test_created_node_is_listed_after_the_initial_ones(self) -> None:
        driver = self.driver(ex_node_count=2)
        node = self.create(driver)
        self.assertEqual([n.id for n in self.nodes(driver)][2:], [node.id])

    def test_created_node_has_the_size_and_image_asked_for(self) -> None:
        driver = self.driver()
        size = self.successResultOf(driver.list_sizes())[2]
        image = self.successResultOf(driver.list_images())[3]
        node = self.successResultOf(driver.create_node("db", size, image))
        assert isinstance(node.size, NodeSize) and node.image is not None
        self.assertEqual((node.size.id, node.image.id), ("large", "windows-2022"))

    def test_created_node_is_in_the_first_zone_by_default(self) -> None:
        self.assertEqual(self.create(self.driver(region="eu-1")).extra["location"], "eu-1a")

    def test_created_node_is_in_the_location_asked_for(self) -> None:
        driver = self.driver(region="eu-1")
        location = self.successResultOf(driver.list_locations())[2]
        self.assertEqual(self.create(driver, location=location).extra["location"], "eu-1c")

    def test_created_at_comes_from_the_reactor(self) -> None:
        self.clock.advance(1_700_000_000)
        node = self.create(self.driver())
        self.assertEqual(node.created_at, datetime.fromtimestamp(1_700_000_000, timezone.utc))

    def test_created_node_ids_are_reproducible(self) -> None:
        first = self.create(self.driver(), "a")
        second = self.create(self.driver(), "a")
        self.assertEqual(node_data(first), node_data(second))

    def test_names_need_not_be_unique(self) -> None:
        driver = self.driver(ex_node_count=0)
        self.create(driver, "twin")
        self.create(driver, "twin")
        self.assertEqual([node.name for node in self.nodes(driver)], ["twin", "twin"])

    def test_key_name_of_an_existing_key_pair_is_recorded(self) -> None:
        driver = self.driver()
        self.successResultOf(driver.import_key_pair_from_string("ops", ED25519_PUBLIC_KEY))
        self.assertEqual(self.create(driver, ex_key_name="ops").extra["key_name"], "ops")

    def test_key_name_of_a_missing_key_pair_fails_and_creates_nothing(self) -> None:
        driver = self.driver(ex_node_count=0)
        size = self.successResultOf(driver.list_sizes())[0]
        image = self.successResultOf(driver.list_images())[0]
        d = driver.create_node("web", size, image, ex_key_name="nobody")
        self.failureResultOf(d, KeyPairDoesNotExistError)
        self.assertEqual(self.nodes(driver), [])

    def test_with_boot_time_a_created_node_is_pending_until_booted(self) -> None:
        driver = self.driver(ex_boot_time=30)
        node = self.create(driver)
        self.assertEqual(node.state, NodeState.PENDING)
        self.clock.advance(29.9)
        self.assertEqual(self.only_node(driver, node.id).state, NodeState.PENDING)
        self.clock.advance(0.1)
        self.assertEqual(self.only_node(driver, node.id).state, NodeState.RUNNING)

    def test_boot_time_leaves_no_delayed_calls(self) -> None:
        self.create(self.driver(ex_boot_time=30))
        self.assertEqual(self.clock.getDelayedCalls(), [])


class CreateNodeArgumentTests(DriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.driver_ = self.driver(ex_node_count=0)
        self.size = self.successResultOf(self.driver_.list_sizes())[0]
        self.image = self.successResultOf(self.driver_.list_images())[0]

    def assertRefused(self, *args: Any, **kwargs: Any) -> None:
        self.assertRaises(InvalidArgumentError, self.driver_.create_node, *args, **kwargs)
        self.assertEqual(self.nodes(self.driver_), [])

    def test_addresses_that_are_not_a_list_of_addresses_are_refused(self) -> None:
        for addresses in ("127.0.0.1", ["localhost"], [1]):
            self.assertRefused("web", self.size, self.image, ex_public_ips=addresses)
            self.assertRefused("web", self.size, self.image, ex_private_ips=addresses)

    def test_empty_name_is_refused(self) -> None:
        self.assertRefused("", self.size, self.image)

    def test_name_that_is_not_a_string_is_refused(self) -> None:
        self.assertRefused(42, self.size, self.image)

    def test_unknown_size_is_refused(self) -> None:
        size = NodeSize("huge", "Huge", 1, 1, 1, 1.0, self.driver_)
        self.assertRefused("web", size, self.image)

    def test_size_given_by_id_is_refused(self) -> None:
        self.assertRefused("web", "small", self.image)

    def test_unknown_image_is_refused(self) -> None:
        self.assertRefused("web", self.size, NodeImage("beos-5", "BeOS", self.driver_))

    def test_image_given_as_a_size_is_refused(self) -> None:
        self.assertRefused("web", self.size, self.size)

    def test_unknown_location_is_refused(self) -> None:
        location = NodeLocation("mars-1a", "Mars", "XX", self.driver_)
        self.assertRefused("web", self.size, self.image, location)

    def test_unknown_keyword_argument_is_refused(self) -> None:
        self.assertRefused("web", self.size, self.image, ex_flavour="vanilla")

    def test_empty_key_name_is_refused(self) -> None:
        self.assertRefused("web", self.size, self.image, ex_key_name="")

    def test_bad_arguments_are_refused_before_the_latency(self) -> None:
        driver = self.driver(ex_latency=5)
        self.assertRaises(InvalidArgumentError, driver.create_node, "", self.size, self.image)


class NodeLifecycleTests(DriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.driver_ = self.driver(ex_node_count=1)
        self.node = self.nodes(self.driver_)[0]

    def state(self) -> NodeState:
        return self.only_node(self.driver_, self.node.id).state

    def test_stop_stops_a_running_node(self) -> None:
        self.assertIs(self.successResultOf(self.driver_.stop_node(self.node)), True)
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_stopped_node_has_no_public_address(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        node = self.only_node(self.driver_, self.node.id)
        self.assertEqual((node.public_ips, node.private_ips), ([], self.node.private_ips))

    def test_start_runs_a_stopped_node(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        self.assertIs(self.successResultOf(self.driver_.start_node(self.node)), True)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_started_node_gets_its_public_address_back(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        self.successResultOf(self.driver_.start_node(self.node))
        self.assertEqual(
            self.only_node(self.driver_, self.node.id).public_ips, self.node.public_ips
        )

    def test_start_leaves_a_running_node_running(self) -> None:
        self.assertIs(self.successResultOf(self.driver_.start_node(self.node)), True)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_stop_leaves_a_stopped_node_stopped(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        self.assertIs(self.successResultOf(self.driver_.stop_node(self.node)), True)
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_reboot_leaves_a_running_node_running(self) -> None:
        self.assertIs(self.successResultOf(self.driver_.reboot_node(self.node)), True)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_reboot_of_a_stopped_node_fails(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        failure = self.failureResultOf(self.driver_.reboot_node(self.node), NodeError)
        self.assertIn(self.node.id, str(failure.value))
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_destroy_removes_the_node(self) -> None:
        self.assertIs(self.successResultOf(self.driver_.destroy_node(self.node)), True)
        self.assertEqual(self.nodes(self.driver_), [])

    def test_destroying_twice_fails_with_node_not_found(self) -> None:
        self.successResultOf(self.driver_.destroy_node(self.node))
        self.failureResultOf(self.driver_.destroy_node(self.node), NodeNotFoundError)

    def test_with_boot_time_reboot_passes_through_rebooting(self) -> None:
        self.driver_.ex_boot_time = 10
        self.successResultOf(self.driver_.reboot_node(self.node))
        self.assertEqual(self.state(), NodeState.REBOOTING)
        self.clock.advance(10)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_with_boot_time_start_passes_through_starting(self) -> None:
        self.driver_.ex_boot_time = 10
        self.successResultOf(self.driver_.stop_node(self.node))
        self.successResultOf(self.driver_.start_node(self.node))
        self.assertEqual(self.state(), NodeState.STARTING)
        self.clock.advance(10)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_stopping_a_booting_node_stops_it_for_good(self) -> None:
        self.driver_.ex_boot_time = 10
        self.successResultOf(self.driver_.reboot_node(self.node))
        self.successResultOf(self.driver_.stop_node(self.node))
        self.clock.advance(10)
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_returned_nodes_are_snapshots(self) -> None:
        self.successResultOf(self.driver_.stop_node(self.node))
        self.assertEqual(self.node.state, NodeState.RUNNING)
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_changing_a_returned_node_changes_nothing_in_the_cloud(self) -> None:
        public_ips = list(self.node.public_ips)
        self.node.name = "renamed"
        self.node.public_ips.append("192.0.2.1")
        self.node.extra["region"] = "elsewhere"
        listed = self.only_node(self.driver_, self.node.id)
        self.assertEqual(
            (listed.name, listed.public_ips, listed.extra["region"]),
            ("dummy-eu-1-1", public_ips, "eu-1"),
        )


class UnknownNodeTests(DriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.driver_ = self.driver(region="eu-1")
        # A node of another region is unknown to this driver.
        self.stranger = self.nodes(self.driver(region="us-1"))[0]

    def test_reboot_of_an_unknown_node_fails(self) -> None:
        self.failureResultOf(self.driver_.reboot_node(self.stranger), NodeNotFoundError)

    def test_start_of_an_unknown_node_fails(self) -> None:
        self.failureResultOf(self.driver_.start_node(self.stranger), NodeNotFoundError)

    def test_stop_of_an_unknown_node_fails(self) -> None:
        self.failureResultOf(self.driver_.stop_node(self.stranger), NodeNotFoundError)

    def test_destroy_of_an_unknown_node_fails(self) -> None:
        self.failureResultOf(self.driver_.destroy_node(self.stranger), NodeNotFoundError)

    def test_not_found_error_names_the_node_and_driver(self) -> None:
        failure = self.failureResultOf(self.driver_.stop_node(self.stranger), NodeNotFoundError)
        self.assertIn(self.stranger.id, failure.value.message)
        self.assertEqual(failure.value.driver_name, "Dummy Node Provider")

    def test_node_given_by_id_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver_.reboot_node, self.stranger.id)


class KeyPairTests(DriverTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.driver_ = self.driver()

    def key_pairs(self) -> list[KeyPair]:
        return self.successResultOf(self.driver_.list_key_pairs())

    def test_no_key_pairs_at_first(self) -> None:
        self.assertEqual(self.key_pairs(), [])

    def test_created_key_pair_has_a_matching_openssh_private_key(self) -> None:
        pair = self.successResultOf(self.driver_.create_key_pair("ops"))
        assert pair.private_key is not None and pair.public_key is not None
        private = load_ssh_private_key(pair.private_key.encode(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        public = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
        self.assertEqual(pair.public_key, public.decode())

    def test_created_key_pair_fingerprint_matches_its_public_key(self) -> None:
        created = self.successResultOf(self.driver_.create_key_pair("ops"))
        assert created.public_key is not None
        imported = self.successResultOf(
            self.driver(region="other").import_key_pair_from_string("x", created.public_key)
        )
        self.assertEqual(created.fingerprint, imported.fingerprint)
        self.assertTrue(str(created.fingerprint).startswith("SHA256:"))

    def test_private_key_is_not_in_the_repr(self) -> None:
        pair = self.successResultOf(self.driver_.create_key_pair("ops"))
        assert pair.private_key is not None
        self.assertNotIn("PRIVATE", repr(pair))
        self.assertNotIn(pair.private_key.splitlines()[1], repr(pair))

    def test_private_key_is_given_only_once(self) -> None:
        self.successResultOf(self.driver_.create_key_pair("ops"))
        fetched = self.successResultOf(self.driver_.get_key_pair("ops"))
        self.assertIsNone(fetched.private_key)
        self.assertEqual([pair.private_key for pair in self.key_pairs()], [None])

    def test_created_key_pair_is_listed(self) -> None:
        pair = self.successResultOf(self.driver_.create_key_pair("ops"))
        listed = self.key_pairs()
        self.assertEqual(
            [(p.name, p.public_key, p.fingerprint) for p in listed],
            [("ops", pair.public_key, pair.fingerprint)],
        )

    def test_creating_an_existing_name_fails(self) -> None:
        self.successResultOf(self.driver_.create_key_pair("ops"))
        self.failureResultOf(self.driver_.create_key_pair("ops"), KeyPairAlreadyExistsError)

    def test_imported_ed25519_key_has_openssh_fingerprint(self) -> None:
        pair = self.successResultOf(
            self.driver_.import_key_pair_from_string("ops", ED25519_PUBLIC_KEY + "\n")
        )
        self.assertEqual(
            (pair.public_key, pair.fingerprint, pair.private_key, pair.extra),
            (ED25519_PUBLIC_KEY, ED25519_FINGERPRINT, None, {"key_type": "ssh-ed25519"}),
        )

    def test_imported_rsa_key_has_openssh_fingerprint(self) -> None:
        pair = self.successResultOf(self.driver_.import_key_pair_from_string("ops", RSA_PUBLIC_KEY))
        self.assertEqual((pair.fingerprint, pair.extra), (RSA_FINGERPRINT, {"key_type": "ssh-rsa"}))

    def test_importing_an_existing_name_fails(self) -> None:
        self.successResultOf(self.driver_.create_key_pair("ops"))
        d = self.driver_.import_key_pair_from_string("ops", ED25519_PUBLIC_KEY)
        self.failureResultOf(d, KeyPairAlreadyExistsError)

    def test_importing_what_is_not_a_public_key_is_refused_without_quoting_it(self) -> None:
        material = "-----BEGIN OPENSSH PRIVATE KEY----- c2VjcmV0"
        with self.assertRaises(InvalidArgumentError) as caught:
            self.driver_.import_key_pair_from_string("ops", material)
        self.assertNotIn("c2VjcmV0", str(caught.exception))
        self.assertEqual(self.key_pairs(), [])

    def test_getting_a_missing_key_pair_fails(self) -> None:
        self.failureResultOf(self.driver_.get_key_pair("nobody"), KeyPairDoesNotExistError)

    def test_delete_removes_the_key_pair(self) -> None:
        pair = self.successResultOf(self.driver_.create_key_pair("ops"))
        self.assertIs(self.successResultOf(self.driver_.delete_key_pair(pair)), True)
        self.assertEqual(self.key_pairs(), [])

    def test_deleting_twice_fails(self) -> None:
        pair = self.successResultOf(self.driver_.create_key_pair("ops"))
        self.successResultOf(self.driver_.delete_key_pair(pair))
        self.failureResultOf(self.driver_.delete_key_pair(pair), KeyPairDoesNotExistError)

    def test_empty_names_are_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver_.create_key_pair, "")
        self.assertRaises(InvalidArgumentError, self.driver_.get_key_pair, "")
        self.assertRaises(
            InvalidArgumentError, self.driver_.import_key_pair_from_string, "", ED25519_PUBLIC_KEY
        )

    def test_deleting_a_name_instead_of_a_key_pair_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver_.delete_key_pair, "ops")


class LatencyTests(DriverTestCase):
    def test_nothing_fires_before_the_latency_elapses(self) -> None:
        driver = self.driver(ex_latency=2.0)
        d = driver.list_nodes()
        self.clock.advance(1.999)
        self.assertNoResult(d)
        self.clock.advance(0.001)
        self.assertEqual(len(self.successResultOf(d)), 2)

    def test_every_method_waits_for_the_latency(self) -> None:
        driver = self.driver(ex_latency=1.0)
        node = self.nodes(self.driver())[0]
        pair = KeyPair("k", None, None, driver)
        size = self.successResultOf(self.driver().list_sizes())[0]
        image = self.successResultOf(self.driver().list_images())[0]
        calls: list[Deferred[Any]] = [
            driver.create_node("web", size, image),
            driver.list_nodes(),
            driver.list_sizes(),
            driver.list_images(),
            driver.list_locations(),
            driver.list_key_pairs(),
            driver.get_key_pair("k"),
            driver.create_key_pair("k2"),
            driver.import_key_pair_from_string("k3", ED25519_PUBLIC_KEY),
            driver.delete_key_pair(pair),
            driver.reboot_node(node),
            driver.start_node(node),
            driver.stop_node(node),
            driver.destroy_node(node),
        ]
        self.clock.advance(0.5)
        for d in calls:
            self.assertNoResult(d)
        self.clock.advance(0.5)
        for d in calls:
            self.assertTrue(d.called)
            d.addErrback(lambda failure: None)

    def test_changes_happen_when_a_call_is_served(self) -> None:
        driver = self.driver(ex_latency=1.0)
        node = self.nodes(self.driver())[0]
        before = driver.list_nodes()
        self.clock.advance(0.5)
        stop = driver.stop_node(node)
        after = driver.list_nodes()
        self.clock.advance(1.0)
        self.successResultOf(stop)
        self.assertEqual(self.successResultOf(before)[0].state, NodeState.RUNNING)
        self.assertEqual(self.successResultOf(after)[0].state, NodeState.STOPPED)

    def test_cancelling_before_the_latency_changes_nothing(self) -> None:
        driver = self.driver(ex_latency=1.0)
        node = self.nodes(self.driver())[0]
        d = driver.stop_node(node)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        driver.ex_latency = 0
        self.assertEqual(self.only_node(driver, node.id).state, NodeState.RUNNING)

    def test_zero_latency_answers_synchronously(self) -> None:
        d = self.driver().list_nodes()
        self.assertTrue(d.called)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.successResultOf(d)


class FaultInjectionTests(DriverTestCase):
    def test_every_call_fails_with_the_given_exception(self) -> None:
        outage = ServiceUnavailableError("down for maintenance")
        driver = self.driver(ex_fail_with=outage)
        for d in (driver.list_nodes(), driver.list_sizes(), driver.create_key_pair("k")):
            self.assertIs(self.failureResultOf(d, ServiceUnavailableError).value, outage)

    def test_failing_calls_change_nothing(self) -> None:
        driver = self.driver(ex_node_count=0, ex_fail_with=ServiceUnavailableError())
        driver_ok = self.driver(ex_node_count=0)
        size = self.successResultOf(driver_ok.list_sizes())[0]
        image = self.successResultOf(driver_ok.list_images())[0]
        self.failureResultOf(driver.create_node("web", size, image), ServiceUnavailableError)
        driver.ex_fail_with = None
        self.assertEqual(self.nodes(driver), [])

    def test_failure_comes_after_the_latency(self) -> None:
        driver = self.driver(ex_latency=3, ex_fail_with=ServiceUnavailableError())
        d = driver.list_nodes()
        self.clock.advance(2.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.failureResultOf(d, ServiceUnavailableError)

    def test_argument_errors_come_before_injected_failures(self) -> None:
        driver = self.driver(ex_fail_with=ServiceUnavailableError())
        self.assertRaises(InvalidArgumentError, driver.get_key_pair, "")

    def test_clearing_the_fault_restores_service(self) -> None:
        driver = self.driver(ex_fail_with=ServiceUnavailableError())
        self.failureResultOf(driver.list_nodes(), ServiceUnavailableError)
        driver.ex_fail_with = None
        self.assertEqual(len(self.nodes(driver)), 2)
