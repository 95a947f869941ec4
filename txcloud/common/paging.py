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
    # A loop rather than an async comprehension, which would be one more
    # coroutine held for as long as the listing waits on the network.
    collected = []
    async for item in items:
        collected.append(item)
    return collected


def collect(items: AsyncIterable[_T]) -> Deferred[list[_T]]:
    """
    Gather every item of an async iterator into a list.

    :returns: a Deferred firing with the list once the iterator is exhausted.
    """
    return Deferred.fromCoroutine(_collect(items))
