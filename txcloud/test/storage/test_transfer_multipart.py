"""
Tests of the transfer engine shared by every provider: multipart and
streamed uploads (txcloud.storage.transfer.multipart), ranged downloads
(txcloud.storage.transfer.ranged), digests and the concurrency helpers.

They drive the engine with in-memory providers on trial's reactor, since
the engine reads, writes and hashes in the reactor's thread pool.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txcloud.errors import (
    InvalidArgumentError,
    MalformedResponseError,
    ObjectHashMismatchError,
    ProviderError,
)
from txcloud.storage.base import Container, Object, StorageDriver
from txcloud.storage.transfer import multipart as transfer_multipart
from txcloud.storage.transfer.config import TransferConfig
from txcloud.storage.transfer.digest import (
    CRC32,
    CRC32C,
    MD5,
    CRC32CHash,
    ExpectedDigest,
    PartDigests,
    PartHasher,
    crc32_of_file_range,
    crc32c_combine,
    digests_of,
    digests_of_file_range,
    multipart_etag,
    parse_etag,
)
from txcloud.storage.transfer.fanout import BoundedFanout
from txcloud.storage.transfer.files import AtomicFileWriter
from txcloud.storage.transfer.multipart import (
    HashedFileBody,
    UploadedPart,
    part_size_for,
    upload_file,
    upload_stream,
)
from txcloud.storage.transfer.ranged import download_to_file, plan_ranges
from txcloud.test.http._support import RecordingConsumer


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _data(size: int) -> bytes:
    return bytes(index % 251 for index in range(size))


async def _turn() -> None:
    """Let the reactor run once, so started work reaches its next wait."""
    await deferLater(reactor, 0, lambda: None)


async def _read_body(body: Any) -> bytes:
    """What the transport would send for a part body."""
    if isinstance(body, bytes):
        return body
    producer = body()
    consumer = RecordingConsumer()
    consumer.attach(producer)
    await producer.startProducing(consumer)
    return consumer.data


class MemoryTarget:
    """
    A provider that keeps uploads in memory, records every call and can be
    told to hold parts at a gate or to fail one.
    """

    min_part_size = 4
    max_part_size = 1024
    max_parts = 100
    needs_md5 = True
    part_checksums = frozenset({CRC32, MD5})

    def __init__(self, fail_part: int | None = None) -> None:
        self.calls: list[str] = []
        self.parts: dict[int, bytes] = {}
        self.whole: bytes | None = None
        self.sent_md5: bytes | None = None
        self.completed: list[UploadedPart] | None = None
        self.aborted: list[str] = []
        self.fail_part = fail_part
        # While holding, each part waits on its own Deferred in ``waiting``.
        self.holding = False
        self.waiting: dict[int, Deferred[None]] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.cancelled = 0

    async def put_whole(self, body: Any, size: int, md5: Any, crc32: int | None) -> Any:
        self.calls.append("put_whole")
        self.whole = await _read_body(body)
        assert len(self.whole) == size and crc32 == zlib.crc32(self.whole)
        self.sent_md5 = md5 if isinstance(md5, bytes) else await md5()
        return "object"

    async def start(self) -> str:
        self.calls.append("start")
        return "upload-1"

    async def upload_part(
        self, upload_id: str, number: int, body: Any, size: int, digests: PartDigests
    ) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            data = await _read_body(body)
            assert len(data) == size and digests == PartDigests(_md5(data), zlib.crc32(data))
            if self.holding:
                gate: Deferred[None] = Deferred()
                self.waiting[number] = gate
                await gate
            if number == self.fail_part:
                raise ProviderError(f"part {number} refused")
            self.parts[number] = data
            return f"etag-{number}"
        except CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Any:
        self.calls.append("complete")
        self.completed = list(parts)
        return "object"

    async def abort(self, upload_id: str) -> None:
        self.aborted.append(upload_id)

    def release(self, number: int | None = None) -> None:
        """Let part *number* go on, or every part from now on."""
        if number is None:
            self.holding = False
        for waiting in list(self.waiting):
            if number in (None, waiting):
                self.waiting.pop(waiting).callback(None)

    def assembled(self) -> bytes:
        assert self.completed is not None
        return b"".join(self.parts[part.number] for part in self.completed)


class ChosenChecksumsTarget:
    """A provider that says which checksums its parts need, and records the ones it gets."""

    min_part_size = 4
    max_part_size = 1024
    max_parts = 100
    needs_md5 = False

    def __init__(self, part_checksums: frozenset[str]) -> None:
        self.part_checksums = part_checksums
        self.parts: list[tuple[bytes, PartDigests]] = []
        self.whole: list[tuple[bytes, int | None]] = []

    async def put_whole(self, body: Any, size: int, md5: Any, crc32: int | None) -> Any:
        self.whole.append((await _read_body(body), crc32))
        return "object"

    async def start(self) -> str:
        return "upload-1"

    async def upload_part(
        self, upload_id: str, number: int, body: Any, size: int, digests: PartDigests
    ) -> str:
        self.parts.append((await _read_body(body), digests))
        return str(number)

    async def complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> Any:
        return "object"

    async def abort(self, upload_id: str) -> None:
        raise AssertionError("nothing fails here")


class ChosenChecksumsTests(TestCase):
    async def test_parts_get_only_the_checksums_their_target_asks_for(self) -> None:
        path = self.mktemp()
        data = _data(40)
        with open(path, "wb") as file:
            file.write(data)
        config = TransferConfig(multipart_threshold=16, part_size=16, max_concurrency=1)
        for checksums in (frozenset(), frozenset({CRC32C}), frozenset({MD5, CRC32})):
            for source in ("file", "stream"):
                target = ChosenChecksumsTarget(checksums)
                if source == "file":
                    await upload_file(reactor, target, path, config)
                else:
                    await upload_stream(reactor, target, _chunks([data]), config)
                self.assertEqual(
                    [(part, digests) for part, digests in target.parts],
                    [(part, digests_of(part, checksums)) for part, _ in target.parts],
                )
                self.assertEqual(b"".join(part for part, _ in target.parts), data)
        self.assertEqual(digests_of(b"x", frozenset()), PartDigests(None, None, None))

    async def test_a_single_upload_gets_the_crc32_only_if_parts_would(self) -> None:
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(b"small")
        config = TransferConfig(multipart_threshold=16, part_size=16)
        for checksums, expected in ((frozenset({CRC32C}), None), ({CRC32}, zlib.crc32(b"small"))):
            for source in ("file", "stream"):
                target = ChosenChecksumsTarget(frozenset(checksums))
                if source == "file":
                    await upload_file(reactor, target, path, config)
                else:
                    await upload_stream(reactor, target, _chunks([b"small"]), config)
                self.assertEqual(target.whole, [(b"small", expected)])


class PartSizeTests(SynchronousTestCase):
    def test_the_configured_size_is_used_when_it_fits(self) -> None:
        config = TransferConfig(part_size=10)
        self.assertEqual(part_size_for(500, config, MemoryTarget()), 10)

    def test_the_size_grows_to_fit_the_part_count(self) -> None:
        config = TransferConfig(part_size=4)
        self.assertEqual(part_size_for(1000, config, MemoryTarget()), 10)

    def test_the_size_is_at_least_the_provider_minimum(self) -> None:
        self.assertEqual(part_size_for(100, TransferConfig(part_size=1), MemoryTarget()), 4)

    def test_an_object_too_large_for_the_provider_is_refused(self) -> None:
        with self.assertRaises(InvalidArgumentError):
            part_size_for(1024 * 100 + 1, TransferConfig(), MemoryTarget())

    def test_config_refuses_sizes_that_are_not_positive_integers(self) -> None:
        for bad in (0, -1, 1.5, True, "8"):
            with self.assertRaises(InvalidArgumentError):
                TransferConfig(part_size=bad)  # type: ignore[arg-type]

    def test_config_overrides_skip_none_and_refuse_unknown_names(self) -> None:
        config = TransferConfig().with_overrides(part_size=16, max_concurrency=None)
        self.assertEqual((config.part_size, config.max_concurrency), (16, 10))
        with self.assertRaises(InvalidArgumentError):
            TransferConfig().with_overrides(parts=3)


class FileUploadTests(TestCase):
    def setUp(self) -> None:
        self.path = self.mktemp()

    def write(self, data: bytes) -> str:
        with open(self.path, "wb") as file:
            file.write(data)
        return self.path

    async def start_held_upload(self, target: MemoryTarget, max_concurrency: int) -> Deferred[Any]:
        """Upload 40 bytes in parts of 4; returns once *max_concurrency* parts wait at the gate."""
        target.holding = True
        config = TransferConfig(multipart_threshold=4, part_size=4, max_concurrency=max_concurrency)
        uploading = Deferred.fromCoroutine(
            upload_file(reactor, target, self.write(_data(40)), config)
        )
        while len(target.waiting) < max_concurrency:
            await _turn()
        return uploading

    async def test_a_file_below_the_threshold_goes_in_one_request_with_its_md5(self) -> None:
        target = MemoryTarget()
        data = _data(15)
        await upload_file(reactor, target, self.write(data), TransferConfig(multipart_threshold=16))
        self.assertEqual(target.calls, ["put_whole"])
        self.assertEqual((target.whole, target.sent_md5), (data, _md5(data)))

    async def test_an_empty_file_goes_in_one_request(self) -> None:
        target = MemoryTarget()
        await upload_file(reactor, target, self.write(b""), TransferConfig())
        self.assertEqual((target.whole, target.sent_md5), (b"", _md5(b"")))

    async def test_a_large_single_request_is_hashed_while_it_is_sent(self) -> None:
        self.patch(transfer_multipart, "PREHASH_LIMIT", 8)
        target = MemoryTarget()
        data = _data(5000)
        await upload_file(reactor, target, self.write(data), TransferConfig())
        self.assertEqual((target.whole, target.sent_md5), (data, _md5(data)))

    async def test_a_file_above_the_threshold_goes_in_parts_in_order(self) -> None:
        target = MemoryTarget()
        data = _data(50)
        progress: list[int] = []
        config = TransferConfig(multipart_threshold=16, part_size=16, max_concurrency=3)
        await upload_file(reactor, target, self.write(data), config, progress.append)
        self.assertEqual(target.calls, ["start", "complete"])
        assert target.completed is not None
        self.assertEqual([part.number for part in target.completed], [1, 2, 3, 4])
        self.assertEqual([part.size for part in target.completed], [16, 16, 16, 2])
        self.assertEqual(
            [part.token for part in target.completed], [f"etag-{n}" for n in range(1, 5)]
        )
        self.assertEqual(target.assembled(), data)
        self.assertEqual(target.completed[1].md5, _md5(data[16:32]))
        self.assertEqual(target.completed[1].digests.crc32, zlib.crc32(data[16:32]))
        self.assertEqual(progress[-1], 50)
        self.assertEqual(target.aborted, [])

    async def test_at_most_max_concurrency_parts_are_in_flight(self) -> None:
        target = MemoryTarget()
        uploading = await self.start_held_upload(target, max_concurrency=3)
        for _ in range(5):
            await _turn()
        self.assertEqual(target.in_flight, 3)
        target.release()
        await uploading
        self.assertEqual(target.most_in_flight, 3)
        self.assertEqual(len(target.parts), 10)

    async def test_a_failing_part_aborts_the_upload_and_cancels_the_others(self) -> None:
        target = MemoryTarget(fail_part=1)
        uploading = await self.start_held_upload(target, max_concurrency=3)
        # Release part 1 only: it fails while parts 2 and 3 still wait.
        self.assertEqual(sorted(target.waiting), [1, 2, 3])
        target.release(1)
        error = await self.assertFailure(uploading, ProviderError)
        self.assertEqual(str(error), "part 1 refused")
        self.assertEqual(target.aborted, ["upload-1"])
        self.assertNotIn("complete", target.calls)
        self.assertEqual((target.cancelled, target.in_flight), (2, 0))

    async def test_cancelling_aborts_the_upload_after_the_parts_stop(self) -> None:
        target = MemoryTarget()
        uploading = await self.start_held_upload(target, max_concurrency=2)
        uploading.cancel()
        await self.assertFailure(uploading, CancelledError)
        self.assertEqual(target.cancelled, 2)
        self.assertEqual(target.in_flight, 0)
        self.assertEqual(target.aborted, ["upload-1"])

    async def test_an_unreadable_file_is_refused_before_any_request(self) -> None:
        target = MemoryTarget()
        with self.assertRaises(InvalidArgumentError):
            await upload_file(reactor, target, self.path + "-missing", TransferConfig())
        self.assertEqual(target.calls, [])


class StreamUploadTests(TestCase):
    config = TransferConfig(part_size=8, max_concurrency=2)

    async def test_a_stream_within_one_part_goes_in_one_request(self) -> None:
        target = MemoryTarget()
        await upload_stream(reactor, target, _chunks([b"abc", b"defgh"]), self.config)
        self.assertEqual(target.calls, ["put_whole"])
        self.assertEqual((target.whole, target.sent_md5), (b"abcdefgh", _md5(b"abcdefgh")))

    async def test_an_empty_stream_stores_an_empty_object(self) -> None:
        target = MemoryTarget()
        await upload_stream(reactor, target, _chunks([]), self.config)
        self.assertEqual((target.calls, target.whole), (["put_whole"], b""))

    async def test_a_longer_stream_is_cut_into_parts_of_part_size(self) -> None:
        target = MemoryTarget()
        data = _data(30)
        chunks = [data[offset : offset + 7] for offset in range(0, 30, 7)]
        progress: list[int] = []
        await upload_stream(reactor, target, _chunks(chunks), self.config, progress.append)
        assert target.completed is not None
        self.assertEqual([part.size for part in target.completed], [8, 8, 8, 6])
        self.assertEqual(target.assembled(), data)
        self.assertEqual(progress[-1], 30)

    async def test_a_stream_of_whole_parts_ends_with_a_full_part(self) -> None:
        target = MemoryTarget()
        await upload_stream(reactor, target, _chunks([_data(16)]), self.config)
        assert target.completed is not None
        self.assertEqual([part.size for part in target.completed], [8, 8])

    async def test_chunks_straddling_or_spanning_parts_are_split_exactly(self) -> None:
        target = MemoryTarget()
        data = _data(45)
        # A whole part, a part in two chunks, a chunk spanning two parts and
        # a half, and short ones across a boundary.
        cuts = [0, 8, 11, 16, 36, 39, 41, 45]
        chunks = [data[start:end] for start, end in pairwise(cuts)]
        await upload_stream(reactor, target, _chunks(chunks), self.config)
        assert target.completed is not None
        self.assertEqual([part.size for part in target.completed], [8, 8, 8, 8, 8, 5])
        self.assertEqual(target.assembled(), data)

    async def test_memory_holds_at_most_max_concurrency_parts(self) -> None:
        target = MemoryTarget()
        target.holding = True
        consumed: list[int] = []

        async def source() -> AsyncIterator[bytes]:
            for number in range(20):
                consumed.append(number)
                yield b"x" * 4

        uploading = Deferred.fromCoroutine(upload_stream(reactor, target, source(), self.config))
        while len(target.waiting) < 2:
            await _turn()
        for _ in range(5):
            await _turn()
        # Two parts of 8 bytes held by the provider, and one chunk read ahead
        # to learn that the stream goes on.
        self.assertEqual(len(consumed), 5)
        target.release()
        await uploading
        self.assertEqual(len(consumed), 20)

    async def test_a_source_failing_midway_aborts_and_raises_its_exception(self) -> None:
        target = MemoryTarget()
        broken = ValueError("source broke")

        def source():
            yield b"x" * 20
            raise broken

        with self.assertRaises(ValueError) as caught:
            await upload_stream(reactor, target, _chunks(source()), self.config)
        self.assertIs(caught.exception, broken)
        self.assertEqual(target.calls, ["start"])
        self.assertEqual(target.aborted, ["upload-1"])

    async def test_a_stream_needing_too_many_parts_is_aborted(self) -> None:
        target = MemoryTarget()
        target.max_parts = 2
        with self.assertRaises(InvalidArgumentError):
            await upload_stream(reactor, target, _chunks([_data(30)]), self.config)
        self.assertEqual(target.aborted, ["upload-1"])


async def _chunks(items: Any) -> AsyncIterator[bytes]:
    for item in items:
        yield item


class HashedFileBodyTests(TestCase):
    async def test_each_attempt_hashes_what_it_sends(self) -> None:
        path = self.mktemp()
        data = _data(300_000)
        with open(path, "wb") as file:
            file.write(data)
        body = HashedFileBody(reactor, path, 1000, 250_000)
        for _ in range(2):
            self.assertEqual(await _read_body(body), data[1000:251_000])
            self.assertEqual(await body.md5(), _md5(data[1000:251_000]))

    async def test_a_consumer_pause_holds_production_until_it_resumes(self) -> None:
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(_data(2_000_000))
        producer = HashedFileBody(reactor, path, 0, 2_000_000)()
        consumer = RecordingConsumer(pause_after=1)
        consumer.attach(producer)
        finished = producer.startProducing(consumer)
        for _ in range(10):
            await _turn()
        self.assertEqual(len(consumer.writes), 1)
        while not finished.called:
            consumer.resume()
            await _turn()
        self.assertEqual(consumer.data, _data(2_000_000))
        self.assertEqual(await producer.md5(), _md5(_data(2_000_000)))


class DigestTests(SynchronousTestCase):
    def test_multipart_etag_is_the_md5_of_the_part_digests_and_the_count(self) -> None:
        parts = [_md5(b"a" * 5), _md5(b"b")]
        expected = hashlib.md5(parts[0] + parts[1]).hexdigest() + "-2"
        self.assertEqual(multipart_etag(parts), expected)

    def test_parse_etag_reads_plain_and_multipart_etags(self) -> None:
        self.assertEqual(
            parse_etag('"9E107D9D372BB6826BD81D3542A419D6"'),
            ("9e107d9d372bb6826bd81d3542a419d6", 0),
        )
        self.assertEqual(
            parse_etag("9e107d9d372bb6826bd81d3542a419d6-12"),
            ("9e107d9d372bb6826bd81d3542a419d6", 12),
        )
        for other in (None, "", "abc", "9e107d9d372bb6826bd81d3542a419d6-0", 'W/"x"'):
            self.assertIsNone(parse_etag(other))

    def test_part_hasher_cuts_on_object_part_boundaries(self) -> None:
        data = _data(25)
        hasher = PartHasher(MD5, start=10, part_size=10)
        for offset in range(10, 25, 3):
            hasher.update(data[offset : offset + 3])
        self.assertEqual(hasher.digests(), [_md5(data[10:20]), _md5(data[20:25])])

    def test_part_hasher_computes_crc32s_too(self) -> None:
        hasher = PartHasher(CRC32, start=0, part_size=2)
        hasher.update(b"abc")
        self.assertEqual(
            hasher.digests(),
            [zlib.crc32(b"ab").to_bytes(4, "big"), zlib.crc32(b"c").to_bytes(4, "big")],
        )

    def test_a_multipart_etag_applies_only_when_the_part_count_agrees(self) -> None:
        expected = ExpectedDigest.multipart_etag("0" * 32, part_size=10, parts=3)
        self.assertIs(expected.for_size(25), expected)
        self.assertIsNone(expected.for_size(35))
        whole = ExpectedDigest.md5("0" * 32)
        self.assertIs(whole.for_size(35), whole)

    def test_an_ambiguous_checksum_keeps_the_whole_reading_when_parts_disagree(self) -> None:
        either = ExpectedDigest(CRC32, b"1234", b"1234", part_size=10, parts=3)
        self.assertEqual(either.for_size(35), ExpectedDigest(CRC32, b"1234", None, None, 1))

    def test_composite_checksums_combine_the_part_digests(self) -> None:
        parts = [zlib.crc32(b"ab").to_bytes(4, "big"), zlib.crc32(b"c").to_bytes(4, "big")]
        composite = zlib.crc32(b"".join(parts)).to_bytes(4, "big")
        expected = ExpectedDigest(CRC32, composite=composite, part_size=2, parts=2)
        self.assertTrue(expected.matches(None, parts))
        self.assertFalse(expected.matches(None, parts[:1]))
        self.assertFalse(expected.matches(None, list(reversed(parts))))

    def test_either_reading_of_an_ambiguous_checksum_matches(self) -> None:
        whole = zlib.crc32(b"abc").to_bytes(4, "big")
        expected = ExpectedDigest(CRC32, whole, whole, part_size=2, parts=2)
        self.assertTrue(expected.matches(whole, []))
        self.assertFalse(expected.matches(b"0000", []))

    def test_crc32_is_given_as_s3_expects_it(self) -> None:
        # The CRC32 of "123456789" is the classic check value 0xCBF43926.
        self.assertEqual(digests_of(b"123456789").crc32_base64, "y/Q5Jg==")

    def test_each_digest_is_given_by_its_own_name(self) -> None:
        digests = digests_of(b"123456789", {CRC32, CRC32C})
        self.assertEqual(digests.get(CRC32), bytes.fromhex("cbf43926"))
        self.assertEqual(digests.get(CRC32C), bytes.fromhex("e3069283"))
        self.assertIsNone(digests.get(MD5))
        self.assertRaises(ValueError, digests.get, "sha1")

    def test_crc32c_has_the_castagnoli_check_value(self) -> None:
        digests = digests_of(b"123456789", {CRC32C})
        self.assertEqual(
            (digests.crc32c, digests.md5, digests.crc32), (bytes.fromhex("e3069283"), None, None)
        )

    def test_crc32cs_of_pieces_combine_into_the_crc32c_of_the_whole(self) -> None:
        def crc32c(data: bytes) -> int:
            digest = CRC32CHash()
            digest.update(data)
            return int.from_bytes(digest.digest(), "big")

        data = os.urandom(5000)
        for cut in (0, 1, 7, 4096, 5000):
            first, second = data[:cut], data[cut:]
            self.assertEqual(
                crc32c_combine(crc32c(first), crc32c(second), len(second)), crc32c(data)
            )

    def test_file_range_digests_read_only_the_range(self) -> None:
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(_data(600_000))
        expected = _data(600_000)[7:500_007]
        digests = digests_of_file_range(path, 7, 500_000)
        self.assertEqual(digests, PartDigests(_md5(expected), zlib.crc32(expected)))
        self.assertEqual(crc32_of_file_range(path, 7, 500_000), zlib.crc32(expected))
        with self.assertRaises(OSError):
            digests_of_file_range(path, 599_999, 2)


class WriteAtTests(SynchronousTestCase):
    def test_batches_of_many_chunks_land_at_their_offsets(self) -> None:
        folder = self.mktemp()
        os.makedirs(folder)
        destination = os.path.join(folder, "out")
        writer = AtomicFileWriter(destination)
        writer.open()
        # More chunks than one pwritev call takes, written after a later range.
        chunks = [bytes([number % 256]) * 3 for number in range(3000)]
        writer.write_at(10, chunks)
        writer.write_at(0, [b"01234", b"", b"56789"])
        writer.commit()
        with open(destination, "rb") as file:
            self.assertEqual(file.read(), b"0123456789" + b"".join(chunks))

    def test_syncing_keeps_the_destination_absent_until_commit(self) -> None:
        folder = self.mktemp()
        os.makedirs(folder)
        destination = os.path.join(folder, "out")
        writer = AtomicFileWriter(destination)
        writer.open()
        writer.write_at(0, [b"abc"])
        writer.sync()
        self.assertFalse(os.path.exists(destination))
        writer.commit()
        with open(destination, "rb") as file:
            self.assertEqual(file.read(), b"abc")


class FanoutTests(TestCase):
    async def test_results_come_in_key_order(self) -> None:
        fanout: BoundedFanout[int] = BoundedFanout(2)

        async def job(value: int, delay: float) -> int:
            await deferLater(reactor, delay, lambda: None)
            return value

        for key, delay in enumerate([0.02, 0.0, 0.01]):
            await fanout.reserve()
            fanout.start(key, job(key * 10, delay))
        self.assertEqual(await fanout.results(), [0, 10, 20])

    async def test_the_first_failure_cancels_the_others_and_is_raised(self) -> None:
        fanout: BoundedFanout[None] = BoundedFanout(3)
        waiting: Deferred[None] = Deferred()
        cancelled: list[bool] = []

        async def hang() -> None:
            try:
                await waiting
            except CancelledError:
                cancelled.append(True)
                raise

        async def fail() -> None:
            await _turn()
            raise ValueError("boom")

        for key, job in enumerate([hang(), fail()]):
            await fanout.reserve()
            fanout.start(key, job)
        with self.assertRaises(ValueError):
            await fanout.results()
        self.assertEqual(cancelled, [True])
        with self.assertRaises(ValueError):
            await fanout.reserve()


class RangePlanTests(SynchronousTestCase):
    def test_no_ranges_without_config_or_below_the_threshold(self) -> None:
        config = TransferConfig(download_threshold=100, range_size=30)
        self.assertIsNone(plan_ranges(0, 1000, None))
        self.assertIsNone(plan_ranges(0, 99, config))
        self.assertIsNone(plan_ranges(0, 1000, config.with_overrides(download_concurrency=1)))

    def test_ranges_cover_the_span_exactly(self) -> None:
        config = TransferConfig(download_threshold=100, range_size=30)
        self.assertEqual(plan_ranges(5, 105, config), [(5, 35), (35, 65), (65, 95), (95, 105)])

    def test_ranges_hold_whole_parts_of_a_multipart_etag(self) -> None:
        config = TransferConfig(download_threshold=100, range_size=30)
        expected = ExpectedDigest.multipart_etag("0" * 32, part_size=8, parts=13)
        self.assertEqual(
            plan_ranges(0, 100, config, expected),
            [(0, 32), (32, 64), (64, 96), (96, 100)],
        )


class RangedMemoryDriver(StorageDriver):
    """Serves one object from memory, recording ranges and in-flight streams."""

    name = "Ranged memory"

    def __init__(self, data: bytes) -> None:
        super().__init__(reactor=reactor)
        self.data = data
        self.requests: list[tuple[int, int | None]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_at: int | None = None
        self.short_at: int | None = None

    def object(self, hash: str | None = None) -> Object:
        container = Container(name="c", extra={}, driver=self)
        return Object("o", len(self.data), hash, {}, {}, container, self)

    async def download_object_range_as_stream(
        self, obj: Object, start_bytes: int, end_bytes: int | None = None, chunk_size: Any = None
    ) -> AsyncIterator[bytes]:
        self.requests.append((start_bytes, end_bytes))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            end = len(self.data) if end_bytes is None else end_bytes
            if start_bytes == self.short_at:
                end -= 1
            for offset in range(start_bytes, end, 7):
                await _turn()
                if start_bytes == self.fail_at:
                    raise ProviderError("range refused")
                yield self.data[offset : min(offset + 7, end)]
        finally:
            self.in_flight -= 1


class RangedDownloadTests(TestCase):
    config = TransferConfig(download_threshold=50, range_size=20, download_concurrency=2)

    def setUp(self) -> None:
        self.folder = self.mktemp()
        os.makedirs(self.folder)
        self.destination = os.path.join(self.folder, "out")
        self.data = _data(90)
        self.driver = RangedMemoryDriver(self.data)

    def read(self) -> bytes:
        with open(self.destination, "rb") as file:
            return file.read()

    def download(self, **options: Any) -> Deferred[bool]:
        """Download the driver's object to :attr:`destination`, with :attr:`config` unless given."""
        options.setdefault("config", self.config)
        return download_to_file(self.driver, self.driver.object(), self.destination, **options)

    async def test_a_large_object_comes_in_parallel_ranges(self) -> None:
        progress: list[int] = []
        await self.download(progress=progress.append)
        self.assertEqual(self.read(), self.data)
        self.assertEqual(
            sorted(self.driver.requests), [(0, 20), (20, 40), (40, 60), (60, 80), (80, 90)]
        )
        self.assertEqual(self.driver.most_in_flight, 2)
        self.assertEqual(progress[-1], 90)

    async def test_a_small_object_comes_in_one_stream(self) -> None:
        config = self.config.with_overrides(download_threshold=91)
        await self.download(config=config)
        self.assertEqual(self.driver.requests, [(0, None)])
        self.assertEqual(self.read(), self.data)

    async def test_a_byte_range_is_cut_into_ranges_too(self) -> None:
        await self.download(byte_range=(5, 85))
        self.assertEqual(self.read(), self.data[5:85])
        self.assertEqual(sorted(self.driver.requests)[0], (5, 25))

    async def test_a_multipart_etag_is_checked_part_by_part(self) -> None:
        parts = [_md5(self.data[offset : offset + 10]) for offset in range(0, 90, 10)]
        digest, count = multipart_etag(parts).split("-")
        expected = ExpectedDigest.multipart_etag(digest, part_size=10, parts=int(count))
        await self.download(expected=expected)
        self.assertEqual(self.read(), self.data)

    async def test_a_wrong_multipart_etag_fails_and_leaves_no_file(self) -> None:
        expected = ExpectedDigest.multipart_etag("0" * 32, part_size=10, parts=9)
        with self.assertRaises(ObjectHashMismatchError):
            await self.download(expected=expected)
        self.assertEqual(os.listdir(self.folder), [])

    async def test_the_content_md5_is_checked_across_ranges(self) -> None:
        good = ExpectedDigest.md5(hashlib.md5(self.data).hexdigest())
        await self.download(expected=good)
        self.assertEqual(self.read(), self.data)
        os.remove(self.destination)
        with self.assertRaises(ObjectHashMismatchError):
            await self.download(expected=ExpectedDigest.md5("0" * 32))
        self.assertEqual(os.listdir(self.folder), [])

    async def test_a_whole_crc32_is_checked_in_one_stream_and_across_ranges(self) -> None:
        expected = ExpectedDigest(CRC32, whole=zlib.crc32(self.data).to_bytes(4, "big"))
        for threshold in (50, 91):
            config = self.config.with_overrides(download_threshold=threshold)
            await self.download(config=config, expected=expected)
            self.assertEqual(self.read(), self.data)
            os.remove(self.destination)
        wrong = ExpectedDigest(CRC32, whole=b"0000")
        with self.assertRaises(ObjectHashMismatchError):
            await self.download(expected=wrong)

    async def test_a_failing_range_fails_the_download_and_leaves_no_file(self) -> None:
        self.driver.fail_at = 20
        with self.assertRaises(ProviderError):
            await self.download()
        self.assertEqual(os.listdir(self.folder), [])
        self.assertEqual(self.driver.in_flight, 0)

    async def test_a_short_range_is_refused(self) -> None:
        self.driver.short_at = 40
        with self.assertRaises(MalformedResponseError):
            await self.download()
        self.assertEqual(os.listdir(self.folder), [])

    async def test_cancelling_leaves_no_file(self) -> None:
        downloading = self.download()
        while not self.driver.in_flight:
            await _turn()
        downloading.cancel()
        await self.assertFailure(downloading, CancelledError)
        self.assertEqual(os.listdir(self.folder), [])
