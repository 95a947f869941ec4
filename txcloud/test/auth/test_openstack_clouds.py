"""
Tests of txcloud.auth.openstack.clouds: ``OS_CLOUD`` and ``clouds.yaml``
in the standard places, and the ``OS_*`` variables, read from injected
environments (never the real home folder).
"""

from __future__ import annotations

import json
import os
import textwrap

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.openstack import OpenStackSettings, find_settings
from txcloud.auth.openstack.clouds import clouds_search_path
from txcloud.compute.drivers.openstack import OpenStackNodeDriver
from txcloud.errors import ConfigError, InvalidArgumentError
from txcloud.testing.openstack import DEFAULT_PASSWORD, DEFAULT_PROJECT, DEFAULT_USER, FakeOpenStack

CLOUDS = """
clouds:
  prod:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: alice
      password: from-clouds-yaml
      project_name: demo
      user_domain_name: Users
      project_domain_id: d-7
    region_name: RegionTwo
    interface: internal
    cacert: /etc/ssl/openstack.pem
  ci:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example.com:5000
      application_credential_id: 21dced0fd20347869b93710d2b98aae0
      application_credential_secret: app-secret
    regions: [RegionOne, RegionTwo]
    verify: false
"""


class EnvironmentTests(SynchronousTestCase):
    def test_password_variables(self) -> None:
        settings = find_settings(
            {
                "OS_AUTH_URL": "https://k:5000/v3",
                "OS_USERNAME": "alice",
                "OS_PASSWORD": "pw",
                "OS_TENANT_NAME": "old-name",
                "OS_PROJECT_NAME": "demo",
                "OS_USER_DOMAIN_NAME": "Users",
                "OS_PROJECT_DOMAIN_NAME": "Projects",
                "OS_REGION_NAME": "RegionOne",
                "OS_INTERFACE": "internal",
            }
        )
        credentials = settings.credentials
        self.assertEqual(
            (credentials.method, credentials.user_name, credentials.project_name),
            ("password", "alice", "demo"),
        )
        self.assertEqual(
            (credentials.user_domain_name, credentials.project_domain_name), ("Users", "Projects")
        )
        self.assertEqual((settings.region, settings.interface), ("RegionOne", "internal"))
        self.assertNotIn("pw", repr(settings))

    def test_application_credential_and_token_variables(self) -> None:
        appcred = find_settings(
            {
                "OS_AUTH_URL": "https://k:5000",
                "OS_APPLICATION_CREDENTIAL_ID": "i",
                "OS_APPLICATION_CREDENTIAL_SECRET": "s",
                "OS_PROJECT_NAME": "ignored: the credential has its own",
            }
        )
        self.assertEqual(appcred.credentials.method, "application_credential")
        token = find_settings({"OS_AUTH_URL": "https://k", "OS_TOKEN": "t", "OS_PROJECT_ID": "p"})
        self.assertEqual((token.credentials.method, token.credentials.project_id), ("token", "p"))

    def test_no_auth_url_says_where_it_looked(self) -> None:
        error = self.assertRaises(InvalidArgumentError, find_settings, {"OS_USERNAME": "a"})
        self.assertIn("OS_AUTH_URL", str(error))
        self.assertIn("OS_* environment variables", str(error))

    def test_an_unknown_auth_type_is_refused(self) -> None:
        environ = {"OS_AUTH_URL": "https://k", "OS_AUTH_TYPE": "v3oidcpassword"}
        self.assertRaises(ConfigError, find_settings, environ)


class CloudsYamlTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        self.cwd = os.path.join(self.home, "project")
        os.makedirs(self.cwd)

    def write(self, folder: str, text: str, name: str = "clouds.yaml") -> str:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path

    def find(self, environ: dict[str, str], **kwargs: str) -> OpenStackSettings:
        folders = clouds_search_path({"HOME": self.home, **environ}, cwd=self.cwd)
        return find_settings(environ, search_path=folders, **kwargs)

    def test_the_search_path_is_cwd_then_the_users_then_the_systems(self) -> None:
        self.assertEqual(
            clouds_search_path({"HOME": "/home/a"}, cwd="/w"),
            ["/w", "/home/a/.config/openstack", "/etc/openstack"],
        )
        self.assertEqual(
            clouds_search_path({"XDG_CONFIG_HOME": "/x"}, cwd="/w"),
            ["/w", "/x/openstack", "/etc/openstack"],
        )

    def test_os_cloud_reads_the_users_clouds_yaml(self) -> None:
        self.write(os.path.join(self.home, ".config", "openstack"), CLOUDS)
        settings = self.find({"OS_CLOUD": "prod", "HOME": self.home})
        credentials = settings.credentials
        self.assertEqual(credentials.auth_url, "https://keystone.example.com:5000/v3")
        self.assertEqual(
            (credentials.user_domain_name, credentials.project_domain_id), ("Users", "d-7")
        )
        self.assertEqual(
            (settings.region, settings.interface, settings.ca_file),
            ("RegionTwo", "internal", "/etc/ssl/openstack.pem"),
        )
        self.assertIn("cloud 'prod' of", settings.source)

    def test_the_current_folder_comes_first(self) -> None:
        self.write(os.path.join(self.home, ".config", "openstack"), CLOUDS)
        self.write(
            self.cwd,
            "clouds:\n  prod:\n    auth: {auth_url: 'https://here', token: t, project_id: p}\n",
        )
        settings = self.find({"OS_CLOUD": "prod", "HOME": self.home})
        self.assertEqual(settings.credentials.auth_url, "https://here/v3")

    def test_an_application_credential_cloud_with_regions_and_no_verify(self) -> None:
        self.write(self.cwd, CLOUDS)
        settings = self.find({"HOME": self.home, "OS_REGION_NAME": "RegionTwo"}, cloud="ci")
        self.assertEqual(settings.credentials.method, "application_credential")
        self.assertEqual((settings.region, settings.verify), ("RegionTwo", False))

    def test_secure_yaml_beside_it_holds_the_password(self) -> None:
        self.write(self.cwd, CLOUDS.replace("      password: from-clouds-yaml\n", ""))
        self.write(
            self.cwd, "clouds:\n  prod:\n    auth:\n      password: from-secure\n", "secure.yaml"
        )
        settings = self.find({"OS_CLOUD": "prod"})
        self.assertEqual(settings.credentials.password, "from-secure")

    def test_os_client_config_file_names_the_file(self) -> None:
        path = self.write(
            os.path.join(self.home, "elsewhere"),
            json.dumps(
                {
                    "clouds": {
                        "j": {"auth": {"auth_url": "https://j", "token": "t", "project_name": "p"}}
                    }
                }
            ),
            "clouds.json",
        )
        settings = self.find({"OS_CLOUD": "j", "OS_CLIENT_CONFIG_FILE": path})
        self.assertEqual(settings.credentials.method, "token")

    def test_an_unknown_cloud_lists_the_known_ones(self) -> None:
        path = self.write(self.cwd, CLOUDS)
        error = self.assertRaises(ConfigError, self.find, {"OS_CLOUD": "staging"})
        self.assertIn(path, str(error))
        self.assertIn("known: ci, prod", str(error))

    def test_no_clouds_yaml_names_the_folders_looked_in(self) -> None:
        error = self.assertRaises(InvalidArgumentError, self.find, {"OS_CLOUD": "prod"})
        self.assertIn(self.cwd, str(error))

    def test_invalid_yaml_is_refused_without_quoting_it(self) -> None:
        self.write(self.cwd, "clouds:\n  prod: {auth: {password: 'hunter2\n")
        error = self.assertRaises(ConfigError, self.find, {"OS_CLOUD": "prod"})
        self.assertNotIn("hunter2", str(error))

    def test_identity_v2_is_refused(self) -> None:
        self.write(
            self.cwd,
            "clouds:\n  old:\n    identity_api_version: 2\n    auth: {auth_url: 'https://k'}\n",
        )
        self.assertRaises(ConfigError, self.find, {"OS_CLOUD": "old"})


class DriverFromEnvironmentTests(SynchronousTestCase):
    def test_a_driver_without_credentials_uses_the_os_variables(self) -> None:
        clock = Clock()
        cloud = FakeOpenStack(clock=clock)
        cloud.add_server("web-1", region="RegionTwo")
        environ = {
            "OS_AUTH_URL": "http://openstack.test/v3",
            "OS_USERNAME": DEFAULT_USER,
            "OS_PASSWORD": DEFAULT_PASSWORD,
            "OS_PROJECT_NAME": DEFAULT_PROJECT,
            "OS_REGION_NAME": "RegionTwo",
        }
        driver = OpenStackNodeDriver(ex_environ=environ, reactor=clock, ex_agent=cloud.agent())
        self.assertEqual(driver.region, "RegionTwo")
        [node] = self.successResultOf(driver.list_nodes())
        self.assertEqual(node.name, "web-1")

    def test_ex_cloud_with_credentials_is_refused(self) -> None:
        self.assertRaises(
            InvalidArgumentError,
            OpenStackNodeDriver,
            "alice",
            "pw",
            ex_force_auth_url="https://k",
            ex_tenant_name="p",
            ex_cloud="prod",
        )
