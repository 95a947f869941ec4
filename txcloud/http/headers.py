"""
HTTP headers as an immutable, case-insensitive mapping of text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Union

from twisted.web.http_headers import Headers

from txcloud.errors import InvalidArgumentError
from txcloud.http.redact import redact_headers

#: What :class:`HeaderMap` accepts: a mapping (a value may be a list of
#: values), ``(name, value)`` pairs, another :class:`HeaderMap`, or ``None``.
HeadersLike = Union[
    "HeaderMap",
    Mapping[str, str | int | Sequence[str]],
    Iterable[tuple[str, str | int]],
    None,
]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


def _checked_pair(name: object, value: object) -> tuple[str, str]:
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise InvalidArgumentError(f"invalid HTTP header name: {name!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"the value of header {name!r} must be text, not {type(value).__name__}"
        )
    if _FORBIDDEN_IN_VALUE.search(value):
        # A line break would let a value smuggle in another header.
        raise InvalidArgumentError(f"the value of header {name!r} contains a line break")
    return name, value


def _pairs(headers: HeadersLike) -> Iterator[tuple[str, str]]:
    if headers is None:
        return
    if isinstance(headers, HeaderMap):
        yield from headers.pairs()
        return
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(value, (list, tuple)):
                for one in value:
                    yield _checked_pair(name, one)
            else:
                yield _checked_pair(name, value)
        return
    for name, value in headers:
        yield _checked_pair(name, value)


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        # HTTP's historical charset; decoding it never fails.
        return value.decode("latin-1")


class HeaderMap(Mapping[str, str]):
    """
    Immutable HTTP headers with case-insensitive names.

    A name may occur more than once: ``headers[name]`` joins the values with
    ``", "`` (as HTTP allows) and :meth:`get_all` returns them one by one.
    The ``repr`` hides secret values.

    :param headers: the initial headers.
    :raises InvalidArgumentError: for a name that is not an HTTP token, or a
        value that is not text or contains a line break.
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, headers: HeadersLike = None) -> None:
        self._set(tuple(_pairs(headers)))

    def _set(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs
        # Tuples of text, not lists: the garbage collector stops tracking
        # them, and thousands of requests in flight hold headers.
        index: dict[str, tuple[str, ...]] = {}
        for name, value in pairs:
            key = name.lower()
            index[key] = (*index[key], value) if key in index else (value,)
        self._index = index

    @classmethod
    def _of_checked(cls, pairs: Iterable[tuple[str, str]]) -> HeaderMap:
        # Pairs taken from HeaderMaps were checked when those were built:
        # copies skip checking them again (it is most of a copy's cost).
        headers = cls.__new__(cls)
        headers._set(tuple(pairs))
        return headers

    @classmethod
    def from_twisted(cls, headers: Headers) -> HeaderMap:
        """
        Convert Twisted's headers (as found on a response) to a HeaderMap.

        :param headers: the Twisted headers.
        """
        return cls(
            (_decode(name), _decode(value))
            for name, values in headers.getAllRawHeaders()
            for value in values
        )

    def to_twisted(self) -> Headers:
        """Convert to Twisted's :class:`~twisted.web.http_headers.Headers`."""
        converted = Headers()
        for name, value in self._pairs:
            converted.addRawHeader(name.encode("ascii"), value.encode("utf-8"))
        return converted

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every ``(name, value)`` pair, in order, names as given."""
        return self._pairs

    def get_all(self, name: str) -> list[str]:
        """
        Every value of the header *name*.

        :returns: the values in order; empty when the header is absent.
        """
        return list(self._index.get(name.lower(), ()))

    def replace(self, headers: HeadersLike) -> HeaderMap:
        """
        Copy these headers with those in *headers* set, replacing any values
        these had under the same names.

        :param headers: the headers to set.
        """
        update = headers if isinstance(headers, HeaderMap) else HeaderMap(headers)
        kept = [pair for pair in self._pairs if pair[0].lower() not in update._index]
        return HeaderMap._of_checked([*kept, *update._pairs])

    def without(self, *names: str) -> HeaderMap:
        """Copy these headers without any of *names*."""
        dropped = {name.lower() for name in names}
        if dropped.isdisjoint(self._index):
            # Immutable, so the map itself serves as its copy.
            return self
        return HeaderMap._of_checked(pair for pair in self._pairs if pair[0].lower() not in dropped)

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._index[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._pairs:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HeaderMap):
            return self._index == other._index
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._index.items())))

    def __repr__(self) -> str:
        return f"HeaderMap({redact_headers(self)!r})"
