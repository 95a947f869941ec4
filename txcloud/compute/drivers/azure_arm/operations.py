"""
Azure Resource Manager's long-running operations: an answer ``201`` or
``202`` (or a ``200`` to an update, with ``Azure-AsyncOperation``) names
where to follow the operation, in ``Azure-AsyncOperation`` (a
status document ``{"status": "InProgress" | "Succeeded" | "Failed" |
"Canceled", "error": {...}}``) or ``Location`` (``202`` while running, then
``200`` or ``204``), and ``Retry-After`` says how long to wait before asking.

Waits are taken on the driver's reactor, so tests drive them with ``Clock``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.task import deferLater
from twisted.logger import Logger

from txcloud.compute.drivers.azure_arm.errors import arm_error
from txcloud.errors import MalformedResponseError, RequestTimeoutError
from txcloud.http import Response, parse_retry_after

if TYPE_CHECKING:
    from txcloud.compute.drivers.azure_arm.api import AzureAPIDriver

__all__ = ["RUNNING_STATUSES", "wait_for_operation"]

#: What ``Azure-AsyncOperation`` documents say while an operation runs.
RUNNING_STATUSES = frozenset({"InProgress", "NotStarted", "Running", "Accepted"})

_log = Logger()


def _delay(driver: AzureAPIDriver, response: Response) -> float:
    asked = parse_retry_after(response.headers.get("Retry-After"), driver.reactor.seconds())
    return driver.ex_poll_interval if asked is None else asked


async def wait_for_operation(driver: AzureAPIDriver, response: Response, what: str) -> None:
    """
    Wait until the operation *response* started is over.

    :param what: the request that started it, for messages.
    :raises RequestTimeoutError: when it runs longer than the driver's
        ``ex_operation_timeout``.
    :raises ~txcloud.errors.ProviderError: (or a finer typed error) when it failed or was
        cancelled, with Azure's code and message.
    :raises MalformedResponseError: for a status URL off the driver's
        endpoint, or a status document without a status.
    """
    status_url = response.headers.get("Azure-AsyncOperation")
    location = response.headers.get("Location")
    # Updates of a virtual machine answer 200 and still run on: only the
    # status document says when they end.
    if response.status not in (201, 202) and not (response.status == 200 and status_url):
        return
    if response.status == 200:
        location = None
    if not status_url and not location:
        return
    url = driver._check_origin(status_url or location, f"{what}'s operation")
    deadline = driver.reactor.seconds() + driver.ex_operation_timeout
    delay = _delay(driver, response)
    while True:
        remaining = deadline - driver.reactor.seconds()
        if remaining <= 0:
            raise RequestTimeoutError(
                f"{what} was still running after {driver.ex_operation_timeout:.0f} seconds",
                driver,
            )
        _log.debug("{what}: asking again in {delay}s", what=what, delay=delay)
        await deferLater(driver.reactor, min(delay, remaining))
        answer = await driver._send("GET", url)
        if status_url:
            document = await answer.json_object(f"the status of {what} is not a JSON object")
            if _finished(driver, document, what):
                return
        elif answer.status != 202:
            answer.close()
            return
        else:
            answer.close()
        delay = _delay(driver, answer)


def _finished(driver: AzureAPIDriver, document: dict[str, Any], what: str) -> bool:
    status = document.get("status")
    if not isinstance(status, str):
        raise MalformedResponseError(f"the status of {what} has no 'status'", driver)
    if status in RUNNING_STATUSES:
        return False
    if status == "Succeeded":
        return True
    error = document.get("error")
    if not isinstance(error, dict):
        error = {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    detail = error.get("message") or status
    message = f"{what} ended {status}: {detail}"
    raised = arm_error(code, message, driver)
    # Without an HTTP status arm_error always has an answer.
    assert raised is not None
    raise raised
