"""
The containers example (``docs/examples/containers_everywhere.py``) run as
a program against real services, on the real reactor: a private ``dockerd``
and registry holding busybox (:mod:`txcloud.test.docker_services`), moto
server for ECS (:mod:`txcloud.test.emulators`), and the Kubernetes fake
served over TLS on a port of 127.0.0.1 by this process, whose reactor keeps
serving it while the program runs.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from twisted.internet import ssl
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud.container.drivers.docker import DockerContainerDriver
from txcloud.container.drivers.ecs import ElasticContainerDriver
from txcloud.container.types import ContainerState
from txcloud.http import findall_local, findtext_local
from txcloud.test.cli.helpers import SOURCE_ROOT, child_environment, run_python
from txcloud.test.container.test_ecs_moto import _EC2Query, _moto_api
from txcloud.test.docker_services import Seed, dockerd, make_certificates, seed
from txcloud.test.emulators import moto, reactor, reset_moto
from txcloud.testing.kubernetes import FakeKubernetes

EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "containers_everywhere.py")
REGION = "eu-west-1"
TOKEN = "example-token"
PROVIDERS = ("docker", "kubernetes", "ecs")


def table(stdout: str) -> list[list[str]]:
    """The rows (split into cells) of the table the example printed."""
    lines = stdout.splitlines()
    header = ["DRIVER", "NAME", "STATE", "IMAGE"]
    starts = [n for n, line in enumerate(lines) if line.split() == header]
    if len(starts) != 1:
        raise AssertionError(f"no single table in:\n{stdout}")
    rows = []
    for line in lines[starts[0] + 1 :]:
        cells = line.split()
        if len(cells) != 4 or cells[0] not in PROVIDERS:
            break
        rows.append(cells)
    return rows


class ContainersEverywhereTests(TestCase):
    timeout = 300

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        self.seeded: Seed = await seed()
        await moto.ensure_started()
        await reset_moto()
        # Keep tasks RUNNING until stopped, as real ones stay (see test_ecs_moto).
        await _moto_api(
            "/moto-api/state-manager/set-transition",
            {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}},
        )
        self.addCleanup(
            lambda: Deferred.fromCoroutine(
                _moto_api("/moto-api/state-manager/unset-transition", {"model_name": "ecs::task"})
            )
        )
        self.kubernetes = FakeKubernetes(tokens={TOKEN: "example-user"})
        certificates = make_certificates(self.mktemp())
        with open(certificates.server_cert) as cert, open(certificates.server_key) as key:
            tls = ssl.PrivateCertificate.loadPEM(cert.read() + key.read()).options()
        listening = reactor.listenSSL(0, self.kubernetes.site(), tls, interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        self.kubernetes_port = listening.getHost().port
        self.subnet = await self._default_subnet()
        self.name = f"txcloud-example-{uuid.uuid4().hex[:8]}"

    def _ecs_options(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": moto.port, "secure": False, "region": REGION}

    async def _default_subnet(self) -> str:
        ec2 = _EC2Query("AKIDEXAMPLE", "secret", **self._ecs_options())
        self.addCleanup(ec2.close)
        root = await ec2.call("DescribeSubnets")
        return str(findtext_local(findall_local(root, "subnetSet/item")[0], "subnetId"))

    async def run_example(self) -> tuple[str, str, int]:
        arguments = [
            EXAMPLE,
            "--registry",
            f"http://{self.seeded.registry}",
            "--image",
            "busybox",
            "--tag",
            "1",
            "--docker-host",
            f"unix://{dockerd.socket_path}",
            "--kubernetes",
            f"https://127.0.0.1:{self.kubernetes_port}",
            "--kubernetes-insecure",
            "--ecs-endpoint",
            f"127.0.0.1:{moto.port}",
            "--ecs-region",
            REGION,
            "--ecs-subnet",
            self.subnet,
            "--name",
            self.name,
        ]
        environ = child_environment(
            os.path.abspath(self.mktemp()),
            AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
            AWS_SECRET_ACCESS_KEY="secret",
            KUBERNETES_TOKEN=TOKEN,
        )
        return await run_python(arguments, environ)

    def ours(self, rows: list[list[str]]) -> dict[str, tuple[str, str]]:
        """Each provider's row for the example's container: its state and image."""
        found: dict[str, tuple[str, str]] = {}
        for provider, name, state, image in rows:
            if name == self.name:
                self.assertNotIn(provider, found, f"two {provider} rows for {name}")
                found[provider] = (state, image)
        return found

    async def assert_nothing_left(self) -> None:
        docker = DockerContainerDriver(host=f"unix://{dockerd.socket_path}")
        self.addCleanup(docker.close)
        self.assertEqual([c.id for c in await docker.list_containers() if c.name == self.name], [])

        self.assertIsNone(self.kubernetes.pod(self.name, self.name))
        self.assertIsNone(self.kubernetes.namespace(self.name))
        self.assertEqual(
            {seen.headers.get("authorization") for seen in self.kubernetes.requests},
            {f"Bearer {TOKEN}"},
        )

        ecs = ElasticContainerDriver("AKIDEXAMPLE", "secret", **self._ecs_options())
        self.addCleanup(ecs.close)
        self.assertEqual((await ecs.get_cluster(self.name)).extra["status"], "INACTIVE")
        self.assertEqual(await ecs.list_containers(cluster=self.name, all=False), [])
        stopped = await ecs.list_containers(cluster=self.name)
        self.assertEqual([c.extra["desiredStatus"] for c in stopped], ["STOPPED"])

    async def test_runs_everywhere_lists_everything_and_cleans_up(self) -> None:
        stdout, stderr, code = await self.run_example()
        self.assertEqual(code, 0, f"stdout:\n{stdout}\nstderr:\n{stderr}")
        lines = stdout.splitlines()
        self.assertEqual(lines[0], f"image {self.seeded.reference} digest {self.seeded.digest}")
        reference = self.seeded.reference
        self.assertEqual(
            self.ours(table(stdout)),
            {
                "docker": (ContainerState.RUNNING.value, reference),
                "kubernetes": (ContainerState.PENDING.value, reference),
                "ecs": (ContainerState.RUNNING.value, reference),
            },
        )
        # The providers are cleaned up at once, so in no set order.
        self.assertEqual(
            sorted(line for line in lines if ": destroyed " in line),
            [
                f"docker: destroyed container {self.name}",
                f"ecs: destroyed cluster {self.name}",
                f"ecs: destroyed container {self.name}",
                f"kubernetes: destroyed cluster {self.name}",
                f"kubernetes: destroyed container {self.name}",
            ],
        )
        self.assertEqual(
            [
                (seen.method, seen.path)
                for seen in self.kubernetes.requests
                if seen.method in ("POST", "DELETE")
            ],
            [
                ("POST", "/api/v1/namespaces"),
                ("POST", f"/api/v1/namespaces/{self.name}/pods"),
                ("DELETE", f"/api/v1/namespaces/{self.name}/pods/{self.name}"),
                ("DELETE", f"/api/v1/namespaces/{self.name}"),
            ],
        )
        await self.assert_nothing_left()

    async def test_a_failing_driver_loses_none_of_the_others_results(self) -> None:
        self.kubernetes.fail("/api/v1/pods", 403, method="GET", message="pods are secret")
        stdout, stderr, code = await self.run_example()
        self.assertEqual(code, 1, f"stdout:\n{stdout}\nstderr:\n{stderr}")
        reference = self.seeded.reference
        self.assertEqual(
            self.ours(table(stdout)),
            {
                "docker": (ContainerState.RUNNING.value, reference),
                "ecs": (ContainerState.RUNNING.value, reference),
            },
        )
        failures = [line for line in stdout.splitlines() if " failed: " in line]
        self.assertEqual(len(failures), 1, stdout)
        self.assertTrue(failures[0].startswith("kubernetes: list failed: "), failures)
        self.assertIn("pods are secret", failures[0])
        await self.assert_nothing_left()
