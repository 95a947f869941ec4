"""
Integration tests of the Docker driver against a private ``dockerd`` (see
:mod:`txcloud.test.docker_services`), on the real reactor.

The same scenario runs over the engine's Unix socket and over TCP with TLS
and client certificates: pull busybox back from the local registry, deploy,
list, stop, start, restart, read logs (whole and followed), rename and
destroy, and the typed errors for what does not exist.  Over TLS, clients
without a certificate the engine trusts are refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.container.base import Container
from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.types import ContainerState
from txcloud.errors import (
    ContainerImageNotFoundError,
    ContainerNotFoundError,
    InvalidRequestError,
    NetworkError,
    ResourceConflictError,
    TLSVerificationError,
)
from txcloud.http import RetryPolicy
from txcloud.test.docker_services import Seed, dockerd, seed
from txcloud.test.emulators import reactor

#: A container that says hello, then waits to be stopped (sh as PID 1
#: ignores SIGTERM, so stops use a wait of 0 seconds: killed at once).
HELLO = "sh -c 'echo hello; echo oops >&2; sleep 300'"


class EngineScenario:
    """The scenario; subclasses say how the driver reaches the engine."""

    timeout = 120
    seeded: Seed
    # From the TestCase this is mixed into.
    addCleanup: Any

    def make_driver(self, **options: Any) -> DockerContainerDriver:
        raise NotImplementedError

    def setUp(self) -> Deferred[None]:
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        self.seeded = await seed()
        self.driver = self.make_driver()
        self.addCleanup(self.driver.close)

    def name(self) -> str:
        return f"txcloud-{uuid.uuid4().hex[:12]}"

    async def deploy(self, command: str = HELLO, **options: Any) -> Container:
        options.setdefault("network_mode", "none")
        options.setdefault("tty", False)
        options.setdefault("stdin_open", False)
        container = await self.driver.deploy_container(
            self.name(), self.seeded.reference, command=command, **options
        )
        self.addCleanup(self._remove, container.id)
        return container

    async def log_once_written(self, container: Container, runs: int) -> str:
        """
        The log once *runs* runs of :data:`HELLO` have written to it: the
        engine answers a (re)start before the container's output is logged.
        """

        async def follow() -> str:
            seen = ""
            async with self.driver.ex_get_logs(container, stream=True) as log:
                async for text in log:
                    seen += text
                    if min(seen.count("hello\n"), seen.count("oops\n")) >= runs:
                        break
            return seen

        written: str = await Deferred.fromCoroutine(follow()).addTimeout(30, reactor)
        return written

    async def _remove_async(self, container_id: str) -> None:
        try:
            await self.driver.destroy_container(container_id)
        except ContainerNotFoundError:
            pass

    def _remove(self, container_id: str) -> Deferred[None]:
        return Deferred.fromCoroutine(self._remove_async(container_id))

    def test_install_image_pulls_it_back_from_the_registry(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            reference = self.seeded.reference
            await self.driver.ex_delete_image(reference)
            names = [i.name for i in await self.driver.list_images()]
            check.assertNotIn(reference, names)
            image = await self.driver.install_image(reference)
            check.assertEqual(
                (image.id, image.path, image.version), (self.seeded.image_id, reference, "1")
            )
            check.assertIn(
                reference,
                {tag for i in await self.driver.list_images() for tag in i.extra["repo_tags"]},
            )

        return Deferred.fromCoroutine(scenario())

    def test_container_lifecycle(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            image = await self.driver.ex_get_image(self.seeded.reference)
            container = await self.deploy()
            check.assertEqual(container.state, ContainerState.RUNNING)
            check.assertEqual(container.image.id, self.seeded.image_id)
            check.assertEqual(container.extra["network_mode"], "none")

            running = {c.id for c in await self.driver.list_containers(all=False)}
            check.assertIn(container.id, running)
            of_image = {c.id for c in await self.driver.list_containers(image=image)}
            check.assertIn(container.id, of_image)

            stopped = await self.driver.stop_container(container, ex_timeout=0)
            check.assertEqual(stopped.state, ContainerState.STOPPED)
            check.assertNotIn(
                container.id, {c.id for c in await self.driver.list_containers(all=False)}
            )
            listed = {c.id: c for c in await self.driver.list_containers(all=True)}
            check.assertEqual(listed[container.id].state, ContainerState.STOPPED)

            started = await self.driver.start_container(container)
            check.assertEqual(started.state, ContainerState.RUNNING)
            restarted = await self.driver.restart_container(container, ex_timeout=0)
            check.assertEqual(restarted.state, ContainerState.RUNNING)
            check.assertNotEqual(restarted.extra["started_at"], started.extra["started_at"])

            log = await self.log_once_written(restarted, runs=3)
            check.assertEqual(log.count("hello\n"), 3)  # one run per start
            check.assertEqual(log.count("oops\n"), 3)

            new_name = self.name()
            renamed = await self.driver.ex_rename_container(container, new_name)
            check.assertEqual((renamed.id, renamed.name), (container.id, new_name))

            check.assertTrue(await self.driver.destroy_container(container))
            with check.assertRaises(ContainerNotFoundError):
                await self.driver.get_container(container.id)
            with check.assertRaises(ContainerNotFoundError):
                await self.driver.destroy_container(container)

        return Deferred.fromCoroutine(scenario())

    def test_followed_log_streams_until_the_container_ends(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            container = await self.deploy("sh -c 'echo one; sleep 1; echo two >&2'")
            chunks = []
            async with self.driver.ex_get_logs(container, stream=True) as log:
                async for text in log:
                    chunks.append(text)
            check.assertEqual("".join(chunks), "one\ntwo\n")
            check.assertEqual(
                (await self.driver.get_container(container.id)).state, ContainerState.STOPPED
            )

        return Deferred.fromCoroutine(scenario())

    def test_tty_log_is_read_as_written(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            container = await self.deploy("sh -c 'echo on a terminal'", tty=True)
            async with self.driver.ex_get_logs(container.id, stream=True) as log:
                text = "".join([chunk async for chunk in log])
            check.assertEqual(text, "on a terminal\r\n")

        return Deferred.fromCoroutine(scenario())

    def test_missing_things_are_typed_errors(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            with check.assertRaises(ContainerNotFoundError):
                await self.driver.get_container("txcloud-no-such-container")
            with check.assertRaises(ContainerImageNotFoundError):
                await self.driver.install_image(f"{self.seeded.registry}/no-such-image:1")
            with check.assertRaises(ContainerImageNotFoundError):
                await self.driver.deploy_container(
                    self.name(), "local/no-such-image:1", network_mode="none"
                )
            with check.assertRaises(ContainerImageNotFoundError):
                await self.driver.ex_get_image("local/no-such-image:1")

        return Deferred.fromCoroutine(scenario())

    def test_name_in_use_is_a_conflict(self) -> Deferred[None]:
        check: Any = self

        async def scenario() -> None:
            container = await self.deploy(start=False)
            check.assertEqual(container.state, ContainerState.STOPPED)
            with check.assertRaises(ResourceConflictError):
                await self.driver.deploy_container(
                    container.name,
                    self.seeded.reference,
                    command="true",
                    network_mode="none",
                    start=False,
                )

        return Deferred.fromCoroutine(scenario())


class OverUnixSocketTests(EngineScenario, TestCase):  # type: ignore[misc]  # async setUp
    def make_driver(self, **options: Any) -> DockerContainerDriver:
        return DockerContainerDriver(host=f"unix://{dockerd.socket_path}", **options)

    def test_docker_host_names_the_socket(self) -> Deferred[None]:
        driver = DockerContainerDriver(ex_environ={"DOCKER_HOST": f"unix://{dockerd.socket_path}"})
        self.addCleanup(driver.close)
        return driver.ex_get_api_version().addCallback(self.assertEqual, "1.41")


class OverTLSTests(EngineScenario, TestCase):  # type: ignore[misc]  # async setUp
    def make_driver(self, **options: Any) -> DockerContainerDriver:
        certs = dockerd.certificates
        assert certs is not None
        options.setdefault("key_file", certs.client_key)
        options.setdefault("cert_file", certs.client_cert)
        options.setdefault("ca_cert", certs.ca)
        return DockerContainerDriver(host="127.0.0.1", port=dockerd.port, **options)

    def refused(self, driver: DockerContainerDriver) -> Deferred[Any]:
        self.addCleanup(driver.close)
        return self.assertFailure(driver.list_containers(), NetworkError)

    def test_environment_names_the_engine_and_its_certificates(self) -> Deferred[None]:
        certs = dockerd.certificates
        assert certs is not None
        environ = {
            "DOCKER_HOST": f"tcp://127.0.0.1:{dockerd.port}",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": certs.ca.rpartition("/")[0],
        }
        driver = DockerContainerDriver(ex_environ=environ)
        self.addCleanup(driver.close)
        self.assertEqual(driver.endpoint, f"https://127.0.0.1:{dockerd.port}")
        return driver.list_containers().addCallback(self.assertIsInstance, list)

    def test_client_without_a_certificate_is_refused(self) -> Deferred[Any]:
        certs = dockerd.certificates
        assert certs is not None
        driver = DockerContainerDriver(
            host="127.0.0.1",
            port=dockerd.port,
            secure=True,
            ca_cert=certs.ca,
            ex_retry=RetryPolicy(max_attempts=1),
        )
        return self.refused(driver)

    def test_client_certificate_of_another_ca_is_refused(self) -> Deferred[Any]:
        certs = dockerd.certificates
        assert certs is not None
        driver = self.make_driver(
            key_file=certs.stranger_key,
            cert_file=certs.stranger_cert,
            ex_retry=RetryPolicy(max_attempts=1),
        )
        return self.refused(driver)

    def test_engine_not_signed_by_a_trusted_ca_is_refused(self) -> Deferred[Any]:
        # The system's trust store does not know the test CA.
        driver = DockerContainerDriver(
            host="127.0.0.1",
            port=dockerd.port,
            key_file=dockerd.certificates.client_key if dockerd.certificates else None,
            cert_file=dockerd.certificates.client_cert if dockerd.certificates else None,
            ex_environ={},
        )
        self.addCleanup(driver.close)
        return self.assertFailure(driver.list_containers(), TLSVerificationError)

    def test_plain_http_to_the_tls_port_fails(self) -> Deferred[Any]:
        driver = DockerContainerDriver(
            host="127.0.0.1", port=dockerd.port, ex_environ={}, ex_retry=RetryPolicy(max_attempts=1)
        )
        self.addCleanup(driver.close)
        d = self.assertFailure(driver.list_containers(), InvalidRequestError)
        # Go's TLS server answers plain HTTP with a 400 saying what is wrong.
        return d.addCallback(lambda e: self.assertIn("HTTPS server", str(e)))
