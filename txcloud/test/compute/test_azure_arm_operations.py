"""
Long-running operations of the Azure driver (txcloud.compute.drivers.azure_arm.operations),
polled on a Clock against scripted answers: nothing sleeps.
"""

from __future__ import annotations

import json
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.base import Node, StorageVolume
from txcloud.compute.drivers.azure_arm import AzureNodeDriver
from txcloud.compute.types import NodeState
from txcloud.errors import (
    MalformedResponseError,
    ProviderError,
    QuotaExceededError,
    RequestTimeoutError,
)
from txcloud.test.compute import azure_arm_recorded as recorded
from txcloud.test.http._support import ScriptedResource

SUB = recorded.SUBSCRIPTION
ARM = "https://management.azure.com"
_LOCATION = f"{ARM}/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westeurope"
STATUS_URL = f"{_LOCATION}/operations/op-1?api-version=2024-07-01"
RESULT_URL = f"{_LOCATION}/operationResults/op-1?api-version=2024-07-01"


class StaticTokens:
    """A token source handing out one token."""

    def __init__(self) -> None:
        self.invalidated = 0

    def token(self) -> Deferred[str]:
        return succeed("static-token")

    def invalidate(self) -> None:
        self.invalidated += 1


def status(value: str, retry_after: int | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return 200, headers, json.dumps({"status": value, "name": "op-1"}).encode()


def node() -> Node:
    return Node(recorded.VM_ID, "web-01", NodeState.RUNNING, [], [], driver=None)  # type: ignore[arg-type]


class OperationTests(SynchronousTestCase):
    def driver(self, *answers: Any, **options: Any) -> AzureNodeDriver:
        self.clock = Clock()
        self.resource = ScriptedResource(*answers)
        return AzureNodeDriver(
            "tenant",
            SUB,
            reactor=self.clock,
            ex_agent=RequestTraversalAgent(self.resource),
            ex_credentials=StaticTokens(),
            **options,
        )

    def test_azure_async_operation_polled_as_retry_after_says(self) -> None:
        driver = self.driver(
            (
                202,
                {"Azure-AsyncOperation": STATUS_URL, "Location": RESULT_URL, "Retry-After": "3"},
                b"",
            ),
            status("InProgress", retry_after=7),
            status("Succeeded"),
        )
        done = driver.reboot_node(node())
        self.assertEqual(len(self.resource.received), 1)
        self.assertEqual(self.resource.received[0].method, "POST")
        self.assertTrue(
            self.resource.received[0].uri.endswith("/web-01/restart?api-version=2024-07-01")
        )
        self.clock.advance(2.9)
        self.assertEqual(len(self.resource.received), 1)
        self.clock.advance(0.1)
        self.assertEqual(len(self.resource.received), 2)
        self.assertIn("/operations/op-1", self.resource.received[1].uri)
        self.assertNoResult(done)
        self.clock.advance(7)
        self.assertIs(self.successResultOf(done), True)
        self.assertEqual(self.resource.received[2].header("Authorization"), "Bearer static-token")

    def test_location_polled_at_the_interval_until_it_stops_answering_202(self) -> None:
        driver = self.driver(
            (202, {"Location": RESULT_URL}, b""),
            (202, {"Location": RESULT_URL}, b""),
            (200, {}, b""),
            ex_poll_interval=2.0,
        )
        done = driver.start_node(node())
        self.clock.advance(2)
        self.assertNoResult(done)
        self.clock.advance(2)
        self.assertIs(self.successResultOf(done), True)
        self.assertEqual([r.method for r in self.resource.received], ["POST", "GET", "GET"])
        self.assertIn("/operationResults/op-1", self.resource.received[2].uri)

    def test_a_synchronous_answer_is_not_polled(self) -> None:
        driver = self.driver((200, {}, b""))
        self.assertIs(self.successResultOf(driver.stop_node(node())), True)
        self.assertTrue(self.resource.received[0].uri.split("?")[0].endswith("/deallocate"))

    def test_an_update_answered_200_with_a_status_url_is_polled(self) -> None:
        volume = StorageVolume(recorded.DISK_ID, "web-01-data", 128, None)  # type: ignore[arg-type]
        vm = json.dumps({"properties": {"storageProfile": {"dataDisks": []}}}).encode()
        driver = self.driver(
            (200, {"Content-Type": "application/json"}, vm),
            (200, {"Azure-AsyncOperation": STATUS_URL, "Location": RESULT_URL}, vm),
            status("Succeeded"),
        )
        done = driver.attach_volume(node(), volume)
        self.assertNoResult(done)
        self.clock.advance(5)
        self.assertIs(self.successResultOf(done), True)
        self.assertEqual([r.method for r in self.resource.received], ["GET", "PATCH", "GET"])
        self.assertIn("/operations/op-1", self.resource.received[2].uri)

    def test_failed_operation_is_a_typed_error_with_azures_code(self) -> None:
        failed: tuple[int, dict[str, str], bytes] = (200, {}, recorded.text("failed_operation"))
        driver = self.driver((202, {"Azure-AsyncOperation": STATUS_URL}, b""), failed)
        done = driver.stop_node(node(), ex_deallocate=False)
        self.clock.advance(5)
        error = self.failureResultOf(done, ProviderError).value
        self.assertEqual(error.code, "AllocationFailed")
        self.assertIn("sufficient capacity", str(error))
        self.assertTrue(self.resource.received[0].uri.split("?")[0].endswith("/powerOff"))

    def test_failed_operation_over_quota_is_quota_exceeded(self) -> None:
        body = {"status": "Failed", "error": {"code": "QuotaExceeded", "message": "cores"}}
        driver = self.driver(
            (202, {"Azure-AsyncOperation": STATUS_URL}, b""), (200, {}, json.dumps(body).encode())
        )
        done = driver.start_node(node())
        self.clock.advance(5)
        self.failureResultOf(done, QuotaExceededError)

    def test_operation_running_too_long_times_out(self) -> None:
        driver = self.driver(
            (202, {"Azure-AsyncOperation": STATUS_URL, "Retry-After": "4"}, b""),
            status("InProgress"),
            ex_operation_timeout=10.0,
        )
        done = driver.reboot_node(node())
        self.clock.pump([4, 4, 2])
        error = self.failureResultOf(done, RequestTimeoutError).value
        self.assertIn("still running after 10 seconds", str(error))
        # Polled at 4 and 8; the deadline (10) cut the last wait short.
        self.assertEqual(len(self.resource.received), 3)

    def test_a_status_url_off_the_endpoint_is_refused_before_the_token_goes_there(self) -> None:
        driver = self.driver((202, {"Azure-AsyncOperation": "https://evil.example/op"}, b""))
        done = driver.reboot_node(node())
        self.failureResultOf(done, MalformedResponseError)
        self.assertEqual(len(self.resource.received), 1)


class RecordedErrorTests(SynchronousTestCase):
    def test_recorded_answer_over_the_cores_quota_is_quota_exceeded(self) -> None:
        resource = ScriptedResource(
            (409, {"Content-Type": "application/json"}, recorded.text("quota_error"))
        )
        driver = AzureNodeDriver(
            "tenant",
            SUB,
            reactor=Clock(),
            ex_agent=RequestTraversalAgent(resource),
            ex_credentials=StaticTokens(),
        )
        error = self.failureResultOf(driver.start_node(node()), QuotaExceededError).value
        self.assertEqual((error.status, error.code), (409, "OperationNotAllowed"))
        self.assertIn("Cores quota", str(error))
