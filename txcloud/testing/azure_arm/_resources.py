"""
The JSON of the fake's resources (virtual machines and their instance
views, network interfaces, public addresses, disks, virtual networks) and
the long-running operations that change them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from txcloud.testing._http import Received, Refused, Reply
from txcloud.testing._tokens import json_reply

__all__ = [
    "FakeOperation",
    "arm_refusal",
    "error_reply",
    "instance_view",
    "iso_time",
    "json_answer",
    "new_guid",
    "request_body",
]

#: What each power state is called in an instance view.
_POWER_NAMES = {
    "running": "VM running",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "stopped": "VM stopped",
    "deallocating": "VM deallocating",
    "deallocated": "VM deallocated",
}


def iso_time(seconds: float) -> str:
    """POSIX *seconds* as ARM writes times: ``"2024-12-01T09:30:00.0000000+00:00"``."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00")


def new_guid() -> str:
    """A new GUID, as ARM names operations and machines."""
    return str(uuid.uuid4())


def arm_refusal(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Refused:
    """An ARM error answer to raise from an endpoint."""
    return Refused(status, code, message, headers)


def json_answer(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """An answer carrying *document* as JSON (no body for ``None``), with more *headers*."""
    if document is None:
        return Reply(status=status, headers=dict(headers or {}))
    reply = json_reply(document, status)
    return attrs.evolve(reply, headers={**reply.headers, **(headers or {})})


def error_reply(refused: Refused) -> Reply:
    """ARM's error body, ``{"error": {"code", "message"}}``."""
    return json_answer(
        {"error": {"code": refused.code, "message": refused.message}},
        refused.status,
        refused.headers,
    )


def request_body(received: Received) -> dict[str, Any]:
    """The request's JSON object, or an ARM refusal."""
    try:
        body = received.json()
    except ValueError:
        raise arm_refusal(
            400, "InvalidRequestContent", "The request content is not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise arm_refusal(
            400, "InvalidRequestContent", "The request content must be a JSON object."
        )
    return body


def instance_view(vm: dict[str, Any], power: str) -> dict[str, Any]:
    """The instance view of *vm*, whose power state is *power*."""
    provisioning = vm["properties"]["provisioningState"]
    statuses = [
        {
            "code": f"ProvisioningState/{provisioning.lower()}",
            "level": "Info" if provisioning != "Failed" else "Error",
            "displayStatus": f"Provisioning {provisioning.lower()}",
        }
    ]
    if provisioning != "Creating":
        statuses.append(
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": _POWER_NAMES[power]}
        )
    return {
        "computerName": vm["properties"].get("osProfile", {}).get("computerName"),
        "osName": "ubuntu",
        "statuses": statuses,
    }


@attrs.define
class FakeOperation:
    """
    A long-running operation: it ends at *done_at* on the clock, then runs
    *finish* (or, when it fails, *undo*).

    :ivar error: ``(code, message)`` it fails with, or ``None``.
    """

    id: str
    location: str
    started: str
    done_at: float
    finish: Callable[[], None]
    undo: Callable[[], None]
    error: tuple[str, str] | None = None
    settled: bool = False

    def settle(self, now: float) -> None:
        """Apply the outcome once *now* has reached the end."""
        if self.settled or now < self.done_at:
            return
        self.settled = True
        (self.undo if self.error else self.finish)()

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``Azure-AsyncOperation`` status document."""
        document: dict[str, Any] = {"name": self.id, "startTime": self.started}
        if now < self.done_at:
            document["status"] = "InProgress"
        elif self.error is not None:
            document["status"] = "Failed"
            document["error"] = {"code": self.error[0], "message": self.error[1]}
        else:
            document["status"] = "Succeeded"
            document["endTime"] = iso_time(self.done_at)
        return document
