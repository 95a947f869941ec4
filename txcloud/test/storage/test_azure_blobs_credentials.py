"""
Unit tests of how the Azure Blobs driver authorises without an account key
or SAS (Azure AD tokens) and reads ``AZURE_STORAGE_CONNECTION_STRING``.
"""

from __future__ import annotations

from twisted.internet.task import Clock

from txcloud.auth.azure import STORAGE_API_VERSION, ManagedIdentityTokens
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
from txcloud.test.storage._scripted import ScriptedDriverTestCase
from txcloud.test.storage.test_azure_blobs import ACCOUNT, KEY, _created, _error
from txcloud.testing.azure import FakeManagedIdentity


class TokenTests(ScriptedDriverTestCase[AzureBlobsStorageDriver]):
    def setUp(self) -> None:
        self.identity = FakeManagedIdentity(Clock())
        self.tokens = ManagedIdentityTokens(
            environ={
                "IDENTITY_ENDPOINT": "http://identity.test/token",
                "IDENTITY_HEADER": self.identity.identity_header,
            },
            reactor=self.identity.clock,
            agent=self.identity.agent(),
        )

    def test_requests_carry_a_bearer_token_a_date_and_the_version(self) -> None:
        driver = self.connect(
            AzureBlobsStorageDriver, (_created(),), ACCOUNT, None, ex_credentials=self.tokens
        )
        self.result(driver.create_container("photos"))
        [received] = self.received
        self.assertEqual(
            received.header("Authorization"), f"Bearer {self.identity.tokens.issued[0]}"
        )
        self.assertEqual(received.header("x-ms-version"), STORAGE_API_VERSION)
        self.assertIsNotNone(received.header("x-ms-date"))

    def test_a_refused_token_is_fetched_again(self) -> None:
        driver = self.connect(
            AzureBlobsStorageDriver,
            (_error(401, "InvalidAuthenticationInfo"), _created()),
            ACCOUNT,
            None,
            ex_credentials=self.tokens,
        )
        self.failure(driver.create_container("photos"), InvalidCredsError)
        self.result(driver.create_container("photos"))
        self.assertEqual(
            self.received[1].header("Authorization"), f"Bearer {self.identity.tokens.issued[1]}"
        )

    def test_tokens_are_never_sent_over_plain_http(self) -> None:
        self.assertRaises(
            InvalidArgumentError,
            AzureBlobsStorageDriver,
            ACCOUNT,
            None,
            secure=False,
            ex_credentials=self.tokens,
        )


class ConnectionStringTests(ScriptedDriverTestCase[AzureBlobsStorageDriver]):
    def test_account_key_and_endpoint_come_from_the_environment(self) -> None:
        environ = {
            "AZURE_STORAGE_CONNECTION_STRING": (
                f"AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint=http://127.0.0.1:10000/{ACCOUNT}"
            )
        }
        driver = self.connect(AzureBlobsStorageDriver, (_created(),), None, ex_environ=environ)
        self.assertEqual(driver.account_url, f"http://127.0.0.1:10000/{ACCOUNT}")
        self.result(driver.create_container("photos"))
        [received] = self.received
        self.assertEqual(received.uri, f"/{ACCOUNT}/photos?restype=container")
        self.assertTrue(str(received.header("Authorization")).startswith(f"SharedKey {ACCOUNT}:"))

    def test_a_sas_connection_string(self) -> None:
        environ = {
            "AZURE_STORAGE_CONNECTION_STRING": (
                f"BlobEndpoint=https://{ACCOUNT}.blob.core.windows.net/;"
                "SharedAccessSignature=sv=2025-01-05&se=2030-01-01&sp=rwdl&sig=c2ln"
            )
        }
        driver = self.connect(AzureBlobsStorageDriver, (_created(),), None, ex_environ=environ)
        self.assertEqual(driver.account_url, f"https://{ACCOUNT}.blob.core.windows.net")
        self.result(driver.create_container("photos"))
        self.assertIn("sig=c2ln", self.received[0].uri)

    def test_no_account_and_no_connection_string_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, AzureBlobsStorageDriver, None, ex_environ={})
