"""Tests of txcloud.common.checks: text arguments and volume sizes refused with typed errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.common.checks import check_text, check_trimmed_text, check_volume_size
from txcloud.errors import InvalidArgumentError


class CheckTextTests(SynchronousTestCase):
    def test_text_is_returned(self) -> None:
        self.assertEqual(check_text(" web ", "name"), " web ")

    def test_empty_or_non_text_is_refused_naming_the_argument(self) -> None:
        for value in ("", None, 3, b"web"):
            error = self.assertRaises(InvalidArgumentError, check_text, value, "name")
            self.assertEqual(error.message, f"name must be a non-empty string, not {value!r}")


class CheckTrimmedTextTests(SynchronousTestCase):
    def test_text_is_returned(self) -> None:
        self.assertEqual(check_trimmed_text("web", "name"), "web")

    def test_padded_empty_or_non_text_is_refused(self) -> None:
        for value in (" web", "web\n", "", None):
            error = self.assertRaises(InvalidArgumentError, check_trimmed_text, value, "name")
            self.assertEqual(error.message, f"name must be a non-empty string, not {value!r}")


class CheckVolumeSizeTests(SynchronousTestCase):
    def test_sizes_in_range_are_returned(self) -> None:
        self.assertEqual((check_volume_size(1, 16), check_volume_size(16, 16)), (1, 16))

    def test_other_sizes_are_refused_naming_the_range(self) -> None:
        for value in (0, -1, 17, True, 1.0, "8", None):
            error = self.assertRaises(InvalidArgumentError, check_volume_size, value, 16)
            self.assertEqual(
                error.message, f"size must be an integer of GiB in 1..16, not {value!r}"
            )
