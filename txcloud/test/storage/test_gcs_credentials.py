"""
Integration tests of Google credentials against fake-gcs-server, on the
real reactor: the driver finds its credentials as Google's libraries do
(``key=None``) and gets tokens from txcloud.testing.google's fakes, listening
on 127.0.0.1.

fake-gcs-server ignores ``Authorization``, so the driver talks to it through
a small reverse proxy (:class:`CheckingProxy`) that records each request's
``Authorization`` header and forwards only requests carrying a token the
fake token source issued and that has not expired or been revoked (the
others get 401).  What this proves: every request the driver sent carried
a current token from the expected source, tokens are cached, and a new one
is fetched when the current one is near its end or refused.  What it does
not prove: anything about Google's own token validation.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.proxy import ReverseProxyResource
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from txcloud.auth.google import STORAGE_FULL_CONTROL
from txcloud.errors import InvalidCredsError
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.test.emulators import reactor
from txcloud.test.gcs_services import PROJECT, fake_gcs
from txcloud.test.storage._integration import round_trip
from txcloud.testing._tokens import TokenIssuer
from txcloud.testing.google import FakeGoogleTokenEndpoint, FakeMetadataServer


class CheckingProxy(Resource):
    """
    Forwards requests to fake-gcs-server when they carry a valid token of
    one of *issuers*; records every ``Authorization`` header in :attr:`seen`.
    """

    isLeaf = True

    def __init__(self, port: int, issuers: Sequence[TokenIssuer]) -> None:
        super().__init__()
        self.port = port
        self.issuers = issuers
        self.seen: list[str | None] = []

    def render(self, request: Request) -> Any:
        header = request.getHeader("authorization")
        self.seen.append(header)
        token = header.removeprefix("Bearer ") if header else ""
        if not any(issuer.is_valid(token) for issuer in self.issuers):
            request.setResponseCode(401)
            request.setHeader("content-type", "application/json")
            return json.dumps({"error": {"code": 401, "message": "Invalid Credentials"}}).encode()
        forward = ReverseProxyResource("127.0.0.1", self.port, request.path)
        return forward.render(request)


class GCSCredentialsTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        self.home = self.mktemp()
        os.makedirs(self.home)
        self.environ: dict[str, str] = {"HOME": self.home}
        return fake_gcs.ensure_started()

    def listen(self, resource: Any) -> int:
        port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port
        return number

    def driver_through(self, issuer: TokenIssuer) -> tuple[GoogleStorageDriver, CheckingProxy]:
        proxy = CheckingProxy(fake_gcs.port, [issuer])
        driver = GoogleStorageDriver(
            None,
            host="127.0.0.1",
            port=self.listen(proxy),
            secure=False,
            ex_project=PROJECT,
            ex_environ=self.environ,
        )
        self.addCleanup(driver.close)
        return driver, proxy

    async def round_trip(self, driver: Any) -> None:
        await round_trip(self, driver, f"txcloud-creds-{secrets.token_hex(5)}")

    async def test_metadata_server_tokens_reach_the_service_and_are_refreshed(self) -> None:
        metadata = FakeMetadataServer(reactor)
        # Ten minutes and a second: a second later the token is in its last
        # ten minutes, where callers wait for a new one.  (Refreshes in the
        # background are spaced a minute apart: the Clock tests cover them.)
        metadata.tokens.lifetime = 601
        self.environ["GCE_METADATA_HOST"] = f"127.0.0.1:{self.listen(metadata.resource)}"
        driver, proxy = self.driver_through(metadata.tokens)
        await self.round_trip(driver)
        self.assertGreaterEqual(len(proxy.seen), 5)
        self.assertEqual(set(proxy.seen), {"Bearer ya29.metadata-1"})
        self.assertEqual(metadata.scopes_asked, [[STORAGE_FULL_CONTROL]])

        metadata.tokens.lifetime = 3600
        await deferLater(reactor, 1.2)
        await driver.list_containers()
        self.assertEqual(proxy.seen[-1], "Bearer ya29.metadata-2")
        self.assertEqual(len(metadata.tokens.issued), 2)

        # Revoked: the service answers 401 once, the next call gets a new token.
        metadata.tokens.revoke_all()
        with self.assertRaises(InvalidCredsError):
            await driver.list_containers()
        await driver.list_containers()
        self.assertEqual(proxy.seen[-1], "Bearer ya29.metadata-3")

    async def test_service_account_file_tokens_come_from_its_token_uri(self) -> None:
        oauth = FakeGoogleTokenEndpoint(reactor, required_scopes=(STORAGE_FULL_CONTROL,))
        oauth.token_uri = f"http://127.0.0.1:{self.listen(oauth.resource)}/token"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        oauth.add_service_account("sa@test.iam.gserviceaccount.com", key.public_key())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path = os.path.join(self.home, "key.json")
        with open(path, "w") as file:
            json.dump(
                {
                    "type": "service_account",
                    "client_email": "sa@test.iam.gserviceaccount.com",
                    "private_key": pem,
                    "private_key_id": "k1",
                    "token_uri": oauth.token_uri,
                    "project_id": PROJECT,
                },
                file,
            )
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path
        driver, proxy = self.driver_through(oauth.tokens)
        await self.round_trip(driver)
        self.assertEqual(set(proxy.seen), {"Bearer ya29.oauth-1"})
        self.assertEqual(len(oauth.grants), 1)
        self.assertEqual(oauth.grants[0].subject, "sa@test.iam.gserviceaccount.com")

    async def test_a_refused_service_account_fails_before_the_service_is_asked(self) -> None:
        oauth = FakeGoogleTokenEndpoint(reactor)
        oauth.token_uri = f"http://127.0.0.1:{self.listen(oauth.resource)}/token"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path = os.path.join(self.home, "unknown.json")
        with open(path, "w") as file:
            json.dump(
                {
                    "type": "service_account",
                    "client_email": "unknown@test.iam.gserviceaccount.com",
                    "private_key": key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ).decode(),
                    "token_uri": oauth.token_uri,
                },
                file,
            )
        self.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path
        driver, proxy = self.driver_through(oauth.tokens)
        with self.assertRaises(InvalidCredsError):
            await driver.list_containers()
        self.assertEqual(proxy.seen, [])
