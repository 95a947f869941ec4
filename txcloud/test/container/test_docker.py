"""
Unit tests of the Docker driver against an in-memory Docker engine (a
twisted.web resource behind treq's RequestTraversalAgent) on a Clock, and of
its parts: engine addresses, image references, progress streams and log
frames.  The fake's documents follow the Engine API 1.41 reference; what it
answers is scripted per method and path (the path without ``/vX.Y``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
from treq.testing import RequestTraversalAgent
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site
from twisted.web.server import Request as ServerRequest

from txcloud.container.base import Container
from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.docker.config import container_body
from txcloud.container.drivers.docker.host import DEFAULT_HOST, EngineAddress, engine_address
from txcloud.container.drivers.docker.parse import (
    container_state,
    parse_reference,
    to_container,
    to_image,
)
from txcloud.container.drivers.docker.stream import LogDecoder, LogStream
from txcloud.container.providers import get_driver
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import (
    ContainerImageNotFoundError,
    ContainerNotFoundError,
    InvalidArgumentError,
    InvalidCredsError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    PermissionDeniedError,
    ProviderError,
    RequestTimeoutError,
    ResourceConflictError,
    ServiceUnavailableError,
    UnsupportedAPIVersionError,
)
from txcloud.http import HTTPTransport, Request, RetryPolicy, UNIXSocketAgent

CONTAINER_ID = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2"
IMAGE_ID = "sha256:c1bfd0a3a0df0ec84fbb1955dc88a37dba16485f641f46e39adeeb2e9995af3a"

_VERSIONED = re.compile(r"/v(\d+\.\d+)(/.*)\Z")


@attrs.frozen
class Reply:
    """A scripted answer: a status, a JSON document or bytes, headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = attrs.field(factory=dict)
    #: Keep the response open: the test writes to it (``engine.streams``).
    stream: bool = False


@attrs.frozen
class Call:
    """One request as the fake engine saw it."""

    method: str
    path: str
    version: str | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


def error(status: int, message: str) -> Reply:
    return Reply(status, {"message": message})


def lines(*documents: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(d).encode() + b"\r\n" for d in documents)


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def container_listing(
    state: str = "running", status: str = "Up 2 minutes", **fields: Any
) -> dict[str, Any]:
    return {
        "Id": CONTAINER_ID,
        "Names": ["/web"],
        "Image": "local/busybox:1",
        "ImageID": IMAGE_ID,
        "Command": "sh -c 'echo hello; sleep 300'",
        "Created": 1700000000,
        "Ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"}],
        "Labels": {"team": "web"},
        "State": state,
        "Status": status,
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkSettings": {
            "Networks": {
                "bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": ""},
            }
        },
        "Mounts": [],
        **fields,
    }


def container_inspection(status: str = "running", tty: bool = False, **fields: Any) -> dict:
    return {
        "Id": CONTAINER_ID,
        "Created": "2023-11-14T22:13:20.123456789Z",
        "Path": "sh",
        "Args": ["-c", "echo hello; sleep 300"],
        "State": {
            "Status": status,
            "Running": status == "running",
            "ExitCode": 0,
            "StartedAt": "2023-11-14T22:13:21.5Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
        },
        "Image": IMAGE_ID,
        "Name": "/web",
        "Config": {"Image": "local/busybox:1", "Tty": tty, "Labels": {"team": "web"}},
        "HostConfig": {"NetworkMode": "none"},
        "NetworkSettings": {"Networks": {"none": {"IPAddress": ""}}},
        **fields,
    }


def image_document(**fields: Any) -> dict[str, Any]:
    return {
        "Id": IMAGE_ID,
        "RepoTags": ["local/busybox:1", "127.0.0.1:5000/busybox:1"],
        "RepoDigests": ["127.0.0.1:5000/busybox@sha256:" + "6d" * 32],
        "Created": "2023-11-14T22:13:20.5Z",
        "Size": 1982284,
        "VirtualSize": 1982284,
        "Config": {"Labels": {"origin": "busybox-static"}},
        **fields,
    }


class FakeEngine(Resource):
    """
    Answers each ``(method, path)`` (the path without its ``/vX.Y`` prefix)
    with the replies scripted for it, in order; ``GET /version`` answers
    with :attr:`version` unless scripted.
    """

    isLeaf = True

    def __init__(self, api_version: str = "1.41") -> None:
        super().__init__()
        self.version = {"ApiVersion": api_version, "MinAPIVersion": "1.12", "Version": "20.10.24"}
        self.replies: dict[tuple[str, str], list[Reply]] = {}
        self.calls: list[Call] = []
        self.streams: list[ServerRequest] = []

    def script(self, method: str, path: str, *replies: Reply | Any) -> None:
        queue = self.replies.setdefault((method, path), [])
        queue.extend(r if isinstance(r, Reply) else Reply(200, r) for r in replies)

    def paths(self) -> list[str]:
        return [f"{call.method} {call.path}" for call in self.calls]

    def last(self, method: str, path: str) -> Call:
        return [c for c in self.calls if (c.method, c.path) == (method, path)][-1]

    def render(self, request: ServerRequest) -> Any:
        uri = urlsplit(request.uri.decode())
        match = _VERSIONED.match(uri.path)
        version, path = (match[1], match[2]) if match else (None, uri.path)
        method = request.method.decode()
        self.calls.append(
            Call(
                method=method,
                path=path,
                version=version,
                query=parse_qs(uri.query),
                headers={
                    name.decode().lower(): values[0].decode()
                    for name, values in request.requestHeaders.getAllRawHeaders()
                },
                body=request.content.read() if request.content else b"",
            )
        )
        queue = self.replies.get((method, path))
        if queue:
            reply = queue.pop(0)
        elif (method, path) == ("GET", "/version"):
            reply = Reply(200, self.version)
        else:
            reply = error(418, f"nothing scripted for {method} {path}")
        request.setResponseCode(reply.status)
        for name, value in reply.headers.items():
            request.setHeader(name, value)
        body = reply.body
        if body is not None and not isinstance(body, bytes):
            request.setHeader("Content-Type", "application/json")
            body = json.dumps(body).encode()
        if reply.stream:
            if body:
                request.write(body)
            self.streams.append(request)
            return NOT_DONE_YET
        return body or b""


# The tests


def make_driver(
    test: Any, engine: Resource, **options: Any
) -> tuple[DockerContainerDriver, RequestTraversalAgent]:
    agent = RequestTraversalAgent(engine)
    options.setdefault("host", "unix:///var/run/docker.sock")
    options.setdefault("ex_environ", {})
    options.setdefault("ex_retry", RetryPolicy(max_attempts=3, base_delay=1.0, jitter=lambda c: c))
    driver = DockerContainerDriver(reactor=test.clock, ex_agent=agent, **options)
    test.addCleanup(driver.close)
    return driver, agent


class DockerTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.engine = FakeEngine()
        self.driver, self.agent = make_driver(self, self.engine)

    def failure_of(self, d: Deferred[Any], kind: type[Exception]) -> Any:
        return self.failureResultOf(d, kind).value

    def sample_container(self, tty: bool | None = None) -> Container:
        container = to_container(self.driver, container_listing())
        if tty is not None:
            container.extra["tty"] = tty
        return container


class EngineAddressTests(SynchronousTestCase):
    def address(self, host: str | None = None, environ: dict[str, str] | None = None, **kw: Any):
        options: dict[str, Any] = {"port": None, "secure": False, "key_file": None}
        options["cert_file"] = None
        options.update(kw)
        return engine_address(
            host,
            options["port"],
            options["secure"],
            options["key_file"],
            options["cert_file"],
            kw.get("ca_cert"),
            environ or {},
        )

    def test_default_is_the_local_socket(self) -> None:
        self.assertEqual(self.address(), EngineAddress(socket_path="/var/run/docker.sock"))
        self.assertEqual(DEFAULT_HOST, "unix:///var/run/docker.sock")

    def test_docker_host_names_the_engine_when_no_host_is_given(self) -> None:
        address = self.address(environ={"DOCKER_HOST": "tcp://10.0.0.5:2375"})
        self.assertEqual(address, EngineAddress(host="10.0.0.5", port=2375, secure=False))

    def test_docker_host_is_ignored_when_a_host_is_given(self) -> None:
        address = self.address("unix:///run/other.sock", {"DOCKER_HOST": "tcp://10.0.0.5:2375"})
        self.assertEqual(address.socket_path, "/run/other.sock")

    def test_tls_verify_takes_the_certificates_from_docker_cert_path(self) -> None:
        environ = {
            "DOCKER_HOST": "tcp://engine.example",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": "/certs",
        }
        self.assertEqual(
            self.address(environ=environ),
            EngineAddress(
                host="engine.example",
                port=2376,
                secure=True,
                ca_file="/certs/ca.pem",
                cert_file="/certs/cert.pem",
                key_file="/certs/key.pem",
            ),
        )

    def test_cert_path_defaults_to_the_home_docker_folder(self) -> None:
        environ = {"DOCKER_HOST": "tcp://e:2376", "DOCKER_TLS_VERIFY": "1", "HOME": "/home/u"}
        self.assertEqual(self.address(environ=environ).ca_file, "/home/u/.docker/ca.pem")

    def test_explicit_files_win_over_the_environment(self) -> None:
        environ = {"DOCKER_HOST": "tcp://e", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/c"}
        address = self.address(environ=environ, key_file="/mine/k.pem", cert_file="/mine/c.pem")
        self.assertEqual((address.key_file, address.cert_file), ("/mine/k.pem", "/mine/c.pem"))
        self.assertEqual(address.ca_file, "/c/ca.pem")

    def test_tls_verify_does_not_apply_to_a_socket(self) -> None:
        environ = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/c"}
        self.assertEqual(self.address(environ=environ).socket_path, "/var/run/docker.sock")

    def test_client_certificate_turns_tls_on_with_port_2376(self) -> None:
        address = self.address("10.0.0.5", key_file="k.pem", cert_file="c.pem")
        self.assertEqual((address.secure, address.port), (True, 2376))

    def test_plain_host_uses_port_2375(self) -> None:
        self.assertEqual(self.address("127.0.0.1"), EngineAddress(host="127.0.0.1", port=2375))

    def test_libcloud_style_https_host_turns_tls_on(self) -> None:
        address = self.address("https://engine.example", port=4243)
        self.assertEqual(
            (address.host, address.port, address.secure), ("engine.example", 4243, True)
        )

    def test_ipv6_host_in_brackets(self) -> None:
        address = self.address("tcp://[::1]:2375")
        self.assertEqual((address.host, address.url), ("::1", "tcp://[::1]:2375"))

    def test_key_without_certificate_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.address, "127.0.0.1", key_file="k.pem")

    def test_socket_with_a_port_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.address, "unix:///s.sock", port=2375)

    def test_relative_socket_path_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.address, "unix://docker.sock")

    def test_unsupported_schemes_are_refused(self) -> None:
        for host in ("ssh://user@host", "npipe:////./pipe/docker_engine", "tcp://h:99999"):
            self.assertRaises(InvalidArgumentError, self.address, host)


class ConstructorTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()

    def pem_files(self) -> tuple[str, str, str]:
        folder = self.mktemp()
        os.makedirs(folder)
        paths = []
        for name in ("ca.pem", "cert.pem", "key.pem"):
            path = os.path.join(folder, name)
            with open(path, "w") as f:
                f.write("placeholder\n")
            paths.append(path)
        return paths[0], paths[1], paths[2]

    def test_registered_as_the_docker_provider(self) -> None:
        self.assertIs(get_driver(Provider.DOCKER), DockerContainerDriver)
        self.assertEqual(
            (DockerContainerDriver.name, DockerContainerDriver.type), ("Docker", "docker")
        )

    def test_socket_driver_talks_to_http_docker(self) -> None:
        driver = DockerContainerDriver(ex_environ={}, reactor=self.clock)
        self.assertEqual(driver.endpoint, "http://docker")
        self.assertEqual(driver.host, "unix:///var/run/docker.sock")
        self.assertIn("unix:///var/run/docker.sock", repr(driver))

    def test_tcp_driver_endpoint(self) -> None:
        driver = DockerContainerDriver(host="127.0.0.1", port=2375, ex_environ={})
        self.assertEqual(driver.endpoint, "http://127.0.0.1:2375")

    def test_tls_driver_endpoint_and_files(self) -> None:
        ca, cert, key = self.pem_files()
        driver = DockerContainerDriver(
            host="engine.example", key_file=key, cert_file=cert, ca_cert=ca, ex_environ={}
        )
        self.assertEqual(driver.endpoint, "https://engine.example:2376")
        self.assertEqual(
            (driver.address.ca_file, driver.address.cert_file, driver.address.key_file),
            (ca, cert, key),
        )

    def test_missing_tls_file_is_refused_at_once(self) -> None:
        ca, cert, _ = self.pem_files()
        with self.assertRaises(InvalidArgumentError) as raised:
            DockerContainerDriver(
                host="e", key_file="/nowhere/key.pem", cert_file=cert, ca_cert=ca, ex_environ={}
            )
        self.assertIn("/nowhere/key.pem", str(raised.exception))

    def test_region_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, DockerContainerDriver, region="eu", ex_environ={})

    def test_key_without_secret_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, DockerContainerDriver, "user", ex_environ={})

    def test_repr_never_shows_the_secret(self) -> None:
        driver = DockerContainerDriver("user", "s3cr3t-pass", host="127.0.0.1", ex_environ={})
        self.assertNotIn("s3cr3t-pass", repr(driver))


class ProtocolTests(DockerTestCase):
    def test_api_version_is_agreed_once_from_the_engine(self) -> None:
        self.engine.script("GET", "/containers/json", [], [])
        self.successResultOf(self.driver.list_containers())
        self.successResultOf(self.driver.list_containers())
        self.assertEqual(
            self.engine.paths(), ["GET /version", "GET /containers/json", "GET /containers/json"]
        )
        self.assertEqual(self.engine.calls[0].version, None)
        self.assertEqual([c.version for c in self.engine.calls[1:]], ["1.41", "1.41"])

    def test_concurrent_first_calls_share_one_version_request(self) -> None:
        engine = FakeEngine()
        engine.script("GET", "/version", Reply(200, engine.version, stream=True))
        engine.script("GET", "/images/json", [], [])
        driver, agent = make_driver(self, engine)
        first, second = driver.list_images(), driver.list_images()
        agent.flush()
        [version] = engine.streams
        version.finish()
        agent.flush()
        self.assertEqual(self.successResultOf(first), [])
        self.assertEqual(self.successResultOf(second), [])
        self.assertEqual(engine.paths().count("GET /version"), 1)

    def test_newer_engine_is_spoken_to_in_the_newest_version_supported(self) -> None:
        engine = FakeEngine(api_version="1.47")
        engine.script("GET", "/containers/json", [])
        driver, _ = make_driver(self, engine)
        self.assertEqual(self.successResultOf(driver.ex_get_api_version()), "1.45")
        self.successResultOf(driver.list_containers())
        self.assertEqual(engine.calls[-1].version, "1.45")

    def test_engine_between_the_bounds_is_spoken_to_in_its_version(self) -> None:
        driver, _ = make_driver(self, FakeEngine(api_version="1.43"))
        self.assertEqual(self.successResultOf(driver.ex_get_api_version()), "1.43")

    def test_engine_older_than_1_41_is_refused(self) -> None:
        engine = FakeEngine(api_version="1.40")
        driver, _ = make_driver(self, engine)
        exc = self.failure_of(driver.list_containers(), UnsupportedAPIVersionError)
        self.assertIn("speaks API 1.40", str(exc))
        self.assertIn("needs 1.41 or later", str(exc))
        self.assertEqual(engine.paths(), ["GET /version"])

    def test_unreadable_version_is_malformed(self) -> None:
        self.engine.script("GET", "/version", {"ApiVersion": "one.forty"})
        self.failure_of(self.driver.list_images(), MalformedResponseError)

    def test_basic_authentication_when_key_and_secret_are_given(self) -> None:
        engine = FakeEngine()
        engine.script("GET", "/images/json", [])
        driver, _ = make_driver(self, engine, key="user", secret="pass")
        self.successResultOf(driver.list_images())
        expected = "Basic " + base64.b64encode(b"user:pass").decode()
        self.assertEqual(engine.calls[-1].headers["authorization"], expected)

    def test_no_authorization_without_credentials(self) -> None:
        self.engine.script("GET", "/images/json", [])
        self.successResultOf(self.driver.list_images())
        self.assertNotIn("authorization", self.engine.calls[-1].headers)

    def test_requests_go_to_the_socket_host(self) -> None:
        self.engine.script("GET", "/images/json", [])
        self.successResultOf(self.driver.list_images())
        self.assertEqual(self.engine.calls[-1].headers["host"], "docker")


class ErrorMappingTests(DockerTestCase):
    def test_missing_container_is_container_not_found(self) -> None:
        self.engine.script("GET", "/containers/gone/json", error(404, "No such container: gone"))
        exc = self.failure_of(self.driver.get_container("gone"), ContainerNotFoundError)
        self.assertEqual(exc.status, 404)
        self.assertIn("No such container: gone", exc.message)
        self.assertEqual(exc.driver_name, "Docker")

    def test_missing_image_is_image_not_found(self) -> None:
        self.engine.script(
            "GET", "/images/nope:1/json", error(404, "no such image: nope:1: No such image")
        )
        self.failure_of(self.driver.ex_get_image("nope:1"), ContainerImageNotFoundError)

    def test_creating_from_a_missing_image_is_image_not_found(self) -> None:
        self.engine.script("POST", "/containers/create", error(404, "No such image: nope:1"))
        d = self.driver.deploy_container("web", "nope:1")
        self.failure_of(d, ContainerImageNotFoundError)

    def test_conflict_is_resource_conflict(self) -> None:
        message = 'Conflict. The container name "/web" is already in use by container "4fa6"'
        self.engine.script("POST", "/containers/create", error(409, message))
        exc = self.failure_of(self.driver.deploy_container("web", "busybox"), ResourceConflictError)
        self.assertEqual(exc.status, 409)
        self.assertIn("already in use", exc.message)

    def test_bad_parameter_is_invalid_request(self) -> None:
        self.engine.script("POST", "/containers/create", error(400, "invalid reference format"))
        self.failure_of(self.driver.deploy_container("web", "busybox"), InvalidRequestError)

    def test_401_is_invalid_credentials_and_403_permission_denied(self) -> None:
        self.engine.script("GET", "/images/json", error(401, "unauthorized"), error(403, "no"))
        self.failure_of(self.driver.list_images(), InvalidCredsError)
        self.failure_of(self.driver.list_images(), PermissionDeniedError)

    def test_engine_failure_is_a_provider_error_and_not_retried(self) -> None:
        message = 'Get "https://index.docker.io/v1/search?q=x&n=25": dial tcp: no such host'
        self.engine.script("GET", "/images/search", error(500, message))
        exc = self.failure_of(self.driver.ex_search_images("x"), ProviderError)
        self.assertNotIsInstance(exc, ServiceUnavailableError)
        self.assertIn("no such host", exc.message)
        self.assertEqual(self.engine.paths().count("GET /images/search"), 1)

    def test_unavailable_engine_is_retried_for_reads(self) -> None:
        self.engine.script("GET", "/images/json", error(503, "busy"), [])
        d = self.driver.list_images()
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d), [])

    def test_changes_are_not_retried(self) -> None:
        self.engine.script("POST", f"/containers/{CONTAINER_ID}/start", error(503, "busy"))
        self.failure_of(self.driver.start_container(CONTAINER_ID), ServiceUnavailableError)
        self.assertEqual(self.engine.paths().count(f"POST /containers/{CONTAINER_ID}/start"), 1)


class ImageTests(DockerTestCase):
    def test_install_image_pulls_the_tag_and_inspects_the_result(self) -> None:
        progress = lines(
            {"status": "Pulling from busybox", "id": "1"},
            {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "ab"},
            {"status": "Digest: sha256:" + "6d" * 32},
            {"status": "Status: Downloaded newer image for 127.0.0.1:5000/busybox:1"},
        )
        self.engine.script("POST", "/images/create", Reply(200, progress))
        self.engine.script("GET", "/images/127.0.0.1:5000/busybox:1/json", image_document())
        image = self.successResultOf(self.driver.install_image("127.0.0.1:5000/busybox:1"))
        pull = self.engine.last("POST", "/images/create")
        self.assertEqual(
            (pull.param("fromImage"), pull.param("tag")), ("127.0.0.1:5000/busybox", "1")
        )
        self.assertEqual(base64.urlsafe_b64decode(pull.headers["x-registry-auth"]), b"{}")
        self.assertEqual(
            (image.id, image.name, image.path, image.version),
            (IMAGE_ID, "127.0.0.1:5000/busybox:1", "127.0.0.1:5000/busybox:1", "1"),
        )
        self.assertIs(image.driver, self.driver)

    def test_install_image_without_a_tag_pulls_latest(self) -> None:
        self.engine.script("POST", "/images/create", Reply(200, lines({"status": "done"})))
        self.engine.script("GET", "/images/busybox:latest/json", image_document())
        image = self.successResultOf(self.driver.install_image("busybox"))
        self.assertEqual(self.engine.last("POST", "/images/create").param("tag"), "latest")
        self.assertEqual(image.path, "busybox")

    def test_install_image_by_digest(self) -> None:
        digest = "sha256:" + "ab" * 32
        self.engine.script("POST", "/images/create", Reply(200, lines({"status": "done"})))
        self.engine.script("GET", f"/images/busybox@{digest}/json", image_document())
        self.successResultOf(self.driver.install_image(f"busybox@{digest}"))
        pull = self.engine.last("POST", "/images/create")
        self.assertEqual((pull.param("fromImage"), pull.param("tag")), ("busybox", digest))

    def test_registry_credentials_go_in_x_registry_auth(self) -> None:
        self.engine.script("POST", "/images/create", Reply(200, b""))
        self.engine.script("GET", "/images/private/web:2/json", image_document())
        auth = {"username": "u", "password": "p", "serveraddress": "registry.example"}
        self.successResultOf(self.driver.install_image("private/web:2", ex_registry_auth=auth))
        header = self.engine.last("POST", "/images/create").headers["x-registry-auth"]
        self.assertEqual(json.loads(base64.urlsafe_b64decode(header)), auth)

    def test_error_line_fails_the_pull_without_inspecting(self) -> None:
        progress = lines(
            {"status": "Pulling from team/web", "id": "2"},
            {
                "errorDetail": {"message": "unauthorized: authentication required"},
                "error": "unauthorized: authentication required",
            },
        )
        self.engine.script("POST", "/images/create", Reply(200, progress))
        exc = self.failure_of(self.driver.install_image("team/web:2"), InvalidCredsError)
        self.assertIn("pull of team/web:2 failed: unauthorized", exc.message)
        self.assertEqual(self.engine.paths(), ["GET /version", "POST /images/create"])

    def test_missing_manifest_midway_is_image_not_found(self) -> None:
        progress = lines({"error": "manifest for x:1 not found: manifest unknown"})
        self.engine.script("POST", "/images/create", Reply(200, progress))
        self.failure_of(self.driver.install_image("x:1"), ContainerImageNotFoundError)

    def test_other_error_lines_are_provider_errors(self) -> None:
        self.engine.script("POST", "/images/create", Reply(200, lines({"error": "disk full"})))
        exc = self.failure_of(self.driver.install_image("x:1"), ProviderError)
        self.assertIn("disk full", exc.message)

    def test_garbage_progress_line_is_malformed(self) -> None:
        self.engine.script("POST", "/images/create", Reply(200, b'{"status": "ok"}\nnot json\n'))
        self.failure_of(self.driver.install_image("x:1"), MalformedResponseError)

    def test_bad_reference_is_refused_before_any_request(self) -> None:
        for path in ("", "UPPER/case", "busybox:", "a b", None, "busybox:tag with space"):
            self.assertRaises(InvalidArgumentError, self.driver.install_image, path)
        self.assertEqual(self.engine.calls, [])

    def test_list_images(self) -> None:
        untagged = image_document(Id="sha256:" + "00" * 32, RepoTags=["<none>:<none>"], Created=1)
        self.engine.script("GET", "/images/json", [image_document(Created=1700000000), untagged])
        first, second = self.successResultOf(self.driver.list_images())
        self.assertEqual((first.name, first.path, first.version), ("local/busybox:1",) * 2 + ("1",))
        self.assertEqual(
            first.extra,
            {
                "created": "2023-11-14T22:13:20Z",
                "size": 1982284,
                "virtual_size": 1982284,
                "repo_tags": ["local/busybox:1", "127.0.0.1:5000/busybox:1"],
                "repo_digests": ["127.0.0.1:5000/busybox@sha256:" + "6d" * 32],
                "labels": {"origin": "busybox-static"},
            },
        )
        self.assertEqual((second.name, second.version), ("sha256:" + "00" * 32, None))

    def test_search_images(self) -> None:
        found = {
            "name": "busybox",
            "description": "Busybox base image.",
            "is_official": True,
            "is_automated": False,
            "star_count": 3000,
        }
        self.engine.script("GET", "/images/search", [found])
        [image] = self.successResultOf(self.driver.ex_search_images("busy box"))
        self.assertEqual(self.engine.last("GET", "/images/search").param("term"), "busy box")
        self.assertEqual((image.id, image.name, image.path), ("busybox",) * 3)
        self.assertEqual(
            image.extra,
            {
                "description": "Busybox base image.",
                "is_official": True,
                "is_trusted": False,
                "star_count": 3000,
            },
        )

    def test_import_sends_the_tarball(self) -> None:
        tarball = self.mktemp()
        with open(tarball, "wb") as f:
            f.write(b"tar bytes")
        self.engine.script("POST", "/images/create", Reply(200, lines({"status": IMAGE_ID})))
        self.engine.script("GET", "/images/local/busybox:1/json", image_document())
        image = self.successResultOf(self.driver.ex_import_image(tarball, "local/busybox", "1"))
        call = self.engine.last("POST", "/images/create")
        self.assertEqual(call.body, b"tar bytes")
        self.assertEqual(call.headers["content-type"], "application/x-tar")
        self.assertEqual(
            (call.param("fromSrc"), call.param("repo"), call.param("tag")),
            ("-", "local/busybox", "1"),
        )
        self.assertEqual(image.id, IMAGE_ID)

    def test_import_of_a_missing_file_is_refused_at_once(self) -> None:
        self.assertRaises(
            InvalidArgumentError, self.driver.ex_import_image, "/nowhere/x.tar", "local/x"
        )

    def test_tag_image(self) -> None:
        self.engine.script("POST", "/images/local/busybox:1/tag", Reply(201, b""))
        self.engine.script("GET", "/images/127.0.0.1:5000/busybox:1/json", image_document())
        image = self.successResultOf(
            self.driver.ex_tag_image("local/busybox:1", "127.0.0.1:5000/busybox", "1")
        )
        call = self.engine.last("POST", "/images/local/busybox:1/tag")
        self.assertEqual((call.param("repo"), call.param("tag")), ("127.0.0.1:5000/busybox", "1"))
        self.assertEqual(image.name, "127.0.0.1:5000/busybox:1")

    def test_push_returns_the_digest(self) -> None:
        digest = "sha256:" + "6d" * 32
        progress = lines(
            {"status": "The push refers to repository [127.0.0.1:5000/busybox]"},
            {"status": "Pushed", "progressDetail": {}, "id": "2aab0c3b6d4c"},
            {"progressDetail": {}, "aux": {"Tag": "1", "Digest": digest, "Size": 527}},
        )
        self.engine.script("POST", "/images/127.0.0.1:5000/busybox/push", Reply(200, progress))
        pushed = self.successResultOf(self.driver.ex_push_image("127.0.0.1:5000/busybox:1"))
        self.assertEqual(pushed, digest)
        call = self.engine.last("POST", "/images/127.0.0.1:5000/busybox/push")
        self.assertEqual(call.param("tag"), "1")
        self.assertEqual(base64.urlsafe_b64decode(call.headers["x-registry-auth"]), b"{}")

    def test_failed_push_is_an_error(self) -> None:
        message = "An image does not exist locally with the tag: 127.0.0.1:5000/busybox"
        progress = lines({"errorDetail": {"message": message}, "error": message})
        self.engine.script("POST", "/images/127.0.0.1:5000/busybox/push", Reply(200, progress))
        d = self.driver.ex_push_image("127.0.0.1:5000/busybox:1")
        self.failure_of(d, ContainerImageNotFoundError)

    def test_delete_image(self) -> None:
        self.engine.script("DELETE", "/images/local/busybox:1", [{"Untagged": "local/busybox:1"}])
        self.assertTrue(self.successResultOf(self.driver.ex_delete_image("local/busybox:1", True)))
        self.assertEqual(self.engine.last("DELETE", "/images/local/busybox:1").param("force"), "1")


class ContainerTests(DockerTestCase):
    def test_list_containers_all_by_default(self) -> None:
        self.engine.script("GET", "/containers/json", [container_listing()])
        [container] = self.successResultOf(self.driver.list_containers())
        call = self.engine.last("GET", "/containers/json")
        self.assertEqual(call.query, {"all": ["1"]})
        self.assertEqual(
            (container.id, container.name, container.state, container.ip_addresses),
            (CONTAINER_ID, "web", ContainerState.RUNNING, ["172.17.0.2"]),
        )
        self.assertEqual(
            (container.image.id, container.image.name, container.image.version),
            (IMAGE_ID, "local/busybox:1", "1"),
        )
        self.assertEqual(
            container.extra,
            {
                "id": CONTAINER_ID,
                "status": "Up 2 minutes",
                "state": "running",
                "created": "2023-11-14T22:13:20Z",
                "image": "local/busybox:1",
                "ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"}],
                "command": "sh -c 'echo hello; sleep 300'",
                "sizerw": None,
                "sizerootfs": None,
                "labels": {"team": "web"},
                "network_mode": "bridge",
            },
        )

    def test_container_of_an_untagged_image_names_it_by_id(self) -> None:
        listing = container_listing(Image=IMAGE_ID)
        self.engine.script("GET", "/containers/json", [listing])
        [container] = self.successResultOf(self.driver.list_containers())
        self.assertEqual((container.image.name, container.image.version), (IMAGE_ID, None))

    def test_list_running_containers_only(self) -> None:
        self.engine.script("GET", "/containers/json", [])
        self.successResultOf(self.driver.list_containers(all=False))
        self.assertEqual(self.engine.last("GET", "/containers/json").query, {})

    def test_list_containers_of_an_image_uses_the_ancestor_filter(self) -> None:
        self.engine.script("GET", "/containers/json", [], [])
        image = to_image(self.driver, image_document())
        self.successResultOf(self.driver.list_containers(image=image))
        self.successResultOf(self.driver.list_containers(image="busybox:1"))
        first, second = [c for c in self.engine.calls if c.path == "/containers/json"]
        self.assertEqual(json.loads(first.param("filters") or ""), {"ancestor": [IMAGE_ID]})
        self.assertEqual(json.loads(second.param("filters") or ""), {"ancestor": ["busybox:1"]})

    def test_states_map_to_container_states(self) -> None:
        expected = {
            "created": ContainerState.STOPPED,
            "running": ContainerState.RUNNING,
            "paused": ContainerState.PAUSED,
            "restarting": ContainerState.REBOOTING,
            "removing": ContainerState.TERMINATED,
            "exited": ContainerState.STOPPED,
            "dead": ContainerState.ERROR,
            "something new": ContainerState.UNKNOWN,
        }
        self.assertEqual({word: container_state(word) for word in expected}, expected)
        self.assertEqual(container_state(None), ContainerState.UNKNOWN)

    def test_get_container_reads_an_inspection(self) -> None:
        self.engine.script(
            "GET", f"/containers/{CONTAINER_ID}/json", container_inspection("exited", tty=True)
        )
        container = self.successResultOf(self.driver.get_container(CONTAINER_ID))
        self.assertEqual((container.name, container.state), ("web", ContainerState.STOPPED))
        self.assertEqual((container.image.id, container.image.name), (IMAGE_ID, "local/busybox:1"))
        self.assertEqual(container.ip_addresses, [])
        self.assertEqual(
            {k: container.extra[k] for k in ("status", "command", "network_mode", "tty")},
            {
                "status": "exited",
                "command": "sh -c 'echo hello; sleep 300'",
                "network_mode": "none",
                "tty": True,
            },
        )
        self.assertEqual(container.extra["created"], "2023-11-14T22:13:20.123456789Z")

    def test_container_without_an_id_is_malformed(self) -> None:
        self.engine.script("GET", "/containers/json", [{"Names": ["/x"]}])
        self.failure_of(self.driver.list_containers(), MalformedResponseError)

    def test_deploy_creates_starts_and_inspects(self) -> None:
        self.engine.script("POST", "/containers/create", Reply(201, {"Id": CONTAINER_ID}))
        self.engine.script("POST", f"/containers/{CONTAINER_ID}/start", Reply(204))
        self.engine.script("GET", f"/containers/{CONTAINER_ID}/json", container_inspection())
        image = to_image(self.driver, image_document())
        container = self.successResultOf(
            self.driver.deploy_container(
                "web",
                image,
                command="sh -c 'echo hello; sleep 300'",
                environment={"MODE": "test"},
                port_bindings={80: 8080},
                network_mode="none",
                labels={"team": "web"},
                mem_limit=64 * 1024 * 1024,
                dns=["10.0.0.2"],
                tty=False,
            )
        )
        self.assertEqual(container.state, ContainerState.RUNNING)
        self.assertEqual(
            self.engine.paths(),
            [
                "GET /version",
                "POST /containers/create",
                f"POST /containers/{CONTAINER_ID}/start",
                f"GET /containers/{CONTAINER_ID}/json",
            ],
        )
        create = self.engine.last("POST", "/containers/create")
        self.assertEqual(create.param("name"), "web")
        self.assertEqual(create.headers["content-type"], "application/json")
        self.assertEqual(
            create.json(),
            {
                "Image": "local/busybox:1",
                "Cmd": ["sh", "-c", "echo hello; sleep 300"],
                "Tty": False,
                "OpenStdin": True,
                "StdinOnce": False,
                "NetworkDisabled": False,
                "WorkingDir": "",
                "Env": ["MODE=test"],
                "Labels": {"team": "web"},
                "ExposedPorts": {"80/tcp": {}},
                "HostConfig": {
                    "NetworkMode": "none",
                    "Memory": 64 * 1024 * 1024,
                    "MemorySwap": 0,
                    "Dns": ["10.0.0.2"],
                    "PortBindings": {"80/tcp": [{"HostPort": "8080"}]},
                },
            },
        )

    def test_deploy_without_start_only_creates(self) -> None:
        self.engine.script("POST", "/containers/create", Reply(201, {"Id": CONTAINER_ID}))
        self.engine.script(
            "GET", f"/containers/{CONTAINER_ID}/json", container_inspection("created")
        )
        container = self.successResultOf(
            self.driver.deploy_container("web", "busybox", start=False)
        )
        self.assertEqual(container.state, ContainerState.STOPPED)
        self.assertNotIn(f"POST /containers/{CONTAINER_ID}/start", self.engine.paths())
        self.assertNotIn("Cmd", self.engine.last("POST", "/containers/create").json())

    def test_parameters_are_the_command_when_no_command_is_given(self) -> None:
        self.engine.script("POST", "/containers/create", Reply(201, {"Id": CONTAINER_ID}))
        self.engine.script("GET", f"/containers/{CONTAINER_ID}/json", container_inspection())
        self.successResultOf(
            self.driver.deploy_container("web", "busybox", parameters="sleep 60", start=False)
        )
        self.assertEqual(
            self.engine.last("POST", "/containers/create").json()["Cmd"], ["sleep", "60"]
        )

    def test_deploy_arguments_in_other_shapes(self) -> None:
        body = container_body(
            "busybox",
            command=["echo", "hi"],
            hostname="web1",
            user="nobody",
            stdin_open=False,
            tty=True,
            mem_limit=0,
            ports=[80, "53/udp"],
            environment=["A=1"],
            dns=None,
            volumes=["/data"],
            volumes_from=["store"],
            network_disabled=True,
            entrypoint="/bin/sh -c",
            cpu_shares=512,
            working_dir="/srv",
            domainname="example.org",
            memswap_limit=-1,
            port_bindings={"53/udp": [("127.0.0.1", 5353), {"HostPort": ""}]},
            network_mode="bridge",
            labels=None,
        )
        self.assertEqual(
            body,
            {
                "Image": "busybox",
                "Cmd": ["echo", "hi"],
                "Entrypoint": ["/bin/sh", "-c"],
                "Hostname": "web1",
                "Domainname": "example.org",
                "User": "nobody",
                "Tty": True,
                "OpenStdin": False,
                "StdinOnce": False,
                "NetworkDisabled": True,
                "WorkingDir": "/srv",
                "Env": ["A=1"],
                "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
                "Volumes": {"/data": {}},
                "HostConfig": {
                    "NetworkMode": "bridge",
                    "Memory": 0,
                    "MemorySwap": -1,
                    "CpuShares": 512,
                    "VolumesFrom": ["store"],
                    "PortBindings": {
                        "53/udp": [
                            {"HostIp": "127.0.0.1", "HostPort": "5353"},
                            {"HostPort": ""},
                        ]
                    },
                },
            },
        )

    def test_bad_deploy_arguments_are_refused_before_any_request(self) -> None:
        bad: list[dict[str, Any]] = [
            {"name": "x"},
            {"name": "has space"},
            {"command": "sh -c 'unclosed"},
            {"command": []},
            {"environment": ["NOEQUALS"]},
            {"environment": "A=1"},
            {"ports": [0]},
            {"ports": ["80/icmp"]},
            {"port_bindings": {80: 70000}},
            {"port_bindings": [80]},
            {"mem_limit": -1},
            {"memswap_limit": -2},
            {"tty": "yes"},
            {"labels": {"a": 1}},
            {"dns": "10.0.0.2"},
            {"cpu_shares": 1.5},
            {"start": "yes"},
            {"command": "a", "parameters": "b"},
        ]
        for arguments in bad:
            options = {"name": "web", "image": "busybox", **arguments}
            with self.subTest(arguments=arguments):
                self.assertRaises(InvalidArgumentError, self.driver.deploy_container, **options)
        self.assertRaises(InvalidArgumentError, self.driver.deploy_container, "web", "")
        self.assertEqual(self.engine.calls, [])

    def test_start_stop_restart_and_their_wait(self) -> None:
        for action in ("start", "stop", "restart"):
            self.engine.script("POST", f"/containers/{CONTAINER_ID}/{action}", Reply(204))
        self.engine.script(
            "GET",
            f"/containers/{CONTAINER_ID}/json",
            container_inspection("running"),
            container_inspection("exited"),
            container_inspection("running"),
        )
        container = self.sample_container()
        started = self.successResultOf(self.driver.start_container(container))
        stopped = self.successResultOf(self.driver.stop_container(container, ex_timeout=0))
        restarted = self.successResultOf(self.driver.restart_container(CONTAINER_ID))
        self.assertEqual(
            [started.state, stopped.state, restarted.state],
            [ContainerState.RUNNING, ContainerState.STOPPED, ContainerState.RUNNING],
        )
        self.assertEqual(
            self.engine.last("POST", f"/containers/{CONTAINER_ID}/stop").query, {"t": ["0"]}
        )
        self.assertEqual(self.engine.last("POST", f"/containers/{CONTAINER_ID}/restart").query, {})

    def test_stop_waits_longer_than_the_engine_for_its_answer(self) -> None:
        self.engine.script("POST", f"/containers/{CONTAINER_ID}/stop", Reply(204, stream=True))
        d = self.driver.stop_container(CONTAINER_ID, ex_timeout=30)
        self.agent.flush()
        self.clock.advance(self.driver.timeout + 29)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.failure_of(d, RequestTimeoutError)

    def test_already_in_the_state_is_not_an_error(self) -> None:
        self.engine.script("POST", f"/containers/{CONTAINER_ID}/start", Reply(304))
        self.engine.script("GET", f"/containers/{CONTAINER_ID}/json", container_inspection())
        container = self.successResultOf(self.driver.start_container(CONTAINER_ID))
        self.assertEqual(container.state, ContainerState.RUNNING)

    def test_bad_wait_is_refused(self) -> None:
        for wait in (-1, 1.5, True, "10"):
            self.assertRaises(
                InvalidArgumentError, self.driver.stop_container, CONTAINER_ID, ex_timeout=wait
            )

    def test_destroy_forces_removal(self) -> None:
        self.engine.script("DELETE", f"/containers/{CONTAINER_ID}", Reply(204))
        self.assertTrue(
            self.successResultOf(self.driver.destroy_container(self.sample_container()))
        )
        self.assertEqual(
            self.engine.last("DELETE", f"/containers/{CONTAINER_ID}").query, {"force": ["1"]}
        )

    def test_destroy_of_a_missing_container(self) -> None:
        self.engine.script("DELETE", "/containers/gone", error(404, "No such container: gone"))
        self.failure_of(self.driver.destroy_container("gone"), ContainerNotFoundError)

    def test_container_model_methods_delegate(self) -> None:
        self.engine.script("DELETE", f"/containers/{CONTAINER_ID}", Reply(204))
        self.assertTrue(self.successResultOf(self.sample_container().destroy()))

    def test_rename(self) -> None:
        self.engine.script("POST", f"/containers/{CONTAINER_ID}/rename", Reply(204))
        self.engine.script("GET", "/containers/web2/json", container_inspection(Name="/web2"))
        renamed = self.successResultOf(self.driver.ex_rename_container(CONTAINER_ID, "web2"))
        self.assertEqual(renamed.name, "web2")
        call = self.engine.last("POST", f"/containers/{CONTAINER_ID}/rename")
        self.assertEqual(call.query, {"name": ["web2"]})
        self.assertRaises(InvalidArgumentError, self.driver.ex_rename_container, CONTAINER_ID, "/")

    def test_ids_cannot_reach_other_paths(self) -> None:
        for bad in ("", "..", "../images/x", None, 5):
            self.assertRaises(InvalidArgumentError, self.driver.get_container, bad)

    def test_list_processes(self) -> None:
        top = {"Titles": ["PID", "CMD"], "Processes": [["1", "sleep 300"]]}
        self.engine.script("GET", f"/containers/{CONTAINER_ID}/top", top)
        self.assertEqual(self.successResultOf(self.driver.ex_list_processes(CONTAINER_ID)), top)


class LogTests(DockerTestCase):
    LOG_PATH = f"/containers/{CONTAINER_ID}/logs"

    def test_logs_without_tty_are_demultiplexed(self) -> None:
        self.engine.script(
            "GET", self.LOG_PATH, Reply(200, frame(1, b"hello\n") + frame(2, b"err\n"))
        )
        log = self.successResultOf(self.driver.ex_get_logs(self.sample_container(tty=False)))
        self.assertEqual(log, "hello\nerr\n")
        call = self.engine.last("GET", self.LOG_PATH)
        self.assertEqual(call.query, {"stdout": ["1"], "stderr": ["1"], "follow": ["0"]})

    def test_logs_with_tty_are_taken_as_written(self) -> None:
        raw = b"\x01\x00\x00\x00 not a header\r\n"
        self.engine.script("GET", self.LOG_PATH, Reply(200, raw))
        log = self.successResultOf(self.driver.ex_get_logs(self.sample_container(tty=True)))
        self.assertEqual(log, raw.decode())

    def test_tty_is_looked_up_when_unknown(self) -> None:
        self.engine.script("GET", self.LOG_PATH, Reply(200, frame(1, b"hi\n")))
        self.engine.script("GET", f"/containers/{CONTAINER_ID}/json", container_inspection())
        self.assertEqual(self.successResultOf(self.driver.ex_get_logs(CONTAINER_ID)), "hi\n")
        self.assertIn(f"GET /containers/{CONTAINER_ID}/json", self.engine.paths())

    def test_content_type_of_newer_engines_decides(self) -> None:
        multiplexed = {"Content-Type": "application/vnd.docker.multiplexed-stream"}
        self.engine.script("GET", self.LOG_PATH, Reply(200, frame(1, b"hi\n"), multiplexed))
        self.assertEqual(self.successResultOf(self.driver.ex_get_logs(CONTAINER_ID)), "hi\n")
        self.assertNotIn(f"GET /containers/{CONTAINER_ID}/json", self.engine.paths())

    def test_streamed_logs_arrive_as_written(self) -> None:
        self.engine.script("GET", self.LOG_PATH, Reply(200, frame(1, b"one\n"), stream=True))
        log = self.driver.ex_get_logs(self.sample_container(tty=False), stream=True)
        self.assertIsInstance(log, LogStream)
        self.assertEqual(self.engine.calls, [])  # nothing is sent until asked
        first = Deferred.fromCoroutine(_next(log))
        self.agent.flush()
        self.assertEqual(self.successResultOf(first), "one\n")
        self.assertEqual(self.engine.last("GET", self.LOG_PATH).param("follow"), "1")
        second = Deferred.fromCoroutine(_next(log))
        self.assertNoResult(second)
        [stream] = self.engine.streams
        encoded = "\u00e9\n".encode()
        stream.write(frame(2, encoded[:1]))
        self.agent.flush()
        self.assertNoResult(second)  # half a character waits for the rest
        stream.write(frame(2, encoded[1:]))
        self.agent.flush()
        self.assertEqual(self.successResultOf(second), "\u00e9\n")
        third = Deferred.fromCoroutine(_next(log))
        stream.finish()
        self.agent.flush()
        self.failureResultOf(third, StopAsyncIteration)

    def test_quiet_followed_log_is_not_timed_out(self) -> None:
        self.engine.script("GET", self.LOG_PATH, Reply(200, b"started\n", stream=True))
        log = self.driver.ex_get_logs(self.sample_container(tty=True), stream=True)
        first = Deferred.fromCoroutine(_next(log))
        self.agent.flush()
        self.assertEqual(self.successResultOf(first), "started\n")
        pending = Deferred.fromCoroutine(_next(log))
        self.clock.advance(self.driver.timeout * 100)
        self.assertNoResult(pending)
        self.successResultOf(Deferred.fromCoroutine(log.aclose()))
        self.failureResultOf(pending, StopAsyncIteration)


async def _next(log: LogStream) -> str:
    return await log.__anext__()


class LogDecoderTests(SynchronousTestCase):
    def test_frames_split_anywhere_are_joined(self) -> None:
        data = frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"more\n")
        decoder = LogDecoder(multiplexed=True)
        text = "".join(decoder.feed(data[i : i + 3]) for i in range(0, len(data), 3))
        self.assertEqual(text + decoder.finish(), "out\nerr\nmore\n")

    def test_characters_split_between_frames_of_one_stream(self) -> None:
        encoded = "\u00e9t\u00e9".encode()
        decoder = LogDecoder(multiplexed=True)
        text = decoder.feed(frame(1, encoded[:1])) + decoder.feed(frame(1, encoded[1:]))
        self.assertEqual(text, "\u00e9t\u00e9")

    def test_empty_frames_give_nothing(self) -> None:
        self.assertEqual(LogDecoder(multiplexed=True).feed(frame(1, b"")), "")

    def test_log_ending_inside_a_frame_is_malformed(self) -> None:
        decoder = LogDecoder(multiplexed=True)
        decoder.feed(frame(1, b"abcdef")[:10])
        self.assertRaises(MalformedResponseError, decoder.finish)

    def test_bad_utf8_is_replaced(self) -> None:
        decoder = LogDecoder(multiplexed=False)
        self.assertEqual(decoder.feed(b"a\xffb") + decoder.finish(), "a\ufffdb")


class ReferenceTests(SynchronousTestCase):
    def test_references_are_taken_apart(self) -> None:
        digest = "sha256:" + "ab" * 32
        cases = {
            "busybox": ("busybox", None, None),
            "busybox:1.36": ("busybox", "1.36", None),
            "library/busybox:latest": ("library/busybox", "latest", None),
            "127.0.0.1:5000/busybox:1": ("127.0.0.1:5000/busybox", "1", None),
            "localhost:5000/team/web": ("localhost:5000/team/web", None, None),
            f"registry.example/web:2@{digest}": ("registry.example/web", "2", digest),
            "[::1]:5000/x": ("[::1]:5000/x", None, None),
        }
        for text, (repository, tag, pinned) in cases.items():
            reference = parse_reference(text)
            self.assertEqual(
                (reference.repository, reference.tag, reference.digest), (repository, tag, pinned)
            )
            self.assertEqual(str(reference), text)

    def test_pull_tag(self) -> None:
        self.assertEqual(parse_reference("busybox").pull_tag, "latest")
        self.assertEqual(parse_reference("busybox:1").pull_tag, "1")
        digest = "sha256:" + "ab" * 32
        self.assertEqual(parse_reference(f"busybox:1@{digest}").pull_tag, digest)

    def test_bad_references(self) -> None:
        for text in ("", "Busybox", "busybox:", ":1", "a//b", "busybox@sha256:zz", "x" * 600, 5):
            self.assertRaises(InvalidArgumentError, parse_reference, text)


class UNIXSocketAgentTests(TestCase):
    """The Unix-socket agent against a real twisted.web server on a socket."""

    def setUp(self) -> None:
        folder = tempfile.mkdtemp(prefix="txcloud-sock-")
        self.addCleanup(shutil.rmtree, folder, True)
        self.path = os.path.join(folder, "engine.sock")
        self.engine = FakeEngine()
        port = reactor.listenUNIX(self.path, Site(self.engine))
        self.addCleanup(port.stopListening)

    async def _list(self, driver: DockerContainerDriver) -> list[Container]:
        return await driver.list_containers()

    def test_driver_sends_over_the_socket(self) -> Deferred[None]:
        self.engine.script("GET", "/containers/json", [container_listing()], [])
        driver = DockerContainerDriver(host=f"unix://{self.path}", ex_environ={})
        self.addCleanup(driver.close)

        async def check() -> None:
            [container] = await driver.list_containers()
            self.assertEqual(container.id, CONTAINER_ID)
            await driver.list_containers()
            self.assertEqual(
                self.engine.paths(),
                ["GET /version", "GET /containers/json", "GET /containers/json"],
            )
            self.assertEqual(self.engine.calls[-1].headers["host"], "docker")

        return Deferred.fromCoroutine(check())

    def test_transport_over_the_agent(self) -> Deferred[None]:
        agent = UNIXSocketAgent(self.path)
        transport = HTTPTransport(agent=agent)
        self.addCleanup(agent.close)
        self.addCleanup(transport.close)

        async def check() -> None:
            response = await transport.send(Request("GET", "http://anything/version"))
            self.assertEqual((await response.json())["ApiVersion"], "1.41")
            with self.assertRaises(NetworkError):
                await transport.send(Request("GET", "https://anything/version"))

        return Deferred.fromCoroutine(check())

    def test_missing_socket_is_a_network_error(self) -> Deferred[Any]:
        driver = DockerContainerDriver(
            host=f"unix://{self.path}.missing",
            ex_environ={},
            ex_retry=RetryPolicy(max_attempts=1),
        )
        self.addCleanup(driver.close)
        listing: Deferred[Any] = driver.list_containers()
        return self.assertFailure(listing, NetworkError)

    def test_bad_socket_paths_are_refused(self) -> None:
        for path in ("", "/" + "x" * 200, None):
            self.assertRaises(InvalidArgumentError, UNIXSocketAgent, path)
