"""Tests for :mod:`txcloud.storage.transfer.crc32c`."""

from __future__ import annotations

import zlib

import google_crc32c
from twisted.trial.unittest import SynchronousTestCase

from txcloud.storage.transfer.crc32c import (
    CRC32_POLYNOMIAL,
    CRC32C_POLYNOMIAL,
    combine_crc,
    crc32c_of,
    crc32c_of_file_range,
)

# Not random: the same pieces every run.
_DATA = bytes((i * 7 + i // 251) % 256 for i in range(300_000))


class CRC32CTests(SynchronousTestCase):
    def test_the_crc32c_is_the_published_check_value(self) -> None:
        # The CRC32C of "123456789" (RFC 3720's catalogue value).
        self.assertEqual(crc32c_of(b"123456789"), 0xE3069283)

    def test_a_file_range_is_hashed_from_its_offset(self) -> None:
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(_DATA)
        self.assertEqual(
            crc32c_of_file_range(path, 1000, 250_000), google_crc32c.value(_DATA[1000:251_000])
        )

    def test_a_short_file_raises(self) -> None:
        path = self.mktemp()
        with open(path, "wb") as file:
            file.write(b"short")
        with self.assertRaises(OSError):
            crc32c_of_file_range(path, 0, 6)


class CombineTests(SynchronousTestCase):
    def test_crcs_of_pieces_join_into_the_crc_of_the_whole(self) -> None:
        for cut in (0, 1, 4096, 123_457, len(_DATA)):
            first, second = _DATA[:cut], _DATA[cut:]
            self.assertEqual(
                combine_crc(zlib.crc32(first), zlib.crc32(second), len(second), CRC32_POLYNOMIAL),
                zlib.crc32(_DATA),
            )
            self.assertEqual(
                combine_crc(crc32c_of(first), crc32c_of(second), len(second), CRC32C_POLYNOMIAL),
                crc32c_of(_DATA),
            )

    def test_many_pieces_join_from_zero(self) -> None:
        whole = 0
        for offset in range(0, len(_DATA), 70_000):
            piece = _DATA[offset : offset + 70_000]
            whole = combine_crc(whole, crc32c_of(piece), len(piece), CRC32C_POLYNOMIAL)
        self.assertEqual(whole, crc32c_of(_DATA))
