"""
Testing your own code with txcloud.testing: a small piece of application
code, and trial tests of it that use only the fakes (no network, no real
reactor, no moto).

Run them with ``python -m twisted.trial docs/examples/test_user_code.py``.
"""

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from txcloud import multi
from txcloud.compute.base import NodeDriver
from txcloud.compute.types import NodeState
from txcloud.errors import ContainerDoesNotExistError
from txcloud.storage.base import StorageDriver
from txcloud.testing.clock import InlineClock
from txcloud.testing.ec2 import FakeEC2
from txcloud.testing.s3 import FakeS3

# The code under test: what an application of yours might do.


async def archive_stopped_nodes(
    reactor: Any, compute_drivers: Sequence[NodeDriver], storage: StorageDriver, bucket: str
) -> str:
    """
    Write a JSON report of the stopped nodes of every compute driver (one
    per region) to *bucket*, and return the report's key.  A region that
    cannot be listed is named in the report instead of failing it.
    """
    outcome = await multi.list_nodes(compute_drivers, timeout=30)
    stopped = [
        {"region": driver.region, "id": node.id, "name": node.name}
        for driver, nodes in outcome.results.items()
        for node in nodes
        if node.state == NodeState.STOPPED
    ]
    now = datetime.fromtimestamp(reactor.seconds(), timezone.utc)
    report = {
        "generated": now.isoformat(),
        "stopped": sorted(stopped, key=lambda entry: (entry["region"], entry["name"])),
        "unreachable_regions": sorted(str(driver.region) for driver in outcome.failures),
    }
    key = f"stopped-nodes/{now:%Y-%m-%d}.json"
    container = await storage.get_container(bucket)
    await storage.upload_object_via_stream(
        iter([json.dumps(report).encode()]),
        container,
        key,
        extra={"content_type": "application/json"},
    )
    return key


# The tests: written against txcloud.testing only.

REGIONS = ["us-east-1", "eu-west-1"]


class ArchiveStoppedNodesTests(SynchronousTestCase):
    def setUp(self) -> None:
        # One clock for everything; an InlineClock also runs the hashing
        # that uploads do in a thread pool, at once.
        self.clock = InlineClock()
        self.clock.advance(1_717_243_200)  # 2024-06-01T12:00:00Z
        self.ec2 = FakeEC2(clock=self.clock)
        self.s3 = FakeS3(clock=self.clock)
        self.s3.add_bucket("reports")
        self.compute = self.ec2.drivers(REGIONS)
        self.storage = self.s3.driver()

    def archive(self) -> Deferred[str]:
        return Deferred.fromCoroutine(
            archive_stopped_nodes(self.clock, self.compute, self.storage, "reports")
        )

    def stored_report(self, key: str) -> Any:
        stored = self.s3.buckets["reports"].objects[key]
        self.assertEqual(stored.content_type, "application/json")
        return json.loads(stored.data)

    def test_the_report_lists_the_stopped_nodes_of_every_region(self) -> None:
        self.ec2.add_instance("web-1", region="us-east-1")
        batch = self.ec2.add_instance("batch-1", region="us-east-1", state="stopped")
        old = self.ec2.add_instance("old-db", region="eu-west-1", state="stopped")

        key = self.successResultOf(self.archive())

        self.assertEqual(key, "stopped-nodes/2024-06-01.json")
        self.assertEqual(
            self.stored_report(key),
            {
                "generated": "2024-06-01T12:00:00+00:00",
                "stopped": [
                    {"region": "eu-west-1", "id": old.id, "name": "old-db"},
                    {"region": "us-east-1", "id": batch.id, "name": "batch-1"},
                ],
                "unreachable_regions": [],
            },
        )

    def test_a_node_stopped_through_the_api_is_reported(self) -> None:
        self.ec2.stop_seconds = 30
        web = self.ec2.add_instance("web-1", region="eu-west-1")
        [driver] = [d for d in self.compute if d.region == "eu-west-1"]
        [node] = self.successResultOf(driver.list_nodes())
        self.successResultOf(driver.stop_node(node))

        stopping = self.stored_report(self.successResultOf(self.archive()))
        self.assertEqual(stopping["stopped"], [])  # still "stopping"
        self.clock.advance(30)
        stopped = self.stored_report(self.successResultOf(self.archive()))
        self.assertEqual([entry["id"] for entry in stopped["stopped"]], [web.id])

    def test_an_unreachable_region_is_named_and_the_others_still_reported(self) -> None:
        self.ec2.add_instance("batch-1", region="us-east-1", state="stopped")
        self.ec2.fail("UnauthorizedOperation", status=403, region="eu-west-1", times=None)

        report = self.stored_report(self.successResultOf(self.archive()))

        self.assertEqual(report["unreachable_regions"], ["eu-west-1"])
        self.assertEqual([entry["name"] for entry in report["stopped"]], ["batch-1"])

    def test_slow_answers_are_waited_for_on_the_clock(self) -> None:
        self.ec2.latency = 5  # every EC2 answer takes 5 seconds

        archiving = self.archive()

        self.clock.advance(4)
        self.assertNoResult(archiving)
        self.clock.advance(1)
        self.successResultOf(archiving)

    def test_s3_throttling_is_ridden_out(self) -> None:
        self.s3.throttle(times=2)  # 503 SlowDown twice: the driver retries

        archiving = self.archive()

        self.assertNoResult(archiving)
        for _ in range(2):
            self.clock.advance(10)  # past each backoff
        self.assertIn("stopped-nodes/2024-06-01.json", self.s3.buckets["reports"].objects)
        self.successResultOf(archiving)

    def test_a_missing_bucket_fails_the_archive(self) -> None:
        del self.s3.buckets["reports"]

        self.failureResultOf(self.archive(), ContainerDoesNotExistError)
