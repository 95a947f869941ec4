"""Tests of txcloud.config: reading, checking and using the configuration file."""

from __future__ import annotations

import os
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.compute.drivers.dummy import DummyNodeDriver
from txcloud.config import (
    EMBEDDED_DEFAULTS,
    Defaults,
    ServiceSettings,
    Target,
    default_config_path,
    default_data_folder,
    load_config,
    parse_config,
)
from txcloud.errors import ConfigError, InvalidArgumentError
from txcloud.storage.drivers.local import LocalStorageDriver

SECRET = "s3cr3t-value-never-shown"

FULL = """
[defaults]
concurrency = 4
timeout = 2.5

[[compute]]
name = "east"
provider = "dummy"
regions = ["eu-1", "us-1"]
key = "the-key"
secret_env = "TEST_SECRET"
host = "127.0.0.1"
port = 5000
secure = false
options = { ex_node_count = 3 }

[[storage]]
name = "files"
provider = "local"
key = "{folder}"
"""


def _error(test: SynchronousTestCase, text: str, environ: dict[str, str] | None = None) -> str:
    """Parse *text* expecting a ConfigError; return its message."""
    error = test.assertRaises(ConfigError, parse_config, text, "conf.toml", environ or {})
    return str(error)


class ParseTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.folder = os.path.abspath(self.mktemp())
        self.config = parse_config(
            FULL.replace("{folder}", self.folder), "conf.toml", {"TEST_SECRET": SECRET}
        )

    def test_defaults_are_read(self) -> None:
        self.assertEqual(self.config.defaults, Defaults(concurrency=4, timeout=2.5))

    def test_missing_defaults_take_their_default_values(self) -> None:
        config = parse_config('[[compute]]\nname = "a"\nprovider = "dummy"\n', environ={})
        self.assertEqual(config.defaults, Defaults(concurrency=10, timeout=30.0))

    def test_one_target_per_region_in_file_order(self) -> None:
        self.assertEqual(
            self.config.targets,
            (
                Target("east", "compute", "dummy", "eu-1"),
                Target("east", "compute", "dummy", "us-1"),
                Target("files", "storage", "local", None),
            ),
        )

    def test_label_adds_the_region(self) -> None:
        self.assertEqual(
            [t.label for t in self.config.targets], ["east@eu-1", "east@us-1", "files"]
        )

    def test_single_region_key(self) -> None:
        config = parse_config(
            '[[compute]]\nname = "a"\nprovider = "dummy"\nregion = "r1"\n', environ={}
        )
        self.assertEqual(config.targets, (Target("a", "compute", "dummy", "r1"),))

    def test_targets_are_hashable_and_equal_by_value(self) -> None:
        self.assertEqual(
            {Target("a", "compute", "dummy"), Target("a", "compute", "dummy")},
            {Target("a", "compute", "dummy")},
        )

    def test_reprs_show_no_secret_nor_key(self) -> None:
        shown = repr(self.config) + "".join(repr(t) for t in self.config.targets)
        self.assertNotIn(SECRET, shown)
        self.assertNotIn("the-key", shown)
        self.assertIn("east", shown)

    def test_source_names_the_file(self) -> None:
        self.assertEqual(self.config.source, "conf.toml")


class SelectTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.config = parse_config(
            FULL.replace("{folder}", "/nowhere"), "conf.toml", {"TEST_SECRET": SECRET}
        )

    def test_by_kind(self) -> None:
        self.assertEqual([t.name for t in self.config.select("storage")], ["files"])

    def test_every_kind(self) -> None:
        self.assertEqual(len(self.config.select()), 3)

    def test_name_selects_every_region(self) -> None:
        self.assertEqual(
            [t.region for t in self.config.select("compute", "east")], ["eu-1", "us-1"]
        )

    def test_label_selects_one_region(self) -> None:
        self.assertEqual(
            self.config.select(name="east@us-1"), (Target("east", "compute", "dummy", "us-1"),)
        )

    def test_unknown_name_is_refused_with_the_known_ones(self) -> None:
        error = self.assertRaises(InvalidArgumentError, self.config.select, "compute", "west")
        self.assertEqual(
            str(error), "No compute target named 'west' in conf.toml; known: east@eu-1, east@us-1"
        )

    def test_name_of_another_kind_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.config.select, "compute", "files")

    def test_no_target_of_a_kind_is_an_empty_selection(self) -> None:
        self.assertEqual(self.config.select("container"), ())


class BuildDriverTests(SynchronousTestCase):
    def test_compute_driver_gets_every_argument(self) -> None:
        clock = Clock()
        config = parse_config(FULL.replace("{folder}", "/x"), "c.toml", {"TEST_SECRET": SECRET})
        driver = config.build_driver(config.targets[1], clock)
        assert isinstance(driver, DummyNodeDriver)
        self.assertEqual(
            (driver.key, driver._secret, driver.host, driver.port, driver.secure, driver.region),
            ("the-key", SECRET, "127.0.0.1", 5000, False, "us-1"),
        )
        self.assertIs(driver.reactor, clock)
        self.assertEqual(len(self.successResultOf(driver.list_nodes())), 3)

    def test_local_folder_is_created_with_home_expanded(self) -> None:
        home = os.path.abspath(self.mktemp())
        self.patch(os, "environ", dict(os.environ, HOME=home))
        config = parse_config(
            '[[storage]]\nname = "l"\nprovider = "local"\nkey = "~/data/store"\n', environ={}
        )
        driver = config.build_driver(config.targets[0], Clock())
        self.assertIsInstance(driver, LocalStorageDriver)
        self.assertEqual(driver.key, os.path.join(home, "data", "store"))
        self.assertTrue(os.path.isdir(driver.key))

    def test_option_the_driver_refuses_is_a_config_error(self) -> None:
        folder = os.path.abspath(self.mktemp())
        text = f'[[storage]]\nname = "l"\nprovider = "local"\nkey = "{folder}"\nregion = "r"\n'
        config = parse_config(text, "c.toml", {})
        error = self.assertRaises(ConfigError, config.build_driver, config.targets[0])
        self.assertIn("c.toml: l: the local driver refused its arguments", str(error))
        self.assertIn("region", str(error))


class RefusedValueTests(SynchronousTestCase):
    def test_invalid_toml(self) -> None:
        self.assertIn("conf.toml: invalid TOML", _error(self, "[[compute]\n"))

    def test_unknown_top_level_key(self) -> None:
        self.assertIn("conf.toml: top level: unknown key 'computes'", _error(self, "computes = 1"))

    def test_unknown_provider(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "nimbus"\n')
        self.assertIn("conf.toml: compute[0].provider: unknown compute provider 'nimbus'", message)
        self.assertRegex(message, r"known: .*\bdummy\b")

    def test_provider_of_another_kind(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "local"\n')
        self.assertIn("compute[0].provider: unknown compute provider 'local'", message)

    def test_missing_name(self) -> None:
        message = _error(self, '[[storage]]\nprovider = "local"\nkey = "/x"\n')
        self.assertEqual(message, "conf.toml: storage[0]: missing 'name'")

    def test_invalid_name(self) -> None:
        message = _error(self, '[[compute]]\nname = "a:b"\nprovider = "dummy"\n')
        self.assertIn("compute[0].name: 'a:b' is not a valid name", message)

    def test_duplicate_names_across_kinds(self) -> None:
        text = (
            '[[compute]]\nname = "a"\nprovider = "dummy"\n'
            '[[storage]]\nname = "a"\nprovider = "local"\nkey = "/x"\n'
        )
        self.assertEqual(
            _error(self, text), "conf.toml: storage[0].name: duplicate target name 'a'"
        )

    def test_wrong_type(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "dummy"\nport = "80"\n')
        self.assertEqual(message, "conf.toml: compute[0].port: must be an integer, not a string")

    def test_boolean_is_not_an_integer(self) -> None:
        message = _error(self, "[defaults]\nconcurrency = true\n")
        self.assertEqual(
            message, "conf.toml: defaults.concurrency: must be an integer, not a boolean"
        )

    def test_section_that_is_not_an_array_of_tables(self) -> None:
        message = _error(self, '[compute]\nname = "a"\n')
        self.assertIn("conf.toml: compute: must be an array of tables, not a table", message)

    def test_non_positive_timeout(self) -> None:
        self.assertIn("defaults.timeout: must be positive", _error(self, "[defaults]\ntimeout = 0"))

    def test_port_out_of_range(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "dummy"\nport = 70000\n')
        self.assertIn("compute[0].port: must be between 1 and 65535", message)

    def test_unknown_entry_key(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "dummy"\nsecert = "x"\n')
        self.assertIn("compute[0]: unknown key 'secert'", message)

    def test_empty_regions(self) -> None:
        message = _error(self, '[[compute]]\nname = "a"\nprovider = "dummy"\nregions = []\n')
        self.assertIn("compute[0].regions: must not be empty", message)

    def test_repeated_region(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\nregions = ["r", "r"]\n'
        self.assertIn("compute[0].regions: lists a region twice", _error(self, text))

    def test_region_and_regions(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\nregion = "r"\nregions = ["s"]\n'
        self.assertIn("compute[0]: give 'region' or 'regions', not both", _error(self, text))

    def test_reserved_option(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\noptions = { secret = "x" }\n'
        self.assertIn("compute[0].options: 'secret' cannot be an option", _error(self, text))

    def test_missing_environment_variable_is_named(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\nkey_env = "NO_SUCH_VARIABLE"\n'
        self.assertEqual(
            _error(self, text),
            "conf.toml: compute[0].key_env: environment variable 'NO_SUCH_VARIABLE' is not set",
        )

    def test_inline_and_environment_secret(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\nsecret = "x"\nsecret_env = "V"\n'
        self.assertIn("give 'secret' or 'secret_env', not both", _error(self, text))

    def test_secret_of_the_wrong_type_is_not_shown(self) -> None:
        text = '[[compute]]\nname = "a"\nprovider = "dummy"\nsecret = 123456789\n'
        message = _error(self, text)
        self.assertEqual(message, "conf.toml: compute[0].secret: must be a string, not an integer")
        self.assertNotIn("123456789", message)

    def test_config_error_is_an_invalid_argument_error(self) -> None:
        error = self.assertRaises(ConfigError, parse_config, "x = 1", "f.toml", {})
        self.assertIsInstance(error, InvalidArgumentError)
        self.assertEqual((error.source, error.key), ("f.toml", "top level"))


class ServiceSettingsTests(SynchronousTestCase):
    def test_no_service_table_means_no_token(self) -> None:
        config = parse_config('[[compute]]\nname = "a"\nprovider = "dummy"\n', environ={})
        self.assertEqual(config.service, ServiceSettings(token=None))

    def test_inline_token(self) -> None:
        config = parse_config(f'[service]\ntoken = "{SECRET}"\n', environ={})
        self.assertEqual(config.service.token, SECRET)

    def test_token_from_the_environment(self) -> None:
        config = parse_config('[service]\ntoken_env = "TOKEN"\n', environ={"TOKEN": SECRET})
        self.assertEqual(config.service.token, SECRET)

    def test_missing_environment_variable_is_named(self) -> None:
        self.assertEqual(
            _error(self, '[service]\ntoken_env = "NO_SUCH_TOKEN"\n'),
            "conf.toml: service.token_env: environment variable 'NO_SUCH_TOKEN' is not set",
        )

    def test_token_and_token_env(self) -> None:
        message = _error(self, '[service]\ntoken = "a"\ntoken_env = "B"\n', {"B": "b"})
        self.assertEqual(message, "conf.toml: service: give 'token' or 'token_env', not both")

    def test_unknown_key(self) -> None:
        message = _error(self, '[service]\ntokn = "a"\n')
        self.assertEqual(
            message, "conf.toml: service: unknown key 'tokn'; expected one of token, token_env"
        )

    def test_service_that_is_not_a_table(self) -> None:
        message = _error(self, 'service = "on"\n')
        self.assertEqual(message, "conf.toml: service: must be a table, not a string")

    def test_token_that_cannot_be_sent_in_a_header_is_refused_unshown(self) -> None:
        for token in ("two words", "", "caf\u00e9", "tab\\there"):
            message = _error(self, f'[service]\ntoken = "{token}"\n')
            self.assertEqual(
                message, "conf.toml: service: the token must be printable ASCII without spaces"
            )

    def test_token_is_in_no_repr(self) -> None:
        config = parse_config(f'[service]\ntoken = "{SECRET}"\n', environ={})
        self.assertNotIn(SECRET, repr(config))
        self.assertNotIn(SECRET, repr(config.service))

    def test_embedded_defaults_have_no_token(self) -> None:
        config = load_config(environ={"XDG_CONFIG_HOME": os.path.abspath(self.mktemp())})
        self.assertEqual((config.source, config.service.token), (EMBEDDED_DEFAULTS, None))


class LoadTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.home = os.path.abspath(self.mktemp())
        self.environ = {
            "XDG_CONFIG_HOME": os.path.join(self.home, "config"),
            "XDG_DATA_HOME": os.path.join(self.home, "data"),
        }

    def _write(self, path: str, text: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def test_default_paths_follow_xdg(self) -> None:
        self.assertEqual(
            default_config_path(self.environ),
            os.path.join(self.home, "config", "txcloud", "txcloud.toml"),
        )
        self.assertEqual(
            default_data_folder(self.environ), os.path.join(self.home, "data", "txcloud", "data")
        )

    def test_default_paths_without_xdg_are_under_home(self) -> None:
        self.patch(os, "environ", dict(os.environ, HOME=self.home))
        self.assertEqual(
            default_config_path({"XDG_CONFIG_HOME": "relative/ignored"}),
            os.path.join(self.home, ".config", "txcloud", "txcloud.toml"),
        )
        self.assertEqual(
            default_data_folder({}), os.path.join(self.home, ".local", "share", "txcloud", "data")
        )

    def test_txcloud_config_names_the_file(self) -> None:
        self.assertEqual(default_config_path({"TXCLOUD_CONFIG": "/etc/tx.toml"}), "/etc/tx.toml")

    def test_no_file_gives_the_embedded_defaults(self) -> None:
        config = load_config(environ=self.environ)
        self.assertEqual(config.source, EMBEDDED_DEFAULTS)
        self.assertEqual(
            config.targets,
            (Target("dummy", "compute", "dummy"), Target("local", "storage", "local")),
        )

    def test_embedded_local_target_creates_its_folder_on_demand(self) -> None:
        config = load_config(environ=self.environ)
        folder = default_data_folder(self.environ)
        self.assertFalse(os.path.exists(folder))
        driver = config.build_driver(config.targets[1], Clock())
        self.assertEqual(driver.key, folder)
        self.assertTrue(os.path.isdir(folder))

    def test_file_at_the_default_path_is_read(self) -> None:
        path = default_config_path(self.environ)
        self._write(path, '[[compute]]\nname = "only"\nprovider = "dummy"\n')
        config = load_config(environ=self.environ)
        self.assertEqual(config.source, path)
        self.assertEqual([t.name for t in config.targets], ["only"])

    def test_named_file_that_is_missing_is_an_error(self) -> None:
        path = os.path.join(self.home, "missing.toml")
        error = self.assertRaises(ConfigError, load_config, path, self.environ)
        self.assertEqual(str(error), f"{path}: no such file")

    def test_txcloud_config_file_that_is_missing_is_an_error(self) -> None:
        path = os.path.join(self.home, "missing.toml")
        environ = dict(self.environ, TXCLOUD_CONFIG=path)
        error = self.assertRaises(ConfigError, load_config, None, environ)
        self.assertEqual(error.source, path)

    def test_errors_name_the_file(self) -> None:
        path = os.path.join(self.home, "bad.toml")
        self._write(path, '[[compute]]\nname = "a"\nprovider = "nimbus"\n')
        error = self.assertRaises(ConfigError, load_config, path, self.environ)
        self.assertTrue(str(error).startswith(f"{path}: compute[0].provider: "))

    def test_file_that_is_not_utf8(self) -> None:
        path = os.path.join(self.home, "latin1.toml")
        os.makedirs(self.home)
        with open(path, "wb") as f:
            f.write(b"# caf\xe9\n[defaults]\n")
        error = self.assertRaises(ConfigError, load_config, path, self.environ)
        self.assertEqual(str(error), f"{path}: not UTF-8 text")

    def test_secret_from_the_environment_reaches_the_driver(self) -> None:
        path = os.path.join(self.home, "c.toml")
        self._write(path, '[[compute]]\nname = "a"\nprovider = "dummy"\nsecret_env = "S"\n')
        config = load_config(path, {"S": SECRET})
        self.assertEqual(config.build_driver(config.targets[0], Clock())._secret, SECRET)


class ProxyKeyTests(SynchronousTestCase):
    """The ``proxy`` key gives an entry's drivers their ``ex_proxy``."""

    ENTRY = '[[storage]]\nname = "s3"\nprovider = "s3"\nkey = "AKID"\nsecret = "s"\n'

    def test_proxy_goes_to_the_driver_as_ex_proxy(self) -> None:
        config = parse_config(self.ENTRY + 'proxy = "http://u:pw@proxy.corp:3128"\n', environ={})
        driver: Any = config.build_driver(config.targets[0], Clock())
        self.addCleanup(driver.close)
        self.assertEqual((driver._proxy.https.host, driver._proxy.https.port), ("proxy.corp", 3128))

    def test_proxy_from_the_environment_and_never_shown(self) -> None:
        environ = {"CORP_PROXY": "http://u:hunter2@proxy.corp:3128"}
        config = parse_config(self.ENTRY + 'proxy_env = "CORP_PROXY"\n', environ=environ)
        self.assertNotIn("hunter2", repr(config))
        driver: Any = config.build_driver(config.targets[0], Clock())
        self.addCleanup(driver.close)
        self.assertEqual(driver._proxy.https.password, "hunter2")

    def test_an_empty_proxy_means_none(self) -> None:
        config = parse_config(self.ENTRY + 'proxy = ""\n', environ={})
        driver: Any = config.build_driver(config.targets[0], Clock())
        self.assertIsNone(driver._proxy)

    def test_a_bad_proxy_is_refused_naming_the_key_not_the_password(self) -> None:
        message = _error(self, self.ENTRY + 'proxy = "socks5://u:hunter2@proxy:1080"\n')
        self.assertIn("storage[0].proxy", message)
        self.assertNotIn("hunter2", message)

    def test_ex_proxy_is_not_an_option(self) -> None:
        message = _error(self, self.ENTRY + 'options = { ex_proxy = "http://p:1" }\n')
        self.assertIn("'ex_proxy' cannot be an option", message)
