"""Tests for txcloud.compute.base: the models and NodeDriver's shared behaviour."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.base import KeyPair, Node, NodeDriver
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.compute.types import NodeState
from txcloud.errors import InvalidArgumentError, RequestTimeoutError


class FixedNodesDriver(NodeDriver):
    """A driver whose ``list_nodes`` answers with whatever the test set."""

    name = "Fixed"
    type = "fixed"

    def __init__(self, reactor: Clock) -> None:
        super().__init__(reactor=reactor)
        self.nodes: list[Node] = []
        self.polls = 0

    def list_nodes(self) -> Deferred[list[Node]]:
        self.polls += 1
        return succeed(list(self.nodes))


class BareDriver(NodeDriver):
    name = "Bare"


class NodeDriverDefaultsTests(SynchronousTestCase):
    def test_unimplemented_methods_raise_not_implemented(self) -> None:
        driver = BareDriver()
        node = Node("n", "n", NodeState.RUNNING, [], [], driver)
        calls: list[tuple[str, tuple[Any, ...]]] = [
            ("list_nodes", ()),
            ("list_sizes", ()),
            ("list_images", ()),
            ("list_locations", ()),
            ("reboot_node", (node,)),
            ("start_node", (node,)),
            ("stop_node", (node,)),
            ("destroy_node", (node,)),
            ("list_key_pairs", ()),
            ("get_key_pair", ("k",)),
            ("create_key_pair", ("k",)),
            ("import_key_pair_from_string", ("k", "ssh-ed25519 AAAA")),
            ("delete_key_pair", (KeyPair("k", None, None, driver),)),
        ]
        for method, args in calls:
            with self.assertRaises(NotImplementedError, msg=method) as caught:
                getattr(driver, method)(*args)
            self.assertIn("Bare", str(caught.exception))


class ModelTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.driver = DummyNodeDriver("key", region="eu-1", reactor=Clock())

    def test_nodes_with_the_same_id_and_provider_are_equal(self) -> None:
        first = self.successResultOf(self.driver.list_nodes())[0]
        second = self.successResultOf(self.driver.list_nodes())[0]
        self.assertEqual(first, second)
        self.assertEqual(hash(first), hash(second))

    def test_nodes_of_different_providers_are_not_equal(self) -> None:
        node = self.successResultOf(self.driver.list_nodes())[0]
        other = Node(node.id, node.name, node.state, [], [], BareDriver())
        self.assertNotEqual(node, other)

    def test_node_repr_leaves_out_extra(self) -> None:
        node = self.successResultOf(self.driver.list_nodes())[0]
        node.extra["password"] = "hunter2"
        self.assertIn(node.id, repr(node))
        self.assertNotIn("hunter2", repr(node))

    def test_key_pair_repr_leaves_out_the_private_key(self) -> None:
        pair = KeyPair("ops", "ssh-ed25519 AAAA", "SHA256:x", self.driver, "PRIVATE-MATERIAL")
        self.assertNotIn("PRIVATE-MATERIAL", repr(pair))
        self.assertIn("ops", repr(pair))


class NodeMethodTests(SynchronousTestCase):
    """Node's convenience methods delegate to its driver."""

    def setUp(self) -> None:
        self.driver = DummyNodeDriver("key", reactor=Clock(), ex_node_count=1)
        self.node = self.successResultOf(self.driver.list_nodes())[0]

    def state(self) -> NodeState:
        return self.successResultOf(self.driver.list_nodes())[0].state

    def test_stop_node_stops_it(self) -> None:
        self.assertIs(self.successResultOf(self.node.stop_node()), True)
        self.assertEqual(self.state(), NodeState.STOPPED)

    def test_start_starts_it(self) -> None:
        self.successResultOf(self.node.stop_node())
        self.assertIs(self.successResultOf(self.node.start()), True)
        self.assertEqual(self.state(), NodeState.RUNNING)

    def test_reboot_reboots_it(self) -> None:
        self.driver.ex_boot_time = 5
        self.assertIs(self.successResultOf(self.node.reboot()), True)
        self.assertEqual(self.state(), NodeState.REBOOTING)

    def test_destroy_destroys_it(self) -> None:
        self.assertIs(self.successResultOf(self.node.destroy()), True)
        self.assertEqual(self.successResultOf(self.driver.list_nodes()), [])


class WaitUntilRunningTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.driver = DummyNodeDriver("key", reactor=self.clock, ex_node_count=1)
        self.size = self.successResultOf(self.driver.list_sizes())[0]
        self.image = self.successResultOf(self.driver.list_images())[0]

    def create(self, name: str) -> Node:
        return self.successResultOf(self.driver.create_node(name, self.size, self.image))

    def test_running_nodes_are_returned_at_once_with_their_public_addresses(self) -> None:
        node = self.successResultOf(self.driver.list_nodes())[0]
        [(found, addresses)] = self.successResultOf(self.driver.wait_until_running([node]))
        self.assertEqual((found.id, found.state), (node.id, NodeState.RUNNING))
        self.assertEqual(addresses, node.public_ips)

    def test_polls_until_a_booting_node_runs(self) -> None:
        self.driver.ex_boot_time = 12
        node = self.create("web")
        d = self.driver.wait_until_running([node], wait_period=5, timeout=60)
        self.clock.advance(5)
        self.clock.advance(5)
        self.assertNoResult(d)
        self.clock.advance(5)
        [(found, _)] = self.successResultOf(d)
        self.assertEqual(found.state, NodeState.RUNNING)
        self.assertEqual(self.clock.seconds(), 15)

    def test_polls_every_wait_period(self) -> None:
        driver = FixedNodesDriver(self.clock)
        node = Node("n1", "web", NodeState.PENDING, ["192.0.2.1"], [], driver)
        driver.nodes = [node]
        d = driver.wait_until_running([node], wait_period=3, timeout=60)
        self.clock.pump([3, 3, 3])
        self.assertEqual(driver.polls, 4)
        driver.nodes = [Node("n1", "web", NodeState.RUNNING, ["192.0.2.1"], [], driver)]
        self.clock.advance(3)
        self.assertEqual(driver.polls, 5)
        self.assertEqual(self.successResultOf(d)[0][1], ["192.0.2.1"])

    def test_result_follows_the_order_of_the_nodes_given(self) -> None:
        first, second = self.create("first"), self.create("second")
        result = self.successResultOf(self.driver.wait_until_running([second, first]))
        self.assertEqual([node.name for node, _ in result], ["second", "first"])

    def test_a_node_given_twice_is_returned_once(self) -> None:
        node = self.create("web")
        result = self.successResultOf(self.driver.wait_until_running([node, node]))
        self.assertEqual([found.id for found, _ in result], [node.id])

    def test_times_out_with_a_last_poll_at_the_deadline(self) -> None:
        self.driver.ex_boot_time = 100
        node = self.create("web")
        d = self.driver.wait_until_running([node], wait_period=5, timeout=12)
        self.clock.advance(11.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        failure = self.failureResultOf(d, RequestTimeoutError)
        self.assertIn(node.id, failure.value.message)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_node_that_boots_by_the_deadline_is_found_by_the_last_poll(self) -> None:
        self.driver.ex_boot_time = 12
        node = self.create("web")
        d = self.driver.wait_until_running([node], wait_period=5, timeout=12)
        self.clock.pump([5, 5, 2])
        self.assertEqual(len(self.successResultOf(d)), 1)

    def test_a_destroyed_node_times_out(self) -> None:
        node = self.create("web")
        self.successResultOf(self.driver.destroy_node(node))
        d = self.driver.wait_until_running([node], wait_period=1, timeout=3)
        self.clock.pump([1, 1, 1])
        self.failureResultOf(d, RequestTimeoutError)

    def test_a_stopped_node_without_public_address_is_not_ready(self) -> None:
        node = self.create("web")
        self.successResultOf(self.driver.stop_node(node))
        d = self.driver.wait_until_running([node], wait_period=1, timeout=10)
        self.clock.advance(1)
        self.assertNoResult(d)
        self.successResultOf(self.driver.start_node(node))
        self.clock.advance(1)
        [(_, addresses)] = self.successResultOf(d)
        self.assertEqual(addresses, node.public_ips)

    def test_private_interface_returns_private_addresses(self) -> None:
        node = self.create("web")
        [(_, addresses)] = self.successResultOf(
            self.driver.wait_until_running([node], ssh_interface="private_ips")
        )
        self.assertEqual(addresses, node.private_ips)

    def test_ipv6_only_node_is_not_ready_when_forcing_ipv4(self) -> None:
        driver = FixedNodesDriver(self.clock)
        node = Node("n1", "web", NodeState.RUNNING, ["2001:db8::1"], [], driver)
        driver.nodes = [node]
        d = driver.wait_until_running([node], wait_period=1, timeout=2)
        self.clock.pump([1, 1])
        self.failureResultOf(d, RequestTimeoutError)

    def test_ipv4_addresses_are_kept_and_ipv6_dropped_when_forcing_ipv4(self) -> None:
        driver = FixedNodesDriver(self.clock)
        node = Node("n1", "web", NodeState.RUNNING, ["2001:db8::1", "192.0.2.7"], [], driver)
        driver.nodes = [node]
        [(_, addresses)] = self.successResultOf(driver.wait_until_running([node]))
        self.assertEqual(addresses, ["192.0.2.7"])

    def test_ipv6_addresses_are_returned_without_force_ipv4(self) -> None:
        driver = FixedNodesDriver(self.clock)
        node = Node("n1", "web", NodeState.RUNNING, ["2001:db8::1"], [], driver)
        driver.nodes = [node]
        [(_, addresses)] = self.successResultOf(driver.wait_until_running([node], force_ipv4=False))
        self.assertEqual(addresses, ["2001:db8::1"])

    def test_list_nodes_latency_is_waited_for(self) -> None:
        self.driver.ex_latency = 2
        node = self.successResultOf(DummyNodeDriver("key", ex_node_count=1).list_nodes())[0]
        d = self.driver.wait_until_running([node])
        self.clock.advance(1.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.assertEqual(len(self.successResultOf(d)), 1)

    def test_cancelling_stops_polling(self) -> None:
        self.driver.ex_boot_time = 100
        node = self.create("web")
        d = self.driver.wait_until_running([node], wait_period=5, timeout=60)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_no_nodes_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver.wait_until_running, [])

    def test_non_positive_wait_period_is_refused(self) -> None:
        node = self.create("web")
        self.assertRaises(
            InvalidArgumentError, self.driver.wait_until_running, [node], wait_period=0
        )

    def test_non_positive_timeout_is_refused(self) -> None:
        node = self.create("web")
        self.assertRaises(InvalidArgumentError, self.driver.wait_until_running, [node], timeout=-1)

    def test_unknown_ssh_interface_is_refused(self) -> None:
        node = self.create("web")
        self.assertRaises(
            InvalidArgumentError, self.driver.wait_until_running, [node], ssh_interface="ipv6"
        )
