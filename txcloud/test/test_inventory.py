"""Tests of txcloud.inventory: gathering what every target holds, as JSON-ready items."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.config import Defaults, Target
from txcloud.container.base import Container, ContainerImage
from txcloud.container.types import ContainerState
from txcloud.errors import ConfigError, RequestTimeoutError
from txcloud.inventory import TargetInventory, describe_error, gather
from txcloud.storage.base import Container as Bucket
from txcloud.testing.digitalocean import FakeDigitalOcean

NODES = Target("nodes", "compute", "dummy")
SLOW = Target("slow", "compute", "dummy", "far-1")
BUCKETS = Target("buckets", "storage", "local")
APPS = Target("apps", "container", "docker")


class ContainerLister:
    """A storage or container driver answering ``list_containers`` with a given Deferred."""

    def __init__(self, answer: Deferred[list[Any]]) -> None:
        self.answer = answer

    def list_containers(self) -> Deferred[list[Any]]:
        return self.answer


class GatherTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.drivers: dict[Target, Any] = {
            NODES: DummyNodeDriver(reactor=self.clock),
            SLOW: DummyNodeDriver(region="far-1", reactor=self.clock, ex_latency=10.0),
        }
        self.asked: list[Target] = []

    def driver(self, target: Target) -> Any:
        self.asked.append(target)
        return self.drivers[target]

    def gather(
        self, *targets: Target, timeout: float = 30.0, concurrency: int = 10, **kwargs: Any
    ) -> Deferred[list[TargetInventory]]:
        return gather(
            targets,
            self.driver,
            defaults=Defaults(concurrency=concurrency, timeout=timeout),
            reactor=self.clock,
            **kwargs,
        )


class ItemTests(GatherTestCase):
    def test_nodes_become_items(self) -> None:
        [inventory] = self.successResultOf(self.gather(NODES))
        nodes = self.successResultOf(DummyNodeDriver().list_nodes())
        self.assertEqual(
            inventory,
            TargetInventory(
                NODES,
                [
                    {
                        "id": node.id,
                        "name": node.name,
                        "state": "running",
                        "public_ips": node.public_ips,
                        "private_ips": node.private_ips,
                    }
                    for node in nodes
                ],
            ),
        )

    def test_buckets_become_items(self) -> None:
        driver: Any = None
        self.drivers[BUCKETS] = ContainerLister(succeed([Bucket("logs", {}, driver)]))
        [inventory] = self.successResultOf(self.gather(BUCKETS))
        self.assertEqual(inventory.items, [{"name": "logs"}])

    def test_containers_become_items(self) -> None:
        driver: Any = None
        image = ContainerImage("i1", "nginx:1.27", "docker.io/nginx", "1.27", driver)
        container = Container("c1", "web", image, ContainerState.RUNNING, ["10.0.0.5"], driver)
        self.drivers[APPS] = ContainerLister(succeed([container]))
        [inventory] = self.successResultOf(self.gather(APPS))
        self.assertEqual(
            inventory.items,
            [
                {
                    "id": "c1",
                    "name": "web",
                    "state": "running",
                    "image": "nginx:1.27",
                    "ip_addresses": ["10.0.0.5"],
                }
            ],
        )


class VolumeItemTests(GatherTestCase):
    """A compute target's volumes are a kind of their own, beside its nodes."""

    def test_volumes_are_listed_apart_from_nodes(self) -> None:
        fake = FakeDigitalOcean(clock=self.clock)
        fake.add_droplet("web-1", region="fra1")
        volume = fake.add_volume("app-data", 20, region="fra1")
        ocean = Target("ocean", "compute", "digitalocean")
        self.drivers[ocean] = DigitalOceanNodeDriver(
            fake.token, reactor=self.clock, ex_agent=fake.agent()
        )
        [inventory] = self.successResultOf(self.gather(ocean))
        self.assertEqual([item["name"] for item in inventory.items], ["web-1"])
        self.assertEqual(
            inventory.volumes,
            [{"id": volume.id, "name": "app-data", "size": 20, "state": "available"}],
        )

    def test_a_refused_volume_listing_keeps_the_nodes(self) -> None:
        fake = FakeDigitalOcean(clock=self.clock)
        fake.add_droplet("web-1", region="fra1")
        fake.fail("/v2/volumes", 403, error_id="forbidden", message="not allowed", times=None)
        ocean = Target("ocean", "compute", "digitalocean")
        self.drivers[ocean] = DigitalOceanNodeDriver(
            fake.token,
            reactor=self.clock,
            ex_agent=fake.agent(),
        )
        [inventory] = self.successResultOf(self.gather(ocean))
        self.assertIsNone(inventory.error)
        self.assertEqual([item["name"] for item in inventory.items], ["web-1"])
        self.assertIsNone(inventory.volumes)

    def test_providers_without_block_storage_list_none(self) -> None:
        [inventory] = self.successResultOf(self.gather(NODES))
        self.assertIsNone(inventory.volumes)

    def test_other_kinds_list_none(self) -> None:
        self.drivers[BUCKETS] = ContainerLister(succeed([]))
        [inventory] = self.successResultOf(self.gather(BUCKETS))
        self.assertIsNone(inventory.volumes)


class GatherTests(GatherTestCase):
    def test_one_inventory_per_target_in_order(self) -> None:
        d = self.gather(SLOW, NODES)
        self.clock.advance(10)
        inventories = self.successResultOf(d)
        self.assertEqual(
            [(i.target, len(i.items), i.error) for i in inventories],
            [
                (SLOW, 2, None),
                (NODES, 2, None),
            ],
        )

    def test_each_inventory_is_reported_as_soon_as_known(self) -> None:
        reported: list[tuple[Target, float]] = []
        d = self.gather(
            SLOW, NODES, on_each=lambda i: reported.append((i.target, self.clock.seconds()))
        )
        self.assertEqual(reported, [(NODES, 0.0)])
        self.assertNoResult(d)
        self.clock.advance(10)
        self.assertEqual(reported, [(NODES, 0.0), (SLOW, 10.0)])

    def test_failure_is_the_target_s_only(self) -> None:
        self.drivers[NODES].ex_fail_with = ConfigError("refused", source="x.toml")
        d = self.gather(NODES, SLOW)
        self.clock.advance(10)
        failed, fine = self.successResultOf(d)
        assert failed.error is not None
        self.assertEqual(
            (failed.items, describe_error(failed.error)),
            ([], {"type": "ConfigError", "message": "x.toml: refused"}),
        )
        self.assertEqual((len(fine.items), fine.error), (2, None))

    def test_driver_that_cannot_be_built_fails_its_target_only(self) -> None:
        def driver(target: Target) -> Any:
            if target == BUCKETS:
                raise ConfigError("the local driver refused its arguments", source="c.toml")
            return self.drivers[target]

        inventories = self.successResultOf(
            gather([BUCKETS, NODES], driver, defaults=Defaults(), reactor=self.clock)
        )
        self.assertEqual(
            [None if i.error is None else describe_error(i.error) for i in inventories],
            [
                {
                    "type": "ConfigError",
                    "message": "c.toml: the local driver refused its arguments",
                },
                None,
            ],
        )

    def test_timeout_is_a_typed_error(self) -> None:
        reported: list[TargetInventory] = []
        d = self.gather(SLOW, timeout=4.0, on_each=reported.append)
        self.clock.advance(4)
        [inventory] = self.successResultOf(d)
        self.assertEqual(reported, [inventory])
        assert inventory.error is not None
        self.assertIsInstance(inventory.error.value, RequestTimeoutError)
        self.assertIn("within 4.0 seconds", inventory.error.getErrorMessage())

    def test_concurrency_limits_the_targets_asked_at_once(self) -> None:
        self.drivers[NODES].ex_latency = 10.0
        d = self.gather(SLOW, NODES, concurrency=1)
        self.assertEqual(self.asked, [SLOW])
        self.clock.advance(10)
        self.assertEqual(self.asked, [SLOW, NODES])
        self.clock.advance(10)
        self.assertEqual(len(self.successResultOf(d)), 2)

    def test_each_target_s_timeout_starts_with_its_turn(self) -> None:
        self.drivers[NODES].ex_latency = 10.0
        d = self.gather(SLOW, NODES, concurrency=1, timeout=15.0)
        self.clock.pump([10, 10])
        self.assertEqual([i.error for i in self.successResultOf(d)], [None, None])

    def test_no_targets(self) -> None:
        self.assertEqual(self.successResultOf(self.gather()), [])

    def test_cancelling_cancels_calls_in_flight_and_reports_nothing(self) -> None:
        reported: list[TargetInventory] = []
        d = self.gather(SLOW, on_each=reported.append)
        d.cancel()
        self.failureResultOf(d)
        self.assertEqual((reported, self.clock.getDelayedCalls()), ([], []))
