"""Tests for txcloud.http.endpoints."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import succeed
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported

from txcloud.http.endpoints import SOCKET_READ_SIZE, CachingEndpointFactory, LargeReadEndpoint
from txcloud.http.proxy import ProxySettings
from txcloud.http.tunnel import TunnelEndpoint


class RecordingPolicy:
    """An IPolicyForHTTPS stand-in that records the hosts it was asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[bytes, int]] = []

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        self.asked.append((hostname, port))
        return object()


def uri(text: str) -> URI:
    return URI.fromBytes(text.encode("ascii"))


class CachingEndpointFactoryTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.policy = RecordingPolicy()
        self.factory = CachingEndpointFactory(MemoryReactorClock(), self.policy, 5.0)

    def test_http_url_gets_a_hostname_endpoint_with_the_timeout(self) -> None:
        endpoint = self.factory.endpointForURI(uri("http://example.com:8080/a")).endpoint
        self.assertIsInstance(endpoint, HostnameEndpoint)
        self.assertEqual((endpoint._hostText, endpoint._port), ("example.com", 8080))
        self.assertEqual(endpoint._timeout, 5.0)
        self.assertEqual(self.policy.asked, [])

    def test_same_scheme_host_and_port_reuse_one_endpoint(self) -> None:
        first = self.factory.endpointForURI(uri("https://example.com/a"))
        second = self.factory.endpointForURI(uri("https://example.com/b?c=d"))
        self.assertIs(first, second)
        self.assertEqual(self.policy.asked, [(b"example.com", 443)])

    def test_another_port_or_scheme_gets_its_own_endpoint(self) -> None:
        endpoints = {
            id(self.factory.endpointForURI(uri(text)))
            for text in ("http://example.com/", "http://example.com:81/", "https://example.com/")
        }
        self.assertEqual(len(endpoints), 3)

    def test_https_endpoint_uses_the_policy_for_its_host(self) -> None:
        self.factory.endpointForURI(uri("https://a.example:8443/"))
        self.factory.endpointForURI(uri("https://b.example/"))
        self.assertEqual(self.policy.asked, [(b"a.example", 8443), (b"b.example", 443)])

    def test_other_schemes_are_not_supported(self) -> None:
        self.assertRaises(
            SchemeNotSupported, self.factory.endpointForURI, uri("ftp://example.com/")
        )

    def test_least_recently_used_endpoint_is_dropped_beyond_the_limit(self) -> None:
        factory = CachingEndpointFactory(MemoryReactorClock(), self.policy, 5.0, max_endpoints=2)
        a = factory.endpointForURI(uri("http://a.example/"))
        b = factory.endpointForURI(uri("http://b.example/"))
        self.assertIs(factory.endpointForURI(uri("http://a.example/")), a)
        factory.endpointForURI(uri("http://c.example/"))
        self.assertIs(factory.endpointForURI(uri("http://a.example/")), a)
        self.assertIsNot(factory.endpointForURI(uri("http://b.example/")), b)


class TunnelEndpointsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.policy = RecordingPolicy()
        proxies = ProxySettings.from_environment(
            {"HTTPS_PROXY": "http://u:p@proxy.corp:3128", "NO_PROXY": "direct.example"}
        )
        self.factory = CachingEndpointFactory(
            MemoryReactorClock(), self.policy, 5.0, proxies=proxies
        )

    def test_https_through_a_proxy_is_tls_over_a_tunnel_verified_for_the_target(self) -> None:
        endpoint = self.factory.endpointForURI(uri("https://s3.example:8443/"))
        tunnel = endpoint._wrappedEndpoint
        self.assertIsInstance(tunnel, TunnelEndpoint)
        self.assertEqual((tunnel.host, tunnel.port), ("s3.example", 8443))
        self.assertEqual(tunnel.proxy_address, "proxy.corp:3128")
        self.assertEqual(self.policy.asked, [(b"s3.example", 8443)])

    def test_the_tunnel_connects_to_the_proxy(self) -> None:
        tunnel = self.factory.endpointForURI(uri("https://s3.example/"))._wrappedEndpoint
        proxy = tunnel.proxy_endpoint.endpoint
        self.assertEqual((proxy._hostText, proxy._port, proxy._timeout), ("proxy.corp", 3128, 5.0))

    def test_no_proxy_hosts_connect_directly(self) -> None:
        endpoint = self.factory.endpointForURI(uri("https://direct.example/"))
        self.assertIsInstance(endpoint._wrappedEndpoint.endpoint, HostnameEndpoint)

    def test_one_endpoint_per_proxy(self) -> None:
        a = self.factory.endpointForURI(uri("https://a.example/"))._wrappedEndpoint
        b = self.factory.endpointForURI(uri("https://b.example/"))._wrappedEndpoint
        self.assertIs(a.proxy_endpoint, b.proxy_endpoint)


class _TCPLikeTransport(StringTransport):
    """Has the I/O sizes of a Twisted TCP connection."""

    bufferSize = 64 * 1024
    SEND_LIMIT = 128 * 1024


class _Connected:
    """An endpoint whose connections are made at once, over *transport*."""

    def __init__(self, transport: StringTransport) -> None:
        self.transport = transport

    def connect(self, factory: Any) -> Any:
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(self.transport)
        return succeed(protocol)


class LargeReadEndpointTests(SynchronousTestCase):
    def connect(self, transport: StringTransport) -> Protocol:
        endpoint = LargeReadEndpoint(_Connected(transport))
        protocol: Protocol = self.successResultOf(endpoint.connect(Factory.forProtocol(Protocol)))
        return protocol

    def test_a_tcp_connection_reads_large_blocks(self) -> None:
        transport = _TCPLikeTransport()
        self.assertIs(self.connect(transport).transport, transport)
        self.assertEqual(
            (transport.bufferSize, transport.SEND_LIMIT), (SOCKET_READ_SIZE, 128 * 1024)
        )
        # Other connections keep Twisted's sizes.
        self.assertEqual(_TCPLikeTransport.bufferSize, 64 * 1024)

    def test_another_transport_is_left_alone(self) -> None:
        transport = StringTransport()
        self.connect(transport)
        self.assertFalse(hasattr(transport, "bufferSize"))
