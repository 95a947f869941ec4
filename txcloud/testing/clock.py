"""
:class:`InlineClock`: a ``Clock`` that can also stand for a reactor's thread
pool, for tests of code that uploads or downloads storage objects.

txcloud hashes, reads and writes object data in the reactor's thread pool
(``reactor.getThreadPool()``), which a plain ``twisted.internet.task.Clock``
does not have.  An :class:`InlineClock` runs that work at once, in the
calling thread, so a test stays on the clock and never waits::

    clock = InlineClock()
    storage = FakeS3(clock=clock).driver()
    obj = self.successResultOf(storage.upload_object_via_stream(iter([b"data"]), bucket, "k"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.python.failure import Failure

__all__ = ["InlineClock", "InlineThreadPool"]


class InlineThreadPool:
    """The part of a ``ThreadPool`` that ``deferToThreadPool`` uses, running work at once."""

    def callInThreadWithCallback(
        self,
        on_result: Callable[[bool, Any], None],
        func: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Call *func* now, then *on_result* with whether it succeeded and its result."""
        try:
            result = func(*args, **kwargs)
        except BaseException:
            on_result(False, Failure())
        else:
            on_result(True, result)


class InlineClock(Clock):
    """A ``Clock`` whose thread pool runs work at once, in the calling thread."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = InlineThreadPool()

    def getThreadPool(self) -> InlineThreadPool:
        """The pool that ``deferToThreadPool`` runs work in."""
        return self._pool

    def callFromThread(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call *func* now: there is only one thread."""
        func(*args, **kwargs)
