"""
Unit tests of Google's Application Default Credentials
(txcloud.auth.google.adc, .authorized_user, .metadata): the order files
and the metadata server are looked at, errors for bad files, tokens from
txcloud.testing.google's fakes through in-memory agents, and every refresh
rule on a Clock.  Files live in temporary folders and the environment is
injected: the real home is never read.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from treq.testing import RequestTraversalAgent
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from txcloud.auth.google import (
    STORAGE_FULL_CONTROL,
    AuthorizedUserTokens,
    GoogleCredentials,
    MetadataServerTokens,
    ServiceAccountTokens,
    application_default_credentials,
    gcloud_adc_path,
)
from txcloud.auth.google.authorized_user import AuthorizedUser
from txcloud.errors import InvalidCredsError
from txcloud.test.http._support import RefusingAgent
from txcloud.testing._http import Refused
from txcloud.testing.google import FakeGoogleTokenEndpoint, FakeMetadataServer

EMAIL = "reader@project-9.iam.gserviceaccount.com"
TOKEN_URI = "https://oauth2.test/token"
CLIENT_SECRET = "client-secret-never-shown"
REFRESH_TOKEN = "refresh-token-never-shown"

PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = PRIVATE_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()

SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "project-9",
    "private_key_id": "k1",
    "private_key": PEM,
    "client_email": EMAIL,
    "token_uri": TOKEN_URI,
}
AUTHORIZED_USER = {
    "type": "authorized_user",
    "client_id": "client-1.apps.googleusercontent.com",
    "client_secret": CLIENT_SECRET,
    "refresh_token": REFRESH_TOKEN,
    "token_uri": TOKEN_URI,
}


class ADCTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.home = self.mktemp()
        os.makedirs(self.home)
        self.environ: dict[str, str] = {"HOME": self.home}
        self.oauth = FakeGoogleTokenEndpoint(self.clock, token_uri=TOKEN_URI)
        self.oauth.add_service_account(EMAIL, PRIVATE_KEY.public_key())
        self.oauth.add_authorized_user(AUTHORIZED_USER["client_id"], CLIENT_SECRET, REFRESH_TOKEN)
        self.metadata = FakeMetadataServer(self.clock)

    def write(self, name: str, document: Any) -> str:
        path = os.path.join(self.home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as file:
            file.write(document if isinstance(document, str) else json.dumps(document))
        return path

    def find(self, agent: Any = None, scopes: tuple[str, ...] = (STORAGE_FULL_CONTROL,)) -> Any:
        return application_default_credentials(
            scopes, environ=self.environ, reactor=self.clock, agent=agent
        )

    def token(self, credentials: GoogleCredentials) -> str:
        result: str = self.successResultOf(credentials.tokens.token())
        return result


class OrderTests(ADCTestCase):
    """Where credentials are looked for, in Google's order."""

    def test_the_named_service_account_file_comes_first(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write("sa.json", SERVICE_ACCOUNT)
        self.environ["CLOUDSDK_CONFIG"] = os.path.dirname(
            self.write("gcloud/application_default_credentials.json", AUTHORIZED_USER)
        )
        credentials = self.find(self.oauth.agent())
        self.assertIsInstance(credentials.tokens, ServiceAccountTokens)
        self.assertEqual(credentials.project, "project-9")
        self.assertEqual(self.token(credentials), "ya29.oauth-1")
        self.assertEqual(self.oauth.grants[0].subject, EMAIL)
        self.assertEqual(self.oauth.grants[0].scopes, (STORAGE_FULL_CONTROL,))

    def test_gcloud_file_in_cloudsdk_config_gives_user_tokens(self) -> None:
        path = self.write("gcloud-config/application_default_credentials.json", AUTHORIZED_USER)
        self.environ["CLOUDSDK_CONFIG"] = os.path.dirname(path)
        credentials = self.find(self.oauth.agent())
        self.assertIsInstance(credentials.tokens, AuthorizedUserTokens)
        self.assertIn(path, credentials.description)
        self.assertIsNone(credentials.project)
        self.assertEqual(self.token(credentials), "ya29.oauth-1")
        form = self.oauth.received[0].form()
        self.assertEqual(form["grant_type"], "refresh_token")
        self.assertEqual(form["refresh_token"], REFRESH_TOKEN)

    def test_gcloud_file_defaults_to_the_home_config_folder(self) -> None:
        path = self.write(".config/gcloud/application_default_credentials.json", AUTHORIZED_USER)
        self.assertEqual(gcloud_adc_path(self.environ), path)
        self.assertIsInstance(self.find().tokens, AuthorizedUserTokens)

    def test_without_files_the_metadata_server_gives_tokens_and_project(self) -> None:
        self.environ["GCE_METADATA_HOST"] = "metadata.test:8080"
        credentials = self.find(self.metadata.agent())
        self.assertIsInstance(credentials.tokens, MetadataServerTokens)
        self.assertEqual(self.token(credentials), "ya29.metadata-1")
        self.assertEqual(self.metadata.scopes_asked, [[STORAGE_FULL_CONTROL]])
        self.assertEqual(self.metadata.received[0].header("Metadata-Flavor"), "Google")
        self.assertEqual(self.successResultOf(credentials.project_id()), "fake-project")

    def test_no_metadata_server_names_every_place_looked_at(self) -> None:
        credentials = self.find(RefusingAgent())
        error = self.failureResultOf(credentials.tokens.token(), InvalidCredsError).value
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS (unset)", error.message)
        self.assertIn(gcloud_adc_path(self.environ), error.message)
        self.assertIn("http://169.254.169.254", error.message)
        self.assertIsNone(self.successResultOf(credentials.project_id()))

    def test_an_answer_without_the_metadata_flavor_is_refused(self) -> None:
        root = Resource()
        credentials = self.find(RequestTraversalAgent(root))
        error = self.failureResultOf(credentials.tokens.token(), InvalidCredsError).value
        self.assertIn("no credentials found", error.message)

    def test_equal_sources_are_shared(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write("sa.json", SERVICE_ACCOUNT)
        agent = self.oauth.agent()
        first, second = self.find(agent), self.find(agent)
        self.assertIs(first.tokens, second.tokens)
        self.token(first)
        self.token(second)
        self.assertEqual(len(self.oauth.grants), 1)
        other_scopes = self.find(agent, scopes=("https://www.googleapis.com/auth/cloud-platform",))
        self.assertIsNot(other_scopes.tokens, first.tokens)


class FileErrorTests(ADCTestCase):
    """Bad files are refused before any request, naming the file, quoting nothing."""

    def assertRefused(self, document: Any, *expected: str) -> InvalidCredsError:
        path = self.write("bad.json", document)
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path
        error = self.assertRaises(InvalidCredsError, self.find)
        self.assertIn(path, error.message)
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS", error.message)
        for text in expected:
            self.assertIn(text, error.message)
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, PEM[40:80]):
            self.assertNotIn(secret, str(error))
        return error

    def test_a_missing_named_file(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = os.path.join(self.home, "nope.json")
        error = self.assertRaises(InvalidCredsError, self.find)
        self.assertIn("nope.json", error.message)

    def test_malformed_json(self) -> None:
        self.assertRefused('{"client_secret": "' + CLIENT_SECRET, "not valid JSON")

    def test_an_unsupported_type(self) -> None:
        self.assertRefused({"type": "external_account"}, "'external_account'", "authorized_user")

    def test_a_user_file_without_its_refresh_token(self) -> None:
        incomplete = {k: v for k, v in AUTHORIZED_USER.items() if k != "refresh_token"}
        self.assertRefused(incomplete, "refresh_token")

    def test_a_service_account_with_a_broken_key(self) -> None:
        self.assertRefused({**SERVICE_ACCOUNT, "private_key": PEM[:200]}, "private_key")

    def test_a_refused_refresh_token_is_a_typed_error_without_secrets(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write(
            "user.json", {**AUTHORIZED_USER, "refresh_token": "revoked-" + REFRESH_TOKEN}
        )
        credentials = self.find(self.oauth.agent())
        error = self.failureResultOf(credentials.tokens.token(), InvalidCredsError).value
        self.assertIn("authorized_user", error.message)
        for text in (str(error), repr(credentials), repr(credentials.tokens)):
            self.assertNotIn(REFRESH_TOKEN, text)
            self.assertNotIn(CLIENT_SECRET, text)


class RefreshTests(ADCTestCase):
    """Tokens are cached, refreshed in the advisory window, waited for in the mandatory one."""

    def setUp(self) -> None:
        super().setUp()
        self.credentials = self.find(self.metadata.agent())
        self.tokens = self.credentials.tokens

    def test_a_fresh_token_is_cached(self) -> None:
        self.assertEqual(self.token(self.credentials), "ya29.metadata-1")
        self.clock.advance(3600 - 15 * 60 - 1)
        self.assertEqual(self.token(self.credentials), "ya29.metadata-1")
        self.assertEqual(len(self.metadata.tokens.issued), 1)

    def test_in_the_advisory_window_the_old_token_is_used_while_a_new_one_comes(self) -> None:
        self.token(self.credentials)
        self.clock.advance(3600 - 14 * 60)
        self.assertEqual(self.token(self.credentials), "ya29.metadata-1")
        self.assertEqual(len(self.metadata.tokens.issued), 2)
        self.assertEqual(self.token(self.credentials), "ya29.metadata-2")

    def test_in_the_mandatory_window_callers_wait_for_the_new_token(self) -> None:
        self.token(self.credentials)
        self.clock.advance(3600 - 5 * 60)
        self.metadata.latency = 1.0
        waiting = self.tokens.token()
        self.assertNoResult(waiting)
        self.clock.advance(1.0)
        self.assertEqual(self.successResultOf(waiting), "ya29.metadata-2")

    def test_after_expiry_a_new_token_is_fetched(self) -> None:
        self.token(self.credentials)
        self.clock.advance(3601)
        self.assertEqual(self.token(self.credentials), "ya29.metadata-2")

    def test_one_fetch_in_flight_is_shared(self) -> None:
        self.metadata.latency = 1.0
        first, second = self.tokens.token(), self.tokens.token()
        self.clock.advance(1.0)
        self.assertEqual(self.successResultOf(first), "ya29.metadata-1")
        self.assertEqual(self.successResultOf(second), "ya29.metadata-1")
        self.assertEqual(len(self.metadata.received), 1)

    def test_an_invalidated_token_is_fetched_again(self) -> None:
        self.token(self.credentials)
        self.tokens.invalidate()
        self.assertEqual(self.token(self.credentials), "ya29.metadata-2")

    def test_a_failed_mandatory_refresh_fails_the_callers(self) -> None:
        self.token(self.credentials)
        self.clock.advance(3600 - 5 * 60)
        self.metadata._add_fault([], None, 1, Refused(503, "Unavailable", "try later"))
        self.failureResultOf(self.tokens.token(), InvalidCredsError)
        self.assertEqual(self.token(self.credentials), "ya29.metadata-2")

    def test_user_tokens_follow_the_same_rules(self) -> None:
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self.write("u.json", AUTHORIZED_USER)
        credentials = self.find(self.oauth.agent())
        self.assertEqual(self.token(credentials), "ya29.oauth-1")
        self.clock.advance(3600 - 5 * 60)
        self.assertEqual(self.token(credentials), "ya29.oauth-2")


class ProxyTests(SynchronousTestCase):
    """Token requests go through the proxies of the environment the source was made in."""

    def test_the_environment_given_names_the_proxy_when_the_source_is_made(self) -> None:
        reactor = MemoryReactorClock()
        user = AuthorizedUser("client", "client-secret", "refresh-token")
        tokens = AuthorizedUserTokens(
            user,
            "the test's file",
            reactor=reactor,
            environ={"HTTPS_PROXY": "http://127.0.0.9:3128", "NO_PROXY": ""},
        )
        self.patch(os, "environ", {"HTTPS_PROXY": "http://127.0.0.8:8080"})
        tokens.token()
        # The memory reactor resolves every name to 127.0.0.1: the port tells the proxy.
        self.assertEqual([client[1] for client in reactor.tcpClients], [3128])
