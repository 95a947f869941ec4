"""Tests of txcloud.cli.table."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txcloud.cli.table import format_table


class FormatTableTests(SynchronousTestCase):
    def test_columns_are_as_wide_as_their_widest_cell(self) -> None:
        lines = format_table(("A", "BB"), [("xxx", "y"), ("z", "wwww")])
        self.assertEqual(lines, ["A    BB", "xxx  y", "z    wwww"])

    def test_spanning_cell_does_not_widen_columns(self) -> None:
        lines = format_table(("A", "B", "C"), [("x", "y", "z"), ("x", "a long error message")])
        self.assertEqual(lines, ["A  B  C", "x  y  z", "x  a long error message"])

    def test_no_rows_is_the_header(self) -> None:
        self.assertEqual(format_table(("A", "B"), []), ["A  B"])
