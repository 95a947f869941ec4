"""
What the inventory service knows at one moment, and its JSON form.

A :class:`Snapshot` holds a :class:`TargetStatus` per configured target: the
last items fetched successfully, when, and the last error.  The refresher
makes snapshots; the web resource turns them into JSON documents with
:meth:`Snapshot.inventory_document` and :meth:`Snapshot.health_document`.
Times are the reactor's (seconds since the epoch on a real reactor) and are
shown in ISO 8601, in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from txcloud.config import Target
from txcloud.inventory import Item

__all__ = ["Snapshot", "TargetError", "TargetStatus", "iso_utc"]


def iso_utc(seconds: float) -> str:
    """*seconds* since the epoch in ISO 8601, in UTC, to the millisecond (``...T12:00:00.000Z``)."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.frozen
class TargetError:
    """
    Why a target's latest refresh failed.

    :ivar type: the exception's class name (``"RequestTimeoutError"``).
    :ivar message: its message, which never holds a credential.
    :ivar at: when the refresh failed, in reactor seconds.
    """

    type: str
    message: str
    at: float

    def document(self) -> dict[str, Any]:
        """``{"type", "message", "at"}``, *at* in ISO 8601."""
        return {"type": self.type, "message": self.message, "at": iso_utc(self.at)}


@attrs.frozen
class TargetStatus:
    """
    What is known of one target.

    :ivar target: the target.
    :ivar items: the items of its last successful refresh; empty if none succeeded.
    :ivar fetched_at: when that refresh succeeded (reactor seconds), or ``None``.
    :ivar error: the failure of its latest refresh, or ``None`` if that succeeded.
    :ivar volumes: a compute target's volumes from that refresh, or ``None``
        (another kind, or a provider without block storage).
    """

    target: Target
    items: tuple[Item, ...] = ()
    fetched_at: float | None = None
    error: TargetError | None = None
    volumes: tuple[Item, ...] | None = None

    def age(self, now: float) -> float | None:
        """Seconds since the items were fetched, or ``None`` if they never were."""
        return None if self.fetched_at is None else now - self.fetched_at

    def is_stale(self, now: float, stale_after: float) -> bool:
        """Whether no refresh ever succeeded, or the last success is over *stale_after* old."""
        age = self.age(now)
        return age is None or age > stale_after

    def document(self, now: float, stale_after: float) -> dict[str, Any]:
        """The target's entry in the ``/inventory`` document."""
        target = self.target
        age = self.age(now)
        return {
            "name": target.name,
            "label": target.label,
            "kind": target.kind,
            "provider": target.provider,
            "region": target.region,
            "account": target.account,
            "items": list(self.items),
            "volumes": None if self.volumes is None else list(self.volumes),
            "fetched_at": None if self.fetched_at is None else iso_utc(self.fetched_at),
            "age": None if age is None else round(age, 3),
            "stale": self.is_stale(now, stale_after),
            "last_error": None if self.error is None else self.error.document(),
        }


@attrs.frozen
class Snapshot:
    """
    Everything the service knows, at one moment.

    :ivar taken_at: when, in reactor seconds.
    :ivar ready: whether the first refresh has completed.
    :ivar interval: seconds between refreshes.
    :ivar stale_after: the age (seconds) past which a target's items are stale.
    :ivar targets: a status per configured target, in the configuration's order.
    """

    taken_at: float
    ready: bool
    interval: float
    stale_after: float
    targets: tuple[TargetStatus, ...]

    def stale_labels(self) -> list[str]:
        """The labels of the stale targets, in order."""
        return [
            status.target.label
            for status in self.targets
            if status.is_stale(self.taken_at, self.stale_after)
        ]

    def inventory_document(self, wanted: Callable[[Target], bool]) -> dict[str, Any]:
        """
        The ``/inventory`` (and ``/nodes``) document, listing the targets *wanted* accepts.

        :returns: ``{"generated_at", "interval", "stale_after", "targets": [...]}``.
        """
        return {
            "generated_at": iso_utc(self.taken_at),
            "interval": self.interval,
            "stale_after": self.stale_after,
            "targets": [
                status.document(self.taken_at, self.stale_after)
                for status in self.targets
                if wanted(status.target)
            ],
        }

    def health_document(self) -> dict[str, Any]:
        """
        The ``/health`` document.

        :returns: ``{"status", "stale"}``: *status* is ``"starting"`` before
            the first refresh completed, then ``"ok"``, or ``"degraded"``
            while *stale* (the stale targets' labels) is not empty.
        """
        stale = self.stale_labels()
        if not self.ready:
            status = "starting"
        else:
            status = "degraded" if stale else "ok"
        return {"status": status, "stale": stale}
