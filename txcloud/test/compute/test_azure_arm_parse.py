"""
Parsing of Azure Resource Manager's answers (txcloud.compute.drivers.azure_arm.parse)
on responses recorded from its API reference (:mod:`.azure_arm_recorded`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.azure_arm.parse import (
    Addresses,
    node_state,
    os_disk,
    parse_image,
    parse_location,
    parse_node,
    parse_size,
    parse_snapshot,
    parse_volume,
    snapshot_state,
    volume_state,
)
from txcloud.compute.types import NodeState, StorageVolumeState, VolumeSnapshotState
from txcloud.errors import MalformedResponseError
from txcloud.test.compute import azure_arm_recorded as recorded

DRIVER = object()


def _status(*codes: str) -> dict[str, object]:
    return {"statuses": [{"code": code} for code in codes]}


class NodeTests(SynchronousTestCase):
    def setUp(self) -> None:
        vms = recorded.loaded("virtual_machines")["value"]
        self.addresses = Addresses.join(
            recorded.loaded("network_interfaces")["value"],
            recorded.loaded("public_ip_addresses")["value"],
        )
        self.web, self.batch = (parse_node(vm, self.addresses, DRIVER) for vm in vms)

    def test_node_fields(self) -> None:
        self.assertEqual(self.web.id, recorded.VM_ID)
        self.assertEqual(self.web.name, "web-01")
        self.assertEqual(self.web.state, NodeState.RUNNING)
        self.assertEqual(
            self.web.created_at, datetime(2024, 11, 20, 8, 15, 42, 123456, tzinfo=timezone.utc)
        )

    def test_addresses_joined_through_the_interface_whatever_the_id_case(self) -> None:
        self.assertEqual(self.web.public_ips, ["51.105.12.34"])
        self.assertEqual(self.web.private_ips, ["10.20.1.4"])

    def test_node_without_interfaces_has_no_addresses(self) -> None:
        self.assertEqual((self.batch.public_ips, self.batch.private_ips), ([], []))

    def test_extra(self) -> None:
        extra = self.web.extra
        self.assertEqual(extra["location"], "westeurope")
        self.assertEqual(extra["tags"], {"role": "web"})
        self.assertEqual(extra["resource_group"], "Web-Prod")
        self.assertEqual(extra["vm_size"], "Standard_D2s_v5")
        self.assertEqual(extra["power_state"], "running")
        self.assertEqual(extra["provisioning_state"], "Succeeded")
        self.assertEqual(extra["network_interfaces"], [recorded.NIC_ID])
        self.assertEqual(extra["properties"]["osProfile"]["adminUsername"], "azureuser")

    def test_deallocated_is_stopped(self) -> None:
        self.assertEqual(self.batch.state, NodeState.STOPPED)

    def test_a_node_without_id_is_malformed(self) -> None:
        self.assertRaises(MalformedResponseError, parse_node, {"name": "x"}, Addresses(), DRIVER)


class StateTests(SynchronousTestCase):
    def test_power_states(self) -> None:
        for power, state in (
            ("running", NodeState.RUNNING),
            ("starting", NodeState.STARTING),
            ("stopping", NodeState.STOPPING),
            ("stopped", NodeState.PAUSED),
            ("deallocating", NodeState.PENDING),
            ("deallocated", NodeState.STOPPED),
            ("hibernated", NodeState.UNKNOWN),
        ):
            view = _status("ProvisioningState/succeeded", f"PowerState/{power}")
            self.assertEqual(node_state(view), state, power)

    def test_provisioning_states_win_over_power(self) -> None:
        for provisioning, state in (
            ("creating", NodeState.PENDING),
            ("deleting", NodeState.TERMINATED),
            ("failed/InternalOperationError", NodeState.ERROR),
            ("updating", NodeState.UPDATING),
        ):
            view = _status(f"ProvisioningState/{provisioning}", "PowerState/running")
            self.assertEqual(node_state(view), state, provisioning)

    def test_without_instance_view_the_provisioning_state_decides(self) -> None:
        self.assertEqual(node_state({}, "Succeeded"), NodeState.RUNNING)
        self.assertEqual(node_state({}, "Creating"), NodeState.PENDING)
        self.assertEqual(node_state({}), NodeState.UNKNOWN)


class CatalogueTests(SynchronousTestCase):
    def test_sizes(self) -> None:
        small, large = (
            parse_size(size, "westeurope", DRIVER) for size in recorded.loaded("vm_sizes")["value"]
        )
        self.assertEqual(
            (small.id, small.name, small.ram, small.disk), ("Standard_B1s",) * 2 + (1024, 4)
        )
        self.assertEqual((small.bandwidth, small.price), (None, None))
        self.assertEqual(large.extra["numberOfCores"], 4)
        self.assertEqual(large.extra["location"], "westeurope")

    def test_locations(self) -> None:
        west = parse_location(recorded.loaded("locations")["value"][0], DRIVER)
        self.assertEqual((west.id, west.name, west.country), ("westeurope", "West Europe", "NL"))
        self.assertEqual(west.extra["metadata"]["pairedRegion"][0]["name"], "northeurope")

    def test_image_id_is_the_urn(self) -> None:
        version = recorded.loaded("image_versions")[1]["name"]
        image = parse_image(
            "Canonical", "ubuntu-24_04-lts", "server", version, "westeurope", DRIVER
        )
        self.assertEqual(image.id, "Canonical:ubuntu-24_04-lts:server:24.04.202412010")
        self.assertEqual(image.extra["sku"], "server")


class DiskTests(SynchronousTestCase):
    def test_managed_and_unmanaged_os_disks(self) -> None:
        vm = recorded.loaded("virtual_machines")["value"][0]
        disk_id, unmanaged = os_disk(vm)
        self.assertTrue(disk_id and disk_id.endswith("/disks/web-01_OsDisk_1"))
        self.assertFalse(unmanaged)
        blob = {"properties": {"storageProfile": {"osDisk": {"vhd": {"uri": "https://a/b.vhd"}}}}}
        self.assertEqual(os_disk(blob), (None, True))
        self.assertEqual(os_disk({"properties": "odd"}), (None, False))


class VolumeTests(SynchronousTestCase):
    def setUp(self) -> None:
        disks = recorded.loaded("disks")["value"]
        self.data, self.spare, self.exported, self.new = (
            parse_volume(disk, DRIVER) for disk in disks
        )

    def test_volume_fields(self) -> None:
        self.assertEqual(self.data.id, recorded.DISK_ID)
        self.assertEqual((self.data.name, self.data.size), ("web-01-data", 128))
        self.assertIs(self.data.driver, DRIVER)

    def test_states_from_disk_and_provisioning_states(self) -> None:
        self.assertEqual(
            [v.state for v in (self.data, self.spare, self.exported, self.new)],
            [
                StorageVolumeState.INUSE,
                StorageVolumeState.AVAILABLE,
                StorageVolumeState.AVAILABLE,
                StorageVolumeState.CREATING,
            ],
        )

    def test_extra_keeps_libcloud_keys_and_adds_ours(self) -> None:
        extra = self.data.extra
        self.assertEqual(extra["managedBy"], recorded.VM_ID)
        self.assertEqual(extra["sku"], {"name": "Premium_LRS", "tier": "Premium"})
        self.assertEqual(extra["properties"]["tier"], "P10")
        self.assertEqual(extra["zones"], ["2"])
        self.assertEqual(
            (extra["resource_group"], extra["sku_name"], extra["location"]),
            ("Web-Prod", "Premium_LRS", "westeurope"),
        )
        self.assertEqual(
            (extra["disk_state"], extra["provisioning_state"]), ("Attached", "Succeeded")
        )
        self.assertEqual(
            extra["time_created"], datetime(2024, 11, 20, 8, 20, 3, 551230, tzinfo=timezone.utc)
        )
        self.assertEqual((self.spare.extra["managedBy"], self.spare.extra["tags"]), (None, {}))

    def test_every_disk_state(self) -> None:
        def state(disk_state: str, provisioning: str = "Succeeded", **more: object) -> object:
            properties = {"diskState": disk_state, "provisioningState": provisioning}
            return volume_state({"properties": properties, **more})

        self.assertEqual(state("Reserved"), StorageVolumeState.INUSE)
        self.assertEqual(state("Frozen"), StorageVolumeState.INUSE)
        self.assertEqual(state("ActiveSASFrozen"), StorageVolumeState.INUSE)
        self.assertEqual(state("ActiveSAS", managedBy=recorded.VM_ID), StorageVolumeState.INUSE)
        self.assertEqual(state("ReadyToUpload"), StorageVolumeState.CREATING)
        self.assertEqual(state("ActiveUpload"), StorageVolumeState.CREATING)
        self.assertEqual(state("Attached", "Deleting"), StorageVolumeState.DELETING)
        self.assertEqual(state("Unattached", "Updating"), StorageVolumeState.UPDATING)
        self.assertEqual(state("Unattached", "Failed"), StorageVolumeState.ERROR)
        self.assertEqual(state("SomethingNew"), StorageVolumeState.UNKNOWN)
        self.assertEqual(volume_state({}), StorageVolumeState.UNKNOWN)

    def test_a_disk_without_id_or_name_is_malformed(self) -> None:
        broken: object
        for broken in ([], {"name": "x"}, {"id": recorded.DISK_ID}):
            with self.assertRaises(MalformedResponseError):
                parse_volume(broken, DRIVER)

    def test_a_disk_without_size_has_size_zero(self) -> None:
        volume = parse_volume({"id": recorded.DISK_ID, "name": "d", "properties": {}}, DRIVER)
        self.assertEqual((volume.size, volume.state), (0, StorageVolumeState.UNKNOWN))


class SnapshotTests(SynchronousTestCase):
    def setUp(self) -> None:
        snapshots = recorded.loaded("snapshots")["value"]
        self.nightly, self.copy, self.imported = (parse_snapshot(s, DRIVER) for s in snapshots)

    def test_snapshot_fields(self) -> None:
        self.assertEqual(self.nightly.name, "web-01-data-nightly")
        self.assertEqual(self.nightly.size, 128)
        self.assertEqual(
            self.nightly.created, datetime(2024, 11, 21, 2, 0, 7, 301184, tzinfo=timezone.utc)
        )

    def test_states(self) -> None:
        self.assertEqual(
            [s.state for s in (self.nightly, self.copy, self.imported)],
            [
                VolumeSnapshotState.AVAILABLE,
                VolumeSnapshotState.CREATING,
                VolumeSnapshotState.ERROR,
            ],
        )
        self.assertEqual(
            snapshot_state({"provisioningState": "Succeeded", "snapshotAccessState": "Pending"}),
            VolumeSnapshotState.CREATING,
        )
        self.assertEqual(
            snapshot_state({"provisioningState": "Deleting"}), VolumeSnapshotState.DELETING
        )
        self.assertEqual(snapshot_state({}), VolumeSnapshotState.UNKNOWN)

    def test_source_and_volume(self) -> None:
        self.assertEqual(self.nightly.extra["source_id"], recorded.DISK_ID)
        self.assertEqual(self.nightly.extra["volume_id"], recorded.DISK_ID)
        self.assertEqual(self.copy.extra["volume_id"], None)
        self.assertIn("/snapshots/web-01-data-nightly", self.copy.extra["source_id"])
        self.assertEqual(
            self.imported.extra["source_id"],
            "https://oldaccount.blob.core.windows.net/vhds/old.vhd",
        )
        self.assertIsNone(self.imported.extra["volume_id"])

    def test_extra(self) -> None:
        extra = self.nightly.extra
        self.assertEqual((extra["resource_group"], extra["incremental"]), ("Web-Prod", True))
        self.assertEqual(extra["tags"], {"schedule": "nightly"})
        self.assertEqual(self.copy.extra["location"], "northeurope")
        self.assertEqual((self.imported.extra["tags"], self.imported.created), ({}, None))
