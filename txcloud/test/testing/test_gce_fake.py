"""
Tests for txcloud.testing.gce, the fake Compute Engine API v1, spoken to
over plain HTTP with treq's StubTreq, on a Clock.
"""

from __future__ import annotations

import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.testing.gce import FakeGCE

API = "https://compute.googleapis.com/compute/v1/projects/txcloud-fake"


class FakeGCECase(SynchronousTestCase):
    """A FakeGCE on a Clock, spoken to with StubTreq."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.fake = FakeGCE(clock=self.clock)
        self.fake.oauth.tokens.issue("ya29.test")
        # Any: StubTreq makes its methods at run time.
        self.treq: Any = StubTreq(self.fake.resource)

    def send(
        self, method: str, url: str, token: str | None = "ya29.test", **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.successResultOf(self.treq.request(method, url, headers=headers, **kwargs))
        body = self.successResultOf(self.treq.content(response))
        return response.code, json.loads(body) if body else None


class FakeGCETests(FakeGCECase):
    def test_requests_without_a_valid_token_are_refused(self) -> None:
        for token in (None, "ya29.forged"):
            status, body = self.send("GET", f"{API}/zones", token)
            self.assertEqual(status, 401)
            self.assertEqual(body["error"]["code"], 401)
            self.assertEqual(body["error"]["status"], "UNAUTHENTICATED")

    def test_the_token_endpoint_issues_tokens_for_the_service_account(self) -> None:
        from txcloud.auth.google.service_account import jwt_assertion, load_service_account_key

        key = load_service_account_key(self.fake.key_document())
        assertion = jwt_assertion(
            key, ["https://www.googleapis.com/auth/compute"], self.clock.seconds()
        )
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        response = self.successResultOf(self.treq.post("http://gce.fake.invalid/token", data=form))
        token = json.loads(self.successResultOf(self.treq.content(response)))["access_token"]
        self.assertEqual(self.send("GET", f"{API}/zones", token)[0], 200)

    def test_errors_have_googles_shape(self) -> None:
        status, body = self.send("GET", f"{API}/zones/us-central1-a/instances/none")
        self.assertEqual(status, 404)
        error = body["error"]
        self.assertEqual((error["code"], error["errors"][0]["reason"]), (404, "notFound"))
        self.assertIn("projects/txcloud-fake/zones/us-central1-a/instances/none", error["message"])

    def test_another_project_is_not_found(self) -> None:
        status, body = self.send("GET", API.replace("txcloud-fake", "someone-else") + "/zones")
        self.assertEqual((status, body["error"]["errors"][0]["reason"]), (404, "notFound"))

    def test_aggregated_lists_page_and_warn_for_empty_zones(self) -> None:
        for name in ("a-1", "a-2", "a-3"):
            self.fake.add_instance(name, "us-central1-b")
        status, first = self.send("GET", f"{API}/aggregated/instances", params={"maxResults": "2"})
        self.assertEqual(status, 200)
        self.assertEqual(len(first["items"]["zones/us-central1-b"]["instances"]), 2)
        warning = first["items"]["zones/asia-east1-a"]["warning"]
        self.assertEqual(warning["code"], "NO_RESULTS_ON_PAGE")
        params = {"maxResults": "2", "pageToken": first["nextPageToken"]}
        _, second = self.send("GET", f"{API}/aggregated/instances", params=params)
        self.assertEqual(
            [i["name"] for i in second["items"]["zones/us-central1-b"]["instances"]], ["a-3"]
        )
        self.assertNotIn("nextPageToken", second)

    def test_a_bad_page_token_is_invalid(self) -> None:
        status, body = self.send("GET", f"{API}/zones", params={"pageToken": "nonsense"})
        self.assertEqual((status, body["error"]["errors"][0]["reason"]), (400, "invalid"))

    def test_insert_answers_an_operation_done_later(self) -> None:
        self.fake.operation_seconds = 5.0
        body = {
            "name": "web-1",
            "machineType": "zones/us-central1-a/machineTypes/e2-micro",
            "disks": [
                {"boot": True, "initializeParams": {"sourceImage": "global/images/golden-web-1"}}
            ],
            "networkInterfaces": [{"network": "global/networks/default"}],
        }
        status, operation = self.send("POST", f"{API}/zones/us-central1-a/instances", json=body)
        self.assertEqual(
            (status, operation["kind"], operation["status"]), (200, "compute#operation", "RUNNING")
        )
        url = f"{API}/zones/us-central1-a/operations/{operation['name']}"
        self.assertEqual(self.send("GET", url)[1]["status"], "RUNNING")
        self.clock.advance(5.0)
        self.assertEqual(self.send("GET", url)[1]["status"], "DONE")
        _, instance = self.send("GET", f"{API}/zones/us-central1-a/instances/web-1")
        self.assertEqual(instance["networkInterfaces"][0].get("accessConfigs"), None)
        self.assertEqual(instance["disks"][0]["diskSizeGb"], "20")

    def test_unknown_paths_and_methods(self) -> None:
        self.assertEqual(self.send("GET", f"{API}/global/networks")[0], 404)
        self.assertEqual(self.send("PUT", f"{API}/zones")[0], 405)

    def test_injected_faults_carry_headers(self) -> None:
        self.fake.fail("/zones", 429, "rateLimitExceeded", headers={"Retry-After": "3"})
        response = self.successResultOf(
            self.treq.get(f"{API}/zones", headers={"Authorization": "Bearer ya29.test"})
        )
        self.assertEqual(
            (response.code, response.headers.getRawHeaders("retry-after")), (429, ["3"])
        )
        self.assertEqual(self.send("GET", f"{API}/zones")[0], 200)
