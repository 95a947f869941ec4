"""
Unit tests of how the Google Cloud Storage driver finds its credentials and
project: Application Default Credentials with ``key=None``, no credentials
with ``key=""``, ``STORAGE_EMULATOR_HOST``, and the project's order.
"""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet.task import Clock

from txcloud.auth.google import STORAGE_FULL_CONTROL, application_default_credentials
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.test.auth.test_google_adc import SERVICE_ACCOUNT
from txcloud.test.storage._scripted import query_of
from txcloud.test.storage.test_google_storage import GCSTestCase, _error, _json
from txcloud.testing.google import FakeMetadataServer

_NO_BUCKETS = _json({"kind": "storage#buckets"})


class DefaultCredentialsTests(GCSTestCase):
    def setUp(self) -> None:
        self.home = self.mktemp()
        os.makedirs(self.home)
        self.environ = {"HOME": self.home}
        self.metadata = FakeMetadataServer(Clock())

    def metadata_credentials(self) -> Any:
        return application_default_credentials(
            (STORAGE_FULL_CONTROL,),
            environ=self.environ,
            reactor=self.metadata.clock,
            agent=self.metadata.agent(),
        )

    def write(self, document: Any) -> str:
        path = os.path.join(self.home, "credentials.json")
        with open(path, "w") as file:
            json.dump(document, file)
        return path

    def test_the_emulator_host_means_no_credentials_even_with_some_configured(self) -> None:
        self.environ.update(
            STORAGE_EMULATOR_HOST="http://127.0.0.1:4443",
            GOOGLE_CLOUD_PROJECT="emulated",
            GOOGLE_APPLICATION_CREDENTIALS=os.path.join(self.home, "unread.json"),
        )
        driver = self.connect(GoogleStorageDriver, (_NO_BUCKETS,), None, ex_environ=self.environ)
        self.assertEqual(driver.endpoint, "http://127.0.0.1:4443")
        self.assertEqual(self.result(driver.list_containers()), [])
        self.assertIsNone(self.received[0].header("Authorization"))
        self.assertEqual(query_of(self.received[0])["project"], "emulated")

    def test_an_emulator_host_that_is_no_url_is_refused(self) -> None:
        self.environ["STORAGE_EMULATOR_HOST"] = "ftp://somewhere"
        self.assertRaises(InvalidArgumentError, GoogleStorageDriver, None, ex_environ=self.environ)

    def test_an_empty_key_sends_nothing_and_looks_for_nothing(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = os.path.join(self.home, "unread.json")
        driver = self.make(_NO_BUCKETS, ex_environ=self.environ)
        self.result(driver.list_containers())
        self.assertIsNone(self.received[0].header("Authorization"))

    def test_no_key_refuses_a_bad_credentials_file_before_any_request(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write({"type": "external_account"})
        error = self.assertRaises(
            InvalidCredsError, GoogleStorageDriver, None, ex_environ=self.environ
        )
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS", error.message)

    def test_no_key_takes_the_project_of_the_credentials_file(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write(SERVICE_ACCOUNT)
        driver = GoogleStorageDriver(None, ex_environ=self.environ, reactor=Clock())
        self.assertEqual(driver.project, "project-9")
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS", repr(driver))
        self.environ["GOOGLE_CLOUD_PROJECT"] = "from-env"
        driver = GoogleStorageDriver(None, ex_environ=self.environ, reactor=Clock())
        self.assertEqual(driver.project, "from-env")
        driver = GoogleStorageDriver(
            None, ex_environ=self.environ, reactor=Clock(), project="given"
        )
        self.assertEqual(driver.project, "given")

    def test_metadata_tokens_are_sent_and_its_project_used(self) -> None:
        driver = self.connect(
            GoogleStorageDriver,
            (_NO_BUCKETS,),
            None,
            ex_credentials=self.metadata_credentials(),
            ex_environ=self.environ,
        )
        self.assertIsNone(driver.project)
        self.result(driver.list_containers())
        self.assertEqual(self.received[0].header("Authorization"), "Bearer ya29.metadata-1")
        self.assertEqual(query_of(self.received[0])["project"], "fake-project")

    def test_a_refused_token_is_fetched_again_for_the_next_request(self) -> None:
        driver = self.connect(
            GoogleStorageDriver,
            (_error(401, "authError"), _NO_BUCKETS),
            None,
            ex_credentials=self.metadata_credentials(),
            ex_project="p",
        )
        self.failure(driver.list_containers(), InvalidCredsError)
        self.result(driver.list_containers())
        self.assertEqual(self.received[1].header("Authorization"), "Bearer ya29.metadata-2")
