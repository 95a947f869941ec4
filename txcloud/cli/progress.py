"""
A progress line for transfers, written to a terminal on stderr.

On a terminal the line is redrawn in place (with ``\\r``) at most once per
*interval* of the reactor's clock; elsewhere (a pipe, a log file) only the
final line is written, so logs stay readable.
"""

from __future__ import annotations

from typing import Protocol, TextIO

__all__ = ["ProgressBar", "format_bytes"]


class _Clock(Protocol):
    def seconds(self) -> float: ...


_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
_BAR_WIDTH = 20


def format_bytes(count: float) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 GiB``: a byte count for people."""
    if count < 1024:
        return f"{int(count)} B"
    for unit in _UNITS:
        count /= 1024
        if count < 1024 or unit == _UNITS[-1]:
            break
    return f"{count:.1f} {unit}"


class ProgressBar:
    """
    Shows how much of a transfer is done: bytes, percentage (when the size is known) and rate.

    Give :meth:`update` as a driver's ``ex_progress`` callback and call
    :meth:`finish` once the transfer ends.

    :param stream: where to write (stderr).
    :param clock: the reactor, for the rate and the redraw limit.
    :param label: what is transferred (a file or object name).
    :param total: the size in bytes, if known.
    :param interval: least seconds between redraws.
    :param is_tty: whether *stream* is a terminal; asked of the stream when ``None``.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: _Clock,
        label: str,
        total: int | None = None,
        *,
        interval: float = 0.1,
        is_tty: bool | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._label = label
        self._total = total
        self._interval = interval
        self._is_tty = stream.isatty() if is_tty is None else is_tty
        self._started = clock.seconds()
        self._drawn_at: float | None = None
        self._drawn_width = 0
        self._done = 0

    def update(self, done: int) -> None:
        """Record that *done* bytes are transferred, redrawing if it is time to."""
        self._done = done
        if not self._is_tty:
            return
        now = self._clock.seconds()
        if self._drawn_at is not None and now - self._drawn_at < self._interval:
            return
        self._drawn_at = now
        self._write(now, "")

    def finish(self) -> None:
        """Write the final line."""
        self._write(self._clock.seconds(), "\n")

    def render(self, now: float) -> str:
        """The line as it reads at *now*."""
        parts = [self._label]
        if self._total is None:
            parts.append(format_bytes(self._done))
        else:
            fraction = min(self._done / self._total, 1.0) if self._total else 1.0
            filled = int(fraction * _BAR_WIDTH)
            parts.append("[" + "#" * filled + " " * (_BAR_WIDTH - filled) + "]")
            parts.append(f"{int(fraction * 100):3d}%")
            parts.append(f"{format_bytes(self._done)} / {format_bytes(self._total)}")
        elapsed = now - self._started
        if elapsed > 0:
            parts.append(f"{format_bytes(self._done / elapsed)}/s")
        return "  ".join(parts)

    def _write(self, now: float, end: str) -> None:
        line = self.render(now)
        if self._is_tty:
            # Spaces rub out the end of a longer previous line.
            text = "\r" + line.ljust(self._drawn_width)
            self._drawn_width = len(line)
        else:
            text = line
        self._stream.write(text + end)
        self._stream.flush()
