"""Aligned plain-text tables for the ``txcloud`` command."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table"]

#: Spaces between columns.
GAP = "  "


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """
    Lay out *rows* under *header*, each column as wide as its widest cell.

    A row shorter than the header ends in a cell spanning the remaining
    columns (an error message, say); that cell does not widen any column.

    :returns: the lines, without line ends or trailing spaces.
    """
    widths = [len(title) for title in header]
    for row in rows:
        spanning = len(row) < len(header)
        for index, cell in enumerate(row[:-1] if spanning else row):
            widths[index] = max(widths[index], len(cell))
    return [
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in [header, *rows]
    ]
