"""
Tests of Kubernetes targets in txcloud.config: built from kubeconfig files
(``context``, ``kubeconfig``, merged ``KUBECONFIG``) or in a pod
(``in_cluster``) instead of ``host`` and credentials.
"""

from __future__ import annotations

import json
import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.config import parse_config
from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.drivers.kubernetes.config import KubernetesCredentialsError
from txcloud.container.drivers.kubernetes.exec_plugin import ExecPlugin
from txcloud.errors import ConfigError, InvalidCredsError

TOKEN = "eyJhbGciOiJSUzI1NiJ9.Y29uZmln.c2ln"


def kubeconfig(current: str, exec_user: bool = False) -> str:
    user = (
        {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "get-token",
                "interactiveMode": "Never",
            }
        }
        if exec_user
        else {"token": TOKEN}
    )
    return json.dumps(
        {
            "current-context": current,
            "clusters": [
                {"name": "dev", "cluster": {"server": "https://dev.example:6443"}},
                {"name": "prod", "cluster": {"server": "https://prod.example"}},
            ],
            "users": [{"name": "u", "user": user}],
            "contexts": [
                {"name": "dev", "context": {"cluster": "dev", "user": "u", "namespace": "a"}},
                {"name": "prod", "context": {"cluster": "prod", "user": "u"}},
            ],
        }
    )


class KubernetesTargetTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.folder = os.path.abspath(self.mktemp())
        os.makedirs(self.folder)
        self.path = self.write("config", kubeconfig("dev"))
        self.environ = {"KUBECONFIG": self.path, "HOME": self.folder}

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def build(self, entry: str, environ: dict[str, str] | None = None) -> KubernetesContainerDriver:
        text = f'[[container]]\nname = "k8s"\nprovider = "kubernetes"\n{entry}'
        config = parse_config(text, "conf.toml", self.environ if environ is None else environ)
        [target] = config.targets
        driver = config.build_driver(target, reactor=Clock())
        assert isinstance(driver, KubernetesContainerDriver)
        self.addCleanup(driver.close)
        return driver

    def test_without_host_the_current_context_of_kubeconfig_is_used(self) -> None:
        driver = self.build("")
        self.assertEqual((driver.endpoint, driver.ex_namespace), ("https://dev.example:6443", "a"))

    def test_a_context_is_chosen(self) -> None:
        driver = self.build('context = "prod"\n')
        self.assertEqual(driver.endpoint, "https://prod.example")

    def test_a_kubeconfig_file_is_chosen(self) -> None:
        other = self.write("other", kubeconfig("prod"))
        driver = self.build(f'kubeconfig = "{other}"\n', environ={})
        self.assertEqual(driver.endpoint, "https://prod.example")

    def test_an_exec_user_gets_a_plugin_with_the_configured_environment(self) -> None:
        self.write("config", kubeconfig("dev", exec_user=True))
        driver = self.build('context = "dev"\n')
        plugin = driver._source
        assert isinstance(plugin, ExecPlugin)
        self.assertEqual(plugin._environ["KUBECONFIG"], self.path)

    def test_in_cluster(self) -> None:
        account = os.path.join(self.folder, "sa")
        os.makedirs(account)
        for name in ("token", "ca.crt"):
            self.write(os.path.join("sa", name), TOKEN)
        environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        text = (
            '[[container]]\nname = "k8s"\nprovider = "kubernetes"\nin_cluster = true\n'
            f'options = {{ ex_service_account_dir = "{account}" }}\n'
        )
        config = parse_config(text, "conf.toml", environ)
        driver = config.build_driver(config.targets[0], reactor=Clock())
        self.addCleanup(driver.close)
        assert isinstance(driver, KubernetesContainerDriver)
        self.assertEqual(driver.endpoint, "https://10.96.0.1")

    def test_with_host_the_arguments_are_used_as_given(self) -> None:
        driver = self.build('host = "https://k8s.example"\n', environ={})
        self.assertEqual(driver.endpoint, "https://k8s.example")

    def test_a_missing_kubeconfig_is_refused_when_the_driver_is_built(self) -> None:
        environ = {"HOME": os.path.join(self.folder, "nowhere")}
        error = self.assertRaises(KubernetesCredentialsError, self.build, "", environ)
        self.assertIsInstance(error, InvalidCredsError)
        self.assertIn(os.path.join("nowhere", ".kube", "config"), str(error))

    def refused(self, entry: str, provider: str = "kubernetes") -> str:
        text = f'[[container]]\nname = "k8s"\nprovider = "{provider}"\n{entry}'
        return str(self.assertRaises(ConfigError, parse_config, text, "conf.toml", {}))

    def test_context_with_host_is_refused(self) -> None:
        message = self.refused('host = "https://k8s"\ncontext = "dev"\n')
        self.assertIn("'context' is only for Kubernetes targets without host", message)

    def test_context_for_another_provider_is_refused(self) -> None:
        self.assertIn("only for Kubernetes", self.refused('context = "dev"\n', "docker"))

    def test_in_cluster_with_a_context_is_refused(self) -> None:
        self.assertIn("not both", self.refused('in_cluster = true\ncontext = "dev"\n'))

    def test_values_of_the_wrong_type_are_refused_naming_the_key(self) -> None:
        self.assertIn("container[0].context", self.refused("context = 1\n"))
        self.assertIn("container[0].kubeconfig", self.refused("kubeconfig = true\n"))
        self.assertIn("container[0].in_cluster", self.refused('in_cluster = "yes"\n'))
