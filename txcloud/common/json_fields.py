"""
Reading the JSON objects providers answer with, as the drivers that parse
them share it: an object, a required field of a given type, a required
non-empty string.  (Times:
:mod:`txcloud.common.timestamps`.)
"""

from __future__ import annotations

from typing import Any

from txcloud.errors import MalformedResponseError

__all__ = ["json_field", "json_object", "json_text"]


def json_object(data: Any, what: str) -> dict[str, Any]:
    """
    *data* if it is a JSON object.

    :param what: what *data* is (``"server"``), for the error.
    :raises MalformedResponseError: otherwise.
    """
    if not isinstance(data, dict):
        raise MalformedResponseError(f"a {what} is not a JSON object")
    return data


def json_field(data: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """
    ``data[key]`` if *data* is an object and the value a *kind* (a boolean
    only when *kind* is ``bool``).

    :param what: what *data* is (``"server"``), for the error.
    :raises MalformedResponseError: otherwise.
    """
    value = json_object(data, what).get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MalformedResponseError(f"a {what} has no valid {key!r}")
    return value


def json_text(data: Any, key: str, what: str) -> str:
    """
    ``data[key]`` if *data* is an object and the value a non-empty string.

    :param what: what *data* is (``"server"``), for the error.
    :raises MalformedResponseError: otherwise.
    """
    value = json_object(data, what).get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponseError(f"a {what} has no valid {key!r}")
    return value
