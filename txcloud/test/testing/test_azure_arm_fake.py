"""
Tests for txcloud.testing.azure_arm, the fake Azure Resource Manager,
spoken to over plain HTTP with treq's StubTreq on a Clock, and through the driver.
"""

from __future__ import annotations

import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.types import NodeState
from txcloud.testing.azure_arm import DEFAULT_SUBSCRIPTION, FakeAzureResourceManager

ARM = "https://management.azure.com"
SUB = f"/subscriptions/{DEFAULT_SUBSCRIPTION}"
COMPUTE = "2024-07-01"
DISKS = "2024-03-02"
LOCATIONS = "2022-12-01"
NETWORK = "2024-05-01"


class FakeTestCase(SynchronousTestCase):
    """The fake on a Clock, and a way to call it over HTTP."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.fake = FakeAzureResourceManager(self.clock)
        self.driver = self.fake.driver(region="westeurope")
        self.token = self.successResultOf(self.driver._tokens.token())
        self.http: Any = StubTreq(self.fake.resource)

    def call(
        self,
        method: str,
        path: str,
        version: str | None = COMPUTE,
        token: str | None = None,
        **kw: Any,
    ) -> tuple[int, Any, Any]:
        url = ARM + path + (f"?api-version={version}" if version else "")
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = self.successResultOf(self.http.request(method, url, headers=headers, **kw))
        body = self.successResultOf(response.content())
        return response.code, response.headers, json.loads(body) if body else None


class FakeTests(FakeTestCase):
    def test_requests_need_a_management_token(self) -> None:
        status, _, body = self.call("GET", f"{SUB}/locations", LOCATIONS, token="made-up")
        self.assertEqual((status, body["error"]["code"]), (401, "AuthenticationFailed"))
        storage = self.fake.ad.tokens.issue_for("https://storage.azure.com", "app")
        self.fake.ad.grants.append(
            type(self.fake.ad.grants[0])(
                "app", "https://storage.azure.com/.default", "secret", storage
            )
        )
        status, _, body = self.call("GET", f"{SUB}/locations", LOCATIONS, token=storage)
        self.assertEqual((status, body["error"]["code"]), (401, "InvalidAuthenticationToken"))

    def test_api_version_is_required(self) -> None:
        status, _, body = self.call("GET", f"{SUB}/locations", version=None)
        self.assertEqual((status, body["error"]["code"]), (400, "MissingApiVersionParameter"))

    def test_each_kind_of_resource_has_its_api_versions(self) -> None:
        self.fake.add_vm("web-1")
        disk = self.fake.resource_id("rg", "Microsoft.Compute", "disks", "web-1-osdisk")
        status, _, body = self.call("GET", disk, version="2024-07-01")
        self.assertEqual((status, body["error"]["code"]), (400, "NoRegisteredProviderFound"))
        self.assertEqual(self.call("GET", disk, version=DISKS)[0], 200)

    def test_another_subscription_is_not_found(self) -> None:
        status, _, body = self.call(
            "GET", "/subscriptions/00000000-0000-4000-8000-000000000000/locations", LOCATIONS
        )
        self.assertEqual((status, body["error"]["code"]), (404, "SubscriptionNotFound"))

    def test_paths_are_case_insensitive_as_azures(self) -> None:
        self.fake.add_vm("web-1", group="Web")
        status, _, body = self.call(
            "GET", f"{SUB}/resourcegroups/web/providers/microsoft.compute/virtualmachines/WEB-1"
        )
        self.assertEqual((status, body["name"]), (200, "web-1"))

    def test_operations_run_on_the_clock(self) -> None:
        vm = self.fake.add_vm("web-1")
        self.fake.operation_seconds = 30
        status, headers, _ = self.call("POST", f"{vm}/powerOff")
        self.assertEqual(status, 202)
        self.assertEqual(headers.getRawHeaders("Retry-After"), ["1"])
        status_url = headers.getRawHeaders("Azure-AsyncOperation")[0].removeprefix(ARM)
        location = headers.getRawHeaders("Location")[0].removeprefix(ARM)
        self.assertEqual(self.call("GET", status_url, version=None)[2]["status"], "InProgress")
        self.assertEqual(self.call("GET", location, version=None)[0], 202)
        self.assertEqual(self.fake.power[vm.lower()], "stopping")
        self.clock.advance(30)
        self.assertEqual(self.call("GET", status_url, version=None)[2]["status"], "Succeeded")
        self.assertEqual(self.call("GET", location, version=None)[0], 204)
        self.assertEqual(self.fake.power[vm.lower()], "stopped")

    def test_what_is_in_use_cannot_be_deleted(self) -> None:
        self.fake.add_vm("web-1")
        nic = self.fake.resource_id("rg", "Microsoft.Network", "networkInterfaces", "web-1-nic")
        address = self.fake.resource_id("rg", "Microsoft.Network", "publicIPAddresses", "web-1-ip")
        disk = self.fake.resource_id("rg", "Microsoft.Compute", "disks", "web-1-osdisk")
        self.assertEqual(self.call("DELETE", nic, NETWORK)[2]["error"]["code"], "NicInUse")
        self.assertEqual(
            self.call("DELETE", address, NETWORK)[2]["error"]["code"],
            "PublicIPAddressCannotBeDeleted",
        )
        self.assertEqual(
            self.call("DELETE", disk, DISKS)[2]["error"]["code"], "OperationNotAllowed"
        )

    def test_deleting_what_is_gone_answers_204(self) -> None:
        self.fake.add_resource_group("rg")
        vm = self.fake.resource_id("rg", "Microsoft.Compute", "virtualMachines", "gone")
        self.assertEqual(self.call("DELETE", vm)[0], 204)

    def test_location_only_operations_are_followed_by_the_driver(self) -> None:
        self.fake.add_vm("web-1")
        self.fake.async_headers = ("Location",)
        node = self.successResultOf(self.driver.list_nodes())[0]
        stopped = self.driver.stop_node(node)
        self.clock.advance(1)
        self.assertIs(self.successResultOf(stopped), True)
        self.assertIn("/operationResults/", self.fake.received[-1].path)

    def test_a_failed_operation_leaves_its_resource_failed(self) -> None:
        self.fake.add_resource_group("rg")
        self.fake.add_network("rg", "vnet")
        self.fake.fail_operations("AllocationFailed", "No capacity")
        created = self.driver.create_node(
            "vm",
            "Standard_B1s",
            "Canonical:ubuntu-24_04-lts:server:latest",
            ex_resource_group="rg",
            ex_network="vnet",
            ex_admin_password="a-long-enough-password",
            ex_public_ip=False,
        )
        self.clock.advance(1)
        self.assertEqual(self.failureResultOf(created).value.code, "AllocationFailed")
        nic = self.fake.resource_id("rg", "Microsoft.Network", "networkInterfaces", "vm-nic")
        self.assertEqual(
            self.fake.resources[nic.lower()]["properties"]["provisioningState"], "Failed"
        )
        self.assertNotIn("virtualMachines", " ".join(r.path for r in self.fake.received))

    def test_next_link_carries_the_query(self) -> None:
        for name in ("a", "b", "c"):
            self.fake.add_vm(name)
        self.fake.page_size = 2
        _, _, body = self.call("GET", f"{SUB}/providers/Microsoft.Compute/virtualMachines")
        self.assertEqual(len(body["value"]), 2)
        self.assertTrue(
            body["nextLink"].startswith(
                f"{ARM}{SUB}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01&"
            )
        )
        nodes = self.successResultOf(self.driver.list_nodes())
        self.assertEqual({n.state for n in nodes}, {NodeState.RUNNING})


class DiskFakeTests(FakeTestCase):
    """Managed disks, snapshots and machines' data disks, over HTTP."""

    def setUp(self) -> None:
        super().setUp()
        self.vm = self.fake.add_vm("web-1")
        self.disk = self.fake.resource_id("rg", "Microsoft.Compute", "disks", "data-1")

    def put_disk(self, path: str, size: int = 8, location: str = "westeurope") -> int:
        body = {
            "location": location,
            "properties": {"diskSizeGB": size, "creationData": {"createOption": "Empty"}},
        }
        status, _, _ = self.call("PUT", path, DISKS, json=body)
        return status

    def patch_data_disks(self, *entries: dict[str, Any]) -> tuple[int, Any]:
        body = {"properties": {"storageProfile": {"dataDisks": list(entries)}}}
        status, _, answer = self.call("PATCH", self.vm, json=body)
        return status, answer

    def attach_entry(self, lun: int, disk: str | None = None) -> dict[str, Any]:
        return {"lun": lun, "createOption": "Attach", "managedDisk": {"id": disk or self.disk}}

    def test_disk_creation_is_an_operation_answered_202(self) -> None:
        self.fake.operation_seconds = 5
        self.assertEqual(self.put_disk(self.disk), 202)
        _, _, disk = self.call("GET", self.disk, DISKS)
        self.assertEqual(disk["properties"]["provisioningState"], "Creating")
        self.assertEqual(disk["sku"], {"name": "Standard_LRS", "tier": "Standard"})
        self.clock.advance(5)
        _, _, disk = self.call("GET", self.disk, DISKS)
        self.assertEqual(
            (disk["properties"]["provisioningState"], disk["properties"]["diskState"]),
            ("Succeeded", "Unattached"),
        )

    def test_disks_and_snapshots_take_the_disks_api_versions(self) -> None:
        status, _, body = self.call("GET", f"{SUB}/providers/Microsoft.Compute/snapshots", COMPUTE)
        self.assertEqual((status, body["error"]["code"]), (400, "NoRegisteredProviderFound"))
        status, _, body = self.call("GET", f"{SUB}/providers/Microsoft.Compute/disks", DISKS)
        self.assertEqual([d["name"] for d in body["value"]], ["web-1-osdisk"])

    def test_a_disk_needs_a_size(self) -> None:
        body = {"location": "westeurope", "properties": {"creationData": {"createOption": "Empty"}}}
        status, _, answer = self.call("PUT", self.disk, DISKS, json=body)
        self.assertEqual((status, answer["error"]["code"]), (400, "InvalidParameter"))

    def test_a_snapshot_stays_in_its_disk_s_region(self) -> None:
        self.put_disk(self.disk)
        snapshot = self.fake.resource_id("rg", "Microsoft.Compute", "snapshots", "s")
        body = {
            "location": "northeurope",
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": self.disk}},
        }
        status, _, answer = self.call("PUT", snapshot, DISKS, json=body)
        self.assertEqual((status, answer["error"]["code"]), (400, "BadRequest"))

    def test_attaching_sets_managed_by_and_an_attached_disk_cannot_be_deleted(self) -> None:
        self.put_disk(self.disk)
        status, vm = self.patch_data_disks(self.attach_entry(0))
        self.assertEqual(status, 200)
        self.assertEqual(vm["properties"]["storageProfile"]["dataDisks"][0]["name"], "data-1")
        _, _, disk = self.call("GET", self.disk, DISKS)
        self.assertEqual(
            (disk["managedBy"], disk["properties"]["diskState"]), (self.vm, "Attached")
        )
        status, _, answer = self.call("DELETE", self.disk, DISKS)
        self.assertEqual((status, answer["error"]["code"]), (409, "OperationNotAllowed"))

    def test_a_machine_update_refuses_bad_data_disks(self) -> None:
        self.put_disk(self.disk)
        missing = self.fake.resource_id("rg", "Microsoft.Compute", "disks", "gone")
        for entries in (
            [self.attach_entry(64)],
            [self.attach_entry(0), self.attach_entry(0)],
            [self.attach_entry(0, missing)],
        ):
            status, answer = self.patch_data_disks(*entries)
            self.assertEqual((status, answer["error"]["code"]), (400, "InvalidParameter"))
        far = self.fake.resource_id("rg", "Microsoft.Compute", "disks", "far")
        self.put_disk(far, location="eastus")
        status, answer = self.patch_data_disks(self.attach_entry(0, far))
        self.assertEqual(status, 400)

    def test_dropping_a_data_disk_or_deleting_the_machine_releases_it(self) -> None:
        self.put_disk(self.disk)
        self.patch_data_disks(self.attach_entry(0))
        self.patch_data_disks()
        _, _, disk = self.call("GET", self.disk, DISKS)
        self.assertEqual(
            (disk.get("managedBy"), disk["properties"]["diskState"]), (None, "Unattached")
        )
        self.patch_data_disks({**self.attach_entry(1), "toBeDetached": False})
        self.call("DELETE", self.vm)
        _, _, disk = self.call("GET", self.disk, DISKS)
        self.assertEqual(disk["properties"]["diskState"], "Unattached")

    def test_an_update_while_another_runs_is_refused(self) -> None:
        self.put_disk(self.disk)
        self.fake.operation_seconds = 10
        self.assertEqual(self.patch_data_disks(self.attach_entry(0))[0], 200)
        status, answer = self.patch_data_disks()
        self.assertEqual((status, answer["error"]["code"]), (409, "OperationNotAllowed"))
