"""Tests for txcloud.http.keep_alive: reading whether a proxy keeps connections."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from txcloud.http.keep_alive import KeepAliveWatchingEndpoint, says_keep_alive


class SaysKeepAliveTests(SynchronousTestCase):
    def test_connection_or_proxy_connection_keep_alive(self) -> None:
        self.assertTrue(says_keep_alive(b"HTTP/1.1 200 OK\r\nConnection: keep-alive"))
        self.assertTrue(says_keep_alive(b"HTTP/1.1 200 OK\r\nproxy-connection:  Keep-Alive"))

    def test_anything_else_is_no(self) -> None:
        for head in (
            b"HTTP/1.1 200 OK",
            b"HTTP/1.1 200 OK\r\nConnection: close",
            b"HTTP/1.1 200 OK\r\nX-Note: Connection: keep-alive",
            b"HTTP/1.0 200 OK\r\nVia: 1.1 proxy (tinyproxy/1.11.1)",
        ):
            self.assertFalse(says_keep_alive(head), head)


class Recorder(Protocol):
    def __init__(self) -> None:
        self.received = b""

    def dataReceived(self, data: bytes) -> None:
        self.received += data


class ConnectingEndpoint:
    def __init__(self) -> None:
        self.transport = StringTransport()

    def connect(self, factory: Any) -> Deferred[Any]:
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(self.transport)
        return succeed(protocol)


class WatchingEndpointTests(SynchronousTestCase):
    def connect(self) -> tuple[Recorder, list[bool]]:
        told: list[bool] = []
        endpoint = KeepAliveWatchingEndpoint(ConnectingEndpoint(), told.append)
        protocol = self.successResultOf(endpoint.connect(Factory.forProtocol(Recorder)))
        assert isinstance(protocol, Recorder)
        return protocol, told

    def test_the_first_head_is_read_across_reads_and_everything_passed_on(self) -> None:
        protocol, told = self.connect()
        wrapper: Any = protocol.transport
        wrapper.dataReceived(b"HTTP/1.1 200 OK\r\nConnection: kee")
        self.assertEqual(told, [])
        wrapper.dataReceived(b"p-alive\r\n\r\nbody")
        wrapper.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
        self.assertEqual(told, [True])
        self.assertEqual(
            protocol.received,
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nbodyHTTP/1.1 200 OK\r\n\r\n",
        )

    def test_a_head_without_keep_alive_is_told(self) -> None:
        protocol, told = self.connect()
        wrapper: Any = protocol.transport
        wrapper.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(told, [False])
