"""
Tests of reading kubeconfig files (txcloud.container.drivers.kubernetes.config)
and of KubernetesContainerDriver.ex_from_kubeconfig, in memory against the
fake API server and over TLS with client certificates on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.container.drivers.kubernetes import KubernetesContainerDriver
from txcloud.container.drivers.kubernetes.config import (
    Kubeconfig,
    KubeconfigNotSupportedError,
    KubernetesCredentialsError,
    kubeconfig_paths,
    load_kubeconfig,
    pem_files,
)
from txcloud.errors import ConfigError, InvalidArgumentError, InvalidCredsError
from txcloud.test.container.test_kubernetes import RealSocketTestCase
from txcloud.test.http.test_tls import inline
from txcloud.testing.kubernetes import FakeKubernetes

TOKEN = "eyJhbGciOiJSUzI1NiJ9.a3ViZWNvbmZpZw.c2ln"
CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _block(text: str, indent: int) -> str:
    return "".join(" " * indent + line + "\n" for line in text.splitlines())


def kubeconfig(user: str = "", cluster: str = "", current: str = "dev") -> str:
    """
    A YAML kubeconfig with contexts ``dev`` (namespace ``team-a``, *cluster*
    and *user* settings added to its cluster and user) and ``prod`` (basic auth).
    """
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        f"current-context: {current}\n"
        "clusters:\n"
        "- name: dev-cluster\n"
        "  cluster:\n"
        "    server: https://10.0.0.1:6443\n" + _block(cluster, 4) + "- name: prod-cluster\n"
        "  cluster:\n"
        "    server: https://k8s.prod.example\n"
        "contexts:\n"
        "- name: dev\n"
        "  context:\n"
        "    cluster: dev-cluster\n"
        "    user: dev-user\n"
        "    namespace: team-a\n"
        "- name: prod\n"
        "  context:\n"
        "    cluster: prod-cluster\n"
        "    user: prod-user\n"
        "users:\n"
        "- name: dev-user\n"
        "  user:\n" + _block(user, 4) + "- name: prod-user\n"
        "  user:\n"
        "    username: admin\n"
        "    password: hunter2\n"
    )


class KubeconfigTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.folder = self.mktemp()
        os.makedirs(self.folder)

    def write(self, name: str, content: str | bytes) -> str:
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path

    def load(self, text: str, context: str | None = None) -> Kubeconfig:
        return load_kubeconfig(self.write("config", text), context)

    def refused(self, text: str, kind: type[ConfigError] = ConfigError) -> ConfigError:
        return self.assertRaises(kind, self.load, text)


class ContextTests(KubeconfigTestCase):
    def test_the_current_context_is_used(self) -> None:
        config = self.load(kubeconfig(user="token: " + TOKEN))
        self.assertEqual(
            (config.context, config.server, config.namespace),
            ("dev", "https://10.0.0.1:6443", "team-a"),
        )

    def test_a_named_context_is_used(self) -> None:
        config = self.load(kubeconfig(user="token: " + TOKEN), context="prod")
        self.assertEqual(
            (config.context, config.server, config.namespace, config.username),
            ("prod", "https://k8s.prod.example", None, "admin"),
        )

    def test_a_missing_context_is_refused_naming_the_known_ones(self) -> None:
        path = self.write("config", kubeconfig(user="token: " + TOKEN))
        error = self.assertRaises(ConfigError, load_kubeconfig, path, "staging")
        self.assertEqual((error.source, error.key), (path, "contexts"))
        self.assertIn("'staging'", str(error))
        self.assertIn("dev, prod", str(error))

    def test_a_file_without_current_context_needs_a_context(self) -> None:
        text = kubeconfig(user="token: " + TOKEN).replace("current-context: dev\n", "")
        error = self.refused(text)
        self.assertIn("current-context", str(error))
        self.assertEqual(self.load(text, context="dev").context, "dev")

    def test_a_context_naming_a_missing_cluster_is_refused(self) -> None:
        error = self.refused(
            kubeconfig(current="dev").replace("cluster: dev-cluster", "cluster: x")
        )
        self.assertEqual(error.key, "clusters")

    def test_a_cluster_without_a_server_is_refused(self) -> None:
        text = kubeconfig().replace(
            "server: https://10.0.0.1:6443", "insecure-skip-tls-verify: false"
        )
        self.assertEqual(self.refused(text).key, "clusters[0].cluster")

    def test_a_context_without_a_user_has_no_credentials(self) -> None:
        config = self.load(kubeconfig().replace("    user: dev-user\n", ""))
        self.assertEqual(
            (config.token, config.username, config.cert_file, config.cert_data),
            (None, None, None, None),
        )


class CredentialTests(KubeconfigTestCase):
    def test_a_token(self) -> None:
        config = self.load(kubeconfig(user="token: " + TOKEN))
        self.assertEqual(config.token, TOKEN)
        self.assertEqual(
            config.driver_arguments(),
            {"host": "https://10.0.0.1:6443", "ex_token": TOKEN, "ex_namespace": "team-a"},
        )

    def test_a_token_file_is_relative_to_the_kubeconfig(self) -> None:
        self.write("token", TOKEN)
        config = self.load(kubeconfig(user="tokenFile: token\ntoken: stale"))
        self.assertEqual(config.token_file, os.path.join(os.path.abspath(self.folder), "token"))
        arguments = config.driver_arguments()
        self.assertEqual(arguments["ex_token_file"], config.token_file)
        # The file wins over an inline token, as with kubectl.
        self.assertNotIn("ex_token", arguments)

    def test_basic_auth(self) -> None:
        arguments = self.load(kubeconfig(), context="prod").driver_arguments()
        self.assertEqual((arguments["key"], arguments["secret"]), ("admin", "hunter2"))

    def test_a_token_and_basic_auth_together_are_refused(self) -> None:
        error = self.refused(kubeconfig(user=f"token: {TOKEN}\nusername: a\npassword: b"))
        self.assertEqual(error.key, "users[0].user")
        self.assertNotIn(TOKEN, str(error))

    def test_a_user_name_without_a_password_is_refused(self) -> None:
        self.refused(kubeconfig(user="username: admin"))

    def test_client_certificate_files_are_relative_to_the_kubeconfig(self) -> None:
        config = self.load(
            kubeconfig(user="client-certificate: certs/me.pem\nclient-key: /keys/me.key")
        )
        folder = os.path.abspath(self.folder)
        self.assertEqual(config.cert_file, os.path.join(folder, "certs", "me.pem"))
        self.assertEqual(config.key_file, "/keys/me.key")
        arguments = config.driver_arguments()
        self.assertEqual(
            (arguments["cert_file"], arguments["key_file"]), (config.cert_file, "/keys/me.key")
        )

    def test_inline_client_certificates_are_decoded(self) -> None:
        config = self.load(
            kubeconfig(
                user=f"client-certificate-data: {b64(b'CERT')}\nclient-key-data: {b64(b'KEY')}"
            )
        )
        self.assertEqual((config.cert_data, config.key_data), (b"CERT", b"KEY"))
        arguments = config.driver_arguments()
        self.assertEqual((arguments["ex_cert_data"], arguments["ex_key_data"]), (b"CERT", b"KEY"))

    def test_a_client_certificate_without_its_key_is_refused(self) -> None:
        self.refused(kubeconfig(user="client-certificate: me.pem"))
        self.refused(kubeconfig(user=f"client-key-data: {b64(b'KEY')}"))

    def test_a_file_and_data_for_one_certificate_are_refused(self) -> None:
        user = f"client-certificate: me.pem\nclient-certificate-data: {b64(b'C')}\nclient-key: k"
        self.refused(kubeconfig(user=user))

    def test_data_that_is_not_base64_is_refused_without_quoting_it(self) -> None:
        error = self.refused(
            kubeconfig(user="client-certificate-data: SECRET!!\nclient-key-data: SECRET!!")
        )
        self.assertEqual(error.key, "users[0].user.client-certificate-data")
        self.assertNotIn("SECRET", str(error))

    def test_an_exec_plugin_is_read(self) -> None:
        config = self.load(
            kubeconfig(
                user="exec:\n"
                "  apiVersion: client.authentication.k8s.io/v1\n"
                "  command: aws\n"
                "  args: [eks, get-token, --cluster-name, dev]\n"
                "  env: [{name: AWS_PROFILE, value: dev}]\n"
                "  interactiveMode: Never\n"
                "  installHint: install the AWS CLI\n"
            )
        )
        plugin = config.exec
        assert plugin is not None
        self.assertEqual(
            (plugin.command, plugin.args, plugin.env, plugin.interactive_mode),
            (
                "aws",
                ("eks", "get-token", "--cluster-name", "dev"),
                (("AWS_PROFILE", "dev"),),
                "Never",
            ),
        )
        self.assertEqual(plugin.install_hint, "install the AWS CLI")
        self.assertIsNone(plugin.cluster)
        self.assertIn("users[0].user.exec", plugin.where)
        self.assertIn("context 'dev', user 'dev-user'", plugin.where)
        self.assertNotIn("AWS_PROFILE", repr(plugin))
        self.assertNotIn("get-token", repr(plugin))

    def test_v1_plugins_must_set_their_interactive_mode(self) -> None:
        error = self.refused(
            kubeconfig(user="exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: aws")
        )
        self.assertIn("interactiveMode", str(error))
        self.assertIsInstance(error, InvalidCredsError)

    def test_v1beta1_plugins_may_be_interactive_if_available(self) -> None:
        config = self.load(
            kubeconfig(
                user="exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: x"
            )
        )
        assert config.exec is not None
        self.assertEqual(config.exec.interactive_mode, "IfAvailable")

    def test_an_unsupported_plugin_version_is_refused_naming_the_key(self) -> None:
        error = self.refused(
            kubeconfig(
                user="exec:\n  apiVersion: client.authentication.k8s.io/v1alpha1\n  command: x"
            ),
            KubeconfigNotSupportedError,
        )
        self.assertEqual(error.key, "users[0].user.exec.apiVersion")
        self.assertIsInstance(error, InvalidCredsError)

    def test_a_bad_interactive_mode_is_refused(self) -> None:
        error = self.refused(
            kubeconfig(
                user="exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: x\n"
                "  interactiveMode: Sometimes"
            )
        )
        self.assertEqual(error.key, "users[0].user.exec.interactiveMode")

    def test_an_exec_plugin_together_with_a_token_is_refused(self) -> None:
        self.refused(
            kubeconfig(
                user=f"token: {TOKEN}\nexec:\n  apiVersion: client.authentication.k8s.io/v1\n"
                "  command: x\n  interactiveMode: Never"
            )
        )

    def test_a_relative_command_path_is_relative_to_the_kubeconfig(self) -> None:
        exec_user = (
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n"
            "  interactiveMode: Never"
        )
        config = self.load(kubeconfig(user=exec_user.format("bin/get-token")))
        assert config.exec is not None
        self.assertEqual(
            config.exec.command, os.path.join(os.path.abspath(self.folder), "bin/get-token")
        )
        # A bare name is looked up in PATH when the plugin runs.
        config = self.load(kubeconfig(user=exec_user.format("get-token")))
        assert config.exec is not None
        self.assertEqual(config.exec.command, "get-token")

    def test_cluster_information_for_the_plugin(self) -> None:
        self.write("ca.crt", CA_PEM)
        config = self.load(
            kubeconfig(
                cluster="certificate-authority: ca.crt\n"
                "extensions:\n"
                "- name: client.authentication.k8s.io/exec\n"
                "  extension: {audience: dev}",
                user="exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: x\n"
                "  interactiveMode: Never\n  provideClusterInfo: true",
            )
        )
        assert config.exec is not None
        self.assertEqual(
            config.exec.cluster,
            {
                "server": "https://10.0.0.1:6443",
                "certificate-authority-data": b64(CA_PEM),
                "config": {"audience": "dev"},
            },
        )

    def test_auth_providers_and_impersonation_are_not_supported(self) -> None:
        self.refused(kubeconfig(user="auth-provider:\n  name: gcp"), KubeconfigNotSupportedError)
        self.refused(kubeconfig(user=f"token: {TOKEN}\nas: admin"), KubeconfigNotSupportedError)

    def test_repr_shows_no_secret(self) -> None:
        config = self.load(kubeconfig(user=f"token: {TOKEN}"))
        self.assertNotIn(TOKEN, repr(config))
        config = self.load(kubeconfig(), context="prod")
        self.assertNotIn("hunter2", repr(config))
        self.assertIn("admin", repr(config))


class ClusterTLSTests(KubeconfigTestCase):
    def test_a_certificate_authority_file(self) -> None:
        config = self.load(kubeconfig(cluster="certificate-authority: ca.crt"))
        self.assertEqual(config.ca_file, os.path.join(os.path.abspath(self.folder), "ca.crt"))
        self.assertEqual(config.driver_arguments()["ca_cert"], config.ca_file)

    def test_inline_certificate_authority_data(self) -> None:
        config = self.load(kubeconfig(cluster=f"certificate-authority-data: {b64(CA_PEM)}"))
        self.assertEqual(config.ca_data, CA_PEM)
        self.assertEqual(config.driver_arguments()["ex_ca_cert_data"], CA_PEM)

    def test_insecure_skip_tls_verify(self) -> None:
        config = self.load(kubeconfig(cluster="insecure-skip-tls-verify: true"))
        self.assertFalse(config.verify)
        self.assertIs(config.driver_arguments()["ex_verify_tls"], False)

    def test_verification_is_on_by_default(self) -> None:
        self.assertNotIn("ex_verify_tls", self.load(kubeconfig()).driver_arguments())

    def test_insecure_together_with_a_certificate_authority_is_refused(self) -> None:
        self.refused(
            kubeconfig(cluster="insecure-skip-tls-verify: true\ncertificate-authority: ca.crt")
        )

    def test_an_insecure_flag_that_is_not_a_boolean_is_refused(self) -> None:
        error = self.refused(kubeconfig(cluster='insecure-skip-tls-verify: "yes"'))
        self.assertEqual(error.key, "clusters[0].cluster.insecure-skip-tls-verify")

    def test_proxies_and_tls_server_names_are_not_supported(self) -> None:
        self.refused(
            kubeconfig(cluster="proxy-url: http://proxy:3128"), KubeconfigNotSupportedError
        )
        self.refused(kubeconfig(cluster="tls-server-name: k8s"), KubeconfigNotSupportedError)


class FileFormatTests(KubeconfigTestCase):
    def json_config(self) -> str:
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "k", "cluster": {"server": "https://10.0.0.2"}}],
                "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
            }
        )

    def without_pyyaml(self) -> None:
        # A None entry makes "import yaml" fail, as if PyYAML were not installed.
        saved = sys.modules.get("yaml")
        sys.modules["yaml"] = None  # type: ignore[assignment]
        if saved is None:
            self.addCleanup(sys.modules.pop, "yaml")
        else:
            self.addCleanup(sys.modules.__setitem__, "yaml", saved)

    def test_a_json_kubeconfig_is_read(self) -> None:
        self.assertEqual(self.load(self.json_config()).token, TOKEN)

    def test_a_json_kubeconfig_is_read_without_pyyaml(self) -> None:
        self.without_pyyaml()
        self.assertEqual(self.load(self.json_config()).server, "https://10.0.0.2")

    def test_a_yaml_kubeconfig_without_pyyaml_asks_for_it(self) -> None:
        self.without_pyyaml()
        error = self.refused(kubeconfig(user=f"token: {TOKEN}"))
        self.assertIn("PyYAML", str(error))

    def test_invalid_yaml_is_refused_without_quoting_the_file(self) -> None:
        error = self.refused(f"users:\n- name: u\n  user: {{token: {TOKEN}\n")
        self.assertIn("not valid YAML", str(error))
        self.assertNotIn(TOKEN, str(error))

    def test_a_document_that_is_not_a_mapping_is_refused(self) -> None:
        self.refused("- just\n- a list\n")

    def test_a_missing_file_is_refused(self) -> None:
        error = self.assertRaises(ConfigError, load_kubeconfig, os.path.join(self.folder, "nope"))
        self.assertIn("cannot be read", str(error))

    def test_config_errors_are_invalid_argument_errors(self) -> None:
        self.assertTrue(issubclass(KubeconfigNotSupportedError, InvalidArgumentError))


def document(
    current: str | None = None,
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
) -> str:
    """A kubeconfig (as JSON, which YAML reads) from name-to-settings mappings."""
    text: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    if current is not None:
        text["current-context"] = current
    for section, entry, items in (
        ("clusters", "cluster", clusters),
        ("users", "user", users),
        ("contexts", "context", contexts),
    ):
        text[section] = [{"name": name, entry: value} for name, value in (items or {}).items()]
    return json.dumps(text)


class MergeTests(KubeconfigTestCase):
    """Several files merged as kubectl merges them, from KUBECONFIG or given."""

    def setUp(self) -> None:
        super().setUp()
        os.makedirs(os.path.join(self.folder, "a"))
        os.makedirs(os.path.join(self.folder, "b"))
        self.first = self.write(
            "a/config",
            document(
                clusters={"dev": {"server": "https://dev.a", "certificate-authority": "ca.crt"}},
                contexts={"dev": {"cluster": "dev", "user": "alice"}},
            ),
        )
        self.second = self.write(
            "b/config",
            document(
                current="dev",
                clusters={"dev": {"server": "https://dev.b"}, "prod": {"server": "https://p"}},
                users={"alice": {"tokenFile": "token"}},
                contexts={
                    "dev": {"cluster": "prod", "user": "alice"},
                    "prod": {"cluster": "prod", "user": "alice", "namespace": "web"},
                },
            ),
        )
        self.environ = {
            "KUBECONFIG": os.pathsep.join([self.first, self.missing(), self.second]),
            "HOME": self.missing(),
        }

    def missing(self) -> str:
        return os.path.join(self.folder, "missing")

    def test_the_first_file_wins_for_each_name(self) -> None:
        config = load_kubeconfig(environ=self.environ)
        # dev: the context and cluster of the first file, the user of the second.
        self.assertEqual((config.context, config.server), ("dev", "https://dev.a"))
        self.assertEqual(config.token_file, os.path.join(os.path.abspath(self.folder), "b/token"))

    def test_current_context_comes_from_the_first_file_that_sets_it(self) -> None:
        self.write("a/config", document(current="prod"))
        self.assertEqual(load_kubeconfig(environ=self.environ).context, "prod")

    def test_relative_paths_are_relative_to_the_file_that_names_them(self) -> None:
        config = load_kubeconfig(environ=self.environ)
        self.assertEqual(config.ca_file, os.path.join(os.path.abspath(self.folder), "a/ca.crt"))
        prod = load_kubeconfig(environ=self.environ, context="prod")
        self.assertEqual((prod.server, prod.namespace), ("https://p", "web"))
        self.assertEqual(prod.ca_file, None)

    def test_the_source_names_every_file_read(self) -> None:
        config = load_kubeconfig(environ=self.environ)
        self.assertEqual(config.source, os.pathsep.join([self.first, self.second]))

    def test_files_given_are_merged_in_their_order(self) -> None:
        config = load_kubeconfig([self.second, self.first])
        self.assertEqual((config.context, config.server), ("dev", "https://p"))

    def test_a_file_given_that_does_not_exist_is_refused(self) -> None:
        error = self.assertRaises(InvalidCredsError, load_kubeconfig, [self.first, self.missing()])
        self.assertIn("cannot be read", str(error))

    def test_without_kubeconfig_the_home_config_is_read(self) -> None:
        os.makedirs(os.path.join(self.folder, "home", ".kube"))
        self.write("home/.kube/config", kubeconfig(user=f"token: {TOKEN}"))
        config = load_kubeconfig(environ={"HOME": os.path.join(self.folder, "home")})
        self.assertEqual(config.token, TOKEN)
        # An empty KUBECONFIG counts as unset, as with kubectl.
        environ = {"HOME": os.path.join(self.folder, "home"), "KUBECONFIG": ""}
        self.assertEqual(load_kubeconfig(environ=environ).token, TOKEN)

    def test_no_file_at_all_is_refused_naming_where_txcloud_looked(self) -> None:
        environ = {"KUBECONFIG": self.missing(), "HOME": self.missing()}
        error = self.assertRaises(InvalidCredsError, load_kubeconfig, environ=environ)
        self.assertIsInstance(error, KubernetesCredentialsError)
        self.assertEqual(error.source, self.missing())

    def test_a_malformed_file_is_refused_naming_it(self) -> None:
        self.write("b/config", f"users: [{{name: u, user: {{token: {TOKEN}")
        error = self.assertRaises(InvalidCredsError, load_kubeconfig, environ=self.environ)
        self.assertEqual(error.source, self.second)
        self.assertNotIn(TOKEN, str(error))

    def test_an_entry_without_a_name_is_refused_naming_it(self) -> None:
        self.write("b/config", json.dumps({"users": [{"user": {"token": TOKEN}}]}))
        error = self.assertRaises(InvalidCredsError, load_kubeconfig, environ=self.environ)
        self.assertEqual((error.source, error.key), (self.second, "users[0]"))

    def test_paths_are_listed_once_in_order(self) -> None:
        environ = {"KUBECONFIG": os.pathsep.join(["x", "", "y", "x"])}
        self.assertEqual(kubeconfig_paths(environ), ["x", "y"])
        self.assertEqual(kubeconfig_paths({"HOME": "/h"}), ["/h/.kube/config"])


class PemFilesTests(SynchronousTestCase):
    def test_files_are_private_while_the_block_lasts_and_removed_after(self) -> None:
        with pem_files({"ca_file": CA_PEM, "client_key": b"KEY"}) as paths:
            self.assertEqual(set(paths), {"ca_file", "client_key"})
            with open(paths["ca_file"], "rb") as f:
                self.assertEqual(f.read(), CA_PEM)
            for path in paths.values():
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            folder = os.path.dirname(paths["client_key"])
            self.assertEqual(stat.S_IMODE(os.stat(folder).st_mode), 0o700)
        self.assertFalse(os.path.exists(folder))


class FromKubeconfigTests(KubeconfigTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.fake = FakeKubernetes(
            clock=self.clock, tokens={TOKEN: "alice"}, users={"admin": "hunter2"}
        )
        self.fake.add_namespace("team-a")

    def driver(self, text: str, **options: Any) -> KubernetesContainerDriver:
        driver = KubernetesContainerDriver.ex_from_kubeconfig(
            self.write("config", text),
            reactor=self.clock,
            ex_agent=self.fake.agent(),
            **options,
        )
        self.addCleanup(driver.close)
        return driver

    def test_the_driver_speaks_to_the_server_with_the_token(self) -> None:
        driver = self.driver(kubeconfig(user=f"token: {TOKEN}"))
        self.assertEqual(driver.endpoint, "https://10.0.0.1:6443")
        self.successResultOf(driver.list_clusters())
        seen = self.fake.requests[-1]
        self.assertEqual(seen.headers["authorization"], f"Bearer {TOKEN}")
        self.assertEqual(seen.user, "alice")

    def test_the_driver_uses_a_named_context_with_basic_auth(self) -> None:
        path = self.write("config", kubeconfig(user=f"token: {TOKEN}"))
        driver = KubernetesContainerDriver.ex_from_kubeconfig(
            path, "prod", reactor=self.clock, ex_agent=self.fake.agent()
        )
        self.addCleanup(driver.close)
        self.successResultOf(driver.list_clusters())
        self.assertEqual(self.fake.requests[-1].user, "admin")

    def test_the_context_namespace_is_where_pods_are_deployed(self) -> None:
        driver = self.driver(kubeconfig(user=f"token: {TOKEN}"))
        container = self.successResultOf(driver.deploy_container("web", "nginx:1.25"))
        self.assertEqual(container.extra["namespace"], "team-a")

    def test_arguments_win_over_the_file(self) -> None:
        driver = self.driver(kubeconfig(user=f"token: {TOKEN}"), ex_namespace="default")
        self.assertEqual(driver.ex_namespace, "default")

    def test_a_token_file_is_read(self) -> None:
        self.write("token", TOKEN + "\n")
        driver = self.driver(kubeconfig(user="tokenFile: token"))
        self.successResultOf(driver.list_clusters())
        self.assertEqual(self.fake.requests[-1].user, "alice")


class KubeconfigOverTLSTests(RealSocketTestCase):
    def kubeconfig(self, url: str, cluster: str, user: str) -> str:
        text = kubeconfig(cluster=cluster, user=user).replace("https://10.0.0.1:6443", url)
        return self.write("config", text.encode())

    @inline
    async def test_inline_certificates(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("alice", client=True)
        path = self.kubeconfig(
            url,
            cluster=f"certificate-authority-data: {b64(self.server_ca.pem)}",
            user=f"client-certificate-data: {b64(certificate)}\nclient-key-data: {b64(key)}",
        )
        driver = KubernetesContainerDriver.ex_from_kubeconfig(path, timeout=10)
        self.addCleanup(driver.close)
        [container] = await driver.list_containers()
        self.assertEqual(container.name, "web")
        self.assertEqual(self.fake.requests[-1].user, "alice")

    @inline
    async def test_certificate_files(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("bob", client=True)
        ca = os.path.abspath(self.write("ca.crt", self.server_ca.pem))
        cert = os.path.abspath(self.write("bob.crt", certificate))
        key_path = os.path.abspath(self.write("bob.key", key))
        path = self.kubeconfig(
            url,
            cluster=f"certificate-authority: {ca}",
            user=f"client-certificate: {cert}\nclient-key: {key_path}",
        )
        driver = KubernetesContainerDriver.ex_from_kubeconfig(path, timeout=10)
        self.addCleanup(driver.close)
        self.assertEqual(len(await driver.list_clusters()), 4)
        self.assertEqual(self.fake.requests[-1].user, "bob")

    @inline
    async def test_insecure_skip_tls_verify_accepts_an_unknown_server(self) -> None:
        url = await self.serve_tls()
        certificate, key = self.client_ca.issue("carol", client=True)
        path = self.kubeconfig(
            url,
            cluster="insecure-skip-tls-verify: true",
            user=f"client-certificate-data: {b64(certificate)}\nclient-key-data: {b64(key)}",
        )
        driver = KubernetesContainerDriver.ex_from_kubeconfig(path, timeout=10)
        self.addCleanup(driver.close)
        self.assertEqual(len(await driver.list_clusters()), 4)
        self.assertEqual(self.fake.requests[-1].user, "carol")
