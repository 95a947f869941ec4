"""Tests of txcloud.service.web, the HTTP API, in memory with StubTreq."""

from __future__ import annotations

import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from txcloud.config import Target
from txcloud.service.refresher import Refresher
from txcloud.service.snapshot import Snapshot, TargetStatus
from txcloud.service.web import InventoryResource
from txcloud.test.service.helpers import WatchedDrivers, dummy_config

TOKEN = "t0ken-never-echoed"

EU = Target("fleet", "compute", "dummy", "eu-1")
US = Target("fleet", "compute", "dummy", "us-1")
OTHER = Target("other", "compute", "ec2", "eu-1")
FILES = Target("files", "storage", "local")
DOCKER = Target("docker", "container", "docker")
NODE = {"id": "n1", "name": "web", "state": "running", "public_ips": [], "private_ips": []}

SNAPSHOT = Snapshot(
    taken_at=100.0,
    ready=True,
    interval=10.0,
    stale_after=30.0,
    targets=(
        TargetStatus(EU, (NODE,), 95.0),
        TargetStatus(US, (), 95.0),
        TargetStatus(OTHER, (), None),
        TargetStatus(FILES, ({"name": "bucket"},), 90.0),
        TargetStatus(DOCKER, (), 90.0),
    ),
)


class Client:
    """Requests to a resource in memory; each returns (status, headers, body)."""

    def __init__(self, resource: InventoryResource, test: SynchronousTestCase) -> None:
        # Any: StubTreq makes its methods at run time.
        self.treq: Any = StubTreq(resource)
        self._test = test

    def request(self, method: str, path: str, token: str | None = None) -> tuple[int, Any, bytes]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        d = self.treq.request(method, "http://inventory.test" + path, headers=headers)
        self.treq.flush()
        response = self._test.successResultOf(d)
        body = self.treq.content(response)
        self.treq.flush()
        return response.code, response.headers, self._test.successResultOf(body)

    def get_json(self, path: str, token: str | None = None) -> tuple[int, Any]:
        code, headers, body = self.request("GET", path, token)
        self._test.assertEqual(headers.getRawHeaders("content-type"), ["application/json"])
        return code, json.loads(body)


class WebTestCase(SynchronousTestCase):
    def client(self, snapshot: Snapshot = SNAPSHOT, token: str | None = None) -> Client:
        return Client(InventoryResource(lambda: snapshot, token), self)

    def labels(self, path: str) -> list[str]:
        code, document = self.client().get_json(path)
        self.assertEqual(code, 200)
        return [entry["label"] for entry in document["targets"]]


class InventoryTests(WebTestCase):
    def test_inventory_document(self) -> None:
        code, document = self.client().get_json("/inventory")
        self.assertEqual(code, 200)
        self.assertEqual(
            document,
            {
                "generated_at": "1970-01-01T00:01:40.000Z",
                "interval": 10.0,
                "stale_after": 30.0,
                "targets": [status.document(100.0, 30.0) for status in SNAPSHOT.targets],
            },
        )
        self.assertEqual(
            document["targets"][0],
            {
                "name": "fleet",
                "label": "fleet@eu-1",
                "kind": "compute",
                "provider": "dummy",
                "region": "eu-1",
                "account": None,
                "items": [NODE],
                "volumes": None,
                "fetched_at": "1970-01-01T00:01:35.000Z",
                "age": 5.0,
                "stale": False,
                "last_error": None,
            },
        )

    def test_answers_are_not_cached(self) -> None:
        _, headers, _ = self.client().request("GET", "/inventory")
        self.assertEqual(headers.getRawHeaders("cache-control"), ["no-store"])

    def test_nodes_lists_compute_targets_only(self) -> None:
        self.assertEqual(self.labels("/nodes"), ["fleet@eu-1", "fleet@us-1", "other@eu-1"])

    def test_head_has_no_body_and_the_length_of_get(self) -> None:
        client = self.client()
        _, _, body = client.request("GET", "/inventory")
        with capturedLogs() as events:
            code, headers, head_body = client.request("HEAD", "/inventory")
        self.assertEqual(
            (code, head_body, headers.getRawHeaders("content-length")),
            (200, b"", [str(len(body))]),
        )
        self.assertEqual([formatEvent(e) for e in events], [])


class FilterTests(WebTestCase):
    def test_by_kind(self) -> None:
        self.assertEqual(self.labels("/inventory?kind=storage"), ["files"])

    def test_by_provider(self) -> None:
        self.assertEqual(self.labels("/inventory?provider=ec2"), ["other@eu-1"])

    def test_by_region(self) -> None:
        self.assertEqual(self.labels("/inventory?region=eu-1"), ["fleet@eu-1", "other@eu-1"])

    def test_by_target_name_selects_every_region(self) -> None:
        self.assertEqual(self.labels("/inventory?target=fleet"), ["fleet@eu-1", "fleet@us-1"])

    def test_by_target_label_selects_one_region(self) -> None:
        self.assertEqual(self.labels("/inventory?target=fleet@us-1"), ["fleet@us-1"])

    def test_repeated_parameter_accepts_any_of_its_values(self) -> None:
        self.assertEqual(self.labels("/inventory?kind=storage&kind=container"), ["files", "docker"])

    def test_parameters_combine(self) -> None:
        self.assertEqual(self.labels("/inventory?region=eu-1&provider=dummy"), ["fleet@eu-1"])

    def test_nodes_filters_too(self) -> None:
        self.assertEqual(self.labels("/nodes?region=us-1"), ["fleet@us-1"])

    def test_nodes_of_another_kind_is_empty(self) -> None:
        self.assertEqual(self.labels("/nodes?kind=storage"), [])

    def test_no_match_is_an_empty_list(self) -> None:
        self.assertEqual(self.labels("/inventory?target=nope"), [])

    def test_unknown_parameter_is_refused(self) -> None:
        code, document = self.client().get_json("/inventory?regoin=eu-1")
        self.assertEqual(
            (code, document),
            (
                400,
                {
                    "error": "unknown query parameter 'regoin'; "
                    "expected one of kind, provider, region, target"
                },
            ),
        )

    def test_unknown_kind_is_refused(self) -> None:
        code, document = self.client().get_json("/nodes?kind=computer")
        self.assertEqual(
            (code, document),
            (
                400,
                {"error": "unknown kind 'computer'; expected one of compute, storage, container"},
            ),
        )

    def test_value_that_is_not_utf8_is_refused(self) -> None:
        code, document = self.client().get_json("/inventory?provider=%ff")
        self.assertEqual((code, document), (400, {"error": "'provider' is not UTF-8"}))


class HealthTests(WebTestCase):
    def test_starting_is_503(self) -> None:
        snapshot = Snapshot(0.0, False, 10.0, 30.0, (TargetStatus(EU),))
        code, document = self.client(snapshot).get_json("/health")
        self.assertEqual((code, document), (503, {"status": "starting", "stale": ["fleet@eu-1"]}))

    def test_ready_is_200_listing_stale_targets(self) -> None:
        code, document = self.client().get_json("/health")
        self.assertEqual((code, document), (200, {"status": "degraded", "stale": ["other@eu-1"]}))

    def test_follows_the_refresher_from_503_to_200(self) -> None:
        clock = Clock()
        config = dummy_config("slow ex_latency=2.0", "quick")
        refresher = Refresher(config, 10.0, clock, WatchedDrivers(config, clock))
        refresher.startService()
        self.addCleanup(refresher.stopService)
        client = Client(InventoryResource(refresher.snapshot), self)
        starting = {"status": "starting", "stale": ["slow"]}
        self.assertEqual(client.get_json("/health"), (503, starting))
        clock.advance(2)
        self.assertEqual(client.get_json("/health"), (200, {"status": "ok", "stale": []}))
        code, document = client.get_json("/inventory")
        self.assertEqual(code, 200)
        self.assertEqual(
            [(t["label"], len(t["items"]), t["age"]) for t in document["targets"]],
            [("slow", 2, 0.0), ("quick", 2, 2.0)],
        )


class ErrorTests(WebTestCase):
    def test_unknown_path_is_404(self) -> None:
        code, document = self.client().get_json("/inventory/extra")
        self.assertEqual(
            (code, document),
            (404, {"error": "not found", "paths": ["/health", "/inventory", "/nodes"]}),
        )

    def test_root_is_404(self) -> None:
        self.assertEqual(self.client().get_json("/")[0], 404)

    def test_other_methods_are_405(self) -> None:
        client = self.client()
        for method in ("POST", "PUT", "DELETE"):
            for path in ("/inventory", "/health"):
                code, headers, body = client.request(method, path)
                self.assertEqual(
                    (code, json.loads(body), headers.getRawHeaders("allow")),
                    (405, {"error": "method not allowed; use GET or HEAD"}, ["GET, HEAD"]),
                )


class TokenTests(WebTestCase):
    def test_missing_token_is_401(self) -> None:
        code, headers, body = self.client(token=TOKEN).request("GET", "/inventory")
        self.assertEqual(
            (code, json.loads(body), headers.getRawHeaders("www-authenticate")),
            (401, {"error": "a valid bearer token is required"}, ['Bearer realm="txcloud"']),
        )

    def test_wrong_token_is_401(self) -> None:
        client = self.client(token=TOKEN)
        for token in ("wrong", TOKEN + "x", TOKEN[:-1], ""):
            self.assertEqual(client.get_json("/nodes", token)[0], 401)

    def test_other_scheme_is_401(self) -> None:
        client = self.client(token=TOKEN)
        d = client.treq.get(
            "http://inventory.test/inventory", headers={"Authorization": f"Basic {TOKEN}"}
        )
        client.treq.flush()
        self.assertEqual(self.successResultOf(d).code, 401)

    def test_right_token_is_200(self) -> None:
        client = self.client(token=TOKEN)
        self.assertEqual(client.get_json("/inventory", TOKEN)[0], 200)
        self.assertEqual(client.get_json("/nodes", TOKEN)[0], 200)

    def test_scheme_is_case_insensitive(self) -> None:
        client = self.client(token=TOKEN)
        d = client.treq.get(
            "http://inventory.test/nodes", headers={"Authorization": f"bearer {TOKEN}"}
        )
        client.treq.flush()
        self.assertEqual(self.successResultOf(d).code, 200)

    def test_health_needs_no_token(self) -> None:
        self.assertEqual(self.client(token=TOKEN).get_json("/health")[0], 200)

    def test_unknown_path_without_token_is_401_not_404(self) -> None:
        self.assertEqual(self.client(token=TOKEN).get_json("/secret-path")[0], 401)

    def test_token_is_in_no_answer(self) -> None:
        # That it is in no log line either is checked with a real process, in test_tap.
        client = self.client(token=TOKEN)
        answers = [
            client.request(method, path, token)
            for method in ("GET", "POST")
            for path in ("/inventory", "/nodes", "/health", "/nope")
            for token in (None, TOKEN, "wrong")
        ]
        for _, headers, body in answers:
            self.assertNotIn(TOKEN.encode(), body)
            self.assertNotIn(TOKEN, repr(list(headers.getAllRawHeaders())))
