"""
Zone operations of the GCE driver polled on a Clock
(:mod:`txcloud.compute.drivers.gce.operations`): until DONE, with the
interval and the deadline on the reactor's clock, errors typed.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.gce.operations import (
    operation_error,
    operation_path,
    wait_for_operation,
)
from txcloud.errors import (
    MalformedResponseError,
    ProviderError,
    QuotaExceededError,
    RequestTimeoutError,
)
from txcloud.test.compute import gce_responses as recorded


class Refresher:
    """Answers each poll with the next operation document, recording the paths asked."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        return self.answers.pop(0)


class WaitForOperationTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()

    def wait(self, refresh: Refresher, timeout: float = 30.0) -> Deferred[dict[str, Any]]:
        return Deferred.fromCoroutine(
            wait_for_operation(
                recorded.INSERT_RUNNING,
                refresh,
                self.clock,
                poll_interval=2.0,
                timeout=timeout,
            )
        )

    def test_polls_every_interval_until_done(self) -> None:
        refresh = Refresher(recorded.INSERT_RUNNING, recorded.INSERT_DONE)
        d = self.wait(refresh)
        self.clock.advance(1.9)
        self.assertEqual(refresh.asked, [])
        self.clock.advance(0.1)
        self.assertNoResult(d)
        self.clock.advance(2.0)
        self.assertEqual(self.successResultOf(d)["status"], "DONE")
        expected = f"/zones/us-central1-a/operations/{recorded.OPERATION}"
        self.assertEqual(refresh.asked, [expected, expected])

    def test_a_done_operation_is_not_polled(self) -> None:
        refresh = Refresher()
        d = Deferred.fromCoroutine(
            wait_for_operation(
                recorded.INSERT_DONE, refresh, self.clock, poll_interval=2.0, timeout=30.0
            )
        )
        self.assertEqual(self.successResultOf(d)["status"], "DONE")
        self.assertEqual(refresh.asked, [])

    def test_an_operation_error_is_typed(self) -> None:
        d = self.wait(Refresher(recorded.INSERT_OVER_QUOTA))
        self.clock.advance(2.0)
        error = self.failureResultOf(d, QuotaExceededError).value
        self.assertEqual((error.status, error.code), (403, "QUOTA_EXCEEDED"))
        self.assertIn("Quota 'CPUS' exceeded", str(error))
        self.assertIn("insert operation on web-2", str(error))

    def test_unknown_codes_are_provider_errors(self) -> None:
        failed = {**recorded.INSERT_DONE, "error": {"errors": [{"code": "SOMETHING_NEW"}]}}
        error = operation_error(failed, None)
        self.assertEqual((type(error), error and error.code), (ProviderError, "SOMETHING_NEW"))

    def test_the_deadline_is_kept_on_the_clock(self) -> None:
        refresh = Refresher(*[recorded.INSERT_RUNNING] * 10)
        d = self.wait(refresh, timeout=5.0)
        self.clock.pump([2.0, 2.0, 1.0])
        self.failureResultOf(d, RequestTimeoutError)
        self.assertEqual(len(refresh.asked), 3)

    def test_the_path_comes_from_zone_and_name_not_self_link(self) -> None:
        elsewhere = {**recorded.INSERT_RUNNING, "selfLink": "https://evil.example/steal"}
        self.assertEqual(
            operation_path(elsewhere), f"/zones/us-central1-a/operations/{recorded.OPERATION}"
        )
        self.assertRaises(MalformedResponseError, operation_path, {"name": "x"})
