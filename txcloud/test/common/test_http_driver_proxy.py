"""Every HTTP driver takes ``ex_proxy`` and reads the proxy variables when built."""

from __future__ import annotations

import os
from typing import Any

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver
from txcloud.compute.drivers.ec2 import EC2NodeDriver
from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.utils.docker import HubClient, RegistryClient
from txcloud.errors import InvalidArgumentError
from txcloud.http.proxy import ProxyURL
from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.test.azure_services import ACCOUNT, ACCOUNT_KEY
from txcloud.test.http._support import use_environment


def drivers(**kw: Any) -> dict[str, Any]:
    """One driver of each HTTP provider, built with *kw*."""
    reactor = MemoryReactorClock()
    common = dict(reactor=reactor, **kw)
    return {
        "EC2": EC2NodeDriver("AKID", "secret", **common),
        "S3": S3StorageDriver("AKID", "secret", **common),
        "ECS": ElasticContainerDriver("AKID", "secret", **common),
        "Azure": AzureBlobsStorageDriver(ACCOUNT, ACCOUNT_KEY, **common),
        "GCS": GoogleStorageDriver("", None, **common),
        "DigitalOcean": DigitalOceanNodeDriver("token", **common),
        "Kubernetes": KubernetesContainerDriver(host="k8s.example", **common),
        "Docker": DockerContainerDriver(host="tcp://10.0.0.5:2375", **common),
        "Hub": HubClient(**common),
        "Registry": RegistryClient("registry.example", **common),
    }


class DriverProxyTests(SynchronousTestCase):
    def test_every_driver_takes_ex_proxy(self) -> None:
        use_environment(self)
        for name, driver in drivers(ex_proxy="http://u:p@proxy.corp:3128").items():
            self.assertEqual(driver._proxy.https, ProxyURL("proxy.corp", 3128, "u", "p"), name)
            self.assertIs(driver.http._proxies, driver._proxy, name)

    def test_every_driver_reads_the_environment_when_built(self) -> None:
        use_environment(self, HTTPS_PROXY="http://proxy.corp:3128", no_proxy="10.0.0.0/8")
        built = drivers()
        os.environ["HTTPS_PROXY"] = "http://changed.corp:1"
        for name, driver in built.items():
            self.assertEqual(driver._proxy.https, ProxyURL("proxy.corp", 3128), name)
        self.assertIsNone(built["Docker"]._proxy.proxy_for("http", "10.0.0.5", 2375))

    def test_an_empty_ex_proxy_turns_the_environment_off(self) -> None:
        use_environment(self, HTTPS_PROXY="http://proxy.corp:3128")
        for name, driver in drivers(ex_proxy="").items():
            self.assertIsNone(driver._proxy, name)

    def test_a_bad_proxy_url_is_refused_when_the_driver_is_built(self) -> None:
        use_environment(self)
        with self.assertRaises(InvalidArgumentError) as caught:
            S3StorageDriver("AKID", "secret", ex_proxy="socks5://u:hunter2@proxy:1080")
        self.assertNotIn("hunter2", str(caught.exception))
        self.assertEqual(caught.exception.driver_name, "Amazon S3")

    def test_a_bad_environment_is_refused_naming_the_variable(self) -> None:
        use_environment(self, https_proxy="ftp://proxy.corp")
        with self.assertRaises(InvalidArgumentError) as caught:
            S3StorageDriver("AKID", "secret")
        self.assertIn("https_proxy", str(caught.exception))

    def test_docker_on_a_unix_socket_is_never_proxied(self) -> None:
        use_environment(self, HTTP_PROXY="http://proxy.corp:3128")
        driver = DockerContainerDriver(host="unix:///run/docker.sock", ex_proxy="http://p:1")
        self.assertIsNone(driver._proxy)

    def test_the_gcs_token_exchange_uses_the_drivers_proxy(self) -> None:
        use_environment(self)
        driver = drivers(ex_proxy="http://proxy.corp:3128")["GCS"]
        transport = driver._new_transport(None)
        self.assertIs(transport._proxies, driver._proxy)

    def test_a_test_agent_replaces_the_proxy(self) -> None:
        use_environment(self, HTTPS_PROXY="http://proxy.corp:3128")
        driver = S3StorageDriver("AKID", "secret", ex_agent=object())
        self.assertIsNone(driver._proxy)
