"""
How the Compute Engine fake writes its answers: Google's error bodies, and
pages of lists and of aggregated lists (``maxResults``, ``pageToken``,
``nextPageToken``, a ``NO_RESULTS_ON_PAGE`` warning for scopes without
items on a page).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing._tokens import json_reply

__all__ = [
    "MAX_RESULTS",
    "aggregated_reply",
    "error_reply",
    "invalid",
    "listing_reply",
    "not_found",
    "page_window",
]

#: The most items a page holds (and the default).
MAX_RESULTS = 500

_API_ROOT = "https://www.googleapis.com/compute/v1"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def not_found(what: str) -> Refused:
    """Google's 404 for the resource *what* (``projects/p/zones/z``)."""
    return Refused(404, "notFound", f"The resource '{what}' was not found")


def invalid(message: str) -> Refused:
    """Google's 400 for a value it refuses."""
    return Refused(400, "invalid", message)


def error_reply(refused: Refused) -> Reply:
    """``{"error": {"code", "message", "errors": [{"reason"}], "status"}}``, with its headers."""
    body = {
        "error": {
            "code": refused.status,
            "message": refused.message,
            "errors": [{"message": refused.message, "domain": "global", "reason": refused.code}],
            "status": _STATUS_NAMES.get(refused.status, "UNKNOWN"),
        }
    }
    reply = json_reply(body, refused.status)
    return Reply(reply.status, {**reply.headers, **refused.headers}, reply.body)


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_window(received: Received, count: int) -> tuple[int, int, str | None]:
    """
    The start and end of the page of *count* items *received* asks for, and
    the next page's token (``None`` on the last page).

    :raises Refused: for a bad ``maxResults`` or ``pageToken``.
    """
    text = received.arg("maxResults") or str(MAX_RESULTS)
    if not text.isdigit() or not 0 < int(text) <= MAX_RESULTS:
        raise invalid(f"Invalid value for field 'maxResults': '{text}'. Must be in [0, 500].")
    token = received.arg("pageToken")
    start = 0
    if token:
        try:
            label, _, number = base64.urlsafe_b64decode(token).decode().partition(":")
            start = int(number)
        except ValueError:
            label = ""
        if label != "offset" or not 0 <= start <= count:
            raise invalid(f"Invalid value for field 'pageToken': '{token}'.")
    end = min(start + int(text), count)
    return start, end, _page_token(end) if end < count else None


def _document(kind: str, items: Any, project: str, path: str, token: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": kind,
        "id": f"projects/{project}{path}",
        "items": items,
        "selfLink": f"{_API_ROOT}/projects/{project}{path}",
    }
    if token:
        document["nextPageToken"] = token
    return document


def listing_reply(
    received: Received, kind: str, items: list[Any], project: str, path: str
) -> Reply:
    """The page of *items* (a ``compute#...List``) *received* asks for."""
    start, end, token = page_window(received, len(items))
    return json_reply(_document(kind, items[start:end], project, path, token))


def aggregated_reply(
    received: Received,
    kind: str,
    key: str,
    zones: Iterable[str],
    scoped: list[tuple[str, dict[str, Any]]],
    project: str,
    path: str,
) -> Reply:
    """
    The page of an aggregated list *received* asks for: *scoped* holds
    ``(zone, item)`` pairs; each of *zones* is a scope ``zones/ZONE`` holding
    its items under *key* on this page, or a warning.
    """
    start, end, token = page_window(received, len(scoped))
    items: dict[str, Any] = {}
    for zone in zones:
        found = [item for name, item in scoped[start:end] if name == zone]
        scope = f"zones/{zone}"
        if found:
            items[scope] = {key: found}
        else:
            items[scope] = {
                "warning": {
                    "code": "NO_RESULTS_ON_PAGE",
                    "message": f"There are no results for scope '{scope}' on this page.",
                    "data": [{"key": "scope", "value": scope}],
                }
            }
    return json_reply(_document(kind, items, project, path, token))
