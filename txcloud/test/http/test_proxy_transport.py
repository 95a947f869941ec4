"""
Tests for sending through a proxy: the transport's routes (absolute form,
tunnels, direct), pooling per route, and the typed errors, over a
MemoryReactorClock whose connections the tests play.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import HTTPConnectionPool

from txcloud.errors import (
    InvalidArgumentError,
    InvalidCredsError,
    ProxyAuthenticationError,
    ProxyError,
    ProxyTimeoutError,
    RequestTimeoutError,
)
from txcloud.http import HTTPTransport, Request, Response, RetryPolicy
from txcloud.http.endpoints import CachingEndpointFactory
from txcloud.http.proxy import ProxySettings, proxy_settings
from txcloud.http.routing import ProxyingAgent
from txcloud.test.http._support import assert_secret_nowhere, capture_logs

PASSWORD = "s3cr3t-Pa55"
PROXY_URL = f"http://alice:{PASSWORD}@127.0.0.1:3128"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
KEPT_OK = b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"


class TCPStringTransport(StringTransport):
    """A StringTransport with the TCP option the HTTP client sets."""

    def setTcpNoDelay(self, enabled: bool) -> None:
        pass


class ProxyTransportTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.logs = capture_logs(self)

    def transport(self, proxy: str = PROXY_URL, **kw: Any) -> HTTPTransport:
        kw.setdefault("retry", RetryPolicy(max_attempts=1))
        settings = proxy_settings(proxy, {})
        transport = HTTPTransport(reactor=self.reactor, proxy=settings, timeout=5, **kw)
        self.addCleanup(transport.close)
        return transport

    def accept(self, index: int = -1) -> tuple[Any, TCPStringTransport]:
        """Complete the connection the reactor was asked for."""
        factory: Any = self.reactor.tcpClients[index][2]
        protocol = factory.buildProtocol(None)
        wire = TCPStringTransport()
        protocol.makeConnection(wire)
        return protocol, wire

    def ports_connected_to(self) -> list[int]:
        # MemoryReactorClock resolves every name to 127.0.0.1: ports tell them apart.
        return [port for _, port, *_ in self.reactor.tcpClients]

    def body(self, sent: Deferred[Response]) -> bytes:
        response = self.successResultOf(sent)
        return self.successResultOf(response.content())

    def assertNoPassword(self, error: BaseException | None = None) -> None:
        assert_secret_nowhere(self, PASSWORD, self.logs, error)

    def test_http_goes_to_the_proxy_in_absolute_form_with_credentials(self) -> None:
        sent = self.transport().send(Request("GET", "http://10.0.0.1:9000/bucket/key"))
        self.assertEqual(self.ports_connected_to(), [3128])
        protocol, wire = self.accept()
        head = wire.value().split(b"\r\n")
        self.assertEqual(head[0], b"GET http://10.0.0.1:9000/bucket/key HTTP/1.1")
        self.assertIn(b"Host: 10.0.0.1:9000", head)
        self.assertIn(b"Proxy-Authorization: Basic YWxpY2U6czNjcjN0LVBhNTU=", head)
        protocol.dataReceived(OK)
        self.assertEqual(self.body(sent), b"ok")
        self.assertNoPassword()

    def test_connections_to_a_keep_alive_proxy_are_reused_for_every_http_host(self) -> None:
        transport = self.transport()
        first = transport.send(Request("GET", "http://a.example/1"))
        protocol, wire = self.accept()
        protocol.dataReceived(KEPT_OK)
        self.body(first)
        wire.clear()
        second = transport.send(Request("GET", "http://b.example:8080/2"))
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertTrue(wire.value().startswith(b"GET http://b.example:8080/2 HTTP/1.1\r\n"))
        protocol.dataReceived(KEPT_OK)
        self.assertEqual(self.body(second), b"ok")

    def test_a_proxy_not_saying_keep_alive_gets_a_connection_per_request(self) -> None:
        transport = self.transport()
        first = transport.send(Request("GET", "http://a.example/1"))
        protocol, _ = self.accept()
        protocol.dataReceived(OK)
        self.body(first)
        for n in (2, 3):
            transport.send(Request("GET", f"http://a.example/{n}"))
            self.assertEqual(len(self.reactor.tcpClients), n)
            protocol, wire = self.accept()
            self.assertIn(b"\r\nConnection: close\r\n", wire.value())
            protocol.dataReceived(OK)

    def test_https_opens_a_tunnel_to_the_target(self) -> None:
        sent = self.transport().send(Request("GET", "https://s3.example/bucket"))
        self.assertEqual(self.ports_connected_to(), [3128])
        _, wire = self.accept()
        self.assertEqual(
            wire.value(),
            b"CONNECT s3.example:443 HTTP/1.1\r\nHost: s3.example:443\r\n"
            b"Proxy-Authorization: Basic YWxpY2U6czNjcjN0LVBhNTU=\r\n\r\n",
        )
        self.assertNoResult(sent)

    def test_https_tunnel_starts_tls_after_the_2xx(self) -> None:
        self.transport().send(Request("GET", "https://s3.example/bucket"))
        protocol, wire = self.accept()
        wire.clear()
        protocol.dataReceived(b"HTTP/1.1 200 Connection established\r\n\r\n")
        # A TLS record (the ClientHello, naming s3.example), not the request.
        self.assertEqual(wire.value()[:1], b"\x16")
        self.assertIn(b"s3.example", wire.value())
        self.assertNotIn(b"GET", wire.value())

    def test_no_proxy_hosts_and_metadata_endpoints_go_direct(self) -> None:
        settings = ProxySettings.from_environment(
            {"HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "10.0.0.0/8"}
        )
        transport = HTTPTransport(reactor=self.reactor, proxy=settings, timeout=5)
        self.addCleanup(transport.close)
        transport.send(Request("GET", "http://10.1.2.3:9000/"))
        transport.send(Request("GET", "http://169.254.169.254/latest/meta-data/"))
        transport.send(Request("GET", "http://10.1.2.3.example:9000/"))
        self.assertEqual(self.ports_connected_to(), [9000, 80, 3128])

    def test_an_empty_ex_proxy_goes_direct(self) -> None:
        self.assertIsNone(proxy_settings("", {"HTTP_PROXY": PROXY_URL}))

    def test_407_to_connect_is_a_proxy_authentication_error(self) -> None:
        sent = self.transport().send(Request("GET", "https://s3.example/bucket"))
        protocol, _ = self.accept()
        protocol.dataReceived(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        error = self.failureResultOf(sent, ProxyAuthenticationError).value
        self.assertEqual((error.status, error.proxy), (407, "127.0.0.1:3128"))
        self.assertIn("127.0.0.1:3128", str(error))
        self.assertIn("https://s3.example/bucket", str(error))
        self.assertNoPassword(error)

    def test_refused_credentials_are_not_retried(self) -> None:
        transport = self.transport(retry=RetryPolicy(max_attempts=3, jitter=lambda cap: cap))
        sent = transport.send(Request("GET", "https://s3.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(b"HTTP/1.0 401 Unauthorized\r\n\r\n")
        self.failureResultOf(sent, ProxyAuthenticationError)
        self.reactor.advance(60)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_403_to_connect_is_a_proxy_error_and_is_retried(self) -> None:
        transport = self.transport(retry=RetryPolicy(max_attempts=2, jitter=lambda cap: cap))
        sent = transport.send(Request("GET", "https://s3.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(b"HTTP/1.1 403 Access violation\r\n\r\n")
        self.assertNoResult(sent)
        self.reactor.advance(1)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        protocol, _ = self.accept()
        protocol.dataReceived(b"HTTP/1.1 403 Access violation\r\n\r\n")
        error = self.failureResultOf(sent, ProxyError).value
        self.assertNotIsInstance(error, ProxyAuthenticationError)
        self.assertEqual(error.status, 403)
        self.assertIn("refused CONNECT: 403 Access violation", str(error))

    def test_a_proxy_closing_before_answering_is_a_proxy_error(self) -> None:
        sent = self.transport().send(Request("GET", "https://s3.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(b"HTTP/1.1 2")
        protocol.connectionLost(Failure(ConnectionDone()))
        error = self.failureResultOf(sent, ProxyError).value
        self.assertIn("closed the connection", str(error))

    def test_an_unreachable_proxy_is_a_proxy_error(self) -> None:
        for url in ("http://a.example/", "https://a.example/"):
            sent = self.transport().send(Request("GET", url))
            factory: Any = self.reactor.tcpClients[-1][2]
            factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
            self.reactor.advance(1)
            error = self.failureResultOf(sent, ProxyError).value
            self.assertIn("cannot connect to the proxy 127.0.0.1:3128", str(error))
            self.assertNoPassword(error)

    def test_a_stalled_connect_is_a_proxy_timeout_within_the_timeout(self) -> None:
        sent = self.transport().send(Request("GET", "https://s3.example/"))
        self.accept()
        self.reactor.advance(4.9)
        self.assertNoResult(sent)
        self.reactor.advance(0.1)
        error = self.failureResultOf(sent, ProxyTimeoutError).value
        self.assertIsInstance(error, RequestTimeoutError)
        self.assertEqual(error.proxy, "127.0.0.1:3128")

    def test_a_proxy_never_accepting_is_a_proxy_timeout(self) -> None:
        sent = self.transport().send(Request("GET", "http://a.example/"))
        self.reactor.advance(5)
        self.assertIn("127.0.0.1:3128", str(self.failureResultOf(sent, ProxyTimeoutError).value))

    def test_a_slow_target_behind_the_proxy_is_a_request_timeout(self) -> None:
        sent = self.transport().send(Request("GET", "http://a.example/"))
        self.accept()
        self.reactor.advance(5)
        error = self.failureResultOf(sent, RequestTimeoutError).value
        self.assertNotIsInstance(error, ProxyError)
        self.assertIn("through the proxy 127.0.0.1:3128", str(error))

    def test_407_answer_to_a_forwarded_request_is_a_proxy_authentication_error(self) -> None:
        sent = self.transport().send(Request("GET", "http://a.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
        )
        error = self.failureResultOf(sent, ProxyAuthenticationError).value
        self.assertIn("the proxy 127.0.0.1:3128 refused the request: HTTP 407", str(error))
        self.assertNoPassword(error)

    def test_401_from_the_proxy_itself_is_a_proxy_authentication_error(self) -> None:
        sent = self.transport().send(Request("GET", "http://a.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(
            b"HTTP/1.0 401 Unauthorized\r\nServer: tinyproxy\r\nContent-Length: 0\r\n\r\n"
        )
        self.failureResultOf(sent, ProxyAuthenticationError)

    def test_401_forwarded_from_the_target_is_the_targets(self) -> None:
        sent = self.transport().send(Request("GET", "http://a.example/"))
        protocol, _ = self.accept()
        protocol.dataReceived(
            b"HTTP/1.1 401 Unauthorized\r\nVia: 1.1 proxy\r\nContent-Length: 0\r\n\r\n"
        )
        error = self.failureResultOf(sent, InvalidCredsError).value
        self.assertNotIsInstance(error, ProxyError)

    def test_an_agent_excludes_proxies(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            HTTPTransport(agent=object(), proxy=ProxySettings.from_url("http://p:1"))


class SharedPoolTests(SynchronousTestCase):
    """Drivers sharing a pool never use each other's connections of another route."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.pool = HTTPConnectionPool(self.reactor, persistent=True)

    def send(self, proxy: str, url: str) -> tuple[Deferred[Response], Any]:
        transport = HTTPTransport(
            reactor=self.reactor, pool=self.pool, proxy=proxy_settings(proxy, {}), timeout=5
        )
        sent = transport.send(Request("GET", url))
        factory: Any = self.reactor.tcpClients[-1][2]
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(StringTransport())
        return sent, protocol

    def finish(self, sent: Deferred[Response], protocol: Any) -> None:
        protocol.dataReceived(OK)
        response = self.successResultOf(sent)
        self.successResultOf(response.content())

    def test_a_direct_connection_is_not_reused_through_a_proxy(self) -> None:
        self.finish(*self.send("", "http://10.0.0.1/"))
        self.send("http://127.0.0.1:3128", "http://10.0.0.1/")
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertEqual(self.reactor.tcpClients[1][:2], ("127.0.0.1", 3128))

    def finish_kept(self, sent: Deferred[Response], protocol: Any) -> None:
        protocol.dataReceived(KEPT_OK)
        self.successResultOf(self.successResultOf(sent).content())

    def test_drivers_of_one_proxy_share_its_connections(self) -> None:
        self.finish_kept(*self.send("http://127.0.0.1:3128", "http://10.0.0.1/"))
        transport = HTTPTransport(
            reactor=self.reactor,
            pool=self.pool,
            proxy=proxy_settings("http://127.0.0.1:3128", {}),
            timeout=5,
        )
        transport.send(Request("GET", "http://10.0.0.2/"))
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_tunnels_are_filed_under_their_proxy_and_target(self) -> None:
        settings = ProxySettings.from_environment(
            {"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "direct.example"}
        )
        endpoints = CachingEndpointFactory(self.reactor, object(), 5.0, proxies=settings)
        agent = ProxyingAgent(self.reactor, endpoints, self.pool, settings)
        tunnelled = (b"https", b"s3.example", 443)
        self.assertEqual(agent._direct_key(tunnelled), (tunnelled, settings.https))
        direct = (b"https", b"direct.example", 443)
        self.assertEqual(agent._direct_key(direct), direct)
