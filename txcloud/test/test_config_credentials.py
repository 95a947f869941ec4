"""
Tests of ``credentials = "default"`` in txcloud.config: Google Cloud Storage
and Azure Blobs targets built with the credentials their clouds' own tools
would find in the configuration's environment.
"""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.azure import ClientSecretTokens
from txcloud.config import parse_config
from txcloud.errors import ConfigError
from txcloud.test.auth.test_google_adc import SERVICE_ACCOUNT
from txcloud.test.storage.test_azure_blobs import ACCOUNT, KEY


class DefaultCredentialsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.home = self.mktemp()
        os.makedirs(self.home)
        self.environ: dict[str, str] = {"HOME": self.home}

    def build(self, entry: str) -> Any:
        config = parse_config(f"[[storage]]\n{entry}", environ=self.environ)
        driver = config.build_driver(config.targets[0], reactor=Clock())
        self.addCleanup(driver.close)
        return driver

    def test_google_targets_use_application_default_credentials(self) -> None:
        path = os.path.join(self.home, "sa.json")
        with open(path, "w") as file:
            json.dump(SERVICE_ACCOUNT, file)
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path
        driver = self.build('name = "g"\nprovider = "google_storage"\ncredentials = "default"')
        self.assertEqual(driver.project, "project-9")
        self.assertIsNotNone(driver.tokens)

    def test_azure_targets_use_azure_ad_tokens_from_the_environment(self) -> None:
        self.environ.update(
            AZURE_TENANT_ID="tenant", AZURE_CLIENT_ID="client", AZURE_CLIENT_SECRET="s"
        )
        driver = self.build(
            f'name = "a"\nprovider = "azure_blobs"\nkey = "{ACCOUNT}"\ncredentials = "default"'
        )
        self.assertIsInstance(driver._tokens, ClientSecretTokens)

    def test_azure_targets_without_an_account_read_the_connection_string(self) -> None:
        self.environ["AZURE_STORAGE_CONNECTION_STRING"] = f"AccountName={ACCOUNT};AccountKey={KEY}"
        driver = self.build('name = "a"\nprovider = "azure_blobs"\ncredentials = "default"')
        self.assertEqual(driver.key, ACCOUNT)
        self.assertEqual(driver.account_url, f"https://{ACCOUNT}.blob.core.windows.net")

    def test_refused_combinations(self) -> None:
        for entry, problem in (
            ('provider = "google_storage"\ncredentials = "default"\nkey = "k"', "not both"),
            ('provider = "azure_blobs"\ncredentials = "default"\nsecret = "s"', "not both"),
            ('provider = "s3"\ncredentials = "default"', "only for"),
            ('provider = "google_storage"\ncredentials = "env"', "must be 'default'"),
        ):
            error = self.assertRaises(
                ConfigError, parse_config, f'[[storage]]\nname = "t"\n{entry}', "c.toml", {}
            )
            self.assertIn(problem, str(error))
            self.assertNotIn("'s'", str(error))
