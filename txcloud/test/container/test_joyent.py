"""
Tests of the Joyent Triton driver: its endpoints and required client
certificate (unit tests, with txcloud.testing's fake engine), and
a Triton-style run against the private ``dockerd`` over TCP with TLS client
certificates (integration, on the real reactor).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.joyent import REGIONS, TritonContainerDriver
from txcloud.container.providers import get_driver
from txcloud.container.types import ContainerState, Provider
from txcloud.errors import (
    ContainerNotFoundError,
    InvalidArgumentError,
    NetworkError,
    UnsupportedAPIVersionError,
)
from txcloud.http import RetryPolicy
from txcloud.test.docker_services import dockerd, seed
from txcloud.testing.docker import FakeDocker


def _remove(driver: DockerContainerDriver, container_id: str) -> Deferred[Any]:
    # Gone already when the test got as far as destroying it.
    return driver.destroy_container(container_id).addErrback(
        lambda failure: failure.trap(ContainerNotFoundError)
    )


class TritonUnitTests(SynchronousTestCase):
    def setUp(self) -> None:
        folder = self.mktemp()
        os.makedirs(folder)
        self.files = {}
        for name in ("key_file", "cert_file", "ca_cert"):
            path = os.path.join(folder, f"{name}.pem")
            with open(path, "w") as f:
                f.write("placeholder\n")
            self.files[name] = path
        self.clock = Clock()

    def driver(self, **options: Any) -> TritonContainerDriver:
        options.setdefault("key_file", self.files["key_file"])
        options.setdefault("cert_file", self.files["cert_file"])
        driver = TritonContainerDriver(reactor=self.clock, **options)
        self.addCleanup(driver.close)
        return driver

    def test_registered_as_the_joyent_provider(self) -> None:
        cls = get_driver(Provider.JOYENT)
        self.assertIs(cls, TritonContainerDriver)
        self.assertTrue(issubclass(cls, DockerContainerDriver))
        self.assertEqual((cls.name, cls.type), ("Joyent Triton", "joyent"))

    def test_region_names_the_endpoint(self) -> None:
        self.assertEqual(self.driver().endpoint, "https://us-east-1.docker.joyent.com:2376")
        driver = self.driver(region="eu-ams-1")
        self.assertEqual(driver.endpoint, "https://eu-ams-1.docker.joyent.com:2376")
        self.assertEqual(driver.region, "eu-ams-1")
        self.assertIn("eu-ams-1", REGIONS)

    def test_certificates_are_the_client_certificate(self) -> None:
        driver = self.driver(ca_cert=self.files["ca_cert"])
        address = driver.address
        self.assertEqual(
            (address.secure, address.key_file, address.cert_file, address.ca_file),
            (True, self.files["key_file"], self.files["cert_file"], self.files["ca_cert"]),
        )

    def test_host_replaces_the_region(self) -> None:
        driver = self.driver(host="docker.triton.example", port=2377)
        self.assertEqual(driver.endpoint, "https://docker.triton.example:2377")
        tcp = self.driver(host="tcp://docker.triton.example:2378")
        self.assertEqual(tcp.endpoint, "https://docker.triton.example:2378")

    def test_secure_false_still_uses_tls(self) -> None:
        self.assertTrue(self.driver(secure=False).endpoint.startswith("https://"))

    def test_client_certificate_is_required(self) -> None:
        for missing in ("key_file", "cert_file"):
            with self.subTest(missing=missing):
                with self.assertRaises(InvalidArgumentError) as raised:
                    self.driver(**{missing: None})
                self.assertIn("client certificate", str(raised.exception))

    def test_unknown_region_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.driver, region="mars-north-1")

    def test_socket_and_plain_http_hosts_are_refused(self) -> None:
        for host in ("unix:///var/run/docker.sock", "http://docker.triton.example"):
            self.assertRaises(InvalidArgumentError, self.driver, host=host)

    def test_docker_environment_is_not_read(self) -> None:
        environ = {"DOCKER_HOST": "unix:///var/run/docker.sock", "DOCKER_TLS_VERIFY": "1"}
        driver = self.driver(ex_environ=environ)
        self.assertEqual(driver.endpoint, "https://us-east-1.docker.joyent.com:2376")

    def test_triton_api_versions_are_spoken(self) -> None:
        engine = FakeDocker(clock=self.clock, api_version="1.24")
        driver = self.driver(ex_agent=engine.agent())
        self.assertEqual(self.successResultOf(driver.list_containers()), [])
        self.assertEqual(engine.received[-1].path, "/v1.24/containers/json")

    def test_older_than_1_24_is_refused(self) -> None:
        engine = FakeDocker(clock=self.clock, api_version="1.23", min_api_version="1.12")
        driver = self.driver(ex_agent=engine.agent())
        self.failureResultOf(driver.list_containers(), UnsupportedAPIVersionError)


class TritonStyleTests(TestCase):
    """Triton's setup: the Docker API over TLS, the account's certificate as client certificate."""

    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        self.seeded = await seed()
        self.certificates = dockerd.certificates
        assert self.certificates is not None

    def triton(self, **options: Any) -> TritonContainerDriver:
        certs = self.certificates
        assert certs is not None
        options.setdefault("key_file", certs.client_key)
        options.setdefault("cert_file", certs.client_cert)
        driver = TritonContainerDriver(
            host="127.0.0.1", port=dockerd.port, ca_cert=certs.ca, **options
        )
        self.addCleanup(driver.close)
        return driver

    def test_deploy_list_and_destroy(self) -> Deferred[None]:
        driver = self.triton()

        async def scenario() -> None:
            name = f"txcloud-triton-{uuid.uuid4().hex[:8]}"
            container = await driver.deploy_container(
                name,
                self.seeded.reference,
                command="sleep 300",
                network_mode="none",
                tty=False,
            )
            self.addCleanup(_remove, driver, container.id)
            self.assertEqual((container.name, container.state), (name, ContainerState.RUNNING))
            self.assertIn(container.id, {c.id for c in await driver.list_containers()})
            self.assertEqual(await driver.ex_get_api_version(), "1.41")
            self.assertTrue(await driver.destroy_container(container))

        return Deferred.fromCoroutine(scenario())

    def test_certificate_of_another_account_is_refused(self) -> Deferred[Any]:
        certs = self.certificates
        assert certs is not None
        driver = self.triton(
            key_file=certs.stranger_key,
            cert_file=certs.stranger_cert,
            ex_retry=RetryPolicy(max_attempts=1),
        )
        return self.assertFailure(driver.list_containers(), NetworkError)
