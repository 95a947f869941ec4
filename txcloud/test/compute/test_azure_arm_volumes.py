"""
Tests of the Azure driver's volumes and snapshots
(txcloud.compute.drivers.azure_arm.volumes) against the fake subscription
(txcloud.testing.azure_arm) in memory, on a Clock.
"""

from __future__ import annotations

from typing import Any

from txcloud.compute.base import Node, StorageVolume, VolumeSnapshot
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import (
    InvalidArgumentError,
    InvalidRequestError,
    NodeNotFoundError,
    ProviderError,
    RequestTimeoutError,
    ResourceConflictError,
    VolumeNotFoundError,
)
from txcloud.test.compute.test_azure_arm import FakeTestCase
from txcloud.testing.azure_arm import DEFAULT_SUBSCRIPTION

GROUP = f"/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/rg"
DISK_ID = f"{GROUP}/providers/Microsoft.Compute/disks/data-1"


class VolumeTestCase(FakeTestCase):
    """A fake subscription with one machine, whose operations take 10 seconds."""

    def setUp(self) -> None:
        super().setUp()
        self.fake.add_vm("web-1", group="rg")
        self.fake.operation_seconds = 10
        self.node = self.result(self.driver.list_nodes())[0]

    def volume(self, name: str = "data-1", size: int = 8, **kwargs: Any) -> StorageVolume:
        created: StorageVolume = self.result(
            self.driver.create_volume(size, name, ex_resource_group="rg", **kwargs)
        )
        return created

    def data_disks(self, node: Node | None = None) -> list[dict[str, Any]]:
        vm = self.fake.resources[(node or self.node).id.lower()]
        disks: list[dict[str, Any]] = vm["properties"]["storageProfile"]["dataDisks"]
        return disks


class CreateVolumeTests(VolumeTestCase):
    def test_create_volume_waits_for_the_operation_and_reads_the_disk_back(self) -> None:
        volume = self.volume(ex_sku_name="Premium_LRS", ex_tags={"team": "web"})
        self.assertEqual((volume.id, volume.name, volume.size), (DISK_ID, "data-1", 8))
        self.assertEqual(volume.state, StorageVolumeState.AVAILABLE)
        self.assertEqual(volume.extra["sku_name"], "Premium_LRS")
        self.assertEqual(volume.extra["tags"], {"team": "web"})
        self.assertEqual(volume.extra["resource_group"], "rg")
        self.assertEqual(volume.extra["location"], "westeurope")
        self.assertIsNone(volume.extra["managedBy"])
        self.assertIn(("PUT", "/" + DISK_ID.lstrip("/")), self.arm_requests())
        put = next(r for r in self.fake.received if r.method == "PUT")
        self.assertEqual(put.arg("api-version"), "2024-03-02")
        self.assertEqual(
            put.json()["properties"],
            {"diskSizeGB": 8, "creationData": {"createOption": "Empty"}},
        )

    def test_create_volume_refuses_a_taken_name_without_changing_the_disk(self) -> None:
        self.volume()
        failure = self.failure(
            self.driver.create_volume(16, "data-1", ex_resource_group="rg"),
            ResourceConflictError,
        )
        self.assertIn("already exists", str(failure))
        self.assertEqual(self.fake.resources[DISK_ID.lower()]["properties"]["diskSizeGB"], 8)

    def test_create_volume_from_a_snapshot_copies_it(self) -> None:
        snapshot = self.result(self.driver.create_volume_snapshot(self.volume(), "snap-1"))
        copy = self.volume("copy-1", 10, snapshot=snapshot)
        creation = copy.extra["properties"]["creationData"]
        self.assertEqual(creation["createOption"], "Copy")
        self.assertEqual(creation["sourceResourceId"], snapshot.id)
        self.assertEqual(copy.size, 10)

    def test_create_volume_from_a_missing_snapshot_is_volume_not_found(self) -> None:
        missing = f"{GROUP}/providers/Microsoft.Compute/snapshots/gone"
        self.failure(
            self.driver.create_volume(8, "copy", snapshot=missing, ex_resource_group="rg"),
            VolumeNotFoundError,
        )

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        before = len(self.fake.received)
        snapshot_of_vm = VolumeSnapshot(self.node.id, self.driver)
        cases: tuple[tuple[Any, str, dict[str, Any]], ...] = (
            (0, "d", {}),
            (-1, "d", {}),
            (True, "d", {}),
            (1.5, "d", {}),
            (70000, "d", {}),
            (8, "bad name!", {}),
            (8, "ends-", {}),
            (8, "d", {"ex_resource_group": None}),
            (8, "d", {"ex_resource_group": "bad/group"}),
            (8, "d", {"ex_sku_name": "Gold_LRS"}),
            (8, "d", {"ex_tags": {"k": 1}}),
            (8, "d", {"ex_zone": "4"}),
            (8, "d", {"location": "atlantis"}),
            (8, "d", {"snapshot": "not-an-id"}),
            (8, "d", {"snapshot": snapshot_of_vm}),
        )
        for size, name, kwargs in cases:
            arguments = {"ex_resource_group": "rg", **kwargs}
            with self.assertRaises(InvalidArgumentError, msg=(size, name, kwargs)):
                self.driver.create_volume(size, name, **arguments)
        self.assertEqual(len(self.fake.received), before)

    def test_a_failed_creation_fails_with_azure_code(self) -> None:
        self.fake.fail_operations("InternalDiskManagementError", "disk service unavailable")
        error = self.failure(
            self.driver.create_volume(8, "data-1", ex_resource_group="rg"), ProviderError
        )
        self.assertEqual(error.code, "InternalDiskManagementError")


class ListVolumeTests(VolumeTestCase):
    def test_list_volumes_holds_os_and_data_disks_paged(self) -> None:
        self.volume()
        self.fake.add_resource_group("other")
        self.result(self.driver.create_volume(4, "elsewhere", ex_resource_group="other"))
        self.fake.page_size = 1
        volumes = self.result(self.driver.list_volumes())
        self.assertEqual(sorted(v.name for v in volumes), ["data-1", "elsewhere", "web-1-osdisk"])
        os_disk = next(v for v in volumes if v.name == "web-1-osdisk")
        self.assertEqual(os_disk.state, StorageVolumeState.INUSE)
        self.assertEqual(os_disk.extra["managedBy"], self.node.id)
        in_group = self.result(self.driver.list_volumes(ex_resource_group="other"))
        self.assertEqual([v.name for v in in_group], ["elsewhere"])

    def test_a_volume_being_created_is_creating(self) -> None:
        self.driver.create_volume(8, "data-1", ex_resource_group="rg")
        self.clock.advance(1)
        [volume] = [v for v in self.result(self.driver.list_volumes()) if v.name == "data-1"]
        self.assertEqual(volume.state, StorageVolumeState.CREATING)

    def test_wait_until_volume_polls_on_the_clock(self) -> None:
        self.driver.create_volume(8, "data-1", ex_resource_group="rg")
        self.clock.advance(1)
        pending = StorageVolume(DISK_ID, "data-1", 8, self.driver)
        waited = self.driver.wait_until_volume(pending, wait_period=2, timeout=60)
        self.assertNoResult(waited)
        self.assertEqual(self.result(waited).state, StorageVolumeState.AVAILABLE)

    def test_wait_until_a_missing_volume_times_out(self) -> None:
        missing = StorageVolume(DISK_ID, "data-1", 8, self.driver)
        self.failure(
            self.driver.wait_until_volume(missing, wait_period=5, timeout=20), RequestTimeoutError
        )


class AttachTests(VolumeTestCase):
    def test_attach_adds_a_data_disk_at_the_lowest_free_lun(self) -> None:
        first, second = self.volume(), self.volume("data-2")
        self.assertIs(self.result(self.driver.attach_volume(self.node, first)), True)
        self.assertIs(
            self.result(self.driver.attach_volume(self.node, second, caching="ReadOnly")), True
        )
        disks = self.data_disks()
        self.assertEqual([(d["lun"], d["name"]) for d in disks], [(0, "data-1"), (1, "data-2")])
        self.assertEqual(disks[1]["caching"], "ReadOnly")
        volume = self.result(self.driver.list_volumes(ex_resource_group="rg"))
        attached = next(v for v in volume if v.name == "data-1")
        self.assertEqual(attached.state, StorageVolumeState.INUSE)
        self.assertEqual(attached.extra["managedBy"].lower(), self.node.id.lower())
        self.assertIn(("PATCH", self.node.id), self.arm_requests())

    def test_attach_waits_for_the_machine_update(self) -> None:
        attached = self.driver.attach_volume(self.node, self.volume())
        self.clock.advance(5)
        self.assertNoResult(attached)
        self.clock.advance(10)
        self.assertIs(self.successResultOf(attached), True)

    def test_attach_at_a_given_lun(self) -> None:
        self.result(self.driver.attach_volume(self.node, self.volume(), ex_lun=5))
        self.assertEqual(self.data_disks()[0]["lun"], 5)

    def test_attach_at_a_used_lun_is_refused_by_azure(self) -> None:
        self.result(self.driver.attach_volume(self.node, self.volume(), ex_lun=3))
        self.failure(
            self.driver.attach_volume(self.node, self.volume("data-2"), ex_lun=3),
            InvalidRequestError,
        )

    def test_attach_beyond_the_size_data_disk_limit_is_a_conflict(self) -> None:
        for name in ("d1", "d2"):
            self.result(self.driver.attach_volume(self.node, self.volume(name)))
        self.failure(self.driver.attach_volume(self.node, self.volume("d3")), ResourceConflictError)

    def test_attach_a_disk_held_by_another_machine_is_a_conflict(self) -> None:
        self.fake.add_vm("web-2", group="rg")
        other = next(n for n in self.result(self.driver.list_nodes()) if n.name == "web-2")
        volume = self.volume()
        self.result(self.driver.attach_volume(other, volume))
        self.failure(self.driver.attach_volume(self.node, volume), ResourceConflictError)

    def test_attach_an_unmanaged_vhd(self) -> None:
        volume = StorageVolume("legacy", "legacy-data", 16, self.driver)
        uri = "https://account.blob.core.windows.net/vhds/legacy-data.vhd"
        self.result(
            self.driver.attach_volume(self.node, volume, ex_vhd_uri=uri, ex_vhd_create=True)
        )
        [disk] = self.data_disks()
        self.assertEqual(
            (disk["name"], disk["createOption"], disk["vhd"]),
            ("legacy-data", "Empty", {"uri": uri}),
        )
        self.assertIs(self.result(self.driver.detach_volume(volume, ex_node=self.node)), True)
        self.assertEqual(self.data_disks(), [])

    def test_bad_attach_arguments_are_refused_before_any_request(self) -> None:
        volume = StorageVolume(DISK_ID, "data-1", 8, self.driver)
        before = len(self.fake.received)
        foreign = StorageVolume(
            DISK_ID.replace(DEFAULT_SUBSCRIPTION, "00000000-0000-4000-8000-000000000000"),
            "data-1",
            8,
            self.driver,
        )
        for node, target, kwargs in (
            (self.node, volume, {"ex_lun": -1}),
            (self.node, volume, {"ex_lun": 64}),
            (self.node, volume, {"ex_lun": "0"}),
            (self.node, volume, {"ex_lun": True}),
            (self.node, volume, {"caching": "Sometimes"}),
            (self.node, volume, {"device": "/dev/sdc"}),
            (self.node, volume, {"ex_vhd_uri": "http://plain/disk.vhd"}),
            (self.node, StorageVolume("x/y", "data-1", 8, self.driver), {}),
            (self.node, foreign, {}),
            (self.node, "data-1", {}),
            ("web-1", volume, {}),
        ):
            with self.assertRaises(InvalidArgumentError, msg=kwargs):
                self.driver.attach_volume(node, target, **kwargs)  # type: ignore[arg-type]
        self.assertEqual(len(self.fake.received), before)


class DetachDestroyTests(VolumeTestCase):
    def test_detach_finds_the_machine_holding_the_disk(self) -> None:
        volume, kept = self.volume(), self.volume("data-2")
        self.result(self.driver.attach_volume(self.node, volume))
        self.result(self.driver.attach_volume(self.node, kept))
        self.assertIs(self.result(self.driver.detach_volume(volume)), True)
        self.assertEqual([d["name"] for d in self.data_disks()], ["data-2"])
        current = self.result(self.driver.wait_until_volume(volume, wait_period=1))
        self.assertIsNone(current.extra["managedBy"])

    def test_detach_from_a_named_node(self) -> None:
        volume = self.volume()
        self.result(volume.attach(self.node))
        self.assertIs(self.result(self.driver.detach_volume(volume, ex_node=self.node)), True)
        self.assertEqual(self.data_disks(), [])

    def test_detach_an_unattached_volume_is_a_conflict(self) -> None:
        volume = self.volume()
        self.failure(self.driver.detach_volume(volume), ResourceConflictError)
        self.failure(self.driver.detach_volume(volume, ex_node=self.node), ResourceConflictError)

    def test_destroy_an_attached_volume_is_refused_then_allowed_once_detached(self) -> None:
        volume = self.volume()
        self.result(self.driver.attach_volume(self.node, volume))
        self.failure(self.driver.destroy_volume(volume), ResourceConflictError)
        self.result(volume.detach())
        self.assertIs(self.result(volume.destroy()), True)
        self.assertNotIn(DISK_ID.lower(), self.fake.resources)

    def test_a_deleted_disk_is_volume_not_found(self) -> None:
        volume = self.volume()
        self.result(self.driver.destroy_volume(volume))
        self.failure(self.driver.detach_volume(volume), VolumeNotFoundError)

    def test_detach_of_a_missing_machine_is_node_not_found(self) -> None:
        volume = self.volume()
        gone = Node(
            self.node.id.replace("web-1", "web-9"), "web-9", NodeState.RUNNING, [], [], self.driver
        )
        self.failure(self.driver.detach_volume(volume, ex_node=gone), NodeNotFoundError)

    def test_deallocating_the_machine_reserves_its_disks(self) -> None:
        volume = self.volume()
        self.result(self.driver.attach_volume(self.node, volume))
        self.result(self.driver.stop_node(self.node))
        current = self.result(self.driver.wait_until_volume(volume, StorageVolumeState.INUSE))
        self.assertEqual(current.extra["disk_state"], "Reserved")


class SnapshotTests(VolumeTestCase):
    def test_snapshot_a_volume_in_its_group_and_region(self) -> None:
        volume = self.volume()
        snapshot = self.result(volume.snapshot("snap-1"))
        self.assertEqual(snapshot.id, f"{GROUP}/providers/Microsoft.Compute/snapshots/snap-1")
        self.assertEqual((snapshot.name, snapshot.size), ("snap-1", 8))
        self.assertEqual(snapshot.state, VolumeSnapshotState.AVAILABLE)
        self.assertEqual(snapshot.extra["volume_id"], volume.id)
        self.assertEqual(snapshot.extra["location"], "westeurope")
        self.assertIsNotNone(snapshot.created)

    def test_snapshot_name_defaults_to_the_volume_and_the_clock(self) -> None:
        snapshot = self.result(self.driver.create_volume_snapshot(self.volume()))
        self.assertEqual(snapshot.name, f"data-1-{int(self.clock.seconds()) - 10}")

    def test_list_volume_snapshots_keeps_the_volume_s(self) -> None:
        first, second = self.volume(), self.volume("data-2")
        self.result(self.driver.create_volume_snapshot(first, "a"))
        self.result(self.driver.create_volume_snapshot(second, "b", ex_incremental=True))
        self.assertEqual(
            sorted(s.name for s in self.result(self.driver.list_snapshots())), ["a", "b"]
        )
        [own] = self.result(first.list_snapshots())
        self.assertEqual(own.name, "a")
        [incremental] = self.result(self.driver.list_volume_snapshots(second))
        self.assertIs(incremental.extra["incremental"], True)

    def test_destroy_snapshot_and_wait_reports_gone_as_missing(self) -> None:
        snapshot = self.result(self.driver.create_volume_snapshot(self.volume(), "snap-1"))
        self.assertIs(self.result(snapshot.destroy()), True)
        self.assertEqual(self.result(self.driver.list_snapshots(ex_resource_group="rg")), [])
        self.failure(
            self.driver.wait_until_snapshot(snapshot, wait_period=5, timeout=10),
            RequestTimeoutError,
        )

    def test_snapshot_of_a_deleted_volume_is_volume_not_found(self) -> None:
        volume = self.volume()
        self.result(volume.destroy())
        self.failure(self.driver.create_volume_snapshot(volume, "snap"), VolumeNotFoundError)

    def test_bad_snapshot_arguments_are_refused_before_any_request(self) -> None:
        volume = StorageVolume(DISK_ID, "data-1", 8, self.driver)
        before = len(self.fake.received)
        for target, kwargs in (
            (volume, {"name": "bad name"}),
            (volume, {"ex_resource_group": "bad/group"}),
            (volume, {"location": "atlantis"}),
            (volume, {"ex_tags": ["a"]}),
            (volume, {"ex_incremental": "yes"}),
            (StorageVolume(self.node.id, "web-1", 8, self.driver), {}),
        ):
            with self.assertRaises(InvalidArgumentError, msg=kwargs):
                self.driver.create_volume_snapshot(target, **kwargs)
        with self.assertRaises(InvalidArgumentError):
            self.driver.destroy_volume_snapshot(VolumeSnapshot(DISK_ID, self.driver))
        with self.assertRaises(InvalidArgumentError):
            self.driver.list_snapshots(ex_resource_group="bad/group")
        self.assertEqual(len(self.fake.received), before)
