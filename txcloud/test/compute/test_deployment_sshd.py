"""
Deployment over SSH against a real OpenSSH server (Debian's ``sshd``),
started by the tests on a free loopback port; the "nodes" are Dummy
driver nodes whose public address is 127.0.0.1.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from txcloud import multi
from txcloud.compute.base import Node
from txcloud.compute.deployment import (
    FileDeployment,
    MultiStepDeployment,
    ScriptDeployment,
    SSHKeyDeployment,
    run_deployment,
)
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.compute.types import NodeState
from txcloud.errors import DeploymentError, InvalidArgumentError
from txcloud.test.emulators import reactor, sshd
from txcloud.test.http._support import capture_logs


def _public_key_line() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " added-by-test"


class SSHDeploymentTests(TestCase):
    """Steps run on a real sshd, through twisted.conch."""

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return Deferred.fromCoroutine(self._set_up())

    async def _set_up(self) -> None:
        await sshd.ensure_started()
        self.driver = DummyNodeDriver(reactor=reactor, ex_node_count=0)
        sizes, images = await self.driver.list_sizes(), await self.driver.list_images()
        self.size, self.image = sizes[0], images[0]

    async def node(self, name: str = "web-1") -> Node:
        return await self.driver.create_node(
            name, self.size, self.image, ex_public_ips=["127.0.0.1"]
        )

    def run_on(self, node: Node, deployment: object, **kwargs: object) -> Deferred[Node]:
        arguments: dict[str, object] = dict(
            ssh_port=sshd.port, ssh_key=sshd.client_key, known_hosts=sshd.known_hosts
        )
        arguments.update(kwargs)
        return run_deployment(node, deployment, **arguments)  # type: ignore[arg-type]

    def home_file(self, name: str) -> str:
        with open(os.path.join(sshd.home, name), encoding="utf-8") as written:
            return written.read()

    async def test_script_runs_with_its_arguments_and_keeps_its_output(self) -> None:
        script = ScriptDeployment(
            '#!/bin/sh\necho "hello $1 $2"\necho oops >&2\n', args=["big", "world"]
        )
        node = await self.node()
        self.assertIs(await self.run_on(node, script), node)
        self.assertEqual(script.stdout, "hello big world\n")
        self.assertEqual(script.stderr, "oops\n")
        self.assertEqual(script.exit_status, 0)
        self.assertTrue(os.path.exists(os.path.join(sshd.home, script.name)))

    async def test_script_with_delete_leaves_no_file(self) -> None:
        script = ScriptDeployment("#!/bin/sh\npwd\n", name="setup.sh", delete=True)
        await self.run_on(await self.node(), script)
        self.assertEqual(script.stdout, "/root\n")
        self.assertFalse(os.path.exists(os.path.join(sshd.home, "setup.sh")))

    async def test_file_is_copied_byte_for_byte(self) -> None:
        source = self.mktemp()
        content = os.urandom(3 * 1024 * 1024)  # bigger than an SSH window
        with open(source, "wb") as local:
            local.write(content)
        await self.run_on(await self.node(), FileDeployment(source, "copied.bin"))
        with open(os.path.join(sshd.home, "copied.bin"), "rb") as remote:
            self.assertEqual(remote.read(), content)

    async def test_key_is_appended_to_authorized_keys(self) -> None:
        first, second = _public_key_line(), _public_key_line()
        await self.run_on(
            await self.node(),
            MultiStepDeployment([SSHKeyDeployment(first), SSHKeyDeployment(second)]),
        )
        self.assertEqual(self.home_file(".ssh/authorized_keys"), f"{first}\n{second}\n")

    async def test_failing_script_stops_later_steps_and_keeps_output(self) -> None:
        failing = ScriptDeployment("#!/bin/sh\necho partial\necho broken >&2\nexit 3\n")
        later = ScriptDeployment("#!/bin/sh\ntouch never-made\n")
        node = await self.node("db-1")
        error: Any = await self.assertFailure(
            self.run_on(node, MultiStepDeployment([failing, later])), DeploymentError
        )
        self.assertIs(error.step, failing)
        self.assertIs(error.node, node)
        self.assertIn("db-1", str(error))
        self.assertIn(failing.name, str(error))
        self.assertIn("status 3", str(error))
        self.assertEqual(
            (failing.stdout, failing.stderr, failing.exit_status), ("partial\n", "broken\n", 3)
        )
        self.assertIsNone(later.exit_status)
        self.assertFalse(os.path.exists(os.path.join(sshd.home, "never-made")))

    async def test_script_running_past_its_timeout_fails(self) -> None:
        slow = ScriptDeployment("#!/bin/sh\necho started\nsleep 30\n", timeout=0.5)
        started = reactor.seconds()
        error: Any = await self.assertFailure(self.run_on(await self.node(), slow), DeploymentError)
        self.assertIs(error.step, slow)
        self.assertIn("0.5 seconds", str(error))
        self.assertEqual((slow.stdout, slow.exit_status), ("started\n", None))
        self.assertLess(reactor.seconds() - started, 10)

    async def test_wrong_host_key_is_refused_before_any_step(self) -> None:
        wrong = self.mktemp()
        with open(wrong, "w", encoding="ascii") as known:
            known.write(f"[127.0.0.1]:{sshd.port} {_public_key_line()}\n")
        step = ScriptDeployment("#!/bin/sh\ntouch should-not-exist\n")
        error: Any = await self.assertFailure(
            self.run_on(await self.node(), step, known_hosts=wrong), DeploymentError
        )
        self.assertIs(error.step, step)
        self.assertIn("another host key", str(error))
        self.assertIsNone(step.exit_status)
        self.assertFalse(os.path.exists(os.path.join(sshd.home, "should-not-exist")))

    async def test_host_missing_from_known_hosts_is_refused(self) -> None:
        empty = self.mktemp()
        open(empty, "w").close()
        error: Any = await self.assertFailure(
            self.run_on(
                await self.node(), ScriptDeployment("#!/bin/sh\ntrue\n"), known_hosts=empty
            ),
            DeploymentError,
        )
        self.assertIn("no host key", str(error))

    async def test_plain_host_entry_serves_another_port(self) -> None:
        plain = self.mktemp()
        with open(plain, "w", encoding="ascii") as known:
            known.write(f"127.0.0.1 {sshd.host_public_key}\n")
        script = ScriptDeployment("#!/bin/sh\necho ok\n")
        await self.run_on(await self.node(), script, known_hosts=plain)
        self.assertEqual(script.stdout, "ok\n")

    async def test_without_known_hosts_the_key_is_trusted_and_logged(self) -> None:
        events = capture_logs(self)
        script = ScriptDeployment("#!/bin/sh\necho trusted\n")
        await self.run_on(await self.node(), script, known_hosts=None)
        self.assertEqual(script.stdout, "trusted\n")
        trusted = [event for event in events if "fingerprint" in event]
        self.assertEqual(trusted[0]["host"], f"[127.0.0.1]:{sshd.port}")
        self.assertTrue(str(trusted[0]["fingerprint"]).startswith("SHA256:"))

    async def test_deploy_node_creates_waits_and_deploys(self) -> None:
        self.driver.ex_boot_time = 0.2
        script = ScriptDeployment("#!/bin/sh\nhostname > /dev/null && echo deployed\n")
        node = await self.driver.deploy_node(
            deploy=script,
            ssh_port=sshd.port,
            ssh_key=sshd.client_key,
            known_hosts=sshd.known_hosts,
            wait_period=0.1,
            timeout=10,
            name="app-1",
            size=self.size,
            image=self.image,
            ex_public_ips=["127.0.0.1"],
        )
        self.assertEqual((node.name, node.state), ("app-1", NodeState.RUNNING))
        self.assertEqual(script.stdout, "deployed\n")

    async def test_missing_key_file_is_refused_before_the_node_is_created(self) -> None:
        with self.assertRaises(InvalidArgumentError) as raised:
            self.driver.deploy_node(
                deploy=ScriptDeployment("#!/bin/sh\ntrue\n"),
                ssh_key="/nonexistent/key",
                name="app-2",
                size=self.size,
                image=self.image,
            )
        self.assertIn("/nonexistent/key", str(raised.exception))
        self.assertEqual(await self.driver.list_nodes(), [])

    async def test_fan_out_deploys_to_several_nodes_at_once(self) -> None:
        nodes = [await self.node(f"web-{index}") for index in range(4)]
        steps = MultiStepDeployment(
            [ScriptDeployment('#!/bin/sh\nsleep 0.3\necho "$1"\n', args=["ready"])]
        )
        started = reactor.seconds()
        result = await multi.run_deployments(
            nodes,
            steps,
            concurrency=4,
            ssh_port=sshd.port,
            ssh_key=sshd.client_key,
            known_hosts=sshd.known_hosts,
        )
        self.assertTrue(result.ok, result.failures)
        self.assertEqual(list(result.results), nodes)
        outputs = {ran.leaves()[0].stdout for ran in result.results.values()}
        self.assertEqual(outputs, {"ready\n"})
        # Four 0.3 s scripts side by side take well under their sum.
        self.assertLess(reactor.seconds() - started, 1.2)
        self.assertIsNone(steps.leaves()[0].exit_status)

    async def test_fan_out_keeps_each_nodes_failure_apart(self) -> None:
        good = await self.node("good")
        # sshd listens on 127.0.0.1 only: 127.0.0.2 refuses the connection.
        unreachable = await self.driver.create_node(
            "unreachable", self.size, self.image, ex_public_ips=["127.0.0.2"]
        )
        result = await multi.run_deployments(
            [good, unreachable],
            ScriptDeployment("#!/bin/sh\necho hi\n"),
            ssh_port=sshd.port,
            ssh_key=sshd.client_key,
            known_hosts=sshd.known_hosts,
        )
        self.assertEqual(result.results[good].stdout, "hi\n")
        error = result.failures[unreachable].value
        self.assertIsInstance(error, DeploymentError)
        self.assertIn("unreachable", str(error))
