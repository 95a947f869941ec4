"""Tests for txcloud.http.tunnel: the CONNECT exchange, in memory."""

from __future__ import annotations

from typing import Any

from twisted.internet.address import HostnameAddress, IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectingCancelledError, ConnectionDone
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http.tunnel import MAX_REPLY, TunnelEndpoint, TunnelError

PROXY = IPv4Address("TCP", "127.0.0.1", 3128)


class FakeProxyEndpoint:
    """Connects when the test says so, over a StringTransport."""

    def __init__(self) -> None:
        self.attempts: list[tuple[Any, Deferred[Any]]] = []

    def connect(self, factory: Any) -> Deferred[Any]:
        result: Deferred[Any] = Deferred(lambda d: d.errback(ConnectingCancelledError(PROXY)))
        self.attempts.append((factory, result))
        return result

    def accept(self) -> tuple[Protocol, StringTransport]:
        factory, result = self.attempts[-1]
        protocol = factory.buildProtocol(PROXY)
        transport = StringTransport(peerAddress=PROXY)
        protocol.makeConnection(transport)
        result.callback(protocol)
        return protocol, transport


class Recorder(Protocol):
    """The protocol the caller connects through the tunnel."""

    def __init__(self) -> None:
        self.received = b""
        self.lost: Failure | None = None
        self.made = False

    def connectionMade(self) -> None:
        self.made = True

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = reason


class RecordingFactory(Factory):
    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.built: list[Recorder] = []

    def buildProtocol(self, addr: Any) -> Recorder:
        self.addresses.append(addr)
        protocol = Recorder()
        self.built.append(protocol)
        return protocol


class TunnelEndpointTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.proxy = FakeProxyEndpoint()
        self.factory = RecordingFactory()

    def tunnel(self, host: str = "s3.example", port: int = 443, **kw: Any) -> TunnelEndpoint:
        kw.setdefault("proxy_address", "127.0.0.1:3128")
        kw.setdefault("timeout", 10.0)
        return TunnelEndpoint(self.reactor, self.proxy, host, port, **kw)

    def start(self, **kw: Any) -> tuple[Deferred[Any], Protocol, StringTransport]:
        result = self.tunnel(**kw).connect(self.factory)
        protocol, transport = self.proxy.accept()
        return result, protocol, transport

    def refusal(self, result: Deferred[Any]) -> TunnelError:
        error = self.failureResultOf(result, TunnelError).value
        assert isinstance(error, TunnelError)
        return error

    def test_sends_connect_for_the_target_with_its_host_header(self) -> None:
        _, _, transport = self.start()
        self.assertEqual(
            transport.value(), b"CONNECT s3.example:443 HTTP/1.1\r\nHost: s3.example:443\r\n\r\n"
        )

    def test_sends_proxy_authorization_when_given(self) -> None:
        _, _, transport = self.start(authorization="Basic dTpw")
        self.assertIn(b"\r\nProxy-Authorization: Basic dTpw\r\n\r\n", transport.value())

    def test_ipv6_target_is_bracketed(self) -> None:
        _, _, transport = self.start(host="::1", port=8443)
        self.assertTrue(transport.value().startswith(b"CONNECT [::1]:8443 HTTP/1.1\r\n"))

    def test_200_without_headers_connects_the_protocol(self) -> None:
        result, protocol, transport = self.start()
        self.assertNoResult(result)
        self.assertEqual(self.factory.built, [])
        protocol.dataReceived(b"HTTP/1.1 200 Connection established\r\n\r\n")
        inner = self.successResultOf(result)
        self.assertIs(inner, self.factory.built[0])
        self.assertTrue(inner.made)
        self.assertIs(inner.transport, transport)
        self.assertEqual(self.factory.addresses, [HostnameAddress(b"s3.example", 443)])
        self.assertEqual(inner.received, b"")

    def test_2xx_with_headers_connects_the_protocol(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(
            b"HTTP/1.0 204 Tunnel open\r\nProxy-Agent: test/1\r\nVia: 1.1 proxy\r\n\r\n"
        )
        self.assertIsInstance(self.successResultOf(result), Recorder)

    def test_reply_split_across_reads(self) -> None:
        result, protocol, _ = self.start()
        for byte in b"HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n":
            self.assertNoResult(result)
            protocol.dataReceived(bytes([byte]))
        self.assertIsInstance(self.successResultOf(result), Recorder)

    def test_bytes_after_the_reply_go_to_the_protocol(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03 first TLS record")
        inner = self.successResultOf(result)
        self.assertEqual(inner.received, b"\x16\x03\x03 first TLS record")
        protocol.dataReceived(b" and more")
        self.assertEqual(inner.received, b"\x16\x03\x03 first TLS record and more")

    def test_the_protocol_writes_straight_to_the_connection(self) -> None:
        result, protocol, transport = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.clear()
        self.successResultOf(result).transport.write(b"client hello")
        self.assertEqual(transport.value(), b"client hello")

    def test_losing_the_tunnel_tells_the_protocol(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
        inner = self.successResultOf(result)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIsNotNone(inner.lost)
        assert inner.lost is not None
        self.assertIsInstance(inner.lost.value, ConnectionDone)

    def test_407_fails_with_the_status_and_aborts(self) -> None:
        result, protocol, transport = self.start()
        protocol.dataReceived(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
            b'Proxy-Authenticate: Basic realm="p"\r\nContent-Length: 5\r\n\r\nnope!'
        )
        error = self.refusal(result)
        self.assertEqual(error.status, 407)
        self.assertEqual(error.proxy, "127.0.0.1:3128")
        self.assertIn("the proxy 127.0.0.1:3128 refused CONNECT: 407", str(error))
        self.assertTrue(transport.disconnected)
        self.assertEqual(self.factory.built, [])

    def test_403_fails_with_the_status(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"HTTP/1.1 403 Access violation\r\n\r\n")
        error = self.refusal(result)
        self.assertEqual(error.status, 403)
        self.assertFalse(error.timed_out)

    def test_close_mid_reply_fails(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 Conn")
        protocol.connectionLost(Failure(ConnectionDone()))
        error = self.refusal(result)
        self.assertIsNone(error.status)
        self.assertIn("closed the connection", str(error))
        self.assertEqual(self.factory.built, [])

    def test_a_reply_that_is_not_http_fails(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"SSH-2.0-OpenSSH\r\n\r\n")
        self.assertIn("not HTTP", str(self.refusal(result)))

    def test_an_endless_reply_fails(self) -> None:
        result, protocol, transport = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_REPLY // 6 + 1))
        self.assertIn("over-long", str(self.refusal(result)))
        self.assertTrue(transport.disconnected)

    def test_no_answer_within_the_timeout_fails_and_aborts(self) -> None:
        result, _, transport = self.start()
        self.reactor.advance(9.9)
        self.assertNoResult(result)
        self.reactor.advance(0.1)
        error = self.refusal(result)
        self.assertTrue(error.timed_out)
        self.assertIn("did not answer CONNECT within 10s", str(error))
        self.assertTrue(transport.disconnected)

    def test_an_answer_in_time_stops_the_timer(self) -> None:
        result, protocol, _ = self.start()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
        self.successResultOf(result)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_failing_to_reach_the_proxy_fails(self) -> None:
        result = self.tunnel().connect(self.factory)
        self.proxy.attempts[0][1].errback(ConnectionRefusedError())
        self.failureResultOf(result, ConnectionRefusedError)

    def test_cancel_while_connecting_to_the_proxy(self) -> None:
        result = self.tunnel().connect(self.factory)
        result.cancel()
        self.failureResultOf(result, ConnectingCancelledError)
        self.assertTrue(self.proxy.attempts[0][1].called)

    def test_cancel_while_waiting_for_the_reply_aborts(self) -> None:
        result, _, transport = self.start()
        result.cancel()
        error = self.failureResultOf(result, ConnectingCancelledError).value
        self.assertEqual(error.address, PROXY)
        self.assertTrue(transport.disconnected)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_repr_names_target_and_proxy_only(self) -> None:
        endpoint = self.tunnel(authorization="Basic c2VjcmV0")
        self.assertEqual(repr(endpoint), "<TunnelEndpoint s3.example:443 via 127.0.0.1:3128>")
