"""
The GCE driver, txcloud.compute.drivers.gce, against txcloud.testing.gce
(the fake API v1 and its token endpoint): in memory on a Clock, and once
over a real socket.
"""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.compute.base import Node, NodeImage, NodeLocation, NodeSize
from txcloud.compute.drivers.gce import IMAGE_PROJECTS, GCENodeDriver
from txcloud.compute.providers import get_driver
from txcloud.compute.types import NodeState, Provider
from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    NodeNotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RequestTimeoutError,
    ResourceConflictError,
)
from txcloud.http import RetryPolicy
from txcloud.test.http._support import capture_logs
from txcloud.testing.gce import FakeGCE
from txcloud.testing.google import FakeMetadataServer

#: The fake's clock starts here (POSIX seconds).
START = 1_700_000_000.0
DEBIAN = "projects/debian-cloud/global/images/family/debian-12"


class GCETestCase(SynchronousTestCase):
    """A driver in front of a FakeGCE, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(START)
        self.fake = FakeGCE(clock=self.clock)
        self.driver = self.make_driver()

    def make_driver(self, **kwargs: Any) -> GCENodeDriver:
        options: dict[str, Any] = {
            "key": self.fake.key_document(),
            "reactor": self.clock,
            "ex_agent": self.fake.agent(),
            "ex_retry": RetryPolicy(max_attempts=3, base_delay=1.0, jitter=lambda cap: cap),
        }
        options.update(kwargs)
        return GCENodeDriver(**options)

    def api_requests(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.fake.received]

    def settle(self, d: Deferred[Any], seconds: float = 2.0, times: int = 1) -> Any:
        for _ in range(times):
            self.clock.advance(seconds)
        return self.successResultOf(d)


class ConstructionTests(GCETestCase):
    def test_get_driver_gives_the_gce_driver(self) -> None:
        self.assertIs(get_driver(Provider.GCE), GCENodeDriver)
        self.assertEqual(Provider.GCE.value, "gce")

    def test_the_key_names_account_and_project(self) -> None:
        self.assertEqual(self.driver.key, self.fake.service_account_email)
        self.assertEqual(self.driver.project, self.fake.project)

    def test_libcloud_positional_arguments(self) -> None:
        driver = GCENodeDriver(
            self.fake.service_account_email,
            self.fake.key_document(),
            "europe-west1-b",
            "other-project",
            reactor=self.clock,
        )
        self.assertEqual((driver.datacenter, driver.project), ("europe-west1-b", "other-project"))

    def test_a_key_file_path(self) -> None:
        path = self.mktemp()
        with open(path, "w") as file:
            json.dump(self.fake.key_document(), file)
        driver = GCENodeDriver(key=path, reactor=self.clock, ex_agent=self.fake.agent())
        self.assertEqual(len(self.successResultOf(driver.list_locations())), 4)

    def test_secrets_never_show(self) -> None:
        private_key = self.fake.key_document()["private_key"]
        self.successResultOf(self.driver.list_locations())
        [token] = self.fake.oauth.tokens.issued
        error = self.failureResultOf(self.driver.ex_get_node("gone", "us-central1-a")).value
        for shown in (repr(self.driver), str(error), repr(self.driver.tokens)):
            self.assertNotIn(token, shown)
            self.assertNotIn(private_key[40:80], shown)

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        key = self.fake.key_document()
        for kwargs in (
            {"key": key, "datacenter": "Not A Zone"},
            {"key": key, "project": "No Such!"},
            {"user_id": "someone@example.com"},
            {"key": key, "secret": key},
            {"key": key, "region": "us-central1"},
            {"key": key, "ex_page_size": 0},
            {"key": key, "ex_poll_interval": -1},
            {"key": {"type": "service_account"}},
        ):
            self.assertRaises(InvalidArgumentError, GCENodeDriver, reactor=self.clock, **kwargs)
        self.assertEqual(self.fake.received, [])

    def test_a_missing_project_is_refused(self) -> None:
        key = {k: v for k, v in self.fake.key_document().items() if k != "project_id"}
        error = self.assertRaises(
            InvalidArgumentError, GCENodeDriver, key=key, reactor=self.clock, ex_environ={}
        )
        self.assertIn("project", str(error))

    def test_the_project_from_the_environment(self) -> None:
        key = {k: v for k, v in self.fake.key_document().items() if k != "project_id"}
        environ = {"GOOGLE_CLOUD_PROJECT": "from-environment"}
        driver = GCENodeDriver(key=key, reactor=self.clock, ex_environ=environ)
        self.assertEqual(driver.project, "from-environment")


class CredentialTests(GCETestCase):
    def test_tokens_come_from_the_keys_token_uri_and_are_reused(self) -> None:
        self.successResultOf(self.driver.list_locations())
        self.successResultOf(self.driver.list_nodes())
        [grant] = self.fake.oauth.grants
        self.assertEqual(grant.subject, self.fake.service_account_email)
        self.assertEqual(grant.scopes, ("https://www.googleapis.com/auth/compute",))
        self.assertEqual(len(self.fake.oauth.received), 1)
        self.assertEqual(self.fake.oauth.received[0].path, "/token")

    def test_a_revoked_token_is_replaced_after_the_refusal(self) -> None:
        self.successResultOf(self.driver.list_locations())
        self.fake.oauth.tokens.revoke_all()
        self.failureResultOf(self.driver.list_locations(), InvalidCredsError)
        self.successResultOf(self.driver.list_locations())
        self.assertEqual(len(self.fake.oauth.grants), 2)

    def test_application_default_credentials_from_the_metadata_server(self) -> None:
        metadata = FakeMetadataServer(self.clock, project=self.fake.project)
        self.fake.trust(metadata.tokens)
        environ = {"GCE_METADATA_HOST": "metadata.fake", "HOME": self.mktemp()}
        # The metadata server and the API answer through one agent here: a
        # real setup reaches them at different hosts.
        from txcloud.auth.google.adc import application_default_credentials

        credentials = application_default_credentials(
            ("https://www.googleapis.com/auth/compute",),
            environ=environ,
            reactor=self.clock,
            agent=metadata.agent(),
        )
        driver = GCENodeDriver(
            ex_credentials=credentials, reactor=self.clock, ex_agent=self.fake.agent()
        )
        self.assertIsNone(driver.project)
        self.assertEqual(len(self.successResultOf(driver.list_locations())), 4)
        self.assertEqual(driver.project, self.fake.project)
        self.assertEqual(metadata.scopes_asked, [["https://www.googleapis.com/auth/compute"]])

    def test_application_default_credentials_from_a_key_file(self) -> None:
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as file:
            json.dump(self.fake.key_document(), file)
        environ = {"GOOGLE_APPLICATION_CREDENTIALS": path}
        driver = GCENodeDriver(reactor=self.clock, ex_environ=environ)
        self.assertEqual(driver.project, self.fake.project)
        self.assertIn(path, repr(driver))


class NodeTests(GCETestCase):
    def test_list_nodes_is_one_aggregated_listing_across_zones(self) -> None:
        self.fake.add_instance("web-1", "us-central1-a", "e2-medium", tags=["http-server"])
        self.fake.add_instance("db-1", "europe-west1-b", "n2-standard-4", external_ip=False)
        self.fake.add_instance("old-1", "asia-east1-a", status="TERMINATED")
        nodes = self.successResultOf(self.driver.list_nodes())
        by_name = {node.name: node for node in nodes}
        self.assertEqual(set(by_name), {"web-1", "db-1", "old-1"})
        web = by_name["web-1"]
        self.assertEqual(
            (web.state, web.size, web.extra["zone"]),
            (NodeState.RUNNING, "e2-medium", "us-central1-a"),
        )
        self.assertEqual(len(web.public_ips), 1)
        self.assertEqual(web.extra["tags"], ["http-server"])
        self.assertEqual(by_name["db-1"].public_ips, [])
        self.assertEqual(by_name["old-1"].state, NodeState.STOPPED)
        self.assertEqual(
            self.api_requests(), ["GET /compute/v1/projects/txcloud-fake/aggregated/instances"]
        )

    def test_list_nodes_of_one_zone(self) -> None:
        self.fake.add_instance("web-1", "us-central1-a")
        self.fake.add_instance("db-1", "europe-west1-b")
        nodes = self.successResultOf(self.driver.list_nodes(ex_zone="europe-west1-b"))
        self.assertEqual([node.name for node in nodes], ["db-1"])
        self.assertEqual(
            self.api_requests()[-1],
            "GET /compute/v1/projects/txcloud-fake/zones/europe-west1-b/instances",
        )
        self.assertRaises(InvalidArgumentError, self.driver.list_nodes, ex_zone="Europe")

    def test_list_nodes_pages(self) -> None:
        for number in range(5):
            self.fake.add_instance(f"node-{number}", "us-central1-b")
        driver = self.make_driver(ex_page_size=2)
        nodes = self.successResultOf(driver.list_nodes())
        self.assertEqual(sorted(node.name for node in nodes), [f"node-{n}" for n in range(5)])
        self.assertEqual(len(self.fake.received), 3)
        self.assertEqual(self.fake.received[1].arg("maxResults"), "2")
        self.assertIsNotNone(self.fake.received[1].arg("pageToken"))

    def test_create_node_waits_for_the_operation_and_returns_the_instance(self) -> None:
        self.fake.operation_seconds = 3.0
        size = NodeSize("1", "e2-medium", 4096, 0, None, None, self.driver)
        d = self.driver.create_node(
            "web-2",
            size,
            DEBIAN,
            location="us-central1-b",
            ex_tags=["http-server"],
            ex_labels={"team": "web"},
            ex_metadata={"startup-script": "echo hi"},
            ex_disk_size=30,
        )
        self.assertNoResult(d)
        node = self.settle(d, times=2)
        self.assertEqual(
            (node.name, node.size, node.extra["zone"]), ("web-2", "e2-medium", "us-central1-b")
        )
        instance = self.fake.instances[("us-central1-b", "web-2")]
        self.assertEqual(
            (instance.disk_size_gb, instance.tags, instance.labels),
            (30, ["http-server"], {"team": "web"}),
        )
        self.assertIn("debian-12-bookworm", instance.source_image)
        insert = next(r for r in self.fake.received if r.method == "POST")
        body = insert.json()
        self.assertEqual(body["machineType"], "zones/us-central1-b/machineTypes/e2-medium")
        self.assertEqual(
            body["disks"][0]["initializeParams"]["diskType"],
            "zones/us-central1-b/diskTypes/pd-standard",
        )
        self.assertEqual(body["networkInterfaces"][0]["network"], "global/networks/default")
        self.assertIsNotNone(insert.arg("requestId"))

    def test_create_node_from_listed_models(self) -> None:
        [location] = [
            z
            for z in self.successResultOf(self.driver.list_locations())
            if z.name == "europe-west1-b"
        ]
        images = self.successResultOf(self.driver.list_images(ex_project="ubuntu-os-cloud"))
        sizes = self.successResultOf(self.driver.list_sizes(location))
        size = next(s for s in sizes if s.name == "n2-standard-2")
        node = self.settle(self.driver.create_node("app-1", size, images[0], location))
        self.assertEqual((node.extra["zone"], node.size), ("europe-west1-b", "n2-standard-2"))
        self.assertIn(
            "ubuntu-os-cloud", self.fake.instances[("europe-west1-b", "app-1")].source_image
        )

    def test_wait_until_running(self) -> None:
        self.fake.boot_seconds = 20.0
        node = self.settle(
            self.driver.create_node("web-3", "e2-micro", DEBIAN, location="us-central1-a")
        )
        self.assertEqual(node.state, NodeState.PENDING)
        d = self.driver.wait_until_running([node], wait_period=5.0, timeout=60.0)
        self.clock.pump([5.0] * 4)
        [(ready, addresses)] = self.successResultOf(d)
        self.assertEqual((ready.state, addresses), (NodeState.RUNNING, ready.public_ips))

    def test_reboot_stop_start_destroy(self) -> None:
        self.fake.add_instance("web-1")
        [node] = self.successResultOf(self.driver.list_nodes())
        self.fake.operation_seconds = 1.0
        self.assertTrue(self.settle(self.driver.stop_node(node)))
        self.assertEqual(self.fake.instances[("us-central1-a", "web-1")].status, "TERMINATED")
        self.assertTrue(self.settle(self.driver.start_node(node)))
        self.assertEqual(self.fake.instances[("us-central1-a", "web-1")].status, "RUNNING")
        self.assertTrue(self.settle(node.reboot()))
        self.assertTrue(self.settle(node.destroy()))
        self.assertEqual(self.fake.instances, {})
        actions = [
            r.path.rsplit("/", 1)[-1] for r in self.fake.received if r.method in ("POST", "DELETE")
        ]
        self.assertEqual(actions, ["stop", "start", "reset", "web-1"])

    def test_a_failed_operation_is_a_typed_error(self) -> None:
        self.fake.add_instance("web-1")
        [node] = self.successResultOf(self.driver.list_nodes())
        self.fake.fail_operation("reset", "RESOURCE_NOT_FOUND", "The instance went away.", 404)
        d = self.driver.reboot_node(node)
        self.clock.advance(2.0)
        error = self.failureResultOf(d, NodeNotFoundError).value
        self.assertEqual(error.code, "RESOURCE_NOT_FOUND")

    def test_the_quota_fails_the_insert_operation(self) -> None:
        self.fake.cpu_quota = 4
        self.fake.add_instance("big-1", "us-central1-a", "n2-standard-4")
        d = self.driver.create_node("web-9", "e2-medium", DEBIAN, location="us-central1-b")
        self.clock.advance(2.0)
        error = self.failureResultOf(d, QuotaExceededError).value
        self.assertIn("Limit: 4.0 in region us-central1", str(error))
        self.assertNotIn(("us-central1-b", "web-9"), self.fake.instances)

    def test_an_operation_that_takes_too_long(self) -> None:
        self.fake.operation_seconds = 1000.0
        driver = self.make_driver(ex_operation_timeout=10.0)
        d = driver.create_node("slow-1", "e2-medium", DEBIAN, location="us-central1-a")
        self.clock.pump([2.0] * 5)
        self.failureResultOf(d, RequestTimeoutError)

    def test_a_taken_name_is_a_conflict(self) -> None:
        self.fake.add_instance("web-1")
        d = self.driver.create_node("web-1", "e2-medium", DEBIAN, location="us-central1-a")
        self.assertEqual(self.failureResultOf(d, ResourceConflictError).value.status, 409)

    def test_a_missing_node_is_node_not_found(self) -> None:
        self.fake.add_instance("web-1")
        [node] = self.successResultOf(self.driver.list_nodes())
        del self.fake.instances[("us-central1-a", "web-1")]
        self.failureResultOf(self.driver.destroy_node(node), NodeNotFoundError)
        self.failureResultOf(self.driver.ex_get_node("web-1", "us-central1-a"), NodeNotFoundError)

    def test_an_unknown_machine_type_is_an_invalid_request(self) -> None:
        d = self.driver.create_node("web-1", "x9-huge", DEBIAN, location="us-central1-a")
        self.failureResultOf(d, InvalidRequestError)

    def test_an_unknown_zone_is_refused_before_the_instance_is_asked_for(self) -> None:
        d = self.driver.create_node("web-1", "e2-medium", DEBIAN, location="mars-north1-a")
        self.failureResultOf(d, InvalidArgumentError)
        self.assertEqual(self.api_requests(), ["GET /compute/v1/projects/txcloud-fake/zones"])
        self.failureResultOf(self.driver.list_sizes("mars-north1-b"), InvalidArgumentError)
        # The zones are fetched once per driver.
        self.assertEqual(len(self.fake.received), 1)

    def test_malformed_input_is_refused_before_any_request(self) -> None:
        node = Node("1", "web-1", NodeState.RUNNING, [], [], self.driver)
        for call in (
            lambda: self.driver.create_node("Web_1", "e2-medium", DEBIAN, location="us-central1-a"),
            lambda: self.driver.create_node("web-1", "e2-medium", DEBIAN),
            lambda: self.driver.create_node("web-1", "e2-medium", DEBIAN, location="nowhere"),
            lambda: self.driver.create_node("web-1", "E2", DEBIAN, location="us-central1-a"),
            lambda: self.driver.create_node(
                "web-1", "e2-medium", DEBIAN, location="us-central1-a", ex_disk_size=0
            ),
            lambda: self.driver.create_node(
                "web-1", "e2-medium", DEBIAN, location="us-central1-a", bogus=1
            ),
            lambda: self.driver.reboot_node(node),
            lambda: self.driver.destroy_node("web-1"),  # type: ignore[arg-type]
            lambda: self.driver.list_images(ex_project="Bad Project"),
            lambda: self.driver.ex_get_node("web-1"),
        ):
            self.assertRaises(InvalidArgumentError, call)
        self.assertEqual(self.fake.received, [])


class CatalogueTests(GCETestCase):
    def test_list_sizes_without_a_zone_gives_one_entry_per_zone(self) -> None:
        sizes = self.successResultOf(self.driver.list_sizes())
        self.assertEqual(len(sizes), 4 * 4)
        self.assertEqual({s.extra["zone"] for s in sizes}, set(self.fake.zones))
        medium = next(s for s in sizes if s.name == "e2-medium")
        self.assertEqual((medium.ram, medium.extra["guestCpus"]), (4096, 2))
        self.assertEqual(
            self.api_requests(), ["GET /compute/v1/projects/txcloud-fake/aggregated/machineTypes"]
        )

    def test_list_sizes_of_the_datacenter(self) -> None:
        driver = self.make_driver(datacenter="asia-east1-a")
        sizes = self.successResultOf(driver.list_sizes())
        self.assertEqual({s.extra["zone"] for s in sizes}, {"asia-east1-a"})

    def test_list_locations(self) -> None:
        zones = self.successResultOf(self.driver.list_locations())
        self.assertEqual([z.name for z in zones], list(self.fake.zones))
        self.assertIsInstance(zones[0], NodeLocation)
        self.assertEqual(zones[0].extra["region"], "us-central1")

    def test_list_images_covers_the_project_and_public_projects(self) -> None:
        images = self.successResultOf(self.driver.list_images())
        names = [image.name for image in images]
        self.assertEqual(
            names,
            ["golden-web-1", "debian-12-bookworm-v20240110", "ubuntu-2404-noble-amd64-v20240501"],
        )
        self.assertIsInstance(images[0], NodeImage)
        self.assertEqual(images[1].extra["project"], "debian-cloud")
        asked = {r.path.split("/")[4] for r in self.fake.received}
        self.assertEqual(asked, {self.fake.project, *IMAGE_PROJECTS})

    def test_a_failing_image_project_is_skipped_with_a_warning(self) -> None:
        events = capture_logs(self)
        self.fake.public_image_projects.discard("ubuntu-os-cloud")
        images = self.successResultOf(self.driver.list_images())
        self.assertNotIn("ubuntu-2404-noble-amd64-v20240501", [i.name for i in images])
        [warning] = [
            formatEvent(e) for e in events if "Skipped the images" in (e.get("log_format") or "")
        ]
        self.assertIn("ubuntu-os-cloud", warning)

    def test_every_project_failing_raises(self) -> None:
        self.fake.fail("/global/images", 403, "forbidden", "no", times=None)
        for project in [*IMAGE_PROJECTS]:
            self.fake.public_image_projects.discard(project)
        self.failureResultOf(self.driver.list_images(), PermissionDeniedError)

    def test_list_images_of_chosen_projects(self) -> None:
        images = self.successResultOf(
            self.driver.list_images(ex_project=["debian-cloud"], ex_include_deprecated=True)
        )
        self.assertEqual(len(images), 2)


class ThrottlingTests(GCETestCase):
    def test_rate_limited_reads_are_retried(self) -> None:
        self.fake.fail("/aggregated/instances", 429, "rateLimitExceeded", "Rate Limit Exceeded")
        d = self.driver.list_nodes()
        self.assertNoResult(d)
        self.clock.advance(1.0)
        self.assertEqual(self.successResultOf(d), [])

    def test_throttled_changes_are_retried_with_the_same_request_id(self) -> None:
        self.fake.add_instance("web-1")
        [node] = self.successResultOf(self.driver.list_nodes())
        self.fake.fail(
            "/zones/*/instances/web-1/stop", 403, "rateLimitExceeded", "Rate Limit Exceeded"
        )
        d = self.driver.stop_node(node)
        self.clock.advance(1.0)
        self.clock.advance(2.0)
        self.assertTrue(self.successResultOf(d))
        stops = [r for r in self.fake.received if r.path.endswith("/stop")]
        self.assertEqual(len(stops), 2)
        self.assertEqual(stops[0].arg("requestId"), stops[1].arg("requestId"))

    def test_server_errors_that_persist_are_raised(self) -> None:
        self.fake.fail("/zones", 503, "backendError", "Backend Error", times=None)
        d = self.driver.list_locations()
        self.clock.pump([1.0, 2.0])
        self.assertEqual(self.failureResultOf(d, ProviderError).value.status, 503)


class RealPortTests(TestCase):
    """The driver and the fake over a real socket on 127.0.0.1."""

    def test_over_a_real_port(self) -> Deferred[None]:
        from twisted.internet import reactor as global_reactor

        reactor: Any = global_reactor
        fake = FakeGCE()
        fake.add_instance("web-1")
        port = reactor.listenTCP(0, fake.site(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number = port.getHost().port
        driver = GCENodeDriver(
            key=fake.key_document(f"http://127.0.0.1:{number}/token"),
            host="127.0.0.1",
            port=number,
            secure=False,
            ex_poll_interval=0.05,
        )
        self.addCleanup(driver.close)

        async def scenario() -> None:
            [node] = await driver.list_nodes()
            self.assertEqual(node.name, "web-1")
            created = await driver.create_node(
                "web-2", "e2-micro", DEBIAN, location="us-central1-a"
            )
            self.assertEqual(created.state, NodeState.RUNNING)
            self.assertTrue(await driver.destroy_node(created))
            self.assertEqual(len(fake.oauth.grants), 1)

        return Deferred.fromCoroutine(scenario())
