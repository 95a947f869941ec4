"""Tests for txcloud.http.body: the request body producers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from twisted.internet.defer import CancelledError, Deferred
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer

from txcloud.errors import InvalidArgumentError
from txcloud.http.body import BytesProducer, FileProducer, IteratorProducer, RequestBody
from txcloud.test.http._support import RecordingConsumer


def start(producer: object, consumer: RecordingConsumer) -> Deferred[None]:
    consumer.attach(producer)
    finished: Deferred[None] = producer.startProducing(consumer)  # type: ignore[attr-defined]
    return finished


class BytesProducerTests(SynchronousTestCase):
    def test_writes_all_bytes_in_chunks_and_finishes(self) -> None:
        producer = BytesProducer(b"abcdefghij", chunk_size=4)
        consumer = RecordingConsumer()
        finished = start(producer, consumer)
        self.assertIsNone(self.successResultOf(finished))
        self.assertEqual(consumer.writes, [b"abcd", b"efgh", b"ij"])
        self.assertEqual(producer.length, 10)
        self.assertTrue(IBodyProducer.providedBy(producer))

    def test_body_within_one_chunk_is_written_at_once_and_finishes(self) -> None:
        producer = BytesProducer(b"abcd", chunk_size=4)
        consumer = RecordingConsumer()
        finished = start(producer, consumer)
        self.assertIsNone(self.successResultOf(finished))
        self.assertEqual(consumer.writes, [b"abcd"])

    def test_empty_body_writes_nothing_and_finishes(self) -> None:
        consumer = RecordingConsumer()
        finished = start(BytesProducer(b""), consumer)
        self.assertIsNone(self.successResultOf(finished))
        self.assertEqual(consumer.writes, [])

    def test_body_within_one_chunk_fails_when_the_write_fails(self) -> None:
        class Broken(RecordingConsumer):
            def write(self, data: bytes) -> None:
                raise OSError("gone")

        finished = start(BytesProducer(b"abc"), Broken())
        self.assertEqual(str(self.failureResultOf(finished, OSError).value), "gone")

    def test_body_within_one_chunk_can_only_be_started_once(self) -> None:
        producer = BytesProducer(b"abc")
        start(producer, RecordingConsumer())
        self.assertRaises(RuntimeError, producer.startProducing, RecordingConsumer())


class FileProducerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.path = Path(self.mktemp())
        self.path.write_bytes(b"0123456789")

    def test_streams_the_file_in_chunks(self) -> None:
        consumer = RecordingConsumer()
        finished = start(FileProducer(self.path, chunk_size=3), consumer)
        self.successResultOf(finished)
        self.assertEqual(consumer.writes, [b"012", b"345", b"678", b"9"])

    def test_sends_only_the_requested_range(self) -> None:
        producer = FileProducer(self.path, offset=2, length=5, chunk_size=4)
        consumer = RecordingConsumer()
        self.successResultOf(start(producer, consumer))
        self.assertEqual(producer.length, 5)
        self.assertEqual(consumer.data, b"23456")

    def test_pause_stops_reading_until_resumed(self) -> None:
        consumer = RecordingConsumer(pause_after=2)
        finished = start(FileProducer(self.path, chunk_size=3), consumer)
        self.assertEqual(consumer.writes, [b"012"])
        self.assertNoResult(finished)
        consumer.resume()
        self.assertEqual(consumer.writes, [b"012", b"345"])
        consumer.resume()
        consumer.resume()
        consumer.resume()
        self.assertEqual(consumer.data, b"0123456789")
        self.successResultOf(finished)

    def test_stop_closes_the_file_and_never_finishes(self) -> None:
        producer = FileProducer(self.path, chunk_size=3)
        consumer = RecordingConsumer(pause_after=2)
        finished = start(producer, consumer)
        producer.stopProducing()
        consumer.resume()
        self.assertEqual(consumer.writes, [b"012"])
        self.assertNoResult(finished)
        self.assertTrue(producer._file is not None and producer._file.closed)

    def test_range_beyond_the_file_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, FileProducer, self.path, offset=8, length=5)

    def test_file_shrinking_while_sent_fails_the_body(self) -> None:
        producer = FileProducer(self.path, chunk_size=4)
        self.path.write_bytes(b"0123")
        failure = self.failureResultOf(start(producer, RecordingConsumer()), OSError)
        self.assertIn("ended 6 bytes early", str(failure.value))


class IteratorProducerTests(SynchronousTestCase):
    def test_sync_iterator_has_unknown_length_and_writes_every_chunk(self) -> None:
        producer = IteratorProducer([b"a", bytearray(b"b"), memoryview(b"c")])
        consumer = RecordingConsumer()
        self.successResultOf(start(producer, consumer))
        self.assertIs(producer.length, UNKNOWN_LENGTH)
        self.assertEqual(consumer.writes, [b"a", b"b", b"c"])

    def test_declared_length_is_announced(self) -> None:
        self.assertEqual(IteratorProducer([b"ab"], length=2).length, 2)

    def test_iterator_raising_midway_fails_with_its_exception(self) -> None:
        def chunks() -> Iterator[bytes]:
            yield b"first"
            raise ValueError("disk on fire")

        consumer = RecordingConsumer()
        failure = self.failureResultOf(start(IteratorProducer(chunks()), consumer), ValueError)
        self.assertEqual(str(failure.value), "disk on fire")
        self.assertEqual(consumer.writes, [b"first"])

    def test_non_bytes_chunk_fails_the_body(self) -> None:
        finished = start(IteratorProducer(["text"]), RecordingConsumer())  # type: ignore[list-item]
        self.failureResultOf(finished, InvalidArgumentError)

    def test_async_iterator_chunks_are_written_as_they_come(self) -> None:
        gates: list[Deferred[bytes]] = [Deferred(), Deferred()]

        async def chunks() -> AsyncIterator[bytes]:
            for gate in gates:
                yield await gate

        consumer = RecordingConsumer()
        finished = start(IteratorProducer(chunks()), consumer)
        self.assertEqual(consumer.writes, [])
        gates[0].callback(b"one")
        self.assertEqual(consumer.writes, [b"one"])
        self.assertNoResult(finished)
        gates[1].callback(b"two")
        self.assertEqual(consumer.writes, [b"one", b"two"])
        self.successResultOf(finished)

    def test_stop_cancels_a_pending_async_chunk_and_never_finishes(self) -> None:
        gate: Deferred[bytes] = Deferred()
        seen: list[type[BaseException]] = []

        async def chunks() -> AsyncIterator[bytes]:
            try:
                yield await gate
            except BaseException as e:
                seen.append(type(e))
                raise

        producer = IteratorProducer(chunks())
        finished = start(producer, RecordingConsumer())
        producer.stopProducing()
        self.assertEqual(seen, [CancelledError])
        self.assertNoResult(finished)

    def test_stop_closes_a_sync_generator(self) -> None:
        closed: list[bool] = []

        def chunks() -> Iterator[bytes]:
            try:
                while True:
                    yield b"x"
            finally:
                closed.append(True)

        producer = IteratorProducer(chunks())
        consumer = RecordingConsumer(pause_after=2)
        start(producer, consumer)
        producer.stopProducing()
        consumer.resume()
        self.assertEqual(closed, [True])
        self.assertEqual(consumer.writes, [b"x", b"x", b"x"])


class RequestBodyTests(SynchronousTestCase):
    def test_bytes_make_a_fresh_producer_per_attempt(self) -> None:
        body = RequestBody.of(b"data")
        first, second = body.producer(), body.producer()
        self.assertIsNot(first, second)
        self.assertTrue(body.replayable)

    def test_empty_bytes_mean_no_body(self) -> None:
        self.assertIsNone(RequestBody.of(b"").producer())

    def test_path_becomes_a_file_producer(self) -> None:
        path = Path(self.mktemp())
        path.write_bytes(b"abc")
        producer = RequestBody.of(path).producer()
        assert isinstance(producer, FileProducer)
        self.assertEqual(producer.length, 3)

    def test_factory_is_called_for_each_attempt(self) -> None:
        calls: list[int] = []

        def factory() -> bytes:
            calls.append(1)
            return b"x"

        body = RequestBody.of(factory)
        body.producer()
        body.producer()
        self.assertEqual(len(calls), 2)

    def test_factory_returning_a_factory_is_refused(self) -> None:
        body = RequestBody.of(lambda: lambda: b"x")
        self.assertRaises(InvalidArgumentError, body.producer)

    def test_one_shot_body_cannot_be_sent_twice(self) -> None:
        body = RequestBody.of(iter([b"x"]))
        body.producer()
        self.assertFalse(body.replayable)
        self.assertRaises(InvalidArgumentError, body.producer)

    def test_file_object_is_read_in_chunks_once(self) -> None:
        body = RequestBody.of(io.BytesIO(b"file content"))
        consumer = RecordingConsumer()
        self.successResultOf(start(body.producer(), consumer))
        self.assertEqual(consumer.data, b"file content")
        self.assertFalse(body.replayable)

    def test_dict_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, RequestBody.of, {"a": "b"})

    def test_unsupported_type_is_refused(self) -> None:
        self.assertRaises(InvalidArgumentError, RequestBody.of, 42)

    def test_repr_never_shows_content(self) -> None:
        self.assertEqual(repr(RequestBody.of(b"secret")), "<RequestBody 6 bytes>")
