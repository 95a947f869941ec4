"""
End-to-end test of Google user credentials (``authorized_user`` files, as
``gcloud auth application-default login`` writes them) against
fake-gcs-server, on the real reactor.

Such credentials are always exchanged at Google's own token endpoint,
``https://oauth2.googleapis.com/token``.  Offline, that name is reached the
way a corporate network reaches it: through a CONNECT proxy
(``HTTPS_PROXY``), here a small one of the test's own that splices every
tunnel to a local TLS server holding a certificate for
``oauth2.googleapis.com`` from a throwaway CA, trusted through
``SSL_CERT_FILE`` (as the platform's trust store is) while the test runs.
Behind it is txcloud.testing.google's fake token endpoint.  Storage
requests go directly (``NO_PROXY``) to a front of fake-gcs-server that lets
in only current tokens (:class:`~txcloud.test.storage.test_gcs_credentials.CheckingProxy`).

What this proves: the refresh token is exchanged at Google's endpoint
name, through the proxy, over TLS verified for that name, and the token
obtained is the one storage receives.  What it does not: anything about
Google's own endpoint beyond what its documentation says.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from twisted.internet import ssl
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.protocol import Factory
from twisted.protocols import portforward
from twisted.trial.unittest import TestCase
from twisted.web.server import Site

from txcloud.errors import InvalidCredsError
from txcloud.storage.drivers.google_storage import GoogleStorageDriver
from txcloud.test.emulators import reactor
from txcloud.test.gcs_services import PROJECT, fake_gcs
from txcloud.test.http._support import (
    assert_secret_nowhere,
    capture_logs,
    notify_when_lost,
    use_environment,
)
from txcloud.test.http.test_tls import ThrowawayCA, TrackingSite
from txcloud.test.storage._integration import round_trip
from txcloud.test.storage.test_gcs_credentials import CheckingProxy
from txcloud.testing.google import FakeGoogleTokenEndpoint, TokenGrant

#: Where ``authorized_user`` credentials are exchanged (their default ``token_uri``).
GOOGLE_TOKEN_HOST = "oauth2.googleapis.com"


class _TunnelToTarget(portforward.ProxyClient):
    """The proxy's side of a tunnel: tells the client it is open, then splices."""

    # Twisted types transports as interfaces mypy cannot check calls on.
    transport: Any

    def connectionMade(self) -> None:
        client: Any = self.peer
        client.transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        super().connectionMade()


class _ConnectRequest(portforward.Proxy):
    """A client of :class:`ConnectProxy`: reads one CONNECT, then splices."""

    transport: Any

    def __init__(self, proxy: ConnectProxy) -> None:
        self.proxy = proxy
        self._head = b""

    def dataReceived(self, data: bytes) -> None:
        target: Any = self.peer
        if target is not None:
            target.transport.write(data)
            return
        self._head += data
        if b"\r\n\r\n" not in self._head:
            return
        head, rest = self._head.split(b"\r\n\r\n", 1)
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.proxy.requests.append(line)
        if not line.startswith("CONNECT ") or rest:
            # A client speaks in a tunnel only once it is open.
            self.transport.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            self.transport.loseConnection()
            return
        self.transport.pauseProducing()
        self.proxy.open_tunnel(self)


class _TunnelFactory(portforward.ProxyClientFactory):
    protocol = _TunnelToTarget


class ConnectProxy(Factory):
    """
    An HTTP proxy that answers only ``CONNECT``, and ties every tunnel to
    127.0.0.1:*target_port* whatever host it names (there is no DNS here).

    :ivar requests: the request line of every request, in order.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.requests: list[str] = []
        self._lost: list[Deferred[None]] = []

    # Any: Factory expects protocols with a typed factory attribute; portforward.Proxy has none.
    def buildProtocol(self, addr: Any) -> Any:
        request = _ConnectRequest(self)
        self._lost.append(notify_when_lost(request))
        return request

    def open_tunnel(self, request: _ConnectRequest) -> None:
        """Connect *request*'s client to the target."""
        factory = _TunnelFactory()
        factory.setServer(request)
        build = factory.buildProtocol

        def build_tracked(addr: Any) -> portforward.ProxyClient:
            end = build(addr)
            self._lost.append(notify_when_lost(end))
            return end

        factory.buildProtocol = build_tracked  # type: ignore[method-assign]
        reactor.connectTCP("127.0.0.1", self.target_port, factory)

    def all_closed(self) -> Deferred[list[None]]:
        """Fires once every connection it accepted or made has closed."""
        return gatherResults(self._lost)


class GCSAuthorizedUserTests(TestCase):
    timeout = 120

    def setUp(self) -> Deferred[None]:  # type: ignore[override]  # trial waits on it
        self.folder = self.mktemp()
        os.makedirs(self.folder)
        self.ca = ThrowawayCA()
        ca_file = os.path.join(self.folder, "ca.pem")
        with open(ca_file, "wb") as file:
            file.write(self.ca.pem)
        _set_environment(self, SSL_CERT_FILE=ca_file)
        self.events = capture_logs(self)
        # Fresh credentials in each test: sources are shared by credentials.
        self.client_id = f"{secrets.token_hex(6)}.apps.googleusercontent.com"
        self.client_secret = f"GOCSPX-{secrets.token_urlsafe(18)}"
        self.refresh_token = f"1//0g{secrets.token_urlsafe(30)}"
        self.oauth = FakeGoogleTokenEndpoint(reactor)
        return fake_gcs.ensure_started()

    def serve_token_endpoint(self, certificate_name: str) -> ConnectProxy:
        """
        The fake token endpoint over TLS with a certificate for
        *certificate_name*, behind a CONNECT proxy that ``HTTPS_PROXY`` names.
        """
        certificate, key = self.ca.issue(certificate_name)
        options = ssl.PrivateCertificate.loadPEM(certificate + key).options()
        site = TrackingSite(self.oauth.resource)
        tls = reactor.listenSSL(0, site, options, interface="127.0.0.1")
        self.addCleanup(site.all_closed)
        self.addCleanup(tls.stopListening)
        proxy = ConnectProxy(tls.getHost().port)
        listening = reactor.listenTCP(0, proxy, interface="127.0.0.1")
        self.addCleanup(proxy.all_closed)
        self.addCleanup(listening.stopListening)
        use_environment(
            self,
            HTTPS_PROXY=f"http://127.0.0.1:{listening.getHost().port}",
            NO_PROXY="127.0.0.1,localhost",
        )
        return proxy

    def write_credentials(self, refresh_token: str) -> str:
        """An ``authorized_user`` file (no ``token_uri``, as gcloud writes it)."""
        path = os.path.join(self.folder, "application_default_credentials.json")
        with open(path, "w") as file:
            json.dump(
                {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "refresh_token": refresh_token,
                    "type": "authorized_user",
                },
                file,
            )
        _set_environment(self, GOOGLE_APPLICATION_CREDENTIALS=path)
        return path

    def driver(self) -> tuple[GoogleStorageDriver, CheckingProxy]:
        """A driver finding its credentials, in front of fake-gcs-server."""
        front = CheckingProxy(fake_gcs.port, [self.oauth.tokens])
        listening = reactor.listenTCP(0, Site(front), interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        driver = GoogleStorageDriver(
            None,
            host="127.0.0.1",
            port=listening.getHost().port,
            secure=False,
            ex_project=PROJECT,
            reactor=reactor,
        )
        self.addCleanup(driver.close)
        return driver, front

    def assertNoSecretShown(self, error: BaseException) -> None:
        for secret in (self.refresh_token, self.client_secret):
            assert_secret_nowhere(self, secret, self.events, error)

    async def test_the_refresh_token_is_exchanged_at_google_through_the_proxy(self) -> None:
        proxy = self.serve_token_endpoint(GOOGLE_TOKEN_HOST)
        self.oauth.add_authorized_user(self.client_id, self.client_secret, self.refresh_token)
        self.write_credentials(self.refresh_token)
        driver, front = self.driver()
        await round_trip(self, driver, f"txcloud-user-{secrets.token_hex(5)}")

        self.assertEqual(proxy.requests, [f"CONNECT {GOOGLE_TOKEN_HOST}:443 HTTP/1.1"])
        [exchange] = self.oauth.received
        self.assertEqual((exchange.method, exchange.path, exchange.query), ("POST", "/token", {}))
        self.assertEqual(exchange.header("host"), GOOGLE_TOKEN_HOST)
        self.assertEqual(
            exchange.form(),
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token,
            },
        )
        [grant] = self.oauth.grants
        self.assertEqual(grant, TokenGrant(self.client_id, (), grant.token))
        self.assertGreaterEqual(len(front.seen), 5)
        self.assertEqual(set(front.seen), {f"Bearer {grant.token}"})

    async def test_a_refused_refresh_token_names_the_file_and_no_secret(self) -> None:
        proxy = self.serve_token_endpoint(GOOGLE_TOKEN_HOST)
        self.oauth.add_authorized_user(self.client_id, self.client_secret, "1//0g-another-token")
        path = self.write_credentials(self.refresh_token)
        driver, front = self.driver()
        with self.assertRaises(InvalidCredsError) as caught:
            await driver.list_containers()

        self.assertIn(path, str(caught.exception))
        self.assertIn("invalid_grant", str(caught.exception))
        self.assertNoSecretShown(caught.exception)
        self.assertEqual(caught.exception.status, 400)
        # The endpoint said invalid_grant once; nothing was retried or sent to storage.
        self.assertEqual(proxy.requests, [f"CONNECT {GOOGLE_TOKEN_HOST}:443 HTTP/1.1"])
        self.assertEqual(len(self.oauth.received), 1)
        self.assertEqual(self.oauth.grants, [])
        self.assertEqual(front.seen, [])

    async def test_a_certificate_for_another_name_behind_the_tunnel_is_refused(self) -> None:
        proxy = self.serve_token_endpoint("other.example")
        self.oauth.add_authorized_user(self.client_id, self.client_secret, self.refresh_token)
        path = self.write_credentials(self.refresh_token)
        driver, front = self.driver()
        with self.assertRaises(InvalidCredsError) as caught:
            await driver.list_containers()

        message = str(caught.exception)
        self.assertIn(path, message)
        self.assertIn(
            f"TLS certificate verification failed for POST https://{GOOGLE_TOKEN_HOST}/token",
            message,
        )
        self.assertNoSecretShown(caught.exception)
        # Not retried: another attempt would fail the same way.
        self.assertEqual(proxy.requests, [f"CONNECT {GOOGLE_TOKEN_HOST}:443 HTTP/1.1"])
        # The handshake failed: the credentials never reached the server.
        self.assertEqual(self.oauth.received, [])
        self.assertEqual(front.seen, [])


def _set_environment(case: TestCase, **values: str) -> None:
    """Set the variables *values* in :data:`os.environ` until *case* ends."""
    for name, value in values.items():
        previous = os.environ.get(name)
        os.environ[name] = value
        case.addCleanup(_restore, name, previous)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
