"""Tests of txcloud.cli.progress, driven by a Clock."""

from __future__ import annotations

import io

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txcloud.cli.progress import ProgressBar, format_bytes

MIB = 1024 * 1024


class FormatBytesTests(SynchronousTestCase):
    def test_small_counts_are_whole_bytes(self) -> None:
        self.assertEqual([format_bytes(0), format_bytes(1023)], ["0 B", "1023 B"])

    def test_larger_counts_use_binary_units(self) -> None:
        self.assertEqual(
            [format_bytes(1536), format_bytes(5 * MIB), format_bytes(3 * 1024**3)],
            ["1.5 KiB", "5.0 MiB", "3.0 GiB"],
        )

    def test_the_largest_unit_grows_past_1024(self) -> None:
        self.assertEqual(format_bytes(2048 * 1024**5), "2048.0 PiB")


class TerminalTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.stream = io.StringIO()
        self.bar = ProgressBar(
            self.stream, self.clock, "file.bin", 4 * MIB, interval=0.5, is_tty=True
        )

    def test_first_update_draws_at_once(self) -> None:
        self.clock.advance(1)
        self.bar.update(MIB)
        self.assertEqual(
            self.stream.getvalue(),
            "\rfile.bin  [#####               ]   25%  1.0 MiB / 4.0 MiB  1.0 MiB/s",
        )

    def test_updates_within_the_interval_are_not_drawn(self) -> None:
        self.bar.update(1)
        drawn = self.stream.getvalue()
        self.clock.advance(0.4)
        self.bar.update(MIB)
        self.assertEqual(self.stream.getvalue(), drawn)

    def test_update_after_the_interval_redraws(self) -> None:
        self.bar.update(1)
        self.clock.advance(0.5)
        self.bar.update(2 * MIB)
        self.assertEqual(self.stream.getvalue().count("\r"), 2)
        self.assertTrue(self.stream.getvalue().endswith("50%  2.0 MiB / 4.0 MiB  4.0 MiB/s"))

    def test_finish_draws_the_last_state_and_ends_the_line(self) -> None:
        self.bar.update(1)
        self.clock.advance(0.1)
        self.bar.update(4 * MIB)
        self.clock.advance(1.9)
        self.bar.finish()
        last = self.stream.getvalue().split("\r")[-1]
        self.assertEqual(
            last, "file.bin  [####################]  100%  4.0 MiB / 4.0 MiB  2.0 MiB/s\n"
        )

    def test_shorter_line_rubs_out_the_longer_one(self) -> None:
        self.clock.advance(1)
        self.bar.update(MIB)
        first = len(self.stream.getvalue()) - 1
        self.clock.advance(2000)
        self.bar.update(MIB)
        second = self.stream.getvalue().split("\r")[-1]
        self.assertEqual(len(second), first)
        self.assertTrue(second.endswith("1.0 MiB / 4.0 MiB  524 B/s  "))


class PipeTests(SynchronousTestCase):
    def test_only_the_final_line_is_written(self) -> None:
        clock, stream = Clock(), io.StringIO()
        bar = ProgressBar(stream, clock, "obj", 1000, is_tty=False)
        for done in (100, 500, 1000):
            clock.advance(1)
            bar.update(done)
        self.assertEqual(stream.getvalue(), "")
        bar.finish()
        self.assertEqual(
            stream.getvalue(), "obj  [####################]  100%  1000 B / 1000 B  333 B/s\n"
        )

    def test_terminal_is_asked_of_the_stream(self) -> None:
        stream = io.StringIO()
        ProgressBar(stream, Clock(), "obj", 10).update(5)
        self.assertEqual(stream.getvalue(), "")

    def test_unknown_size_shows_bytes_and_rate_only(self) -> None:
        clock, stream = Clock(), io.StringIO()
        bar = ProgressBar(stream, clock, "obj", None, is_tty=False)
        clock.advance(2)
        bar.update(4096)
        bar.finish()
        self.assertEqual(stream.getvalue(), "obj  4.0 KiB  2.0 KiB/s\n")

    def test_no_time_elapsed_shows_no_rate(self) -> None:
        stream = io.StringIO()
        bar = ProgressBar(stream, Clock(), "obj", 0, is_tty=False)
        bar.finish()
        self.assertEqual(stream.getvalue(), "obj  [####################]  100%  0 B / 0 B\n")
