"""
Tests of the Azure Resource Manager compute driver, txcloud.compute.drivers.azure_arm,
against txcloud.testing.azure_arm (the fake subscription and its Azure AD)
in memory on a Clock, and once over real sockets with the whole token path.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.auth.azure import ClientSecretTokens
from txcloud.compute.base import Node, NodeLocation, NodeSize
from txcloud.compute.drivers.azure_arm import AzureNodeDriver
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    NodeNotFoundError,
    ProviderError,
    QuotaExceededError,
    ResourceConflictError,
)
from txcloud.http import RetryPolicy
from txcloud.test.compute.azure_arm_serving import ServedAzure
from txcloud.testing.azure_arm import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBSCRIPTION,
    FakeAzureResourceManager,
)

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhLq0fS4cVnH2dQ0n8rT1m2V3xY4zA5bC6dE7fG8hI9 me@host"
IMAGE = "Canonical:ubuntu-24_04-lts:server:24.04.202412010"


def no_jitter(cap: float) -> float:
    return cap


class FakeTestCase(SynchronousTestCase):
    """A fake subscription on a Clock, and a driver for it."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.fake = FakeAzureResourceManager(self.clock)
        self.driver = self.fake.driver(
            region="westeurope", ex_retry=RetryPolicy(max_attempts=3, jitter=no_jitter)
        )

    def arm_requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.fake.received]

    def result(self, deferred: Deferred[Any]) -> Any:
        """What *deferred* fires with, moving the clock on until it does."""
        for _ in range(600):
            if deferred.called:
                break
            self.clock.advance(1)
        return self.successResultOf(deferred)

    def failure(self, deferred: Deferred[Any], *errors: type[Exception]) -> Any:
        for _ in range(600):
            if deferred.called:
                break
            self.clock.advance(1)
        return self.failureResultOf(deferred, *errors).value


class RegistryTests(SynchronousTestCase):
    def test_provider_constant_and_registry(self) -> None:
        self.assertEqual(Provider.AZURE_ARM.value, "azure_arm")
        self.assertIs(get_driver(Provider.AZURE_ARM), AzureNodeDriver)


class ListNodesTests(FakeTestCase):
    def test_nodes_with_states_and_addresses_from_three_requests(self) -> None:
        web = self.fake.add_vm("web-1", group="rg")
        self.fake.add_vm("db-1", group="data", power="deallocated", public_ip=False)
        nodes = {node.name: node for node in self.result(self.driver.list_nodes())}
        self.assertEqual(nodes["web-1"].id, web)
        self.assertEqual(nodes["web-1"].state, NodeState.RUNNING)
        self.assertEqual(len(nodes["web-1"].public_ips), 1)
        self.assertTrue(nodes["web-1"].private_ips[0].startswith("10.0.0."))
        self.assertEqual(nodes["db-1"].state, NodeState.STOPPED)
        self.assertEqual(nodes["db-1"].public_ips, [])
        sub = f"/subscriptions/{DEFAULT_SUBSCRIPTION}"
        self.assertEqual(
            sorted(self.arm_requests()),
            [
                ("GET", f"{sub}/providers/Microsoft.Compute/virtualMachines"),
                ("GET", f"{sub}/providers/Microsoft.Network/networkInterfaces"),
                ("GET", f"{sub}/providers/Microsoft.Network/publicIPAddresses"),
            ],
        )
        vm_list = next(r for r in self.fake.received if r.path.endswith("virtualMachines"))
        self.assertEqual(vm_list.arg("$expand"), "instanceView")

    def test_pages_are_followed_through_next_link(self) -> None:
        for index in range(5):
            self.fake.add_vm(f"vm-{index}")
        self.fake.page_size = 2
        nodes = self.result(self.driver.list_nodes())
        self.assertEqual(sorted(node.name for node in nodes), [f"vm-{i}" for i in range(5)])
        self.assertTrue(all(node.public_ips for node in nodes))
        vm_pages = [r for r in self.fake.received if r.path.endswith("virtualMachines")]
        self.assertEqual([r.arg("$skiptoken") for r in vm_pages], [None, "2", "4"])
        self.assertEqual({r.arg("$expand") for r in vm_pages}, {"instanceView"})

    def test_resource_group_narrows_the_listing(self) -> None:
        self.fake.add_vm("web-1", group="rg")
        self.fake.add_vm("db-1", group="data")
        nodes = self.result(self.driver.list_nodes(ex_resource_group="data"))
        self.assertEqual([node.name for node in nodes], ["db-1"])
        self.assertTrue(all("/resourceGroups/data/" in path for _, path in self.arm_requests()))

    def test_missing_resource_group_is_an_error(self) -> None:
        error = self.failure(self.driver.list_nodes(ex_resource_group="nope"), ProviderError)
        self.assertEqual((error.status, error.code), (404, "ResourceGroupNotFound"))

    def test_states_follow_operations(self) -> None:
        self.fake.add_vm("web-1")
        self.fake.operation_seconds = 30
        node = self.result(self.driver.list_nodes())[0]
        stopping = self.driver.stop_node(node)
        self.assertEqual(self.result(self.driver.list_nodes())[0].state, NodeState.PENDING)
        self.assertIs(self.result(stopping), True)
        self.assertEqual(self.result(self.driver.list_nodes())[0].state, NodeState.STOPPED)

    def test_ex_get_node(self) -> None:
        vm = self.fake.add_vm("web-1")
        node = self.result(self.driver.ex_get_node(vm))
        self.assertEqual(
            (node.name, node.state, len(node.public_ips)), ("web-1", NodeState.RUNNING, 1)
        )


class CatalogueTests(FakeTestCase):
    def test_sizes_of_the_default_region_and_of_a_location(self) -> None:
        sizes = self.result(self.driver.list_sizes())
        self.assertEqual(sizes[0].id, "Standard_B1s")
        self.assertEqual((sizes[0].ram, sizes[0].extra["numberOfCores"]), (1024, 1))
        location = NodeLocation("eastus", "East US", "US", self.driver)
        self.result(self.driver.list_sizes(location))
        self.assertTrue(self.arm_requests()[-1][1].endswith("/locations/eastus/vmSizes"))
        self.result(self.driver.list_sizes("West US 2"))
        self.assertTrue(self.arm_requests()[-1][1].endswith("/locations/westus2/vmSizes"))

    def test_locations_leave_logical_regions_out(self) -> None:
        locations = self.result(self.driver.list_locations())
        self.assertEqual(
            [location.id for location in locations],
            ["westeurope", "northeurope", "eastus", "westus2"],
        )
        self.assertEqual(locations[0].country, "NL")

    def test_images_walk_every_publisher(self) -> None:
        images = self.result(self.driver.list_images())
        self.assertEqual(len(images), 6)
        self.assertIn(IMAGE, [image.id for image in images])
        self.assertEqual({image.extra["location"] for image in images}, {"westeurope"})

    def test_images_narrowed_ask_only_what_they_need(self) -> None:
        images = self.result(
            self.driver.list_images(
                ex_publisher="Canonical", ex_sku="server", ex_version="24.04.202412010"
            )
        )
        self.assertEqual([image.id for image in images], [IMAGE])
        self.assertFalse(any("/Debian/" in path for _, path in self.arm_requests()))

    def test_publishers_are_walked_concurrently_within_the_bound(self) -> None:
        driver = self.fake.driver(region="westeurope", ex_concurrency=2)
        self.fake.latency = 1.0
        listing = driver.list_images()
        self.clock.advance(1)  # the token and the publishers' list
        self.clock.advance(1)
        offers = [r for r in self.fake.received if r.path.endswith("/offers")]
        self.assertEqual(len(offers), 2)
        self.assertEqual(len(self.result(listing)), 6)


class LifecycleTests(FakeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake.add_resource_group("apps", "westeurope")
        self.fake.add_network("apps", "apps-vnet")

    def create(self, **options: Any) -> Deferred[Node]:
        arguments: dict[str, Any] = {
            "ex_resource_group": "apps",
            "ex_network": "apps-vnet",
            "ex_ssh_public_key": SSH_KEY,
        }
        arguments.update(options)
        return self.driver.create_node("app-1", "Standard_B2s", IMAGE, **arguments)

    def test_create_makes_address_interface_and_machine_in_turn(self) -> None:
        node = self.result(self.create(ex_tags={"team": "web"}))
        self.assertEqual((node.name, node.state), ("app-1", NodeState.RUNNING))
        self.assertEqual(len(node.public_ips), 1)
        puts = [path.rsplit("/", 2)[1:] for method, path in self.arm_requests() if method == "PUT"]
        self.assertEqual(
            puts,
            [
                ["publicIPAddresses", "app-1-ip"],
                ["networkInterfaces", "app-1-nic"],
                ["virtualMachines", "app-1"],
            ],
        )
        vm = next(
            r for r in self.fake.received if r.method == "PUT" and "virtualMachines" in r.path
        ).json()
        profile = vm["properties"]["osProfile"]
        self.assertEqual(profile["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"], SSH_KEY)
        self.assertEqual(vm["tags"], {"team": "web"})
        self.assertEqual(vm["properties"]["storageProfile"]["imageReference"]["sku"], "server")

    def test_create_without_public_address(self) -> None:
        node = self.result(self.create(ex_public_ip=False))
        self.assertEqual(node.public_ips, [])
        self.assertEqual(len(node.private_ips), 1)

    def test_power_actions(self) -> None:
        node = self.result(self.create())
        key = node.id.lower()
        self.assertIs(self.result(self.driver.stop_node(node, ex_deallocate=False)), True)
        self.assertEqual(self.fake.power[key], "stopped")
        self.assertIs(self.result(self.driver.start_node(node)), True)
        self.assertEqual(self.fake.power[key], "running")
        self.assertIs(self.result(node.reboot()), True)
        self.assertIs(self.result(self.driver.stop_node(node)), True)
        self.assertEqual(self.fake.power[key], "deallocated")
        self.assertEqual(self.result(self.driver.ex_get_node(node.id)).state, NodeState.STOPPED)

    def test_destroy_deletes_interface_address_and_disk(self) -> None:
        node = self.result(self.create())
        self.assertEqual(len(self.fake.resources), 5)  # network, address, interface, machine, disk
        self.assertIs(self.result(self.driver.destroy_node(node)), True)
        self.assertEqual(
            [r["type"] for r in self.fake.resources.values()], ["Microsoft.Network/virtualNetworks"]
        )

    def test_destroy_can_keep_the_interface_and_disk(self) -> None:
        node = self.result(self.create())
        self.result(self.driver.destroy_node(node, ex_destroy_nic=False, ex_destroy_vhd=False))
        kinds = sorted(r["type"].rsplit("/", 1)[1] for r in self.fake.resources.values())
        self.assertEqual(
            kinds, ["disks", "networkInterfaces", "publicIPAddresses", "virtualNetworks"]
        )


class ErrorTests(FakeTestCase):
    def node(self) -> Node:
        vm = self.fake.resource_id("rg", "Microsoft.Compute", "virtualMachines", "gone")
        self.fake.add_resource_group("rg")
        return Node(vm, "gone", NodeState.RUNNING, [], [], self.driver)

    def test_missing_machine_is_node_not_found(self) -> None:
        for call in (self.driver.reboot_node, self.driver.destroy_node):
            error = self.failure(call(self.node()), NodeNotFoundError)
            self.assertEqual(error.code, "ResourceNotFound")
            self.assertEqual(error.status, 404)
        self.failure(self.driver.ex_get_node(self.node().id), NodeNotFoundError)

    def test_over_the_cores_quota(self) -> None:
        self.fake.core_limit = 1
        self.fake.add_vm("web-1")
        self.fake.add_network("rg", "other")
        created = self.driver.create_node(
            "big",
            "Standard_D4s_v5",
            IMAGE,
            ex_resource_group="rg",
            ex_network="vnet",
            ex_ssh_public_key=SSH_KEY,
            ex_public_ip=False,
        )
        error = self.failure(created, QuotaExceededError)
        self.assertEqual((error.status, error.code), (409, "OperationNotAllowed"))
        self.assertIn("quota", str(error))

    def test_restarting_a_deallocated_machine_conflicts(self) -> None:
        self.fake.add_vm("web-1", power="deallocated")
        node = self.result(self.driver.list_nodes())[0]
        self.failure(self.driver.reboot_node(node), ResourceConflictError)

    def test_failed_operation_fails_the_call(self) -> None:
        self.fake.add_vm("web-1")
        node = self.result(self.driver.list_nodes())[0]
        self.fake.fail_operations("QuotaExceeded", "Public IP quota reached")
        self.failure(self.driver.start_node(node), QuotaExceededError)

    def test_throttling_is_retried_after_the_time_azure_asks(self) -> None:
        self.fake.add_vm("web-1")
        self.fake.fail(
            "*/virtualMachines", 429, "SubscriptionRequestsThrottled", headers={"Retry-After": "17"}
        )
        listing = self.driver.list_nodes()
        self.clock.advance(16)
        self.assertNoResult(listing)
        self.clock.advance(1)
        self.assertEqual(len(self.successResultOf(listing)), 1)
        vm_lists = [r for r in self.fake.received if r.path.endswith("virtualMachines")]
        self.assertEqual(len(vm_lists), 2)

    def test_a_refused_token_is_dropped_and_the_next_call_gets_another(self) -> None:
        self.fake.add_vm("web-1")
        self.result(self.driver.list_nodes())
        self.fake.ad.tokens.revoke_all()
        error = self.failure(self.driver.list_nodes(), InvalidCredsError)
        self.assertEqual(error.code, "ExpiredAuthenticationToken")
        self.assertEqual(len(self.result(self.driver.list_nodes())), 1)
        self.assertEqual(len(self.fake.ad.grants), 2)


class BadInputTests(FakeTestCase):
    def build(self, *args: Any, **kwargs: Any) -> AzureNodeDriver:
        return AzureNodeDriver(*args, reactor=self.clock, ex_environ={}, **kwargs)

    def test_constructor_refusals(self) -> None:
        for args, kwargs in (
            (("tenant", None), {}),
            (("tenant", "not-a-guid"), {}),
            (("tenant", DEFAULT_SUBSCRIPTION), {"region": "atlantis"}),
            (("tenant", DEFAULT_SUBSCRIPTION, "client"), {}),
            ((None, DEFAULT_SUBSCRIPTION, "client", "secret"), {}),
            (("tenant", DEFAULT_SUBSCRIPTION, None, "secret"), {}),
            (("tenant", DEFAULT_SUBSCRIPTION, "client", "s"), {"ex_login_host": "http://login"}),
            (
                ("tenant", DEFAULT_SUBSCRIPTION, "client", "s"),
                {"host": "arm.example", "secure": False},
            ),
            (("tenant", DEFAULT_SUBSCRIPTION, "client", "s"), {"ex_concurrency": 0}),
        ):
            self.assertRaises(InvalidArgumentError, self.build, *args, **kwargs)

    def test_subscription_from_the_environment(self) -> None:
        driver = AzureNodeDriver(
            "tenant",
            None,
            "client",
            "secret",
            reactor=self.clock,
            ex_environ={"AZURE_SUBSCRIPTION_ID": DEFAULT_SUBSCRIPTION.upper()},
        )
        self.assertEqual(driver.subscription_id, DEFAULT_SUBSCRIPTION)

    def test_region_as_the_portal_writes_it(self) -> None:
        driver = self.build(
            "tenant", DEFAULT_SUBSCRIPTION, "client", "secret", region="West Europe"
        )
        self.assertEqual(driver.region, "westeurope")

    def test_secret_never_in_repr(self) -> None:
        driver = self.build("tenant", DEFAULT_SUBSCRIPTION, "client", "s3cr3t-value")
        self.assertNotIn("s3cr3t-value", repr(driver))
        self.assertNotIn("s3cr3t-value", repr(driver._tokens))

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        node = Node("/subscriptions/x/vm", "odd", NodeState.RUNNING, [], [], self.driver)
        foreign = Node(
            "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg/providers/"
            "Microsoft.Compute/virtualMachines/vm",
            "vm",
            NodeState.RUNNING,
            [],
            [],
            self.driver,
        )
        create = self.driver.create_node
        good: dict[str, Any] = {
            "ex_resource_group": "rg",
            "ex_network": "vnet",
            "ex_ssh_public_key": SSH_KEY,
        }
        for call in (
            lambda: self.driver.reboot_node(node),
            lambda: self.driver.destroy_node(foreign),
            lambda: self.driver.stop_node(foreign, ex_deallocate="yes"),  # type: ignore[arg-type]
            lambda: self.driver.ex_get_node("web-1"),
            lambda: self.driver.list_nodes(ex_resource_group="bad/group"),
            lambda: self.driver.list_sizes("atlantis"),
            lambda: self.driver.list_images(ex_publisher="a/b"),
            lambda: create("bad name", "Standard_B1s", IMAGE, **good),
            lambda: create("vm", "Standard_B1s", "ubuntu", **good),
            lambda: create(
                "vm", NodeSize("x y", "x", 1, 1, None, None, self.driver), IMAGE, **good
            ),
            lambda: create("vm", "Standard_B1s", IMAGE, location="atlantis", **good),
            lambda: create(
                "vm", "Standard_B1s", IMAGE, ex_network="vnet", ex_ssh_public_key=SSH_KEY
            ),
            lambda: create(
                "vm", "Standard_B1s", IMAGE, ex_resource_group="rg", ex_ssh_public_key=SSH_KEY
            ),
            lambda: create("vm", "Standard_B1s", IMAGE, ex_resource_group="rg", ex_network="vnet"),
            lambda: create(
                "vm", "Standard_B1s", IMAGE, **{**good, "ex_ssh_public_key": "not a key"}
            ),
            lambda: create("vm", "Standard_B1s", IMAGE, **{**good, "ex_admin_password": "short"}),
            lambda: create("vm", "Standard_B1s", IMAGE, **{**good, "ex_os_disk_size": 0}),
            lambda: create(
                "vm", "Standard_B1s", IMAGE, **{**good, "ex_storage_account_type": "Fast"}
            ),
            lambda: create("vm", "Standard_B1s", IMAGE, **{**good, "ex_surprise": 1}),
        ):
            self.assertRaises(InvalidArgumentError, call)
        self.assertEqual(self.fake.received, [])

    def test_no_location_and_no_region(self) -> None:
        driver = self.fake.driver()
        self.assertRaises(InvalidArgumentError, driver.list_sizes)
        self.assertRaises(InvalidArgumentError, driver.list_images)


class RealSocketTests(TestCase):
    """The whole path: a client secret sent to Azure AD over TLS, tokens to ARM over TCP."""

    async def test_list_create_and_destroy(self) -> None:
        served = ServedAzure(self)
        driver = served.driver(region="westeurope")
        served.fake.add_vm("web-1")
        served.fake.add_network("rg", "apps")
        node = await driver.create_node(
            "app-1",
            "Standard_B1s",
            IMAGE,
            ex_resource_group="rg",
            ex_network="apps",
            ex_admin_password="a-long-enough-password",
        )
        nodes = await driver.list_nodes()
        self.assertEqual(sorted(n.name for n in nodes), ["app-1", "web-1"])
        self.assertTrue(await driver.destroy_node(node))
        self.assertEqual([n.name for n in await driver.list_nodes()], ["web-1"])
        self.assertEqual(len(served.fake.ad.grants), 1)
        self.assertEqual(served.fake.ad.grants[0].scope, "https://management.azure.com/.default")


class EnvironmentCredentialsTests(SynchronousTestCase):
    """Without a key, the tokens come from the environment's credentials."""

    def test_tenant_and_login_host_arguments_win_over_the_environment(self) -> None:
        clock = Clock()
        fake = FakeAzureResourceManager(clock)
        environ = {
            "AZURE_TENANT_ID": "another-tenant",
            "AZURE_CLIENT_ID": DEFAULT_CLIENT_ID,
            "AZURE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "AZURE_AUTHORITY_HOST": "https://login.example",
        }
        driver = AzureNodeDriver(
            fake.ad.tenant,
            DEFAULT_SUBSCRIPTION,
            reactor=clock,
            ex_environ=environ,
            ex_login_host="https://login.test",
            ex_agent=fake.agent(),
        )
        tokens = driver._tokens
        assert isinstance(tokens, ClientSecretTokens)
        self.assertEqual(tokens.token_url, f"https://login.test/{fake.ad.tenant}/oauth2/v2.0/token")
        self.assertEqual(tokens.scope, "https://management.azure.com/.default")
