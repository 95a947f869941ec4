"""
Tests for txcloud.testing.digitalocean, the fake DigitalOcean API v2,
spoken to over plain HTTP with treq's StubTreq, on a Clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.testing.digitalocean import DEFAULT_TOKEN, FakeDigitalOcean

API = "https://api.digitalocean.com"


def public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " me@host"


def md5_fingerprint(key: str) -> str:
    digest = hashlib.md5(base64.b64decode(key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


class Answer:
    """A response with its body read."""

    def __init__(self, response: Any, body: bytes) -> None:
        self.status: int = response.code
        self.headers = response.headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


class FakeTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.fake = FakeDigitalOcean(clock=self.clock)
        # Any: StubTreq makes its methods at run time.
        self.treq: Any = StubTreq(self.fake.resource)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = DEFAULT_TOKEN,
        headers: dict[str, str] | None = None,
        url: str = API,
    ) -> Answer:
        """Send a request and wait for its answer (which must come at once)."""
        d = self.start(method, path, body, token=token, headers=headers, url=url)
        return self.successResultOf(d)

    def start(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = DEFAULT_TOKEN,
        headers: dict[str, str] | None = None,
        url: str = API,
    ) -> Any:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        d = self.treq.request(method, url + path, headers=sent, data=data)
        return d.addCallback(
            lambda response: self.treq.content(response).addCallback(
                lambda content: Answer(response, content)
            )
        )

    def assert_error(self, answer: Answer, status: int, error_id: str) -> dict[str, Any]:
        self.assertEqual(answer.status, status)
        document: dict[str, Any] = answer.json()
        self.assertEqual(document["id"], error_id)
        self.assertEqual(document["request_id"], answer.header("x-request-id"))
        self.assertTrue(document["message"])
        return document


class AuthenticationTests(FakeTestCase):
    def test_a_request_without_a_token_gets_401_unauthorized(self) -> None:
        answer = self.send("GET", "/v2/droplets", token=None)
        self.assert_error(answer, 401, "Unauthorized")

    def test_a_request_with_another_token_gets_401(self) -> None:
        answer = self.send("GET", "/v2/droplets", token="dop_v1_someone_else")
        self.assert_error(answer, 401, "Unauthorized")

    def test_any_of_the_given_tokens_is_accepted(self) -> None:
        fake = FakeDigitalOcean(["first", "second"], clock=self.clock)
        self.treq = StubTreq(fake.resource)
        self.assertEqual(self.send("GET", "/v2/account", token="second").status, 200)
        self.assertEqual(fake.token, "first")

    def test_requests_are_recorded_with_their_headers_and_bodies(self) -> None:
        self.send("POST", "/v2/account/keys?x=1", {"name": "k"})
        [received] = self.fake.received
        self.assertEqual((received.method, received.path), ("POST", "/v2/account/keys"))
        self.assertEqual(received.query, {"x": ["1"]})
        self.assertEqual(received.headers["authorization"], f"Bearer {DEFAULT_TOKEN}")
        self.assertEqual(received.json(), {"name": "k"})


class RoutingTests(FakeTestCase):
    def test_an_unknown_path_is_404_not_found(self) -> None:
        self.assert_error(self.send("GET", "/v2/floating_ips"), 404, "not_found")

    def test_a_known_path_with_another_method_is_405(self) -> None:
        self.assert_error(self.send("PUT", "/v2/droplets"), 405, "method_not_allowed")

    def test_a_body_that_is_not_json_is_400(self) -> None:
        answer = self.send("POST", "/v2/droplets", b"{not json")
        self.assert_error(answer, 400, "bad_request")

    def test_every_answer_carries_a_distinct_request_id(self) -> None:
        ids = {self.send("GET", "/v2/account").header("x-request-id") for _ in range(3)}
        self.assertEqual(len(ids), 3)

    def test_the_account_is_shown(self) -> None:
        account = self.send("GET", "/v2/account").json()["account"]
        self.assertEqual((account["droplet_limit"], account["status"]), (25, "active"))


class PagingTests(FakeTestCase):
    def setUp(self) -> None:
        super().setUp()
        for number in range(5):
            self.fake.add_droplet(f"web-{number}", tags=["web"] if number % 2 else [])

    def pages(self, answer: Answer) -> dict[str, dict[str, list[str]]]:
        links = answer.json()["links"]["pages"]
        return {name: parse_qs(urlsplit(url).query) for name, url in links.items()}

    def test_the_first_page_links_to_the_next_and_last(self) -> None:
        answer = self.send("GET", "/v2/droplets?per_page=2")
        document = answer.json()
        self.assertEqual([d["name"] for d in document["droplets"]], ["web-0", "web-1"])
        self.assertEqual(document["meta"], {"total": 5})
        pages = self.pages(answer)
        self.assertEqual(sorted(pages), ["last", "next"])
        self.assertEqual(pages["next"]["page"], ["2"])
        self.assertEqual(pages["last"]["page"], ["3"])
        self.assertEqual(pages["next"]["per_page"], ["2"])

    def test_the_last_page_links_back_only(self) -> None:
        answer = self.send("GET", "/v2/droplets?per_page=2&page=3")
        self.assertEqual([d["name"] for d in answer.json()["droplets"]], ["web-4"])
        pages = self.pages(answer)
        self.assertEqual(sorted(pages), ["first", "prev"])
        self.assertEqual((pages["first"]["page"], pages["prev"]["page"]), (["1"], ["2"]))

    def test_a_single_page_has_no_links(self) -> None:
        document = self.send("GET", "/v2/droplets").json()
        self.assertEqual(len(document["droplets"]), 5)
        self.assertEqual(document["links"], {"pages": {}})

    def test_twenty_items_make_a_page_by_default(self) -> None:
        for number in range(20):
            self.fake.add_droplet(f"more-{number}")
        answer = self.send("GET", "/v2/droplets")
        self.assertEqual(len(answer.json()["droplets"]), 20)
        self.assertEqual(self.pages(answer)["next"]["page"], ["2"])

    def test_pages_hold_at_most_200_items(self) -> None:
        answer = self.send("GET", "/v2/droplets?per_page=500")
        self.assertEqual(self.pages(answer), {})
        self.assertEqual(len(answer.json()["droplets"]), 5)

    def test_links_keep_the_filters_and_the_host_asked(self) -> None:
        answer = self.send("GET", "/v2/droplets?tag_name=web&per_page=1", url="http://127.0.0.1:8")
        self.assertEqual(answer.json()["meta"], {"total": 2})
        link = answer.json()["links"]["pages"]["next"]
        self.assertTrue(link.startswith("http://127.0.0.1:8/v2/droplets?"), link)
        self.assertEqual(parse_qs(urlsplit(link).query)["tag_name"], ["web"])

    def test_a_page_number_that_is_not_a_positive_integer_is_400(self) -> None:
        for bad in ("0", "two", "-1"):
            answer = self.send("GET", f"/v2/droplets?page={bad}")
            self.assert_error(answer, 400, "bad_request")

    def test_a_page_past_the_last_is_empty(self) -> None:
        document = self.send("GET", "/v2/droplets?page=9").json()
        self.assertEqual(document["droplets"], [])


class RateLimitTests(FakeTestCase):
    def test_answers_report_5000_requests_per_hour(self) -> None:
        answer = self.send("GET", "/v2/account")
        self.assertEqual(answer.header("ratelimit-limit"), "5000")
        self.assertEqual(answer.header("ratelimit-remaining"), "4999")
        self.assertEqual(answer.header("ratelimit-reset"), str(1_700_000_000 + 3600))

    def test_a_request_over_the_limit_is_429_until_the_oldest_expires(self) -> None:
        self.fake.rate_limit(2, window=60)
        self.send("GET", "/v2/account")
        self.clock.advance(10)
        self.assertEqual(self.send("GET", "/v2/account").header("ratelimit-remaining"), "0")
        refused = self.send("GET", "/v2/account")
        self.assert_error(refused, 429, "too_many_requests")
        self.assertEqual(refused.header("ratelimit-reset"), str(1_700_000_060))
        self.assertIsNone(refused.header("retry-after"))
        self.clock.advance(49.5)
        self.assertEqual(self.send("GET", "/v2/account").status, 429)
        self.clock.advance(0.5)
        allowed = self.send("GET", "/v2/account")
        self.assertEqual(allowed.status, 200)
        self.assertEqual(allowed.header("ratelimit-reset"), str(1_700_000_070))

    def test_429_answers_can_carry_retry_after(self) -> None:
        self.fake.rate_limit(1, window=30, retry_after=True)
        self.send("GET", "/v2/account")
        self.clock.advance(5)
        self.assertEqual(self.send("GET", "/v2/account").header("retry-after"), "25")

    def test_each_token_has_its_own_limit(self) -> None:
        self.fake.tokens.append("other")
        self.fake.rate_limit(1, window=60)
        self.send("GET", "/v2/account")
        self.assertEqual(self.send("GET", "/v2/account", token="other").status, 200)
        self.assertEqual(self.send("GET", "/v2/account").status, 429)


class FaultTests(FakeTestCase):
    def test_fail_answers_the_next_requests_for_a_path_with_the_error(self) -> None:
        self.fake.fail("/v2/sizes", 503, message="maintenance", times=2)
        first = self.send("GET", "/v2/sizes?per_page=3")
        self.assertEqual(
            self.assert_error(first, 503, "service_unavailable")["message"], "maintenance"
        )
        self.assertEqual(self.send("GET", "/v2/sizes").status, 503)
        self.assertEqual(self.send("GET", "/v2/sizes").status, 200)

    def test_fail_matches_only_its_method_and_path(self) -> None:
        self.fake.fail("/v2/droplets", 500, method="post")
        self.assertEqual(self.send("GET", "/v2/droplets").status, 200)
        self.assertEqual(self.send("GET", "/v2/sizes").status, 200)
        self.assertEqual(self.send("POST", "/v2/droplets", {}).status, 500)

    def test_fail_can_set_the_error_id_and_headers(self) -> None:
        self.fake.fail("/v2/account", 429, error_id="slow_down", headers={"Retry-After": "7"})
        answer = self.send("GET", "/v2/account")
        self.assert_error(answer, 429, "slow_down")
        self.assertEqual(answer.header("retry-after"), "7")

    def test_a_fault_without_a_count_lasts_until_cleared(self) -> None:
        self.fake.fail("/v2/account", 500, times=None)
        for _ in range(3):
            self.assertEqual(self.send("GET", "/v2/account").status, 500)
        self.fake.clear_faults()
        self.assertEqual(self.send("GET", "/v2/account").status, 200)

    def test_latency_delays_answers_on_the_clock(self) -> None:
        self.fake.latency = 2.0
        d = self.start("GET", "/v2/account")
        self.treq.flush()
        self.assertNoResult(d)
        self.clock.advance(1.9)
        self.treq.flush()
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.treq.flush()
        self.assertEqual(self.successResultOf(d).status, 200)

    def test_flush_delivers_to_the_fakes_own_agents(self) -> None:
        self.fake.latency = 1.0
        agent = self.fake.agent()
        d = agent.request(b"GET", f"{API}/v2/account".encode())
        self.clock.advance(1)
        self.assertNoResult(d)
        self.fake.flush()
        self.assertEqual(self.successResultOf(d).code, 401)


class DropletTests(FakeTestCase):
    def create(self, **changes: Any) -> Answer:
        spec = {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"}
        spec.update(changes)
        return self.send("POST", "/v2/droplets", spec)

    def test_creating_answers_202_with_a_new_droplet_and_its_action(self) -> None:
        answer = self.create(region="ams3", tags=["web"])
        self.assertEqual(answer.status, 202)
        document = answer.json()
        droplet = document["droplet"]
        self.assertEqual((droplet["name"], droplet["status"]), ("web-1", "new"))
        self.assertEqual(droplet["networks"], {"v4": [], "v6": []})
        self.assertEqual((droplet["region"]["slug"], droplet["size_slug"]), ("ams3", "s-1vcpu-1gb"))
        self.assertEqual(droplet["image"]["slug"], "ubuntu-24-04-x64")
        self.assertEqual(droplet["tags"], ["web"])
        [link] = document["links"]["actions"]
        self.assertEqual(link["rel"], "create")
        self.assertIn(droplet["id"], self.fake.droplets)

    def test_a_new_droplet_becomes_active_with_addresses_after_booting(self) -> None:
        self.fake.boot_seconds = 30
        droplet_id = self.create().json()["droplet"]["id"]
        self.clock.advance(29)
        self.assertEqual(
            self.send("GET", f"/v2/droplets/{droplet_id}").json()["droplet"]["status"], "new"
        )
        self.clock.advance(1)
        droplet = self.send("GET", f"/v2/droplets/{droplet_id}").json()["droplet"]
        self.assertEqual(droplet["status"], "active")
        self.assertEqual([net["type"] for net in droplet["networks"]["v4"]], ["private", "public"])

    def test_an_image_may_be_named_by_id(self) -> None:
        image = next(iter(self.fake.images.values()))
        droplet = self.create(image=image.id).json()["droplet"]
        self.assertEqual(droplet["image"]["id"], image.id)

    def test_a_region_prefix_picks_an_available_region(self) -> None:
        self.assertEqual(self.create(region="nyc").json()["droplet"]["region"]["slug"], "nyc3")

    def test_without_a_region_any_available_one_is_picked(self) -> None:
        self.assertEqual(self.create().json()["droplet"]["region"]["slug"], "nyc3")

    def test_creating_refuses_bad_specifications_with_422(self) -> None:
        for changes in (
            {"size": "huge"},
            {"image": "windows"},
            {"region": "mars1"},
            {"region": "nyc1"},
            {"name": "under_score"},
            {"ssh_keys": [12]},
            {"tags": "web"},
            {"user_data": "x" * (64 * 1024 + 1)},
            {"names": ["a", "b"]},
        ):
            answer = self.create(**changes)
            self.assertEqual(answer.status, 422, changes)
            self.assertEqual(answer.json()["id"], "unprocessable_entity")
        self.assertEqual(self.fake.droplets, {})

    def test_a_size_not_offered_in_the_region_is_refused(self) -> None:
        self.fake.add_size("g-2vcpu-8gb", 8192, 2, 25, regions=["sfo3"])
        self.assertEqual(self.create(size="g-2vcpu-8gb", region="ams3").status, 422)
        self.assertEqual(self.create(size="g-2vcpu-8gb", region="sfo3").status, 202)

    def test_creating_past_the_droplet_limit_is_refused(self) -> None:
        self.fake.droplet_limit = 1
        self.assertEqual(self.create().status, 202)
        self.assertEqual(self.create(name="web-2").status, 422)

    def test_known_ssh_keys_are_installed(self) -> None:
        key = self.fake.add_key("deploy", public_key())
        droplet_id = self.create(ssh_keys=[key.id, key.fingerprint]).json()["droplet"]["id"]
        self.assertEqual(self.fake.droplets[droplet_id].ssh_keys, [key.id, key.id])

    def test_listing_filters_by_tag(self) -> None:
        self.fake.add_droplet("a", tags=["web"])
        self.fake.add_droplet("b")
        document = self.send("GET", "/v2/droplets?tag_name=web").json()
        self.assertEqual([d["name"] for d in document["droplets"]], ["a"])

    def test_a_droplet_shows_its_size_image_region_and_addresses(self) -> None:
        droplet = self.fake.add_droplet("db", region="fra1", size="s-2vcpu-2gb")
        shown = self.send("GET", f"/v2/droplets/{droplet.id}").json()["droplet"]
        self.assertEqual((shown["memory"], shown["vcpus"], shown["disk"]), (2048, 2, 60))
        self.assertEqual(shown["region"]["name"], "Frankfurt 1")
        addresses = {net["type"]: net["ip_address"] for net in shown["networks"]["v4"]}
        self.assertEqual(addresses, {"public": droplet.public_ip, "private": droplet.private_ip})

    def test_deleting_answers_204_and_the_droplet_is_gone(self) -> None:
        droplet = self.fake.add_droplet("web")
        answer = self.send("DELETE", f"/v2/droplets/{droplet.id}")
        self.assertEqual((answer.status, answer.body), (204, b""))
        self.assert_error(self.send("GET", f"/v2/droplets/{droplet.id}"), 404, "not_found")
        self.assert_error(self.send("DELETE", f"/v2/droplets/{droplet.id}"), 404, "not_found")

    def test_add_droplet_needs_a_known_region(self) -> None:
        self.assertRaises(ValueError, self.fake.add_droplet, "web", region="mars1")


class ActionTests(FakeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.droplet = self.fake.add_droplet("web")
        self.path = f"/v2/droplets/{self.droplet.id}/actions"

    def test_power_off_then_on_changes_the_status_and_records_actions(self) -> None:
        answer = self.send("POST", self.path, {"type": "power_off"})
        self.assertEqual(answer.status, 201)
        action = answer.json()["action"]
        self.assertEqual(
            (action["type"], action["status"], action["resource_id"], action["region_slug"]),
            ("power_off", "in-progress", self.droplet.id, "nyc3"),
        )
        self.assertEqual(self.droplet.status, "off")
        self.send("POST", self.path, {"type": "power_on"})
        self.assertEqual(self.droplet.status, "active")
        self.assertEqual([a["type"] for a in self.fake.actions], ["power_off", "power_on"])

    def test_actions_that_the_status_does_not_allow_are_422(self) -> None:
        self.assertEqual(self.send("POST", self.path, {"type": "power_on"}).status, 422)
        self.send("POST", self.path, {"type": "shutdown"})
        for kind in ("shutdown", "power_off", "reboot"):
            self.assertEqual(self.send("POST", self.path, {"type": kind}).status, 422, kind)

    def test_an_unknown_action_is_422(self) -> None:
        self.assertEqual(self.send("POST", self.path, {"type": "explode"}).status, 422)

    def test_an_action_on_a_droplet_being_created_is_422(self) -> None:
        self.droplet.status, self.droplet.active_at = "new", 1e12
        self.assertEqual(self.send("POST", self.path, {"type": "reboot"}).status, 422)

    def test_an_action_on_a_missing_droplet_is_404(self) -> None:
        answer = self.send("POST", "/v2/droplets/1/actions", {"type": "reboot"})
        self.assert_error(answer, 404, "not_found")


class CatalogueTests(FakeTestCase):
    def test_regions_list_the_sizes_offered_there(self) -> None:
        self.fake.add_size("g-2vcpu-8gb", 8192, 2, 25, regions=["sfo3"])
        regions = {r["slug"]: r for r in self.send("GET", "/v2/regions").json()["regions"]}
        self.assertIn("g-2vcpu-8gb", regions["sfo3"]["sizes"])
        self.assertNotIn("g-2vcpu-8gb", regions["ams3"]["sizes"])
        self.assertFalse(regions["nyc1"]["available"])

    def test_sizes_list_their_regions_and_prices(self) -> None:
        sizes = {s["slug"]: s for s in self.send("GET", "/v2/sizes").json()["sizes"]}
        size = sizes["s-1vcpu-1gb"]
        self.assertEqual(
            (size["memory"], size["price_monthly"], size["transfer"]), (1024, 6.0, 1.0)
        )
        self.assertAlmostEqual(size["price_hourly"], 6.0 / 672, places=5)
        self.assertEqual(size["regions"], list(self.fake.regions))

    def test_images_filter_by_type_private_and_tag(self) -> None:
        self.fake.add_image("my snapshot", kind="private", tags=["gold"])

        def names(query: str) -> list[str]:
            images = self.send("GET", f"/v2/images{query}").json()["images"]
            return [image["name"] for image in images]

        self.assertEqual(names("?type=distribution"), ["24.04 (LTS) x64", "12 x64"])
        self.assertEqual(names("?type=application"), ["Docker on Ubuntu 22.04"])
        self.assertEqual(names("?private=true"), ["my snapshot"])
        self.assertEqual(names("?tag_name=gold"), ["my snapshot"])
        self.assertEqual(len(names("")), 4)
        self.assertEqual(self.send("GET", "/v2/images?type=backup").status, 400)

    def test_an_image_is_found_by_id_or_slug(self) -> None:
        image = self.send("GET", "/v2/images/debian-12-x64").json()["image"]
        self.assertEqual(self.send("GET", f"/v2/images/{image['id']}").json()["image"], image)
        self.assertEqual((image["public"], image["distribution"]), (True, "Debian"))
        self.assertEqual(self.send("GET", "/v2/images/nope").status, 404)

    def test_a_catalogue_can_be_left_out(self) -> None:
        fake = FakeDigitalOcean(clock=self.clock, catalogue=False)
        self.assertEqual((fake.regions, fake.sizes, fake.images), ({}, {}, {}))


class KeyTests(FakeTestCase):
    def test_uploading_a_key_answers_201_with_its_md5_fingerprint(self) -> None:
        key = public_key()
        answer = self.send("POST", "/v2/account/keys", {"name": "deploy", "public_key": key})
        self.assertEqual(answer.status, 201)
        shown = answer.json()["ssh_key"]
        self.assertEqual((shown["name"], shown["public_key"]), ("deploy", key))
        self.assertEqual(shown["fingerprint"], md5_fingerprint(key))
        self.assertEqual(self.send("GET", "/v2/account/keys").json()["ssh_keys"], [shown])

    def test_uploading_the_same_key_twice_is_422_in_use(self) -> None:
        key = public_key()
        self.send("POST", "/v2/account/keys", {"name": "a", "public_key": key})
        answer = self.send("POST", "/v2/account/keys", {"name": "b", "public_key": key})
        self.assertIn(
            "already in use", self.assert_error(answer, 422, "unprocessable_entity")["message"]
        )

    def test_a_malformed_key_or_missing_name_is_422(self) -> None:
        for spec in (
            {"name": "a", "public_key": "ssh-rsa not*base64"},
            {"name": "a", "public_key": "pgp-key AAAA"},
            {"name": "", "public_key": public_key()},
            {"name": "a"},
        ):
            self.assertEqual(self.send("POST", "/v2/account/keys", spec).status, 422, spec)
        self.assertEqual(self.fake.keys, {})

    def test_a_key_is_found_and_deleted_by_id_or_fingerprint(self) -> None:
        first = self.fake.add_key("a", public_key())
        second = self.fake.add_key("b", public_key())
        shown = self.send("GET", f"/v2/account/keys/{first.fingerprint}").json()["ssh_key"]
        self.assertEqual(shown["id"], first.id)
        self.assertEqual(self.send("DELETE", f"/v2/account/keys/{first.id}").status, 204)
        self.assertEqual(self.send("DELETE", f"/v2/account/keys/{second.fingerprint}").status, 204)
        self.assertEqual(self.fake.keys, {})
        self.assert_error(self.send("GET", f"/v2/account/keys/{first.id}"), 404, "not_found")
