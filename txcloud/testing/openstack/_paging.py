"""Marker paging as Nova and Glance do it, and their error documents."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from txcloud.testing._http import Received, Refused, Reply

__all__ = ["json_answer", "nova_error", "page"]

_T = TypeVar("_T")

# Nova's error keys by status (its API reference's fault names).
_NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    429: "overLimit",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def json_answer(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """An answer carrying *document* as JSON (no body for ``None``)."""
    body = b"" if document is None else json.dumps(document).encode("utf-8")
    kind = {} if document is None else {"Content-Type": "application/json"}
    return Reply(status, {**kind, **(headers or {})}, body)


def nova_error(status: int, message: str, headers: dict[str, str] | None = None) -> Refused:
    """Nova's refusal: ``{"itemNotFound": {"code": 404, "message": ...}}`` and so on."""
    return Refused(status, _NOVA_FAULTS.get(status, "computeFault"), message, headers)


def page(
    received: Received,
    items: Sequence[_T],
    key_of: Callable[[_T], str],
    *,
    default_limit: int,
    max_limit: int,
) -> tuple[list[_T], str | None]:
    """
    The page of *items* that ``limit`` and ``marker`` ask for (the items
    after the one whose id is the marker), and the query of the next page
    when this one is full, as Nova and Glance link it.

    :raises Refused: 400 for a bad limit or an unknown marker.
    """
    limit_text = received.arg("limit")
    if limit_text is None:
        limit = default_limit
    elif limit_text.isdigit():
        limit = min(int(limit_text), max_limit)
    else:
        raise Refused(400, "badRequest", "limit must be a non-negative integer")
    start = 0
    marker = received.arg("marker")
    if marker is not None:
        ids = [key_of(item) for item in items]
        if marker not in ids:
            raise Refused(400, "badRequest", f"marker [{marker}] not found")
        start = ids.index(marker) + 1
    chosen = list(items[start : start + limit])
    if not chosen or len(chosen) < limit:
        return chosen, None
    query = {name: values[0] for name, values in received.query.items()}
    query.update(limit=str(limit), marker=key_of(chosen[-1]))
    return chosen, urlencode(query)
