"""
What an upload's ``extra`` may say (Libcloud's ``{"meta_data": {...},
"content_type": ...}`` and friends), checked once for the header-based
stores (S3, Azure Blobs) before any request.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from typing import Any

from txcloud.errors import InvalidArgumentError

__all__ = ["DEFAULT_CONTENT_TYPE", "guess_content_type", "header_value", "upload_extra_headers"]

#: The content type of objects whose name suggests none.
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def header_value(what: str, value: object) -> str:
    """
    *value* as a header value.

    :param what: names the value in the error.
    :raises InvalidArgumentError: unless it is printable ASCII text.
    """
    if not isinstance(value, str) or not _PRINTABLE.fullmatch(value):
        raise InvalidArgumentError(f"{what} must be printable ASCII text, not {value!r}")
    return value


def guess_content_type(object_name: str, file_path: str | None) -> str:
    """The content type the object's name (or else the file's) suggests."""
    for name in (object_name, file_path):
        if name:
            guessed = mimetypes.guess_type(name, strict=False)[0]
            if guessed:
                return guessed
    return DEFAULT_CONTENT_TYPE


def upload_extra_headers(
    extra: Mapping[str, Any] | None, known: Mapping[str, str]
) -> tuple[dict[str, str], Mapping[str, Any]]:
    """
    Split an upload's *extra* into headers and metadata.

    :param known: each accepted ``extra`` key and the header it becomes.
    :returns: the headers of the keys given, and ``extra["meta_data"]``
        (for the caller to turn into its provider's metadata headers).
    :raises InvalidArgumentError: for an unknown key, metadata that is not a
        mapping, or a value that cannot be sent.
    """
    options = dict(extra or {})
    meta_data = options.pop("meta_data", None) or {}
    unknown = set(options) - set(known)
    if unknown:
        raise InvalidArgumentError(
            f"unknown upload options in extra: {', '.join(sorted(unknown))} "
            f"(known: meta_data, {', '.join(sorted(known))})"
        )
    if not isinstance(meta_data, Mapping):
        raise InvalidArgumentError("extra['meta_data'] must be a dict of strings")
    headers = {
        header: header_value(key, options[key])
        for key, header in known.items()
        if options.get(key) is not None
    }
    return headers, meta_data
