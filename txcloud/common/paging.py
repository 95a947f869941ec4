"""
One implementation, two faces: ``list_*`` methods collect the async
iterators that ``iterate_*`` methods return.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import TypeVar

from twisted.internet.defer import Deferred

_T = TypeVar("_T")


async def _collect(items: AsyncIterable[_T]) -> list[_T]:
    return [item async for item in items]


def collect(items: AsyncIterable[_T]) -> Deferred[list[_T]]:
    """
    Gather every item of an async iterator into a list.

    :returns: a Deferred firing with the list once the iterator is exhausted.
    """
    return Deferred.fromCoroutine(_collect(items))
