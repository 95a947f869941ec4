"""
Zone and global operations: what Compute Engine answers a change with
(``insert``, ``delete``, ``start``, ``stop``, ``reset``, ``attachDisk``,
``createSnapshot``...), polled on the reactor's clock until it is ``DONE``,
and the typed error for one that finished with errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet.task import deferLater

from txcloud.compute.drivers.gce.parse import check_name, check_zone, last_segment
from txcloud.errors import (
    MalformedResponseError,
    NodeNotFoundError,
    ProviderError,
    QuotaExceededError,
    RequestTimeoutError,
    ResourceConflictError,
    ServiceUnavailableError,
    TxCloudError,
    VolumeNotFoundError,
)

__all__ = [
    "OPERATION_ERRORS",
    "is_volume_link",
    "operation_error",
    "operation_path",
    "wait_for_operation",
]

#: The error types of the codes an operation can finish with; any other
#: code gives :class:`~txcloud.errors.ProviderError`.
OPERATION_ERRORS: dict[str, type[TxCloudError]] = {
    "QUOTA_EXCEEDED": QuotaExceededError,
    "RESOURCE_NOT_FOUND": NodeNotFoundError,
    "RESOURCE_ALREADY_EXISTS": ResourceConflictError,
    "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE": ResourceConflictError,
    "ZONE_RESOURCE_POOL_EXHAUSTED": ServiceUnavailableError,
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": ServiceUnavailableError,
}

#: Fetches an operation again: called with the path of the operation
#: (``/zones/ZONE/operations/NAME`` or ``/global/operations/NAME``),
#: returns its current resource.
Refresh = Callable[[str], Awaitable[dict[str, Any]]]


def is_volume_link(text: object) -> bool:
    """Whether *text* (a URL, a path or a message naming one) names a disk or a snapshot."""
    return isinstance(text, str) and ("/disks/" in text or "/snapshots/" in text)


def operation_path(operation: Any) -> str:
    """
    The path of an operation in its project: ``/zones/ZONE/operations/NAME``
    for a zone operation, ``/global/operations/NAME`` for a global one
    (deleting a snapshot), whose ``selfLink`` says so.

    It is built from the operation's zone and name, never its ``selfLink``,
    so the token goes only to the driver's own endpoint.

    :raises MalformedResponseError: for an answer that is neither.
    """
    if not isinstance(operation, dict):
        raise MalformedResponseError("an operation is not a JSON object")
    try:
        name = check_name(operation.get("name"), "operation name")
        link = operation.get("selfLink")
        # The selfLink only tells the scope; the path is still the driver's own.
        if (
            operation.get("zone") is None
            and isinstance(link, str)
            and "/global/operations/" in link
        ):
            return f"/global/operations/{name}"
        zone = check_zone(last_segment(operation.get("zone")))
    except ValueError:
        raise MalformedResponseError("an answer is not a zone or global operation") from None
    return f"/zones/{zone}/operations/{name}"


def operation_error(operation: dict[str, Any], driver: Any) -> TxCloudError | None:
    """
    The error of a finished operation (the type of its first error code, see
    :data:`OPERATION_ERRORS`; a missing disk or snapshot is
    :class:`~txcloud.errors.VolumeNotFoundError`), or ``None`` if it succeeded.
    """
    error = operation.get("error")
    errors = error.get("errors") if isinstance(error, dict) else None
    if not errors:
        return None
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = first.get("code") if isinstance(first.get("code"), str) else None
    messages = "; ".join(
        str(item.get("message"))
        for item in errors
        if isinstance(item, dict) and item.get("message")
    )
    status = operation.get("httpErrorStatusCode")
    cls = OPERATION_ERRORS.get(code or "", ProviderError)
    kind = operation.get("operationType", "operation")
    link = operation.get("targetLink")
    target = last_segment(link) or "?"
    if cls is NodeNotFoundError and (is_volume_link(messages) or is_volume_link(link)):
        cls = VolumeNotFoundError
    return cls(
        f"the {kind} operation on {target} failed: {messages or code}",
        driver,
        status=status if isinstance(status, int) else None,
        code=code,
    )


async def wait_for_operation(
    operation: dict[str, Any],
    refresh: Refresh,
    reactor: Any,
    *,
    poll_interval: float,
    timeout: float,
    driver: Any = None,
) -> dict[str, Any]:
    """
    Poll *operation* with *refresh* every *poll_interval* seconds on
    *reactor* until its ``status`` is ``DONE``.

    :returns: the finished operation.
    :raises RequestTimeoutError: when it is not done after *timeout* seconds.
    :raises TxCloudError: the typed error of an operation that finished
        with errors (see :func:`operation_error`).
    """
    path = operation_path(operation)
    deadline = reactor.seconds() + timeout
    while operation.get("status") != "DONE":
        remaining = deadline - reactor.seconds()
        if remaining <= 0:
            raise RequestTimeoutError(
                f"the operation {path} was not done after {timeout} seconds", driver
            )
        await deferLater(reactor, min(poll_interval, remaining))
        operation = await refresh(path)
    error = operation_error(operation, driver)
    if error is not None:
        raise error
    return operation
