"""Timestamps as JSON APIs write them (RFC 3339), read leniently."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["parse_rfc3339"]


def parse_rfc3339(value: object) -> datetime | None:
    """
    An RFC 3339 time (``"2024-05-01T09:30:00.000-07:00"``, ``"...Z"``) as an
    aware datetime (UTC when it names no offset), or ``None`` for no or bad input.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
