"""
Tests of exec credential plugins
(txcloud.container.drivers.kubernetes.exec_plugin): every rule on a Clock
with processes played by the test, then real plugins (Python scripts run
with sys.executable) giving tokens and client certificates to the driver,
over TLS against the fake API server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import attrs
from twisted.internet import reactor
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.drivers.kubernetes.config import ExecConfig
from txcloud.container.drivers.kubernetes.credentials import KubernetesCredentials
from txcloud.container.drivers.kubernetes.exec_plugin import (
    MAX_OUTPUT,
    ExecPlugin,
    ExecPluginError,
    parse_exec_credential,
)
from txcloud.errors import InvalidCredsError
from txcloud.http import RetryPolicy
from txcloud.test.container.test_kubernetes import RealSocketTestCase
from txcloud.test.http.test_tls import inline
from txcloud.testing.kubernetes import FakeKubernetes

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
WHERE = "/home/u/.kube/config: users[0].user.exec (context 'dev', user 'dev-user')"
TOKEN = "k8s-aws-v1.c2VjcmV0LXRva2Vu"
NEXT_TOKEN = "k8s-aws-v1.bmV4dC10b2tlbg"
# The moment the clock starts at, and two RFC 3339 times after it.
START = 1_700_000_000
IN_AN_HOUR = "2023-11-14T23:13:20Z"
IN_AN_HOUR_SECONDS = START + 3600


def credential(
    token: str | None = TOKEN, expires: str | None = None, version: str = V1, **status: Any
) -> bytes:
    if token is not None:
        status["token"] = token
    if expires is not None:
        status["expirationTimestamp"] = expires
    return json.dumps({"apiVersion": version, "kind": "ExecCredential", "status": status}).encode()


@attrs.define
class Spawned:
    protocol: ProcessProtocol
    executable: str
    args: list[str]
    env: dict[str, str]
    child_fds: dict[int, Any]
    stdin_closed: bool = False

    def closeStdin(self) -> None:
        self.stdin_closed = True

    def exec_info(self) -> Any:
        return json.loads(self.env["KUBERNETES_EXEC_INFO"])


class ProcessClock(Clock):
    """A Clock that records processes instead of starting them; the test ends them."""

    def __init__(self) -> None:
        super().__init__()
        self.advance(START)
        self.spawned: list[Spawned] = []

    def spawnProcess(
        self, protocol: ProcessProtocol, executable: str, args: list[str], env: Any, **kw: Any
    ) -> Spawned:
        process = Spawned(protocol, executable, args, env, kw["childFDs"])
        self.spawned.append(process)
        protocol.makeConnection(process)
        return process

    def finish(self, output: bytes = b"", code: int = 0, signal: int | None = None) -> None:
        protocol = self.spawned[-1].protocol
        protocol.outReceived(output)
        reason = ProcessDone(0) if code == 0 and signal is None else ProcessTerminated(code, signal)
        protocol.processEnded(Failure(reason))


def config(**settings: Any) -> ExecConfig:
    settings.setdefault("command", sys.executable)
    settings.setdefault("interactive_mode", "Never")
    return ExecConfig(where=WHERE, **settings)


class ParseTests(SynchronousTestCase):
    def test_a_token(self) -> None:
        credentials = parse_exec_credential(credential(expires=IN_AN_HOUR), config())
        self.assertEqual(
            credentials, KubernetesCredentials(token=TOKEN, expires=IN_AN_HOUR_SECONDS)
        )
        self.assertNotIn(TOKEN, repr(credentials))

    def test_a_client_certificate_and_key(self) -> None:
        output = credential(
            token=None,
            clientCertificateData="-----BEGIN CERTIFICATE-----\nMIIB\n",
            clientKeyData="-----BEGIN PRIVATE KEY-----\nsecret\n",
        )
        credentials = parse_exec_credential(output, config())
        self.assertEqual(
            (credentials.token, credentials.client_key),
            (None, b"-----BEGIN PRIVATE KEY-----\nsecret\n"),
        )
        self.assertNotIn("secret", repr(credentials))

    def refused(self, output: bytes, problem: str, version: str = V1) -> None:
        error = self.assertRaises(
            ExecPluginError, parse_exec_credential, output, config(api_version=version)
        )
        self.assertIn(problem, str(error))
        self.assertTrue(str(error).startswith(WHERE))
        self.assertIsInstance(error, InvalidCredsError)
        for secret in (TOKEN, "garbage", "secret"):
            self.assertNotIn(secret, str(error))

    def test_garbage_is_refused_without_quoting_it(self) -> None:
        self.refused(b"garbage " + TOKEN.encode(), "not JSON")
        self.refused(b'["garbage"]', "not an ExecCredential")

    def test_another_version_than_configured_is_refused(self) -> None:
        self.refused(credential(version=V1BETA1), f"another apiVersion than {V1}")
        self.refused(credential(version=V1), f"another apiVersion than {V1BETA1}", V1BETA1)

    def test_a_status_without_credentials_is_refused(self) -> None:
        self.refused(credential(token=None), "neither a token nor a client certificate")
        self.refused(credential(token=None, clientKeyData="-----BEGIN secret"), "only one of")
        self.refused(credential(token="gar bage"), "status.token that cannot be sent")
        self.refused(
            credential(token=None, clientCertificateData="secret", clientKeyData="secret"),
            "not PEM",
        )

    def test_a_bad_expiry_is_refused(self) -> None:
        self.refused(credential(expires="tomorrow"), "not RFC 3339")
        self.refused(credential(expires="2023-11-14T23:13:20"), "not RFC 3339")


class ExecPluginTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = ProcessClock()
        self.environ = {"PATH": "/nowhere", "HOME": "/home/u"}

    def plugin(self, interactive: bool = False, **settings: Any) -> ExecPlugin:
        return ExecPlugin(
            config(**settings), reactor=self.clock, environ=self.environ, interactive=interactive
        )

    def answer(self, plugin: ExecPlugin, output: bytes) -> KubernetesCredentials:
        """What *plugin* gives when the run that get() starts prints *output*."""
        d = plugin.get()
        self.clock.finish(output)
        return self.successResultOf(d)

    def test_the_command_runs_with_its_args_env_and_exec_info(self) -> None:
        plugin = self.plugin(args=("token", "--v"), env=(("AWS_PROFILE", "dev"),))
        d = plugin.get()
        [spawned] = self.clock.spawned
        self.assertEqual(spawned.executable, sys.executable)
        self.assertEqual(spawned.args, [sys.executable, "token", "--v"])
        self.assertEqual(spawned.env["AWS_PROFILE"], "dev")
        self.assertEqual(spawned.env["HOME"], "/home/u")
        self.assertEqual(
            spawned.exec_info(),
            {"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False}},
        )
        # No terminal: standard input is closed at once; standard error is the process's.
        self.assertTrue(spawned.stdin_closed)
        self.assertEqual(spawned.child_fds, {0: "w", 1: "r", 2: 2})
        self.assertNoResult(d)
        self.clock.finish(credential())
        self.assertEqual(self.successResultOf(d).token, TOKEN)

    def test_the_cluster_is_described_when_asked(self) -> None:
        self.plugin(api_version=V1BETA1, cluster={"server": "https://k8s"}).get()
        self.assertEqual(
            self.clock.spawned[0].exec_info(),
            {
                "apiVersion": V1BETA1,
                "kind": "ExecCredential",
                "spec": {"interactive": False, "cluster": {"server": "https://k8s"}},
            },
        )

    def test_a_command_name_is_found_in_the_environment_path(self) -> None:
        folder = os.path.dirname(sys.executable)
        self.environ["PATH"] = folder
        self.plugin(command=os.path.basename(sys.executable)).get()
        self.assertEqual(os.path.dirname(self.clock.spawned[0].executable), folder)

    def test_a_missing_command_is_refused_with_its_install_hint(self) -> None:
        plugin = self.plugin(command="aws-iam-authenticator", install_hint="brew install it")
        error = self.failureResultOf(plugin.get(), ExecPluginError).value
        self.assertIn("'aws-iam-authenticator' cannot be found or run; brew install it", str(error))
        self.assertEqual(self.clock.spawned, [])

    def test_the_token_is_cached_until_it_expires(self) -> None:
        plugin = self.plugin()
        self.answer(plugin, credential(expires=IN_AN_HOUR))
        self.clock.advance(3599)
        self.assertEqual(self.successResultOf(plugin.get()).token, TOKEN)
        self.assertEqual(plugin.runs, 1)
        self.clock.advance(1)
        self.assertEqual(self.answer(plugin, credential(NEXT_TOKEN)).token, NEXT_TOKEN)
        self.assertEqual(plugin.runs, 2)

    def test_a_token_without_expiry_is_kept_until_rejected(self) -> None:
        plugin = self.plugin()
        used = self.answer(plugin, credential())
        self.clock.advance(86400 * 365)
        self.assertIs(self.successResultOf(plugin.get()), used)
        plugin.rejected(used)
        self.assertEqual(self.answer(plugin, credential(NEXT_TOKEN)).token, NEXT_TOKEN)
        self.assertEqual(plugin.runs, 2)

    def test_rejecting_old_credentials_keeps_the_new_ones(self) -> None:
        plugin = self.plugin()
        old = self.answer(plugin, credential())
        plugin.rejected(old)
        self.answer(plugin, credential(NEXT_TOKEN))
        # A second request refused with the old token does not run the plugin again.
        plugin.rejected(old)
        self.assertEqual(self.successResultOf(plugin.get()).token, NEXT_TOKEN)
        self.assertEqual(plugin.runs, 2)

    def test_concurrent_requests_share_one_run(self) -> None:
        plugin = self.plugin()
        waiting = [plugin.get() for _ in range(5)]
        self.assertEqual(len(self.clock.spawned), 1)
        self.clock.finish(credential())
        self.assertEqual({self.successResultOf(d).token for d in waiting}, {TOKEN})

    def test_a_failing_plugin_fails_every_waiter_and_runs_again_next_time(self) -> None:
        plugin = self.plugin()
        waiting = [plugin.get(), plugin.get()]
        self.clock.finish(b'{"status": {"token": "' + TOKEN.encode() + b'"}}', code=3)
        for d in waiting:
            error = self.failureResultOf(d, ExecPluginError).value
            self.assertIn("exited with status 3", str(error))
            self.assertIn("context 'dev', user 'dev-user'", str(error))
            self.assertNotIn(TOKEN, str(error))
        d = plugin.get()
        self.assertEqual(plugin.runs, 2)
        self.clock.finish(credential())
        self.successResultOf(d)

    def test_a_killed_plugin_is_refused(self) -> None:
        d = self.plugin().get()
        self.clock.finish(signal=signal.SIGKILL)
        self.assertIn("killed by signal 9", str(self.failureResultOf(d, ExecPluginError).value))

    def test_too_much_output_is_refused(self) -> None:
        d = self.plugin().get()
        self.clock.spawned[0].protocol.outReceived(b" " * MAX_OUTPUT)
        self.clock.finish(credential())
        self.assertIn("printed more than", str(self.failureResultOf(d, ExecPluginError).value))

    def test_always_interactive_is_refused_without_a_terminal(self) -> None:
        d = self.plugin(interactive_mode="Always").get()
        error = self.failureResultOf(d, ExecPluginError).value
        self.assertIn("needs a terminal", str(error))
        self.assertEqual(self.clock.spawned, [])

    def test_with_a_terminal_the_plugin_may_use_it(self) -> None:
        for mode in ("Always", "IfAvailable"):
            self.plugin(interactive=True, interactive_mode=mode).get()
            spawned = self.clock.spawned[-1]
            self.assertEqual(spawned.exec_info()["spec"]["interactive"], True)
            self.assertEqual(spawned.child_fds[0], 0)
            self.assertFalse(spawned.stdin_closed)

    def test_never_interactive_ignores_the_terminal(self) -> None:
        self.plugin(interactive=True, interactive_mode="Never").get()
        self.assertEqual(self.clock.spawned[0].exec_info()["spec"]["interactive"], False)
        self.assertTrue(self.clock.spawned[0].stdin_closed)

    def test_repr_names_the_command_not_its_arguments(self) -> None:
        plugin = self.plugin(args=("--secret", "s3cr3t"), env=(("KEY", "s3cr3t"),))
        self.assertNotIn("s3cr3t", repr(plugin))
        self.assertIn(os.path.basename(sys.executable), repr(plugin))


class DriverTests(SynchronousTestCase):
    """The driver asks the plugin before each request and again after a 401."""

    def setUp(self) -> None:
        self.clock = ProcessClock()
        self.fake = FakeKubernetes(clock=self.clock, tokens={TOKEN: "alice"})
        self.plugin = ExecPlugin(config(), reactor=self.clock, environ={}, interactive=False)
        self.driver = KubernetesContainerDriver(
            host="https://kubernetes.test",
            ex_credentials=self.plugin,
            ex_agent=self.fake.agent(),
            ex_retry=RetryPolicy(max_attempts=1),
            reactor=self.clock,
        )

    def test_no_request_is_sent_before_the_plugin_answers(self) -> None:
        d = self.driver.list_clusters()
        self.assertEqual(self.fake.requests, [])
        self.clock.finish(credential())
        self.assertEqual(len(self.successResultOf(d)), 4)
        self.assertEqual(self.fake.requests[-1].user, "alice")

    def test_a_failing_plugin_fails_the_call_before_any_request(self) -> None:
        d = self.driver.list_clusters()
        self.clock.finish(b"garbage", code=1)
        self.failureResultOf(d, ExecPluginError)
        self.assertEqual(self.fake.requests, [])

    def test_a_401_runs_the_plugin_again_and_sends_the_request_once_more(self) -> None:
        d = self.driver.list_clusters()
        self.clock.finish(credential())
        self.successResultOf(d)
        self.fake.revoke_token(TOKEN)
        self.fake.add_token(NEXT_TOKEN, "alice")
        created = self.driver.create_cluster("team-a")
        self.assertEqual(self.plugin.runs, 2)
        self.clock.finish(credential(NEXT_TOKEN))
        self.assertEqual(self.successResultOf(created).name, "team-a")
        self.assertEqual(
            [(r.method, r.headers["authorization"][7:]) for r in self.fake.requests[1:]],
            [("POST", TOKEN), ("POST", NEXT_TOKEN)],
        )

    def test_a_401_with_the_same_token_again_is_final(self) -> None:
        d = self.driver.list_clusters()
        self.clock.finish(credential())
        self.successResultOf(d)
        self.fake.revoke_token(TOKEN)
        d = self.driver.list_clusters()
        self.clock.finish(credential())
        error = self.failureResultOf(d, InvalidCredsError).value
        self.assertEqual(error.status, 401)
        self.assertEqual(len(self.fake.requests), 2)
        self.assertNotIn(TOKEN, str(error))

    def test_a_403_does_not_run_the_plugin_again(self) -> None:
        d = self.driver.list_clusters()
        self.clock.finish(credential())
        self.successResultOf(d)
        self.fake.fail("/api/v1/namespaces", 403)
        self.failureResultOf(self.driver.list_clusters(), InvalidCredsError)
        self.assertEqual(self.plugin.runs, 1)


# A plugin as a user would write one: its state (the token to give, its
# expiry, a client certificate) in a JSON file the test rewrites; each run
# appends KUBERNETES_EXEC_INFO to a log.
PLUGIN = """
import json, os, sys
folder = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(folder, "runs.log"), "a") as log:
    log.write(os.environ["KUBERNETES_EXEC_INFO"] + "\\n")
with open(os.path.join(folder, os.environ["STATE_FILE"])) as f:
    state = json.load(f)
if state.get("fail"):
    sys.stderr.write("plugin: cannot log in\\n")
    sys.exit(2)
request = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
json.dump({"apiVersion": request["apiVersion"], "kind": "ExecCredential",
           "status": state["status"]}, sys.stdout)
"""


class ExecPluginOverTLSTests(RealSocketTestCase):
    """Real plugins run with sys.executable; the fake served over TLS on 127.0.0.1."""

    def setUp(self) -> None:
        super().setUp()
        self.fake = FakeKubernetes(tokens={TOKEN: "alice"})
        self.folder = os.path.abspath(self.mktemp())
        os.makedirs(self.folder)
        with open(os.path.join(self.folder, "plugin.py"), "w") as f:
            f.write(PLUGIN)

    def state(self, **state: Any) -> None:
        with open(os.path.join(self.folder, "state.json"), "w") as f:
            json.dump(state, f)

    def runs(self) -> list[Any]:
        try:
            with open(os.path.join(self.folder, "runs.log")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    async def driver_from_kubeconfig(self, require_certificate: bool) -> KubernetesContainerDriver:
        url = await self.serve_tls(require_certificate=require_certificate)
        with open(os.path.join(self.folder, "ca.crt"), "wb") as f:
            f.write(self.server_ca.pem)
        user = {
            "exec": {
                "apiVersion": V1,
                "command": sys.executable,
                "args": [os.path.join(self.folder, "plugin.py")],
                "env": [{"name": "STATE_FILE", "value": "state.json"}],
                "interactiveMode": "Never",
                "provideClusterInfo": True,
            }
        }
        kubeconfig = {
            "current-context": "dev",
            "clusters": [
                {"name": "c", "cluster": {"server": url, "certificate-authority": "ca.crt"}}
            ],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}}],
        }
        path = os.path.join(self.folder, "config")
        with open(path, "w") as f:
            json.dump(kubeconfig, f)
        environ = {"KUBECONFIG": path, "PATH": os.environ.get("PATH", ""), "HOME": self.folder}
        driver = KubernetesContainerDriver.ex_from_kubeconfig(
            environ=environ, reactor=reactor, timeout=10, ex_retry=RetryPolicy(max_attempts=1)
        )
        self.addCleanup(driver.close)
        return driver

    @inline
    async def test_a_token_is_cached_rerun_when_expired_and_after_a_401(self) -> None:
        self.state(status={"token": TOKEN, "expirationTimestamp": "2999-01-01T00:00:00Z"})
        driver = await self.driver_from_kubeconfig(require_certificate=False)
        self.assertEqual(len(await driver.list_clusters()), 4)
        await driver.list_containers()
        [run] = self.runs()
        self.assertEqual(run["spec"]["interactive"], False)
        self.assertEqual(run["spec"]["cluster"]["server"], driver.endpoint)
        # The API server stops accepting the token: one more run, the request sent again.
        self.fake.revoke_token(TOKEN)
        self.fake.add_token(NEXT_TOKEN, "alice")
        self.state(status={"token": NEXT_TOKEN, "expirationTimestamp": "2000-01-01T00:00:00Z"})
        await driver.create_cluster("team-a")
        self.assertEqual(len(self.runs()), 2)
        self.assertEqual(
            [r.headers["authorization"][7:] for r in self.fake.requests[-2:]], [TOKEN, NEXT_TOKEN]
        )
        # That token came already expired: every request runs the plugin.
        await driver.list_clusters()
        self.assertEqual(len(self.runs()), 3)
        self.assertEqual(
            [r.user for r in self.fake.requests], ["alice", "alice", None, "alice", "alice"]
        )

    @inline
    async def test_a_client_certificate_from_the_plugin(self) -> None:
        self.fake = FakeKubernetes()
        driver = await self.driver_from_kubeconfig(require_certificate=True)
        certificate, key = self.client_ca.issue("carol", client=True)
        self.state(
            status={"clientCertificateData": certificate.decode(), "clientKeyData": key.decode()}
        )
        self.assertEqual(len(await driver.list_clusters()), 4)
        self.assertEqual(self.fake.requests[-1].user, "carol")
        self.assertNotIn("authorization", self.fake.requests[-1].headers)

    @inline
    async def test_a_failing_plugin_is_a_typed_error_before_any_request(self) -> None:
        self.state(fail=True)
        driver = await self.driver_from_kubeconfig(require_certificate=False)
        with self.assertRaises(ExecPluginError) as caught:
            await driver.list_clusters()
        message = str(caught.exception)
        self.assertIn("exited with status 2", message)
        self.assertIn("(context 'dev', user 'u')", message)
        self.assertEqual(self.fake.requests, [])
