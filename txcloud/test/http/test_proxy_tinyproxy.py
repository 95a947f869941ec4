"""
Integration tests through a real proxy: tinyproxy (one instance open, one
asking for Basic credentials), on the real reactor, to moto over HTTP and
to a TLS server of the test's own in front of moto (certificates from a
throwaway CA; the server asks for a client certificate).  tinyproxy's log
shows the route each request took.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import ssl, tcp
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.web.proxy import ReverseProxyResource

from txcloud.errors import ProxyAuthenticationError, ProxyError, TLSVerificationError
from txcloud.http import RetryPolicy
from txcloud.storage.drivers.s3 import S3StorageDriver
from txcloud.test.emulators import TinyProxy, free_port, moto, reactor, reset_moto
from txcloud.test.http._support import (
    assert_secret_nowhere,
    capture_logs,
    notify_when_lost,
    use_environment,
)
from txcloud.test.http.test_tls import ThrowawayCA, TrackingSite
from txcloud.test.storage._integration import MiB, md5_of_file, write_random

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
USER = "proxyuser"
PASSWORD = "Pr0xy-pa55word"
WRONG_PASSWORD = "Wr0ng-pa55word"
SIZE = 6 * MiB + 12345

# The TLS servers listen on these ports in each test; the proxies are told
# (ConnectPort) that CONNECT may reach them, and no other port.
_tls_ports: list[int] = []


def tls_ports() -> list[int]:
    if not _tls_ports:
        _tls_ports.extend([free_port(), free_port()])
    return _tls_ports


open_proxy = TinyProxy("tinyproxy", tls_ports)
auth_proxy = TinyProxy("tinyproxy with BasicAuth", tls_ports, basic_auth=(USER, PASSWORD))


class TrackingConnector:
    """Connects as the reactor does, and can tell when those connections have closed."""

    def __init__(self) -> None:
        self._lost: list[Deferred[None]] = []

    def connectTCP(self, host: str, port: int, factory: Any, *args: Any, **kwargs: Any) -> Any:
        build = factory.buildProtocol

        def build_tracked(addr: Any) -> Any:
            protocol = build(addr)
            self._lost.append(notify_when_lost(protocol))
            return protocol

        factory.buildProtocol = build_tracked
        return reactor.connectTCP(host, port, factory, *args, **kwargs)

    def all_closed(self) -> Deferred[list[None]]:
        return gatherResults(self._lost)


class TinyproxyTests(TestCase):
    timeout = 180

    async def setUp(self) -> None:  # type: ignore[override]
        await moto.ensure_started()
        await open_proxy.ensure_started()
        await auth_proxy.ensure_started()
        await reset_moto()
        self.addCleanup(self.proxy_connections_closed)
        self.logged = {proxy: len(proxy.log()) for proxy in (open_proxy, auth_proxy)}
        use_environment(self)
        self.events = capture_logs(self)
        self.ca = ThrowawayCA()
        self.folder = self.mktemp()
        os.makedirs(self.folder)
        self.ca_file = self.write("ca.pem", self.ca.pem)

    async def proxy_connections_closed(self) -> None:
        """
        Wait (up to 10 seconds) until no connection to a proxy is open: a
        TLS connection being shut down closes when the proxy closes it.
        """
        ports = {open_proxy.port, auth_proxy.port}
        deadline = reactor.seconds() + 10

        def open_to_a_proxy() -> bool:
            return any(
                isinstance(selectable, tcp.Client) and selectable.getPeer().port in ports
                for selectable in reactor.getReaders() + reactor.getWriters()
            )

        while open_to_a_proxy() and reactor.seconds() < deadline:
            await deferLater(reactor, 0.01)

    def logged_since_setup(self, proxy: TinyProxy) -> str:
        """What *proxy* logged during this test."""
        return proxy.log()[self.logged[proxy] :]

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.folder, name)
        with open(path, "wb") as file:
            file.write(data)
        return path

    def serve_tls(self, port: int, *names: str) -> None:
        """
        A TLS server for *names* on *port* that forwards requests to moto and
        asks for a client certificate.
        """
        certificate, key = self.ca.issue(*names)
        private = ssl.PrivateCertificate.loadPEM(certificate + key)
        options = ssl.CertificateOptions(
            privateKey=private.privateKey.original,
            certificate=private.original,
            trustRoot=ssl.Certificate.loadPEM(self.ca.pem),
        )
        connector = TrackingConnector()
        site = TrackingSite(ReverseProxyResource("127.0.0.1", moto.port, b"", connector))
        listening = reactor.listenSSL(port, site, options, interface="127.0.0.1")
        self.addCleanup(connector.all_closed)
        self.addCleanup(site.all_closed)
        self.addCleanup(listening.stopListening)

    def client_certificate(self) -> dict[str, str]:
        certificate, key = self.ca.issue("txcloud client", client=True)
        return {
            "ex_client_cert": self.write("client.pem", certificate),
            "ex_client_key": self.write("client.key", key),
        }

    def driver(self, port: int, secure: bool, **options: Any) -> S3StorageDriver:
        options.setdefault("ex_retry", RetryPolicy(max_attempts=1))
        driver = S3StorageDriver(
            KEY, SECRET, host="127.0.0.1", port=port, secure=secure, reactor=reactor, **options
        )
        self.addCleanup(driver.close)
        return driver

    def tls_driver(self, **options: Any) -> S3StorageDriver:
        port = tls_ports()[0]
        self.serve_tls(port, "127.0.0.1")
        return self.driver(
            port, True, ex_ca_file=self.ca_file, **self.client_certificate(), **options
        )

    async def round_trip(self, driver: S3StorageDriver) -> None:
        """Upload and download several MiB; the bytes come back intact."""
        container = await driver.create_container("proxied")
        source = write_random(os.path.join(self.folder, "source"), SIZE)
        obj = await driver.upload_object(source, container, "big/object")
        self.assertEqual(obj.size, SIZE)
        copy = os.path.join(self.folder, "copy")
        await driver.download_object(obj, copy)
        self.assertEqual(md5_of_file(copy), md5_of_file(source))

    def assertSecretNowhere(self, secret: str, error: BaseException | None = None) -> None:
        assert_secret_nowhere(self, secret, self.events, error)

    async def test_http_goes_in_absolute_form_through_the_proxy(self) -> None:
        driver = self.driver(moto.port, False, ex_proxy=open_proxy.url)
        await self.round_trip(driver)
        log = self.logged_since_setup(open_proxy)
        target = f"http://127.0.0.1:{moto.port}/proxied/big/object"
        self.assertIn("Request (file descriptor", log)
        self.assertIn(f"PUT {target}", log)
        self.assertIn(f"GET {target}", log)

    async def test_http_through_the_environment_with_credentials(self) -> None:
        use_environment(self, http_proxy=f"http://{USER}:{PASSWORD}@127.0.0.1:{auth_proxy.port}")
        await self.round_trip(self.driver(moto.port, False))
        logged = self.logged_since_setup(auth_proxy)
        self.assertIn(f"GET http://127.0.0.1:{moto.port}/proxied/big/object", logged)
        self.assertSecretNowhere(PASSWORD)

    async def test_https_goes_through_a_connect_tunnel_with_client_certificates(self) -> None:
        proxy = f"http://{USER}:{PASSWORD.replace('-', '%2D')}@127.0.0.1:{auth_proxy.port}"
        await self.round_trip(self.tls_driver(ex_proxy=proxy))
        log = self.logged_since_setup(auth_proxy)
        self.assertIn(f"CONNECT 127.0.0.1:{tls_ports()[0]} HTTP/1.1", log)
        # Inside the tunnel the requests are the target's: the proxy never sees them.
        self.assertNotIn("/proxied/big/object", log)
        self.assertSecretNowhere(PASSWORD)

    async def test_https_proxy_from_the_environment(self) -> None:
        use_environment(self, HTTPS_PROXY=open_proxy.url)
        driver = self.tls_driver()
        await driver.create_container("from-environment")
        logged = self.logged_since_setup(open_proxy)
        self.assertIn(f"CONNECT 127.0.0.1:{tls_ports()[0]} HTTP/1.1", logged)

    async def test_no_proxy_and_an_empty_ex_proxy_go_direct(self) -> None:
        use_environment(self, HTTP_PROXY=open_proxy.url, NO_PROXY="localhost, 127.0.0.0/8")
        await self.driver(moto.port, False).create_container("no-proxy")
        use_environment(self, HTTP_PROXY=open_proxy.url)
        await self.driver(moto.port, False, ex_proxy="").create_container("empty-ex-proxy")
        self.assertEqual(self.logged_since_setup(open_proxy), "")
        names = {c.name for c in await self.driver(moto.port, False, ex_proxy="").list_containers()}
        self.assertEqual(names, {"no-proxy", "empty-ex-proxy"})

    async def test_a_certificate_for_another_name_behind_the_tunnel_is_refused(self) -> None:
        port = tls_ports()[1]
        self.serve_tls(port, "other.example")
        driver = self.driver(port, True, ex_ca_file=self.ca_file, ex_proxy=open_proxy.url)
        with self.assertRaises(TLSVerificationError):
            await driver.list_containers()
        self.assertIn(f"CONNECT 127.0.0.1:{port} HTTP/1.1", self.logged_since_setup(open_proxy))

    async def test_wrong_proxy_credentials_are_refused_for_https(self) -> None:
        proxy = f"http://{USER}:{WRONG_PASSWORD}@127.0.0.1:{auth_proxy.port}"
        driver = self.tls_driver(ex_proxy=proxy)
        with self.assertRaises(ProxyAuthenticationError) as caught:
            await driver.list_containers()
        self.assertEqual(caught.exception.proxy, f"127.0.0.1:{auth_proxy.port}")
        self.assertEqual(caught.exception.status, 401)
        self.assertSecretNowhere(WRONG_PASSWORD, caught.exception)

    async def test_wrong_proxy_credentials_are_refused_for_http(self) -> None:
        proxy = f"http://{USER}:{WRONG_PASSWORD}@127.0.0.1:{auth_proxy.port}"
        driver = self.driver(moto.port, False, ex_proxy=proxy)
        with self.assertRaises(ProxyAuthenticationError) as caught:
            await driver.list_containers()
        self.assertIn(f"127.0.0.1:{auth_proxy.port}", str(caught.exception))
        self.assertSecretNowhere(WRONG_PASSWORD, caught.exception)

    async def test_no_credentials_for_a_proxy_that_wants_them(self) -> None:
        driver = self.driver(moto.port, True, ex_proxy=auth_proxy.url)
        with self.assertRaises(ProxyAuthenticationError):
            await driver.list_containers()

    async def test_connect_to_a_port_the_proxy_does_not_allow_is_refused(self) -> None:
        driver = self.driver(moto.port, True, ex_proxy=open_proxy.url)
        with self.assertRaises(ProxyError) as caught:
            await driver.list_containers()
        self.assertEqual(caught.exception.status, 403)
        self.assertIn(
            f"the proxy 127.0.0.1:{open_proxy.port} refused CONNECT", str(caught.exception)
        )
