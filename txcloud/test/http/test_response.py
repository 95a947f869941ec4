"""Tests for txcloud.http.response: reading and streaming response bodies."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.client import ResponseDone, ResponseFailed
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH

from txcloud.errors import (
    InvalidArgumentError,
    MalformedResponseError,
    NetworkError,
    RequestTimeoutError,
)
from txcloud.http.request import Request
from txcloud.http.response import BodyStream, Response


class FakeRawResponse:
    """Enough of an IResponse: the body goes to a protocol on a StringTransport."""

    def __init__(self, code: int = 200, length: Any = UNKNOWN_LENGTH) -> None:
        self.code = code
        self.phrase = b"OK"
        self.headers = Headers({b"Content-Type": [b"application/json"]})
        self.length = length
        self.transport = StringTransport()
        self.protocol: Any = None

    def deliverBody(self, protocol: Any) -> None:
        self.protocol = protocol
        protocol.makeConnection(self.transport)

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.protocol.dataReceived(chunk)

    def finish(self, reason: BaseException | None = None) -> None:
        self.protocol.connectionLost(Failure(reason or ResponseDone()))


class ResponseTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.raw = FakeRawResponse()
        self.response = Response(
            self.raw,
            Request("GET", "https://h/o?sig=s3cr3t"),
            clock=self.clock,
            timeout=30.0,
            driver="test",
        )

    def next_chunk(self, stream: BodyStream) -> Deferred[bytes]:
        return ensureDeferred(stream.__anext__())

    def assert_ended(self, stream: BodyStream) -> None:
        self.failureResultOf(self.next_chunk(stream), StopAsyncIteration)


class StreamingTests(ResponseTestCase):
    def test_chunks_arrive_in_order_then_the_stream_ends(self) -> None:
        stream = self.response.iter_body()
        waiting = self.next_chunk(stream)
        self.assertNoResult(waiting)
        self.raw.send(b"ab")
        self.assertEqual(self.successResultOf(waiting), b"ab")
        self.raw.send(b"cd")
        self.raw.finish()
        self.assertEqual(self.successResultOf(self.next_chunk(stream)), b"cd")
        self.assert_ended(stream)

    def test_connection_is_paused_when_the_queue_is_full_and_resumed_when_drained(self) -> None:
        stream = self.response.iter_body(max_queued=10)
        transport = self.raw.transport
        self.raw.send(b"123456")
        self.assertEqual(transport.producerState, "producing")
        self.raw.send(b"789012")
        self.assertEqual(transport.producerState, "paused")
        # 6 bytes still queued: more than half of max_queued.
        self.successResultOf(self.next_chunk(stream))
        self.assertEqual(transport.producerState, "paused")
        self.successResultOf(self.next_chunk(stream))
        self.assertEqual(transport.producerState, "producing")

    def test_connection_is_paused_again_if_something_resumed_it(self) -> None:
        self.response.iter_body(max_queued=4)
        self.raw.send(b"12345")
        self.raw.transport.resumeProducing()
        self.raw.send(b"6")
        self.assertEqual(self.raw.transport.producerState, "paused")

    def test_chunk_size_rechunks_the_body(self) -> None:
        stream = self.response.iter_body(chunk_size=4)
        self.raw.send(b"abc", b"defgh", b"i")
        self.raw.finish()
        chunks = [self.successResultOf(self.next_chunk(stream)) for _ in range(3)]
        self.assertEqual(chunks, [b"abcd", b"efgh", b"i"])
        self.assert_ended(stream)

    def test_body_ending_with_the_connection_is_complete(self) -> None:
        stream = self.response.iter_body()
        self.raw.send(b"all")
        self.raw.finish(PotentialDataLoss())
        self.assertEqual(self.successResultOf(self.next_chunk(stream)), b"all")
        self.assert_ended(stream)

    def test_lost_connection_fails_the_read_with_a_network_error(self) -> None:
        stream = self.response.iter_body()
        waiting = self.next_chunk(stream)
        self.raw.finish(ResponseFailed([Failure(ConnectionLost())]))
        failure = self.failureResultOf(waiting, NetworkError)
        self.assertNotIn("s3cr3t", str(failure.value))

    def test_stalled_server_times_out_and_the_connection_is_closed(self) -> None:
        stream = self.response.iter_body()
        waiting = self.next_chunk(stream)
        self.clock.advance(29)
        self.raw.send(b"x")
        self.successResultOf(waiting)
        waiting = self.next_chunk(stream)
        self.clock.advance(29.9)
        self.assertNoResult(waiting)
        self.clock.advance(0.1)
        self.failureResultOf(waiting, RequestTimeoutError)
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_slow_reader_does_not_time_out_while_paused(self) -> None:
        self.response.iter_body(max_queued=2)
        self.raw.send(b"abc")
        self.clock.advance(3600)
        self.assertEqual(self.raw.transport.producerState, "paused")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_aclose_closes_the_connection_and_ends_the_stream(self) -> None:
        stream = self.response.iter_body()
        self.raw.send(b"part")
        self.successResultOf(ensureDeferred(stream.aclose()))
        self.assertEqual(self.raw.transport.producerState, "stopped")
        self.assert_ended(stream)

    def test_leaving_async_with_early_closes_the_connection(self) -> None:
        async def first_chunk() -> bytes:
            async with self.response.iter_body() as chunks:
                async for chunk in chunks:
                    return chunk
            return b""

        reading = ensureDeferred(first_chunk())
        self.raw.send(b"one", b"two")
        self.assertEqual(self.successResultOf(reading), b"one")
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_cancelling_a_read_closes_the_connection(self) -> None:
        async def read_all() -> list[bytes]:
            return [chunk async for chunk in self.response.iter_body()]

        reading = Deferred.fromCoroutine(read_all())
        reading.cancel()
        self.failureResultOf(reading, CancelledError)
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_body_can_be_streamed_only_once(self) -> None:
        self.response.iter_body()
        self.assertRaises(RuntimeError, self.response.iter_body)

    def test_non_positive_chunk_size_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, self.response.iter_body, 0)


class WholeBodyTests(ResponseTestCase):
    def test_content_is_read_once_and_kept(self) -> None:
        first = self.response.content()
        self.raw.send(b'{"a": ', b"1}")
        self.raw.finish()
        self.assertEqual(self.successResultOf(first), b'{"a": 1}')
        self.assertEqual(self.successResultOf(self.response.json()), {"a": 1})

    def test_malformed_json_is_refused(self) -> None:
        parsed = self.response.json()
        self.raw.send(b"{not json")
        self.raw.finish()
        failure = self.failureResultOf(parsed, MalformedResponseError)
        self.assertNotIn("s3cr3t", str(failure.value))

    def test_hostile_xml_is_refused(self) -> None:
        parsed = self.response.xml()
        self.raw.send(b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>')
        self.raw.finish()
        self.failureResultOf(parsed, MalformedResponseError)

    def test_xml_body_is_parsed(self) -> None:
        parsed = self.response.xml()
        self.raw.send(b"<r><a>1</a></r>")
        self.raw.finish()
        self.assertEqual(self.successResultOf(parsed).findtext("a"), "1")

    def test_read_at_most_cuts_the_body_and_closes_the_connection(self) -> None:
        reading = ensureDeferred(self.response.read_at_most(5))
        self.raw.send(b"abc", b"defgh")
        self.assertEqual(self.successResultOf(reading), b"abcde")
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_close_before_reading_closes_the_connection(self) -> None:
        self.response.close()
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_close_while_reading_fails_the_read(self) -> None:
        content = self.response.content()
        self.raw.send(b"partial")
        self.response.close()
        self.failureResultOf(content, CancelledError)
        self.assertEqual(self.raw.transport.producerState, "stopped")

    def test_close_after_the_whole_body_leaves_the_connection_alone(self) -> None:
        content = self.response.content()
        self.raw.send(b"x")
        self.raw.finish()
        self.successResultOf(content)
        self.response.close()
        self.assertEqual(self.raw.transport.producerState, "producing")


class ResponseAttributesTests(ResponseTestCase):
    def test_status_headers_and_length(self) -> None:
        self.assertEqual(self.response.status, 200)
        self.assertEqual(self.response.reason, "OK")
        self.assertEqual(self.response.headers["content-type"], "application/json")
        self.assertIsNone(self.response.length)

    def test_repr_hides_signed_url_parts(self) -> None:
        self.assertEqual(
            repr(self.response), "<Response 200 OK for GET https://h/o?sig=<redacted>>"
        )
