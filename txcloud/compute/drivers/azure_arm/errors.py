"""
Azure Resource Manager's error codes (``{"error": {"code", "message"}}``,
in answers and in failed long-running operations) as txcloud's typed errors.
"""

from __future__ import annotations

import re
from typing import Any

from txcloud.errors import (
    InvalidCredsError,
    InvalidRequestError,
    NodeNotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitReached,
    ResourceConflictError,
    TxCloudError,
    VolumeNotFoundError,
)

__all__ = ["ERROR_CODES", "THROTTLING_CODES", "arm_error"]

#: Codes ARM answers when a subscription or tenant sends too many requests.
THROTTLING_CODES = frozenset(
    {"TooManyRequests", "SubscriptionRequestsThrottled", "TenantRequestsThrottled"}
)

#: ARM error codes with a txcloud error finer than the HTTP status gives.
ERROR_CODES: dict[str, type[TxCloudError]] = {
    "QuotaExceeded": QuotaExceededError,
    "ResourceQuotaExceeded": QuotaExceededError,
    "PublicIPCountLimitReached": QuotaExceededError,
    "Conflict": ResourceConflictError,
    "OperationNotAllowed": ResourceConflictError,
    "PropertyChangeNotAllowed": ResourceConflictError,
    "InvalidAuthenticationToken": InvalidCredsError,
    "ExpiredAuthenticationToken": InvalidCredsError,
    "InvalidAuthenticationTokenTenant": InvalidCredsError,
    "AuthenticationFailed": InvalidCredsError,
    "AuthorizationFailed": PermissionDeniedError,
    "LinkedAuthorizationFailed": PermissionDeniedError,
    "InvalidParameter": InvalidRequestError,
    "BadRequest": InvalidRequestError,
    "SkuNotAvailable": InvalidRequestError,
    "InvalidResourceReference": InvalidRequestError,
    "ImageNotFound": InvalidRequestError,
    "PlatformImageNotFound": InvalidRequestError,
}

_NOT_FOUND_CODES = frozenset({"ResourceNotFound", "NotFound", "ResourceGroupNotFound"})
# Paths of a virtual machine and its actions: their 404 means the node is gone.
_VM_PATH = re.compile(r"/virtualMachines/[^/]+(/[A-Za-z]+)?/?$", re.IGNORECASE)
# Paths of a managed disk or snapshot: their 404 means the volume or snapshot is gone.
_VOLUME_PATH = re.compile(
    r"/providers/Microsoft\.Compute/(disks|snapshots)/[^/]+/?$", re.IGNORECASE
)


def arm_error(
    code: str | None,
    message: str,
    driver: Any,
    *,
    status: int | None = None,
    request_id: str | None = None,
    path: str = "",
    retry_after: float | None = None,
) -> TxCloudError | None:
    """
    The typed error for an ARM error *code*, or ``None`` when the HTTP
    status says as much (the default mapper then decides).

    :param path: the URL path the error answered; a missing resource under
        a virtual machine's path is :class:`~txcloud.errors.NodeNotFoundError`,
        a missing disk or snapshot :class:`~txcloud.errors.VolumeNotFoundError`.
    """
    fields: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}
    if status == 429 or code in THROTTLING_CODES:
        return RateLimitReached(message, driver, retry_after=retry_after, **fields)
    cls = ERROR_CODES.get(code or "")
    if cls is None and (status == 404 or code in _NOT_FOUND_CODES):
        if _VM_PATH.search(path):
            cls = NodeNotFoundError
        elif _VOLUME_PATH.search(path):
            cls = VolumeNotFoundError
    if cls is ResourceConflictError and "quota" in message.lower():
        # Older answers to a request over the cores quota say so only in words.
        cls = QuotaExceededError
    if cls is None and status == 409:
        cls = ResourceConflictError
    if cls is None and status is None:
        # A failed operation: there is no HTTP status to go by.
        cls = ProviderError
    return None if cls is None else cls(message, driver, **fields)
