"""
Tests of :mod:`txcloud.container.utils.docker`.

* :class:`HubClient` against an in-memory Docker Hub (a twisted.web
  resource answering as Docker Hub's API reference documents: repositories,
  paginated tags, single tags, access tokens, ``{"message", "errinfo"}``
  errors) on a Clock.
* :class:`RegistryClient` against an in-memory registry that speaks the
  Distribution API behind a bearer-token challenge (with its token server),
  and against the real ``docker-registry`` (open, and behind htpasswd) holding
  the busybox image pushed by :func:`txcloud.test.docker_services.seed`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.server import Request as ServerRequest

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.utils.docker import MANIFEST_TYPES, HubClient, RegistryClient
from txcloud.errors import (
    ContainerImageNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    MalformedResponseError,
)
from txcloud.test.docker_services import (
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    auth_registry,
    dockerd,
    registry,
    seed,
)

DIGEST = "sha256:" + "6d" * 32


@attrs.frozen
class Seen:
    """One request as a fake saw it."""

    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


def _seen(request: ServerRequest) -> Seen:
    uri = urlsplit(request.uri.decode())
    headers = {
        name.decode().lower(): values[0].decode()
        for name, values in request.requestHeaders.getAllRawHeaders()
    }
    return Seen(
        method=request.method.decode(),
        host=headers.get("host", ""),
        path=uri.path,
        query=parse_qs(uri.query),
        headers=headers,
        body=request.content.read() if request.content else b"",
    )


def _json(request: ServerRequest, status: int, document: Any) -> bytes:
    request.setResponseCode(status)
    request.setHeader("Content-Type", "application/json")
    return json.dumps(document).encode()


# Docker Hub


def hub_tag(name: str, number: int) -> dict[str, Any]:
    return {
        "creator": 7,
        "id": 1000 + number,
        "images": [
            {
                "architecture": "amd64",
                "features": "",
                "variant": None,
                "digest": f"sha256:{number:064x}",
                "os": "linux",
                "os_features": "",
                "os_version": None,
                "size": 29535412,
                "status": "active",
                "last_pulled": "2024-03-05T10:15:30.123456Z",
                "last_pushed": "2024-03-01T08:00:00.654321Z",
            }
        ],
        "last_updated": "2024-03-01T08:00:00.654321Z",
        "last_updater": 7,
        "last_updater_username": "doijanky",
        "name": name,
        "repository": 130,
        "full_size": 29535412,
        "v2": True,
        "tag_status": "active",
        "tag_last_pulled": "2024-03-05T10:15:30.123456Z",
        "tag_last_pushed": "2024-03-01T08:00:00.654321Z",
        "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image",
        "digest": f"sha256:{number + 100:064x}",
    }


def hub_repository(namespace: str, name: str) -> dict[str, Any]:
    return {
        "user": namespace,
        "name": name,
        "namespace": namespace,
        "repository_type": "image",
        "status": 1,
        "status_description": "active",
        "description": "Ubuntu is a Debian-based Linux operating system.",
        "is_private": False,
        "is_automated": False,
        "star_count": 17000,
        "pull_count": 1000000000,
        "last_updated": "2024-03-01T08:00:00.654321Z",
        "date_registered": "2014-06-05T19:14:34.175Z",
        "collaborator_count": 0,
        "affiliation": None,
        "hub_user": namespace,
        "has_starred": False,
        "permissions": {"read": True, "write": False, "admin": False},
        "media_types": ["application/vnd.oci.image.index.v1+json"],
        "content_types": ["image"],
        "categories": [{"name": "Operating systems", "slug": "operating-systems"}],
    }


class FakeHub(Resource):
    """Docker Hub's repositories, tags and access tokens, for some repositories."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.tags = {
            "library/ubuntu": [
                hub_tag(name, n) for n, name in enumerate(["24.04", "22.04", "20.04"])
            ],
            "bitnami/redis": [hub_tag("7.2", 9)],
        }
        self.seen: list[Seen] = []
        self.accounts = {"alice": "dckr_pat_example"}
        self.issued: list[str] = []
        self.require_token = False

    def render(self, request: ServerRequest) -> bytes:
        seen = _seen(request)
        self.seen.append(seen)
        if seen.path == "/v2/auth/token" and seen.method == "POST":
            login = json.loads(seen.body)
            if self.accounts.get(login.get("identifier")) != login.get("secret"):
                return _json(request, 401, {"message": "Incorrect authentication credentials"})
            self.issued.append(f"jwt-{len(self.issued) + 1}")
            return _json(request, 200, {"access_token": self.issued[-1]})
        token = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if self.require_token and token not in self.issued:
            return _json(request, 401, {"message": "authentication required", "errinfo": None})
        parts = seen.path.strip("/").split("/")
        if parts[:2] != ["v2", "namespaces"] or len(parts) < 5 or parts[3] != "repositories":
            return _json(request, 404, {"message": "page not found", "errinfo": None})
        key = f"{parts[2]}/{parts[4]}"
        if key not in self.tags:
            return _json(request, 404, {"message": "object not found", "errinfo": None})
        if len(parts) == 5:
            return _json(request, 200, hub_repository(parts[2], parts[4]))
        if len(parts) == 6 and parts[5] == "tags":
            return self._page(request, seen, key)
        if len(parts) == 7 and parts[5] == "tags":
            for tag in self.tags[key]:
                if tag["name"] == parts[6]:
                    return _json(request, 200, tag)
            return _json(
                request,
                404,
                {"message": f"httperror 404: tag '{parts[6]}' not found", "errinfo": {}},
            )
        return _json(request, 404, {"message": "page not found", "errinfo": None})

    def _page(self, request: ServerRequest, seen: Seen, key: str) -> bytes:
        size = int(seen.param("page_size") or 10)
        page = int(seen.param("page") or 1)
        tags = self.tags[key]
        results = tags[(page - 1) * size : page * size]
        base = f"http://{seen.host}{seen.path}"
        more = page * size < len(tags)
        following = f"{base}?{urlencode({'page': page + 1, 'page_size': size})}" if more else None
        previous = (
            f"{base}?{urlencode({'page': page - 1, 'page_size': size})}" if page > 1 else None
        )
        return _json(
            request,
            200,
            {"count": len(tags), "next": following, "previous": previous, "results": results},
        )


class HubClientTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.hub = FakeHub()

    def client(self, *credentials: str) -> HubClient:
        client = HubClient(
            *credentials,
            host="hub.test",
            secure=False,
            reactor=self.clock,
            ex_agent=RequestTraversalAgent(self.hub),
        )
        self.addCleanup(client.close)
        return client

    def test_official_repository_is_in_the_library_namespace(self) -> None:
        repository = self.successResultOf(self.client().get_repository("ubuntu"))
        self.assertEqual((repository["namespace"], repository["name"]), ("library", "ubuntu"))
        self.assertEqual(self.hub.seen[-1].path, "/v2/namespaces/library/repositories/ubuntu")

    def test_namespace_in_the_name_or_as_an_argument(self) -> None:
        client = self.client()
        self.successResultOf(client.get_repository("bitnami/redis"))
        self.successResultOf(client.get_repository("redis", namespace="bitnami"))
        self.assertEqual(
            [s.path for s in self.hub.seen], ["/v2/namespaces/bitnami/repositories/redis"] * 2
        )

    def test_tags_follow_every_page(self) -> None:
        tags = self.successResultOf(self.client().get_tags("ubuntu", ex_page_size=2))
        self.assertEqual(tags, ["24.04", "22.04", "20.04"])
        self.assertEqual(
            [(s.param("page"), s.param("page_size")) for s in self.hub.seen],
            [(None, "2"), ("2", "2")],
        )

    def test_get_image_is_a_pullable_reference(self) -> None:
        image = self.successResultOf(self.client().get_image("ubuntu", "22.04"))
        self.assertEqual(
            (image.id, image.name, image.path, image.version, image.driver),
            (f"sha256:{101:064x}", "ubuntu:22.04", "ubuntu:22.04", "22.04", None),
        )
        self.assertEqual(image.extra["full_size"], 29535412)
        self.assertEqual(image.extra["images"][0]["architecture"], "amd64")
        self.assertEqual(
            self.hub.seen[-1].path, "/v2/namespaces/library/repositories/ubuntu/tags/22.04"
        )
        other = self.successResultOf(self.client().get_image("bitnami/redis", "7.2"))
        self.assertEqual(other.path, "bitnami/redis:7.2")

    def test_list_images_stops_at_max_count(self) -> None:
        images = self.successResultOf(self.client().list_images("ubuntu", max_count=2))
        self.assertEqual([i.path for i in images], ["ubuntu:24.04", "ubuntu:22.04"])
        self.assertEqual(self.hub.seen[-1].param("page_size"), "2")

    def test_missing_repository_and_tag_are_image_not_found(self) -> None:
        client = self.client()
        exc = self.failureResultOf(client.get_repository("nope"), ContainerImageNotFoundError).value
        self.assertIn("object not found", exc.message)
        exc = self.failureResultOf(client.get_image("ubuntu", "1.0"), ContainerImageNotFoundError)
        self.assertIn("tag '1.0' not found", exc.value.message)

    def test_credentials_get_an_access_token_used_as_bearer(self) -> None:
        self.hub.require_token = True
        client = self.client("alice", "dckr_pat_example")
        self.successResultOf(client.get_repository("ubuntu"))
        self.successResultOf(client.get_tags("ubuntu"))
        login, first, second = self.hub.seen
        self.assertEqual((login.method, login.path), ("POST", "/v2/auth/token"))
        self.assertEqual(
            json.loads(login.body), {"identifier": "alice", "secret": "dckr_pat_example"}
        )
        self.assertNotIn("authorization", login.headers)
        self.assertEqual(first.headers["authorization"], "Bearer jwt-1")
        self.assertEqual(second.headers["authorization"], "Bearer jwt-1")

    def test_access_token_is_renewed_before_it_expires(self) -> None:
        client = self.client("alice", "dckr_pat_example")
        self.successResultOf(client.get_repository("ubuntu"))
        self.clock.advance(9 * 60 + 1)
        self.successResultOf(client.get_repository("ubuntu"))
        self.assertEqual(self.hub.seen[-1].headers["authorization"], "Bearer jwt-2")

    def test_refused_login_is_invalid_credentials(self) -> None:
        client = self.client("alice", "wrong")
        self.failureResultOf(client.get_repository("ubuntu"), InvalidCredsError)

    def test_anonymous_requests_carry_no_authorization(self) -> None:
        self.successResultOf(self.client().get_repository("ubuntu"))
        self.assertNotIn("authorization", self.hub.seen[-1].headers)

    def test_next_page_on_another_server_is_refused(self) -> None:
        client = self.client()
        self.hub.tags["library/ubuntu"] = [hub_tag(str(n), n) for n in range(3)]
        original = self.hub._page

        def elsewhere(request: ServerRequest, seen: Seen, key: str) -> bytes:
            body = json.loads(original(request, seen, key))
            body["next"] = "http://evil.test/v2/steal"
            return json.dumps(body).encode()

        self.hub._page = elsewhere  # type: ignore[method-assign]
        self.failureResultOf(client.get_tags("ubuntu", ex_page_size=1), MalformedResponseError)

    def test_bad_names_are_refused_before_any_request(self) -> None:
        client = self.client()
        for name in ("Ubuntu", "a/b/c", "", "ubuntu:22.04"):
            self.assertRaises(InvalidArgumentError, client.get_repository, name)
        self.assertRaises(InvalidArgumentError, client.get_repository, "bitnami/redis", "other")
        self.assertRaises(InvalidArgumentError, client.get_image, "ubuntu", "bad tag")
        self.assertRaises(InvalidArgumentError, client.get_tags, "ubuntu", ex_page_size=101)
        self.assertRaises(InvalidArgumentError, HubClient, "alice")
        self.assertEqual(self.hub.seen, [])


# A Distribution registry behind a token server


class FakeRegistry(Resource):
    """
    Serves the Distribution API on ``registry.test`` and its token server on
    ``auth.test``: without a valid token for the scope a request is answered
    401 with a ``Bearer`` challenge.
    """

    isLeaf = True

    def __init__(self, realm: str = "http://auth.test/token") -> None:
        super().__init__()
        self.realm = realm
        self.repositories = {"alpha": ["1", "2", "3"], "beta": ["1"], "team/web": ["2.1"]}
        self.manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": MANIFEST_TYPES[0], "layers": []}
        ).encode()
        self.accounts = {"bob": "registry-pass"}
        self.tokens: dict[str, str] = {}  # token -> scope
        self.challenge = "bearer"
        self.send_digest = True
        self.seen: list[Seen] = []

    def render(self, request: ServerRequest) -> bytes:
        seen = _seen(request)
        self.seen.append(seen)
        if seen.host == "auth.test" or seen.path == "/token":
            return self._token(request, seen)
        scope = self._scope(seen.path)
        authorization = seen.headers.get("authorization", "")
        if self.challenge == "basic":
            allowed = authorization == "Basic " + base64.b64encode(b"bob:registry-pass").decode()
        else:
            allowed = self.tokens.get(authorization.removeprefix("Bearer ")) == scope
        if not allowed:
            header = (
                'Basic realm="fake registry"'
                if self.challenge == "basic"
                else f'Bearer realm="{self.realm}",service="registry.test",scope="{scope}"'
            )
            request.setHeader("WWW-Authenticate", header)
            return _json(request, 401, {"errors": [{"code": "UNAUTHORIZED", "message": "auth"}]})
        return self._serve(request, seen)

    @staticmethod
    def _scope(path: str) -> str:
        if path == "/v2/_catalog":
            return "registry:catalog:*"
        name = path.removeprefix("/v2/").rsplit("/", 2)[0]
        return f"repository:{name}:pull"

    def _token(self, request: ServerRequest, seen: Seen) -> bytes:
        authorization = seen.headers.get("authorization")
        if authorization is not None:
            user, _, password = base64.b64decode(authorization.split()[1]).decode().partition(":")
            if self.accounts.get(user) != password:
                return _json(request, 401, {"details": "incorrect username or password"})
        token = f"token-{len(self.tokens) + 1}"
        self.tokens[token] = seen.param("scope") or ""
        return _json(request, 200, {"token": token, "expires_in": 300, "issued_at": "now"})

    def _page(self, request: ServerRequest, seen: Seen, key: str, items: list[str]) -> bytes:
        size = int(seen.param("n") or 1000)
        last = seen.param("last")
        start = items.index(last) + 1 if last else 0
        page = items[start : start + size]
        if start + size < len(items):
            query = urlencode({"n": size, "last": page[-1]})
            request.setHeader("Link", f'<{seen.path}?{query}>; rel="next"')
        return _json(
            request,
            200,
            {key: page} if key == "repositories" else {"name": seen.path.split("/")[2], key: page},
        )

    def _serve(self, request: ServerRequest, seen: Seen) -> bytes:
        if seen.path == "/v2/_catalog":
            return self._page(request, seen, "repositories", sorted(self.repositories))
        name, kind, reference = seen.path.removeprefix("/v2/").rsplit("/", 2)
        if name not in self.repositories:
            return _json(
                request,
                404,
                {
                    "errors": [
                        {"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}
                    ]
                },
            )
        if (kind, reference) == ("tags", "list"):
            return self._page(request, seen, "tags", self.repositories[name])
        if kind == "manifests" and reference in self.repositories[name]:
            request.setHeader("Content-Type", MANIFEST_TYPES[0])
            if self.send_digest:
                request.setHeader("Docker-Content-Digest", DIGEST)
            return b"" if seen.method == "HEAD" else self.manifest
        return _json(
            request, 404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
        )


class RegistryClientTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.registry = FakeRegistry()

    def client(self, *credentials: str, host: str = "http://registry.test") -> RegistryClient:
        client = RegistryClient(
            host, *credentials, reactor=self.clock, ex_agent=RequestTraversalAgent(self.registry)
        )
        self.addCleanup(client.close)
        return client

    def test_bearer_challenge_is_answered_with_a_token(self) -> None:
        tags = self.successResultOf(self.client("bob", "registry-pass").get_tags("alpha"))
        self.assertEqual(tags, ["1", "2", "3"])
        refused, token, retried = self.registry.seen
        self.assertNotIn("authorization", refused.headers)
        self.assertEqual((token.host, token.path), ("auth.test", "/token"))
        self.assertEqual(
            token.query,
            {
                "service": ["registry.test"],
                "scope": ["repository:alpha:pull"],
                "account": ["bob"],
            },
        )
        self.assertEqual(
            token.headers["authorization"],
            "Basic " + base64.b64encode(b"bob:registry-pass").decode(),
        )
        self.assertEqual(retried.headers["authorization"], "Bearer token-1")

    def test_token_is_kept_for_its_scope_until_it_expires(self) -> None:
        client = self.client("bob", "registry-pass")
        self.successResultOf(client.get_tags("alpha"))
        self.successResultOf(client.get_tags("alpha"))
        self.assertEqual(len(self.registry.seen), 4)  # no second challenge
        self.successResultOf(client.get_tags("beta"))  # another scope, another token
        self.assertEqual(len(self.registry.tokens), 2)
        self.clock.advance(301)
        self.successResultOf(client.get_tags("alpha"))
        self.assertEqual(len(self.registry.tokens), 3)

    def test_anonymous_token_sends_no_credentials(self) -> None:
        self.successResultOf(self.client().get_tags("alpha"))
        token = self.registry.seen[1]
        self.assertNotIn("authorization", token.headers)
        self.assertNotIn("account", token.query)

    def test_refused_credentials_at_the_token_server(self) -> None:
        d = self.client("bob", "wrong").get_tags("alpha")
        exc = self.failureResultOf(d, InvalidCredsError).value
        self.assertNotIn("wrong", str(exc))

    def test_token_not_accepted_is_invalid_credentials(self) -> None:
        self.registry.tokens = _Forgetful()
        self.failureResultOf(self.client().get_tags("alpha"), InvalidCredsError)
        # Refused, token, refused again: one challenge is answered, not more.
        self.assertEqual(
            [s.host for s in self.registry.seen], ["registry.test", "auth.test", "registry.test"]
        )

    def test_basic_challenge_is_answered_then_credentials_are_sent_at_once(self) -> None:
        self.registry.challenge = "basic"
        client = self.client("bob", "registry-pass")
        self.successResultOf(client.get_tags("alpha"))
        self.successResultOf(client.get_catalog())
        self.assertEqual(
            ["authorization" in seen.headers for seen in self.registry.seen], [False, True, True]
        )

    def test_basic_challenge_without_credentials(self) -> None:
        self.registry.challenge = "basic"
        self.failureResultOf(self.client().get_tags("alpha"), InvalidCredsError)

    def test_plain_http_token_server_for_an_https_registry_is_refused(self) -> None:
        client = self.client("bob", "registry-pass", host="registry.test")
        self.assertEqual(client.endpoint, "https://registry.test")
        self.failureResultOf(client.get_tags("alpha"), MalformedResponseError)
        self.assertEqual([s.host for s in self.registry.seen], ["registry.test"])

    def test_catalog_follows_link_pages(self) -> None:
        catalog = self.successResultOf(self.client().get_catalog(ex_page_size=2))
        self.assertEqual(catalog, ["alpha", "beta", "team/web"])
        pages = [s for s in self.registry.seen if s.path == "/v2/_catalog"]
        self.assertEqual(
            [(p.param("n"), p.param("last")) for p in pages][-2:], [("2", None), ("2", "beta")]
        )

    def test_link_to_another_server_is_refused(self) -> None:
        original = self.registry._page

        def elsewhere(request: ServerRequest, seen: Seen, key: str, items: list[str]) -> bytes:
            body = original(request, seen, key, items)
            request.setHeader("Link", '<http://evil.test/v2/_catalog?n=1>; rel="next"')
            return body

        self.registry._page = elsewhere  # type: ignore[method-assign]
        self.failureResultOf(self.client().get_catalog(ex_page_size=1), MalformedResponseError)

    def test_manifest_digest_comes_from_a_head_request(self) -> None:
        digest = self.successResultOf(self.client().get_manifest_digest("team/web", "2.1"))
        self.assertEqual(digest, DIGEST)
        head = self.registry.seen[-1]
        self.assertEqual((head.method, head.path), ("HEAD", "/v2/team/web/manifests/2.1"))
        self.assertEqual(head.headers["accept"], ", ".join(MANIFEST_TYPES))

    def test_manifest_digest_without_the_header_is_the_manifest_hash(self) -> None:
        self.registry.send_digest = False
        digest = self.successResultOf(self.client().get_manifest_digest("team/web", "2.1"))
        self.assertEqual(digest, "sha256:" + hashlib.sha256(self.registry.manifest).hexdigest())
        self.assertEqual([s.method for s in self.registry.seen][-2:], ["HEAD", "GET"])

    def test_get_image_names_the_registry(self) -> None:
        client = self.client(host="http://registry.test:5000")
        image = self.successResultOf(client.get_image("team/web", "2.1"))
        self.assertEqual(
            (image.id, image.path, image.name, image.version),
            (DIGEST, "registry.test:5000/team/web:2.1", "registry.test:5000/team/web:2.1", "2.1"),
        )
        self.assertEqual(
            image.extra,
            {
                "digest": DIGEST,
                "registry": "registry.test:5000",
                "repository": "team/web",
                "media_type": MANIFEST_TYPES[0],
            },
        )

    def test_missing_repository_and_manifest_are_image_not_found(self) -> None:
        client = self.client()
        exc = self.failureResultOf(client.get_tags("nope"), ContainerImageNotFoundError).value
        self.assertEqual(exc.code, "NAME_UNKNOWN")
        d = client.get_manifest_digest("alpha", "9")
        self.failureResultOf(d, ContainerImageNotFoundError)

    def test_hosts_are_read_as_registries_write_them(self) -> None:
        cases = {
            "127.0.0.1:5000": "https://127.0.0.1:5000",
            "http://127.0.0.1:5000": "http://127.0.0.1:5000",
            "registry.example.com": "https://registry.example.com",
        }
        for host, endpoint in cases.items():
            self.assertEqual(RegistryClient(host).endpoint, endpoint)
        self.assertEqual(RegistryClient("127.0.0.1:5000").registry, "127.0.0.1:5000")

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        client = self.client()
        for name in ("UPPER", "alpha:1", "", "a//b"):
            self.assertRaises(InvalidArgumentError, client.get_tags, name)
        self.assertRaises(InvalidArgumentError, client.get_manifest_digest, "alpha", "bad tag")
        self.assertRaises(InvalidArgumentError, client.get_catalog, ex_page_size=0)
        for host in ("", "ftp://r.example", "user:pw@r.example", "r.example/path"):
            self.assertRaises(InvalidArgumentError, RegistryClient, host)
        self.assertEqual(self.registry.seen, [])


class _Forgetful(dict[str, str]):
    """A token store that issues tokens and then forgets them."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default


# The real registry


class RealRegistryTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        self.seeded = await seed()
        self.client = RegistryClient(f"http://127.0.0.1:{registry.port}")
        self.addCleanup(self.client.close)

    def test_catalog_one_page_at_a_time(self) -> Deferred[None]:
        async def check() -> None:
            everything = await self.client.get_catalog()
            self.assertEqual(everything, ["busybox", "busybox-copy"])
            self.assertEqual(await self.client.get_catalog(ex_page_size=1), everything)

        return Deferred.fromCoroutine(check())

    def test_tags(self) -> Deferred[None]:
        # Distribution 2.8 lists tags in one page, in no set order (the
        # fake registry tests paging through tags).
        async def check() -> None:
            self.assertEqual(sorted(await self.client.get_tags("busybox")), ["1", "2"])

        return Deferred.fromCoroutine(check())

    def test_manifest_digest_is_the_pushed_one(self) -> Deferred[None]:
        async def check() -> None:
            digest = await self.client.get_manifest_digest("busybox", "1")
            self.assertEqual(digest, self.seeded.digest)
            self.assertTrue(digest.startswith("sha256:"))

        return Deferred.fromCoroutine(check())

    def test_image_path_installs_with_the_docker_driver(self) -> Deferred[None]:
        async def check() -> None:
            image = await self.client.get_image("busybox", "2")
            self.assertEqual(image.path, f"{self.seeded.registry}/busybox:2")
            docker = DockerContainerDriver(host=f"unix://{dockerd.socket_path}")
            self.addCleanup(docker.close)
            installed = await docker.install_image(image.path)
            self.assertEqual(installed.id, self.seeded.image_id)
            self.assertIn(
                f"{self.seeded.registry}/busybox@{image.id}", installed.extra["repo_digests"]
            )

        return Deferred.fromCoroutine(check())

    def test_missing_repository_and_tag(self) -> Deferred[None]:
        async def check() -> None:
            with self.assertRaises(ContainerImageNotFoundError):
                await self.client.get_tags("no-such-repository")
            with self.assertRaises(ContainerImageNotFoundError):
                await self.client.get_manifest_digest("busybox", "no-such-tag")

        return Deferred.fromCoroutine(check())


class HtpasswdRegistryTests(TestCase):
    timeout = 60

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return auth_registry.ensure_started()

    def client(self, *credentials: str) -> RegistryClient:
        client = RegistryClient(f"http://127.0.0.1:{auth_registry.port}", *credentials)
        self.addCleanup(client.close)
        return client

    def test_basic_credentials_are_accepted(self) -> Deferred[None]:
        d = self.client(REGISTRY_USER, REGISTRY_PASSWORD).get_catalog()
        return d.addCallback(self.assertEqual, [])

    def test_no_credentials_is_refused(self) -> Deferred[Any]:
        return self.assertFailure(self.client().get_catalog(), InvalidCredsError)

    def test_wrong_password_is_refused(self) -> Deferred[Any]:
        d = self.assertFailure(self.client(REGISTRY_USER, "wrong").get_catalog(), InvalidCredsError)
        return d.addCallback(lambda e: self.assertNotIn("wrong", str(e)))
