"""
What the fake's endpoints share: the subscription's state, and the helpers
that find resources, page lists and start long-running operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from txcloud.testing._http import Received, Reply
from txcloud.testing.azure_arm._catalogue import (
    FakeSize,
    default_locations,
    default_marketplace,
    default_sizes,
)
from txcloud.testing.azure_arm._resources import (
    FakeOperation,
    arm_refusal,
    iso_time,
    json_answer,
    new_guid,
)

__all__ = ["ARMState"]


class ARMState:
    """
    The state of one subscription; see
    :class:`~txcloud.testing.azure_arm.FakeAzureResourceManager`.
    """

    clock: Any

    def __init__(self, subscription_id: str, catalogue: bool) -> None:
        self.subscription_id = subscription_id
        self.locations = default_locations() if catalogue else {}
        self.sizes: list[FakeSize] = default_sizes() if catalogue else []
        self.marketplace = default_marketplace() if catalogue else {}
        self.resource_groups: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.power: dict[str, str] = {}
        self.operations: dict[str, FakeOperation] = {}
        self.page_size: int | None = None
        self.operation_seconds = 0.0
        self.retry_after = 1
        self.async_headers: tuple[str, ...] = ("Azure-AsyncOperation", "Location")
        self.core_limit = 20
        self._failing: list[tuple[str, str]] = []
        self._base = "https://management.azure.com"
        self._addresses = 0

    def resource_id(self, group: str, namespace: str, kind: str, name: str) -> str:
        """The id of resource *name* of *kind* in *group*."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{group}"
            f"/providers/{namespace}/{kind}/{name}"
        )

    def _group(self, name: str) -> dict[str, Any]:
        group = self.resource_groups.get(name.lower())
        if group is None:
            raise arm_refusal(
                404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found."
            )
        return group

    def _in_scope(self, groups: dict[str, str], kind: str) -> list[dict[str, Any]]:
        """The resources of type *kind* in the subscription, or in ``groups["group"]``."""
        prefix = f"/subscriptions/{self.subscription_id}/"
        if "group" in groups:
            self._group(groups["group"])
            prefix += f"resourcegroups/{groups['group'].lower()}/"
        return [
            resource
            for key, resource in self.resources.items()
            if key.startswith(prefix.lower()) and resource["type"] == kind
        ]

    def _found(self, resource_id: str, kind: str) -> dict[str, Any]:
        found = self.resources.get(resource_id.lower())
        if found is None:
            name = resource_id.rsplit("/", 1)[-1]
            raise arm_refusal(
                404, "ResourceNotFound", f"The Resource '{kind}/{name}' was not found."
            )
        return found

    def _store(
        self,
        resource_id: str,
        name: str,
        kind: str,
        location: str,
        properties: dict[str, Any],
        **more: Any,
    ) -> dict[str, Any]:
        document = {
            "id": resource_id,
            "name": name,
            "type": kind,
            "location": location,
            **more,
            "properties": properties,
        }
        self.resources[resource_id.lower()] = document
        return document

    def _page(self, received: Received, items: list[Any]) -> Reply:
        start = int(received.arg("$skiptoken") or 0)
        if self.page_size is None:
            return json_answer({"value": items})
        end = start + self.page_size
        document: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            query = f"api-version={received.arg('api-version')}"
            expand = received.arg("$expand")
            if expand:
                query += f"&%24expand={quote(expand)}"
            document["nextLink"] = f"{self._base}{quote(received.path)}?{query}&%24skiptoken={end}"
        return json_answer(document)

    def _operation(
        self, location: str, finish: Callable[[], None], undo: Callable[[], None]
    ) -> FakeOperation:
        operation_id = new_guid()
        error = self._failing.pop(0) if self._failing else None
        now = self.clock.seconds()
        operation = FakeOperation(
            operation_id, location, iso_time(now), now + self.operation_seconds, finish, undo, error
        )
        self.operations[operation_id] = operation
        return operation

    def _accepted(self, operation: FakeOperation, document: Any = None, status: int = 202) -> Reply:
        base = (
            f"{self._base}/subscriptions/{self.subscription_id}"
            f"/providers/Microsoft.Compute/locations/{operation.location}"
        )
        headers = {"Retry-After": str(self.retry_after)}
        if "Azure-AsyncOperation" in self.async_headers:
            headers["Azure-AsyncOperation"] = (
                f"{base}/operations/{operation.id}?api-version=2024-07-01"
            )
        if "Location" in self.async_headers:
            headers["Location"] = f"{base}/operationResults/{operation.id}?api-version=2024-07-01"
        return json_answer(document, status, headers)

    def _check_location(self, body: dict[str, Any]) -> str:
        location = str(body.get("location", "")).replace(" ", "").lower()
        if self.locations.get(location, {}).get("metadata", {}).get("regionType") != "Physical":
            raise arm_refusal(
                400,
                "LocationNotAvailableForResourceType",
                f"The location '{location}' is not available.",
            )
        return location
