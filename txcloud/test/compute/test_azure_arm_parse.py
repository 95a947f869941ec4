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
)
from txcloud.compute.types import NodeState
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
