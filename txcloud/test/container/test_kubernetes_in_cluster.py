"""
Tests of in-cluster configuration
(txcloud.container.drivers.kubernetes.in_cluster) and of the service
account token's rotation: on a Clock against the fake in memory, and over
TLS on 127.0.0.1 with a temporary folder as the service account's.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.drivers.kubernetes.config import KubernetesCredentialsError
from txcloud.container.drivers.kubernetes.in_cluster import in_cluster_arguments
from txcloud.errors import InvalidCredsError
from txcloud.http import RetryPolicy
from txcloud.test.container.test_kubernetes import RealSocketTestCase
from txcloud.test.http.test_tls import inline
from txcloud.testing.kubernetes import FakeKubernetes

TOKEN = "eyJhbGciOiJSUzI1NiJ9.Zmlyc3Q.c2ln"
ROTATED = "eyJhbGciOiJSUzI1NiJ9.c2Vjb25k.c2ln"
CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
ENVIRON = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


class ServiceAccountFolder:
    """A service account folder as kubelet mounts it, in a temporary folder."""

    def __init__(self, path: str, namespace: str | None = "team-a", ca: bytes = CA_PEM) -> None:
        self.path = os.path.abspath(path)
        os.makedirs(self.path)
        self.write("token", TOKEN)
        self.write("ca.crt", ca)
        if namespace is not None:
            self.write("namespace", namespace)

    def write(self, name: str, content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        # Kubelet swaps the file in whole: never let a reader see half a token.
        temporary = os.path.join(self.path, f".{name}.new")
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, os.path.join(self.path, name))


class ArgumentTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.account = ServiceAccountFolder(self.mktemp())

    def test_the_server_and_files_of_the_service_account(self) -> None:
        self.assertEqual(
            in_cluster_arguments(self.account.path, ENVIRON),
            {
                "host": "https://10.96.0.1:443",
                "ca_cert": os.path.join(self.account.path, "ca.crt"),
                "ex_token_file": os.path.join(self.account.path, "token"),
                "ex_namespace": "team-a",
            },
        )

    def test_an_ipv6_service_host(self) -> None:
        environ = dict(ENVIRON, KUBERNETES_SERVICE_HOST="fd00::1")
        self.assertEqual(
            in_cluster_arguments(self.account.path, environ)["host"], "https://[fd00::1]:443"
        )

    def test_without_a_namespace_file_the_default_namespace_is_used(self) -> None:
        os.remove(os.path.join(self.account.path, "namespace"))
        self.assertNotIn("ex_namespace", in_cluster_arguments(self.account.path, ENVIRON))

    def test_outside_a_cluster_the_variables_are_missing(self) -> None:
        for environ in ({}, {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}):
            error = self.assertRaises(
                InvalidCredsError, in_cluster_arguments, self.account.path, environ
            )
            self.assertIn("KUBERNETES_SERVICE_HOST", str(error))

    def test_a_bad_port_is_refused(self) -> None:
        environ = dict(ENVIRON, KUBERNETES_SERVICE_PORT="https")
        error = self.assertRaises(
            KubernetesCredentialsError, in_cluster_arguments, self.account.path, environ
        )
        self.assertEqual(error.key, "KUBERNETES_SERVICE_PORT")

    def test_a_missing_file_is_refused_naming_it(self) -> None:
        for name in ("token", "ca.crt"):
            account = ServiceAccountFolder(self.mktemp())
            os.remove(os.path.join(account.path, name))
            error = self.assertRaises(
                KubernetesCredentialsError, in_cluster_arguments, account.path, ENVIRON
            )
            self.assertEqual(error.source, os.path.join(account.path, name))


class RotationTests(SynchronousTestCase):
    """The token file is read again every minute, and at once after a 401."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.account = ServiceAccountFolder(self.mktemp())
        self.fake = FakeKubernetes(clock=self.clock, tokens={TOKEN: "system:serviceaccount"})
        self.fake.add_namespace("team-a")
        self.driver = KubernetesContainerDriver.ex_from_in_cluster(
            self.account.path,
            environ=ENVIRON,
            reactor=self.clock,
            ex_agent=self.fake.agent(),
            ex_retry=RetryPolicy(max_attempts=1),
        )
        self.addCleanup(self.driver.close)

    def tokens(self) -> list[str]:
        return [
            seen.headers["authorization"].removeprefix("Bearer ") for seen in self.fake.requests
        ]

    def rotate(self) -> None:
        self.account.write("token", ROTATED + "\n")
        self.fake.add_token(ROTATED, "system:serviceaccount")

    def test_the_driver_speaks_with_the_service_account(self) -> None:
        self.assertEqual(self.driver.endpoint, "https://10.96.0.1")
        container = self.successResultOf(self.driver.deploy_container("web", "nginx:1.25"))
        self.assertEqual(container.extra["namespace"], "team-a")
        self.assertEqual(self.fake.requests[-1].user, "system:serviceaccount")

    def test_a_rotated_token_is_used_once_a_minute_has_passed(self) -> None:
        self.rotate()
        self.clock.advance(59)
        self.successResultOf(self.driver.list_clusters())
        self.clock.advance(1)
        self.successResultOf(self.driver.list_clusters())
        self.assertEqual(self.tokens(), [TOKEN, ROTATED])

    def test_a_401_reads_the_file_at_once_and_sends_the_request_again(self) -> None:
        self.successResultOf(self.driver.list_clusters())
        self.rotate()
        self.fake.revoke_token(TOKEN)
        self.successResultOf(self.driver.create_cluster("team-b"))
        self.assertEqual(self.tokens(), [TOKEN, TOKEN, ROTATED])
        self.assertEqual([seen.method for seen in self.fake.requests], ["GET", "POST", "POST"])

    def test_a_401_with_an_unchanged_file_is_final(self) -> None:
        self.fake.revoke_token(TOKEN)
        error = self.failureResultOf(self.driver.list_clusters(), InvalidCredsError).value
        self.assertEqual(error.status, 401)
        self.assertEqual(self.tokens(), [TOKEN])
        self.assertNotIn(TOKEN, str(error))


class InClusterOverTLSTests(RealSocketTestCase):
    """A pod's view: the fake over TLS, its CA and a token in the service account folder."""

    @inline
    async def test_in_cluster_over_tls_with_a_rotating_token(self) -> None:
        self.fake = FakeKubernetes(tokens={TOKEN: "system:serviceaccount:team-a:default"})
        self.fake.add_namespace("team-a")
        url = await self.serve_tls(require_certificate=False)
        account = ServiceAccountFolder(self.mktemp(), ca=self.server_ca.pem)
        environ: dict[str, Any] = {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": url.rpartition(":")[2],
        }
        driver = KubernetesContainerDriver.ex_from_in_cluster(
            account.path,
            environ=environ,
            reactor=reactor,
            timeout=10,
            ex_retry=RetryPolicy(max_attempts=1),
        )
        self.addCleanup(driver.close)
        container = await driver.deploy_container("web", "nginx:1.25")
        self.assertEqual(container.extra["namespace"], "team-a")
        account.write("token", ROTATED)
        self.fake.add_token(ROTATED, "system:serviceaccount:team-a:default")
        self.fake.revoke_token(TOKEN)
        self.assertEqual(len(await driver.list_containers(cluster="team-a")), 1)
        self.assertEqual(
            [seen.user for seen in self.fake.requests],
            ["system:serviceaccount:team-a:default", None, "system:serviceaccount:team-a:default"],
        )
