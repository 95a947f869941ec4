"""
Reading the JSON objects providers answer with, as the drivers that parse
them share it: a required field of a given type, and ISO 8601 times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from txcloud.errors import MalformedResponseError

__all__ = ["json_field", "parse_iso_time"]


def json_field(data: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """
    ``data[key]`` if *data* is an object and the value a *kind* (a boolean
    only when *kind* is ``bool``).

    :param what: what *data* is (``"server"``), for the error.
    :raises MalformedResponseError: otherwise.
    """
    if not isinstance(data, dict):
        raise MalformedResponseError(f"a {what} is not a JSON object")
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MalformedResponseError(f"a {what} has no valid {key!r}")
    return value


def parse_iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time (``"2024-05-01T10:00:00Z"``), or ``None`` for no or bad input."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
