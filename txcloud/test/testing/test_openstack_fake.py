"""
Tests of txcloud.testing.openstack on its own: the shapes it answers with,
checked with plain HTTP requests through its in-memory agent.
"""

from __future__ import annotations

import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.testing.openstack import DEFAULT_PASSWORD, DEFAULT_PROJECT, DEFAULT_USER, FakeOpenStack

BASE = "http://cloud.test"


def password_body(password: str = DEFAULT_PASSWORD, project: str = DEFAULT_PROJECT) -> bytes:
    user = {"name": DEFAULT_USER, "domain": {"name": "Default"}, "password": password}
    scope = {"project": {"name": project, "domain": {"id": "default"}}}
    auth = {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}
    return json.dumps({"auth": auth}).encode()


class FakeTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.cloud = FakeOpenStack(clock=self.clock)
        # Any: StubTreq makes its methods at run time.
        self.http: Any = StubTreq(self.cloud.resource)

    def call(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, Any, Any]:
        headers = {"Content-Type": ["application/json"]}
        if token is not None:
            headers["X-Auth-Token"] = [token]
        response = self.successResultOf(
            self.http.request(method, BASE + path, data=body, headers=headers)
        )
        content = self.successResultOf(response.content())
        try:
            document = json.loads(content) if content else None
        except ValueError:
            document = content.decode()
        return response.code, response.headers, document

    def token(self) -> str:
        code, headers, _ = self.call("POST", "/v3/auth/tokens", password_body())
        self.assertEqual(code, 201)
        token: str = headers.getRawHeaders("X-Subject-Token")[0]
        return token


class KeystoneTests(FakeTestCase):
    def test_a_token_carries_a_catalog_pointing_back_at_the_host_asked(self) -> None:
        code, headers, document = self.call("POST", "/v3/auth/tokens", password_body())
        token = document["token"]
        self.assertEqual(code, 201)
        self.assertEqual(token["expires_at"], "1970-01-01T01:00:00.000000Z")
        self.assertEqual(token["project"]["name"], DEFAULT_PROJECT)
        compute = next(entry for entry in token["catalog"] if entry["type"] == "compute")
        self.assertIn(
            {
                "id": compute["endpoints"][0]["id"],
                "interface": "public",
                "region": "RegionOne",
                "region_id": "RegionOne",
                "url": f"{BASE}/compute/RegionOne/v2.1",
            },
            compute["endpoints"],
        )
        self.assertTrue(headers.getRawHeaders("x-openstack-request-id")[0].startswith("req-"))

    def test_a_wrong_password_or_project_is_keystones_401(self) -> None:
        for body in (password_body("wrong"), password_body(project="other")):
            code, _, document = self.call("POST", "/v3/auth/tokens", body)
            self.assertEqual(code, 401)
            self.assertEqual(document["error"]["title"], "Unauthorized")
            self.assertEqual(document["error"]["code"], 401)

    def test_expired_and_revoked_tokens_are_refused_by_the_services(self) -> None:
        token = self.token()
        self.assertEqual(
            self.call("GET", "/compute/RegionOne/v2.1/servers/detail", token=token)[0], 200
        )
        self.clock.advance(3600)
        self.assertEqual(
            self.call("GET", "/compute/RegionOne/v2.1/servers/detail", token=token)[0], 401
        )
        fresh = self.token()
        self.cloud.revoke_tokens()
        code, _, document = self.call("GET", "/image/RegionOne/v2/images", token=fresh)
        self.assertEqual((code, document["error"]["title"]), (401, "Unauthorized"))


class NovaTests(FakeTestCase):
    def test_servers_page_by_marker_with_a_next_link(self) -> None:
        servers = [self.cloud.add_server(f"s{n}") for n in range(3)]
        token = self.token()
        _, _, first = self.call(
            "GET", "/compute/RegionOne/v2.1/servers/detail?limit=2", token=token
        )
        self.assertEqual([s["name"] for s in first["servers"]], ["s0", "s1"])
        self.assertEqual(
            first["servers_links"],
            [
                {
                    "rel": "next",
                    "href": f"{BASE}/compute/RegionOne/v2.1/servers/detail"
                    f"?limit=2&marker={servers[1].id}",
                }
            ],
        )
        _, _, last = self.call(
            "GET",
            f"/compute/RegionOne/v2.1/servers/detail?limit=2&marker={servers[1].id}",
            token=token,
        )
        self.assertEqual(
            ([s["name"] for s in last["servers"]], "servers_links" in last), (["s2"], False)
        )

    def test_an_unknown_marker_is_bad_request(self) -> None:
        code, _, document = self.call(
            "GET", "/compute/RegionOne/v2.1/servers/detail?marker=nope", token=self.token()
        )
        self.assertEqual(
            (code, document),
            (400, {"badRequest": {"code": 400, "message": "marker [nope] not found"}}),
        )

    def test_a_missing_server_is_item_not_found(self) -> None:
        code, _, document = self.call(
            "GET", "/compute/RegionTwo/v2.1/servers/abc", token=self.token()
        )
        self.assertEqual(code, 404)
        self.assertEqual(document["itemNotFound"]["message"], "Instance abc could not be found.")

    def test_servers_stay_in_their_region(self) -> None:
        server = self.cloud.add_server("one", region="RegionOne")
        code, _, _ = self.call(
            "GET", f"/compute/RegionTwo/v2.1/servers/{server.id}", token=self.token()
        )
        self.assertEqual(code, 404)

    def test_an_injected_over_limit_carries_retry_after(self) -> None:
        self.cloud.fail(
            "compute/*/flavors/detail", 413, "Rate limited", headers={"Retry-After": "5"}
        )
        code, headers, document = self.call(
            "GET", "/compute/RegionOne/v2.1/flavors/detail", token=self.token()
        )
        self.assertEqual((code, headers.getRawHeaders("Retry-After")), (413, ["5"]))
        self.assertEqual(document, {"overLimit": {"code": 413, "message": "Rate limited"}})

    def test_a_new_server_builds_for_boot_seconds(self) -> None:
        self.cloud.boot_seconds = 10
        token = self.token()
        body = {
            "server": {"name": "n", "flavorRef": "1", "imageRef": next(iter(self.cloud.images))}
        }
        code, _, document = self.call(
            "POST", "/compute/RegionOne/v2.1/servers", json.dumps(body).encode(), token
        )
        self.assertEqual(code, 202)
        server = self.cloud.servers[document["server"]["id"]]
        self.assertEqual(server.status, "BUILD")
        self.clock.advance(10)
        _, _, shown = self.call("GET", f"/compute/RegionOne/v2.1/servers/{server.id}", token=token)
        self.assertEqual(shown["server"]["status"], "ACTIVE")


class GlanceTests(FakeTestCase):
    def test_images_page_with_a_relative_next(self) -> None:
        self.cloud.image_page_size = 2
        _, _, document = self.call("GET", "/image/RegionOne/v2/images", token=self.token())
        second = list(self.cloud.images)[1]
        self.assertEqual(len(document["images"]), 2)
        self.assertEqual(document["next"], f"/v2/images?limit=2&marker={second}")

    def test_a_missing_image_is_a_text_404(self) -> None:
        code, _, text = self.call("GET", "/image/RegionOne/v2/images/nope", token=self.token())
        self.assertEqual((code, text), (404, "404 Not Found\n\nNo image found with ID nope\n\n"))


class CinderTests(FakeTestCase):
    def volumes(self, rest: str, region: str = "RegionOne") -> str:
        return f"/volume/{region}/v3/{self.cloud.projects[DEFAULT_PROJECT]}{rest}"

    def test_the_catalog_has_block_storage_in_both_regions(self) -> None:
        _, _, document = self.call("POST", "/v3/auth/tokens", password_body())
        [cinder] = [e for e in document["token"]["catalog"] if e["type"] == "block-storage"]
        public = {e["region"]: e["url"] for e in cinder["endpoints"] if e["interface"] == "public"}
        self.assertEqual(
            public,
            {
                "RegionOne": f"{BASE}/volume/RegionOne/v3",
                "RegionTwo": f"{BASE}/volume/RegionTwo/v3",
            },
        )

    def test_volumes_page_by_marker_with_an_absolute_next_link(self) -> None:
        names = [self.cloud.add_volume(f"v{n}").id for n in range(3)]
        token = self.token()
        path = self.volumes("/volumes/detail?limit=2")
        _, _, document = self.call("GET", path, token=token)
        self.assertEqual([v["id"] for v in document["volumes"]], names[:2])
        [link] = document["volumes_links"]
        self.assertEqual(
            link,
            {
                "rel": "next",
                "href": f"{BASE}{self.volumes('/volumes/detail')}?limit=2&marker={names[1]}",
            },
        )

    def test_another_projects_path_is_not_found(self) -> None:
        code, _, _ = self.call(
            "GET", "/volume/RegionOne/v3/other/volumes/detail", token=self.token()
        )
        self.assertEqual(code, 404)

    def test_deleting_an_attached_volume_is_cinders_bad_request(self) -> None:
        volume = self.cloud.add_volume("data")
        volume.status, volume.server_id = "in-use", "9168b536-cd40-4630-b43f-b259807c6e87"
        token = self.token()
        code, _, document = self.call("DELETE", self.volumes(f"/volumes/{volume.id}"), token=token)
        self.assertEqual(code, 400)
        self.assertEqual(list(document), ["badRequest"])
        self.assertEqual(document["badRequest"]["code"], 400)
        self.assertTrue(document["badRequest"]["message"].startswith("Invalid volume: "))
        self.assertIn(volume.id, self.cloud.volumes)

    def test_a_missing_volume_is_item_not_found(self) -> None:
        token = self.token()
        code, _, document = self.call("GET", self.volumes("/volumes/nope"), token=token)
        self.assertEqual(
            (code, document),
            (404, {"itemNotFound": {"code": 404, "message": "Volume nope could not be found."}}),
        )
