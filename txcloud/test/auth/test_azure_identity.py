"""
Unit tests of Azure AD tokens (txcloud.auth.azure.entra, .certificate,
.managed_identity, .chain) and connection strings: DefaultAzureCredential's
order from an injected environment, each grant against
txcloud.testing.azure's fakes through in-memory agents, errors without
secrets, and the refresh rules on a Clock.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase

from txcloud.auth.azure import (
    STORAGE_SCOPE,
    ClientCertificateTokens,
    ClientSecretTokens,
    ManagedIdentityTokens,
    WorkloadIdentityTokens,
    default_azure_tokens,
    parse_connection_string,
)
from txcloud.errors import InvalidArgumentError, InvalidCredsError
from txcloud.test.http._support import RefusingAgent, capture_logs
from txcloud.testing.azure import DEFAULT_TENANT, FakeAzureAD, FakeManagedIdentity

CLIENT_ID = "11111111-2222-4333-8444-555555555555"
SECRET = "client-secret-never-shown"


def make_certificate(common_name: str = "txcloud test app") -> tuple[rsa.RSAPrivateKey, Any]:
    """A throwaway self-signed certificate and its key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


KEY, CERTIFICATE = make_certificate()


class AzureTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.folder = self.mktemp()
        os.makedirs(self.folder)
        self.ad = FakeAzureAD(self.clock)
        self.ad.add_client_secret(CLIENT_ID, SECRET)
        self.identity = FakeManagedIdentity(self.clock)
        self.environ: dict[str, str] = {}

    def client_environ(self, **more: str) -> None:
        self.environ.update(
            AZURE_TENANT_ID=DEFAULT_TENANT,
            AZURE_CLIENT_ID=CLIENT_ID,
            AZURE_AUTHORITY_HOST="https://login.test",
            **more,
        )

    def find(self, agent: Any = None) -> Any:
        return default_azure_tokens(environ=self.environ, reactor=self.clock, agent=agent)

    def token(self, source: Any) -> str:
        result: str = self.successResultOf(source.token())
        return result

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.folder, name)
        with open(path, "wb") as file:
            file.write(data)
        return path


class ChainTests(AzureTestCase):
    """DefaultAzureCredential's order."""

    def test_a_client_secret_in_the_environment_comes_first(self) -> None:
        self.client_environ(
            AZURE_CLIENT_SECRET=SECRET, IDENTITY_ENDPOINT="http://x", IDENTITY_HEADER="h"
        )
        source = self.find(self.ad.agent())
        self.assertIsInstance(source, ClientSecretTokens)
        self.assertEqual(self.token(source), self.ad.tokens.issued[0])
        form = self.ad.received[0].form()
        self.assertEqual(form["scope"], STORAGE_SCOPE)
        self.assertEqual(form["grant_type"], "client_credentials")
        self.assertEqual(self.ad.grants[0].proof, "secret")
        self.assertEqual(self.ad.received[0].path, f"/{DEFAULT_TENANT}/oauth2/v2.0/token")

    def test_a_client_certificate_signs_an_assertion_the_endpoint_verifies(self) -> None:
        pem = CERTIFICATE.public_bytes(serialization.Encoding.PEM) + KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.client_environ(AZURE_CLIENT_CERTIFICATE_PATH=self.write("app.pem", pem))
        self.ad.add_client_certificate(CLIENT_ID, CERTIFICATE)
        source = self.find(self.ad.agent())
        self.assertIsInstance(source, ClientCertificateTokens)
        self.token(source)
        self.assertEqual(self.ad.grants[0].proof, "certificate")
        self.assertNotIn("BEGIN", repr(source.certificate))

    def test_a_certificate_from_another_key_is_refused(self) -> None:
        _, other = make_certificate("another")
        self.ad.add_client_certificate(CLIENT_ID, other)
        pem = CERTIFICATE.public_bytes(serialization.Encoding.PEM) + KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        self.client_environ(AZURE_CLIENT_CERTIFICATE_PATH=self.write("app.pem", pem))
        error = self.failureResultOf(self.find(self.ad.agent()).token(), InvalidCredsError).value
        self.assertIn("client certificate", error.message)

    def test_a_pkcs12_certificate_with_its_password(self) -> None:
        data = pkcs12.serialize_key_and_certificates(
            b"app",
            KEY,
            CERTIFICATE,
            None,
            serialization.BestAvailableEncryption(b"pfx-password"),
        )
        self.client_environ(
            AZURE_CLIENT_CERTIFICATE_PATH=self.write("app.pfx", data),
            AZURE_CLIENT_CERTIFICATE_PASSWORD="pfx-password",
        )
        self.ad.add_client_certificate(CLIENT_ID, CERTIFICATE)
        self.token(self.find(self.ad.agent()))
        self.assertEqual(self.ad.grants[0].proof, "certificate")
        self.environ["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = "wrong"
        error = self.assertRaises(InvalidCredsError, self.find)
        self.assertNotIn("wrong", error.message)

    def test_an_unreadable_certificate_is_refused_before_any_request(self) -> None:
        self.client_environ(AZURE_CLIENT_CERTIFICATE_PATH=self.write("bad.pem", b"garbage"))
        error = self.assertRaises(InvalidCredsError, self.find)
        self.assertIn("bad.pem", error.message)

    def test_workload_identity_reads_the_federated_token_at_each_refresh(self) -> None:
        path = self.write("federated", b"federated-1\n")
        self.client_environ(AZURE_FEDERATED_TOKEN_FILE=path)
        self.ad.add_federated_token(CLIENT_ID, "federated-1")
        source = self.find(self.ad.agent())
        self.assertIsInstance(source, WorkloadIdentityTokens)
        self.token(source)
        self.assertEqual(self.ad.received[0].form()["client_assertion"], "federated-1")
        self.write("federated", b"federated-2")
        self.ad.add_federated_token(CLIENT_ID, "federated-2")
        source.invalidate()
        self.token(source)
        self.assertEqual(self.ad.received[1].form()["client_assertion"], "federated-2")
        os.remove(path)
        source.invalidate()
        error = self.failureResultOf(source.token(), InvalidCredsError).value
        self.assertIn(path, error.message)

    def test_app_service_managed_identity(self) -> None:
        self.environ.update(
            IDENTITY_ENDPOINT="http://identity.test/msi/token",
            IDENTITY_HEADER=self.identity.identity_header,
            AZURE_CLIENT_ID=CLIENT_ID,
        )
        source = self.find(self.identity.agent())
        self.assertIsInstance(source, ManagedIdentityTokens)
        self.assertEqual(self.token(source), self.identity.tokens.issued[0])
        self.assertEqual(
            self.identity.requests, [("app-service", "https://storage.azure.com", CLIENT_ID)]
        )
        self.assertNotIn(self.identity.identity_header, repr(source))

    def test_the_instance_metadata_service_comes_last(self) -> None:
        self.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://imds.test"
        source = self.find(self.identity.agent())
        self.token(source)
        self.assertEqual(self.identity.requests, [("imds", "https://storage.azure.com", None)])
        self.assertEqual(self.identity.received[0].header("Metadata"), "true")

    def test_nothing_found_names_every_place_looked_at(self) -> None:
        pending = self.find(RefusingAgent()).token()
        self.clock.advance(10)  # the second attempt
        error = self.failureResultOf(pending, InvalidCredsError).value
        self.assertIn("no credentials found", error.message)
        self.assertIn("AZURE_CLIENT_SECRET", error.message)
        self.assertIn("AZURE_FEDERATED_TOKEN_FILE", error.message)
        self.assertIn("http://169.254.169.254", error.message)

    def test_a_refused_secret_is_a_typed_error_without_the_secret(self) -> None:
        self.client_environ(AZURE_CLIENT_SECRET="wrong-" + SECRET)
        source = self.find(self.ad.agent())
        error = self.failureResultOf(source.token(), InvalidCredsError).value
        self.assertIn("AADSTS7000215", str(error))
        for text in (str(error), repr(source)):
            self.assertNotIn(SECRET, text)

    def test_logs_name_the_source_never_a_secret_or_token(self) -> None:
        events = capture_logs(self)
        self.client_environ(AZURE_CLIENT_SECRET=SECRET)
        token = self.token(self.find(self.ad.agent()))
        self.environ["AZURE_CLIENT_SECRET"] = "other-" + SECRET
        self.failureResultOf(self.find(self.ad.agent()).token(), InvalidCredsError)
        lines = [formatEvent(event) for event in events]
        self.assertTrue(any("Fetched an access token from Azure AD" in line for line in lines))
        for line in lines:
            self.assertNotIn(SECRET, line)
            self.assertNotIn(token, line)

    def test_the_authority_must_be_https(self) -> None:
        self.client_environ(AZURE_CLIENT_SECRET=SECRET)
        self.environ["AZURE_AUTHORITY_HOST"] = "http://login.test"
        self.assertRaises(InvalidArgumentError, self.find)

    def test_equal_sources_are_shared(self) -> None:
        self.client_environ(AZURE_CLIENT_SECRET=SECRET)
        agent = self.ad.agent()
        first, second = self.find(agent), self.find(agent)
        self.assertIs(first, second)
        self.token(first)
        self.token(second)
        self.assertEqual(len(self.ad.grants), 1)


class RefreshTests(AzureTestCase):
    """Azure tokens follow txcloud.auth.refresh's windows."""

    def setUp(self) -> None:
        super().setUp()
        self.environ.update(
            IDENTITY_ENDPOINT="http://identity.test/msi/token",
            IDENTITY_HEADER=self.identity.identity_header,
        )
        self.source = self.find(self.identity.agent())

    def test_expires_on_is_read_and_the_token_cached_until_the_advisory_window(self) -> None:
        first = self.token(self.source)
        self.clock.advance(3600 - 15 * 60 - 1)
        self.assertEqual(self.token(self.source), first)
        self.assertEqual(len(self.identity.requests), 1)

    def test_the_advisory_window_refreshes_in_the_background(self) -> None:
        first = self.token(self.source)
        self.clock.advance(3600 - 14 * 60)
        self.assertEqual(self.token(self.source), first)
        self.assertEqual(self.token(self.source), self.identity.tokens.issued[1])

    def test_the_mandatory_window_waits_and_one_fetch_is_shared(self) -> None:
        self.token(self.source)
        self.clock.advance(3600 - 5 * 60)
        self.identity.latency = 1.0
        first, second = self.source.token(), self.source.token()
        self.assertNoResult(first)
        self.clock.advance(1.0)
        self.assertEqual(self.successResultOf(first), self.identity.tokens.issued[1])
        self.assertEqual(self.successResultOf(second), self.identity.tokens.issued[1])
        self.assertEqual(len(self.identity.requests), 2)

    def test_an_expired_token_is_never_used(self) -> None:
        self.token(self.source)
        self.clock.advance(3601)
        self.assertEqual(self.token(self.source), self.identity.tokens.issued[1])


class ConnectionStringTests(SynchronousTestCase):
    def test_account_key_and_suffix(self) -> None:
        found = parse_connection_string(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5==;"
            "EndpointSuffix=core.chinacloudapi.cn"
        )
        self.assertEqual(found.account, "acct")
        self.assertEqual(found.account_key, "a2V5==")
        self.assertEqual(found.blob_endpoint, "https://acct.blob.core.chinacloudapi.cn")
        self.assertNotIn("a2V5", repr(found))

    def test_blob_endpoint_and_sas(self) -> None:
        found = parse_connection_string(
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;"
            "SharedAccessSignature=?sv=2025-01-05&sig=abc"
        )
        self.assertEqual(found.account, "devstoreaccount1")
        self.assertEqual(found.sas_token, "sv=2025-01-05&sig=abc")
        self.assertEqual((found.secure, found.host, found.port), (False, "127.0.0.1", 10000))

    def test_development_storage(self) -> None:
        found = parse_connection_string("UseDevelopmentStorage=true")
        self.assertEqual(found.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1")
        self.assertIsNotNone(found.account_key)

    def test_malformed_strings_are_refused_without_being_quoted(self) -> None:
        for text in ("AccountKey=c2VjcmV0", "just-a-secret-value", "BlobEndpoint=ftp://x"):
            error = self.assertRaises(InvalidCredsError, parse_connection_string, text)
            self.assertNotIn("c2VjcmV0", str(error))
            self.assertNotIn("just-a-secret-value", str(error))
