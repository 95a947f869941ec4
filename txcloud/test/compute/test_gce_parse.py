"""
Parsing of the GCE driver on answers recorded from the API reference
(:mod:`txcloud.test.compute.gce_responses`): models from resources, paging
of aggregated lists, and Google's error bodies mapped to typed errors.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.gce import NODE_STATES, GCENodeDriver
from txcloud.compute.drivers.gce.parse import (
    is_deprecated,
    parse_image,
    parse_location,
    parse_node,
    parse_size,
)
from txcloud.compute.types import NodeState
from txcloud.errors import (
    InvalidCredsError,
    NodeNotFoundError,
    QuotaExceededError,
    RateLimitReached,
    ResourceConflictError,
)
from txcloud.http import RetryPolicy
from txcloud.test.compute import gce_responses as recorded
from txcloud.test.http._support import ScriptedResource


class StaticTokens:
    """A token source with one token, counting how often it was dropped."""

    def __init__(self) -> None:
        self.invalidated = 0

    def token(self) -> Deferred[str]:
        return succeed("ya29.static")

    def invalidate(self) -> None:
        self.invalidated += 1


def answer(document: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


class ParseTests(SynchronousTestCase):
    def test_a_running_instance(self) -> None:
        node = parse_node(recorded.WEB_1, None)
        self.assertEqual(
            (node.id, node.name, node.state), ("4567890123456789012", "web-1", NodeState.RUNNING)
        )
        self.assertEqual(node.public_ips, ["35.202.14.88"])
        self.assertEqual(node.private_ips, ["10.128.0.7", "192.168.4.2"])
        self.assertEqual(node.size, "e2-standard-2")
        self.assertEqual(
            node.created_at,
            datetime(2024, 3, 5, 4, 22, 51, 183000, tzinfo=timezone(timedelta(hours=-8))),
        )
        self.assertEqual(node.extra["zone"], "us-central1-a")
        self.assertEqual(node.extra["tags"], ["http-server", "https-server"])
        self.assertEqual(node.extra["labels"], {"team": "web"})
        self.assertEqual(node.extra["boot_disk"]["deviceName"], "web-1")

    def test_a_stopped_instance_has_no_public_address(self) -> None:
        node = parse_node(recorded.BATCH_7, None)
        self.assertEqual(
            (node.state, node.public_ips, node.private_ips), (NodeState.STOPPED, [], ["10.164.0.3"])
        )
        self.assertIsNone(node.extra["boot_disk"])

    def test_statuses_map_as_libcloud_maps_them(self) -> None:
        self.assertEqual(NODE_STATES["STAGING"], NodeState.PENDING)
        self.assertEqual(NODE_STATES["STOPPING"], NodeState.PENDING)
        self.assertEqual(NODE_STATES["TERMINATED"], NodeState.STOPPED)
        self.assertEqual(NODE_STATES["SUSPENDED"], NodeState.SUSPENDED)
        self.assertEqual(
            parse_node({**recorded.WEB_1, "status": "NEW-ONE"}, None).state, NodeState.UNKNOWN
        )

    def test_a_machine_type(self) -> None:
        size = parse_size(recorded.E2_MEDIUM, None)
        self.assertEqual(
            (size.id, size.name, size.ram, size.disk), ("335003", "e2-medium", 4096, 0)
        )
        self.assertEqual((size.extra["zone"], size.extra["guestCpus"]), ("us-central1-a", 2))
        self.assertIsNone(size.price)

    def test_images_and_deprecation(self) -> None:
        active, old = recorded.DEBIAN_IMAGES["items"]
        image = parse_image(active, None, "debian-cloud")
        self.assertEqual(
            (image.name, image.extra["family"]), ("debian-12-bookworm-v20240213", "debian-12")
        )
        self.assertEqual((image.extra["project"], image.extra["diskSizeGb"]), ("debian-cloud", 10))
        self.assertEqual([is_deprecated(active), is_deprecated(old)], [False, True])

    def test_a_zone(self) -> None:
        location = parse_location(recorded.ZONE, None)
        self.assertEqual((location.id, location.name), ("2000", "us-central1-a"))
        self.assertEqual(
            (location.extra["region"], location.extra["status"]), ("us-central1", "UP")
        )


class RecordedDriverCase(SynchronousTestCase):
    """A driver in front of scripted answers, on a Clock."""

    def driver(self, resource: ScriptedResource, **kwargs: Any) -> GCENodeDriver:
        self.clock = Clock()
        self.tokens = StaticTokens()
        return GCENodeDriver(
            project="acme-prod",
            ex_credentials=self.tokens,
            reactor=self.clock,
            ex_agent=RequestTraversalAgent(resource),
            **kwargs,
        )


class RecordedAnswerTests(RecordedDriverCase):
    """The driver against scripted answers, on a Clock."""

    def test_aggregated_pages_are_followed(self) -> None:
        resource = ScriptedResource(
            answer(recorded.AGGREGATED_PAGE_1), answer(recorded.AGGREGATED_PAGE_2)
        )
        nodes = self.successResultOf(self.driver(resource).list_nodes())
        self.assertEqual([node.name for node in nodes], ["web-1", "batch-7"])
        first, second = resource.received
        self.assertTrue(
            first.uri.startswith("/compute/v1/projects/acme-prod/aggregated/instances?")
        )
        self.assertIn("pageToken=CkQIu6OmnMD0hAM6", second.uri)
        self.assertEqual(first.headers["authorization"], ["Bearer ya29.static"])

    def test_deprecated_images_are_left_out(self) -> None:
        resource = ScriptedResource(answer(recorded.DEBIAN_IMAGES))
        images = self.successResultOf(self.driver(resource).list_images(ex_project="debian-cloud"))
        self.assertEqual([image.name for image in images], ["debian-12-bookworm-v20240213"])
        everything = self.driver(resource).list_images(
            ex_project="debian-cloud", ex_include_deprecated=True
        )
        self.assertEqual(len(self.successResultOf(everything)), 2)

    def test_not_found_is_node_not_found(self) -> None:
        resource = ScriptedResource(answer(recorded.NOT_FOUND, 404))
        failure = self.failureResultOf(
            self.driver(resource).ex_get_node("gone", "us-central1-a"), NodeNotFoundError
        )
        self.assertEqual((failure.value.status, failure.value.code), (404, "notFound"))

    def test_conflict_is_a_resource_conflict(self) -> None:
        resource = ScriptedResource(answer(recorded.ALREADY_EXISTS, 409))
        driver = self.driver(resource, datacenter="us-central1-a")
        driver._zones = succeed({"us-central1-a": parse_location(recorded.ZONE, driver)})
        d = driver.create_node(
            "web-1", "e2-medium", "projects/debian-cloud/global/images/family/debian-12"
        )
        self.assertEqual(self.failureResultOf(d, ResourceConflictError).value.code, "alreadyExists")

    def test_quota_is_a_quota_error_and_not_retried(self) -> None:
        resource = ScriptedResource(answer(recorded.QUOTA, 403))
        self.failureResultOf(self.driver(resource).list_locations(), QuotaExceededError)
        self.assertEqual(len(resource.received), 1)

    def test_rate_limits_are_retried_with_backoff(self) -> None:
        resource = ScriptedResource(
            answer(recorded.RATE_LIMITED, 403), answer({"items": [recorded.ZONE]})
        )
        retry = RetryPolicy(max_attempts=3, base_delay=1.0, jitter=lambda cap: cap)
        d = self.driver(resource, ex_retry=retry).list_locations()
        self.assertNoResult(d)
        self.clock.advance(1.0)
        self.assertEqual([zone.name for zone in self.successResultOf(d)], ["us-central1-a"])

    def test_rate_limits_give_up_as_rate_limit_reached(self) -> None:
        resource = ScriptedResource(answer(recorded.RATE_LIMITED, 429))
        retry = RetryPolicy(max_attempts=2, base_delay=1.0, jitter=lambda cap: cap)
        d = self.driver(resource, ex_retry=retry).list_locations()
        self.clock.advance(1.0)
        self.failureResultOf(d, RateLimitReached)
        self.assertEqual(len(resource.received), 2)

    def test_a_refused_token_is_dropped(self) -> None:
        body = recorded.google_error(401, "authError", "Invalid Credentials")
        resource = ScriptedResource(answer(body, 401))
        self.failureResultOf(self.driver(resource).list_locations(), InvalidCredsError)
        self.assertEqual(self.tokens.invalidated, 1)
