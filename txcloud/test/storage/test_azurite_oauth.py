"""
Integration tests of Azure AD tokens against Azurite over HTTPS with
``--oauth basic`` (see :data:`txcloud.test.azure_services.azurite_oauth`),
on the real reactor.  Azurite checks each token's audience, issuer and
times (not its signature); its development key is replaced by a random
one, so the published key is refused and only a token gets in.

The tokens come from txcloud.testing.azure's fakes on 127.0.0.1: Azure AD
served over HTTPS with a certificate of the test's throwaway CA, trusted
through ``SSL_CERT_FILE`` (as the platform's trust store is), and App
Service's managed identity endpoint over HTTP.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from twisted.internet import ssl
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from txcloud.auth.azure import ClientSecretTokens
from txcloud.errors import InvalidCredsError
from txcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
from txcloud.test.auth.test_azure_identity import make_certificate
from txcloud.test.azure_services import ACCOUNT, ACCOUNT_KEY, azurite_oauth
from txcloud.test.emulators import reactor
from txcloud.test.storage._integration import round_trip
from txcloud.testing.azure import DEFAULT_TENANT, FakeAzureAD, FakeManagedIdentity

CLIENT_ID = "0f0f0f0f-1111-4222-8333-444444444444"
SECRET = "a-client-secret"


class AzuriteOAuthTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        return azurite_oauth.ensure_started().addCallback(self._trust_the_ca)

    def _trust_the_ca(self, _: object) -> None:
        previous = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = azurite_oauth.ca_file
        self.addCleanup(_restore, "SSL_CERT_FILE", previous)
        self.environ: dict[str, str] = {}

    def listen_tls(self, resource: Any) -> int:
        folder = os.path.dirname(azurite_oauth.ca_file)
        with open(os.path.join(folder, "server-cert.pem"), "rb") as cert:
            pem = cert.read()
        with open(os.path.join(folder, "server-key.pem"), "rb") as key:
            pem += key.read()
        options = ssl.PrivateCertificate.loadPEM(pem).options()
        port = reactor.listenSSL(0, resource, options, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port
        return number

    def listen(self, resource: Any) -> int:
        port = reactor.listenTCP(0, resource, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port
        return number

    def driver(self, **options: Any) -> AzureBlobsStorageDriver:
        driver = AzureBlobsStorageDriver(
            ACCOUNT,
            options.pop("secret", None),
            host="127.0.0.1",
            port=azurite_oauth.port,
            secure=True,
            ex_environ=self.environ,
            **options,
        )
        self.addCleanup(driver.close)
        return driver

    async def round_trip(self, driver: Any) -> None:
        await round_trip(self, driver, f"oauth-{secrets.token_hex(5)}")

    def azure_ad(self) -> FakeAzureAD:
        fake = FakeAzureAD(reactor)
        fake.add_client_secret(CLIENT_ID, SECRET)
        port = self.listen_tls(fake.site())
        self.environ.update(
            AZURE_TENANT_ID=DEFAULT_TENANT,
            AZURE_CLIENT_ID=CLIENT_ID,
            AZURE_CLIENT_SECRET=SECRET,
            AZURE_AUTHORITY_HOST=f"https://127.0.0.1:{port}",
        )
        return fake

    async def test_client_secret_tokens_from_azure_ad_get_in(self) -> None:
        fake = self.azure_ad()
        await self.round_trip(self.driver())
        self.assertEqual(len(fake.grants), 1)
        self.assertEqual(fake.grants[0].scope, "https://storage.azure.com/.default")

    async def test_certificate_and_workload_identity_tokens_get_in(self) -> None:
        fake = self.azure_ad()
        del self.environ["AZURE_CLIENT_SECRET"]
        key, certificate = make_certificate()
        fake.add_client_certificate(CLIENT_ID, certificate)
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(certificate.public_bytes(serialization.Encoding.PEM))
            file.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        self.environ["AZURE_CLIENT_CERTIFICATE_PATH"] = path
        await self.round_trip(self.driver())

        del self.environ["AZURE_CLIENT_CERTIFICATE_PATH"]
        workload_client = "0e0e0e0e-1111-4222-8333-444444444444"
        fake.add_federated_token(workload_client, "projected-service-account-token")
        token_file = self.mktemp()
        with open(token_file, "w") as file:
            file.write("projected-service-account-token")
        self.environ.update(AZURE_CLIENT_ID=workload_client, AZURE_FEDERATED_TOKEN_FILE=token_file)
        await self.round_trip(self.driver())
        self.assertEqual([grant.proof for grant in fake.grants], ["certificate", "federated"])

    async def test_managed_identity_tokens_get_in_and_are_refreshed(self) -> None:
        fake = FakeManagedIdentity(reactor)
        # Ten minutes and three seconds: three seconds later callers wait
        # for a new token (a margin a first round trip keeps even on a busy
        # machine).  Refreshes in the background are spaced a minute apart:
        # the Clock tests cover them.
        fake.tokens.lifetime = 603
        port = self.listen(fake.site())
        self.environ.update(
            IDENTITY_ENDPOINT=f"http://127.0.0.1:{port}/msi/token",
            IDENTITY_HEADER=fake.identity_header,
        )
        driver = self.driver()
        await self.round_trip(driver)
        self.assertEqual(len(fake.requests), 1)
        fake.tokens.lifetime = 3600
        await deferLater(reactor, 3.2)
        await self.round_trip(driver)
        self.assertEqual(len(fake.tokens.issued), 2)
        self.assertEqual(fake.requests[-1], ("app-service", "https://storage.azure.com", None))

    async def test_the_published_development_key_is_refused(self) -> None:
        with self.assertRaises(InvalidCredsError):
            await self.driver(secret=ACCOUNT_KEY).list_containers()
        # The key Azurite was given does get in: the refusal is about the key.
        await self.driver(secret=azurite_oauth.account_key).list_containers()

    async def test_a_token_for_another_audience_is_refused(self) -> None:
        fake = self.azure_ad()
        vault = ClientSecretTokens(
            DEFAULT_TENANT,
            CLIENT_ID,
            SECRET,
            authority=self.environ["AZURE_AUTHORITY_HOST"],
            scope="https://vault.azure.net/.default",
            reactor=reactor,
        )
        with self.assertRaises(InvalidCredsError):
            await self.driver(ex_credentials=vault).list_containers()
        self.assertEqual(len(fake.grants), 1)

    async def test_a_token_endpoint_refusing_the_secret_fails_before_azurite_is_asked(
        self,
    ) -> None:
        fake = self.azure_ad()
        self.environ["AZURE_CLIENT_SECRET"] = "wrong"
        with self.assertRaises(InvalidCredsError) as caught:
            await self.driver().list_containers()
        self.assertIn("Azure AD", str(caught.exception))
        self.assertEqual(fake.grants, [])


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
