"""The fake's locations, VM sizes and marketplace, and the status of its operations."""

from __future__ import annotations

from collections.abc import Iterable

from txcloud.testing._http import Received, Reply
from txcloud.testing.azure_arm._resources import FakeOperation, arm_refusal, json_answer
from txcloud.testing.azure_arm._state import ARMState

__all__ = ["CatalogueEndpoints"]


class CatalogueEndpoints(ARMState):
    """Locations, VM sizes, the marketplace, and the status of operations."""

    def _location_of(self, groups: dict[str, str]) -> str:
        location = groups["location"].lower()
        if location not in self.locations:
            raise arm_refusal(
                404,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location '{location}'.",
            )
        return location

    def _list_locations(self, received: Received, groups: dict[str, str]) -> Reply:
        return self._page(received, list(self.locations.values()))

    def _list_sizes(self, received: Received, groups: dict[str, str]) -> Reply:
        self._location_of(groups)
        return self._page(received, [size.to_json() for size in self.sizes])

    def _names(self, received: Received, groups: dict[str, str], names: Iterable[str]) -> Reply:
        location = self._location_of(groups)
        base = received.path
        return json_answer(
            [{"location": location, "name": name, "id": f"{base}/{name}"} for name in names]
        )

    def _list_publishers(self, received: Received, groups: dict[str, str]) -> Reply:
        return self._names(received, groups, self.marketplace)

    def _list_offers(self, received: Received, groups: dict[str, str]) -> Reply:
        offers = self.marketplace.get(groups["publisher"])
        if offers is None:
            raise arm_refusal(404, "NotFound", f"Publisher {groups['publisher']} not found.")
        return self._names(received, groups, offers)

    def _list_skus(self, received: Received, groups: dict[str, str]) -> Reply:
        skus = self.marketplace.get(groups["publisher"], {}).get(groups["offer"])
        if skus is None:
            raise arm_refusal(404, "NotFound", f"Offer {groups['offer']} not found.")
        return self._names(received, groups, skus)

    def _list_versions(self, received: Received, groups: dict[str, str]) -> Reply:
        versions = (
            self.marketplace.get(groups["publisher"], {})
            .get(groups["offer"], {})
            .get(groups["sku"])
        )
        if versions is None:
            raise arm_refusal(404, "NotFound", f"SKU {groups['sku']} not found.")
        return self._names(received, groups, versions)

    def _found_operation(self, groups: dict[str, str]) -> FakeOperation:
        operation = self.operations.get(groups["operation"])
        if operation is None:
            raise arm_refusal(
                404, "ResourceNotFound", f"Operation {groups['operation']} was not found."
            )
        return operation

    def _operation_status(self, received: Received, groups: dict[str, str]) -> Reply:
        operation = self._found_operation(groups)
        now = self.clock.seconds()
        headers = {"Retry-After": str(self.retry_after)} if now < operation.done_at else {}
        return json_answer(operation.to_json(now), headers=headers)

    def _operation_result(self, received: Received, groups: dict[str, str]) -> Reply:
        operation = self._found_operation(groups)
        version = received.arg("api-version")
        if self.clock.seconds() < operation.done_at:
            return Reply(
                status=202,
                headers={
                    "Retry-After": str(self.retry_after),
                    "Location": f"{self._base}{received.path}?api-version={version}",
                },
            )
        if operation.error is not None:
            raise arm_refusal(400, *operation.error)
        return Reply(status=204)
