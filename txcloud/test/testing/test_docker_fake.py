"""
Tests of txcloud.testing.docker: the real Docker driver pointed at the fake
engine (in memory through its agent, on a Clock), plus raw requests through
treq's StubTreq for what the driver never sends, and one driver over a real
Unix socket.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

from treq.testing import StubTreq
from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.container.base import Container
from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.docker.stream import LogStream
from txcloud.container.types import ContainerState
from txcloud.errors import (
    ContainerImageNotFoundError,
    ContainerNotFoundError,
    InvalidCredsError,
    ProviderError,
    RateLimitReached,
    ResourceConflictError,
    UnsupportedAPIVersionError,
)
from txcloud.http import RetryPolicy
from txcloud.testing.docker import FakeDocker

NOW = 1_700_000_000


def no_jitter(cap: float) -> float:
    return cap


async def _next(log: LogStream) -> str:
    return await log.__anext__()


class DockerFakeTestCase(SynchronousTestCase):
    """A driver in front of a FakeDocker, on a Clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.docker = FakeDocker(clock=self.clock)
        self.engine = self.driver()
        self.treq: Any = StubTreq(self.docker.resource)

    def driver(self, **options: Any) -> DockerContainerDriver:
        options.setdefault("ex_retry", RetryPolicy(max_attempts=3, jitter=no_jitter))
        driver = self.docker.driver(**options)
        self.addCleanup(driver.close)
        return driver

    def error(self, d: Deferred[Any], kind: type[Exception] = ProviderError) -> Any:
        return self.failureResultOf(d, kind).value

    def raw(self, method: str, path: str, body: bytes = b"") -> tuple[Any, bytes]:
        response = self.successResultOf(
            self.treq.request(method, f"http://docker{path}", data=body)
        )
        return response, self.successResultOf(self.treq.content(response))

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.docker.received]


class VersionTests(DockerFakeTestCase):
    def test_the_driver_agrees_the_api_version_with_the_engine(self) -> None:
        self.assertEqual(self.successResultOf(self.engine.ex_get_api_version()), "1.45")
        self.successResultOf(self.engine.list_containers())
        self.assertEqual(self.paths(), ["GET /version", "GET /v1.45/containers/json"])

    def test_an_older_engine_is_spoken_to_in_its_version(self) -> None:
        self.docker = FakeDocker(clock=self.clock, api_version="1.43")
        driver = self.driver()
        self.assertEqual(self.successResultOf(driver.ex_get_api_version()), "1.43")
        self.treq = StubTreq(self.docker.resource)
        _, body = self.raw("GET", "/version")
        self.assertEqual(json.loads(body)["Version"], "24.0.9")

    def test_an_engine_too_old_for_the_driver_is_refused(self) -> None:
        self.docker = FakeDocker(clock=self.clock, api_version="1.40")
        self.error(self.driver().list_images(), UnsupportedAPIVersionError)

    def test_a_path_newer_than_the_engine_is_refused(self) -> None:
        response, body = self.raw("GET", "/v1.99/containers/json")
        self.assertEqual(response.code, 400)
        self.assertIn("is too new", json.loads(body)["message"])

    def test_unknown_routes_and_methods(self) -> None:
        response, body = self.raw("GET", "/v1.45/swarm")
        self.assertEqual((response.code, json.loads(body)), (404, {"message": "page not found"}))
        self.assertEqual(self.raw("PUT", "/v1.45/containers/json")[0].code, 405)
        self.assertEqual(self.raw("GET", "/_ping")[1], b"OK")


class ImageTests(DockerFakeTestCase):
    def test_install_image_pulls_from_the_registry(self) -> None:
        pulled = self.docker.add_registry_image("team/web:2", layers=2)
        image = self.successResultOf(self.engine.install_image("team/web:2"))
        self.assertEqual((image.id, image.name, image.version), (pulled.id, "team/web:2", "2"))
        self.assertEqual(image.extra["repo_digests"], [f"team/web@{pulled.digest}"])
        [listed] = self.successResultOf(self.engine.list_images())
        self.assertEqual(listed.extra["repo_tags"], ["team/web:2"])

    def test_the_pull_streams_progress_lines(self) -> None:
        self.docker.add_registry_image("busybox:1.36")
        response, body = self.raw("POST", "/v1.45/images/create?fromImage=busybox&tag=1.36")
        lines = [json.loads(line) for line in body.splitlines()]
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        self.assertEqual(lines[0], {"status": "Pulling from busybox", "id": "1.36"})
        self.assertEqual(lines[-1]["status"], "Status: Downloaded newer image for busybox:1.36")
        _, again = self.raw("POST", "/v1.45/images/create?fromImage=busybox&tag=1.36")
        self.assertIn(b"Image is up to date for busybox:1.36", again)

    def test_a_pull_takes_pull_seconds_on_the_clock(self) -> None:
        self.docker.add_registry_image("busybox")
        self.docker.pull_seconds = 20
        d = self.engine.install_image("busybox")
        self.assertNoResult(d)
        self.assertEqual(self.docker.images, {})
        self.clock.advance(20)
        self.assertEqual(self.successResultOf(d).name, "busybox")

    def test_what_the_registry_does_not_have_is_image_not_found(self) -> None:
        self.docker.add_registry_image("busybox:1.36")
        error = self.error(self.engine.install_image("busybox:9"), ContainerImageNotFoundError)
        self.assertIn("manifest unknown", error.message)
        error = self.error(self.engine.install_image("nobody/x"), ContainerImageNotFoundError)
        self.assertIn("pull access denied", error.message)

    def test_a_private_image_needs_registry_credentials(self) -> None:
        self.docker.add_registry_image("team/secret:1", credentials=("ann", "pw"))
        error = self.error(self.engine.install_image("team/secret:1"), InvalidCredsError)
        self.assertIn("authentication required", error.message)
        auth = {"username": "ann", "password": "pw"}
        self.successResultOf(self.engine.install_image("team/secret:1", ex_registry_auth=auth))

    def test_a_pull_failing_midway(self) -> None:
        self.docker.add_registry_image("busybox")
        self.docker.fail_pull("busybox", "toomanyrequests: You have reached your pull rate limit.")
        self.error(self.engine.install_image("busybox"), RateLimitReached)
        self.assertEqual(self.docker.images, {})
        self.successResultOf(self.engine.install_image("busybox"))

    def test_a_pull_by_digest(self) -> None:
        pulled = self.docker.add_registry_image("busybox:1.36")
        image = self.successResultOf(self.engine.install_image(f"busybox@{pulled.digest}"))
        self.assertEqual((image.id, image.extra["repo_tags"]), (pulled.id, []))

    def test_import_tag_and_push(self) -> None:
        imported = self.successResultOf(self.engine.ex_import_image(b"tarball", "local/app", "1"))
        self.assertEqual(imported.extra["repo_tags"], ["local/app:1"])
        tagged = self.successResultOf(self.engine.ex_tag_image(imported, "127.0.0.1:5000/app", "1"))
        self.assertEqual(tagged.extra["repo_tags"], ["local/app:1", "127.0.0.1:5000/app:1"])
        digest = self.successResultOf(self.engine.ex_push_image("127.0.0.1:5000/app:1"))
        self.assertEqual(self.docker.registry["127.0.0.1:5000/app:1"].digest, digest)
        self.error(self.engine.ex_push_image("nowhere/app:1"), ContainerImageNotFoundError)

    def test_an_image_in_use_is_not_removed_without_force(self) -> None:
        image = self.docker.add_image("busybox:1", "busybox:latest")
        self.docker.add_container("old", "busybox:1", state="exited")
        self.assertTrue(self.successResultOf(self.engine.ex_delete_image("busybox:latest")))
        self.assertEqual(image.tags, ["busybox:1"])
        error = self.error(self.engine.ex_delete_image("busybox:1"), ResourceConflictError)
        self.assertIn("must be forced", error.message)
        self.assertTrue(self.successResultOf(self.engine.ex_delete_image("busybox:1", True)))
        self.assertEqual(self.docker.images, {})
        self.error(self.engine.ex_get_image("busybox:1"), ContainerImageNotFoundError)

    def test_search_the_registry(self) -> None:
        self.docker.add_registry_image("busybox:1.36", description="tiny", stars=3, official=True)
        self.docker.add_registry_image("busybox:1.37")
        self.docker.add_registry_image("nginx")
        [found] = self.successResultOf(self.engine.ex_search_images("busy"))
        self.assertEqual(found.name, "busybox")
        self.assertEqual(
            found.extra,
            {"description": "tiny", "is_official": True, "is_trusted": False, "star_count": 3},
        )


class ContainerTests(DockerFakeTestCase):
    def test_seeded_containers_are_listed(self) -> None:
        self.docker.add_container(
            "web",
            "nginx:1.27",
            labels={"team": "web"},
            port_bindings={"80/tcp": [{"HostPort": "8080"}]},
        )
        self.docker.add_container("job", "busybox", state="exited", exit_code=3)
        self.clock.advance(150)
        web, job = self.successResultOf(self.engine.list_containers())
        self.assertEqual((web.name, web.state, job.state), ("web", "running", "stopped"))
        self.assertEqual(web.ip_addresses, ["172.17.0.3"])
        self.assertEqual(web.extra["status"], "Up 2 minutes")
        self.assertEqual(job.extra["status"], "Exited (3) 2 minutes ago")
        self.assertEqual(
            web.extra["ports"],
            [{"PrivatePort": 80, "Type": "tcp", "IP": "0.0.0.0", "PublicPort": 8080}],
        )
        self.assertEqual(web.extra["labels"], {"team": "web"})
        running = self.successResultOf(self.engine.list_containers(all=False))
        self.assertEqual([c.name for c in running], ["web"])

    def test_containers_of_an_image(self) -> None:
        self.docker.add_container("web", "nginx:1.27")
        self.docker.add_container("job", "busybox")
        [found] = self.successResultOf(self.engine.list_containers(image="busybox"))
        self.assertEqual(found.name, "job")
        _, body = self.raw("GET", '/containers/json?all=1&filters={"label":["x"]}')
        self.assertEqual(json.loads(body), [])

    def test_deploy_creates_and_starts_a_container(self) -> None:
        self.docker.add_image("busybox:1.36")
        container = self.successResultOf(
            self.engine.deploy_container(
                "job",
                "busybox:1.36",
                command="sh -c 'echo hi'",
                environment={"MODE": "test"},
                labels={"team": "ops"},
                port_bindings={80: 8080},
                tty=False,
            )
        )
        self.assertEqual((container.name, container.state), ("job", ContainerState.RUNNING))
        self.assertEqual(container.extra["command"], "sh -c 'echo hi'")
        self.assertEqual(container.extra["tty"], False)
        stored = self.docker.find_container("job")
        assert stored is not None
        self.assertIn("MODE=test", stored.env)
        self.assertEqual(stored.port_bindings, {"80/tcp": [{"HostPort": "8080"}]})
        self.assertEqual(container.ip_addresses, [stored.ip_address])

    def test_deploy_without_start_only_creates(self) -> None:
        self.docker.add_image("busybox")
        container = self.successResultOf(
            self.engine.deploy_container("job", "busybox", start=False, network_mode="none")
        )
        self.assertEqual((container.extra["state"], container.ip_addresses), ("created", []))

    def test_deploy_refusals(self) -> None:
        self.error(self.engine.deploy_container("job", "nope:1"), ContainerImageNotFoundError)
        self.docker.add_container("job")
        error = self.error(self.engine.deploy_container("job", "busybox"), ResourceConflictError)
        self.assertIn('"/job" is already in use', error.message)

    def test_a_container_is_found_by_id_prefix_or_name(self) -> None:
        seeded = self.docker.add_container("web")
        for ref in (seeded.id, seeded.id[:12], "web"):
            self.assertEqual(self.successResultOf(self.engine.get_container(ref)).id, seeded.id)
        self.error(self.engine.get_container("nope"), ContainerNotFoundError)

    def test_stop_start_and_restart(self) -> None:
        self.docker.add_container("web")
        stopped = self.successResultOf(self.engine.stop_container("web", ex_timeout=0))
        self.assertEqual((stopped.state, stopped.extra["exit_code"]), ("stopped", 143))
        again = self.successResultOf(self.engine.stop_container("web"))
        self.assertEqual(again.state, ContainerState.STOPPED)
        self.assertEqual(self.successResultOf(self.engine.start_container("web")).state, "running")
        restarted = self.successResultOf(self.engine.restart_container("web"))
        self.assertEqual(restarted.state, ContainerState.RUNNING)

    def test_kill(self) -> None:
        web = self.docker.add_container("web")
        self.assertEqual(self.raw("POST", "/v1.45/containers/web/kill")[0].code, 204)
        self.assertEqual((web.state, web.exit_code), ("exited", 137))
        response, body = self.raw("POST", "/v1.45/containers/web/kill")
        self.assertEqual(response.code, 409)
        self.assertIn(b"is not running", body)

    def test_destroy_forces_a_running_container_out(self) -> None:
        self.docker.add_container("web")
        response, body = self.raw("DELETE", "/v1.45/containers/web")
        self.assertEqual(response.code, 409)
        self.assertIn(b"container is running", body)
        self.assertTrue(self.successResultOf(self.engine.destroy_container("web")))
        self.assertEqual(self.docker.containers, {})
        self.error(self.engine.destroy_container("web"), ContainerNotFoundError)

    def test_rename(self) -> None:
        web = self.docker.add_container("web")
        self.docker.add_container("db")
        renamed = self.successResultOf(self.engine.ex_rename_container(web.id, "frontend"))
        self.assertEqual(renamed.name, "frontend")
        # Given by its old name, the container is still found once renamed.
        again = self.successResultOf(self.engine.ex_rename_container("frontend", "edge"))
        self.assertEqual((again.id, again.name), (web.id, "edge"))
        self.error(self.engine.ex_rename_container(web.id, "db"), ResourceConflictError)

    def test_processes_of_a_running_container(self) -> None:
        self.docker.add_container("web", command=("nginx", "-g", "daemon off;"))
        self.docker.add_container("job", state="exited")
        top = self.successResultOf(self.engine.ex_list_processes("web"))
        self.assertEqual(top["Processes"][0][-1], "nginx -g daemon off;")
        self.error(self.engine.ex_list_processes("job"), ResourceConflictError)


class LogTests(DockerFakeTestCase):
    def test_logs_are_multiplexed_without_a_tty(self) -> None:
        self.docker.add_container("web")
        self.docker.write_log("web", "out\n")
        self.docker.write_log("web", "err\n", "stderr")
        self.assertEqual(self.successResultOf(self.engine.ex_get_logs("web")), "out\nerr\n")
        response, body = self.raw("GET", "/v1.45/containers/web/logs?stderr=1")
        self.assertEqual(body, b"\x02\x00\x00\x00\x00\x00\x00\x04err\n")
        content_type = response.headers.getRawHeaders("content-type")
        self.assertEqual(content_type, ["application/vnd.docker.multiplexed-stream"])

    def test_logs_with_a_tty_are_raw(self) -> None:
        self.docker.add_container("web", tty=True)
        self.docker.write_log("web", "prompt$ ")
        response, body = self.raw("GET", "/v1.45/containers/web/logs?stdout=1&stderr=1")
        self.assertEqual(body, b"prompt$ ")
        content_type = response.headers.getRawHeaders("content-type")
        self.assertEqual(content_type, ["application/vnd.docker.raw-stream"])
        self.assertEqual(self.successResultOf(self.engine.ex_get_logs("web")), "prompt$ ")

    def test_engines_before_1_42_send_no_log_content_type(self) -> None:
        self.docker = FakeDocker(clock=self.clock, api_version="1.41")
        self.docker.add_container("web", tty=True)
        self.docker.write_log("web", "\x01raw")
        driver = self.driver()
        self.assertEqual(self.successResultOf(driver.ex_get_logs("web")), "\x01raw")
        self.assertIn("GET /v1.41/containers/web/json", self.paths())

    def test_tail_and_a_stream_are_needed(self) -> None:
        self.docker.add_container("web", tty=True)
        for line in ("a\n", "b\n", "c\n"):
            self.docker.write_log("web", line)
        self.assertEqual(self.raw("GET", "/containers/web/logs?stdout=1&tail=2")[1], b"b\nc\n")
        self.assertEqual(self.raw("GET", "/containers/web/logs")[0].code, 400)

    def test_a_followed_log_streams_until_the_container_exits(self) -> None:
        self.docker.add_container("web")
        self.docker.write_log("web", "started\n")
        log = self.engine.ex_get_logs("web", stream=True)
        self.assertEqual(self.successResultOf(Deferred.fromCoroutine(_next(log))), "started\n")
        pending = Deferred.fromCoroutine(_next(log))
        self.assertNoResult(pending)
        self.docker.write_log("web", "working\n", "stderr")
        self.assertEqual(self.successResultOf(pending), "working\n")
        ending = Deferred.fromCoroutine(_next(log))
        self.docker.exit_container("web", 0)
        self.failureResultOf(ending, StopAsyncIteration)
        web = self.docker.find_container("web")
        self.assertEqual(web.followers if web else None, [])


class FaultTests(DockerFakeTestCase):
    def test_an_unavailable_engine_is_retried_for_reads(self) -> None:
        self.docker.add_container("web")
        self.docker.fail("/containers/json", 503, "busy")
        d = self.engine.list_containers()
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.assertEqual([c.name for c in self.successResultOf(d)], ["web"])

    def test_a_path_pattern_fails_every_matching_request(self) -> None:
        self.docker.add_container("web", state="exited")
        self.docker.fail("/containers/*/start", 500, "driver failed", times=None)
        error = self.error(self.engine.start_container("web"))
        self.assertEqual((error.status, error.message.endswith("driver failed")), (500, True))
        self.assertEqual(self.paths().count("POST /v1.45/containers/web/start"), 1)

    def test_a_delay_and_latency_on_the_clock(self) -> None:
        self.docker.delay("/version", 5)
        self.docker.latency = 1
        d = self.engine.list_images()
        self.clock.advance(5.9)
        self.assertNoResult(d)
        self.clock.advance(0.1)
        self.assertNoResult(d)
        self.clock.advance(1)
        self.assertEqual(self.successResultOf(d), [])

    def test_an_engine_behind_basic_authentication(self) -> None:
        self.docker = FakeDocker(clock=self.clock, credentials=("ann", "pw"))
        self.successResultOf(self.driver().list_images())
        stranger = DockerContainerDriver(
            host="tcp://docker:2375",
            reactor=self.clock,
            ex_agent=self.docker.agent(),
            ex_environ={},
        )
        self.error(stranger.list_images(), InvalidCredsError)


class RealSocketTests(TestCase):
    """The fake's site on a Unix socket, with the driver on the real reactor."""

    def test_a_driver_on_a_unix_socket(self) -> Deferred[None]:
        folder = tempfile.mkdtemp(prefix="txcloud-fake-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "docker.sock")
        docker = FakeDocker()
        docker.add_container("web", "nginx:1.27")
        reactor: Any = global_reactor
        port = reactor.listenUNIX(path, docker.site())
        self.addCleanup(port.stopListening)
        driver = DockerContainerDriver(host=f"unix://{path}", ex_environ={})
        self.addCleanup(driver.close)

        async def check() -> None:
            [container] = await driver.list_containers()
            self.assertIsInstance(container, Container)
            self.assertEqual((container.name, container.image.name), ("web", "nginx:1.27"))
            self.assertEqual(docker.received[-1].headers["host"], "docker")

        return Deferred.fromCoroutine(check())
