"""
Deployment steps, host key decisions and argument checks, without a network
(the real exchanges are in ``test_deployment_sshd``).
"""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from twisted.conch.ssh.keys import Key
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud import multi
from txcloud.compute.deployment import (
    FileDeployment,
    HostKeyPolicy,
    MultiStepDeployment,
    ScriptDeployment,
    SSHKeyDeployment,
    fingerprint,
    run_deployment,
)
from txcloud.compute.deployment.hostkeys import HostKeyRefusedError
from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.errors import DeploymentError, InvalidArgumentError, NodeError, TxCloudError
from txcloud.test.http._support import capture_logs


def _key() -> tuple[Ed25519PrivateKey, Key]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    return private, Key.fromString(public)


class HostKeyPolicyTests(SynchronousTestCase):
    """Which host keys a known_hosts file lets in."""

    def setUp(self) -> None:
        _, self.key = _key()
        _, self.other = _key()

    def known_hosts(self, *lines: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="ascii") as known:
            known.write("".join(line + "\n" for line in lines))
        return path

    def line(self, host: str, key: Key) -> str:
        return f"{host} {key.toString('openssh').decode()}"

    def verify(self, policy: HostKeyPolicy, host: str = "192.0.2.7") -> Deferred[bool]:
        return policy.verifyHostKey(None, host.encode(), host.encode(), self.key)

    def test_port_22_is_looked_up_by_host(self) -> None:
        policy = HostKeyPolicy(self.known_hosts(self.line("192.0.2.7", self.key)), 22)
        self.assertTrue(self.successResultOf(self.verify(policy)))

    def test_other_port_is_looked_up_as_bracketed_host_and_port(self) -> None:
        path = self.known_hosts(self.line("[192.0.2.7]:2222", self.key))
        self.assertTrue(self.successResultOf(self.verify(HostKeyPolicy(path, 2222))))
        failure = self.failureResultOf(self.verify(HostKeyPolicy(path, 22)), HostKeyRefusedError)
        self.assertIn("no host key for 192.0.2.7", str(failure.value))

    def test_bracketed_entry_wins_over_a_plain_one(self) -> None:
        path = self.known_hosts(
            self.line("[192.0.2.7]:2222", self.other), self.line("192.0.2.7", self.key)
        )
        failure = self.failureResultOf(self.verify(HostKeyPolicy(path, 2222)), HostKeyRefusedError)
        self.assertIn("another host key for [192.0.2.7]:2222", str(failure.value))
        self.assertIn(fingerprint(self.key), str(failure.value))

    def test_hashed_entries_match(self) -> None:
        # Built the way OpenSSH's HashKnownHosts writes them.
        salt = os.urandom(20)
        digest = hmac.new(salt, b"192.0.2.7", "sha1").digest()
        hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
        policy = HostKeyPolicy(self.known_hosts(self.line(hashed, self.key)), 22)
        self.assertTrue(self.successResultOf(self.verify(policy)))

    def test_without_a_file_the_key_is_trusted_and_logged_with_its_fingerprint(self) -> None:
        events = capture_logs(self)
        self.assertTrue(self.successResultOf(self.verify(HostKeyPolicy(None, 2200))))
        [event] = [event for event in events if "fingerprint" in event]
        self.assertEqual(event["host"], "[192.0.2.7]:2200")
        self.assertEqual(event["fingerprint"], fingerprint(self.key))

    def test_fingerprint_is_openssh_sha256_without_padding(self) -> None:
        self.assertTrue(fingerprint(self.key).startswith("SHA256:"))
        self.assertEqual(len(fingerprint(self.key)), len("SHA256:") + 43)


class StepTests(SynchronousTestCase):
    """What each step sends, and what it refuses."""

    def test_script_command_writes_runs_and_deletes(self) -> None:
        script = ScriptDeployment("#!/bin/sh\n", args=["a b"], name="s.sh", delete=True)
        self.assertEqual(
            script.command(),
            "cat > ./s.sh && chmod +x ./s.sh && ./s.sh 'a b'; "
            "status=$?; rm -f ./s.sh; exit $status",
        )

    def test_absolute_script_name_is_kept(self) -> None:
        self.assertTrue(
            ScriptDeployment("x", name="/tmp/s.sh").command().startswith("cat > /tmp/s.sh")
        )

    def test_default_script_names_are_random(self) -> None:
        first, second = ScriptDeployment("x"), ScriptDeployment("x")
        self.assertTrue(first.name.startswith("deployment_"))
        self.assertNotEqual(first.name, second.name)

    def test_bad_steps_are_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, ScriptDeployment, "")
        self.assertRaises(InvalidArgumentError, ScriptDeployment, "x", timeout=0)
        self.assertRaises(InvalidArgumentError, FileDeployment, "/nonexistent/file", "f")
        self.assertRaises(InvalidArgumentError, SSHKeyDeployment, "not-a-key")
        self.assertRaises(InvalidArgumentError, MultiStepDeployment, ["echo"])

    def test_nested_multi_step_deployments_flatten(self) -> None:
        a, b, c = ScriptDeployment("a"), ScriptDeployment("b"), ScriptDeployment("c")
        steps = MultiStepDeployment([a, MultiStepDeployment([b]), c])
        self.assertEqual(steps.leaves(), [a, b, c])

    def test_reprs_show_no_script_or_key(self) -> None:
        self.assertNotIn("secret", repr(ScriptDeployment("echo secret", name="s.sh")))
        _, key = _key()
        line = key.toString("openssh").decode()
        self.assertNotIn(line.split()[1], repr(SSHKeyDeployment(line)))

    def test_deployment_error_is_a_node_error(self) -> None:
        self.assertTrue(issubclass(DeploymentError, NodeError))
        self.assertTrue(issubclass(DeploymentError, TxCloudError))


class ArgumentTests(SynchronousTestCase):
    """Bad SSH arguments are refused before any connection."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.driver = DummyNodeDriver(reactor=self.clock, ex_node_count=1)
        self.node = self.successResultOf(self.driver.list_nodes())[0]
        self.step = ScriptDeployment("#!/bin/sh\ntrue\n")

    def key_file(self, content: bytes) -> str:
        path = self.mktemp()
        with open(path, "wb") as key:
            key.write(content)
        return path

    def private_key_file(self) -> str:
        private, _ = _key()
        return self.key_file(
            private.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        )

    def test_missing_key_file(self) -> None:
        error = self.assertRaises(
            InvalidArgumentError, run_deployment, self.node, self.step, ssh_key="/no/such/key"
        )
        self.assertIn("/no/such/key", str(error))

    def test_no_key(self) -> None:
        self.assertRaises(InvalidArgumentError, run_deployment, self.node, self.step)

    def test_encrypted_key_is_refused_and_never_shown(self) -> None:
        from cryptography.hazmat.primitives.serialization import BestAvailableEncryption

        private, _ = _key()
        pem = private.private_bytes(
            Encoding.PEM, PrivateFormat.OpenSSH, BestAvailableEncryption(b"pass")
        )
        path = self.key_file(pem)
        error = self.assertRaises(
            InvalidArgumentError, run_deployment, self.node, self.step, ssh_key=path
        )
        self.assertIn("passphrase", str(error))
        self.assertNotIn(pem.decode().splitlines()[1], str(error))

    def test_public_key_file_is_refused(self) -> None:
        _, key = _key()
        path = self.key_file(key.toString("openssh"))
        error = self.assertRaises(
            InvalidArgumentError, run_deployment, self.node, self.step, ssh_key=path
        )
        self.assertIn("public key only", str(error))

    def test_missing_known_hosts_file(self) -> None:
        private, _ = _key()
        path = self.key_file(
            private.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        )
        self.assertRaises(
            InvalidArgumentError,
            run_deployment,
            self.node,
            self.step,
            ssh_key=path,
            known_hosts="/no/known_hosts",
        )

    def test_bad_interface_port_and_node_without_address(self) -> None:
        private, _ = _key()
        path = self.key_file(
            private.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
        )
        for kwargs in ({"ssh_interface": "ipv6"}, {"ssh_port": 0}, {"ssh_timeout": 0}):
            self.assertRaises(
                InvalidArgumentError, run_deployment, self.node, self.step, ssh_key=path, **kwargs
            )
        self.node.public_ips = []
        self.assertRaises(InvalidArgumentError, run_deployment, self.node, self.step, ssh_key=path)

    def test_fan_out_checks_every_node_before_connecting(self) -> None:
        self.assertRaises(
            InvalidArgumentError,
            multi.run_deployments,
            [self.node],
            self.step,
            ssh_key="/no/such/key",
        )
        self.assertEqual(self.clock.getDelayedCalls(), [])
