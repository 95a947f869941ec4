"""The fake's network interfaces and public IP addresses."""

from __future__ import annotations

from typing import Any

from txcloud.testing._http import Received, Reply
from txcloud.testing.azure_arm._resources import (
    FakeOperation,
    arm_refusal,
    json_answer,
    request_body,
)
from txcloud.testing.azure_arm._state import ARMState

__all__ = ["NetworkEndpoints"]


class NetworkEndpoints(ARMState):
    """Microsoft.Network's interfaces and addresses."""

    def _list_network(self, received: Received, groups: dict[str, str]) -> Reply:
        kind = f"Microsoft.Network/{_kind(groups['kind'])}"
        return self._page(received, self._in_scope(groups, kind))

    def _network_id(self, groups: dict[str, str]) -> str:
        group = self._group(groups["group"])
        return self.resource_id(
            group["name"], "Microsoft.Network", _kind(groups["kind"]), groups["name"]
        )

    def _get_network(self, received: Received, groups: dict[str, str]) -> Reply:
        resource_id = self._network_id(groups)
        return json_answer(self._found(resource_id, f"Microsoft.Network/{_kind(groups['kind'])}"))

    def _put_network(self, received: Received, groups: dict[str, str]) -> Reply:
        resource_id = self._network_id(groups)
        body = request_body(received)
        if _kind(groups["kind"]) == "publicIPAddresses":
            operation = self._put_public_ip(resource_id, groups["name"], body)
        else:
            operation = self._put_interface(resource_id, groups["name"], body)
        return self._accepted(operation, self.resources[resource_id.lower()], 201)

    def _put_public_ip(self, resource_id: str, name: str, body: dict[str, Any]) -> FakeOperation:
        location = self._check_location(body)
        existing = self.resources.get(resource_id.lower())
        if existing is None:
            self._addresses += 1
            address = f"20.50.{self._addresses // 250}.{self._addresses % 250 + 1}"
        else:
            address = existing["properties"]["ipAddress"]
        properties = {
            "publicIPAllocationMethod": (body.get("properties") or {}).get(
                "publicIPAllocationMethod", "Static"
            ),
            "ipAddress": address,
            "provisioningState": "Updating",
        }
        document = self._store(
            resource_id,
            name,
            "Microsoft.Network/publicIPAddresses",
            location,
            properties,
            sku=body.get("sku") or {"name": "Standard"},
        )
        return self._operation(location, lambda: _provisioned(document), lambda: _failed(document))

    def _put_interface(self, resource_id: str, name: str, body: dict[str, Any]) -> FakeOperation:
        location = self._check_location(body)
        configurations = []
        for index, configuration in enumerate(
            (body.get("properties") or {}).get("ipConfigurations") or []
        ):
            properties = dict(configuration.get("properties") or {})
            self._check_subnet(str((properties.get("subnet") or {}).get("id", "")))
            public = (properties.get("publicIPAddress") or {}).get("id")
            if public is not None:
                self._check_free_address(str(public), resource_id)
            properties["privateIPAddress"] = f"10.0.0.{4 + len(self.resources) % 250}"
            properties["privateIPAllocationMethod"] = properties.get(
                "privateIPAllocationMethod", "Dynamic"
            )
            properties["primary"] = index == 0
            name = configuration.get("name", "ipconfig1")
            configurations.append(
                {
                    "id": f"{resource_id}/ipConfigurations/{name}",
                    "name": name,
                    "properties": properties,
                }
            )
        if not configurations:
            raise arm_refusal(
                400, "InvalidParameter", "A network interface needs an IP configuration."
            )
        document = self._store(
            resource_id,
            name,
            "Microsoft.Network/networkInterfaces",
            location,
            {"ipConfigurations": configurations, "provisioningState": "Updating"},
        )
        return self._operation(location, lambda: _provisioned(document), lambda: _failed(document))

    def _check_subnet(self, subnet_id: str) -> None:
        network_id, _, subnet = subnet_id.rpartition("/subnets/")
        network = self.resources.get(network_id.lower())
        names = [s["name"] for s in network["properties"]["subnets"]] if network else []
        if subnet not in names:
            raise arm_refusal(400, "InvalidResourceReference", f"Subnet {subnet_id} was not found.")

    def _check_free_address(self, address_id: str, interface_id: str) -> None:
        if address_id.lower() not in self.resources:
            raise arm_refusal(
                400, "InvalidResourceReference", f"Public IP address {address_id} was not found."
            )
        for resource in self.resources.values():
            if (
                resource["type"] != "Microsoft.Network/networkInterfaces"
                or resource["id"].lower() == interface_id.lower()
            ):
                continue
            if address_id.lower() in [i.lower() for i in _public_ids(resource)]:
                raise arm_refusal(
                    400, "PublicIPAddressInUse", f"{address_id} is used by {resource['id']}."
                )

    def _delete_network(self, received: Received, groups: dict[str, str]) -> Reply:
        resource_id = self._network_id(groups)
        resource = self.resources.get(resource_id.lower())
        if resource is None:
            return Reply(status=204)
        if resource["properties"].get("virtualMachine"):
            raise arm_refusal(
                400,
                "NicInUse",
                f"Network interface {resource['name']} is used by a virtual machine.",
            )
        if _kind(groups["kind"]) == "publicIPAddresses":
            for other in self.resources.values():
                if resource_id.lower() in [i.lower() for i in _public_ids(other)]:
                    raise arm_refusal(
                        400,
                        "PublicIPAddressCannotBeDeleted",
                        f"{resource['name']} is in use by {other['id']}.",
                    )
        return self._deleting(resource)

    def _forget(self, key: str) -> None:
        del self.resources[key]

    def _deleting(self, resource: dict[str, Any]) -> Reply:
        key = resource["id"].lower()
        return self._accepted(
            self._operation(
                resource["location"],
                lambda: self._forget(key),
                lambda: _failed(resource),
            )
        )


def _kind(value: str) -> str:
    return "networkInterfaces" if value.lower() == "networkinterfaces" else "publicIPAddresses"


def _public_ids(resource: dict[str, Any]) -> list[str]:
    return [
        str(configuration["properties"]["publicIPAddress"]["id"])
        for configuration in resource["properties"].get("ipConfigurations", [])
        if (configuration.get("properties") or {}).get("publicIPAddress")
    ]


def _provisioned(document: dict[str, Any]) -> None:
    document["properties"]["provisioningState"] = "Succeeded"


def _failed(document: dict[str, Any]) -> None:
    document["properties"]["provisioningState"] = "Failed"
